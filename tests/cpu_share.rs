//! The answer is never late at the template's memory size. Lambda gives a 128 MB function about
//! 7% of a CPU; here the binary runs in a CPU cgroup with that quota (7,236 µs every 100,000 µs:
//! `cpu.cfs_quota_us` on cgroup v1, `cpu.max` on v2), takes the largest batches Lambda sends
//! while the service hangs, and a batch that takes longer to prepare than the time left while
//! the service answers, and must answer before its deadline.
//!
//! Either way the test writes one line that `cargo test` shows (to stderr, past the output
//! capture) and CI's log repeats: `cpu_share: running at 128 MB's CPU share in …`, or, where no
//! group can be made (not root, no CPU controller), `cpu_share: SKIPPED: …` with the reason,
//! and then it proves nothing and passes.

mod common;

use std::io::Write as _;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cloudtrail_data_stand_in::fixtures::{audit_event_of_len, cloudwatch_logs_data, lambda_environment};
use cloudtrail_data_stand_in::machine::CpuShare;
use cloudtrail_data_stand_in::{InvocationResult, RuntimeApi, StandIn};
use common::*;
use serde_json::Value;

const BINARY: &str = env!("CARGO_BIN_EXE_cloudtrail-lake-forwarder");

/// Writes `line` where `cargo test` shows it whether the test passes or fails: stderr itself,
/// which the test harness does not capture (it captures `println!` and `eprintln!`).
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "cpu_share: {line}");
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

/// Runs the binary at 128 MB's CPU share against a service that never answers, invokes it with
/// `batch` and a deadline `budget` away, and returns how long before the deadline it answered
/// (negative: late) with the answer.
async fn answer_margin(share: &CpuShare, batch: &Value, budget: Duration) -> (i64, Value) {
    let stand_in: StandIn = stand_in().await;
    stand_in.set_latency(Duration::from_secs(3600));
    answer_margin_with(share, &stand_in, batch, budget).await
}

/// As [`answer_margin`], against `stand_in` as it is set.
async fn answer_margin_with(
    share: &CpuShare,
    stand_in: &StandIn,
    batch: &Value,
    budget: Duration,
) -> (i64, Value) {
    let runtime = RuntimeApi::start().await.unwrap();
    let mut child = share
        .command(Path::new(BINARY))
        .env_clear()
        .envs(lambda_environment(&runtime.address(), stand_in))
        .env("AWS_LAMBDA_LOG_FORMAT", "Text")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let payload = batch.to_string().into_bytes();
    let deadline_ms = now_ms() + budget.as_millis() as u64;
    let request_id = runtime.invoke_raw(payload, deadline_ms);
    let result = runtime.result(&request_id, budget + Duration::from_secs(30)).await;
    child.start_kill().ok();
    let _ = child.wait().await;
    let Some(InvocationResult::Response(answer)) = result else { panic!("no answer: {result:?}") };
    let answered_ms = runtime.answered_ms(&request_id).unwrap();
    (deadline_ms as i64 - answered_ms as i64, answer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_largest_batches_are_answered_before_the_deadline_at_128_mb_of_cpu() {
    let share = match CpuShare::create("test") {
        Ok(share) => share,
        Err(why) => {
            say(&format!(
                "SKIPPED: no cgroup CPU controller (v1 /sys/fs/cgroup/cpu or v2 cpu.max) can be made here: {why}"
            ));
            return;
        }
    };
    say(&format!("running at 128 MB's CPU share in {share}"));
    // The largest batches: 10,000 Kinesis records, and 10,000 SQS messages. With the fields
    // Lambda puts around each record, 10,000 of the smallest valid audit events already pass the
    // 6 MB invocation limit, so these batches are larger than any Lambda can send.
    let kinesis = records(
        (0..10_000)
            .map(|i| kinesis_record(&sequence_number(i), audit_event_of_len(i, 300, "x").as_bytes()))
            .collect(),
    );
    let sqs = records(
        (0..10_000).map(|i| sqs_record(&format!("m-{i:05}"), &audit_event_of_len(i, 300, "x"))).collect(),
    );
    for (name, batch) in [("kinesis", &kinesis), ("sqs", &sqs)] {
        let size = batch.to_string().len();
        assert!(size >= 6_000_000, "{name}: {size} bytes");
        let (margin_ms, answer) = answer_margin(&share, batch, Duration::from_secs(20)).await;
        println!("{name}: {size} bytes, answered {margin_ms} ms before the deadline");
        let reported = answer["batchItemFailures"].as_array().unwrap().len();
        assert_eq!(reported, if name == "kinesis" { 1 } else { 10_000 }, "{name}");
        assert!(margin_ms > 0, "{name}: answered {} ms after the deadline", -margin_ms);
    }

    // The heaviest envelope work: CloudWatch Logs records that each inflate to 6.3 MB of log
    // events from a few kB, so the invocation inflates, checks and hashes its whole 16 MiB of
    // events at 7 % of a core before the service (hung) is even asked.
    let log_events: Vec<(String, i64, String)> = (0..70)
        .map(|i| (format!("{i:056}"), 1_764_129_600_000, audit_json_of_len(&format!("log-{i}"), 90_000)))
        .collect();
    let data = cloudwatch_logs_data("/app/audit", &log_events);
    let cloudwatch = records((0..6).map(|n| kinesis_record(&sequence_number(n), &data)).collect());
    let size = cloudwatch.to_string().len();
    let (margin_ms, answer) = answer_margin(&share, &cloudwatch, Duration::from_secs(20)).await;
    println!(
        "cloudwatch logs: {size} bytes inflating to 6 x 6.3 MB, answered {margin_ms} ms before the deadline"
    );
    assert_eq!(answer["batchItemFailures"], serde_json::json!([{"itemIdentifier": sequence_number(0)}]));
    assert!(margin_ms > 0, "cloudwatch logs: answered {} ms after the deadline", -margin_ms);

    // 16 MiB of CloudWatch Logs events again, in 16 records of 1 MB, each its own, with 4 s
    // left: less than preparing them takes here, so preparing stops when the records until the
    // next look, as slow as the slowest so far, would leave no time to answer. The service
    // answers at once: what was prepared is sent while there is time, and the answer names the
    // first record not stored (Kinesis resumes there), on time rather than as a timeout that
    // brings the whole batch back.
    let cloudwatch = records(
        (0..16)
            .map(|n| {
                let events: Vec<(String, i64, String)> = (0..11)
                    .map(|i| {
                        let uid = format!("log-{n}-{i}");
                        (format!("{n:02}{i:054}"), 1_764_129_600_000, audit_json_of_len(&uid, 90_000))
                    })
                    .collect();
                kinesis_record(&sequence_number(n), &cloudwatch_logs_data("/app/audit", &events))
            })
            .collect(),
    );
    let stand_in: StandIn = stand_in().await;
    let (margin_ms, answer) =
        answer_margin_with(&share, &stand_in, &cloudwatch, Duration::from_secs(4)).await;
    let failures = answer["batchItemFailures"].as_array().unwrap();
    let resumed = match failures.as_slice() {
        [] => 16,
        [failure] => (0..16).find(|&n| failure["itemIdentifier"] == sequence_number(n)).unwrap(),
        more => panic!("Kinesis names one record: {more:?}"),
    };
    println!(
        "cloudwatch logs, 16 x 1 MB with 4 s left: answered {margin_ms} ms before the deadline, resuming at record {resumed}"
    );
    assert!(margin_ms > 0, "cloudwatch logs with 4 s left: answered {} ms after the deadline", -margin_ms);
    // Lambda resumes at the record named: every event before it must be stored. (A request in
    // flight when sending stopped may have stored more; those come again, as duplicates.)
    assert!(
        stand_in.stored_count() >= 11 * resumed,
        "{} events stored before record {resumed}",
        stand_in.stored_count()
    );
}

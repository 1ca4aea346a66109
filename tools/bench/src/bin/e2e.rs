//! End-to-end benchmark: the release Lambda binary, through the real runtime loop (a Runtime
//! API stand-in) and the real SDK client, against the CloudTrail Data stand-in answering every
//! request after a fixed latency. Prints markdown tables: cost by batch size, the concurrency
//! curve, memory on a 6 MB SQS batch, cold start, and binary size.
//!
//! ```sh
//! cargo build --release --bin cloudtrail-lake-forwarder
//! cargo run --release -p forwarder-bench --bin e2e -- [--latency-ms 50] [--records 10,100,1000,10000]
//! ```
//!
//! Time is measured from handing the event to the Runtime API to receiving the answer. Peak RSS
//! is the function process's `VmHWM`; every run starts a fresh process.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use base64::Engine as _;
use cloudtrail_data_stand_in::fixtures::{audit_event_of_len, lambda_environment};
use cloudtrail_data_stand_in::machine;
use cloudtrail_data_stand_in::{InvocationResult, RuntimeApi, Settings, StandIn};
use serde_json::{json, Value};
use tokio::process::{Child, Command};

struct Run {
    records: usize,
    payload_bytes: usize,
    elapsed: Duration,
    requests: usize,
    peak_in_flight: usize,
    peak_rss_kib: u64,
    cold_start: Duration,
    /// The handler's own `duration_ms` from its summary line.
    handler_ms: u64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut latency_ms = 50u64;
    let mut sizes = vec![10usize, 100, 1_000, 10_000];
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match (flag.as_str(), args.next()) {
            ("--latency-ms", Some(value)) => latency_ms = value.parse()?,
            ("--records", Some(value)) => {
                sizes = value.split(',').map(str::parse).collect::<Result<_, _>>()?
            }
            _ => {
                return Err(format!("unknown argument {flag:?}; see the usage at the top of the file").into())
            }
        }
    }
    let binary = release_binary()?;
    let latency = Duration::from_millis(latency_ms);
    println!("machine: {} cores, {}", std::thread::available_parallelism()?.get(), machine::cpu_model());
    println!("stand-in latency: {latency_ms} ms per request; Kinesis records of ~700 bytes of event data\n");

    println!(
        "| records | event data | time | of which in the handler | requests | peak in flight | peak RSS |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for &records in &sizes {
        let (event, bytes) = kinesis_event(records, 700);
        let run = invoke(&binary, &event, bytes, latency, None).await?;
        println!(
            "| {} | {:.2} MB | {:.0} ms | {} ms | {} | {} | {:.1} MiB |",
            run.records,
            run.payload_bytes as f64 / 1e6,
            run.elapsed.as_secs_f64() * 1000.0,
            run.handler_ms,
            run.requests,
            run.peak_in_flight,
            run.peak_rss_kib as f64 / 1024.0
        );
    }

    println!("\nMAX_CONCURRENT_REQUESTS on 10,000 Kinesis records:\n");
    println!("| MAX_CONCURRENT_REQUESTS | time | in the handler | peak in flight |");
    println!("| ---: | ---: | ---: | ---: |");
    let (event, bytes) = kinesis_event(10_000, 700);
    for concurrency in [1, 4, 8, 16, 32, 64, 100] {
        let run = invoke(&binary, &event, bytes, latency, Some(concurrency)).await?;
        println!(
            "| {concurrency} | {:.0} ms | {} ms | {} |",
            run.elapsed.as_secs_f64() * 1000.0,
            run.handler_ms,
            run.peak_in_flight
        );
    }

    let (event, bytes) = sqs_event(6 * 1000 * 1000);
    let run = invoke(&binary, &event, bytes, latency, None).await?;
    println!(
        "\n6 MB SQS batch ({} records, {} bytes of Lambda payload): {:.0} ms, {} requests, peak RSS {:.1} MiB",
        run.records,
        event.to_string().len(),
        run.elapsed.as_secs_f64() * 1000.0,
        run.requests,
        run.peak_rss_kib as f64 / 1024.0
    );

    let mut cold: Vec<Duration> = Vec::new();
    for _ in 0..20 {
        let (event, bytes) = kinesis_event(1, 700);
        cold.push(invoke(&binary, &event, bytes, Duration::ZERO, None).await?.cold_start);
    }
    cold.sort();
    println!(
        "\ncold start (process start to first Runtime API request, 20 runs): median {:.1} ms, p90 {:.1} ms, max {:.1} ms",
        cold[10].as_secs_f64() * 1000.0,
        cold[18].as_secs_f64() * 1000.0,
        cold[19].as_secs_f64() * 1000.0
    );

    println!(
        "\nbinary size: {} ({} bytes, {:.2} MiB)",
        binary.display(),
        machine::file_size(&binary),
        machine::file_size(&binary) as f64 / 1048576.0
    );
    let arm64 = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/lambda/cloudtrail-lake-forwarder/bootstrap");
    if arm64.exists() {
        println!(
            "binary size: {} ({} bytes, {:.2} MB)",
            arm64.display(),
            machine::file_size(&arm64),
            machine::file_size(&arm64) as f64 / 1e6
        );
    }
    Ok(())
}

/// Runs one invocation in a fresh function process and measures it.
async fn invoke(
    binary: &PathBuf,
    event: &Value,
    payload_bytes: usize,
    latency: Duration,
    concurrency: Option<usize>,
) -> Result<Run, Box<dyn std::error::Error>> {
    let stand_in = StandIn::start(Settings::default()).await?;
    stand_in.set_latency(latency);
    let runtime = RuntimeApi::start().await?;
    let started = Instant::now();
    let mut child = spawn(binary, &runtime, &stand_in, concurrency)?;
    while runtime.first_next().is_none() {
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    let cold_start = runtime.first_next().expect("polled above") - started;
    let deadline_ms =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() as u64 + 60_000;
    // BENCH_PROFILE=FILE attaches `perf record` to the function for the invocation.
    let profiler = match (std::env::var("BENCH_PROFILE"), child.id()) {
        (Ok(output), Some(pid)) => {
            static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let output = format!("{output}.{run}");
            let perf = Command::new("perf")
                .args(["record", "-F", "4000", "-g", "-o", &output, "-p", &pid.to_string()])
                .stderr(Stdio::null())
                .spawn()?;
            tokio::time::sleep(Duration::from_millis(500)).await;
            Some(perf)
        }
        _ => None,
    };
    let payload = event.to_string().into_bytes();
    let invoked = Instant::now();
    let request_id = runtime.invoke_raw(payload, deadline_ms);
    let result = runtime.result(&request_id, Duration::from_secs(120)).await;
    let elapsed = invoked.elapsed();
    let peak_rss_kib = peak_rss_kib(&child);
    if let Some(mut perf) = profiler {
        std::process::Command::new("kill").args(["-INT", &perf.id().unwrap_or(0).to_string()]).status()?;
        perf.wait().await?;
    }
    child.kill().await?;
    let mut output = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        tokio::io::AsyncReadExt::read_to_string(&mut stdout, &mut output).await?;
    }
    let handler_ms = output
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|line| line["fields"]["message"] == "invocation summary")
        .and_then(|line| line["fields"]["duration_ms"].as_u64())
        .unwrap_or(0);
    let Some(InvocationResult::Response(answer)) = result else {
        return Err(format!("the function did not answer: {result:?}").into());
    };
    if answer["batchItemFailures"].as_array().is_none_or(|failures| !failures.is_empty()) {
        return Err(format!("unexpected failures: {answer}").into());
    }
    let records = event["Records"].as_array().map_or(0, Vec::len);
    let stored = stand_in.stored().len();

    if stored != records {
        return Err(format!("{stored} of {records} events stored").into());
    }
    Ok(Run {
        records,
        payload_bytes,
        elapsed,
        requests: stand_in.requests().len(),
        peak_in_flight: stand_in.peak_in_flight(),
        peak_rss_kib,
        cold_start,
        handler_ms,
    })
}

fn spawn(
    binary: &PathBuf,
    runtime: &RuntimeApi,
    stand_in: &StandIn,
    concurrency: Option<usize>,
) -> std::io::Result<Child> {
    let mut command = Command::new(binary);
    command
        .env_clear()
        .envs(lambda_environment(&runtime.address(), stand_in))
        .env("AWS_LAMBDA_LOG_LEVEL", "INFO")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    if let Some(concurrency) = concurrency {
        command.env("MAX_CONCURRENT_REQUESTS", concurrency.to_string());
    }
    command.spawn()
}

/// The release binary, or the one `BENCH_BINARY` names (say, a build with symbols for perf).
fn release_binary() -> Result<PathBuf, String> {
    let path = std::env::var_os("BENCH_BINARY").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/release/cloudtrail-lake-forwarder")
    });
    if path.exists() {
        Ok(path)
    } else {
        Err(format!(
            "{} is missing: run `cargo build --release --bin cloudtrail-lake-forwarder` first",
            path.display()
        ))
    }
}

fn peak_rss_kib(child: &Child) -> u64 {
    let Some(pid) = child.id() else { return 0 };
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn kinesis_event(records: usize, len: usize) -> (Value, usize) {
    let mut bytes = 0;
    let records: Vec<Value> = (0..records)
        .map(|i| {
            let data = audit_event_of_len(i, len, "x");
            bytes += data.len();
            json!({
                "eventSource": "aws:kinesis", "eventVersion": "1.0",
                "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/audit-events",
                "eventID": format!("shardId-000000000000:4963567093412806740612094{i:031}"),
                "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "tenant-1",
                            "sequenceNumber": format!("4963567093412806740612094{i:031}"),
                            "data": base64::engine::general_purpose::STANDARD.encode(data),
                            "approximateArrivalTimestamp": 1764149400.0}
            })
        })
        .collect();
    (json!({ "Records": records }), bytes)
}

/// An SQS batch whose Lambda payload is about `payload` bytes, in 1 KB messages.
fn sqs_event(payload: usize) -> (Value, usize) {
    let mut records = Vec::new();
    let (mut total, mut bytes) = (20, 0);
    for i in 0.. {
        let body = audit_event_of_len(i, 1000, "x");
        let record = json!({
            "messageId": format!("9a7f3c1e-0000-4000-8000-{i:012}"), "receiptHandle": format!("AQEB{i:060}"),
            "body": body, "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1764149400000"},
            "messageAttributes": {}, "md5OfBody": "0123456789abcdef0123456789abcdef", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:audit-events", "awsRegion": "us-east-1"
        });
        let len = record.to_string().len() + 1;
        if total + len > payload {
            break;
        }
        total += len;
        bytes += body.len();
        records.push(record);
    }
    (json!({ "Records": records }), bytes)
}

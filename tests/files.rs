//! Audit log files in S3, end to end in one process: SQS messages holding S3 notifications go
//! through `Forwarder::forward`, whose real `aws-sdk-s3`, `aws-sdk-sqs` and CloudTrail Data
//! clients talk HTTP to the local stand-ins, SigV4 checked.

mod common;

use std::io::Write;
use std::time::Duration;

use cloudtrail_data_stand_in::s3::event_notification;
use cloudtrail_data_stand_in::sqs::lambda_event;
use cloudtrail_data_stand_in::{S3Error, S3Fault, S3StandIn, SqsError, SqsFault, SqsStandIn, StandIn};
use cloudtrail_lake_forwarder::config::Config;
use cloudtrail_lake_forwarder::lambda::s3::AllowedObjects;
use cloudtrail_lake_forwarder::prepare::mapping::presets;
use cloudtrail_lake_forwarder::Forwarder;
use common::*;
use serde_json::{json, Value};
use tokio::time::Instant;

const BUCKET: &str = "example-audit-logs";
const QUEUE: &str = "audit-events";

struct Stands {
    cloudtrail: StandIn,
    s3: S3StandIn,
    sqs: SqsStandIn,
}

async fn stands() -> Stands {
    let s3 = S3StandIn::start().await.unwrap();
    s3.create_bucket(BUCKET);
    let sqs = SqsStandIn::start().await.unwrap();
    sqs.create_queue(QUEUE);
    Stands { cloudtrail: stand_in().await, s3, sqs }
}

fn github_forwarder(stands: &Stands) -> Forwarder {
    github_forwarder_at(stands, None)
}

/// With the rate capped at `max_requests_per_second`.
fn github_forwarder_at(stands: &Stands, max_requests_per_second: Option<f64>) -> Forwarder {
    let mapping = presets::preset("github").unwrap().unwrap();
    let config = Config {
        mapping: Some(std::sync::Arc::new(mapping)),
        max_requests_per_second,
        ..config(&stands.cloudtrail)
    };
    forwarder_with(&stands.cloudtrail, &config).with_files(files(
        &stands.s3.endpoint(),
        &stands.sqs.endpoint(),
        BUCKET.parse::<AllowedObjects>().unwrap(),
    ))
}

/// A GitHub audit log streaming line.
fn github_line(i: usize) -> String {
    json!({
        "@timestamp": 1_764_892_800_000u64 + i as u64,
        "_document_id": format!("doc{i:019}"),
        "action": if i.is_multiple_of(3) { "git.clone" } else { "repo.create" },
        "actor": format!("octocat-{i}"),
        "actor_id": 1000 + i,
        "business": "example-enterprise",
        "org": "example-org",
        "repo": "example-org/audit",
        "created_at": 1_764_892_800_000u64 + i as u64,
        "operation_type": "create",
        "user_agent": "git/2.47.0",
    })
    .to_string()
}

/// Gzip JSON Lines of `lines`, in `members` gzip members.
fn gzip_lines(lines: &[String], members: usize) -> Vec<u8> {
    let per_member = lines.len().div_ceil(members.max(1)).max(1);
    let mut out = Vec::new();
    for chunk in lines.chunks(per_member) {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        for line in chunk {
            encoder.write_all(line.as_bytes()).unwrap();
            encoder.write_all(b"\n").unwrap();
        }
        out.extend(encoder.finish().unwrap());
    }
    out
}

fn notification_message(id: &str, notification: &Value) -> Value {
    sqs_record(id, &notification.to_string())
}

async fn forward(forwarder: &Forwarder, event: Value, deadline: Option<Instant>) -> Vec<String> {
    let (answer, _) = forwarder.forward(incoming(event), deadline).await.unwrap();
    reported(&answer)
}

fn stored_ids(stands: &Stands) -> Vec<String> {
    stands.cloudtrail.stored().into_iter().map(|event| event.id).collect()
}

/// Asserts that `events` distinct events were stored, each once.
fn assert_each_stored_once(stands: &Stands, events: usize) {
    let ids = stored_ids(stands);
    let unique: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), events, "every event stored");
    assert_eq!(ids.len(), events, "and each once");
}

#[tokio::test]
async fn a_github_object_in_two_gzip_members_is_ingested_whole_with_its_own_ids() {
    let stands = stands().await;
    let lines: Vec<String> = (0..250).map(github_line).collect();
    let object = stands.s3.put_object(BUCKET, "2026/12/04/22/05/abc.json.log.gz", gzip_lines(&lines, 2));
    let forwarder = github_forwarder(&stands);

    let reported =
        forward(&forwarder, records(vec![notification_message("m-1", &event_notification([&object]))]), None)
            .await;
    assert_eq!(reported, Vec::<String>::new());
    let mut ids = stored_ids(&stands);
    ids.sort();
    let mut expected: Vec<String> = (0..250).map(|i| format!("doc{i:019}")).collect();
    expected.sort();
    assert_eq!(ids, expected, "every line of both members, each under its _document_id");
    // Read once, pinned to the announced ETag.
    let reads = stands.s3.requests_for(BUCKET);
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].if_match.as_deref(), Some(object.etag.as_str()));
}

#[tokio::test]
async fn keys_with_space_plus_percent_colon_and_non_ascii_are_read_as_s3_encodes_them() {
    let stands = stands().await;
    let key = "2026/a b+c%d:é 日本.json";
    let object = stands.s3.put_object(BUCKET, key, format!("{}\n", github_line(1)));
    let forwarder = github_forwarder(&stands);
    let notification = event_notification([&object]);
    assert!(
        notification.to_string().contains("a+b%2Bc%25d%3A"),
        "the key arrives form-encoded: {notification}"
    );
    let reported = forward(&forwarder, records(vec![notification_message("m-1", &notification)]), None).await;
    assert_eq!(reported, Vec::<String>::new());
    assert_eq!(stands.s3.requests_for(BUCKET)[0].key, key);
    assert_eq!(stored_ids(&stands), ["doc0000000000000000001"]);
}

#[tokio::test]
async fn a_bucket_outside_the_setting_is_refused_by_name_and_never_fetched() {
    let stands = stands().await;
    stands.s3.create_bucket("someone-elses-bucket");
    let theirs = stands.s3.put_object("someone-elses-bucket", "x.json", format!("{}\n", github_line(1)));
    let forwarder = github_forwarder(&stands);
    let event = records(vec![
        notification_message("m-theirs", &event_notification([&theirs])),
        sqs_record("m-plain", &audit_json("plain")),
    ]);
    let reported = forward(&forwarder, event, None).await;
    assert_eq!(reported, ["m-theirs"]);
    assert!(stands.s3.requests().is_empty(), "nothing fetched");
    assert_eq!(stands.cloudtrail.stored().len(), 1, "the other record went its way");
}

#[tokio::test]
async fn test_events_and_removals_are_done_with_nothing_read() {
    let stands = stands().await;
    let forwarder = github_forwarder(&stands);
    let test_event = json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-12-04T22:05:00.000Z",
                            "Bucket": BUCKET, "RequestId": "R", "HostId": "H"});
    let reported =
        forward(&forwarder, records(vec![notification_message("m-test", &test_event)]), None).await;
    assert_eq!(reported, Vec::<String>::new());
    assert!(stands.s3.requests().is_empty() && stands.cloudtrail.stored().is_empty());
}

#[tokio::test]
async fn an_object_deleted_or_overwritten_since_its_notification_is_done_without_reading_another() {
    let stands = stands().await;
    let first = stands.s3.put_object(BUCKET, "a.json", format!("{}\n", github_line(1)));
    let notification = event_notification([&first]);
    // Overwritten: the pinned read refuses the new content.
    stands.s3.put_object(BUCKET, "a.json", format!("{}\n", github_line(2)));
    let forwarder = github_forwarder(&stands);
    let reported = forward(&forwarder, records(vec![notification_message("m-1", &notification)]), None).await;
    assert_eq!(reported, Vec::<String>::new());
    assert!(stands.cloudtrail.stored().is_empty(), "the overwriting version has its own notification");

    stands.s3.delete_object(BUCKET, "a.json");
    let reported = forward(&forwarder, records(vec![notification_message("m-2", &notification)]), None).await;
    assert_eq!(reported, Vec::<String>::new());
}

#[tokio::test]
async fn access_denied_is_reported_and_slow_down_is_retried_within_the_invocation() {
    let stands = stands().await;
    let object = stands.s3.put_object(BUCKET, "a.json", format!("{}\n", github_line(1)));
    let forwarder = github_forwarder(&stands);
    let event = records(vec![notification_message("m-1", &event_notification([&object]))]);

    stands.s3.fail(cloudtrail_data_stand_in::s3::Target::Any, S3Fault::Error(S3Error::KmsAccessDenied), 1);
    assert_eq!(forward(&forwarder, event.clone(), None).await, ["m-1"]);
    assert!(stands.cloudtrail.stored().is_empty());

    stands.s3.fail(cloudtrail_data_stand_in::s3::Target::Any, S3Fault::Error(S3Error::SlowDown), 2);
    assert_eq!(forward(&forwarder, event, None).await, Vec::<String>::new());
    assert_eq!(stored_ids(&stands), ["doc0000000000000000001"]);
}

#[tokio::test]
async fn bad_lines_are_rejected_one_by_one_and_the_rest_of_the_object_is_ingested() {
    let stands = stands().await;
    let mut lines: Vec<String> = (0..10).map(github_line).collect();
    lines[3] = "not json".to_owned();
    lines[6] = json!({"action": "repo.create"}).to_string();
    let object = stands.s3.put_object(BUCKET, "a.json.gz", gzip_lines(&lines, 1));
    let forwarder = github_forwarder(&stands);
    let reported =
        forward(&forwarder, records(vec![notification_message("m-1", &event_notification([&object]))]), None)
            .await;
    assert_eq!(reported, Vec::<String>::new(), "a bad line never gets better: the message is done");
    assert_eq!(stands.cloudtrail.stored().len(), 8);
}

/// Reads `lines` put as one object, in invocations of `budget` each at 10 requests a second,
/// each taken by a fresh forwarder (another execution environment) with the continuation the
/// one before sent, until one sends none; every message must be done. The invocations it took.
async fn read_in_continuations(
    stands: &Stands,
    key: &str,
    lines: &[String],
    members: usize,
    budget: Duration,
) -> usize {
    let object = stands.s3.put_object(BUCKET, key, gzip_lines(lines, members));
    let mut event = records(vec![notification_message("m-1", &event_notification([&object]))]);
    let mut invocations = 0;
    loop {
        invocations += 1;
        assert!(invocations < 50, "the object never finished");
        let sent_before = stands.sqs.sent().len();
        let forwarder = github_forwarder_at(stands, Some(10.0));
        let reported = forward(&forwarder, event.clone(), Some(Instant::now() + budget)).await;
        assert_eq!(reported, Vec::<String>::new(), "each message is done: either finished or continued");
        let continuations = stands.sqs.sent_since(sent_before);
        match continuations.len() {
            0 => return invocations,
            1 => event = lambda_event(&continuations),
            n => panic!("{n} continuations of one message"),
        }
    }
}

/// An object larger than one invocation's time goes on in continuation messages until every
/// event is stored once.
#[tokio::test]
async fn an_object_too_large_for_one_invocation_continues_in_new_messages_storing_each_event_once() {
    let stands = stands().await;
    stands.cloudtrail.set_latency(Duration::from_millis(20));
    let lines: Vec<String> = (0..3_000).map(github_line).collect();
    // 30 requests at 10 a second: more than one 1.5 s invocation, however fast the machine.
    let invocations =
        read_in_continuations(&stands, "big.json.log.gz", &lines, 3, Duration::from_millis(1_500)).await;
    println!("3,000 events in {invocations} invocations");
    assert!(invocations > 1, "the test needs an object that does not fit one invocation");
    assert_each_stored_once(&stands, 3_000);
}

/// An object's windows are deliveries of their own: each must know how slow the service has
/// been, or the first request of a window that starts late goes out with too little time left,
/// is cut off at the stop, and its events, stored, are sent again by the continuation.
#[tokio::test]
async fn a_slow_service_cuts_no_request_off_when_an_object_is_continued() {
    let stands = stands().await;
    stands.cloudtrail.set_latency(Duration::from_millis(150));
    let lines: Vec<String> = (0..3_000).map(github_line).collect();
    // A window of 1,000 events is 10 requests, a second at 10 a second: each 3 s invocation
    // starts a second window and stops in the middle of it.
    let invocations =
        read_in_continuations(&stands, "slow.json.log.gz", &lines, 1, Duration::from_secs(3)).await;
    assert!(invocations > 1, "the test needs an object that does not fit one invocation");
    println!("3,000 events in {invocations} invocations");
    assert_each_stored_once(&stands, 3_000);
}

#[tokio::test]
async fn an_s3_read_that_hangs_is_given_up_in_time_to_answer_before_the_deadline() {
    let stands = stands().await;
    let object = stands.s3.put_object(BUCKET, "a.json", format!("{}\n", github_line(1)));
    let forwarder = github_forwarder(&stands);
    let event = records(vec![notification_message("m-1", &event_notification([&object]))]);
    stands.s3.fail(cloudtrail_data_stand_in::s3::Target::Any, S3Fault::Hang, 1);
    let deadline = Instant::now() + Duration::from_secs(3);
    assert_eq!(forward(&forwarder, event, Some(deadline)).await, ["m-1"]);
    assert!(Instant::now() < deadline, "answered before the deadline");
}

#[tokio::test]
async fn a_connection_dropped_mid_object_continues_from_what_was_confirmed() {
    let stands = stands().await;
    let lines: Vec<String> = (0..3_000).map(github_line).collect();
    let body = lines.join("\n") + "\n";
    let object = stands.s3.put_object(BUCKET, "a.json", body.clone());
    let forwarder = github_forwarder(&stands);
    let event = records(vec![notification_message("m-1", &event_notification([&object]))]);
    // Dropped after about two thirds of the object: the first windows are sent and confirmed.
    stands.s3.fail(
        cloudtrail_data_stand_in::s3::Target::Any,
        S3Fault::DropAfter(body.len() as u64 * 2 / 3),
        1,
    );
    assert_eq!(forward(&forwarder, event, None).await, Vec::<String>::new(), "continued, so done");
    let continuation = stands.sqs.sent();
    assert_eq!(continuation.len(), 1);
    assert_eq!(forward(&forwarder, lambda_event(&continuation), None).await, Vec::<String>::new());
    assert_each_stored_once(&stands, 3_000);
}

#[tokio::test]
async fn a_continuation_sqs_refuses_or_never_answers_leaves_the_message_to_come_back_whole() {
    let stands = stands().await;
    stands.cloudtrail.set_latency(Duration::from_millis(20));
    let lines: Vec<String> = (0..4_000).map(github_line).collect();
    let object = stands.s3.put_object(BUCKET, "big.json.gz", gzip_lines(&lines, 1));
    // 40 requests at 10 a second: never within one 1.5 s invocation.
    let forwarder = github_forwarder_at(&stands, Some(10.0));
    let event = records(vec![notification_message("m-1", &event_notification([&object]))]);
    for fault in [SqsFault::Error(SqsError::AccessDenied), SqsFault::Hang] {
        stands.sqs.fail(fault, 1);
        let deadline = Instant::now() + Duration::from_millis(1_500);
        assert_eq!(forward(&forwarder, event.clone(), Some(deadline)).await, ["m-1"]);
        assert!(Instant::now() < deadline, "answered before the deadline");
        assert!(stands.sqs.sent().is_empty());
    }
}

/// The same through the binary: each invocation in a fresh process (another
/// execution environment), driven by the Runtime API stand-in, each continuation message the
/// next invocation's event, until the object is done; every event stored once.
#[tokio::test]
async fn an_object_continues_across_processes_through_the_runtime_loop_storing_each_event_once() {
    use cloudtrail_data_stand_in::{InvocationResult, RuntimeApi};

    let stands = stands().await;
    stands.cloudtrail.set_latency(Duration::from_millis(20));
    let lines: Vec<String> = (0..1_500).map(github_line).collect();
    let object = stands.s3.put_object(BUCKET, "2026/12/04/big.json.log.gz", gzip_lines(&lines, 2));
    let mut event = records(vec![notification_message("m-1", &event_notification([&object]))]);
    let mut processes = 0;
    loop {
        processes += 1;
        assert!(processes < 40, "the object never finished");
        let runtime = RuntimeApi::start().await.unwrap();
        let mut child = object_function(&runtime, &stands)
            // 15 requests at 5 a second: more than one 2 s invocation, however fast the machine.
            .env("MAX_REQUESTS_PER_SECOND", "5")
            .spawn()
            .unwrap();
        let sent_before = stands.sqs.sent().len();
        let answer = runtime
            .result(&runtime.invoke(&event, deadline_in(Duration::from_secs(2))), Duration::from_secs(30))
            .await;
        child.kill().await.ok();
        assert_eq!(answer, Some(InvocationResult::Response(json!({"batchItemFailures": []}))));
        let continuations = stands.sqs.sent_since(sent_before);
        match continuations.len() {
            0 => break,
            1 => event = lambda_event(&continuations),
            n => panic!("{n} continuations of one message"),
        }
    }
    println!("1,500 events in {processes} processes");
    assert!(processes > 1, "the test needs an object that does not fit one invocation");
    let ids = stored_ids(&stands);
    let unique: std::collections::HashSet<&String> = ids.iter().collect();
    // Nothing lost, ever. A copy can only be an event whose request was still unanswered when
    // an invocation had to answer (its outcome unknown), at most a request's worth per stop;
    // on an unloaded machine there are none.
    assert_eq!(unique.len(), 1_500, "every event stored");
    let copies = ids.len() - unique.len();
    println!("copies: {copies}");
    assert!(copies <= 100 * (processes - 1), "{copies} copies");
}

#[tokio::test]
async fn notifications_through_sns_and_eventbridge_name_their_objects_too() {
    let stands = stands().await;
    let object =
        stands.s3.put_object(BUCKET, "2026/a b+c.json", format!("{}\n{}\n", github_line(1), github_line(2)));
    let forwarder = github_forwarder(&stands);
    let through_sns = json!({"Type": "Notification", "MessageId": "sns-1", "TopicArn": "arn:aws:sns:us-east-1:123456789012:audit",
                             "Subject": "Amazon S3 Notification", "Message": event_notification([&object]).to_string(),
                             "Timestamp": "2026-12-04T22:05:00.000Z"});
    let through_eventbridge = json!({
        "version": "0", "id": "eb-1", "detail-type": "Object Created", "source": "aws.s3", "account": "123456789012",
        "time": "2026-12-04T22:05:00Z", "region": "us-east-1", "resources": [format!("arn:aws:s3:::{BUCKET}")],
        "detail": {"version": "0", "bucket": {"name": BUCKET},
                   "object": {"key": "2026/a+b%2Bc.json", "size": 10, "etag": object.etag_unquoted()},
                   "request-id": "R", "requester": "123456789012", "reason": "PutObject"}});
    let event = records(vec![
        notification_message("m-sns", &through_sns),
        notification_message("m-eventbridge", &through_eventbridge),
    ]);
    assert_eq!(forward(&forwarder, event, None).await, Vec::<String>::new());
    let reads = stands.s3.requests_for(BUCKET);
    assert_eq!(reads.len(), 2);
    assert!(reads.iter().all(|read| read.key == "2026/a b+c.json"), "both decoded the same way");
    // The same lines twice, under their own ids: CloudTrail Lake keeps both copies, as it
    // would of any event sent twice; the ids say they are one.
    let mut ids = stored_ids(&stands);
    ids.sort();
    assert_eq!(
        ids,
        [
            "doc0000000000000000001",
            "doc0000000000000000001",
            "doc0000000000000000002",
            "doc0000000000000000002"
        ]
    );
}

#[tokio::test]
async fn a_versioned_object_is_read_at_the_version_announced_not_the_latest() {
    let stands = stands().await;
    stands.s3.create_versioned_bucket("versioned-audit-logs");
    let first = stands.s3.put_object("versioned-audit-logs", "a.json", format!("{}\n", github_line(1)));
    stands.s3.put_object("versioned-audit-logs", "a.json", format!("{}\n", github_line(2)));
    let mapping = presets::preset("github").unwrap().unwrap();
    let config = Config { mapping: Some(std::sync::Arc::new(mapping)), ..config(&stands.cloudtrail) };
    let allowed = format!("{BUCKET},versioned-audit-logs").parse::<AllowedObjects>().unwrap();
    let forwarder = forwarder_with(&stands.cloudtrail, &config).with_files(files(
        &stands.s3.endpoint(),
        &stands.sqs.endpoint(),
        allowed,
    ));
    let event = records(vec![notification_message("m-1", &event_notification([&first]))]);
    assert_eq!(forward(&forwarder, event, None).await, Vec::<String>::new());
    assert_eq!(stands.s3.requests()[0].version_id, first.version_id);
    assert_eq!(stored_ids(&stands), ["doc0000000000000000001"]);
}

/// A gzip bomb: `inflated` bytes of one line with no end, as `inflated / 4 MiB` copies of one
/// small gzip member (each about 4 KB), then `after` good lines.
fn gzip_bomb(inflated: usize, after: &[String]) -> Vec<u8> {
    const CHUNK: usize = 4 << 20;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&vec![b'x'; CHUNK]).unwrap();
    let member = encoder.finish().unwrap();
    let mut start = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    start.write_all(br#"{"note":""#).unwrap();
    let mut out = start.finish().unwrap();
    for _ in 0..inflated / CHUNK {
        out.extend_from_slice(&member);
    }
    let mut tail: Vec<String> = vec![String::new()];
    tail.extend(after.iter().cloned());
    out.extend(gzip_lines(&tail, 1));
    out
}

/// The binary (or `FORWARDER_BINARY`'s), reading objects from `BUCKET` with the GitHub preset
/// through the runtime loop.
fn object_function(
    runtime: &cloudtrail_data_stand_in::RuntimeApi,
    stands: &Stands,
) -> tokio::process::Command {
    use cloudtrail_data_stand_in::fixtures::{lambda_environment, object_environment};
    let mut command = tokio::process::Command::new(forwarder_binary());
    command
        .env_clear()
        .envs(lambda_environment(&runtime.address(), &stands.cloudtrail))
        .envs(object_environment(&stands.s3, &stands.sqs))
        .env("S3_OBJECTS", BUCKET)
        .env("EVENT_MAPPING", "preset:github")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    command
}

/// The peak resident memory of process `pid` so far, in KiB (`VmHWM`); `None` once it is gone.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Gzip bombs through the runtime loop: lines that never end, from a few KB of gzip per 4 MiB.
/// With time to read it, 256 MiB of one line is skipped as too long without being held (the
/// process stays small), the ten lines after it are ingested and the message is done; given a
/// four seconds for 32 GiB, the binary answers before its deadline and reports the message,
/// having stored nothing.
#[tokio::test]
async fn a_gzip_bomb_s_endless_line_is_skipped_unheld_and_what_follows_is_ingested() {
    use cloudtrail_data_stand_in::{InvocationResult, RuntimeApi};

    let stands = stands().await;
    let lines: Vec<String> = (0..10).map(github_line).collect();
    let object = |key: &str, inflated: usize| {
        let bomb = gzip_bomb(inflated, &lines);
        assert!(bomb.len() < inflated / 900, "{}", bomb.len());
        let object = stands.s3.put_object(BUCKET, key, bomb);
        records(vec![notification_message("m-1", &event_notification([&object]))])
    };
    let invoke = |event: Value, budget: Duration| {
        let stands = &stands;
        async move {
            let runtime = RuntimeApi::start().await.unwrap();
            let mut child = object_function(&runtime, stands).spawn().unwrap();
            let started = std::time::Instant::now();
            let answer =
                runtime.result(&runtime.invoke(&event, deadline_in(budget)), Duration::from_secs(90)).await;
            let took = started.elapsed();
            let peak = child.id().and_then(peak_rss_kib);
            child.kill().await.ok();
            (answer, took, peak)
        }
    };

    // 32 GiB take 24 s to inflate in the release build on this machine, minutes in debug.
    let budget = Duration::from_secs(4);
    let (answer, took, _) = invoke(object("2026/12/05/32-gib.json.log.gz", 32 << 30), budget).await;
    assert_eq!(
        answer,
        Some(InvocationResult::Response(json!({"batchItemFailures": [{"itemIdentifier": "m-1"}]})))
    );
    assert!(took < budget, "answered after {took:?}");
    assert_eq!(stands.cloudtrail.stored().len(), 0);

    let (answer, took, peak) =
        invoke(object("2026/12/05/256-mib.json.log.gz", 256 << 20), Duration::from_secs(60)).await;
    assert_eq!(answer, Some(InvocationResult::Response(json!({"batchItemFailures": []}))));
    assert_each_stored_once(&stands, 10);
    assert!(stands.sqs.sent().is_empty(), "no continuation");
    let peak = peak.expect("the process was there until it was stopped");
    println!("256 MiB line skipped in {took:?}, peak RSS {peak} KiB");
    assert!(peak < 64 << 10, "peak RSS {peak} KiB");
}

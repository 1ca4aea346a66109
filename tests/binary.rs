//! The Lambda binary itself: its init checks, and the real runtime loop against the Lambda
//! Runtime API stand-in and the CloudTrail Data stand-in, both on 127.0.0.1.

mod common;

use std::collections::{HashSet, VecDeque};
use std::process::Stdio;
use std::time::Duration;

use cloudtrail_data_stand_in::fixtures::lambda_environment;
use cloudtrail_data_stand_in::{Chaos, Fault, InvocationResult, RuntimeApi, StandIn};
use common::*;
use serde_json::{json, Value};
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};

/// The binary with a Lambda-like environment that can only reach the two stand-ins.
fn function(runtime_api: &str, stand_in: &StandIn) -> Command {
    let mut command = Command::new(forwarder_binary());
    command
        .env_clear()
        .envs(lambda_environment(runtime_api, stand_in))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

async fn output_of(mut child: Child) -> String {
    child.start_kill().ok();
    let mut output = String::new();
    child.stdout.take().unwrap().read_to_string(&mut output).await.unwrap();
    child.stderr.take().unwrap().read_to_string(&mut output).await.unwrap();
    output
}

#[tokio::test]
async fn a_missing_channel_arn_stops_the_function_at_init_and_is_named() {
    let stand_in = stand_in().await;
    let output = function("127.0.0.1:9", &stand_in).env_remove("CHANNEL_ARN").output().await.unwrap();
    let text = String::from_utf8_lossy(&output.stdout).to_string() + &String::from_utf8_lossy(&output.stderr);

    assert!(!output.status.success());
    assert!(text.contains("CHANNEL_ARN is not set"), "{text}");
}

#[tokio::test]
async fn a_malformed_concurrency_is_named_at_init() {
    let stand_in = stand_in().await;
    let output =
        function("127.0.0.1:9", &stand_in).env("MAX_CONCURRENT_REQUESTS", "lots").output().await.unwrap();
    let text = String::from_utf8_lossy(&output.stdout).to_string() + &String::from_utf8_lossy(&output.stderr);

    assert!(!output.status.success());
    assert!(
        text.contains("MAX_CONCURRENT_REQUESTS is \\\"lots\\\"")
            || text.contains("MAX_CONCURRENT_REQUESTS is \"lots\""),
        "{text}"
    );
}

#[tokio::test]
async fn the_binary_answers_sqs_and_kinesis_invocations_through_the_runtime_loop() {
    let stand_in = stand_in().await;
    let runtime = RuntimeApi::start().await.unwrap();
    let child = function(&runtime.address(), &stand_in).spawn().unwrap();

    // `cargo lambda watch` sends a deadline in 1970; the function must treat it as unknown.
    let sqs = records(vec![sqs_record("m-ok", &audit_json("1")), sqs_record("m-bad", "Hello from SQS!")]);
    let sqs_answer = runtime.result(&runtime.invoke(&sqs, 600_000), Duration::from_secs(30)).await;
    let kinesis = records(vec![kinesis_record(&sequence_number(7), audit_json("k").as_bytes())]);
    let kinesis_answer = runtime.result(&runtime.invoke(&kinesis, 600_000), Duration::from_secs(30)).await;
    let logs = output_of(child).await;

    assert_eq!(
        sqs_answer,
        Some(InvocationResult::Response(json!({"batchItemFailures": [{"itemIdentifier": "m-bad"}]}))),
        "{logs}"
    );
    assert_eq!(kinesis_answer, Some(InvocationResult::Response(json!({"batchItemFailures": []}))));
    assert_eq!(stand_in.stored().len(), 2);

    // Logs are JSON lines with one summary per invocation, and never the events' contents.
    let lines: Vec<Value> = logs.lines().filter_map(|line| serde_json::from_str(line).ok()).collect();
    let summaries: Vec<&Value> =
        lines.iter().filter(|line| line["fields"]["message"] == "invocation summary").collect();
    assert_eq!(summaries.len(), 2, "{logs}");
    assert_eq!(summaries[0]["fields"]["source"], "sqs");
    assert_eq!(summaries[0]["fields"]["failures"], "Rejected=1");
    assert_eq!(summaries[1]["fields"]["source"], "kinesis");
    assert!(!logs.contains("alice@example.com") && !logs.contains("Hello from SQS"), "{logs}");
    assert!(logs.contains("m-bad"), "the rejected record is named: {logs}");
}

#[tokio::test]
async fn an_event_that_is_not_a_batch_is_an_invocation_error() {
    let stand_in = stand_in().await;
    let runtime = RuntimeApi::start().await.unwrap();
    let child = function(&runtime.address(), &stand_in).spawn().unwrap();
    let result =
        runtime.result(&runtime.invoke(&json!({"key1": "value1"}), 600_000), Duration::from_secs(30)).await;
    let logs = output_of(child).await;

    let Some(InvocationResult::Error(error)) = result else { panic!("{result:?} {logs}") };
    assert_eq!(error["errorType"], "NotABatch");
}

/// The event is read by the forwarder in front of the runtime (`lambda::read`): a body that is not
/// JSON still reaches the runtime's own reader and its error, `null` is still no batch, and the
/// next invocation is read afresh.
#[tokio::test]
async fn a_body_that_is_not_json_is_the_runtimes_error_and_the_next_event_is_read_afresh() {
    let stand_in = stand_in().await;
    let runtime = RuntimeApi::start().await.unwrap();
    let child = function(&runtime.address(), &stand_in).spawn().unwrap();
    let wait = Duration::from_secs(30);
    let garbled = runtime.result(&runtime.invoke_raw(b"{\"Records\": [secret".to_vec(), 600_000), wait).await;
    let null = runtime.result(&runtime.invoke_raw(b"null".to_vec(), 600_000), wait).await;
    let sqs = records(vec![sqs_record("m-after", &audit_json("after"))]);
    let after = runtime.result(&runtime.invoke(&sqs, 600_000), wait).await;
    let logs = output_of(child).await;

    let Some(InvocationResult::Error(error)) = garbled else { panic!("{garbled:?} {logs}") };
    let message = error["errorMessage"].as_str().unwrap();
    assert!(message.contains("failed to deserialize the incoming data"), "{error}");
    assert!(!message.contains("secret") && !logs.contains("secret"), "{error} {logs}");
    let Some(InvocationResult::Error(error)) = null else { panic!("{null:?} {logs}") };
    assert_eq!(error["errorType"], "NotABatch");
    assert_eq!(after, Some(InvocationResult::Response(json!({"batchItemFailures": []}))), "{logs}");
    assert_eq!(stand_in.stored().len(), 1);
}

#[tokio::test]
async fn kinesis_data_that_is_not_base64_or_not_text_is_named_and_bad_bytes_in_a_skipped_field_are_read() {
    let stand_in = stand_in().await;
    let runtime = RuntimeApi::start().await.unwrap();
    let child = function(&runtime.address(), &stand_in).spawn().unwrap();
    let wait = Duration::from_secs(30);

    // Padding inside the text, then data that decodes to bytes that are not UTF-8.
    let mut inner_padding = kinesis_record(&sequence_number(2), b"");
    inner_padding["kinesis"]["data"] = json!("eyJ2ZXJzaW9uIjoiMS4wIn0=eyJ2ZXJzaW9uIjoiMS4wIn0=");
    let kinesis = records(vec![
        kinesis_record(&sequence_number(1), audit_json("k1").as_bytes()),
        inner_padding,
        kinesis_record(&sequence_number(3), audit_json("k3").as_bytes()),
    ]);
    let first = runtime.result(&runtime.invoke(&kinesis, 600_000), wait).await;
    let not_text = records(vec![
        kinesis_record(&sequence_number(4), audit_json("k4").as_bytes()),
        kinesis_record(&sequence_number(5), &[0xff, 0xfe, b'{', b'}']),
    ]);
    let second = runtime.result(&runtime.invoke(&not_text, 600_000), wait).await;
    // A byte that is not UTF-8 in a field the forwarder skips: the record is still read and sent.
    let sqs = serde_json::to_vec(&records(vec![sqs_record("m-raw", &audit_json("raw"))])).unwrap();
    let at = sqs.windows(2).position(|pair| pair == b"[{").expect("a record") + 2;
    let raw = [&sqs[..at], b"\"junk\":\"\xff\",", &sqs[at..]].concat();
    let third = runtime.result(&runtime.invoke_raw(raw, 600_000), wait).await;
    let logs = output_of(child).await;

    let named = |n: usize| json!({"batchItemFailures": [{"itemIdentifier": sequence_number(n)}]});
    assert_eq!(first, Some(InvocationResult::Response(named(2))), "{logs}");
    assert_eq!(second, Some(InvocationResult::Response(named(5))), "{logs}");
    assert_eq!(third, Some(InvocationResult::Response(json!({"batchItemFailures": []}))), "{logs}");
    let stored: Vec<String> = stand_in.stored().into_iter().map(|event| event.id).collect();
    for id in [sequence_number(1), sequence_number(4), "m-raw".to_owned()] {
        assert!(stored.contains(&id), "{id} in {stored:?}");
    }
    assert!(!stored.contains(&sequence_number(2)) && !stored.contains(&sequence_number(5)), "{stored:?}");
    for (n, reason) in [(2, "kinesis.data is not valid base64"), (5, "the payload is not UTF-8 text")] {
        let line = logs.lines().find(|line| line.contains(&sequence_number(n)));
        assert!(line.is_some_and(|line| line.contains(reason)), "record {n}: {reason}: {logs}");
    }
}

/// The EMF document in a run's output.
fn emf_documents(logs: &str) -> Vec<Value> {
    logs.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line.get("_aws").is_some())
        .collect()
}

#[tokio::test]
async fn each_invocation_writes_one_emf_document_whose_numbers_match_it() {
    for log_format in ["JSON", "Text"] {
        let stand_in = stand_in().await;
        stand_in.fail_event(&sequence_number(2), "Throttling", 1);
        let runtime = RuntimeApi::start().await.unwrap();
        let child = function(&runtime.address(), &stand_in)
            .env("AWS_LAMBDA_LOG_FORMAT", log_format)
            .env("METRICS_NAMESPACE", "Test/Forwarder")
            .spawn()
            .unwrap();
        let mut batch: Vec<Value> = (0..3)
            .map(|i| kinesis_record(&sequence_number(i), audit_json(&i.to_string()).as_bytes()))
            .collect();
        batch.push(kinesis_record(&sequence_number(3), b"not json"));
        let result = runtime.result(&runtime.invoke(&records(batch), 600_000), Duration::from_secs(30)).await;
        let logs = output_of(child).await;
        assert!(matches!(result, Some(InvocationResult::Response(_))), "{logs}");

        let documents = emf_documents(&logs);
        assert_eq!(documents.len(), 1, "{log_format}: {logs}");
        let emf = &documents[0];
        let directive = &emf["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "Test/Forwarder");
        assert_eq!(directive["Dimensions"], json!([["FunctionName", "Source"]]));
        assert!(emf["_aws"]["Timestamp"].as_u64().unwrap() > 1_700_000_000_000);
        assert_eq!(emf["FunctionName"], "cloudtrail-lake-forwarder");
        assert_eq!(emf["Source"], "kinesis");
        assert_eq!(emf["RecordsReceived"], 4);
        assert_eq!(emf["RecordsIngested"], 3);
        assert_eq!(emf["EventsIngested"], 3);
        assert_eq!(emf["RecordsRejected"], 1);
        assert_eq!(emf["RecordsFailed"], 1);
        assert_eq!(emf["Retries"], 1);
        assert_eq!(emf["PutAuditEventsRequests"], 2);
        assert_eq!(emf["IngestLatency"].as_array().unwrap().len(), 2);
        assert!(emf["OldestRecordAge"].as_u64().unwrap() > 0);
        for metric in directive["Metrics"].as_array().unwrap() {
            assert!(emf.get(metric["Name"].as_str().unwrap()).is_some(), "{metric}");
        }
        assert_eq!(stand_in.stored().len(), 3);
    }
}

/// The function's whole output (stdout and stderr) after it ran with `env` and was stopped.
async fn init_output(stand_in: &StandIn, env: &[(&str, &str)]) -> (bool, String) {
    let mut command = function("127.0.0.1:9", stand_in);
    command.envs(env.iter().copied());
    let output = command.output().await.unwrap();
    let text = String::from_utf8_lossy(&output.stdout).to_string() + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

#[tokio::test]
async fn a_bare_channel_id_stops_the_function_at_init_and_says_what_to_put_there() {
    let stand_in = stand_in().await;
    let (ok, text) = init_output(&stand_in, &[("CHANNEL_ARN", "01234567-89ab-cdef-0123-456789abcdef")]).await;

    assert!(!ok);
    assert!(text.contains("CHANNEL_ARN is"), "{text}");
    assert!(text.contains("arn:aws:cloudtrail:REGION:ACCOUNT:channel/ID"), "{text}");
}

#[tokio::test]
async fn an_invalid_external_id_stops_the_function_at_init_without_showing_it() {
    let stand_in = stand_in().await;
    let (ok, text) = init_output(&stand_in, &[("EXTERNAL_ID", "shared secret with spaces")]).await;

    assert!(!ok);
    assert!(text.contains("EXTERNAL_ID is not valid"), "{text}");
    assert!(!text.contains("shared secret"), "{text}");
}

#[tokio::test]
async fn a_configuration_error_is_reported_to_the_runtime_api_naming_the_setting_but_no_secret() {
    const SECRET: &str = "SECRET-EXTERNAL-ID-7f3a";
    let spaced = format!("tenant 42 {SECRET}");
    let cases = [
        // A valid secret beside a bad setting, and a secret that is itself invalid.
        ([("CHANNEL_ARN", "01234567-89ab-cdef-0123-456789abcdef"), ("EXTERNAL_ID", SECRET)], "CHANNEL_ARN"),
        ([("CHANNEL_ARN", CHANNEL_ARN), ("EXTERNAL_ID", spaced.as_str())], "EXTERNAL_ID"),
    ];
    for (env, setting) in cases {
        let stand_in = stand_in().await;
        let runtime = RuntimeApi::start().await.unwrap();
        let mut command = function(&runtime.address(), &stand_in);
        command.envs(env);
        let output = tokio::time::timeout(Duration::from_secs(30), command.output()).await.unwrap().unwrap();
        let logs =
            String::from_utf8_lossy(&output.stdout).to_string() + &String::from_utf8_lossy(&output.stderr);

        assert!(!output.status.success(), "{logs}");
        let error = runtime.init_error().unwrap_or_else(|| panic!("nothing posted to init/error: {logs}"));
        let error_type = format!("ConfigError.{setting}");
        assert_eq!(runtime.init_error_type(), Some(error_type.clone()), "{error}");
        assert_eq!(error["errorType"], error_type.as_str(), "{error}");
        let message = error["errorMessage"].as_str().unwrap_or_default();
        assert!(message.starts_with(&format!("{setting} is")), "{error}");
        assert!(!error.to_string().contains(SECRET), "{error}");
        assert!(!logs.contains(SECRET), "{logs}");
    }
}

#[tokio::test]
async fn a_configuration_error_outside_lambda_is_logged_and_stops_the_function() {
    let stand_in = stand_in().await;
    let mut command = function("127.0.0.1:9", &stand_in);
    command.env_remove("AWS_LAMBDA_RUNTIME_API").env("CHANNEL_ARN", "not-an-arn");
    let output = tokio::time::timeout(Duration::from_secs(30), command.output()).await.unwrap().unwrap();
    let logs = String::from_utf8_lossy(&output.stdout).to_string() + &String::from_utf8_lossy(&output.stderr);

    assert!(!output.status.success(), "{logs}");
    assert!(logs.contains("configuration error; the function cannot start"), "{logs}");
    assert!(logs.contains("CHANNEL_ARN is"), "{logs}");
}

/// Runs the binary on `batch` with `env` added, and returns the answer and everything it wrote.
async fn run_once(
    stand_in: &StandIn,
    env: &[(&str, &str)],
    batch: &Value,
) -> (Option<InvocationResult>, String) {
    let runtime = RuntimeApi::start().await.unwrap();
    let mut command = function(&runtime.address(), stand_in);
    command.envs(env.iter().copied());
    let child = command.spawn().unwrap();
    let result = runtime.result(&runtime.invoke(batch, 600_000), Duration::from_secs(30)).await;
    (result, output_of(child).await)
}

#[tokio::test]
async fn requests_go_to_the_channels_region_whatever_the_functions_region() {
    // The stand-in checks that requests are signed for the channel's Region (us-east-1).
    let stand_in = stand_in().await;
    let batch = records(vec![sqs_record("m-1", &audit_json("1"))]);
    let (result, logs) = run_once(&stand_in, &[("AWS_REGION", "eu-west-1")], &batch).await;

    assert_eq!(result, Some(InvocationResult::Response(json!({"batchItemFailures": []}))), "{logs}");
    assert_eq!(stand_in.stored().len(), 1);
    assert!(logs.contains("requests go to the channel's Region"), "{logs}");
}

#[tokio::test]
async fn no_log_level_lets_event_content_through() {
    const MARKER: &str = "PERSONAL-DATA-MARKER-7f3a";
    let with_marker = |uid: &str| audit_json(uid).replace("alice@example.com", MARKER);
    for env in [
        &[("AWS_LAMBDA_LOG_LEVEL", "TRACE")][..],
        &[("RUST_LOG", "trace,lambda_runtime=trace,aws_smithy_runtime=trace,hyper=trace")][..],
    ] {
        let stand_in = stand_in().await;
        // The stand-in quotes eventData back in its error messages, as a service may.
        stand_in.fail_event("m-2", "InvalidData", 1);
        stand_in.refuse_requests_containing("m-3", "ValidationException");
        let batch = records(vec![
            sqs_record("m-1", &with_marker("1")),
            sqs_record("m-2", &with_marker("2")),
            sqs_record("m-3", &with_marker("3")),
            sqs_record("m-4", &format!("{{\"not an event\": \"{MARKER}\"")),
        ]);
        let (result, logs) = run_once(&stand_in, env, &batch).await;

        let Some(InvocationResult::Response(answer)) = result else { panic!("{logs}") };
        assert_eq!(answer["batchItemFailures"].as_array().unwrap().len(), 3, "{answer}");
        assert!(logs.contains(r#""level":"DEBUG""#), "the level asked for took effect: {logs}");
        assert!(!logs.contains(MARKER), "{env:?}: event content in the logs:\n{logs}");
        assert!(!logs.contains("alice@example.com"));
    }
}

#[tokio::test]
async fn every_record_in_the_answer_has_a_warn_line_with_its_code_and_reason() {
    let stand_in = stand_in().await;
    stand_in.fail_event("f-2", "InvalidData", 1);
    let batch = records(vec![
        fifo_record("f-1", "a", &audit_json("1")),
        fifo_record("f-2", "b", &audit_json("2")),
        fifo_record("f-3", "b", &audit_json("3")),
        fifo_record("f-4", "c", "not json"),
    ]);
    let (result, logs) = run_once(&stand_in, &[], &batch).await;

    let Some(InvocationResult::Response(answer)) = result else { panic!("{logs}") };
    let named = named(&answer);
    assert_eq!(named, ["f-2", "f-3", "f-4"]);
    let warnings: Vec<Value> = logs
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["level"] == "WARN" && line["fields"]["item_identifiers"].is_string())
        .collect();
    for (identifier, code) in [("f-2", "InvalidData"), ("f-3", "HeldBehindFailure"), ("f-4", "Rejected")] {
        let line = warnings
            .iter()
            .find(|line| {
                line["fields"]["item_identifiers"].as_str().unwrap().split(',').any(|id| id == identifier)
            })
            .unwrap_or_else(|| panic!("no WARN line names {identifier}: {logs}"));
        assert_eq!(line["fields"]["code"], code, "{line}");
        assert!(!line["fields"]["reason"].as_str().unwrap().is_empty(), "{line}");
    }
}

/// The records a batch answer names, in its order.
fn named(answer: &Value) -> Vec<&str> {
    let failures = answer["batchItemFailures"].as_array().expect("a batch answer");
    failures.iter().map(|failure| failure["itemIdentifier"].as_str().unwrap()).collect()
}

/// Reads the child's stdout and stderr as it writes them, so that a run that logs more than a
/// pipe holds never blocks on it; the output is there once the child is stopped.
fn draining(mut child: Child) -> (Child, tokio::task::JoinHandle<String>) {
    let (mut stdout, mut stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let output = tokio::spawn(async move {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let _ = tokio::join!(stdout.read_to_end(&mut out), stderr.read_to_end(&mut err));
        out.extend(err);
        String::from_utf8_lossy(&out).into_owned()
    });
    (child, output)
}

/// The binary drains a standard queue through the runtime loop, each invocation with a real
/// deadline, against a stand-in that hangs, throttles, answers 500 and drops connections before
/// and after storing (each at least once, then at random), fails and throttles single events,
/// quotes events' content back in its error messages, and refuses every request holding one
/// event. As Lambda does, every message an answer names comes back, up to its receive count,
/// and the others are deleted: each deleted message's event must be stored, only the refused
/// message may end in the dead-letter queue, and the logs must never hold an event's content.
#[tokio::test]
async fn the_binary_drains_a_queue_through_hangs_throttles_drops_and_content_quoted_back() {
    const MESSAGES: usize = 600;
    const BATCH: usize = 100;
    const MAX_RECEIVE_COUNT: usize = 5;
    let poison = "message-0250";
    let stand_in = stand_in().await;
    for fault in [Fault::Hang, Fault::ServerError, Fault::DropBeforeStore, Fault::DropAfterStore] {
        stand_in.push_fault(fault);
    }
    stand_in.set_chaos(Chaos {
        seed: 0x2026_1205,
        throttle: 0.0,
        server_error: 0.05,
        drop_before_store: 0.05,
        drop_after_store: 0.05,
        event_failure: 0.02,
        event_throttle: 0.0,
        max_latency: Duration::from_millis(20),
    });
    stand_in.fail_event("message-0007", "InternalFailure", 2);
    stand_in.refuse_requests_containing(poison, "ValidationException");
    let runtime = RuntimeApi::start().await.unwrap();
    let (mut child, output) = draining(function(&runtime.address(), &stand_in).spawn().unwrap());

    let mut queue: VecDeque<(String, usize)> =
        (0..MESSAGES).map(|i| (format!("message-{i:04}"), 0)).collect();
    let mut dead_letters = Vec::new();
    let mut invocations = 0;
    while !queue.is_empty() && invocations < 100 {
        invocations += 1;
        // Throttles are not drawn at random: each one cuts the environment's rate for tens of
        // seconds (tests/chaos.rs says why), so one of each kind comes with the last batch.
        if invocations == MESSAGES / BATCH {
            stand_in.push_fault(Fault::Throttle);
            stand_in.fail_event("message-0550", "Throttling", 1);
        }
        let batch: Vec<(String, usize)> = queue.drain(..queue.len().min(BATCH)).collect();
        let event = records(batch.iter().map(|(id, _)| sqs_record(id, &audit_json(id))).collect());
        let request = runtime.invoke(&event, deadline_in(Duration::from_secs(8)));
        let answer = runtime.result(&request, Duration::from_secs(30)).await;
        let Some(InvocationResult::Response(answer)) = answer else {
            panic!("invocation {invocations} had no answer: {answer:?}");
        };
        let named: HashSet<&str> = named(&answer).into_iter().collect();
        let stored: HashSet<String> = stand_in.stored().into_iter().map(|event| event.id).collect();
        for (id, receives) in batch {
            if !named.contains(id.as_str()) {
                assert!(stored.contains(&id), "{id} was deleted but its event was never stored");
            } else if receives + 1 == MAX_RECEIVE_COUNT {
                dead_letters.push(id);
            } else {
                queue.push_back((id, receives + 1));
            }
        }
    }
    child.start_kill().ok();
    let logs = output.await.unwrap();
    assert!(queue.is_empty(), "{} messages left after {invocations} invocations: {logs}", queue.len());
    assert_eq!(dead_letters, [poison]);
    assert_eq!(stand_in.not_stored([poison]), [poison]);
    let faults = stand_in.faults_met();
    assert!(faults.throttle > 0 && faults.server_error > 0 && faults.hang == 1, "{faults:?}");
    assert!(faults.drop_before_store > 0 && faults.drop_after_store > 0, "{faults:?}");
    assert!(faults.event_throttle > 0 && faults.event_failure > 0, "{faults:?}");
    // What the stand-in quotes back: the first 120 characters of eventData, keys in order.
    assert!(!logs.contains("RefundIssued") && !logs.contains("payments.example.com"), "{logs}");
    assert!(logs.contains("ValidationException") && logs.contains(poison), "the refusal is named: {logs}");
}

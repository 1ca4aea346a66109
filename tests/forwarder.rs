//! The forwarder end to end: real SDK client, HTTP to the CloudTrail Data stand-in on 127.0.0.1.

mod common;

use std::time::Duration;

use cloudtrail_data_stand_in::cloudtrail::MAX_BODY_BYTES;
use cloudtrail_data_stand_in::{Fault, Settings, StandIn};
use cloudtrail_lake_forwarder::send::body::{encoded_event_len, request_len};
use cloudtrail_lake_forwarder::{event, send::plan, Answer};
use common::*;
use serde_json::{json, Value};
use tokio::time::Instant;

async fn forward(stand_in: &StandIn, event: Value) -> Answer {
    forwarder(stand_in).forward(incoming(event), None).await.expect("a readable batch").0
}

#[tokio::test]
async fn sqs_records_become_audit_events_sent_unchanged() {
    let stand_in = stand_in().await;
    let answer = forward(&stand_in, sqs_batch(3)).await;

    assert_eq!(reported(&answer), Vec::<String>::new());
    assert_eq!(serde_json::to_value(&answer).unwrap(), json!({"batchItemFailures": []}));
    let stored = stand_in.stored();
    assert_eq!(stored.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["m-0", "m-1", "m-2"]);
    assert_eq!(stored[1].event_data, audit_json("uid-1"));
    assert_eq!(stand_in.requests().len(), 1);
}

#[tokio::test]
async fn kinesis_data_is_decoded_and_ids_are_sequence_numbers() {
    let stand_in = stand_in().await;
    let event = records(
        (0..3)
            .map(|i| kinesis_record(&sequence_number(i), audit_json(&format!("k-{i}")).as_bytes()))
            .collect(),
    );
    let answer = forward(&stand_in, event).await;

    assert!(matches!(answer, Answer::Kinesis(_)));
    assert_eq!(reported(&answer), Vec::<String>::new());
    let stored = stand_in.stored();
    assert_eq!(
        stored.iter().map(|e| e.id.clone()).collect::<Vec<_>>(),
        (0..3).map(sequence_number).collect::<Vec<_>>()
    );
    assert_eq!(stored[2].event_data, audit_json("k-2"));
}

/// The packing of larger batches is unit-tested (`send::plan`); here the service takes full
/// requests as the forwarder sends them.
#[tokio::test]
async fn three_hundred_records_take_three_full_requests() {
    let stand_in = stand_in().await;
    let answer = forward(&stand_in, sqs_batch(300)).await;

    assert_eq!(reported(&answer), Vec::<String>::new());
    let requests = stand_in.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests.iter().all(|request| request.ids.len() == 100 && request.status == Some(200)));
    assert_eq!(stand_in.stored().len(), 300);
}

#[tokio::test]
async fn forty_60kb_records_never_exceed_a_megabyte_and_the_sizes_are_byte_exact() {
    let stand_in = stand_in().await;
    let bodies: Vec<String> = (0..40).map(|i| audit_json_of_len(&format!("big-{i}"), 60 * 1024)).collect();
    let event =
        records(bodies.iter().enumerate().map(|(i, body)| sqs_record(&format!("m-{i}"), body)).collect());
    let answer = forward(&stand_in, event).await;

    assert_eq!(reported(&answer), Vec::<String>::new());
    let requests = stand_in.requests();
    assert!(requests.iter().all(|request| request.body_len <= MAX_BODY_BYTES), "{requests:?}");
    let encoded: Vec<usize> =
        bodies.iter().enumerate().map(|(i, body)| encoded_event_len(&format!("m-{i}"), body)).collect();
    let fewest = request_len(40, encoded.iter().sum()).div_ceil(plan::MAX_REQUEST_BYTES);
    assert!(requests.len() <= fewest + 1, "{} requests, {fewest} would do", requests.len());
    // The packer's arithmetic matches what the SDK really sent, byte for byte.
    for request in &requests {
        let events: usize = request.ids.iter().map(|id| encoded[id[2..].parse::<usize>().unwrap()]).sum();
        assert_eq!(request.body_len, request_len(request.ids.len(), events));
    }
    assert_eq!(requests.iter().map(|request| request.ids.len()).sum::<usize>(), 40);
}

#[tokio::test]
async fn per_event_failures_report_exactly_their_records() {
    let stand_in = stand_in().await;
    stand_in.fail_event("m-2", "InvalidData", 1);
    stand_in.fail_event("m-5", "FieldTooLong", 1);
    let answer = forward(&stand_in, sqs_batch(8)).await;

    assert_eq!(reported(&answer), ["m-2", "m-5"]);
    assert_eq!(stand_in.stored().len(), 6);
    // Permanent codes are not sent again.
    assert_eq!(stand_in.requests().len(), 1);
}

#[tokio::test]
async fn a_request_that_fails_as_a_whole_reports_all_its_records() {
    let stand_in = stand_in().await;
    let mut config = config(&stand_in);
    config.channel = channel("arn:aws:cloudtrail:us-east-1:123456789012:channel/not-this-one");
    let answer = forwarder_with(&stand_in, &config).forward(incoming(sqs_batch(150)), None).await.unwrap().0;

    assert_eq!(reported(&answer), (0..150).map(|i| format!("m-{i}")).collect::<Vec<_>>());
    assert!(stand_in.requests().iter().all(|request| request.error.as_deref() == Some("ChannelNotFound")));
    assert_eq!(stand_in.stored(), []);
}

#[tokio::test]
async fn a_request_signed_with_the_wrong_key_is_refused_and_reported() {
    let stand_in = stand_in().await;
    let forwarder =
        cloudtrail_lake_forwarder::Forwarder::new(client(&stand_in, "not-the-secret"), &config(&stand_in));
    let answer = forwarder.forward(incoming(sqs_batch(2)), None).await.unwrap().0;

    assert_eq!(reported(&answer), ["m-0", "m-1"]);
    assert_eq!(stand_in.requests()[0].error.as_deref(), Some("InvalidSignatureException"));
}

#[tokio::test]
async fn the_external_id_is_sent_when_configured() {
    let settings = Settings { external_id: Some("tenant-42".into()), ..Settings::default() };
    let stand_in = StandIn::start(settings).await.unwrap();
    assert_eq!(reported(&forward(&stand_in, sqs_batch(1)).await), Vec::<String>::new());

    let mut without = config(&stand_in);
    without.external_id = None;
    let answer = forwarder_with(&stand_in, &without).forward(incoming(sqs_batch(1)), None).await.unwrap().0;
    assert_eq!(reported(&answer), ["m-0"]);
}

/// Each transient failure once, as the SDK reads it from the wire: a 500, a whole-request
/// `ThrottlingException`, then per-event `Throttling` and `InternalFailure` inside a 200. (Each
/// throttle slows the rate limiter down, so more of them would only make the test wait.)
#[tokio::test]
async fn throttling_and_server_errors_are_retried_until_the_events_land() {
    let stand_in = stand_in().await;
    stand_in.push_fault(Fault::ServerError);
    stand_in.push_fault(Fault::Throttle);
    stand_in.fail_event("m-1", "Throttling", 1);
    stand_in.fail_event("m-3", "InternalFailure", 1);
    let answer = forward(&stand_in, sqs_batch(5)).await;

    assert_eq!(reported(&answer), Vec::<String>::new());
    let mut ids: Vec<String> = stand_in.stored().into_iter().map(|event| event.id).collect();
    ids.sort();
    assert_eq!(ids, ["m-0", "m-1", "m-2", "m-3", "m-4"]);
    let statuses: Vec<Option<u16>> = stand_in.requests().iter().map(|request| request.status).collect();
    assert_eq!(statuses, [Some(500), Some(400), Some(200), Some(200)]);
}

#[tokio::test]
async fn a_request_refused_whole_for_one_event_is_split_until_only_that_event_fails() {
    let stand_in = stand_in().await;
    stand_in.refuse_requests_containing("m-3", "ValidationException");
    let answer = forward(&stand_in, sqs_batch(4)).await;

    assert_eq!(reported(&answer), ["m-3"]);
    let mut stored: Vec<String> = stand_in.stored().into_iter().map(|event| event.id).collect();
    stored.sort();
    assert_eq!(stored, ["m-0", "m-1", "m-2"]);
    // 4 → 2 + 2 → 1 + 1: the refused event alone is the last request refused. How few requests
    // halving takes in a full request is unit-tested on paused time (scheduler's
    // `halving_isolates_the_one_event_the_service_refuses`).
    let refused: Vec<Vec<String>> =
        stand_in.requests().into_iter().filter(|r| r.status == Some(400)).map(|r| r.ids).collect();
    assert_eq!(refused.last().unwrap(), &["m-3"]);
}

#[tokio::test]
async fn a_service_that_keeps_failing_gets_every_record_reported_before_the_deadline() {
    let stand_in = stand_in().await;
    for _ in 0..1_000 {
        stand_in.push_fault(Fault::ServerError);
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    let (answer, summary) =
        forwarder(&stand_in).forward(incoming(sqs_batch(3)), Some(deadline)).await.unwrap();
    let summary = summary.expect("a batch with records");

    assert!(Instant::now() < deadline);
    assert_eq!(reported(&answer), ["m-0", "m-1", "m-2"]);
    assert_eq!(stand_in.stored(), []);
    assert!(summary.send.requests > 3, "tried again while time allowed: {}", summary.send.requests);
    assert_eq!(summary.failures.get("InternalServerException"), Some(&3));
}

#[tokio::test]
async fn invalid_records_are_reported_while_the_rest_is_sent() {
    let stand_in = stand_in().await;
    let mut missing_uid: Value = serde_json::from_str(&audit_json("x")).unwrap();
    missing_uid.as_object_mut().unwrap().remove("UID");
    let event = records(vec![
        sqs_record("ok-1", &audit_json("1")),
        sqs_record("not-json", "{\"version\": "),
        sqs_record("hello", "Hello from SQS!"),
        sqs_record("missing-uid", &missing_uid.to_string()),
        sqs_record("two-megabytes", &audit_json_of_len("big", 2 * 1024 * 1024)),
        sqs_record("array", "[1, 2, 3]"),
        sqs_record("ok-2", &audit_json("2")),
    ]);
    let answer = forward(&stand_in, event).await;

    assert_eq!(reported(&answer), ["not-json", "hello", "missing-uid", "two-megabytes", "array"]);
    let ids: Vec<String> = stand_in.stored().into_iter().map(|event| event.id).collect();
    assert_eq!(ids, ["ok-1", "ok-2"]);
}

#[tokio::test]
async fn kinesis_data_that_is_not_utf8_is_reported_and_the_records_behind_it_still_land() {
    let stand_in = stand_in().await;
    let event = records(vec![
        kinesis_record(&sequence_number(1), audit_json("1").as_bytes()),
        kinesis_record(&sequence_number(2), audit_json("2").as_bytes()),
        kinesis_record(&sequence_number(3), b"\xff\xfe not text"),
        kinesis_record(&sequence_number(4), audit_json("4").as_bytes()),
        kinesis_record(&sequence_number(5), audit_json("5").as_bytes()),
    ]);
    let answer = forward(&stand_in, event).await;

    // Lambda resumes at the lowest reported sequence number. Record 3 will never be valid: had
    // 4 and 5 waited behind it, they would be lost when Lambda gives up on the batch.
    assert_eq!(reported(&answer), [sequence_number(3)]);
    let ids: Vec<String> = stand_in.stored().into_iter().map(|event| event.id).collect();
    assert_eq!(ids, [sequence_number(1), sequence_number(2), sequence_number(4), sequence_number(5)]);
}

#[tokio::test]
async fn behind_a_transient_kinesis_failure_nothing_more_is_sent() {
    let stand_in = stand_in().await;
    stand_in.fail_event(&sequence_number(40), "Throttling", 1000);
    let mut config = config(&stand_in);
    config.max_concurrent_requests = std::num::NonZeroUsize::new(1).unwrap();
    let event = records(
        (0..300)
            .map(|i| kinesis_record(&sequence_number(i), audit_json(&i.to_string()).as_bytes()))
            .collect(),
    );
    let deadline = Instant::now() + Duration::from_secs(1);
    let answer = forwarder_with(&stand_in, &config).forward(incoming(event), Some(deadline)).await.unwrap().0;

    // Record 40 is still throttled when time runs out; 100 to 299 come again from 40 anyway.
    assert_eq!(reported(&answer), [sequence_number(40)]);
    assert_eq!(stand_in.stored().len(), 99);
    assert!(stand_in
        .requests()
        .iter()
        .all(|request| request.ids.iter().all(|id| *id <= sequence_number(99))));
}

#[tokio::test]
async fn a_kinesis_failure_answers_the_lowest_sequence_number() {
    let stand_in = stand_in().await;
    stand_in.fail_event(&sequence_number(150), "InvalidData", 1);
    stand_in.fail_event(&sequence_number(40), "FieldTooLong", 1);
    let event = records(
        (0..300)
            .map(|i| kinesis_record(&sequence_number(i), audit_json(&i.to_string()).as_bytes()))
            .collect(),
    );
    let answer = forward(&stand_in, event).await;
    assert_eq!(reported(&answer), [sequence_number(40)]);
}

#[tokio::test]
async fn fifo_failure_reports_the_rest_of_its_group_and_holds_it_back() {
    let stand_in = stand_in().await;
    let event = records(vec![
        fifo_record("a-1", "a", &audit_json("a1")),
        fifo_record("b-1", "b", &audit_json("b1")),
        fifo_record("a-2", "a", "Hello from SQS!"),
        fifo_record("b-2", "b", &audit_json("b2")),
        fifo_record("a-3", "a", &audit_json("a3")),
        fifo_record("c-1", "c", &audit_json("c1")),
    ]);
    let answer = forward(&stand_in, event).await;

    assert_eq!(reported(&answer), ["a-2", "a-3"]);
    let ids: Vec<String> = stand_in.stored().into_iter().map(|event| event.id).collect();
    // One message per group and request: the first wave, then b-2 once b-1 was confirmed.
    assert_eq!(ids, ["a-1", "b-1", "c-1", "b-2"]);
    let requests: Vec<Vec<String>> = stand_in.requests().into_iter().map(|request| request.ids).collect();
    assert_eq!(requests, [vec!["a-1", "b-1", "c-1"], vec!["b-2"]]);
}

#[tokio::test]
async fn a_fifo_event_failing_at_the_service_reports_its_group_from_there_on() {
    let stand_in = stand_in().await;
    stand_in.fail_event("a-2", "InvalidData", 1);
    let event = records(vec![
        fifo_record("a-1", "a", &audit_json("a1")),
        fifo_record("a-2", "a", &audit_json("a2")),
        fifo_record("b-1", "b", &audit_json("b1")),
        fifo_record("a-3", "a", &audit_json("a3")),
    ]);
    let answer = forward(&stand_in, event).await;
    assert_eq!(reported(&answer), ["a-2", "a-3"]);
}

#[tokio::test]
async fn a_slow_service_still_gets_an_answer_before_the_deadline() {
    let stand_in = stand_in().await;
    stand_in.set_latency(Duration::from_secs(5));
    let started = Instant::now();
    let deadline = started + Duration::from_millis(800);
    let (answer, _) = forwarder(&stand_in).forward(incoming(sqs_batch(250)), Some(deadline)).await.unwrap();

    assert!(
        Instant::now() < deadline + Duration::from_millis(200),
        "answered {:?} after start",
        started.elapsed()
    );
    assert_eq!(reported(&answer).len(), 250);
}

#[tokio::test]
async fn events_that_are_not_batches_fail_the_invocation_with_a_reason() {
    let stand_in = stand_in().await;
    let error = forwarder(&stand_in).forward(incoming(json!({"hello": "world"})), None).await.unwrap_err();
    assert!(error.to_string().contains("neither an SQS nor a Kinesis event"), "{error}");
    assert_eq!(stand_in.requests(), []);
}

#[tokio::test]
async fn the_checksum_sent_is_the_sha256_of_the_event_data() {
    // The stand-in fails an event whose checksum does not match, so a clean answer proves it;
    // this pins the encoding against openssl's output for the same text.
    assert_eq!(event::checksum("{\"a\":1}"), "AVq9f1zFei3ZS3WQ8ErYCEJzkF7jPsXOvq5iJ2qX+GI=");
    let stand_in = stand_in().await;
    assert_eq!(reported(&forward(&stand_in, sqs_batch(2)).await), Vec::<String>::new());
}

#[tokio::test]
async fn no_more_than_max_concurrent_requests_are_in_flight() {
    let stand_in = stand_in().await;
    // Each request takes 1.5 s and a fresh limiter lets one start every 0.5 s: in the second
    // part of the batch (300 records, after the first request), a third request has its token
    // half a second before either of the first two has answered, and only the in-flight bound
    // holds it back.
    stand_in.set_latency(Duration::from_millis(1500));
    let mut config = config(&stand_in);
    config.max_concurrent_requests = std::num::NonZeroUsize::new(2).unwrap();
    let answer = forwarder_with(&stand_in, &config).forward(incoming(sqs_batch(400)), None).await.unwrap().0;

    assert_eq!(reported(&answer), Vec::<String>::new());
    assert_eq!(stand_in.peak_in_flight(), 2);
}

#[tokio::test]
async fn a_resumed_kinesis_batch_does_not_send_again_what_was_stored() {
    let stand_in = stand_in().await;
    stand_in.fail_event(&sequence_number(5), "InvalidData", 1);
    let shard: Vec<Value> =
        (0..10).map(|i| kinesis_record(&sequence_number(i), audit_json(&i.to_string()).as_bytes())).collect();
    let forwarder = forwarder(&stand_in);

    let first = forwarder.forward(incoming(records(shard.clone())), None).await.unwrap().0;
    assert_eq!(reported(&first), [sequence_number(5)]);
    // Lambda resumes at the reported record: 5 to 9 come again, and 6 to 9 were stored.
    let second = forwarder.forward(incoming(records(shard[5..].to_vec())), None).await.unwrap().0;

    assert_eq!(reported(&second), Vec::<String>::new());
    assert_eq!(stand_in.requests().last().unwrap().ids, [sequence_number(5)]);
    assert_eq!(stand_in.stored().len(), 10, "every record stored once");
}

#[tokio::test]
async fn a_record_without_a_message_id_is_still_sent_and_fails_the_batch_only_if_it_does_not_land() {
    let stand_in = stand_in().await;
    let mut unnamed = sqs_record("", &audit_json("unnamed"));
    unnamed.as_object_mut().unwrap().remove("messageId");
    let event = records(vec![sqs_record("m-0", "Hello from SQS!"), unnamed.clone()]);
    let answer = forward(&stand_in, event).await;
    // It got in, so nothing has to name it.
    assert_eq!(reported(&answer), ["m-0"]);
    assert_eq!(stand_in.stored().len(), 1);
    assert!(stand_in.stored()[0].id.starts_with("sha256-"));

    unnamed["body"] = json!("not an audit event");
    let error = forwarder(&stand_in)
        .forward(incoming(records(vec![sqs_record("m-1", &audit_json("1")), unnamed])), None)
        .await;
    let error =
        error.expect_err("an unnamed record that did not land can only be redelivered with its batch");
    assert!(error.to_string().starts_with("record 1 has no messageId and was not ingested"), "{error}");
}

#[tokio::test]
async fn a_kinesis_retry_that_hangs_names_the_first_unconfirmed_record_and_remembers_the_rest() {
    let stand_in = stand_in().await;
    let shard: Vec<Value> = (0..10)
        .map(|i| kinesis_record(&sequence_number(i), audit_json(&format!("k-{i}")).as_bytes()))
        .collect();
    stand_in.fail_event(&sequence_number(9), "Throttling", 1);
    stand_in.push_fault(Fault::Pass);
    stand_in.push_fault(Fault::Hang);
    let forwarder = forwarder(&stand_in);
    // The throttle cuts a cold limiter to its floor: the retry waits 2 s for its token.
    let deadline = Instant::now() + Duration::from_millis(3000);
    let (first, summary) = forwarder.forward(incoming(records(shard.clone())), Some(deadline)).await.unwrap();
    let summary = summary.expect("a batch with records");
    assert!(Instant::now() < deadline, "answered in time");
    assert_eq!(reported(&first), [sequence_number(9)]);
    assert_eq!(stand_in.stored().len(), 9);
    assert_eq!(summary.ingested, 9);
    assert_eq!((summary.send.events_sent, summary.send.requests), (10, 1));
    assert_eq!(summary.failures.get("NoAnswerBeforeDeadline"), Some(&1));

    // Lambda delivers from the reported record on; an earlier resume point sends nothing twice.
    let again = forwarder.forward(incoming(records(shard)), None).await.unwrap().0;
    assert_eq!(reported(&again), Vec::<String>::new());
    let stored: Vec<String> = stand_in.stored().into_iter().map(|event| event.id).collect();
    assert_eq!(stored, (0..10).map(sequence_number).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_channel_that_refuses_every_request_alike_costs_a_bounded_number_of_requests() {
    let stand_in = stand_in().await;
    let batch = sqs_batch(2_000);
    for i in 0..2_000 {
        stand_in.refuse_requests_containing(&format!("m-{i}"), "ValidationException");
    }
    let (answer, summary) = forwarder(&stand_in).forward(incoming(batch), None).await.unwrap();
    let summary = summary.expect("a batch with records");

    assert_eq!(reported(&answer).len(), 2_000);
    // The first request is refused, then both of its halves alike: splitting and the batch stop.
    assert_eq!(stand_in.requests().len(), 3);
    assert_eq!(summary.failures.get("ValidationException"), Some(&2_000));
}

#[tokio::test]
async fn the_same_message_twice_in_a_batch_is_sent_once_and_both_are_answered_by_its_fate() {
    let stand_in = stand_in().await;
    let event = records(vec![
        sqs_record("m-1", &audit_json("1")),
        sqs_record("m-2", &audit_json("2")),
        sqs_record("m-1", &audit_json("1")),
        sqs_record("m-3", &audit_json("3")),
        sqs_record("m-3", &audit_json("3")),
    ]);
    stand_in.fail_event("m-3", "InvalidData", 1);
    let (answer, summary) = forwarder(&stand_in).forward(incoming(event), None).await.unwrap();
    let summary = summary.expect("a batch with records");

    let stored: Vec<String> = stand_in.stored().into_iter().map(|event| event.id).collect();
    assert_eq!(stored, ["m-1", "m-2"]);
    assert_eq!(stand_in.requests().iter().map(|request| request.ids.len()).sum::<usize>(), 3);
    assert_eq!(reported(&answer), ["m-3"]);
    assert_eq!(summary.failures.get("InvalidData"), Some(&2));
    assert_eq!(summary.ingested, 3);
}

/// A batch larger than the limiter's burst goes in two parts, the second prepared while the
/// first is sent (a fresh forwarder's burst is one request: the first part is 100 records).
/// A message repeated across the parts is still sent once and answered as its original was.
#[tokio::test]
async fn a_message_repeated_across_the_parts_of_a_batch_is_sent_once_and_answered_alike() {
    let stand_in = stand_in().await;
    stand_in.fail_event("m-10", "InvalidData", 1);
    let mut messages: Vec<(String, String)> =
        (0..300).map(|i| (format!("m-{i}"), audit_json(&format!("uid-{i}")))).collect();
    // Redelivered copies, in the second part, of an ingested message and a refused one.
    messages[250] = messages[5].clone();
    messages[260] = messages[10].clone();
    let event = records(messages.iter().map(|(id, body)| sqs_record(id, body)).collect());
    let (answer, summary) = forwarder(&stand_in).forward(incoming(event), None).await.unwrap();
    let summary = summary.expect("a batch with records");

    // The answer names a message once, however many times the batch holds it.
    assert_eq!(reported(&answer), ["m-10"]);
    let mut stored: Vec<String> = stand_in.stored().into_iter().map(|event| event.id).collect();
    stored.sort();
    stored.dedup();
    assert_eq!(stored.len(), 297, "300 records, two copies, one refused");
    let sent: usize = stand_in.requests().iter().map(|request| request.ids.len()).sum();
    assert_eq!(sent, 298, "each distinct message is sent once");
    assert_eq!(summary.send.remembered, 2);
}

/// What the first part's answers hold back holds back the second part: behind a Kinesis record
/// that is still failing, nothing of either part is sent, and the answer resumes there.
#[tokio::test]
async fn behind_a_transient_kinesis_failure_in_the_first_part_the_second_part_is_not_sent() {
    let stand_in = stand_in().await;
    stand_in.fail_event(&sequence_number(70), "InternalFailure", 1000);
    let event = records(
        (0..400)
            .map(|i| kinesis_record(&sequence_number(i), audit_json(&i.to_string()).as_bytes()))
            .collect(),
    );
    let deadline = Instant::now() + Duration::from_millis(1500);
    let (answer, summary) = forwarder(&stand_in).forward(incoming(event), Some(deadline)).await.unwrap();
    let summary = summary.expect("a batch with records");

    assert_eq!(reported(&answer), [sequence_number(70)]);
    assert!(stand_in
        .requests()
        .iter()
        .all(|request| request.ids.iter().all(|id| *id < sequence_number(100))));
    assert_eq!(stand_in.stored().len(), 99);
    assert_eq!(summary.records, 400);
}

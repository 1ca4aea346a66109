//! Hostile input: whatever a record holds, decoding and mapping never panic, a bad record never
//! fails the batch, and every record that is not ingested is named in the answer.
//!
//! Properties run generated records through the forwarder's own `forward` over a channel in
//! memory, and through a record's stage ([`Preparer::audit_events`]) where the events inside one
//! record are the point; the table at the end sends the nastiest shapes through the real SDK
//! client and the stand-in.

mod common;

use cloudtrail_lake_forwarder::config::Config;
use cloudtrail_lake_forwarder::lambda::{self, EventError};
use cloudtrail_lake_forwarder::prepare::mapping::Mapping;
use cloudtrail_lake_forwarder::prepare::part::MAX_EVENTS_PER_INVOCATION;
use cloudtrail_lake_forwarder::prepare::Preparer;
use cloudtrail_lake_forwarder::rejection::Rejection;
use cloudtrail_lake_forwarder::Answer;
use common::memory::{memory_forwarder, MemoryChannel};
use common::*;
use proptest::prelude::*;
use serde_json::{json, Value};

/// Forwards `event` through a forwarder whose channel takes every event, on a runtime of its
/// own (proptest's cases are synchronous), as the handler does with no deadline.
fn forward(event: Value, channel: MemoryChannel) -> (Result<Answer, EventError>, Vec<String>) {
    let (forwarder, sent) = memory_forwarder(channel, &Config::for_channel(channel_arn()));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let answer = runtime.block_on(forwarder.forward(incoming(event), None)).map(|(answer, _)| answer);
    let ids = sent.lock().unwrap().iter().map(|event| event.id.clone()).collect();
    (answer, ids)
}

fn channel_arn() -> cloudtrail_lake_forwarder::config::ChannelArn {
    channel(CHANNEL_ARN)
}

/// Forwards `event` through a channel that refuses every event, and returns the answer's
/// identifiers; every id sent fits the service's id rule.
fn answer_if_nothing_lands(event: Value) -> Vec<String> {
    let (answer, ids) = forward(event, MemoryChannel::refusing("InvalidData"));
    for id in ids {
        assert!(!id.is_empty() && id.len() <= 128, "{id}");
    }
    reported(&answer.expect("every record here has an identifier"))
}

/// Each record's identifier, as the event gives it.
fn identifiers(event: &Value) -> Vec<String> {
    let records = event["Records"].as_array().unwrap();
    let identifier = |record: &Value| match record["eventSource"].as_str() {
        Some("aws:kinesis") => record["kinesis"]["sequenceNumber"].as_str().unwrap().to_owned(),
        _ => record["messageId"].as_str().unwrap().to_owned(),
    };
    records.iter().map(identifier).collect()
}

/// JSON-ish text: valid events, their broken neighbours and plain noise.
fn payload() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[{}\\[\\]\":,a-z0-9\\\\ \u{0}-\u{1f}é🙂]{0,200}",
        (0usize..3000).prop_map(|depth| format!("{}{}", "[".repeat(depth), "]".repeat(depth))),
        (0usize..3000).prop_map(|depth| format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth))),
        (any::<String>(), any::<String>()).prop_map(|(uid, principal)| {
            json!({"version": "1.0", "userIdentity": {"type": "T", "principalId": principal},
                   "eventSource": "s", "eventName": "n", "eventTime": "2026-01-01T00:00:00Z",
                   "UID": uid, "recipientAccountId": "123456789012"})
            .to_string()
        }),
        prop::sample::select(vec![
            r#"{"UID":"a","UID":"b"}"#.to_string(),
            r#"{"version":1e400}"#.to_string(),
            r#"{"version":-1e400,"n":123456789012345678901234567890}"#.to_string(),
            "\u{0}".to_string(),
            String::new(),
            "null".to_string(),
            r#""\ud800""#.to_string(),
        ]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn any_sqs_body_is_sent_or_named(bodies in prop::collection::vec(payload(), 1..12)) {
        let event = records(bodies.iter().enumerate().map(|(i, body)| sqs_record(&format!("m-{i}"), body)).collect());
        let all = identifiers(&event);
        prop_assert_eq!(answer_if_nothing_lands(event), all);
    }

    #[test]
    fn any_kinesis_bytes_are_sent_or_the_first_is_named(data in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 1..12)) {
        let event = records(data.iter().enumerate().map(|(i, bytes)| kinesis_record(&sequence_number(i), bytes)).collect());
        let first = identifiers(&event)[0].clone();
        prop_assert_eq!(answer_if_nothing_lands(event), vec![first]);
    }

    #[test]
    fn any_identifier_gives_a_valid_audit_event_id(identifier in any::<String>().prop_filter("non-empty", |s| !s.is_empty())) {
        let (answer, ids) = forward(records(vec![sqs_record(&identifier, &audit_json("u"))]), MemoryChannel::accepting());
        prop_assert!(reported(&answer.unwrap()).is_empty(), "the event was taken");
        prop_assert_eq!(ids.len(), 1);
        prop_assert!((1..=128).contains(&ids[0].len()));
        prop_assert!(ids[0].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }

    #[test]
    fn any_record_shape_is_read_by_its_event_source(
        fields in prop::collection::vec(("[a-zA-Z]{1,12}", payload()), 0..6),
        source in prop::sample::select(vec!["aws:sqs", "aws:kinesis", "aws:s3", ""]),
    ) {
        // Records with arbitrary string fields: a record of SQS or Kinesis is read as one record
        // whose identifier is its messageId or sequenceNumber when that is a non-empty string
        // (never a panic, never the whole batch refused); any other source is refused by name.
        let mut record: serde_json::Map<String, Value> =
            fields.into_iter().map(|(key, value)| (key, Value::String(value))).collect();
        record.insert("eventSource".into(), json!(source));
        let identifier = record.get(if source == "aws:kinesis" { "sequenceNumber" } else { "messageId" }).cloned();
        let expected = identifier.and_then(|id| id.as_str().map(str::to_owned)).filter(|id| !id.is_empty());
        let (answer, ids) = forward(json!({"Records": [record.clone()]}), MemoryChannel::accepting());
        match (source, answer) {
            ("aws:sqs", Ok(answer)) => {
                // Named exactly when it was not sent, and then by its own messageId.
                let named = reported(&answer);
                prop_assert_eq!(named.is_empty(), ids.len() == 1);
                prop_assert!(named.is_empty() || named == vec![expected.clone().unwrap()]);
            }
            ("aws:sqs" | "aws:kinesis", Err(EventError::MissingIdentifier { index: 0, .. })) => {
                // Not ingested, and no identifier to name it by: Lambda delivers it again.
                prop_assert!(ids.is_empty());
                prop_assert!(source == "aws:kinesis" || expected.is_none());
            }
            (other, Err(error)) => {
                prop_assert!(other != "aws:sqs" && other != "aws:kinesis", "{}", error);
                prop_assert!(matches!(error, EventError::UnknownSource { .. }), "{}", error);
            }
            (other, Ok(_)) => prop_assert!(false, "a record of {:?} was read", other),
        }
    }
}

/// The rejections of a single Kinesis record's events, by the record's own stage
/// ([`Preparer::audit_events`]) with `preparer`; `None` for an event that would be sent.
fn kinesis_rejections(data: &[u8], preparer: &Preparer) -> Vec<Option<Rejection>> {
    record_rejections(records(vec![kinesis_record(&sequence_number(0), data)]), preparer)
}

fn record_rejections(event: Value, preparer: &Preparer) -> Vec<Option<Rejection>> {
    let mut batch = lambda::decode(incoming(event)).unwrap().expect("one record");
    let mut units = Vec::new();
    preparer.audit_events(batch.source, &mut batch.records[0], &mut units);
    units.into_iter().map(Result::err).collect()
}

fn log_events(n: usize) -> Vec<(String, i64, String)> {
    (0..n).map(|i| (format!("{:056}", i), 1_764_129_600_000, audit_json(&format!("log-{i}")))).collect()
}

/// An preparer that maps every payload, so that decoding errors cannot hide behind the schema.
fn mapping_preparer() -> Preparer {
    let mut config = Config::for_channel(channel(CHANNEL_ARN));
    let mapping = r#"{"eventName": {"path": "/n"}, "eventSource": {"const": "s"},
                      "userIdentity.type": {"const": "T"}, "userIdentity.principalId": {"const": "p"}}"#;
    config.mapping = Some(std::sync::Arc::new(Mapping::parse(mapping).unwrap()));
    Preparer::of(&config)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn cloudwatch_data_cut_anywhere_is_one_named_rejection(cut in 0usize..10_000) {
        let data = cloudwatch_logs_data("/app/audit", &log_events(3));
        let cut = 2 + cut % (data.len() - 2);
        let rejections = kinesis_rejections(&data[..cut], &preparer());
        prop_assert_eq!(rejections.len(), 1);
        prop_assert!(matches!(rejections[0], Some(Rejection::BadGzip { .. })), "{:?}", rejections);
    }

    #[test]
    fn cloudwatch_data_with_a_flipped_byte_never_panics(at in 0usize..10_000, xor in 1u8..) {
        let mut data = cloudwatch_logs_data("/app/audit", &log_events(3));
        let at = at % data.len();
        data[at] ^= xor;
        // Header bytes such as the modification time do not matter; anything else is refused.
        let rejections = kinesis_rejections(&data, &preparer());
        prop_assert!(rejections.len() == 1 || rejections.iter().all(Option::is_none), "{:?}", rejections);
    }

    #[test]
    fn any_bytes_behind_the_kpl_magic_are_judged(protobuf in kpl_protobuf(), good_md5 in any::<bool>()) {
        use md5::Digest as _;
        let mut data = vec![0xf3, 0x89, 0x9a, 0xc2];
        data.extend_from_slice(&protobuf);
        if good_md5 {
            data.extend_from_slice(&md5::Md5::digest(&protobuf));
        }
        let rejections = kinesis_rejections(&data, &mapping_preparer());
        let whole = |rejections: &[Option<Rejection>]| match rejections {
            [Some(Rejection::KplChecksumMismatch | Rejection::BadEnvelope { envelope: "KPL", .. })] => true,
            [Some(Rejection::TooManyEvents { envelope: "KPL", .. })] => good_md5,
            _ => false,
        };
        if !good_md5 {
            prop_assert!(whole(&rejections), "{:?}", rejections);
        } else if !whole(&rejections) {
            // Taken as an aggregate: one unit per user record the protobuf holds, each an
            // event or its own rejection; never a user record more or less.
            let records = user_records(&protobuf);
            prop_assert!(records.is_some(), "an aggregate this reader finds malformed was taken: {:?}", rejections);
            prop_assert_eq!(Some(rejections.len()), records);
            let per_event = rejections.iter().flatten().all(|rejection| {
                !matches!(rejection, Rejection::BadEnvelope { .. } | Rejection::KplChecksumMismatch)
            });
            prop_assert!(per_event, "{:?}", rejections);
        }
    }
}

/// What may follow the KPL magic: any bytes, or an aggregate of any user records, perhaps with
/// any bytes after it (more fields, or noise).
fn kpl_protobuf() -> impl Strategy<Value = Vec<u8>> {
    let aggregate = (
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..8),
        prop::collection::vec(any::<u8>(), 0..20),
        any::<bool>(),
    )
        .prop_map(|(records, tail, with_tail)| {
            let records: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
            let data = kpl_aggregate(&records);
            let mut protobuf = data[4..data.len() - 16].to_vec();
            if with_tail {
                protobuf.extend_from_slice(&tail);
            }
            protobuf
        });
    prop_oneof![prop::collection::vec(any::<u8>(), 0..300), aggregate]
}

/// The user records (`AggregatedRecord` field 3, length-delimited) at the top level of a
/// protobuf, read apart from the product's reader; `None` when the protobuf cannot be read.
fn user_records(mut protobuf: &[u8]) -> Option<usize> {
    fn varint(input: &mut &[u8]) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = input.split_first()?;
            *input = rest;
            value |= u64::from(byte & 0x7f).checked_shl(shift)?;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }
    let mut records = 0;
    while !protobuf.is_empty() {
        let key = varint(&mut protobuf)?;
        let len = match key & 7 {
            0 => varint(&mut protobuf).map(|_| 0)?,
            1 => 8,
            2 => usize::try_from(varint(&mut protobuf)?).ok()?,
            5 => 4,
            _ => return None,
        };
        protobuf = protobuf.get(len..)?;
        records += usize::from(key == (3 << 3 | 2));
    }
    Some(records)
}

#[test]
fn an_md5_mismatch_rejects_the_whole_aggregate() {
    let mut data = kpl_aggregate(&[audit_json("a").as_bytes(), audit_json("b").as_bytes()]);
    let last = data.len() - 1;
    data[last] ^= 0x55;
    assert_eq!(kinesis_rejections(&data, &preparer()), [Some(Rejection::KplChecksumMismatch)]);
}

#[test]
fn a_gzip_bomb_is_a_named_rejection() {
    let bomb = gzip(&vec![b'{'; 64 * 1024 * 1024]);
    assert_eq!(
        kinesis_rejections(&bomb, &preparer()),
        [Some(Rejection::GzipTooLarge { limit: 16 * 1024 * 1024 })]
    );
}

#[test]
fn a_million_log_events_are_refused_within_the_bounds() {
    let event = r#"{"id":"","timestamp":0,"message":""},"#;
    let mut text = String::with_capacity(40_000_000);
    text.push_str(r#"{"messageType":"DATA_MESSAGE","logEvents":["#);
    for _ in 0..1_000_000 {
        text.push_str(event);
    }
    text.pop();
    text.push_str("]}");
    let rejections = kinesis_rejections(&gzip(text.as_bytes()), &preparer());
    assert!(
        matches!(rejections[..], [Some(Rejection::GzipTooLarge { .. } | Rejection::TooManyEvents { .. })]),
        "{rejections:?}"
    );
    // Within the gzip bound, the count bound is what refuses them.
    let small = gzip(
        format!(
            r#"{{"messageType":"DATA_MESSAGE","logEvents":[{}]}}"#,
            vec![r#"{"id":"","timestamp":0,"message":""}"#; 20_000].join(",")
        )
        .as_bytes(),
    );
    assert!(matches!(
        kinesis_rejections(&small, &preparer())[..],
        [Some(Rejection::TooManyEvents { limit: 10_000, .. })]
    ));
}

#[test]
fn deep_json_in_a_log_message_is_rejected_not_a_stack_overflow() {
    let deep = format!("{}{}", "[".repeat(200_000), "]".repeat(200_000));
    let deep_object = format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
    let events = vec![("1".repeat(56), 0, deep.clone()), ("2".repeat(56), 0, deep_object)];
    // The schema check skips what it does not read without recursing: still a rejection.
    let rejections = kinesis_rejections(&cloudwatch_logs_data("/g", &events), &preparer());
    assert_eq!(rejections.len(), 2);
    assert!(rejections.iter().all(Option::is_some), "{rejections:?}");
    // The mapping reads the payload whole: serde_json's depth limit makes it an error.
    let rejections = kinesis_rejections(&cloudwatch_logs_data("/g", &events), &mapping_preparer());
    assert!(
        rejections.iter().all(|rejection| matches!(rejection, Some(Rejection::NotJson { .. }))),
        "{rejections:?}"
    );
    let sns =
        json!({"Type": "Notification", "MessageId": "n-1", "TopicArn": "arn:aws:sns:us-east-1:123456789012:t", "Message": deep})
            .to_string();
    let rejections = record_rejections(records(vec![sqs_record("m", &sns)]), &mapping_preparer());
    assert!(matches!(rejections[..], [Some(Rejection::NotJson { .. })]));
    // The envelope itself nested past the limit is no envelope, and not JSON the schema reads.
    let deep_envelope = format!("{}{}", "{\"detail\":".repeat(100_000), "}".repeat(100_000));
    let rejections = record_rejections(records(vec![sqs_record("m", &deep_envelope)]), &preparer());
    assert!(matches!(rejections[..], [Some(Rejection::NotJson { .. })]));
}

#[tokio::test]
async fn the_nastiest_records_are_named_and_the_rest_still_lands() {
    let stand_in = stand_in().await;
    let hostile: Vec<(String, String)> = vec![
        ("nul".into(), "\u{0}".into()),
        ("deep".into(), format!("{}{}", "[".repeat(5000), "]".repeat(5000))),
        ("deep-object".into(), format!("{}1{}", "{\"a\":".repeat(5000), "}".repeat(5000))),
        ("huge".into(), format!("{{\"UID\":\"{}\"}}", "x".repeat(3 * 1024 * 1024))),
        ("dup-keys".into(), audit_json("d").replacen('{', "{\"UID\":\"shadow\",", 1)),
        ("out-of-range".into(), audit_json("o").replacen('{', "{\"n\":1e400,", 1)),
        ("empty-uid".into(), audit_json("")),
        ("lone-surrogate".into(), "\"\\ud800\"".into()),
    ];
    let mut all: Vec<Value> = hostile.iter().map(|(id, body)| sqs_record(id, body)).collect();
    all.push(sqs_record("valid", &audit_json("v")));
    let (answer, _) =
        forwarder(&stand_in).forward(incoming(records(all)), None).await.expect("never a whole-batch error");

    let expected: Vec<String> = hostile.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(reported(&answer), expected);
    assert_eq!(stand_in.stored().into_iter().map(|event| event.id).collect::<Vec<_>>(), ["valid"]);
}

#[tokio::test]
async fn a_batch_of_records_full_of_tiny_log_events_is_taken_up_to_the_invocations_budget() {
    // Six 1 kB-ish gzip records of 10,000 empty log events each: 60,000 events from a few kB.
    // Five records fill the invocation's 50,000; the sixth waits for a later delivery, and every
    // record is accounted for.
    let empty: Vec<(String, i64, String)> =
        (0..10_000).map(|i| (format!("{i:056}"), 0, String::new())).collect();
    let data = cloudwatch_logs_data("/app/audit", &empty);
    let batch = records((1..=6).map(|n| kinesis_record(&sequence_number(n), &data)).collect());
    let (forwarder, sent) = memory_forwarder(MemoryChannel::accepting(), &Config::for_channel(channel_arn()));
    let (answer, summary) = forwarder.forward(incoming(batch), None).await.unwrap();
    let summary = summary.expect("a batch with records");

    assert!(sent.lock().unwrap().is_empty(), "empty log events are not audit events");
    assert_eq!(summary.rejected, 5, "{summary:?}");
    assert_eq!(summary.failures.get("OverBudget"), Some(&1), "{summary:?}");
    assert!(summary.send.events_sent <= MAX_EVENTS_PER_INVOCATION);
    assert_eq!(
        serde_json::to_value(answer).unwrap()["batchItemFailures"],
        json!([{"itemIdentifier": sequence_number(1)}]),
        "Kinesis names the first record not ingested; the held one comes back with it"
    );
}

//! Hostile input: whatever a record holds, decoding and mapping never panic, a bad record never
//! fails the batch, and every record that is not ingested is named in the answer.
//!
//! Properties run over the pure stages (decode, map, answer) with generated records; the
//! table at the end sends the nastiest shapes through the real forwarder and the stand-in.

mod common;

use cloudtrail_lake_forwarder::answer::answer;
use cloudtrail_lake_forwarder::outcome::Outcome;
use cloudtrail_lake_forwarder::prepare;
use cloudtrail_lake_forwarder::source::EventError;
use common::*;
use proptest::prelude::*;
use serde_json::{json, Value};

/// Runs the product's pure chain ([`prepare`]) on `event`, takes every event it would send as
/// failed at the service, and returns the answer's identifiers and the records' identifiers.
fn answer_if_nothing_lands(event: Value) -> (Vec<String>, Vec<String>) {
    let prepared = prepare(incoming(event)).expect("a list of records always decodes");
    let outcomes: Vec<Option<Outcome>> = prepared
        .events
        .iter()
        .zip(&prepared.outcomes)
        .map(|(event, outcome)| match (event, outcome) {
            (_, Some(decided)) => Some(decided.clone()),
            (Some(event), None) => {
                assert!(!event.id.is_empty() && event.id.len() <= 128);
                Some(Outcome::Failed { code: "InternalFailure".into(), transient: true })
            }
            (None, None) => panic!("a record with neither an event nor an outcome"),
        })
        .collect();
    let (answer, _) =
        answer(prepared.source, &prepared.records, &outcomes).expect("every record here has an identifier");
    let named = answer.item_identifiers().into_iter().map(str::to_owned).collect();
    let all = prepared.records.iter().map(|record| record.label().to_owned()).collect();
    (named, all)
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
        let (named, all) = answer_if_nothing_lands(event);
        prop_assert_eq!(named, all);
    }

    #[test]
    fn any_kinesis_bytes_are_sent_or_the_first_is_named(data in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 1..12)) {
        let event = records(data.iter().enumerate().map(|(i, bytes)| kinesis_record(&sequence_number(i), bytes)).collect());
        let (named, all) = answer_if_nothing_lands(event);
        prop_assert_eq!(named, vec![all[0].clone()]);
    }

    #[test]
    fn any_identifier_gives_a_valid_audit_event_id(identifier in any::<String>().prop_filter("non-empty", |s| !s.is_empty())) {
        let prepared = prepare(incoming(records(vec![sqs_record(&identifier, &audit_json("u"))]))).unwrap();
        let audit = prepared.events[0].as_ref().expect("a valid event");
        prop_assert!((1..=128).contains(&audit.id.len()));
        prop_assert!(audit.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
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
        match (source, prepare(incoming(json!({"Records": [record.clone()]})))) {
            ("aws:sqs", Ok(prepared)) => {
                prop_assert_eq!(prepared.records.len(), 1);
                let expected = identifier.and_then(|id| id.as_str().map(str::to_owned)).filter(|id| !id.is_empty());
                prop_assert_eq!(prepared.records[0].item_identifier.as_ref().map(|id| id.as_str().to_owned()), expected);
                prop_assert!(prepared.events[0].is_some() || prepared.outcomes[0].is_some());
            }
            ("aws:kinesis", Ok(prepared)) => {
                // The fields are top-level, not under "kinesis": no sequence number, no data.
                prop_assert_eq!(prepared.records.len(), 1);
                prop_assert!(prepared.records[0].item_identifier.is_none());
                prop_assert!(prepared.outcomes[0].is_some(), "a record without data is rejected");
            }
            (other, Err(error)) => {
                prop_assert!(other != "aws:sqs" && other != "aws:kinesis", "{}", error);
                prop_assert!(matches!(error, EventError::UnknownSource { .. }), "{}", error);
            }
            (other, Ok(_)) => prop_assert!(false, "a record of {:?} was read", other),
        }
    }
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

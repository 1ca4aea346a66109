//! Hostile input: whatever a record holds, decoding and mapping never panic, a bad record never
//! fails the batch, and every record that is not ingested is named in the answer.
//!
//! Properties run over the pure stages (decode, map, answer) with generated records; the
//! table at the end sends the nastiest shapes through the real forwarder and the stand-in.

mod common;

use cloudtrail_lake_forwarder::answer::answer;
use cloudtrail_lake_forwarder::audit::audit_event;
use cloudtrail_lake_forwarder::outcome::Outcome;
use cloudtrail_lake_forwarder::source::decode;
use common::*;
use proptest::prelude::*;
use serde_json::{json, Value};

/// Runs the pure stages the way the handler does, taking every event as failed at the service,
/// and returns the answer's identifiers and the records' identifiers.
fn answer_if_nothing_lands(event: Value) -> (Vec<String>, Vec<String>) {
    let mut batch = decode(event).expect("a list of records always decodes");
    let outcomes: Vec<Option<Outcome>> = batch
        .records
        .iter_mut()
        .map(|record| {
            let payload = std::mem::replace(&mut record.payload, Ok(String::new()));
            let outcome = match payload.and_then(|text| audit_event(record.item_identifier.as_ref(), text)) {
                Ok(event) => {
                    assert!(!event.id.is_empty() && event.id.len() <= 128);
                    Outcome::Failed { code: "InternalFailure".into(), transient: true }
                }
                Err(rejection) => Outcome::Rejected(rejection),
            };
            Some(outcome)
        })
        .collect();
    let answer =
        answer(batch.source, &batch.records, &outcomes).expect("every record here has an identifier");
    let named = answer.item_identifiers().into_iter().map(str::to_owned).collect();
    let all = batch.records.iter().map(|record| record.label().to_owned()).collect();
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
        let event = records(vec![sqs_record(&identifier, &audit_json("u"))]);
        let mut batch = decode(event).unwrap();
        let text = std::mem::replace(&mut batch.records[0].payload, Ok(String::new())).unwrap();
        let audit = audit_event(batch.records[0].item_identifier.as_ref(), text).unwrap();
        prop_assert!((1..=128).contains(&audit.id.len()));
        prop_assert!(audit.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }

    #[test]
    fn any_record_shape_decodes_or_fails_with_a_reason(
        fields in prop::collection::vec(("[a-zA-Z]{1,12}", payload()), 0..6),
        source in prop::sample::select(vec!["aws:sqs", "aws:kinesis", "aws:s3", ""]),
    ) {
        // Records with arbitrary fields: decoding answers Ok with named records or an error
        // that says why, never a panic.
        let mut record: serde_json::Map<String, Value> =
            fields.into_iter().map(|(key, value)| (key, Value::String(value))).collect();
        record.insert("eventSource".into(), json!(source));
        match decode(json!({"Records": [record]})) {
            Ok(batch) => prop_assert!(batch.records.iter().all(|r| r.item_identifier.as_ref().is_none_or(|id| !id.as_str().is_empty()))),
            Err(error) => prop_assert!(!error.to_string().is_empty()),
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
        forwarder(&stand_in).forward(records(all), None).await.expect("never a whole-batch error");

    let expected: Vec<String> = hostile.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(reported(&answer), expected);
    assert_eq!(stand_in.stored().into_iter().map(|event| event.id).collect::<Vec<_>>(), ["valid"]);
}

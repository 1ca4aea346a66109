//! The mapping, one behaviour a test: what each origin reads, the defaults, the refusals.

use super::*;
use crate::lambda::{ItemIdentifier, Payload};
use serde_json::json;

fn record() -> Record {
    Record {
        item_identifier: Some(ItemIdentifier::from("m-1".to_owned())),
        payload: Ok(Payload::Text(String::new())),
        message_group: Some("tenant-a".into()),
        arrival_ms: None,
        sent_ms: Some(1_764_129_600_000),
    }
}

/// The fields every mapping must set, as constants; a test's own entries replace them.
fn complete(mapping: Value) -> Value {
    let mut complete = json!({"eventSource": {"const": "s"}, "eventName": {"const": "n"},
                              "userIdentity.type": {"const": "t"}, "userIdentity.principalId": {"const": "p"}});
    complete.as_object_mut().unwrap().extend(mapping.as_object().unwrap().clone());
    complete
}

fn apply(mapping: Value, payload: &str) -> Result<Value, Rejection> {
    apply_text(mapping, payload).map(|text| serde_json::from_str(&text).unwrap())
}

fn apply_text(mapping: Value, payload: &str) -> Result<String, Rejection> {
    let record = record();
    let context = Context {
        envelope: None,
        record: &record,
        source: Source::SqsFifo,
        account: "123456789012",
        uid: "m-1",
    };
    Mapping::parse(&complete(mapping).to_string()).unwrap().apply(payload, context)
}

#[test]
fn fields_come_from_the_payload_constants_and_the_record() {
    let event = apply(
        json!({"eventName": {"path": "/action"}, "eventSource": {"const": "shop"},
               "userIdentity.type": {"const": "User"}, "userIdentity.principalId": {"path": "/who/0"},
               "userAgent": {"record": "messageGroupId"}, "errorCode": {"path": "/code"}}),
        r#"{"action": "Buy", "who": ["ann"], "code": 404}"#,
    )
    .unwrap();
    assert_eq!(
        event,
        json!({"version": "1.0", "eventName": "Buy", "eventSource": "shop", "userIdentity": {"type": "User", "principalId": "ann"},
               "userAgent": "tenant-a", "errorCode": "404", "recipientAccountId": "123456789012", "UID": "m-1",
               "eventTime": "2025-11-26T04:00:00Z"})
    );
}

#[test]
fn times_are_normalised_and_a_bad_one_is_named() {
    let mapping = json!({"eventTime": {"path": "/at"}});
    assert_eq!(
        apply(mapping.clone(), r#"{"at": "2026-11-26T05:00:00.5+01:00"}"#).unwrap()["eventTime"],
        "2026-11-26T04:00:00Z"
    );
    assert_eq!(apply(mapping.clone(), r#"{"at": 1764129600}"#).unwrap()["eventTime"], "2025-11-26T04:00:00Z");
    assert_eq!(
        apply(mapping, r#"{"at": "2026-02-30T00:00:00Z"}"#),
        Err(Rejection::BadMappedTime { field: "eventTime" })
    );
}

#[test]
fn a_required_field_that_finds_nothing_rejects_and_an_optional_one_is_left_out() {
    assert_eq!(
        apply(json!({"eventName": {"path": "/missing"}}), "{}"),
        Err(Rejection::MappedValueMissing { field: "eventName", from: "the payload" })
    );
    assert_eq!(
        apply(json!({"eventName": {"path": "/n"}}), r#"{"n": null}"#),
        Err(Rejection::MappedValueMissing { field: "eventName", from: "the payload" })
    );
    let event = apply(json!({"userAgent": {"path": "/agent"}}), "{}").unwrap();
    assert_eq!(event["eventName"], "n");
    assert!(event.get("userAgent").is_none());
    assert_eq!(
        apply(json!({"UID": {"record": "sequenceNumber"}}), "{}"),
        Err(Rejection::MappedValueMissing { field: "UID", from: "the record" })
    );
}

#[test]
fn the_payload_is_kept_whole_only_when_it_is_an_object() {
    let mapping = json!({"keepPayload": "requestParameters"});
    assert_eq!(apply(mapping.clone(), r#"{"a": [1]}"#).unwrap()["requestParameters"], json!({"a": [1]}));
    assert_eq!(apply(mapping, "[1]"), Err(Rejection::KeptPayloadNotObject { field: "requestParameters" }));
}

#[test]
fn plain_text_is_a_string_and_broken_json_is_rejected() {
    let event = apply(json!({"errorMessage": {"path": ""}}), "disk full on /dev/sda").unwrap();
    assert_eq!(event["errorMessage"], "disk full on /dev/sda");
    assert!(matches!(apply(json!({}), "{\"a\": "), Err(Rejection::NotJson { .. })));
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(matches!(apply(json!({}), &deep), Err(Rejection::NotJson { .. })));
}

#[test]
fn objects_where_strings_belong_are_refused() {
    assert_eq!(
        apply(json!({"eventName": {"path": "/a"}}), r#"{"a": {"b": 1}}"#),
        Err(Rejection::WrongType { field: "eventName", expected: "a string", found: "an object" })
    );
}

#[test]
fn bad_mappings_name_their_entry() {
    let cases = [
        (r#"{"eventNme": {"path": "/a"}}"#, "eventNme"),
        (r#"{"eventName": "/a"}"#, "eventName"),
        (r#"{"eventName": {"path": "a"}}"#, "eventName"),
        (r#"{"eventName": {"path": "/a", "const": 1}}"#, "eventName"),
        (r#"{"UID": {"record": "receiptHandle"}}"#, "UID"),
        (r#"{"keepPayload": "userAgent"}"#, "keepPayload"),
        (r#"{"keepPayload": "requestParameters", "requestParameters": {"path": ""}}"#, "requestParameters"),
    ];
    for (text, entry) in cases {
        assert_eq!(Mapping::parse(text).unwrap_err().entry, entry, "{text}");
    }
    assert!(Mapping::parse("[]").unwrap_err().to_string().starts_with("the mapping is not a JSON object"));
}

#[test]
fn a_mapping_that_leaves_a_required_field_without_a_source_is_refused_at_cold_start() {
    let error = Mapping::parse(r#"{"eventSource": {"const": "s"}}"#).unwrap_err();
    assert_eq!(error.entry, "userIdentity.type");
    assert!(error.problem.contains("userIdentity.type, userIdentity.principalId, eventName"), "{error}");
    assert!(
        Mapping::parse(&complete(json!({})).to_string()).is_ok(),
        "version, account, UID and time have defaults"
    );
}

#[test]
fn the_kept_payload_is_its_own_text_byte_for_byte() {
    let payload =
        r#"{"big": 12345678901234567890123, "a": 0.1000000000000000055511151231257827, "dup": 1, "dup": 2}"#;
    let text = apply_text(json!({"keepPayload": "requestParameters"}), payload).unwrap();
    assert!(text.ends_with(&format!(r#","requestParameters":{payload}}}"#)), "{text}");
}

#[test]
fn a_number_too_large_for_its_digits_is_refused_where_text_is_mapped_from_it() {
    assert_eq!(
        apply(json!({"UID": {"path": "/id"}}), r#"{"id": 12345678901234567890001}"#),
        Err(Rejection::ImpreciseNumber { field: "UID" })
    );
    assert_eq!(
        apply(json!({"UID": {"path": "/id"}}), r#"{"id": 9007199254740993}"#).unwrap()["UID"],
        "9007199254740993"
    );
    assert_eq!(apply(json!({"errorCode": {"path": "/c"}}), r#"{"c": 1.5}"#).unwrap()["errorCode"], "1.5");
}

#[test]
fn an_envelope_entry_must_name_a_field() {
    let error = Mapping::parse(&complete(json!({"userAgent": {"envelope": ""}})).to_string()).unwrap_err();
    assert_eq!(error.entry, "userAgent");
}

#[test]
fn a_pointer_with_an_escape_rfc_6901_does_not_allow_is_refused_naming_its_entry_and_pointer() {
    for (entry, origin, pointer) in [
        ("userAgent", "path", "/a~2b"),
        ("userAgent", "path", "/a~"),
        ("errorCode", "path", "/a/~~0"),
        ("userAgent", "envelope", "/source~x"),
    ] {
        let mapping = complete(json!({ entry: { origin: pointer } }));
        let error = Mapping::parse(&mapping.to_string()).unwrap_err();
        assert_eq!(error.entry, entry, "{pointer}");
        let message = error.to_string();
        assert!(message.contains(&format!("{pointer:?}")), "{message}");
        assert!(message.contains("~ must be followed by 0 or 1"), "{message}");
    }
}

#[test]
fn the_escapes_rfc_6901_allows_find_keys_with_a_slash_or_a_tilde() {
    let event = apply(
        json!({"userAgent": {"path": "/a~1b"}, "errorCode": {"path": "/c~0d"}, "errorMessage": {"path": "/e~01"}}),
        r#"{"a/b": "slash", "c~d": "tilde", "e~1": "both"}"#,
    )
    .unwrap();
    assert_eq!(
        (&event["userAgent"], &event["errorCode"], &event["errorMessage"]),
        (&json!("slash"), &json!("tilde"), &json!("both"))
    );
}

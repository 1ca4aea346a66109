//! The integration-schema check, one rule a row.

use super::*;
use crate::event::{audit_event_id, checksum, schema_event, AuditEvent};
use crate::lambda::ItemIdentifier;
use crate::send::body;
use crate::send::plan::MAX_REQUEST_BYTES;
use serde_json::{json, Value};

fn valid() -> Value {
    json!({
        "version": "1.0",
        "userIdentity": {"type": "ApplicationUser", "principalId": "alice", "details": {"team": "a"}},
        "eventSource": "app.example.com",
        "eventName": "Login",
        "eventTime": "2026-11-26T04:00:00Z",
        "UID": "u-1",
        "recipientAccountId": "123456789012",
        "userAgent": "cli/1.0",
        "requestParameters": {"nested": [1, 2, {"deep": true}]},
    })
}

fn with(field: &str, value: Value) -> String {
    let mut event = valid();
    event[field] = value;
    event.to_string()
}

fn without(field: &str) -> String {
    let mut event = valid();
    event.as_object_mut().unwrap().remove(field);
    event.to_string()
}

fn id() -> ItemIdentifier {
    ItemIdentifier::from("0f8c2a4e-4c4e-4a8f-9d8a-3b1f6b2a7c11".to_owned())
}

/// A record's payload as an audit event once it passed the schema check, as a record of
/// schema events becomes one.
fn audit_event(
    item_identifier: Option<&ItemIdentifier>,
    event_data: String,
) -> Result<AuditEvent, Rejection> {
    check_schema(&event_data)?;
    let id = item_identifier.map(audit_event_id).unwrap_or_else(|| crate::event::payload_id(&event_data));
    schema_event(id, event_data)
}

fn rejection(text: &str) -> Option<Rejection> {
    audit_event(Some(&id()), text.to_owned()).err()
}

#[test]
fn a_valid_event_is_sent_unchanged_with_its_checksum() {
    let text = valid().to_string();
    let event = audit_event(Some(&id()), text.clone()).unwrap();
    assert_eq!(event.event_data, text);
    assert_eq!(event.id, "0f8c2a4e-4c4e-4a8f-9d8a-3b1f6b2a7c11");
    assert_eq!(event.checksum, checksum(&text));
    assert_eq!(event.encoded_len, body::encoded_event_len(&event.id, &text));
}

#[test]
fn each_schema_rule_has_its_own_reason() {
    let cases: Vec<(String, Rejection)> = vec![
        (
            "Hello from SQS!".into(),
            Rejection::NotJson { line: 1, column: 1, problem: "expected value".into() },
        ),
        ("\"text\"".into(), Rejection::NotAnObject { found: "a string" }),
        ("[1]".into(), Rejection::NotAnObject { found: "an array" }),
        ("null".into(), Rejection::NotAnObject { found: "null" }),
        (
            "{} trailing".into(),
            Rejection::NotJson { line: 1, column: 4, problem: "trailing characters".into() },
        ),
        (without("version"), Rejection::MissingField { field: "version" }),
        (without("UID"), Rejection::MissingField { field: "UID" }),
        (with("UID", json!("")), Rejection::EmptyField { field: "UID" }),
        (
            with("userIdentity", json!({"type": "T", "principalId": ""})),
            Rejection::EmptyField { field: "userIdentity.principalId" },
        ),
        (without("userIdentity"), Rejection::MissingField { field: "userIdentity" }),
        (
            with("eventName", json!(7)),
            Rejection::WrongType { field: "eventName", expected: "a string", found: "a number" },
        ),
        (
            with("userIdentity", json!("alice")),
            Rejection::WrongType { field: "userIdentity", expected: "an object", found: "a string" },
        ),
        (
            with("userIdentity", json!({"type": "T"})),
            Rejection::MissingField { field: "userIdentity.principalId" },
        ),
        (
            with("userIdentity", json!({"type": "x".repeat(129), "principalId": "p"})),
            Rejection::TooLong { field: "userIdentity.type", limit: 128, length: 129 },
        ),
        (
            with("version", json!("é".repeat(257))),
            Rejection::TooLong { field: "version", limit: 256, length: 257 },
        ),
        (
            with("errorCode", json!("e".repeat(257))),
            Rejection::TooLong { field: "errorCode", limit: 256, length: 257 },
        ),
        (with("eventTime", json!("2026-11-26 04:00:00")), Rejection::BadEventTime),
        (with("eventTime", json!("2026-13-26T04:00:00Z")), Rejection::BadEventTime),
        (with("eventTime", json!("2026-11-26T04:00:00.123Z")), Rejection::BadEventTime),
        (with("recipientAccountId", json!("12345678901")), Rejection::BadRecipientAccountId),
        (with("recipientAccountId", json!("12345678901a")), Rejection::BadRecipientAccountId),
        (r#"{"UID":"a","UID":"b"}"#.into(), Rejection::DuplicateField { field: "UID" }),
        (with("eventTime", json!("2026-02-30T04:00:00Z")), Rejection::BadEventTime),
        (with("eventTime", json!("2025-02-29T04:00:00Z")), Rejection::BadEventTime),
        (
            with("requestParameters", json!([1])),
            Rejection::WrongType { field: "requestParameters", expected: "an object", found: "an array" },
        ),
        (
            with("responseElements", json!("ok")),
            Rejection::WrongType { field: "responseElements", expected: "an object", found: "a string" },
        ),
        (
            with("userIdentity", json!({"type": "T", "principalId": "p", "details": 7})),
            Rejection::WrongType { field: "userIdentity.details", expected: "an object", found: "a number" },
        ),
        (
            with("requestParameters", json!({"p": "x".repeat(100 * 1024)})),
            Rejection::FieldTooLarge { field: "requestParameters", limit: 100 * 1024, bytes: 100 * 1024 + 8 },
        ),
        (
            with("additionalEventData", json!({"p": "x".repeat(28 * 1024)})),
            Rejection::FieldTooLarge { field: "additionalEventData", limit: 28 * 1024, bytes: 28 * 1024 + 8 },
        ),
        (with("sourceIPAddress", json!("10.0.0.300")), Rejection::BadSourceIpAddress),
        (with("sourceIPAddress", json!("example.com")), Rejection::BadSourceIpAddress),
        (
            r#"{"requestParameters":{},"requestParameters":{}}"#.into(),
            Rejection::DuplicateField { field: "requestParameters" },
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(rejection(&text), Some(expected), "{text:.80}");
    }
}

#[test]
fn optional_fields_may_be_absent_or_null_and_unknown_fields_are_kept() {
    assert_eq!(rejection(&without("userAgent")), None);
    assert_eq!(rejection(&with("errorMessage", Value::Null)), None);
    assert_eq!(rejection(&with("somethingElse", json!({"any": ["thing"]}))), None);
    assert_eq!(rejection(&with("requestParameters", Value::Null)), None);
}

#[test]
fn objects_at_their_limit_and_addresses_of_both_families_pass() {
    // {"p":"…"} is 8 bytes around the padding.
    assert_eq!(rejection(&with("requestParameters", json!({"p": "x".repeat(100 * 1024 - 8)}))), None);
    assert_eq!(rejection(&with("additionalEventData", json!({"p": "x".repeat(28 * 1024 - 8)}))), None);
    for address in ["192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1"] {
        assert_eq!(rejection(&with("sourceIPAddress", json!(address))), None, "{address}");
    }
    assert_eq!(rejection(&with("eventTime", json!("2024-02-29T23:59:59Z"))), None);
}

#[test]
fn escaped_strings_are_measured_after_unescaping() {
    // 256 characters written as 1,536 bytes of escapes are within the limit; one more is not.
    let escaped = |count: usize| {
        let text = with("version", json!("VERSION"));
        text.replace("\"VERSION\"", &format!("\"{}\"", "\\u00e9".repeat(count)))
    };
    assert_eq!(rejection(&escaped(256)), None);
    assert_eq!(
        rejection(&escaped(257)),
        Some(Rejection::TooLong { field: "version", limit: 256, length: 257 })
    );
}

#[test]
fn an_event_too_large_for_any_request_once_escaped_is_rejected() {
    // 500,000 quotes are 1,000,000 bytes once escaped in a request body.
    let text = format!("{{\"padding\":\"{}\"}}", "\"".repeat(500_000));
    let rejection = schema_event("m-1".into(), text).err();
    assert!(matches!(rejection, Some(Rejection::TooLarge { bytes }) if bytes > MAX_REQUEST_BYTES));
}

#[test]
fn rejection_messages_never_carry_the_payload() {
    let secret = "s3cr3t-value-of-alice";
    let payloads = [
        secret.to_string(),
        format!("\"{secret}\""),
        with("eventName", json!({"x": secret})),
        with("eventTime", json!(secret)),
        with("recipientAccountId", json!(secret)),
        format!("{{\"{secret}\": 1, \"version\": [\"{secret}\"]}}"),
        format!("{{\"version\": \"{secret}\\q\"}}"),
    ];
    for payload in payloads {
        let reason = rejection(&payload).expect("rejected").to_string();
        assert!(!reason.contains(secret), "{reason}");
    }
}

#[test]
fn one_field_is_judged_by_the_rule_the_whole_event_is_judged_by() {
    let large = json!({"a": "x".repeat(100 * 1024)});
    let cases = [
        ("sourceIPAddress", json!("192.0.2.1"), Ok(())),
        ("sourceIPAddress", json!("2001:db8::1"), Ok(())),
        ("sourceIPAddress", json!("10.0.0.0/8"), Err(Rejection::BadSourceIpAddress)),
        ("sourceIPAddress", json!("gce-internal-ip"), Err(Rejection::BadSourceIpAddress)),
        (
            "userAgent",
            json!("a".repeat(1025)),
            Err(Rejection::TooLong { field: "userAgent", limit: 1024, length: 1025 }),
        ),
        ("errorCode", json!(""), Ok(())),
        ("errorCode", json!(404), Err(wrong_type("errorCode", "a string", "a number"))),
        ("requestParameters", json!([1]), Err(wrong_type("requestParameters", "an object", "an array"))),
        (
            "requestParameters",
            large.clone(),
            Err(Rejection::FieldTooLarge {
                field: "requestParameters",
                limit: 100 * 1024,
                bytes: large.to_string().len(),
            }),
        ),
        ("eventTime", json!("2026-02-30T00:00:00Z"), Err(Rejection::BadEventTime)),
        ("recipientAccountId", json!("12345"), Err(Rejection::BadRecipientAccountId)),
        ("UID", json!(""), Err(Rejection::EmptyField { field: "UID" })),
        (
            "userIdentity.principalId",
            json!(""),
            Err(Rejection::EmptyField { field: "userIdentity.principalId" }),
        ),
        (
            "userIdentity.details",
            json!("x"),
            Err(wrong_type("userIdentity.details", "an object", "a string")),
        ),
        ("userIdentity.details", json!({"org": "o"}), Ok(())),
    ];
    for (field, value, expected) in cases {
        assert_eq!(check_value(field, &value), expected, "{field}: {value}");
        let mut event = valid();
        match field.strip_prefix("userIdentity.") {
            Some(child) => event["userIdentity"][child] = value.clone(),
            None => event[field] = value.clone(),
        }
        assert_eq!(check_schema(&event.to_string()), expected, "the whole event, {field}: {value}");
    }
}

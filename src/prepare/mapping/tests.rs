//! The mapping, one behaviour a test: what each origin reads, the defaults, the refusals.
//! Conditions, hashes and empty values, which the presets for third-party audit logs need, are
//! in `tests/choices.rs`.

mod choices;

use super::*;
use crate::lambda::{ItemIdentifier, Payload};
use crate::prepare::schema;
use crate::rejection::Rejection;
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
    mapped(mapping, payload).map(|mapped| mapped.event_data)
}

fn mapped(mapping: Value, payload: &str) -> Result<Mapped, Rejection> {
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

#[test]
fn several_paths_are_tried_in_order_and_the_first_value_found_is_used() {
    let mapping = json!({"eventName": {"path": ["/action", "/event/name", "/type"]}});
    let cases = [
        (r#"{"action": "a", "type": "t"}"#, Ok("a")),
        (r#"{"action": null, "event": {"name": "n"}, "type": "t"}"#, Ok("n")),
        (r#"{"type": "t"}"#, Ok("t")),
        (r#"{"type": 7}"#, Ok("7")),
        ("{}", Err(Rejection::MappedValueMissing { field: "eventName", from: "the payload" })),
        // The first value found is the value, even one the field cannot take: a later path is
        // another name for the same thing, not a way around a wrong one.
        (
            r#"{"action": {"b": 1}, "type": "t"}"#,
            Err(Rejection::WrongType { field: "eventName", expected: "a string", found: "an object" }),
        ),
    ];
    for (payload, expected) in cases {
        let found = apply(mapping.clone(), payload).map(|event| event["eventName"].clone());
        assert_eq!(found, expected.map(Value::from), "{payload}");
    }
}

#[test]
fn an_optional_field_is_left_out_when_it_is_absent_or_the_schema_refuses_its_value() {
    let cases = [
        ("sourceIPAddress", r#""192.0.2.1""#, Some(json!("192.0.2.1"))),
        ("sourceIPAddress", r#""2001:db8::1""#, Some(json!("2001:db8::1"))),
        ("sourceIPAddress", r#""10.0.0.0/8""#, None),
        ("sourceIPAddress", r#""private""#, None),
        ("sourceIPAddress", r#""2001:db8:::1""#, None),
        ("sourceIPAddress", "null", None),
        ("userAgent", &format!("{:?}", "a".repeat(1025)), None),
        ("userAgent", r#""cli/1.0""#, Some(json!("cli/1.0"))),
        ("errorCode", r#"{"code": 1}"#, None),
        ("errorCode", "12345678901234567890001", None),
        ("requestParameters", "[1]", None),
        ("requestParameters", r#"{"a": 1}"#, Some(json!({"a": 1}))),
        ("userIdentity.details", r#""team-a""#, None),
    ];
    for (field, value, expected) in cases {
        let event =
            apply(json!({ field: {"path": "/v", "optional": true} }), &format!(r#"{{"v": {value}}}"#))
                .unwrap();
        let found = match field.split_once('.') {
            Some((parent, child)) => event[parent].get(child).cloned(),
            None => event.get(field).cloned(),
        };
        assert_eq!(found, expected, "{field}: {value}");
        assert_eq!(schema::check_schema(&event.to_string()), Ok(()), "{field}: {value}");
    }
    assert!(apply(json!({"userAgent": {"path": "/v", "optional": true}}), "{}")
        .unwrap()
        .get("userAgent")
        .is_none());
}

#[test]
fn a_field_not_marked_optional_still_rejects_a_value_the_schema_refuses() {
    let event = apply_text(json!({"sourceIPAddress": {"path": "/ip"}}), r#"{"ip": "private"}"#).unwrap();
    assert_eq!(schema::check_schema(&event), Err(Rejection::BadSourceIpAddress));
    assert_eq!(
        apply(json!({"errorCode": {"path": "/c"}}), r#"{"c": [1]}"#),
        Err(Rejection::WrongType { field: "errorCode", expected: "a string", found: "an array" })
    );
}

#[test]
fn members_build_an_object_field_and_those_that_find_nothing_are_left_out() {
    let event = apply(
        json!({"userIdentity.details.org": {"path": "/org"}, "userIdentity.details.repo": {"path": "/repo"},
               "userIdentity.details.bot": {"path": "/bot"}, "additionalEventData.tenant": {"const": "a"}}),
        r#"{"org": "example-org", "bot": false, "repo": null}"#,
    )
    .unwrap();
    assert_eq!(
        event["userIdentity"],
        json!({"type": "t", "principalId": "p", "details": {"org": "example-org", "bot": false}})
    );
    assert_eq!(event["additionalEventData"], json!({"tenant": "a"}));
    let event = apply(json!({"userIdentity.details.org": {"path": "/org"}}), "{}").unwrap();
    assert_eq!(event["userIdentity"], json!({"type": "t", "principalId": "p"}));
}

#[test]
fn a_missing_principal_takes_its_default_and_the_details_say_so() {
    let mapping = json!({"userIdentity.principalId": {"path": "/actor", "default": "unknown"},
                         "userIdentity.details.org": {"path": "/org"}});
    let cases = [
        (
            r#"{"actor": "octocat", "org": "o"}"#,
            json!({"type": "t", "principalId": "octocat", "details": {"org": "o"}}),
        ),
        (
            r#"{"org": "o"}"#,
            json!({"type": "t", "principalId": "unknown", "details": {"org": "o", "defaulted": ["principalId"]}}),
        ),
        (
            r#"{"actor": null}"#,
            json!({"type": "t", "principalId": "unknown", "details": {"defaulted": ["principalId"]}}),
        ),
    ];
    for (payload, identity) in cases {
        assert_eq!(apply(mapping.clone(), payload).unwrap()["userIdentity"], identity, "{payload}");
    }
    let both = json!({"userIdentity.type": {"path": "/kind", "default": "Unknown"},
                      "userIdentity.principalId": {"path": "/actor", "default": "unknown"}});
    assert_eq!(
        apply(both, "{}").unwrap()["userIdentity"],
        json!({"type": "Unknown", "principalId": "unknown", "details": {"defaulted": ["principalId", "type"]}})
    );
}

#[test]
fn the_id_comes_from_the_payload_as_it_is_when_it_fits_the_service_pattern_and_hashed_when_not() {
    let mapping = json!({"id": {"path": ["/_document_id", "/other_id"]}});
    let hashed = |id: &str| Some(crate::event::sha256_id(id.as_bytes()));
    let long = "a".repeat(129);
    let cases = [
        (
            r#"{"_document_id": "Nm4EoecTsz6kAS-87bAEfA"}"#.to_owned(),
            Some("Nm4EoecTsz6kAS-87bAEfA".to_owned()),
        ),
        (r#"{"other_id": "o_1"}"#.to_owned(), Some("o_1".to_owned())),
        (r#"{"_document_id": 12345}"#.to_owned(), Some("12345".to_owned())),
        (r#"{"_document_id": "a+b/c=="}"#.to_owned(), hashed("a+b/c==")),
        (format!(r#"{{"_document_id": "{long}"}}"#), hashed(&long)),
        (r#"{"_document_id": "", "other_id": "o_1"}"#.to_owned(), Some("o_1".to_owned())),
        (r#"{"_document_id": 1.5}"#.to_owned(), None),
        (r#"{"_document_id": 12345678901234567890001}"#.to_owned(), None),
        (r#"{"_document_id": {"id": "x"}}"#.to_owned(), None),
        ("{}".to_owned(), None),
    ];
    for (payload, expected) in cases {
        let first = mapped(mapping.clone(), &payload).unwrap();
        assert_eq!(first.id, expected, "{payload}");
        assert_eq!(
            mapped(mapping.clone(), &payload).unwrap(),
            first,
            "the same on every delivery: {payload}"
        );
    }
    assert_eq!(mapped(json!({}), r#"{"_document_id": "d"}"#).unwrap().id, None, "no id entry, no id");
}

#[test]
fn entries_that_cannot_work_are_refused_at_cold_start_naming_the_entry() {
    let cases = [
        (json!({"eventName": {"path": []}}), "eventName", "at least one"),
        (json!({"eventName": {"path": ["/a", 1]}}), "eventName", "JSON Pointer"),
        (json!({"eventName": {"path": ["a"]}}), "eventName", "JSON Pointer"),
        (json!({"eventName": {"path": "/a", "optional": true}}), "eventName", "eventName is required"),
        (json!({"userAgent": {"path": "/a", "optional": "yes"}}), "userAgent", "true or false"),
        (json!({"userAgent": {"path": "/a", "fallback": "/b"}}), "userAgent", "\"fallback\" has no meaning"),
        (json!({"eventName": {"path": "/a", "default": "x"}}), "eventName", "default is only for"),
        (json!({"userAgent": {"path": "/a", "default": "x"}}), "userAgent", "default is only for"),
        (
            json!({"userIdentity.details.org": {"path": "/o", "default": "x"}}),
            "userIdentity.details.org",
            "default is only for",
        ),
        (
            json!({"userIdentity.principalId": {"path": "/a", "default": null}}),
            "userIdentity.principalId",
            "not null",
        ),
        (
            json!({"userIdentity.principalId": {"path": "/a", "default": ""}}),
            "userIdentity.principalId",
            "not a valid",
        ),
        (
            json!({"userIdentity.principalId": {"path": "/a", "default": {"a": 1}}}),
            "userIdentity.principalId",
            "not a valid",
        ),
        (
            json!({"userIdentity.principalId": {"const": "p", "default": "x"}}),
            "userIdentity.principalId",
            "needs no default",
        ),
        (json!({"id": {"const": "same"}}), "id", "same id"),
        (json!({"id": {"path": "/id", "optional": true}}), "id", "neither optional, default nor when"),
        (
            json!({"userIdentity.details.defaulted": {"path": "/d"}}),
            "userIdentity.details.defaulted",
            "marks a default",
        ),
        (
            json!({"userIdentity.details": {"path": "/d"}, "userIdentity.details.org": {"path": "/o"}}),
            "userIdentity.details",
            "both whole and by members",
        ),
        (
            json!({"keepPayload": "requestParameters", "requestParameters.a": {"path": "/a"}}),
            "requestParameters",
            "keepPayload already",
        ),
        (
            json!({"userIdentity.details": {"path": "/d"}, "userIdentity.principalId": {"path": "/a", "default": "u"}}),
            "userIdentity.details",
            "set its members one by one",
        ),
        (json!({"userIdentity.details.": {"path": "/o"}}), "userIdentity.details.", "not a schema field"),
    ];
    for (mapping, entry, problem) in cases {
        let error = Mapping::parse(&complete(mapping.clone()).to_string()).unwrap_err();
        assert_eq!(error.entry, entry, "{mapping}");
        assert!(error.problem.contains(problem), "{mapping}: {error}");
    }
}

//! What the presets for third-party audit logs ask of the language: a field set only when a
//! condition holds (`when`), an id hashed from several values (`hash`), and `""` read as no
//! value, as sources write it.

use super::*;

#[test]
fn a_field_with_when_is_set_only_when_its_condition_holds() {
    let mapping = json!({
        "errorCode": {"path": "/outcome/result", "when": {"path": "/outcome/result", "in": ["DENY", "FAILURE"]}},
        "errorMessage": {"path": "/outcome/reason", "optional": true,
                         "when": {"path": "/outcome/result", "in": ["DENY", "FAILURE"]}},
        "additionalEventData.denied": {"const": true, "when": {"path": "/outcome/result", "in": ["DENY"]}}});
    let denied =
        apply(mapping.clone(), r#"{"outcome": {"result": "DENY", "reason": "Sign-on policy"}}"#).unwrap();
    assert_eq!(
        (&denied["errorCode"], &denied["errorMessage"], &denied["additionalEventData"]),
        (&json!("DENY"), &json!("Sign-on policy"), &json!({"denied": true}))
    );
    let failed = apply(mapping.clone(), r#"{"outcome": {"result": "FAILURE", "reason": null}}"#).unwrap();
    assert_eq!((&failed["errorCode"], failed.get("errorMessage")), (&json!("FAILURE"), None));
    for payload in [r#"{"outcome": {"result": "SUCCESS", "reason": null}}"#, r#"{"outcome": {}}"#, "{}"] {
        let event = apply(mapping.clone(), payload).unwrap();
        let errors = ["errorCode", "errorMessage", "additionalEventData"].map(|field| event.get(field));
        assert_eq!(errors, [None, None, None], "{payload}");
    }
}

#[test]
fn when_is_refused_on_a_required_field_and_on_the_id() {
    for (mapping, entry) in [
        (json!({"eventName": {"path": "/a", "when": {"path": "/a", "in": ["x"]}}}), "eventName"),
        (json!({"id": {"path": "/a", "when": {"path": "/a", "in": ["x"]}}}), "id"),
        (json!({"errorCode": {"path": "/a", "when": {"path": "/a"}}}), "errorCode"),
    ] {
        let error = Mapping::parse(&complete(mapping.clone()).to_string()).unwrap_err();
        assert_eq!(error.entry, entry, "{mapping}");
    }
}

#[test]
fn a_hash_is_of_every_value_it_names_and_of_nothing_when_one_is_missing() {
    let mapping = json!({"UID": {"hash": ["/logName", "/timestamp", "/insertId"]},
                         "id": {"hash": ["/logName", "/timestamp", "/insertId"]}});
    let entry = r#"{"logName": "projects/p/logs/cloudaudit.googleapis.com%2Factivity",
                    "timestamp": "2024-05-01T12:00:00.123456789Z", "insertId": "1abc"}"#;
    let expected = crate::event::sha256_id(
        br#"["projects/p/logs/cloudaudit.googleapis.com%2Factivity","2024-05-01T12:00:00.123456789Z","1abc"]"#,
    );
    let first = mapped(mapping.clone(), entry).unwrap();
    assert_eq!(first.id.as_deref(), Some(expected.as_str()));
    let event: Value = serde_json::from_str(&first.event_data).unwrap();
    assert_eq!(event["UID"], json!(expected));
    let other_log = entry.replace("activity", "data_access");
    assert_ne!(mapped(mapping.clone(), &other_log).unwrap().id, first.id, "the same insertId in another log");
    let without_insert_id = r#"{"logName": "l", "timestamp": "t"}"#;
    assert_eq!(
        mapped(mapping, without_insert_id),
        Err(Rejection::MappedValueMissing { field: "UID", from: "the payload" }),
        "a partial key would give distinct entries one id"
    );
}

#[test]
fn a_hash_of_the_whole_record_is_the_same_for_the_record_however_it_is_written() {
    let mapping = json!({"id": {"hash": ""}});
    let line =
        r#"{"time":"2019-01-21T22:14:26.9792776Z","operationName":"MICROSOFT.SUPPORT/SUPPORTTICKETS/WRITE"}"#;
    let pretty = "{\n  \"operationName\": \"MICROSOFT.SUPPORT/SUPPORTTICKETS/WRITE\",\n  \"time\": \"2019-01-21T22:14:26.9792776Z\"\n}";
    let id = mapped(mapping.clone(), line).unwrap().id;
    assert!(id.as_deref().is_some_and(|id| id.starts_with("sha256-")), "{id:?}");
    assert_eq!(mapped(mapping.clone(), pretty).unwrap().id, id);
    assert_ne!(mapped(mapping, &line.replace("26.97", "26.98")).unwrap().id, id);
}

#[test]
fn an_empty_string_is_no_value_and_the_next_path_is_tried() {
    let mapping = json!({"sourceIPAddress": {"path": ["/user/ipAddress", "/callerIpAddress"], "optional": true},
                         "errorMessage": {"path": "/resultReason", "optional": true}});
    let event = apply(
        mapping.clone(),
        r#"{"user": {"ipAddress": ""}, "callerIpAddress": "192.0.2.7", "resultReason": ""}"#,
    )
    .unwrap();
    assert_eq!((&event["sourceIPAddress"], event.get("errorMessage")), (&json!("192.0.2.7"), None));
    assert_eq!(
        apply(json!({"eventName": {"path": "/action"}}), r#"{"action": ""}"#),
        Err(Rejection::MappedValueMissing { field: "eventName", from: "the payload" })
    );
}

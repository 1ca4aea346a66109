//! `preset:gcp-audit`: Google Cloud Audit Logs LogEntry records as a Cloud Storage log sink
//! writes them (hourly JSON Lines files), copied to S3.

use serde_json::{json, Value};

use crate::harness::{check, fixture, forward_object, forwarder, gzip_lines, stands};

#[tokio::test]
async fn an_instance_insert_with_nanoseconds_and_an_empty_status_is_a_success() {
    check("gcp-audit", "instance-insert").await;
}

#[tokio::test]
async fn a_permission_denied_read_has_code_7_as_its_error() {
    check("gcp-audit", "permission-denied").await;
}

#[tokio::test]
async fn a_federated_principal_with_no_email_is_its_subject_and_private_is_no_address() {
    check("gcp-audit", "principal-subject-no-email").await;
}

#[tokio::test]
async fn a_system_event_with_no_actor_is_the_marked_unknown_and_a_status_message_alone_no_error() {
    check("gcp-audit", "system-event-no-actor").await;
}

#[tokio::test]
async fn a_service_account_from_gce_internal_ip_has_no_source_address() {
    check("gcp-audit", "service-account-gce-internal-ip").await;
}

/// `insertId` is unique only within its log and timestamp: the same one in two logs is two
/// events, and the hash of all three tells them apart.
#[tokio::test]
async fn the_same_insert_id_in_two_logs_is_two_audit_events() {
    let activity = fixture("gcp-audit", "instance-insert");
    let data_access = activity.replace("%2Factivity", "%2Fdata_access");
    let stands = stands().await;
    let key = "cloudaudit.googleapis.com/activity/2024/05/01/12:00:00_12:59:59_S0.json";
    let reported = forward_object(
        &stands,
        &forwarder(&stands, "gcp-audit"),
        key,
        gzip_lines(&[&activity, &data_access]),
    )
    .await;
    assert_eq!(reported, Vec::<String>::new());
    let stored = stands.cloudtrail.stored();
    assert_eq!(stored.len(), 2);
    assert_ne!(stored[0].id, stored[1].id);
    let uids: Vec<Value> = stored
        .iter()
        .map(|event| serde_json::from_str::<Value>(&event.event_data).unwrap()["UID"].clone())
        .collect();
    assert_eq!(uids, [json!("-x0a1b2c3d4e5"), json!("-x0a1b2c3d4e5")], "UID is Google's insertId");
}

#[tokio::test]
async fn an_entry_too_large_to_keep_whole_is_rejected_never_truncated_and_a_non_audit_entry_too() {
    let mut large: Value = serde_json::from_str(&fixture("gcp-audit", "instance-insert")).unwrap();
    large["protoPayload"]["response"]["padding"] = json!("x".repeat(100 * 1024));
    let not_audit = json!({"insertId": "t1", "logName": "projects/example-prod/logs/syslog",
                           "textPayload": "kernel: eth0 up", "timestamp": "2024-05-01T12:00:00Z"});
    let good = fixture("gcp-audit", "permission-denied");
    let stands = stands().await;
    let lines = [large.to_string(), not_audit.to_string(), good];
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let reported =
        forward_object(&stands, &forwarder(&stands, "gcp-audit"), "sink.json", gzip_lines(&lines)).await;
    assert_eq!(reported, Vec::<String>::new());
    let stored = stands.cloudtrail.stored();
    assert_eq!(stored.len(), 1, "only the entry that fits and is an audit log");
    assert!(stored[0].event_data.contains("storage.objects.get"));
}

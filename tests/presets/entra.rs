//! `preset:entra`: Microsoft Entra ID audit logs (category `AuditLogs`) as diagnostic settings
//! write them to a storage account, copied to S3: JSON Lines, and the older `{"records": [...]}`.

use crate::harness::{check, fixture, forward_object, forwarder, gzip_lines, stands, stored_ids};

#[tokio::test]
async fn a_user_adding_a_user_is_theirs_with_their_address_though_identity_is_a_string() {
    check("entra", "add-user-by-user").await;
}

#[tokio::test]
async fn an_app_initiated_change_is_the_service_principals_from_the_callers_address() {
    check("entra", "app-adds-credentials").await;
}

#[tokio::test]
async fn a_failure_has_its_reason_and_a_malformed_ipv6_caller_is_left_out() {
    check("entra", "failed-add-member-to-role").await;
}

#[tokio::test]
async fn an_empty_user_address_falls_to_the_caller_whose_cidr_is_left_out() {
    check("entra", "user-ip-empty-caller-cidr").await;
}

#[tokio::test]
async fn a_timeout_is_a_failure_and_no_initiator_is_the_marked_unknown_principal() {
    check("entra", "timeout-without-initiator").await;
}

const CASES: [&str; 5] = [
    "add-user-by-user",
    "app-adds-credentials",
    "failed-add-member-to-role",
    "user-ip-empty-caller-cidr",
    "timeout-without-initiator",
];

/// Azure appends to `PT1H.json` all hour, and a transfer copies the blob again as it grows:
/// each copy repeats the lines of the one before, and each line keeps its id.
#[tokio::test]
async fn an_hourly_blob_copied_again_as_it_grows_gives_each_line_the_same_id() {
    let lines: Vec<String> = CASES.iter().map(|case| fixture("entra", case)).collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let stands = stands().await;
    let key = "tenantId=4bbb79f7/y=2024/m=05/d=01/h=09/m=00/PT1H.json";
    for copied in [&lines[..2], &lines[..]] {
        let reported = forward_object(&stands, &forwarder(&stands, "entra"), key, gzip_lines(copied)).await;
        assert_eq!(reported, Vec::<String>::new());
    }
    let ids = stored_ids(&stands);
    assert_eq!(ids.len(), 7);
    assert_eq!(ids[..2], ids[2..4], "the first copy's lines again, under the same ids");
}

#[tokio::test]
async fn the_older_records_form_gives_the_audit_events_json_lines_gives() {
    let lines: Vec<String> = CASES.iter().map(|case| fixture("entra", case)).collect();
    let lines: Vec<&str> = lines.iter().map(|line| line.trim()).collect();
    let blob = format!("{{\"records\": [\n{}\n]}}\n", lines.join(",\n"));
    let mut stored = Vec::new();
    for (key, object) in [("old/PT1H.json", blob.into_bytes()), ("new/PT1H.json", gzip_lines(&lines))] {
        let stands = stands().await;
        let reported = forward_object(&stands, &forwarder(&stands, "entra"), key, object).await;
        assert_eq!(reported, Vec::<String>::new(), "{key}");
        let events = stands.cloudtrail.stored().into_iter();
        stored.push(events.map(|event| (event.id, event.event_data)).collect::<Vec<_>>());
    }
    assert_eq!(stored[0].len(), 5);
    assert_eq!(stored[0], stored[1], "the same ids and eventData from both forms");
}

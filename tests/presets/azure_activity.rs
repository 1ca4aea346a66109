//! `preset:azure-activity`: Azure Activity Log records as diagnostic settings write them to a
//! storage account, copied to S3. A record has no id of its own: its audit event id is the
//! hash of the record, the same in every copy of the blob.

use crate::harness::{check, fixture, forward_object, forwarder, gzip_lines, stands, stored_ids};

#[tokio::test]
async fn a_users_vm_write_is_theirs_with_their_role_and_address() {
    check("azure-activity", "vm-write-start").await;
}

#[tokio::test]
async fn a_denied_role_assignment_has_its_signature_as_error_and_a_message_too_long_left_out() {
    check("azure-activity", "role-assignment-denied").await;
}

#[tokio::test]
async fn a_service_principals_action_from_a_cidr_caller_has_no_source_address() {
    check("azure-activity", "service-principal-cidr-caller").await;
}

#[tokio::test]
async fn a_resource_health_event_with_no_identity_has_the_marked_unknown_principal() {
    check("azure-activity", "resource-health-no-caller").await;
}

/// Microsoft's own sample of the older form: one pretty-printed `{"records": [...]}` object, with
/// evidence that names a role but no principal (the principal is the token's object id).
#[tokio::test]
async fn a_records_blob_as_microsoft_documents_it_is_read_record_by_record() {
    check("azure-activity", "records-blob-support-ticket").await;
}

#[tokio::test]
async fn an_append_blob_copied_again_gives_each_record_the_same_id() {
    let cases = ["vm-write-start", "role-assignment-denied", "service-principal-cidr-caller"];
    let lines: Vec<String> = cases.iter().map(|case| fixture("azure-activity", case)).collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let stands = stands().await;
    let key = "resourceId=/SUBSCRIPTIONS/8A4DE8B5/y=2024/m=05/d=01/h=08/m=00/PT1H.json";
    for copied in [&lines[..1], &lines[..]] {
        let reported =
            forward_object(&stands, &forwarder(&stands, "azure-activity"), key, gzip_lines(copied)).await;
        assert_eq!(reported, Vec::<String>::new());
    }
    let ids = stored_ids(&stands);
    assert_eq!(ids.len(), 4);
    assert_eq!(ids[0], ids[1], "the record copied again keeps its id");
    assert!(ids.iter().all(|id| id.starts_with("sha256-")));
}

/// Elastic's integration meets Activity Log times such as `01/09/2007 09:41:00` with no zone;
/// a time whose zone must be guessed rejects the record, it is never read as some time.
#[tokio::test]
async fn a_time_that_is_not_rfc_3339_rejects_the_record_and_the_rest_of_the_blob_is_sent() {
    let good = fixture("azure-activity", "vm-write-start");
    let bad = good.replace("2024-05-01T08:30:12.6816663Z", "05/01/2024 08:30:12");
    let stands = stands().await;
    let reported = forward_object(
        &stands,
        &forwarder(&stands, "azure-activity"),
        "PT1H.json",
        gzip_lines(&[&bad, &good]),
    )
    .await;
    assert_eq!(reported, Vec::<String>::new(), "a bad record never gets better: the message is done");
    assert_eq!(stands.cloudtrail.stored().len(), 1);
}

//! `preset:cloudtrail`: CloudTrail-format records (`{"Records": [...]}` files) that third
//! parties write, each record's `eventID` its id.

use crate::harness::{check, fixture, forward_object, forwarder, stands};

#[tokio::test]
async fn an_assumed_roles_call_keeps_its_identity_parameters_and_extra_data() {
    check("cloudtrail", "assumed-role-put-bucket-policy").await;
}

#[tokio::test]
async fn a_call_by_an_aws_service_is_the_services_and_a_host_name_is_no_address() {
    check("cloudtrail", "aws-service-assume-role").await;
}

#[tokio::test]
async fn access_denied_keeps_its_code_and_leaves_out_a_message_over_256_characters() {
    check("cloudtrail", "access-denied-long-message").await;
}

#[tokio::test]
async fn a_third_partys_local_time_is_utc_and_an_event_id_outside_the_pattern_is_hashed() {
    check("cloudtrail", "third-party-offset-and-odd-id").await;
}

/// CloudTrail-format files may repeat an `eventID`. Both copies go under that one id, with the
/// same eventData, in separate requests (one request with an id twice would fail whole).
#[tokio::test]
async fn a_gzip_file_of_records_repeating_an_event_id_sends_each_copy_under_that_id() {
    let cases =
        ["assumed-role-put-bucket-policy", "aws-service-assume-role", "assumed-role-put-bucket-policy"];
    let records: Vec<String> =
        cases.iter().map(|case| crate::harness::original(&fixture("cloudtrail", case)).to_owned()).collect();
    let file = format!("{{\"Records\":[{}]}}", records.join(","));
    let stands = stands().await;
    let key = "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/05/01/111122223333_CloudTrail_eu-west-1_20240501T1205Z_a1b2.json.gz";
    let forwarder = forwarder(&stands, "cloudtrail");
    let reported = forward_object(&stands, &forwarder, key, crate::common::gzip(file.as_bytes())).await;
    assert_eq!(reported, Vec::<String>::new());
    let stored = stands.cloudtrail.stored();
    let ids: Vec<&str> = stored.iter().map(|event| event.id.as_str()).collect();
    let repeated = "3b8f5a2e-6c1d-4e7f-9a0b-1c2d3e4f5a6b";
    assert_eq!(ids, [repeated, "f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9", repeated]);
    assert_eq!(stored[0].event_data, stored[2].event_data);
    assert_ne!(stored[0].request, stored[2].request);
}

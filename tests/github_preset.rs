//! The GitHub Enterprise audit-log preset (`EVENT_MAPPING=preset:github`) on real-shaped
//! audit-log lines (`tests/fixtures/github/`), through the forwarder the handler runs, to a
//! channel in memory: the exact `eventData` and `id` each line becomes.

mod common;

use cloudtrail_lake_forwarder::config::Config;
use cloudtrail_lake_forwarder::event::AuditEvent;
use common::memory::{memory_forwarder, MemoryChannel};
use common::{incoming, records, reported, sqs_record, CHANNEL_ARN};
use serde_json::{json, Value};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/github/{name}.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}")).trim_end().to_owned()
}

/// The audit event one GitHub line becomes as the body of SQS message `m-1`.
async fn forwarded(line: &str) -> AuditEvent {
    let (reported, sent) = forward(line).await;
    assert_eq!(reported, Vec::<String>::new(), "the line is sent");
    let [event] = &sent[..] else { panic!("one event, got {}", sent.len()) };
    // The whole line is kept, byte for byte, as the last member of the event.
    assert!(event.event_data.ends_with(&format!(r#""requestParameters":{line}}}"#)), "{}", event.event_data);
    event.clone()
}

/// The eventData every GitHub line gets, with the line's own fields on top.
fn expected(line: &str, fields: Value) -> Value {
    let mut event = json!({"version": "1.0", "eventSource": "github.com", "recipientAccountId": "123456789012",
                           "requestParameters": serde_json::from_str::<Value>(line).unwrap()});
    event.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
    event
}

/// What the forwarder reports to Lambda for one GitHub line as SQS message `m-1`, and what
/// it sent.
async fn forward(line: &str) -> (Vec<String>, Vec<AuditEvent>) {
    let config = Config::from_lookup(|name| match name {
        "CHANNEL_ARN" => Some(CHANNEL_ARN.to_owned()),
        "EVENT_MAPPING" => Some("preset:github".to_owned()),
        _ => None,
    })
    .expect("the preset is a valid mapping");
    let (forwarder, sent) = memory_forwarder(MemoryChannel::accepting(), &config);
    let (answer, _) =
        forwarder.forward(incoming(records(vec![sqs_record("m-1", line)])), None).await.expect("a batch");
    let sent = sent.lock().unwrap().clone();
    (reported(&answer), sent)
}

fn event_data(event: &AuditEvent) -> Value {
    serde_json::from_str(&event.event_data).unwrap()
}

#[tokio::test]
async fn a_repo_create_line_without_actor_ip_has_no_source_ip_address() {
    let line = fixture("repo-create");
    let event = forwarded(&line).await;
    assert_eq!(event.id, "Nm4EoecTsz6kAS-87bAEfA");
    assert_eq!(
        event_data(&event),
        expected(
            &line,
            json!({"eventName": "repo.create", "eventTime": "2025-03-10T12:57:43Z", "UID": "Nm4EoecTsz6kAS-87bAEfA",
                   "userIdentity": {"type": "GitHubUser", "principalId": "user_actor",
                                    "details": {"actor_id": 11111, "actor_is_bot": false, "business": "enterprise-account",
                                                "org": "example-org", "repo": "example-org/private-repo"}},
                   "userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36"})
        )
    );
}

#[tokio::test]
async fn an_actor_ip_that_is_an_address_is_the_source_ip_address() {
    let line = fixture("member-add-with-ip");
    let event = forwarded(&line).await;
    assert_eq!(event.id, "ZxQ2r9Ls0dWk3h_1PqYtUg");
    assert_eq!(
        event_data(&event),
        expected(
            &line,
            json!({"eventName": "org.add_member", "eventTime": "2025-03-10T13:06:40Z", "UID": "ZxQ2r9Ls0dWk3h_1PqYtUg",
                   "userIdentity": {"type": "GitHubUser", "principalId": "org-admin",
                                    "details": {"actor_id": 55555, "actor_is_bot": false, "business": "enterprise-account",
                                                "org": "example-org"}},
                   "sourceIPAddress": "203.0.113.24",
                   "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.3 Safari/605.1.15"})
        )
    );
}

#[tokio::test]
async fn an_actor_ip_that_is_not_an_address_is_left_out_and_the_line_still_sent() {
    let line = fixture("actor-ip-not-an-address");
    let event = forwarded(&line).await;
    assert_eq!(
        event_data(&event),
        expected(
            &line,
            json!({"eventName": "org.update_member", "eventTime": "2025-03-10T13:08:20Z", "UID": "Qm9vVGhlckRvY0lkXzAwMQ",
                   "userIdentity": {"type": "GitHubUser", "principalId": "org-admin",
                                    "details": {"actor_id": 55555, "actor_is_bot": false, "business": "enterprise-account",
                                                "org": "example-org"}}})
        )
    );
}

#[tokio::test]
async fn a_line_with_no_actor_has_the_marked_unknown_principal_never_the_business() {
    let line = fixture("no-actor");
    let event = forwarded(&line).await;
    assert_eq!(
        event_data(&event),
        expected(
            &line,
            json!({"eventName": "repository_vulnerability_alert.create", "eventTime": "2025-03-10T13:10:00Z",
                   "UID": "VnVsbkFsZXJ0Q3JlYXRlZD",
                   "userIdentity": {"type": "GitHubUser", "principalId": "unknown",
                                    "details": {"business": "enterprise-account", "org": "example-org",
                                                "repo": "example-org/private-repo", "defaulted": ["principalId"]}}})
        )
    );
}

#[tokio::test]
async fn a_bot_actor_is_the_principal_and_its_details_say_it_is_a_bot() {
    let line = fixture("bot-actor");
    let event = forwarded(&line).await;
    assert_eq!(
        event_data(&event),
        expected(
            &line,
            json!({"eventName": "pull_request.create", "eventTime": "2025-03-10T13:11:40Z", "UID": "Qm90UHVsbFJlcXVlc3QwMD",
                   "userIdentity": {"type": "GitHubUser", "principalId": "dependabot[bot]",
                                    "details": {"actor_id": 49699333, "actor_is_bot": true, "business": "enterprise-account",
                                                "org": "example-org", "repo": "example-org/private-repo"}}})
        )
    );
}

#[tokio::test]
async fn a_git_clone_over_ipv6_is_mapped_like_any_other_action() {
    let line = fixture("git-clone");
    let event = forwarded(&line).await;
    assert_eq!(event.id, "R2l0Q2xvbmVFdmVudDAwMD");
    assert_eq!(
        event_data(&event),
        expected(
            &line,
            json!({"eventName": "git.clone", "eventTime": "2025-03-10T13:13:20Z", "UID": "R2l0Q2xvbmVFdmVudDAwMD",
                   "userIdentity": {"type": "GitHubUser", "principalId": "octocat",
                                    "details": {"actor_id": 583231, "actor_is_bot": false, "business": "enterprise-account",
                                                "org": "example-org", "repo": "example-org/private-repo"}},
                   "sourceIPAddress": "2001:db8:85a3::8a2e:370:7334", "userAgent": "git/2.48.1"})
        )
    );
}

#[tokio::test]
async fn a_document_id_that_is_no_audit_event_id_is_hashed_for_the_id_and_stays_the_uid() {
    let line = fixture("document-id-not-an-id");
    let event = forwarded(&line).await;
    // The same in every file GitHub streams the event in, as the document id itself would be.
    assert_eq!(event.id, cloudtrail_lake_forwarder::event::sha256_id(b"a+b/cD9eFgHiJkLmNoPq=="));
    assert_eq!(event_data(&event)["UID"], "a+b/cD9eFgHiJkLmNoPq==");
}

#[tokio::test]
async fn a_failed_api_request_has_its_status_as_the_error_code() {
    let line = fixture("api-request-failed");
    let event = event_data(&forwarded(&line).await);
    assert_eq!(
        event,
        expected(
            &line,
            json!({"eventName": "api.request", "eventTime": "2025-03-10T13:16:40Z", "UID": "QXBpUmVxdWVzdDQwNF8wMD",
                   "userIdentity": {"type": "GitHubUser", "principalId": "octocat",
                                    "details": {"actor_id": 583231, "actor_is_bot": false, "business": "enterprise-account",
                                                "org": "example-org"}},
                   "userAgent": "curl/8.5.0", "errorCode": "404"})
        )
    );
}

#[tokio::test]
async fn a_successful_api_request_has_no_error_fields() {
    let line = fixture("api-request-ok");
    let event = event_data(&forwarded(&line).await);
    assert_eq!(
        event,
        expected(
            &line,
            json!({"eventName": "api.request", "eventTime": "2025-03-10T13:18:20Z", "UID": "QXBpUmVxdWVzdDIwMF8wMD",
                   "userIdentity": {"type": "GitHubUser", "principalId": "octocat",
                                    "details": {"actor_id": 583231, "actor_is_bot": false, "business": "enterprise-account",
                                                "org": "example-org"}},
                   "userAgent": "curl/8.5.0"})
        )
    );
}

#[tokio::test]
async fn the_time_is_created_at_when_a_line_has_no_timestamp_and_epoch_milliseconds_are_whole_seconds() {
    let mut line: Value = serde_json::from_str(&fixture("repo-create")).unwrap();
    line.as_object_mut().unwrap().remove("@timestamp");
    line["created_at"] = json!(1_741_611_463_999u64);
    let event = event_data(&forwarded(&line.to_string()).await);
    assert_eq!(event["eventTime"], "2025-03-10T12:57:43Z");
}

#[tokio::test]
async fn the_same_line_is_the_same_audit_event_on_every_delivery() {
    let line = fixture("git-clone");
    assert_eq!(forwarded(&line).await, forwarded(&line).await);
}

#[tokio::test]
async fn a_line_too_large_for_request_parameters_is_rejected_never_truncated() {
    let mut line: Value = serde_json::from_str(&fixture("repo-create")).unwrap();
    line["description"] = json!("x".repeat(100 * 1024));
    assert_eq!(forward(&line.to_string()).await, (vec!["m-1".to_owned()], vec![]));
}

#[tokio::test]
async fn a_line_without_document_id_or_action_is_rejected_not_given_a_made_up_one() {
    for field in ["_document_id", "action"] {
        let mut line: Value = serde_json::from_str(&fixture("repo-create")).unwrap();
        line.as_object_mut().unwrap().remove(field);
        assert_eq!(forward(&line.to_string()).await, (vec!["m-1".to_owned()], vec![]), "{field}");
    }
}

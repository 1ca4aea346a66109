//! `preset:okta`: Okta System Log events as EventBridge log streaming delivers them (partner
//! event source → rule → SQS), one event in each message's `detail`.

use crate::harness::{check, fixture, forward_message, forwarder, stands};

#[tokio::test]
async fn a_session_start_is_the_users_with_their_address_and_agent_and_no_error() {
    check("okta", "user-session-start").await;
}

#[tokio::test]
async fn a_sign_on_denied_by_policy_has_deny_as_its_error_and_the_reason_as_its_message() {
    check("okta", "sign-on-denied").await;
}

#[tokio::test]
async fn a_wrong_password_over_ipv6_has_failure_as_its_error() {
    check("okta", "password-failure").await;
}

#[tokio::test]
async fn a_system_event_with_a_null_address_and_agent_leaves_both_out() {
    check("okta", "system-null-ip").await;
}

#[tokio::test]
async fn an_mfa_challenge_is_no_failure() {
    check("okta", "mfa-challenge").await;
}

/// EventBridge gives an event relayed or replayed a new `id`, SQS a new `messageId`: the
/// audit event is still the same, under Okta's `uuid`.
#[tokio::test]
async fn the_same_okta_event_delivered_twice_is_the_same_audit_event() {
    let first = fixture("okta", "user-session-start");
    let replayed =
        first.replace("9b2f0c1e-4a61-7d3e-2b8a-6c0d1e2f3a4b", "0e1d2c3b-4a59-6877-9685-a4b3c2d1e0ff");
    assert_ne!(first, replayed);
    let stands = stands().await;
    for body in [&first, &replayed] {
        // A fresh forwarder each time: another execution environment, which remembers nothing.
        assert_eq!(forward_message(&forwarder(&stands, "okta"), body).await, Vec::<String>::new());
    }
    let stored = stands.cloudtrail.stored();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].id, "2d4e6b80-07b9-11ef-9f4d-8b1c5e0f1a11");
    assert_eq!((&stored[1].id, &stored[1].event_data), (&stored[0].id, &stored[0].event_data));
}

#[tokio::test]
async fn an_event_without_uuid_or_published_is_rejected_never_given_one() {
    for field in ["uuid", "published"] {
        let mut event: serde_json::Value =
            serde_json::from_str(&fixture("okta", "user-session-start")).unwrap();
        event["detail"].as_object_mut().unwrap().remove(field);
        let stands = stands().await;
        let reported = forward_message(&forwarder(&stands, "okta"), &event.to_string()).await;
        assert_eq!(reported, ["m-1"], "{field}");
        assert!(stands.cloudtrail.stored().is_empty(), "{field}");
    }
}

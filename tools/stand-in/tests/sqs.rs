//! The SQS stand-in as the forwarder will meet it: through the real `aws-sdk-sqs` client in
//! its JSON protocol. Each test asserts what the forwarder relies on when it sends itself a
//! continuation message: the message is kept as sent and can be delivered back, the answer is
//! the SDK's to read (MD5, error codes), and the faults it must survive.

mod common;

use std::time::Duration;

use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_sqs::error::ProvideErrorMetadata;
use aws_sdk_sqs::operation::send_message::SendMessageError;
use cloudtrail_data_stand_in::cloudtrail::SECRET_ACCESS_KEY;
use cloudtrail_data_stand_in::sqs::{
    lambda_event, md5_of_body, SqsError, SqsFault, SqsStandIn, SEND_MESSAGE,
};
use common::{attempt_timeout, retries, sqs_client, sqs_client_with};

const CONTINUATION: &str = r#"{"continue":{"bucket":"audit","key":"2026/é+1.json.gz","offset":1048576}}"#;

#[tokio::test]
async fn a_sent_message_is_kept_and_answered_with_the_md5_of_its_body() {
    let sqs = SqsStandIn::start().await.unwrap();
    let queue_url = sqs.create_queue("audit-events");
    let output = sqs_client(&sqs.endpoint())
        .send_message()
        .queue_url(&queue_url)
        .message_body(CONTINUATION)
        .delay_seconds(2)
        .send()
        .await
        .unwrap();

    let sent = sqs.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].body.as_str(), sent[0].queue_url.as_str()), (CONTINUATION, queue_url.as_str()));
    assert_eq!(sent[0].delay_seconds, Some(2));
    assert_eq!(output.message_id(), Some(sent[0].message_id.as_str()));
    assert_eq!(output.md5_of_message_body(), Some(md5_of_body(CONTINUATION).as_str()));
    let request = &sqs.requests()[0];
    assert_eq!((request.target.as_deref(), request.status), (Some(SEND_MESSAGE), Some(200)));
}

#[tokio::test]
async fn what_was_sent_comes_back_as_a_lambda_sqs_event() {
    let sqs = SqsStandIn::start().await.unwrap();
    let queue_url = sqs.create_queue("audit-events");
    let client = sqs_client(&sqs.endpoint());
    for body in ["one", CONTINUATION] {
        client.send_message().queue_url(&queue_url).message_body(body).send().await.unwrap();
    }
    let event = lambda_event(&sqs.sent());
    let records = event["Records"].as_array().unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[1]["body"], CONTINUATION);
    assert_eq!(records[1]["eventSourceARN"], "arn:aws:sqs:us-east-1:123456789012:audit-events");
    assert_eq!(records[1]["md5OfBody"], md5_of_body(CONTINUATION));
}

#[tokio::test]
async fn a_fifo_queue_keeps_the_group_and_the_first_of_a_deduplication_id() {
    let sqs = SqsStandIn::start().await.unwrap();
    let queue_url = sqs.create_queue("audit-events.fifo");
    let client = sqs_client(&sqs.endpoint());
    let send = || {
        client
            .send_message()
            .queue_url(&queue_url)
            .message_body(CONTINUATION)
            .message_group_id("audit/2026/é+1.json.gz")
            .message_deduplication_id("offset-1048576")
            .send()
    };
    let first = send().await.unwrap();
    let again = send().await.unwrap();
    assert_eq!(first.message_id(), again.message_id());
    assert!(first.sequence_number().is_some());
    let sent = sqs.sent();
    assert_eq!(sent.len(), 1, "a repeated deduplication id is accepted but not kept twice");
    assert_eq!(sent[0].message_group_id.as_deref(), Some("audit/2026/é+1.json.gz"));

    let error = client.send_message().queue_url(&queue_url).message_body("x").send().await.unwrap_err();
    assert_eq!(error.into_service_error().code(), Some("MissingParameter"));
}

#[tokio::test]
async fn a_missing_queue_is_the_sdks_queue_does_not_exist() {
    let sqs = SqsStandIn::start().await.unwrap();
    let url = format!("{}/123456789012/nowhere", sqs.endpoint());
    let error =
        sqs_client(&sqs.endpoint()).send_message().queue_url(url).message_body("x").send().await.unwrap_err();
    assert!(matches!(error.as_service_error(), Some(SendMessageError::QueueDoesNotExist(_))), "{error:?}");
}

#[tokio::test]
async fn a_bad_signature_is_refused_and_nothing_is_kept() {
    let sqs = SqsStandIn::start().await.unwrap();
    let queue_url = sqs.create_queue("q");
    let client = sqs_client_with(&sqs.endpoint(), "not-the-secret", retries(1), TimeoutConfig::disabled());
    let error = client.send_message().queue_url(queue_url).message_body("x").send().await.unwrap_err();
    assert_eq!(error.raw_response().map(|response| response.status().as_u16()), Some(403));
    assert!(sqs.sent().is_empty());
}

#[tokio::test]
async fn throttling_and_internal_errors_are_retried_by_the_sdk_then_sent_once() {
    let sqs = SqsStandIn::start().await.unwrap();
    let queue_url = sqs.create_queue("q");
    sqs.fail(SqsFault::Error(SqsError::RequestThrottled), 1);
    sqs.fail(SqsFault::Error(SqsError::InternalError), 1);
    sqs_client(&sqs.endpoint()).send_message().queue_url(queue_url).message_body("x").send().await.unwrap();
    let errors: Vec<_> = sqs.requests().into_iter().map(|request| request.error).collect();
    assert_eq!(errors, [Some("RequestThrottled".into()), Some("InternalError".into()), None]);
    assert_eq!(sqs.sent().len(), 1);
}

#[tokio::test]
async fn a_hung_send_is_ended_by_the_clients_timeout() {
    let sqs = SqsStandIn::start().await.unwrap();
    let queue_url = sqs.create_queue("q");
    sqs.fail(SqsFault::Hang, 1);
    let client = sqs_client_with(
        &sqs.endpoint(),
        SECRET_ACCESS_KEY,
        retries(1),
        attempt_timeout(Duration::from_millis(300)),
    );
    let error = client.send_message().queue_url(queue_url).message_body("x").send().await.unwrap_err();
    assert!(matches!(error, aws_sdk_sqs::error::SdkError::TimeoutError(_)), "{error:?}");
    assert!(sqs.sent().is_empty());
}

#[tokio::test]
async fn a_send_whose_answer_is_lost_is_sent_twice_by_the_retry() {
    let sqs = SqsStandIn::start().await.unwrap();
    let queue_url = sqs.create_queue("q");
    sqs.fail(SqsFault::DropAfterSend, 1);
    sqs_client(&sqs.endpoint()).send_message().queue_url(queue_url).message_body("x").send().await.unwrap();
    let sent = sqs.sent();
    assert_eq!(sent.len(), 2, "the first was kept though its sender never heard");
    assert_ne!(sent[0].message_id, sent[1].message_id);
}

//! What the integration tests share: a forwarder whose real SDK client talks to a local
//! CloudTrail Data stand-in, and builders for SQS and Kinesis events.
#![allow(dead_code)]

pub mod memory;

use std::num::NonZeroUsize;

use aws_sdk_cloudtraildata::config::{BehaviorVersion, Credentials, Region};
use base64::Engine as _;
use cloudtrail_data_stand_in::cloudtrail::{ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use cloudtrail_data_stand_in::{Settings, StandIn};
use cloudtrail_lake_forwarder::config::{ChannelArn, Config};
use cloudtrail_lake_forwarder::files::{fetch, Files};
use cloudtrail_lake_forwarder::lambda::event::IncomingEvent;
use cloudtrail_lake_forwarder::lambda::s3::AllowedObjects;
use cloudtrail_lake_forwarder::prepare::Preparer;
use cloudtrail_lake_forwarder::{send, Forwarder};
use serde_json::{json, Value};

#[allow(unused_imports)]
pub use cloudtrail_data_stand_in::fixtures::{cloudwatch_logs_data, gzip, kpl_aggregate};

/// The channel the tests' stages map for: the stand-in's default channel.
pub const CHANNEL_ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:channel/stand-in-channel";

/// What turns a record into audit events ([`cloudtrail_lake_forwarder::prepare::Preparer`]) at
/// the defaults (envelopes recognised, no mapping).
pub fn preparer() -> Preparer {
    Preparer::of(&Config::for_channel(channel(CHANNEL_ARN)))
}

pub async fn stand_in() -> StandIn {
    StandIn::start(Settings::default()).await.expect("the stand-in starts on 127.0.0.1")
}

/// The forwarder's configuration for the stand-in's channel.
pub fn config(stand_in: &StandIn) -> Config {
    Config {
        external_id: stand_in.settings().external_id.clone(),
        max_concurrent_requests: NonZeroUsize::new(8).unwrap(),
        ..Config::for_channel(channel(&stand_in.settings().channel_arn))
    }
}

pub fn channel(arn: &str) -> ChannelArn {
    ChannelArn::parse(arn).expect("a channel ARN")
}

/// A Lambda event as the runtime hands it to the handler.
pub fn incoming(event: Value) -> IncomingEvent {
    serde_json::from_value(event).expect("any JSON is read as an incoming event")
}

/// A real SDK client, signed with the stand-in's dummy keys and pointed at it; it never
/// reads the environment, so nothing can reach AWS.
pub fn client(stand_in: &StandIn, secret: &str) -> aws_sdk_cloudtraildata::Client {
    send::sdk_client(
        aws_sdk_cloudtraildata::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(ACCESS_KEY_ID, secret, None, None, "stand-in"))
            .endpoint_url(stand_in.endpoint()),
    )
}

pub fn forwarder(stand_in: &StandIn) -> Forwarder {
    Forwarder::new(client(stand_in, SECRET_ACCESS_KEY), &config(stand_in))
}

pub fn forwarder_with(stand_in: &StandIn, config: &Config) -> Forwarder {
    Forwarder::new(client(stand_in, SECRET_ACCESS_KEY), config)
}

/// The files stage's clients, signed with the stand-ins' dummy keys and pointed at the S3 and
/// SQS stand-ins, built as `main` builds them (path-style S3, its retries and timeouts).
pub fn files(s3_endpoint: &str, sqs_endpoint: &str, allowed: AllowedObjects) -> Files {
    let credentials = Credentials::new(ACCESS_KEY_ID, SECRET_ACCESS_KEY, None, None, "stand-in");
    let s3 = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials.clone())
        .http_client(send::https_client())
        .endpoint_url(s3_endpoint)
        .force_path_style(true)
        .retry_config(fetch::s3_retries())
        .timeout_config(fetch::s3_timeouts())
        .build();
    let sqs = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials)
        .http_client(send::https_client())
        .endpoint_url(sqs_endpoint)
        .build();
    Files { s3: aws_sdk_s3::Client::from_conf(s3), sqs: aws_sdk_sqs::Client::from_conf(sqs), allowed }
}

/// A valid integration-schema event whose `UID` is `uid`.
pub fn audit_json(uid: &str) -> String {
    json!({
        "version": "1.0",
        "userIdentity": {"type": "ApplicationUser", "principalId": "alice@example.com"},
        "eventSource": "payments.example.com",
        "eventName": "RefundIssued",
        "eventTime": "2026-11-26T04:00:00Z",
        "UID": uid,
        "recipientAccountId": "123456789012",
        "requestParameters": {"amount": 12.5, "currency": "EUR"},
    })
    .to_string()
}

/// A valid event padded to `len` bytes with a `requestParameters.padding` string (valid up
/// to the schema's 100 kB for requestParameters; longer ones test the size limits).
pub fn audit_json_of_len(uid: &str, len: usize) -> String {
    let base = audit_json(uid);
    let frame = base.len() + r#","padding":"""#.len();
    let padding = "x".repeat(len.saturating_sub(frame));
    let text =
        base.replacen(r#""currency":"EUR"}"#, &format!(r#""currency":"EUR","padding":"{padding}"}}"#), 1);
    assert_eq!(text.len(), len.max(frame));
    text
}

pub fn sqs_record(message_id: &str, body: &str) -> Value {
    json!({
        "messageId": message_id,
        "receiptHandle": format!("handle-{message_id}"),
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1764129600000"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:audit-events",
        "awsRegion": "us-east-1"
    })
}

pub fn fifo_record(message_id: &str, group: &str, body: &str) -> Value {
    let mut record = sqs_record(message_id, body);
    record["eventSourceARN"] = json!("arn:aws:sqs:us-east-1:123456789012:audit-events.fifo");
    record["attributes"]["MessageGroupId"] = json!(group);
    record
}

pub fn kinesis_record(sequence_number: &str, data: &[u8]) -> Value {
    json!({
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "tenant-1",
            "sequenceNumber": sequence_number,
            "data": base64::engine::general_purpose::STANDARD.encode(data),
            "approximateArrivalTimestamp": 1764129600.123
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": format!("shardId-000000000000:{sequence_number}"),
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/forwarder",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/audit-events"
    })
}

/// Kinesis sequence numbers are 56-digit decimals that grow along the shard.
pub fn sequence_number(n: usize) -> String {
    format!("4963567093412806740612094{:031}", n)
}

pub fn records(records: Vec<Value>) -> Value {
    json!({ "Records": records })
}

/// `n` valid SQS records with message ids `m-0`, `m-1`, …
pub fn sqs_batch(n: usize) -> Value {
    records((0..n).map(|i| sqs_record(&format!("m-{i}"), &audit_json(&format!("uid-{i}")))).collect())
}

/// The `batchItemFailures` identifiers of an answer, as JSON sees them.
pub fn reported(answer: &cloudtrail_lake_forwarder::Answer) -> Vec<String> {
    let value = serde_json::to_value(answer).unwrap();
    let failures = value["batchItemFailures"].as_array().expect("batchItemFailures is a list");
    failures
        .iter()
        .map(|failure| failure["itemIdentifier"].as_str().expect("a non-empty identifier").to_owned())
        .collect()
}

/// The binary cargo built for the tests, or the one `FORWARDER_BINARY` names: the release build,
/// attacked with the same tests (`FORWARDER_BINARY=target/release/cloudtrail-lake-forwarder`).
pub fn forwarder_binary() -> std::ffi::OsString {
    std::env::var_os("FORWARDER_BINARY")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_cloudtrail-lake-forwarder").into())
}

/// A Lambda deadline `budget` from now, in epoch milliseconds, as the Runtime API gives it.
pub fn deadline_in(budget: std::time::Duration) -> u64 {
    (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap() + budget).as_millis() as u64
}

//! What tests, benchmarks and tools share to run the forwarder locally: the environment of a
//! Lambda function pointed at the stand-ins, valid audit events of a chosen size, and records
//! wrapped as CloudWatch Logs and the KPL wrap them.

use std::io::Write;

use serde_json::{json, Value};

use crate::cloudtrail::{ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use crate::{S3StandIn, SqsStandIn, StandIn};

/// The environment Lambda would give the function, with dummy credentials and every endpoint on
/// 127.0.0.1: `runtime_api` for the Runtime API and `stand_in` for CloudTrail Data. Start the
/// process with a cleared environment and these, and nothing can reach AWS.
pub fn lambda_environment(runtime_api: &str, stand_in: &StandIn) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_owned()),
        ("AWS_LAMBDA_FUNCTION_NAME", "cloudtrail-lake-forwarder".into()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".into()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID.into()),
        ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY.into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("AWS_CONFIG_FILE", "/dev/null".into()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".into()),
        ("AWS_ENDPOINT_URL_CLOUDTRAIL_DATA", stand_in.endpoint()),
        ("CHANNEL_ARN", stand_in.settings().channel_arn.clone()),
    ]
}

/// The endpoints of the S3 and SQS stand-ins, as the SDK reads them from the environment: add
/// them to [`lambda_environment`]'s for a function that reads objects and continues them.
pub fn object_environment(s3: &S3StandIn, sqs: &SqsStandIn) -> Vec<(&'static str, String)> {
    vec![("AWS_ENDPOINT_URL_S3", s3.endpoint()), ("AWS_ENDPOINT_URL_SQS", sqs.endpoint())]
}

/// A valid integration-schema event for record `i`, padded to `len` bytes with a
/// `requestParameters.note` made of `filler` repeated (shorter events are not padded).
pub fn audit_event_of_len(i: usize, len: usize, filler: &str) -> String {
    let base = json!({
        "version": "1.0",
        "userIdentity": {"type": "ApplicationUser", "principalId": format!("user-{i}@example.com")},
        "eventSource": "orders.example.com", "eventName": "OrderUpdated",
        "eventTime": "2026-11-26T09:30:00Z", "UID": format!("uid-{i}"),
        "recipientAccountId": "123456789012",
    })
    .to_string();
    let room = len.saturating_sub(base.len() + r#","requestParameters":{"note":""}"#.len());
    let unit = serde_json::to_string(filler).map_or(1, |quoted| quoted.len() - 2).max(1);
    let note = filler.repeat(room / unit) + &"x".repeat(room % unit);
    format!("{},\"requestParameters\":{{\"note\":{}}}}}", &base[..base.len() - 1], json!(note))
}

/// Kinesis data as a CloudWatch Logs subscription filter writes it: gzip of a `DATA_MESSAGE`
/// holding one log event per `(id, timestamp in epoch ms, message)`.
pub fn cloudwatch_logs_data(log_group: &str, events: &[(String, i64, String)]) -> Vec<u8> {
    let log_events: Vec<Value> = events
        .iter()
        .map(|(id, timestamp, message)| json!({"id": id, "timestamp": timestamp, "message": message}))
        .collect();
    let message = json!({
        "messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": log_group,
        "logStream": "2026/11/26/[$LATEST]0123456789abcdef", "subscriptionFilters": ["to-audit-stream"],
        "logEvents": log_events,
    });
    gzip(message.to_string().as_bytes())
}

/// gzip of `bytes`, as CloudWatch Logs compresses subscription data.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("writing to a Vec cannot fail");
    encoder.finish().expect("writing to a Vec cannot fail")
}

/// Kinesis data as the KPL aggregates user records: magic, `AggregatedRecord` protobuf with one
/// partition key per record, MD5 trailer.
pub fn kpl_aggregate(records: &[&[u8]]) -> Vec<u8> {
    let mut protobuf = Vec::new();
    for index in 0..records.len() {
        bytes_field(&mut protobuf, 1, format!("key-{index}").as_bytes());
    }
    for (index, data) in records.iter().enumerate() {
        let mut record = Vec::new();
        varint(&mut record, 1 << 3);
        varint(&mut record, index as u64);
        bytes_field(&mut record, 3, data);
        bytes_field(&mut protobuf, 3, &record);
    }
    let mut out = vec![0xf3, 0x89, 0x9a, 0xc2];
    out.extend_from_slice(&protobuf);
    out.extend_from_slice(&<md5::Md5 as md5::Digest>::digest(&protobuf));
    out
}

fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn bytes_field(out: &mut Vec<u8>, number: u64, bytes: &[u8]) {
    varint(out, (number << 3) | 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_have_the_asked_length_and_stay_valid_json() {
        for filler in ["x", "a\"b "] {
            let event = audit_event_of_len(7, 1024, filler);
            assert_eq!(event.len(), 1024, "{filler}");
            let value: serde_json::Value = serde_json::from_str(&event).unwrap();
            assert_eq!(value["UID"], "uid-7");
        }
    }
}

//! What the preset tests share: the stand-ins, a forwarder configured by preset name as a
//! deployment is, a fixture delivered the way its source delivers it, and the comparison of
//! what the stand-in stored with the expected audit event.

use std::collections::BTreeMap;

use cloudtrail_data_stand_in::cloudtrail::StoredEvent;
use cloudtrail_data_stand_in::s3::event_notification;
use cloudtrail_data_stand_in::{S3StandIn, SqsStandIn, StandIn};
use cloudtrail_lake_forwarder::config::Config;
use cloudtrail_lake_forwarder::lambda::s3::AllowedObjects;
use cloudtrail_lake_forwarder::Forwarder;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::common;

pub const BUCKET: &str = "example-audit-logs";

pub struct Stands {
    pub cloudtrail: StandIn,
    pub s3: S3StandIn,
    pub sqs: SqsStandIn,
}

pub async fn stands() -> Stands {
    let s3 = S3StandIn::start().await.unwrap();
    s3.create_bucket(BUCKET);
    let sqs = SqsStandIn::start().await.unwrap();
    sqs.create_queue("audit-events");
    Stands { cloudtrail: common::stand_in().await, s3, sqs }
}

/// The forwarder a deployment with `EVENT_MAPPING=preset:<preset>` runs, its files stage
/// reading the test bucket.
pub fn forwarder(stands: &Stands, preset: &str) -> Forwarder {
    let arn = stands.cloudtrail.settings().channel_arn.clone();
    let named = Config::from_lookup(|name| match name {
        "CHANNEL_ARN" => Some(arn.clone()),
        "EVENT_MAPPING" => Some(format!("preset:{preset}")),
        _ => None,
    })
    .expect("the preset's name is a valid EVENT_MAPPING");
    let config = Config { mapping: named.mapping, ..common::config(&stands.cloudtrail) };
    let allowed = BUCKET.parse::<AllowedObjects>().unwrap();
    let files = common::files(&stands.s3.endpoint(), &stands.sqs.endpoint(), allowed);
    common::forwarder_with(&stands.cloudtrail, &config).with_files(files)
}

/// The fixture's text: what its source delivers (an SQS body, or an S3 object).
pub fn fixture(source: &str, case: &str) -> String {
    let path = format!("{}/tests/fixtures/{source}/{case}.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// What Lambda is told about SQS message `m-1` with `body`.
pub async fn forward_message(forwarder: &Forwarder, body: &str) -> Vec<String> {
    forward(forwarder, common::sqs_record("m-1", body)).await
}

/// Puts `object` under `key` and forwards the S3 notification of it; what Lambda is told.
pub async fn forward_object(
    stands: &Stands,
    forwarder: &Forwarder,
    key: &str,
    object: Vec<u8>,
) -> Vec<String> {
    let version = stands.s3.put_object(BUCKET, key, object);
    let notification = event_notification([&version]).to_string();
    forward(forwarder, common::sqs_record("m-1", &notification)).await
}

async fn forward(forwarder: &Forwarder, record: Value) -> Vec<String> {
    let (answer, _) = forwarder.forward(common::incoming(common::records(vec![record])), None).await.unwrap();
    common::reported(&answer)
}

/// The one event `source`'s fixture `case` carries, delivered as its source delivers it, is
/// stored as `<case>.expected.json` says; returns what was stored.
pub async fn check(source: &str, case: &str) -> StoredEvent {
    let stands = stands().await;
    let forwarder = forwarder(&stands, source);
    let text = fixture(source, case);
    let reported = if source == "okta" {
        forward_message(&forwarder, &text).await
    } else {
        forward_object(&stands, &forwarder, &format!("{source}/{case}.json"), text.clone().into_bytes()).await
    };
    assert_eq!(reported, Vec::<String>::new(), "{source}/{case}: nothing reported to Lambda");
    let stored = stands.cloudtrail.stored();
    let [event] = &stored[..] else { panic!("{source}/{case}: one event stored, not {}", stored.len()) };
    assert_stored_as_expected(event, source, case, original(&text));
    event.clone()
}

/// `event` is `<case>.expected.json`'s audit event, and keeps `original` whole, byte for byte.
pub fn assert_stored_as_expected(event: &StoredEvent, source: &str, case: &str, original: &str) {
    let path = format!("{}/tests/fixtures/{source}/{case}.expected.json", env!("CARGO_MANIFEST_DIR"));
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(event.id, expected["id"].as_str().unwrap(), "{source}/{case}: the audit event id");
    let kept = format!(",\"requestParameters\":{original}}}");
    assert!(
        event.event_data.ends_with(&kept),
        "{source}/{case}: the original kept whole: {}",
        event.event_data
    );
    let mut want = expected["eventData"].clone();
    want["requestParameters"] = serde_json::from_str(original).unwrap();
    let stored: Value = serde_json::from_str(&event.event_data).unwrap();
    assert_eq!(stored, want, "{source}/{case}: the eventData");
}

/// The one event's own text inside what the source delivers: an EventBridge event's `detail`,
/// the one element of a `{"Records": [...]}` or `{"records": [...]}` file, else the line.
pub fn original(text: &str) -> &str {
    let members: BTreeMap<&str, &RawValue> = serde_json::from_str(text).unwrap();
    if let Some(detail) = members.get("detail") {
        return detail.get();
    }
    if let Some(records) = members.get("Records").or(members.get("records")) {
        let records: Vec<&RawValue> = serde_json::from_str(records.get()).unwrap();
        let [record] = &records[..] else { panic!("a fixture holds one event") };
        return record.get();
    }
    text.trim()
}

/// Gzip JSON Lines of `lines`, as a sink writes them.
pub fn gzip_lines(lines: &[&str]) -> Vec<u8> {
    let mut text = String::new();
    for line in lines {
        text.push_str(line.trim());
        text.push('\n');
    }
    common::gzip(text.as_bytes())
}

/// The ids the stand-in stored, in order.
pub fn stored_ids(stands: &Stands) -> Vec<String> {
    stands.cloudtrail.stored().into_iter().map(|event| event.id).collect()
}

//! A message body read as an S3 notification: recognised by marks only S3, SNS and EventBridge
//! write, then read entry by entry.
//!
//! The marks are looked for without building the body as values: a body that is no
//! notification (the usual case when the queue also carries events) costs one scan. A
//! `Records` list counts as S3's once one entry names `eventSource` `aws:s3`: a CloudTrail-format
//! payload also has `Records`, with `eventSource` `s3.amazonaws.com` and the like.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::EVENT_SOURCE;
use super::{decode_key, Acknowledge, Delivery, Entry, Malformed, Notification, ObjectRef, Problem};

/// Reads `body` as an S3 notification: `Ok(None)` when it is none (not JSON, or without all the
/// marks of one), so it goes on to the record path; `Err` when it is one that breaks the format.
///
/// ```
/// use cloudtrail_lake_forwarder::lambda::s3::{read, Entry};
/// let body = r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put",
///     "s3":{"bucket":{"name":"audit-logs"},"object":{"key":"2026/red+flower%3A1.json.gz","size":1024}}}]}"#;
/// let notification = read(body).unwrap().unwrap();
/// let Entry::Object(object) = &notification.entries[0] else { panic!() };
/// assert_eq!((object.bucket.as_str(), object.key.as_str()), ("audit-logs", "2026/red flower:1.json.gz"));
/// assert_eq!(read(r#"{"eventName":"repo.create"}"#), Ok(None));
/// ```
pub fn read(body: &str) -> Result<Option<Notification>, Malformed> {
    let Ok(marks) = serde_json::from_str::<Marks<'_>>(body) else {
        return Ok(None);
    };
    if let Some(entries) = s3_notification(&marks, Delivery::Direct)? {
        return Ok(Some(Notification { delivery: Delivery::Direct, entries }));
    }
    if let Some(message) = sns_message(&marks) {
        let Ok(inner) = serde_json::from_str::<Marks<'_>>(&message) else {
            return Ok(None);
        };
        let entries = s3_notification(&inner, Delivery::Sns)?;
        return Ok(entries.map(|entries| Notification { delivery: Delivery::Sns, entries }));
    }
    event_bridge(&marks, body)
}

/// The top-level members that mark each kind of message; every other member is passed over.
#[derive(Deserialize)]
struct Marks<'a> {
    #[serde(rename = "Records", borrow)]
    records: Option<&'a RawValue>,
    #[serde(rename = "Service", borrow)]
    service: Option<&'a RawValue>,
    #[serde(rename = "Event", borrow)]
    event: Option<&'a RawValue>,
    #[serde(rename = "Type", borrow)]
    kind: Option<&'a RawValue>,
    #[serde(rename = "TopicArn", borrow)]
    topic_arn: Option<&'a RawValue>,
    #[serde(rename = "MessageId", borrow)]
    message_id: Option<&'a RawValue>,
    #[serde(rename = "Message", borrow)]
    message: Option<&'a RawValue>,
    #[serde(borrow)]
    source: Option<&'a RawValue>,
    #[serde(rename = "detail-type", borrow)]
    detail_type: Option<&'a RawValue>,
    #[serde(borrow)]
    detail: Option<&'a RawValue>,
}

/// An entry of `Records`, read only for its source.
#[derive(Deserialize)]
struct SourceMark<'a> {
    #[serde(rename = "eventSource", borrow)]
    event_source: Option<&'a RawValue>,
}

/// The string a member holds, if it is one.
fn text(raw: Option<&RawValue>) -> Option<String> {
    raw.and_then(|raw| serde_json::from_str(raw.get()).ok())
}

/// S3's own notification (or its test event): `Ok(None)` when the marks are not S3's.
fn s3_notification(marks: &Marks<'_>, delivery: Delivery) -> Result<Option<Vec<Entry>>, Malformed> {
    if text(marks.service).as_deref() == Some("Amazon S3")
        && text(marks.event).as_deref() == Some("s3:TestEvent")
    {
        return Ok(Some(vec![Entry::Acknowledge(Acknowledge::TestEvent)]));
    }
    let Some(records) = marks.records.map(RawValue::get) else {
        return Ok(None);
    };
    let sources = serde_json::from_str::<Vec<SourceMark<'_>>>(records).unwrap_or_default();
    if !sources.iter().any(|entry| text(entry.event_source).as_deref() == Some(EVENT_SOURCE)) {
        return Ok(None);
    }
    // Only now, with S3's mark found, is each entry built as a value.
    let records = serde_json::from_str::<Vec<Value>>(records).unwrap_or_default();
    let entry = |(index, record): (usize, &Value)| {
        record_entry(record).map_err(|problem| Malformed { delivery, entry: Some(index), problem })
    };
    records.iter().enumerate().map(entry).collect::<Result<_, _>>().map(Some)
}

/// One entry of `Records`, whose source is known to be S3.
fn record_entry(record: &Value) -> Result<Entry, Problem> {
    if record.get("eventSource").and_then(Value::as_str) != Some(EVENT_SOURCE) {
        return Err(Problem::MixedEventSources);
    }
    let version = record.get("eventVersion").and_then(Value::as_str);
    if version.and_then(|version| version.split('.').next()) != Some("2") {
        return Err(Problem::UnsupportedVersion { version: version.map(str::to_owned) });
    }
    let event_name = required(record, "eventName")?;
    if !event_name.starts_with("ObjectCreated:") {
        return Ok(Entry::Acknowledge(Acknowledge::NotObjectCreated { event_name: event_name.to_owned() }));
    }
    object(record, &NOTIFICATION).map(Entry::Object)
}

/// The published message of an SNS notification, when `marks` bear every mark of one.
fn sns_message(marks: &Marks<'_>) -> Option<String> {
    let notification = text(marks.kind).as_deref() == Some("Notification")
        && text(marks.topic_arn).is_some()
        && text(marks.message_id).is_some();
    notification.then(|| text(marks.message)).flatten()
}

/// An EventBridge event from S3: "Object Created" names an object; the other S3 event types
/// (deleted, restored, tagged…) are acknowledged.
fn event_bridge(marks: &Marks<'_>, body: &str) -> Result<Option<Notification>, Malformed> {
    let detail_is_object = marks.detail.is_some_and(|raw| raw.get().starts_with('{'));
    let detail_type = text(marks.detail_type);
    let (Some(detail_type), true) = (detail_type, detail_is_object) else {
        return Ok(None);
    };
    if text(marks.source).as_deref() != Some("aws.s3") {
        return Ok(None);
    }
    let entry = if detail_type == "Object Created" {
        // The body was just read as a JSON object, so it reads again as a value.
        let event: Value = serde_json::from_str(body).unwrap_or_default();
        let malformed = |problem| Malformed { delivery: Delivery::EventBridge, entry: None, problem };
        Entry::Object(object(&event, &EVENT_BRIDGE).map_err(malformed)?)
    } else {
        Entry::Acknowledge(Acknowledge::NotObjectCreated { event_name: detail_type })
    };
    Ok(Some(Notification { delivery: Delivery::EventBridge, entries: vec![entry] }))
}

/// Where each part of an object reference sits, as dotted paths (which are also the names the
/// rejections give): the two formats name the same things differently.
struct Layout {
    bucket: &'static str,
    key: &'static str,
    size: &'static str,
    etag: &'static str,
    version_id: &'static str,
    sequencer: &'static str,
}

const NOTIFICATION: Layout = Layout {
    bucket: "s3.bucket.name",
    key: "s3.object.key",
    size: "s3.object.size",
    etag: "s3.object.eTag",
    version_id: "s3.object.versionId",
    sequencer: "s3.object.sequencer",
};

const EVENT_BRIDGE: Layout = Layout {
    bucket: "detail.bucket.name",
    key: "detail.object.key",
    size: "detail.object.size",
    etag: "detail.object.etag",
    version_id: "detail.object.version-id",
    sequencer: "detail.object.sequencer",
};

/// The object an event names. EventBridge's documentation does not say its key is encoded;
/// it is decoded like a notification's, as AWS's Powertools do: a key holding `+`, `%` or a
/// space reads the same from either source.
fn object(event: &Value, layout: &Layout) -> Result<ObjectRef, Problem> {
    let optional = |path| optional(event, path).map(|text| text.map(str::to_owned));
    let size = match at(event, layout.size) {
        None | Some(Value::Null) => None,
        Some(size) => Some(
            size.as_u64()
                .ok_or(Problem::WrongType { field: layout.size, expected: "a whole number of bytes" })?,
        ),
    };
    Ok(ObjectRef {
        bucket: required(event, layout.bucket)?.to_owned(),
        key: decode_key(required(event, layout.key)?)?,
        version_id: optional(layout.version_id)?,
        etag: optional(layout.etag)?,
        size,
        sequencer: optional(layout.sequencer)?,
    })
}

/// The value at a dotted path.
fn at<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(value, |value, name| value.get(name))
}

fn optional<'v>(value: &'v Value, path: &'static str) -> Result<Option<&'v str>, Problem> {
    match at(value, path) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(Problem::WrongType { field: path, expected: "a string" }),
    }
}

/// A string that must be there and not be empty.
fn required<'v>(value: &'v Value, path: &'static str) -> Result<&'v str, Problem> {
    optional(value, path)?.filter(|text| !text.is_empty()).ok_or(Problem::MissingField { field: path })
}

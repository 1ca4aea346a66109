//! A record's payload → the events inside it: how pipelines wrap producers' events.
//!
//! - SNS → SQS (raw delivery off) ([`sns`]): a notification's `Message` string is the event.
//! - EventBridge → SQS ([`eventbridge`]): an event's `detail` object is the event.
//! - CloudWatch Logs subscription → Kinesis: gzip ([`cloudwatch`]); one event per log event.
//! - KPL aggregation → Kinesis: magic bytes, protobuf and an MD5 trailer ([`kpl`]); one event
//!   per user record.
//!
//! Recognition looks for marks no integration-schema event has: the binary magic of gzip and
//! KPL, and all of the fields above, which are not schema fields. A JSON payload with only
//! some of them is a producer's payload, not a broken envelope. The JSON envelopes are looked for
//! only after the payload failed the schema check, so a schema event costs nothing here.
//! Nothing in this module logs or quotes a payload: a broken envelope is a named rejection.

pub mod cloudwatch;
pub mod eventbridge;
pub mod kpl;
pub mod sns;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::lambda::Payload;
use crate::rejection::Rejection;

/// A pipeline's wrapping around the producer's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Envelope {
    Sns,
    EventBridge,
    CloudWatchLogs,
    Kpl,
}

impl Envelope {
    /// Every envelope, in the order `ENVELOPE`'s documentation lists them.
    pub const ALL: [Envelope; 4] =
        [Envelope::Sns, Envelope::EventBridge, Envelope::CloudWatchLogs, Envelope::Kpl];

    /// The name used in rejections, in `ENVELOPE` and in the template.
    pub fn name(self) -> &'static str {
        match self {
            Envelope::Sns => "sns",
            Envelope::EventBridge => "eventbridge",
            Envelope::CloudWatchLogs => "cloudwatch-logs",
            Envelope::Kpl => "kpl",
        }
    }
}

/// Which envelopes are looked for (`ENVELOPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EnvelopeSetting {
    /// Each record is recognised by its marks; a record without any is a plain payload.
    #[default]
    Auto,
    /// Payloads are taken as they are, as before envelopes were known.
    None,
    /// Every record must be in this envelope; one that is not is rejected.
    Only(Envelope),
}

impl EnvelopeSetting {
    /// The values `ENVELOPE` accepts.
    pub const VALUES: &'static str = "auto, none, sns, eventbridge, cloudwatch-logs or kpl";

    /// Reads an `ENVELOPE` value.
    ///
    /// ```
    /// use cloudtrail_lake_forwarder::prepare::envelope::{Envelope, EnvelopeSetting};
    /// assert_eq!(EnvelopeSetting::parse("kpl"), Some(EnvelopeSetting::Only(Envelope::Kpl)));
    /// assert_eq!(EnvelopeSetting::parse("gzip"), None);
    /// ```
    pub fn parse(value: &str) -> Option<EnvelopeSetting> {
        match value.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(EnvelopeSetting::Auto),
            "none" => Some(EnvelopeSetting::None),
            name => {
                Envelope::ALL.into_iter().find(|envelope| envelope.name() == name).map(EnvelopeSetting::Only)
            }
        }
    }
}

impl fmt::Display for EnvelopeSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvelopeSetting::Auto => f.write_str("auto"),
            EnvelopeSetting::None => f.write_str("none"),
            EnvelopeSetting::Only(envelope) => f.write_str(envelope.name()),
        }
    }
}

/// The events taken out of one record's envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct Unwrapped {
    pub envelope: Envelope,
    /// The envelope's fields shared by all its events, for the mapping's `envelope` pointers.
    pub fields: Arc<Map<String, Value>>,
    /// In record order; empty for a control message (CloudWatch Logs, SNS subscription), which
    /// is answered as done.
    pub events: Vec<InnerEvent>,
}

/// One event inside an envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct InnerEvent {
    /// The event's payload text, or why it cannot be one (a KPL user record that is not UTF-8).
    pub payload: Result<String, Rejection>,
    /// The event's own identity within a record of many (the CloudWatch Logs log event id;
    /// the KPL sequence number and sub-record index); `None` when the record holds one event.
    pub own_id: Option<String>,
    /// The event's id at its source, when the envelope gives one (SNS `MessageId`, EventBridge
    /// `id`, CloudWatch Logs log event `id`): the default `UID`.
    pub source_id: Option<String>,
    /// The envelope's time for the event, as written there (EventBridge `time`, SNS
    /// `Timestamp`, log event `timestamp`): the default `eventTime`.
    pub time: Option<Value>,
    /// Fields of this event only, read by `envelope` pointers before the shared ones
    /// (log event `id`, `timestamp`; KPL `partitionKey`, `explicitHashKey`, `subRecord`).
    pub fields: Map<String, Value>,
}

impl InnerEvent {
    pub fn single(payload: String, source_id: Option<String>, time: Option<Value>) -> InnerEvent {
        InnerEvent { payload: Ok(payload), own_id: None, source_id, time, fields: Map::new() }
    }

    /// The value an `envelope` JSON pointer names: this event's own fields first, then those
    /// the envelope shares.
    pub fn envelope_value<'a>(&'a self, shared: &'a Map<String, Value>, pointer: &str) -> Option<&'a Value> {
        let rest = pointer.strip_prefix('/')?;
        let (key, tail) = match rest.find('/') {
            Some(end) => (&rest[..end], &rest[end..]),
            None => (rest, ""),
        };
        let key = key.replace("~1", "/").replace("~0", "~");
        let value = self.fields.get(&key).or_else(|| shared.get(&key))?;
        if tail.is_empty() {
            Some(value)
        } else {
            value.pointer(tail)
        }
    }
}

/// What the envelope step made of a record's payload.
#[derive(Debug)]
pub enum Opened {
    /// No envelope: the payload is the event.
    Plain(Payload),
    /// An envelope and the events in it.
    Unwrapped(Unwrapped),
}

/// The binary envelope `bytes` begin with, if any: gzip (CloudWatch Logs) or a KPL aggregate.
/// Both may unpack into many events.
pub fn binary_envelope(bytes: &[u8]) -> Option<Envelope> {
    if bytes.starts_with(&cloudwatch::GZIP_MAGIC) {
        Some(Envelope::CloudWatchLogs)
    } else if bytes.starts_with(&kpl::MAGIC) {
        Some(Envelope::Kpl)
    } else {
        None
    }
}

/// Opens the binary envelopes (gzip, KPL), which are recognised by their first bytes before
/// anything reads the payload as text. `sequence_number` names KPL sub-records.
pub fn open_binary(
    setting: EnvelopeSetting,
    payload: Payload,
    sequence_number: Option<&str>,
) -> Result<Opened, Rejection> {
    let bytes = payload.as_bytes();
    let envelope = match setting {
        EnvelopeSetting::None => return Ok(Opened::Plain(payload)),
        EnvelopeSetting::Only(Envelope::CloudWatchLogs) => Envelope::CloudWatchLogs,
        EnvelopeSetting::Only(Envelope::Kpl) => Envelope::Kpl,
        _ => match binary_envelope(bytes) {
            Some(envelope) => envelope,
            None => return Ok(Opened::Plain(payload)),
        },
    };
    match envelope {
        Envelope::CloudWatchLogs if bytes.starts_with(&cloudwatch::GZIP_MAGIC) => {
            cloudwatch::unwrap(bytes).map(Opened::Unwrapped)
        }
        Envelope::Kpl if bytes.starts_with(&kpl::MAGIC) => {
            kpl::unwrap(bytes, sequence_number).map(Opened::Unwrapped)
        }
        _ => Err(Rejection::NotInEnvelope { envelope: envelope.name() }),
    }
}

/// Whether a text payload must be looked at as a JSON envelope: always when one is pinned, in
/// auto mode only after it failed the schema check.
pub fn pinned_json(setting: EnvelopeSetting) -> Option<Envelope> {
    match setting {
        EnvelopeSetting::Only(envelope @ (Envelope::Sns | Envelope::EventBridge)) => Some(envelope),
        _ => None,
    }
}

/// Recognises a JSON envelope (an SNS notification, an EventBridge event) in `text` and takes
/// its event out. `Ok(None)` when the text bears not all of one's marks (or is not a JSON
/// object); a pinned `expected` envelope turns that into a rejection.
///
/// A producer's payload may well have a field called `detail` or `Type`; only the whole set of
/// fields the service always writes tells an envelope from a payload to map, so a payload with
/// some of them is a payload, never a broken envelope.
pub fn open_json(text: &str, expected: Option<Envelope>) -> Result<Option<Unwrapped>, Rejection> {
    let mut members = serde_json::from_str::<Members<'_>>(text).unwrap_or_default();
    let found = sns::take(&mut members).or_else(|| eventbridge::take(&mut members));
    match (found, expected) {
        (Some(found), Some(expected)) if found.envelope != expected => {
            Err(Rejection::NotInEnvelope { envelope: expected.name() })
        }
        (None, Some(expected)) => Err(Rejection::NotInEnvelope { envelope: expected.name() }),
        (found, _) => Ok(found),
    }
}

/// A JSON envelope's top-level members, each still as its text.
type Members<'a> = HashMap<String, &'a RawValue>;

/// The text of the string member `key`, if it is one.
fn text(members: &Members<'_>, key: &str) -> Option<String> {
    members.get(key).and_then(|raw| serde_json::from_str::<String>(raw.get()).ok())
}

/// The envelope's fields as values for the mapping; a field that cannot be read is left out.
fn fields_of(members: Members<'_>) -> Map<String, Value> {
    members.into_iter().filter_map(|(key, raw)| Some((key, serde_json::from_str(raw.get()).ok()?))).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_setting_lists_and_reads_every_envelope_by_name() {
        for envelope in Envelope::ALL {
            assert!(EnvelopeSetting::VALUES.contains(envelope.name()), "{}", envelope.name());
            assert_eq!(EnvelopeSetting::parse(envelope.name()), Some(EnvelopeSetting::Only(envelope)));
        }
    }

    use super::*;
    use serde_json::json;

    fn sns_body(message: &str) -> String {
        json!({"Type": "Notification", "MessageId": "5f1c-22", "TopicArn": "arn:aws:sns:us-east-1:123456789012:audit",
               "Subject": "s", "Message": message, "Timestamp": "2026-11-26T04:00:00.123Z",
               "SignatureVersion": "1", "Signature": "c2ln", "SigningCertURL": "https://x", "UnsubscribeURL": "https://y"})
        .to_string()
    }

    fn event_bridge_body(detail: &str) -> String {
        format!(
            r#"{{"version":"0","id":"eb-1","detail-type":"Order Placed","source":"shop.orders","account":"123456789012",
                "time":"2026-11-26T04:00:00Z","region":"us-east-1","resources":[],"detail":{detail}}}"#
        )
    }

    #[test]
    fn an_sns_notification_yields_its_message_with_the_envelope_fields() {
        let opened = open_json(&sns_body("{\"a\": 1}"), None).unwrap().unwrap();
        assert_eq!(opened.envelope, Envelope::Sns);
        let inner = &opened.events[0];
        assert_eq!(inner.payload.as_deref(), Ok("{\"a\": 1}"));
        assert_eq!(inner.source_id.as_deref(), Some("5f1c-22"));
        assert_eq!(inner.time, Some(json!("2026-11-26T04:00:00.123Z")));
        assert_eq!(
            inner.envelope_value(&opened.fields, "/TopicArn"),
            Some(&json!("arn:aws:sns:us-east-1:123456789012:audit"))
        );
        assert!(!opened.fields.contains_key("Message"));
    }

    #[test]
    fn an_event_bridge_detail_is_taken_byte_for_byte() {
        let detail = r#"{ "z": 1,  "a": [true] }"#;
        let opened = open_json(&event_bridge_body(detail), None).unwrap().unwrap();
        assert_eq!(opened.envelope, Envelope::EventBridge);
        assert_eq!(opened.events[0].payload.as_deref(), Ok(detail));
        assert_eq!(opened.events[0].source_id.as_deref(), Some("eb-1"));
        assert_eq!(
            opened.events[0].envelope_value(&opened.fields, "/detail-type"),
            Some(&json!("Order Placed"))
        );
    }

    #[test]
    fn sns_subscription_control_messages_hold_no_events_and_keep_nothing() {
        for kind in ["SubscriptionConfirmation", "UnsubscribeConfirmation"] {
            let body = json!({"Type": kind, "MessageId": "m-1", "Token": "secret-token",
                              "TopicArn": "arn:aws:sns:us-east-1:123456789012:audit", "Message": "You have chosen...",
                              "SubscribeURL": "https://sns.example/?Token=secret-token", "Timestamp": "2026-11-26T04:00:00Z"})
            .to_string();
            let opened = open_json(&body, None).unwrap().unwrap();
            assert_eq!((opened.envelope, opened.events.len(), opened.fields.len()), (Envelope::Sns, 0, 0));
            assert_eq!(open_json(&body, Some(Envelope::Sns)).unwrap().unwrap().events, []);
            let without_token = body.replace("\"Token\":\"secret-token\",", "");
            assert_eq!(open_json(&without_token, None), Ok(None));
        }
    }

    #[test]
    fn text_without_marks_is_no_envelope_unless_one_is_pinned() {
        for text in ["{\"Type\":\"Notification\"}", "{\"detail\":{}}", "[1]", "not json", ""] {
            assert_eq!(open_json(text, None), Ok(None), "{text}");
            assert_eq!(
                open_json(text, Some(Envelope::Sns)),
                Err(Rejection::NotInEnvelope { envelope: "sns" }),
                "{text}"
            );
        }
        assert_eq!(
            open_json(&sns_body("{}"), Some(Envelope::EventBridge)),
            Err(Rejection::NotInEnvelope { envelope: "eventbridge" })
        );
    }

    #[test]
    fn a_payload_with_only_some_envelope_marks_is_a_plain_payload() {
        let plain = [
            // A producer's own fields that happen to share EventBridge's names.
            r#"{"n":"x","detail-type":"order","detail":{"a":1}}"#.to_string(),
            event_bridge_body("[1]"),
            event_bridge_body("{}").replace("\"version\":\"0\"", "\"version\":\"1\""),
            event_bridge_body("{}").replace("\"source\":\"shop.orders\",", ""),
            event_bridge_body("{}").replace("\"account\":\"123456789012\",", ""),
            event_bridge_body("{}").replace("\"id\":\"eb-1\"", "\"id\":1"),
            event_bridge_body("{}").replace("\"time\":\"2026-11-26T04:00:00Z\",", ""),
            event_bridge_body("{}").replace("\"detail-type\":\"Order Placed\"", "\"detail-type\":[]"),
            // A producer's own fields that happen to share SNS's names.
            r#"{"Type":"Notification","TopicArn":"t","Message":"m"}"#.to_string(),
            sns_body("x").replace("\"Message\":\"x\"", "\"Message\":{}"),
            sns_body("x").replace("\"MessageId\":\"5f1c-22\",", ""),
            sns_body("x").replace("\"TopicArn\":\"arn:aws:sns:us-east-1:123456789012:audit\",", ""),
        ];
        for text in plain {
            assert_eq!(open_json(&text, None), Ok(None), "{text}");
        }
        assert!(open_json(&event_bridge_body("{}"), None).unwrap().is_some());
        assert!(open_json(&sns_body("x"), None).unwrap().is_some());
    }

    #[test]
    fn binary_envelopes_are_told_by_their_magic_and_pinning_refuses_others() {
        let plain = Payload::Bytes(b"{}".to_vec());
        assert!(matches!(open_binary(EnvelopeSetting::Auto, plain.clone(), None), Ok(Opened::Plain(_))));
        assert_eq!(
            open_binary(EnvelopeSetting::Only(Envelope::Kpl), plain.clone(), None).unwrap_err(),
            Rejection::NotInEnvelope { envelope: "kpl" }
        );
        let gzip = Payload::Bytes(vec![0x1f, 0x8b, 0, 0]);
        assert!(matches!(open_binary(EnvelopeSetting::None, gzip.clone(), None), Ok(Opened::Plain(_))));
        assert!(matches!(open_binary(EnvelopeSetting::Auto, gzip, None), Err(Rejection::BadGzip { .. })));
    }

    #[test]
    fn the_setting_reads_every_documented_value() {
        for value in ["auto", "none", "sns", "eventbridge", "cloudwatch-logs", "kpl"] {
            assert_eq!(EnvelopeSetting::parse(value).unwrap().to_string(), value);
        }
        assert_eq!(EnvelopeSetting::parse(" SNS "), Some(EnvelopeSetting::Only(Envelope::Sns)));
    }
}

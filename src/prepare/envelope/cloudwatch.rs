//! CloudWatch Logs subscription data: gzip of `{messageType, owner, logGroup, logStream,
//! subscriptionFilters, logEvents: [{id, timestamp, message}]}`.
//!
//! Inflating is bounded while it happens: the output never grows past [`MAX_INFLATED_BYTES`],
//! so a gzip bomb costs at most that much memory and is a named rejection. One gzip stream is
//! the whole record: bytes after its end are refused, never skipped. The log events are
//! counted while they are read, so a record claiming a million of them is refused at the
//! 10,001st, before it is held in memory.

use std::io::Read;
use std::sync::Arc;

use flate2::bufread::GzDecoder;
use serde::de::{Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{Envelope, InnerEvent, Unwrapped};
use crate::rejection::Rejection;

/// The first bytes of every gzip stream.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The most a record may inflate to: 16 MiB. A Kinesis record holds at most 1 MiB (10 MiB on
/// the newest limits) and CloudWatch Logs text compresses about ten to one.
pub const MAX_INFLATED_BYTES: usize = 16 * 1024 * 1024;

/// The most log events one record may hold. CloudWatch Logs puts at most 10,000 log events in
/// a `PutLogEvents` batch, and a subscription delivers at most that many in one record.
pub const MAX_LOG_EVENTS: usize = 10_000;

const ENVELOPE: &str = "CloudWatch Logs";
const TOO_MANY: &str = "too many log events";

/// Inflates and reads a subscription record. A `CONTROL_MESSAGE` holds no events.
pub fn unwrap(gzip: &[u8]) -> Result<Unwrapped, Rejection> {
    let json = inflate(gzip, MAX_INFLATED_BYTES)?;
    let data: LogData = serde_json::from_slice(&json).map_err(|error| {
        if error.to_string().starts_with(TOO_MANY) {
            Rejection::TooManyEvents { envelope: ENVELOPE, limit: MAX_LOG_EVENTS }
        } else {
            bad("the inflated data is not a CloudWatch Logs subscription message")
        }
    })?;
    let mut fields = Map::new();
    fields.insert("messageType".into(), Value::String(data.message_type.clone()));
    for (key, value) in [("owner", data.owner), ("logGroup", data.log_group), ("logStream", data.log_stream)]
    {
        if let Some(value) = value {
            fields.insert(key.into(), Value::String(value));
        }
    }
    if let Some(filters) = data.subscription_filters {
        fields.insert(
            "subscriptionFilters".into(),
            Value::Array(filters.into_iter().map(Value::String).collect()),
        );
    }
    let events = match data.message_type.as_str() {
        "CONTROL_MESSAGE" => Vec::new(),
        // CloudWatch Logs never sends an empty one: answering it as done would pass over
        // whatever went wrong upstream without a word.
        "DATA_MESSAGE" if data.log_events.0.is_empty() => {
            return Err(bad("a DATA_MESSAGE holds no log events"))
        }
        "DATA_MESSAGE" => data.log_events.0.into_iter().map(inner).collect(),
        _ => return Err(bad("messageType is neither DATA_MESSAGE nor CONTROL_MESSAGE")),
    };
    Ok(Unwrapped { envelope: Envelope::CloudWatchLogs, fields: Arc::new(fields), events })
}

fn inner(event: LogEvent) -> InnerEvent {
    let mut fields = Map::new();
    fields.insert("id".into(), Value::String(event.id.clone()));
    fields.insert("timestamp".into(), Value::from(event.timestamp));
    InnerEvent {
        payload: Ok(event.message),
        own_id: Some(event.id.clone()),
        source_id: Some(event.id),
        time: Some(Value::from(event.timestamp)),
        fields,
    }
}

fn bad(problem: &'static str) -> Rejection {
    Rejection::BadEnvelope { envelope: ENVELOPE, problem }
}

/// Inflates `gzip`, refusing to produce more than `limit` bytes, and refusing bytes after the
/// end of the gzip stream: a second gzip member (or anything else) there would otherwise be
/// dropped unread, and with it the log events it holds.
pub fn inflate(gzip: &[u8], limit: usize) -> Result<Vec<u8>, Rejection> {
    // The `bufread` decoder takes from the slice only what the stream uses, so what is left in
    // it at the end is exactly what follows the stream.
    let mut decoder = GzDecoder::new(gzip);
    let mut out: Vec<u8> = Vec::with_capacity(gzip.len().saturating_mul(4).min(limit));
    let mut chunk = [0u8; 64 * 1024];
    loop {
        let read = decoder.read(&mut chunk).map_err(|error| match error.kind() {
            std::io::ErrorKind::UnexpectedEof => {
                Rejection::BadGzip { problem: "the data ends inside the gzip stream" }
            }
            _ => Rejection::BadGzip { problem: "the gzip stream is corrupt or its checksum does not match" },
        })?;
        if read == 0 {
            if !decoder.into_inner().is_empty() {
                return Err(Rejection::BadGzip { problem: "data follows the end of the gzip stream" });
            }
            return Ok(out);
        }
        if out.len() + read > limit {
            return Err(Rejection::GzipTooLarge { limit });
        }
        if out.capacity() < out.len() + read {
            // Grow by doubling, but never past the bound.
            let wanted = out.capacity().max(read).min(limit - out.len());
            out.reserve_exact(wanted);
        }
        out.extend_from_slice(&chunk[..read]);
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogData {
    message_type: String,
    owner: Option<String>,
    log_group: Option<String>,
    log_stream: Option<String>,
    subscription_filters: Option<Vec<String>>,
    #[serde(default)]
    log_events: LogEvents,
}

#[derive(Deserialize)]
struct LogEvent {
    id: String,
    timestamp: i64,
    message: String,
}

/// The log events, read one by one and refused past [`MAX_LOG_EVENTS`].
#[derive(Default)]
struct LogEvents(Vec<LogEvent>);

impl<'de> Deserialize<'de> for LogEvents {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<LogEvents, D::Error> {
        struct Bounded;
        impl<'de> Visitor<'de> for Bounded {
            type Value = LogEvents;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of log events")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<LogEvents, A::Error> {
                let mut events = Vec::new();
                while let Some(event) = seq.next_element::<LogEvent>()? {
                    if events.len() == MAX_LOG_EVENTS {
                        return Err(serde::de::Error::custom(TOO_MANY));
                    }
                    events.push(event);
                }
                Ok(LogEvents(events))
            }
        }
        deserializer.deserialize_seq(Bounded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::Compression;
    use serde_json::json;
    use std::io::Write;

    pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn data_message(events: &[(&str, i64, &str)]) -> Vec<u8> {
        let events: Vec<Value> = events
            .iter()
            .map(|(id, timestamp, message)| json!({"id": id, "timestamp": timestamp, "message": message}))
            .collect();
        gzip(
            json!({"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/app/audit",
                   "logStream": "i-1", "subscriptionFilters": ["to-kinesis"], "logEvents": events})
            .to_string()
            .as_bytes(),
        )
    }

    #[test]
    fn each_log_event_is_an_event_with_its_id_and_time() {
        let unwrapped = unwrap(&data_message(&[
            ("1001", 1_764_129_600_000, "{\"a\":1}"),
            ("1002", 1_764_129_601_000, "plain text"),
        ]))
        .unwrap();
        assert_eq!(unwrapped.events.len(), 2);
        assert_eq!(unwrapped.events[1].payload.as_deref(), Ok("plain text"));
        assert_eq!(unwrapped.events[0].own_id.as_deref(), Some("1001"));
        assert_eq!(unwrapped.events[0].time, Some(json!(1_764_129_600_000i64)));
        assert_eq!(unwrapped.events[1].envelope_value(&unwrapped.fields, "/id"), Some(&json!("1002")));
        assert_eq!(
            unwrapped.events[1].envelope_value(&unwrapped.fields, "/logGroup"),
            Some(&json!("/app/audit"))
        );
    }

    #[test]
    fn a_control_message_holds_no_events() {
        let control = gzip(br#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."}]}"#);
        assert_eq!(unwrap(&control).unwrap().events, []);
    }

    #[test]
    fn a_data_message_without_log_events_is_malformed() {
        let no_events = bad("a DATA_MESSAGE holds no log events");
        assert_eq!(unwrap(&data_message(&[])), Err(no_events.clone()));
        assert_eq!(
            unwrap(&gzip(br#"{"messageType":"DATA_MESSAGE","owner":"123456789012"}"#)),
            Err(no_events)
        );
    }

    #[test]
    fn broken_gzip_is_named() {
        let whole = data_message(&[("1", 1, "m")]);
        assert_eq!(
            unwrap(&whole[..whole.len() / 2]),
            Err(Rejection::BadGzip { problem: "the data ends inside the gzip stream" })
        );
        let mut corrupt = whole.clone();
        let last = corrupt.len() - 5;
        corrupt[last] ^= 0xff; // the CRC
        assert!(matches!(unwrap(&corrupt), Err(Rejection::BadGzip { .. })));
        assert!(matches!(unwrap(&gzip(b"[1,2]")), Err(Rejection::BadEnvelope { .. })));
    }

    #[test]
    fn bytes_after_the_gzip_stream_are_refused_not_dropped() {
        let first = data_message(&[("1", 1, "a")]);
        let follows = Err(Rejection::BadGzip { problem: "data follows the end of the gzip stream" });
        // A second gzip member would be a second message's log events: never silently lost.
        let two_members = [first.clone(), data_message(&[("2", 2, "b")])].concat();
        assert_eq!(unwrap(&two_members), follows);
        assert_eq!(unwrap(&[first.clone(), b"trailing garbage".to_vec()].concat()), follows);
        assert_eq!(unwrap(&[first.clone(), vec![0]].concat()), follows);
        assert_eq!(unwrap(&first).unwrap().events.len(), 1);
    }

    #[test]
    fn a_gzip_bomb_is_refused_at_the_bound() {
        let bomb = gzip(&vec![b' '; 20 * 1024 * 1024]);
        assert!(bomb.len() < 100_000);
        assert_eq!(unwrap(&bomb), Err(Rejection::GzipTooLarge { limit: MAX_INFLATED_BYTES }));
        assert_eq!(inflate(&gzip(&[7; 100]), 100).unwrap().len(), 100);
        assert_eq!(inflate(&gzip(&[7; 101]), 100), Err(Rejection::GzipTooLarge { limit: 100 }));
    }

    #[test]
    fn more_log_events_than_the_bound_are_refused() {
        let events: Vec<(String, i64, &str)> =
            (0..=MAX_LOG_EVENTS).map(|i| (i.to_string(), 1, "m")).collect();
        let events: Vec<(&str, i64, &str)> = events.iter().map(|(id, t, m)| (id.as_str(), *t, *m)).collect();
        assert_eq!(
            unwrap(&data_message(&events)),
            Err(Rejection::TooManyEvents { envelope: "CloudWatch Logs", limit: MAX_LOG_EVENTS })
        );
        assert_eq!(unwrap(&data_message(&events[..MAX_LOG_EVENTS])).unwrap().events.len(), MAX_LOG_EVENTS);
    }
}

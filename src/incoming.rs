//! The invocation's event as it arrives: only the fields the forwarder reads, read loosely.
//!
//! Deserialising the whole event into `serde_json::Value` would build a map for every record
//! and keep every field Lambda sends; here the fields the forwarder needs are kept and the rest
//! is skipped unread. Nothing in a record can make this fail: a field of the wrong type is
//! simply absent, so one malformed record is judged on its own later, never failing the batch.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A Lambda event: its `Records` list, if it has one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IncomingEvent {
    pub records: Option<Vec<RawRecord>>,
}

/// The fields of one SQS or Kinesis record the forwarder reads; each is `None` when missing or
/// not of the expected type.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawRecord {
    pub event_source: Option<String>,
    pub event_source_arn: Option<String>,
    /// SQS `messageId`.
    pub message_id: Option<String>,
    /// SQS `body`.
    pub body: Option<String>,
    /// SQS `attributes.MessageGroupId`.
    pub message_group_id: Option<String>,
    /// SQS `attributes.SentTimestamp`: epoch milliseconds, as a string.
    pub sent_timestamp: Option<String>,
    /// Kinesis `kinesis.sequenceNumber`.
    pub sequence_number: Option<String>,
    /// Kinesis `kinesis.data`, still base64.
    pub data: Option<String>,
    /// Kinesis `kinesis.approximateArrivalTimestamp`, epoch seconds.
    pub approximate_arrival_timestamp: Option<f64>,
}

/// Which object a map is, and so which of its fields are kept.
#[derive(Clone, Copy)]
enum Shape {
    Event,
    Record,
    Attributes,
    Kinesis,
}

/// What a value turned out to be, of what the forwarder may keep.
enum Loose {
    Text(String),
    Number(f64),
    Records(Vec<RawRecord>),
    Record(Box<RawRecord>),
    Other,
}

struct LooseVisitor {
    /// The shape expected if the value is a map; `None` skips maps.
    map: Option<Shape>,
    /// Whether an array is the `Records` list.
    records: bool,
}

impl<'de> Deserialize<'de> for IncomingEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<IncomingEvent, D::Error> {
        match deserializer.deserialize_any(LooseVisitor { map: Some(Shape::Event), records: false })? {
            Loose::Records(records) => Ok(IncomingEvent { records: Some(records) }),
            _ => Ok(IncomingEvent { records: None }),
        }
    }
}

/// Deserialises one value with `visitor`'s expectations.
struct Seed(LooseVisitor);

impl<'de> serde::de::DeserializeSeed<'de> for Seed {
    type Value = Loose;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Loose, D::Error> {
        deserializer.deserialize_any(self.0)
    }
}

/// An object key, borrowed from the input unless it has escapes: keys are compared, never kept,
/// so the many keys of a large batch cost no allocation.
struct KeySeed;

impl<'de> serde::de::DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Cow<'de, str>, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(key))
    }
    fn visit_str<E>(self, key: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(key.to_owned()))
    }
    fn visit_string<E>(self, key: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(key))
    }
}

fn leaf() -> Seed {
    Seed(LooseVisitor { map: None, records: false })
}

impl<'de> Visitor<'de> for LooseVisitor {
    type Value = Loose;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Loose, E> {
        Ok(Loose::Other)
    }
    fn visit_i64<E>(self, value: i64) -> Result<Loose, E> {
        Ok(Loose::Number(value as f64))
    }
    fn visit_u64<E>(self, value: u64) -> Result<Loose, E> {
        Ok(Loose::Number(value as f64))
    }
    fn visit_f64<E>(self, value: f64) -> Result<Loose, E> {
        Ok(Loose::Number(value))
    }
    fn visit_unit<E>(self) -> Result<Loose, E> {
        Ok(Loose::Other)
    }
    fn visit_str<E>(self, value: &str) -> Result<Loose, E> {
        Ok(Loose::Text(value.to_owned()))
    }
    fn visit_string<E>(self, value: String) -> Result<Loose, E> {
        Ok(Loose::Text(value))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Loose, A::Error> {
        if !self.records {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(Loose::Other);
        }
        let mut records = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        let record = || Seed(LooseVisitor { map: Some(Shape::Record), records: false });
        while let Some(element) = seq.next_element_seed(record())? {
            records.push(match element {
                Loose::Record(record) => *record,
                _ => RawRecord::default(),
            });
        }
        Ok(Loose::Records(records))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Loose, A::Error> {
        let Some(shape) = self.map else {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(Loose::Other);
        };
        let mut record = RawRecord::default();
        let mut records = None;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let text = |value: Loose| match value {
                Loose::Text(text) => Some(text),
                _ => None,
            };
            match (shape, key.as_ref()) {
                (Shape::Event, "Records") => {
                    let list = map.next_value_seed(Seed(LooseVisitor { map: None, records: true }))?;
                    if let Loose::Records(list) = list {
                        records = Some(list);
                    }
                }
                (Shape::Record, "eventSource") => record.event_source = text(map.next_value_seed(leaf())?),
                (Shape::Record, "eventSourceARN") => {
                    record.event_source_arn = text(map.next_value_seed(leaf())?)
                }
                (Shape::Record, "messageId") => record.message_id = text(map.next_value_seed(leaf())?),
                (Shape::Record, "body") => record.body = text(map.next_value_seed(leaf())?),
                (Shape::Record, "attributes") => {
                    let nested = Seed(LooseVisitor { map: Some(Shape::Attributes), records: false });
                    if let Loose::Record(attributes) = map.next_value_seed(nested)? {
                        record.message_group_id = attributes.message_group_id;
                        record.sent_timestamp = attributes.sent_timestamp;
                    }
                }
                (Shape::Record, "kinesis") => {
                    let nested = Seed(LooseVisitor { map: Some(Shape::Kinesis), records: false });
                    if let Loose::Record(kinesis) = map.next_value_seed(nested)? {
                        record.sequence_number = kinesis.sequence_number;
                        record.data = kinesis.data;
                        record.approximate_arrival_timestamp = kinesis.approximate_arrival_timestamp;
                    }
                }
                (Shape::Attributes, "MessageGroupId") => {
                    record.message_group_id = text(map.next_value_seed(leaf())?)
                }
                (Shape::Attributes, "SentTimestamp") => {
                    record.sent_timestamp = text(map.next_value_seed(leaf())?)
                }
                (Shape::Kinesis, "sequenceNumber") => {
                    record.sequence_number = text(map.next_value_seed(leaf())?)
                }
                (Shape::Kinesis, "data") => record.data = text(map.next_value_seed(leaf())?),
                (Shape::Kinesis, "approximateArrivalTimestamp") => {
                    if let Loose::Number(seconds) = map.next_value_seed(leaf())? {
                        record.approximate_arrival_timestamp = Some(seconds);
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(match shape {
            Shape::Event => records.map_or(Loose::Other, Loose::Records),
            _ => Loose::Record(Box::new(record)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> IncomingEvent {
        serde_json::from_str(json).expect("any JSON is read")
    }

    #[test]
    fn only_the_fields_the_forwarder_needs_are_kept() {
        let event = read(
            r#"{"Records":[{"messageId":"m1","body":"{}","eventSource":"aws:sqs","extra":{"deep":[1,2]},
                "attributes":{"MessageGroupId":"g","SentTimestamp":"1"},"eventSourceARN":"arn:q.fifo"},
               {"kinesis":{"sequenceNumber":"42","data":"e30=","approximateArrivalTimestamp":1.5},"eventSource":"aws:kinesis"}]}"#,
        );
        let records = event.records.unwrap();
        assert_eq!(records[0].message_id.as_deref(), Some("m1"));
        assert_eq!(records[0].message_group_id.as_deref(), Some("g"));
        assert_eq!(records[0].sent_timestamp.as_deref(), Some("1"));
        assert_eq!(records[0].event_source_arn.as_deref(), Some("arn:q.fifo"));
        assert_eq!(records[1].sequence_number.as_deref(), Some("42"));
        assert_eq!(records[1].approximate_arrival_timestamp, Some(1.5));
    }

    #[test]
    fn fields_of_the_wrong_type_are_absent_and_never_fail_the_event() {
        let event =
            read(r#"{"Records":[{"messageId":7,"body":{"a":1},"attributes":"x"},"not a record",[1]]}"#);
        let records = event.records.unwrap();
        assert_eq!(records.len(), 3);
        assert_eq!(records[0], RawRecord::default());
        assert_eq!(records[1], RawRecord::default());
    }

    #[test]
    fn an_event_without_a_records_list_has_none() {
        for json in [r#"{"key1":"value1"}"#, r#""text""#, "[1,2]", "null", r#"{"Records":"no"}"#] {
            assert_eq!(read(json).records, None, "{json}");
        }
    }
}

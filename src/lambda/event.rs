//! The invocation's event as it arrives: only the fields the forwarder reads, read loosely.
//!
//! Deserialising the whole event into `serde_json::Value` would build a map for every record
//! and keep every field Lambda sends; here the fields the forwarder needs are kept and the rest
//! is skipped unread. Nothing in a record can make this fail: a field of the wrong type is
//! simply absent, so one malformed record is judged on its own later, never failing the batch.
//!
//! Reading is one pass that allocates little: each record is filled in place, strings are
//! looked at where they lie in the event's text, Kinesis data is base64-decoded from there
//! straight into its bytes, and the `eventSource` and `eventSourceARN` every record repeats are
//! kept once and shared.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::de::{Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The visitor methods of a reader for the scalar values it has no use for: each answers
/// `$skipped`, so a value of the wrong type is absent rather than an error of the whole event.
macro_rules! skip_scalars {
    ($skipped:expr) => {
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok($skipped)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok($skipped)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok($skipped)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok($skipped)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok($skipped)
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok($skipped)
        }
    };
}

/// A Lambda event: its `Records` list, if it has one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IncomingEvent {
    pub records: Option<Vec<RawRecord>>,
}

/// The fields of one SQS or Kinesis record the forwarder reads; each is `None` when missing or
/// not of the expected type.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawRecord {
    /// Shared with the other records that have the same.
    pub event_source: Option<Arc<str>>,
    /// Shared with the other records that have the same.
    pub event_source_arn: Option<Arc<str>>,
    /// SQS `messageId`.
    pub message_id: Option<Arc<str>>,
    /// SQS `body`.
    pub body: Option<String>,
    /// SQS `attributes.MessageGroupId`.
    pub message_group_id: Option<String>,
    /// SQS `attributes.SentTimestamp`: epoch milliseconds, as a string.
    pub sent_timestamp: Option<String>,
    /// Kinesis `kinesis.sequenceNumber`.
    pub sequence_number: Option<Arc<str>>,
    /// Kinesis `kinesis.data`, base64-decoded; `Err` when it is not base64.
    pub data: Option<Result<Vec<u8>, NotBase64>>,
    /// Kinesis `kinesis.approximateArrivalTimestamp`, epoch seconds.
    pub approximate_arrival_timestamp: Option<f64>,
}

/// Kinesis data that is a string but not base64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotBase64;

impl<'de> Deserialize<'de> for IncomingEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<IncomingEvent, D::Error> {
        deserializer.deserialize_any(EventVisitor)
    }
}

/// The event: a map with a `Records` list, or anything else, which has no records.
struct EventVisitor;

impl<'de> Visitor<'de> for EventVisitor {
    type Value = IncomingEvent;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Lambda event")
    }
    skip_scalars!(IncomingEvent::default());
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<IncomingEvent, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(IncomingEvent::default())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<IncomingEvent, A::Error> {
        let mut records = None;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if key == "Records" {
                // A later `Records` that is not a list does not undo an earlier list.
                if let Some(list) = map.next_value_seed(RecordsSeed)? {
                    records = Some(list);
                }
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(IncomingEvent { records })
    }
}

/// The `Records` value: its records when it is a list, `None` otherwise.
struct RecordsSeed;

impl<'de> DeserializeSeed<'de> for RecordsSeed {
    type Value = Option<Vec<RawRecord>>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RecordsSeed {
    type Value = Option<Vec<RawRecord>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of records")
    }
    skip_scalars!(None);
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut records = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        let mut shared = Shared::default();
        loop {
            let mut record = RawRecord::default();
            let seed = Fill { record: &mut record, shape: Shape::Record, shared: &mut shared };
            if seq.next_element_seed(seed)?.is_none() {
                return Ok(Some(records));
            }
            records.push(record);
        }
    }
}

/// The values records repeat, kept once: the last `eventSource` and `eventSourceARN` read.
#[derive(Default)]
struct Shared {
    event_source: Option<Arc<str>>,
    event_source_arn: Option<Arc<str>>,
}

/// `text` as a shared string: `last` when it says the same, otherwise a new one kept as `last`.
fn shared(last: &mut Option<Arc<str>>, text: &str) -> Arc<str> {
    match last {
        Some(last) if **last == *text => Arc::clone(last),
        _ => last.insert(Arc::from(text)).clone(),
    }
}

/// Which object a map is, and so which of its fields are kept.
#[derive(Clone, Copy)]
enum Shape {
    Record,
    Attributes,
    Kinesis,
}

/// Reads a value into `record` if it is a map of the given shape; any other value is skipped
/// and leaves the record as it is.
struct Fill<'r> {
    record: &'r mut RawRecord,
    shape: Shape,
    shared: &'r mut Shared,
}

impl<'de> DeserializeSeed<'de> for Fill<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Fill<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a record")
    }
    skip_scalars!(());
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Fill { record, shape, shared: repeated } = self;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match (shape, key.as_ref()) {
                (Shape::Record, "eventSource") => {
                    record.event_source = map
                        .next_value_seed(LeafSeed)?
                        .text()
                        .map(|text| shared(&mut repeated.event_source, &text))
                }
                (Shape::Record, "eventSourceARN") => {
                    record.event_source_arn = map
                        .next_value_seed(LeafSeed)?
                        .text()
                        .map(|text| shared(&mut repeated.event_source_arn, &text))
                }
                (Shape::Record, "messageId") => {
                    record.message_id = map.next_value_seed(LeafSeed)?.text().map(|text| Arc::from(&*text))
                }
                (Shape::Record, "body") => record.body = map.next_value_seed(LeafSeed)?.owned(),
                (Shape::Record, "attributes") => map.next_value_seed(Fill {
                    record: &mut *record,
                    shape: Shape::Attributes,
                    shared: &mut *repeated,
                })?,
                (Shape::Record, "kinesis") => map.next_value_seed(Fill {
                    record: &mut *record,
                    shape: Shape::Kinesis,
                    shared: &mut *repeated,
                })?,
                (Shape::Attributes, "MessageGroupId") => {
                    record.message_group_id = map.next_value_seed(LeafSeed)?.owned()
                }
                (Shape::Attributes, "SentTimestamp") => {
                    record.sent_timestamp = map.next_value_seed(LeafSeed)?.owned()
                }
                (Shape::Kinesis, "sequenceNumber") => {
                    record.sequence_number =
                        map.next_value_seed(LeafSeed)?.text().map(|text| Arc::from(&*text))
                }
                (Shape::Kinesis, "data") => {
                    record.data = map.next_value_seed(LeafSeed)?.text().map(|base64| {
                        crate::lambda::unbase64::decode(base64.as_bytes()).map_err(|_| NotBase64)
                    })
                }
                (Shape::Kinesis, "approximateArrivalTimestamp") => {
                    if let Leaf::Number(seconds) = map.next_value_seed(LeafSeed)? {
                        record.approximate_arrival_timestamp = Some(seconds);
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// A field's value, of what the forwarder may keep: text where it lies in the event when it
/// has no escapes, a number, or only that it was something else.
enum Leaf<'de> {
    Text(Cow<'de, str>),
    Number(f64),
    Other,
}

impl<'de> Leaf<'de> {
    fn text(self) -> Option<Cow<'de, str>> {
        match self {
            Leaf::Text(text) => Some(text),
            _ => None,
        }
    }

    fn owned(self) -> Option<String> {
        self.text().map(Cow::into_owned)
    }
}

struct LeafSeed;

impl<'de> DeserializeSeed<'de> for LeafSeed {
    type Value = Leaf<'de>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Leaf<'de>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for LeafSeed {
    type Value = Leaf<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Leaf<'de>, E> {
        Ok(Leaf::Other)
    }
    fn visit_i64<E>(self, value: i64) -> Result<Leaf<'de>, E> {
        Ok(Leaf::Number(value as f64))
    }
    fn visit_u64<E>(self, value: u64) -> Result<Leaf<'de>, E> {
        Ok(Leaf::Number(value as f64))
    }
    fn visit_f64<E>(self, value: f64) -> Result<Leaf<'de>, E> {
        Ok(Leaf::Number(value))
    }
    fn visit_unit<E>(self) -> Result<Leaf<'de>, E> {
        Ok(Leaf::Other)
    }
    fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Leaf<'de>, E> {
        Ok(Leaf::Text(Cow::Borrowed(value)))
    }
    fn visit_str<E>(self, value: &str) -> Result<Leaf<'de>, E> {
        Ok(Leaf::Text(Cow::Owned(value.to_owned())))
    }
    fn visit_string<E>(self, value: String) -> Result<Leaf<'de>, E> {
        Ok(Leaf::Text(Cow::Owned(value)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Leaf<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Leaf::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Leaf<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Leaf::Other)
    }
}

/// An object key, borrowed from the input unless it has escapes: keys are compared, never kept,
/// so the many keys of a large batch cost no allocation.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
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
    fn kinesis_data_is_decoded_as_it_is_read_even_with_json_escapes() {
        let event = read(
            r#"{"Records":[{"kinesis":{"data":"e30="}},{"kinesis":{"data":"e30\u003d"}},
               {"kinesis":{"data":"not base64!"}},{"kinesis":{"data":7}}]}"#,
        );
        let data: Vec<_> = event.records.unwrap().into_iter().map(|record| record.data).collect();
        assert_eq!(data, [Some(Ok(b"{}".to_vec())), Some(Ok(b"{}".to_vec())), Some(Err(NotBase64)), None]);
    }

    #[test]
    fn records_share_the_source_they_repeat_and_keep_their_own_when_it_differs() {
        let event = read(
            r#"{"Records":[{"eventSource":"aws:sqs","eventSourceARN":"arn:a"},
               {"eventSource":"aws:sqs","eventSourceARN":"arn:a"},
               {"eventSource":"aws:sqs","eventSourceARN":"arn:b"}]}"#,
        );
        let records = event.records.unwrap();
        let arn = |i: usize| records[i].event_source_arn.clone().unwrap();
        assert!(Arc::ptr_eq(&arn(0), &arn(1)));
        assert_eq!((&*arn(0), &*arn(2)), ("arn:a", "arn:b"));
        assert!(Arc::ptr_eq(
            records[0].event_source.as_ref().unwrap(),
            records[2].event_source.as_ref().unwrap()
        ));
    }

    #[test]
    fn an_event_without_a_records_list_has_none() {
        for json in [r#"{"key1":"value1"}"#, r#""text""#, "[1,2]", "null", r#"{"Records":"no"}"#] {
            assert_eq!(read(json).records, None, "{json}");
        }
    }
}

//! Lambda event → records: the identity Lambda knows each record by, and its payload.
//!
//! Records are read loosely from the raw JSON so that one malformed record never fails the
//! batch: a record whose payload cannot be read still keeps its identifier, and is reported
//! back to Lambda with the reason. Only what makes a record unanswerable (no identifier at all)
//! or the event unreadable is an error of the whole invocation.

pub mod answer;
pub mod event;
pub mod kinesis;
pub mod ordering;
pub mod read;
pub mod s3;
pub mod sqs;
pub mod unbase64;

use std::fmt;
use std::sync::Arc;

use crate::lambda::event::{IncomingEvent, RawRecord};
use crate::rejection::Rejection;

/// Which event source mapping delivered the batch; it decides how failures are answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A standard SQS queue: each message stands alone.
    Sqs,
    /// A FIFO SQS queue: messages of one message group must stay in order.
    SqsFifo,
    /// A Kinesis shard: Lambda resumes at the lowest reported sequence number.
    Kinesis,
}

impl Source {
    /// The field that identifies a record of this source to Lambda.
    pub fn identifier_field(self) -> &'static str {
        match self {
            Source::Sqs | Source::SqsFifo => sqs::IDENTIFIER_FIELD,
            Source::Kinesis => kinesis::IDENTIFIER_FIELD,
        }
    }

    /// The `eventSource` each record of this source names.
    pub fn event_source(self) -> &'static str {
        match self {
            Source::Sqs | Source::SqsFifo => sqs::EVENT_SOURCE,
            Source::Kinesis => kinesis::EVENT_SOURCE,
        }
    }

    /// The name used in logs and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Source::Sqs | Source::SqsFifo => "sqs",
            Source::Kinesis => "kinesis",
        }
    }
}

/// The identifier Lambda knows a record by: the SQS `messageId` or the Kinesis
/// `sequenceNumber`, exactly as delivered. It is what goes back as `itemIdentifier`.
///
/// Shared rather than copied: each audit event of a record carries its record's identity
/// through sending.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemIdentifier(Arc<str>);

impl From<String> for ItemIdentifier {
    fn from(identifier: String) -> ItemIdentifier {
        ItemIdentifier(Arc::from(identifier))
    }
}

impl From<Arc<str>> for ItemIdentifier {
    fn from(identifier: Arc<str>) -> ItemIdentifier {
        ItemIdentifier(identifier)
    }
}

impl ItemIdentifier {
    /// The identifier as Lambda delivered it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ItemIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A record's payload as it arrived: SQS bodies are text; Kinesis data is bytes, which may be
/// text or an envelope in binary (gzip from CloudWatch Logs, a KPL aggregate), so it is judged
/// only when the envelope step has looked at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    Text(String),
    Bytes(Vec<u8>),
}

impl Payload {
    /// The payload as text, without copying it; bytes that are not UTF-8 are rejected.
    pub fn into_text(self) -> Result<String, Rejection> {
        match self {
            Payload::Text(text) => Ok(text),
            Payload::Bytes(bytes) => String::from_utf8(bytes)
                .map_err(|error| Rejection::NotUtf8 { valid_up_to: error.utf8_error().valid_up_to() }),
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Payload::Text(text) => text.as_bytes(),
            Payload::Bytes(bytes) => bytes,
        }
    }
}

/// One record of the batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// `None` when the record came without one (Lambda always sends one): such a record is
    /// still sent, but if it does not get in, no partial answer can name it.
    pub item_identifier: Option<ItemIdentifier>,
    /// The payload as it arrived, or why it cannot be read.
    pub payload: Result<Payload, Rejection>,
    /// The SQS FIFO `MessageGroupId`; `None` for other sources.
    pub message_group: Option<String>,
    /// Kinesis `approximateArrivalTimestamp`, in epoch milliseconds.
    pub arrival_ms: Option<u64>,
    /// SQS `attributes.SentTimestamp`, in epoch milliseconds.
    pub sent_ms: Option<u64>,
}

impl Record {
    /// The record's identity and ordering without its payload: what each of its audit events
    /// carries through sending.
    pub fn metadata(&self) -> Record {
        Record {
            item_identifier: self.item_identifier.clone(),
            payload: Ok(Payload::Text(String::new())),
            message_group: self.message_group.clone(),
            arrival_ms: self.arrival_ms,
            sent_ms: self.sent_ms,
        }
    }
}

impl Record {
    /// The identifier for logs: as delivered, or a note that there is none.
    pub fn label(&self) -> &str {
        self.item_identifier.as_ref().map_or("(no identifier)", ItemIdentifier::as_str)
    }
}

/// The records of one invocation, in the order Lambda delivered them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub source: Source,
    /// The queue's or stream's ARN, as the first record names it.
    pub event_source_arn: String,
    pub records: Vec<Record>,
}

/// Why an invocation's event cannot be read as a batch at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventError {
    /// The event has no `Records` list: it is not from SQS or Kinesis.
    NotABatch,
    /// No record names `aws:sqs` or `aws:kinesis` as its `eventSource`.
    UnknownSource { event_source: Option<String> },
    /// A record that has no identifier was not ingested, so no partial answer can name it.
    MissingIdentifier { index: usize, field: &'static str },
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventError::NotABatch => {
                f.write_str("the event is neither an SQS nor a Kinesis event: it has no \"Records\" list")
            }
            EventError::UnknownSource { event_source: Some(source) } => write!(
                f,
                "the event's records come from {source:?}: only aws:sqs and aws:kinesis are handled"
            ),
            EventError::UnknownSource { event_source: None } => {
                f.write_str("no record has an eventSource: only aws:sqs and aws:kinesis events are handled")
            }
            EventError::MissingIdentifier { index, field } => write!(
                f,
                "record {index} has no {field} and was not ingested, so a partial batch answer \
                 cannot name it; failing the whole batch so that Lambda delivers it again"
            ),
        }
    }
}

impl std::error::Error for EventError {}

impl From<EventError> for lambda_runtime::Diagnostic {
    fn from(error: EventError) -> lambda_runtime::Diagnostic {
        let error_type = match error {
            EventError::NotABatch => "NotABatch",
            EventError::UnknownSource { .. } => "UnknownEventSource",
            EventError::MissingIdentifier { .. } => "MissingItemIdentifier",
        };
        lambda_runtime::Diagnostic { error_type: error_type.into(), error_message: error.to_string() }
    }
}

/// Reads a Lambda event into a batch; `None` for an empty `Records` list, which has no source
/// and nothing to answer.
pub fn decode(event: IncomingEvent) -> Result<Option<Batch>, EventError> {
    let Some(records) = event.records else {
        return Err(EventError::NotABatch);
    };
    if records.is_empty() {
        return Ok(None);
    }
    let source = batch_source(&records)?;
    let event_source_arn =
        records.iter().find_map(|record| record.event_source_arn.as_deref()).unwrap_or_default().to_owned();
    let records = records.into_iter().map(|record| decode_record(source, record)).collect();
    Ok(Some(Batch { source, event_source_arn, records }))
}

/// The source every record should have: the first one a record names. A FIFO queue's name,
/// and so its ARN, always ends in `.fifo`.
fn batch_source(records: &[RawRecord]) -> Result<Source, EventError> {
    for record in records {
        match record.event_source.as_deref() {
            Some(sqs::EVENT_SOURCE) => {
                let fifo = records.iter().any(|record| {
                    record.event_source_arn.as_deref().is_some_and(|arn| arn.ends_with(".fifo"))
                });
                return Ok(if fifo { Source::SqsFifo } else { Source::Sqs });
            }
            Some(kinesis::EVENT_SOURCE) => return Ok(Source::Kinesis),
            _ => {}
        }
    }
    let event_source = records.iter().find_map(|record| record.event_source.as_deref().map(str::to_owned));
    Err(EventError::UnknownSource { event_source })
}

/// One record, read by its source's rules; a record of another source is rejected, keeping
/// the identifier it has.
fn decode_record(source: Source, record: RawRecord) -> Record {
    let expected = source.event_source();
    let foreign = record.event_source.as_deref() != Some(expected);
    let mut record = match source {
        Source::Sqs => sqs::record(record, false),
        Source::SqsFifo => sqs::record(record, true),
        Source::Kinesis => kinesis::record(record),
    };
    if foreign {
        record.payload = Err(Rejection::WrongEventSource { expected });
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn decode(event: Value) -> Result<Batch, EventError> {
        let event = serde_json::from_value(event).expect("any JSON is an incoming event");
        super::decode(event).map(|batch| batch.expect("a batch with records"))
    }

    fn sqs(message_id: &str, body: &str) -> Value {
        json!({"messageId": message_id, "body": body, "eventSource": "aws:sqs",
               "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:audit", "attributes": {}})
    }

    fn kinesis(sequence_number: &str, data: &str) -> Value {
        json!({"eventSource": "aws:kinesis", "kinesis": {"sequenceNumber": sequence_number,
               "data": data, "approximateArrivalTimestamp": 1_700_000_000.5}})
    }

    #[test]
    fn sqs_records_keep_their_message_ids_and_bodies_in_order() {
        let batch = decode(json!({"Records": [sqs("m1", "{}"), sqs("m2", "[]")]})).unwrap();
        assert_eq!(batch.source, Source::Sqs);
        let ids: Vec<&str> = batch.records.iter().map(Record::label).collect();
        assert_eq!(ids, ["m1", "m2"]);
        assert_eq!(batch.records[1].payload, Ok(Payload::Text("[]".into())));
        assert_eq!(batch.records[0].message_group, None);
        assert_eq!(batch.records[0].sent_ms, None);
    }

    #[test]
    fn a_fifo_queue_is_told_by_its_arn_and_records_carry_their_group() {
        let mut record = sqs("m1", "{}");
        record["eventSourceARN"] = json!("arn:aws:sqs:us-east-1:123456789012:audit.fifo");
        record["attributes"]["MessageGroupId"] = json!("tenant-a");
        record["attributes"]["SentTimestamp"] = json!("1764129600123");
        let batch = decode(json!({"Records": [record]})).unwrap();
        assert_eq!(batch.source, Source::SqsFifo);
        assert_eq!(batch.records[0].message_group.as_deref(), Some("tenant-a"));
        assert_eq!(batch.records[0].sent_ms, Some(1_764_129_600_123));
    }

    #[test]
    fn kinesis_data_is_base64_decoded_and_the_arrival_time_kept() {
        let batch = decode(json!({"Records": [kinesis("4960", "eyJhIjoxfQ==")]})).unwrap();
        assert_eq!(batch.source, Source::Kinesis);
        assert_eq!(batch.records[0].label(), "4960");
        assert_eq!(batch.records[0].payload, Ok(Payload::Bytes(b"{\"a\":1}".to_vec())));
        assert_eq!(batch.records[0].arrival_ms, Some(1_700_000_000_500));
    }

    #[test]
    fn unreadable_payloads_are_rejected_per_record_and_keep_their_identifier() {
        let mut no_body = sqs("m2", "");
        no_body.as_object_mut().unwrap().remove("body");
        let mut foreign = sqs("m3", "{}");
        foreign["eventSource"] = json!("aws:sns");
        let batch = decode(json!({"Records": [sqs("m1", "{}"), no_body, foreign]})).unwrap();
        assert_eq!(batch.records[1].payload, Err(Rejection::MissingPayload { field: "body" }));
        assert_eq!(batch.records[2].payload, Err(Rejection::WrongEventSource { expected: "aws:sqs" }));
        assert_eq!(batch.records[2].label(), "m3");

        let batch = decode(json!({"Records": [kinesis("1", "not base64!"), kinesis("2", "/w==")]})).unwrap();
        assert_eq!(batch.records[0].payload, Err(Rejection::NotBase64));
        // Bytes that are not text are kept for the envelope step (gzip, KPL) to judge.
        let bytes = batch.records[1].payload.clone().unwrap();
        assert_eq!(bytes, Payload::Bytes(vec![0xff]));
        assert_eq!(bytes.into_text(), Err(Rejection::NotUtf8 { valid_up_to: 0 }));
    }

    #[test]
    fn events_that_are_not_batches_are_errors_that_say_so() {
        assert_eq!(decode(json!({"hello": "world"})), Err(EventError::NotABatch));
        assert_eq!(decode(json!("text")), Err(EventError::NotABatch));
        assert_eq!(
            decode(json!({"Records": [{"eventSource": "aws:s3"}]})),
            Err(EventError::UnknownSource { event_source: Some("aws:s3".into()) })
        );
        let empty = serde_json::from_value(json!({"Records": []})).unwrap();
        assert_eq!(super::decode(empty), Ok(None), "an empty batch has no source and nothing to answer");
    }

    #[test]
    fn a_record_without_an_identifier_is_kept_without_one() {
        let batch = decode(json!({"Records": [sqs("m1", "{}"), sqs("", "[]")]})).unwrap();
        assert_eq!(batch.records[1].item_identifier, None);
        assert_eq!(batch.records[1].payload, Ok(Payload::Text("[]".into())));
        assert_eq!(batch.records[1].label(), "(no identifier)");
    }
}

//! A Kinesis record: its `kinesis.sequenceNumber` is what Lambda knows it by (a decimal of up
//! to 129 digits, never parsed into a number), its base64 `kinesis.data` the payload (bytes,
//! which may be text or a binary envelope, judged only by the envelope step).

use super::event::{NotBase64, RawRecord};
use super::{ItemIdentifier, Payload, Record};
use crate::rejection::Rejection;

/// The `eventSource` of a Kinesis record.
pub const EVENT_SOURCE: &str = "aws:kinesis";

/// The field Lambda knows a Kinesis record by, and that `itemIdentifier` names.
pub const IDENTIFIER_FIELD: &str = "kinesis.sequenceNumber";

/// Reads a Kinesis record.
pub fn record(record: RawRecord) -> Record {
    let arrival_ms = record
        .approximate_arrival_timestamp
        .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
        .map(|seconds| (seconds * 1000.0) as u64);
    Record {
        item_identifier: record.sequence_number.filter(|number| !number.is_empty()).map(ItemIdentifier::from),
        payload: data(record.data),
        message_group: None,
        arrival_ms,
        sent_ms: None,
    }
}

/// Kinesis data, base64-decoded as it was read.
fn data(data: Option<Result<Vec<u8>, NotBase64>>) -> Result<Payload, Rejection> {
    match data {
        Some(Ok(bytes)) => Ok(Payload::Bytes(bytes)),
        Some(Err(NotBase64)) => Err(Rejection::NotBase64),
        None => Err(Rejection::MissingPayload { field: "kinesis.data" }),
    }
}

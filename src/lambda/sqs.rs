//! An SQS record: the message's `messageId` is what Lambda knows it by, its `body` is the
//! payload (text), and on a FIFO queue its `MessageGroupId` says which group's order it keeps.

use super::event::RawRecord;
use super::{ItemIdentifier, Payload, Record};
use crate::rejection::Rejection;

/// The `eventSource` of an SQS record.
pub const EVENT_SOURCE: &str = "aws:sqs";

/// The field Lambda knows an SQS record by, and that `itemIdentifier` names.
pub const IDENTIFIER_FIELD: &str = "messageId";

/// Reads an SQS record; `fifo` when the queue is a FIFO queue, whose records keep their group.
pub fn record(record: RawRecord, fifo: bool) -> Record {
    Record {
        item_identifier: record.message_id.filter(|id| !id.is_empty()).map(ItemIdentifier::from),
        payload: record.body.map(Payload::Text).ok_or(Rejection::MissingPayload { field: "body" }),
        message_group: record.message_group_id.filter(|_| fifo),
        arrival_ms: None,
        sent_ms: record.sent_timestamp.and_then(|sent| sent.trim().parse::<u64>().ok()),
    }
}

//! What became of each record, and the ordering rules that turn one failure into more.
//!
//! SQS FIFO keeps order within a message group: once a message has failed, the messages behind
//! it in its group must not overtake it, so they are held back rather than sent; Lambda
//! delivers them again, and a group that keeps failing ends in the dead-letter queue whole.
//! Kinesis resumes a shard at the lowest reported record: behind a transient failure, later
//! records are held back (they come again anyway); behind a permanent one they are sent, since
//! the shard would otherwise stay stuck on it until Lambda drops the batch.

use std::collections::HashSet;
use std::fmt;

use crate::audit::Rejection;
use crate::source::{Record, Source};

/// The fate of one record in this invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The service confirmed the event in its `successful` list.
    Ingested,
    /// The record can never be a valid audit event; it was not sent.
    Rejected(Rejection),
    /// The service failed the event, or its whole request, after all retries.
    Failed { code: String, transient: bool },
    /// The record was not sent in this invocation.
    Held(Hold),
}

/// Why a valid record was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// An earlier record of its message group (FIFO) or shard (Kinesis) failed.
    BehindFailure,
    /// The invocation's deadline came first.
    OutOfTime,
}

impl Outcome {
    /// Whether the record may get in on a later delivery: transient failures and held records.
    /// A rejected record, or one the service refused for what it is, fails the same way again.
    pub fn may_succeed_later(&self) -> bool {
        match self {
            Outcome::Failed { transient, .. } => *transient,
            Outcome::Held(_) => true,
            Outcome::Ingested | Outcome::Rejected(_) => false,
        }
    }

    /// The code counted in the invocation summary, `None` for an ingested record.
    pub fn failure_code(&self) -> Option<&str> {
        match self {
            Outcome::Ingested => None,
            Outcome::Rejected(_) => Some("Rejected"),
            Outcome::Failed { code, .. } => Some(code),
            Outcome::Held(Hold::BehindFailure) => Some("HeldBehindFailure"),
            Outcome::Held(Hold::OutOfTime) => Some("OutOfTime"),
        }
    }
}

impl fmt::Display for Hold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Hold::BehindFailure => "an earlier record of its group or shard failed",
            Hold::OutOfTime => "the invocation ran out of time before it could be sent",
        })
    }
}

/// How a failure constrains the records after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ordering {
    /// SQS standard: records are independent.
    Unordered,
    /// SQS FIFO: a failure holds back the later records of its message group.
    MessageGroups,
    /// Kinesis: a transient failure holds back every later record of the batch, since Lambda
    /// delivers them again from there anyway. A permanent one does not: Lambda would deliver
    /// the same records until it gives up on the batch, and then the valid records behind the
    /// bad one would be lost, so they are sent now and the bad record alone is reported.
    Shard,
}

impl Ordering {
    pub fn of(source: Option<Source>) -> Ordering {
        match source {
            Some(Source::SqsFifo) => Ordering::MessageGroups,
            Some(Source::Kinesis) => Ordering::Shard,
            Some(Source::Sqs) | None => Ordering::Unordered,
        }
    }

    /// Marks every undecided record (`None`) that waits behind a failure as held, in one pass.
    pub fn hold_behind_failures(self, records: &[Record], outcomes: &mut [Option<Outcome>]) {
        let mut shard_failed = false;
        let mut failed_groups: HashSet<Option<&str>> = HashSet::new();
        for (record, outcome) in records.iter().zip(outcomes.iter_mut()) {
            let group = record.message_group.as_deref();
            let behind = match self {
                Ordering::Unordered => false,
                Ordering::Shard => shard_failed,
                Ordering::MessageGroups => failed_groups.contains(&group),
            };
            match outcome {
                None if behind => *outcome = Some(Outcome::Held(Hold::BehindFailure)),
                Some(Outcome::Ingested) | None => {}
                Some(failure) => {
                    shard_failed |= failure.may_succeed_later();
                    failed_groups.insert(group);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(groups: &[&str]) -> Vec<Record> {
        let batch = serde_json::json!({"Records": groups.iter().enumerate().map(|(i, group)| serde_json::json!({
            "messageId": format!("m{i}"), "body": "{}", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q.fifo",
            "attributes": {"MessageGroupId": group}})).collect::<Vec<_>>()});
        crate::source::decode(batch).unwrap().records
    }

    fn failed() -> Option<Outcome> {
        Some(Outcome::Failed { code: "InvalidData".into(), transient: false })
    }

    #[test]
    fn a_fifo_failure_holds_back_only_the_rest_of_its_group() {
        let records = records(&["a", "b", "a", "b", "a"]);
        let mut outcomes = vec![failed(), None, None, None, None];
        Ordering::MessageGroups.hold_behind_failures(&records, &mut outcomes);
        let held = Some(Outcome::Held(Hold::BehindFailure));
        assert_eq!(outcomes, [failed(), None, held.clone(), None, held]);
    }

    #[test]
    fn a_transient_shard_failure_holds_back_everything_after_it() {
        let records = records(&["a", "b", "c", "d"]);
        let throttled = Some(Outcome::Failed { code: "Throttling".into(), transient: true });
        let mut outcomes = vec![None, failed(), throttled.clone(), None];
        Ordering::Shard.hold_behind_failures(&records, &mut outcomes);
        assert_eq!(outcomes, [None, failed(), throttled, Some(Outcome::Held(Hold::BehindFailure))]);
    }

    #[test]
    fn a_permanent_shard_failure_holds_nothing_back() {
        let records = records(&["a", "b", "c"]);
        let rejected = Some(Outcome::Rejected(crate::audit::Rejection::NotBase64));
        let mut outcomes = vec![rejected.clone(), failed(), None];
        Ordering::Shard.hold_behind_failures(&records, &mut outcomes);
        assert_eq!(outcomes, [rejected, failed(), None]);
    }

    #[test]
    fn standard_queues_hold_nothing_back() {
        let records = records(&["a", "a"]);
        let mut outcomes = vec![failed(), None];
        Ordering::Unordered.hold_behind_failures(&records, &mut outcomes);
        assert_eq!(outcomes, [failed(), None]);
    }
}

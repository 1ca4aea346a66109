//! The ordering rules of each event source, in one place: which records wait behind a failure,
//! which records the answer names, and which records Lambda will deliver again.
//!
//! - SQS standard: messages are independent; the answer names exactly those not ingested.
//! - SQS FIFO: once a message has failed, the later messages of its message group must not
//!   overtake it: they are held back, and the answer names them too, so the group comes back
//!   whole and in order. A group has one message in flight at a time; groups do not wait for
//!   each other.
//! - Kinesis: Lambda resumes the shard at the lowest reported sequence number and delivers
//!   every record from there again. Behind a transient failure later records are held back
//!   (they come again anyway); behind a permanent one they are sent, since the shard would
//!   otherwise stay stuck on it until Lambda gives up on the batch and the records behind it
//!   were lost.

use std::collections::HashSet;

use crate::lambda::{Record, Source};
use crate::outcome::{Hold, Outcome};

/// How a failure constrains the records after it, by the source that delivered them.
impl Source {
    /// Whether the records keep an order within message groups: a group's next message is
    /// sent only once the previous one is stored, so such a batch is sent whole.
    pub fn keeps_group_order(self) -> bool {
        self == Source::SqsFifo
    }

    /// Marks every undecided record (`None`) that waits behind a failure as held, in one pass.
    pub fn hold_behind_failures(self, records: &[Record], outcomes: &mut [Option<Outcome>]) {
        let mut shard_failed = false;
        let mut failed_groups: HashSet<Option<&str>> = HashSet::new();
        for (record, outcome) in records.iter().zip(outcomes.iter_mut()) {
            let group = record.message_group.as_deref();
            let behind = match self {
                Source::Sqs => false,
                Source::Kinesis => shard_failed,
                Source::SqsFifo => failed_groups.contains(&group),
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

    /// The records the answer names, by index, in batch order. A record without an outcome was
    /// not confirmed and counts as not ingested.
    ///
    /// Kinesis names one record: the first not ingested, or, when that one came without an
    /// identifier, the nearest earlier record that has one (Lambda resumes there, and the
    /// ingested records in between are recognised on redelivery). `Err(index)` is a record
    /// that must be reported and that no answer can name.
    pub fn reported(self, records: &[Record], outcomes: &[Option<Outcome>]) -> Result<Vec<usize>, usize> {
        let ingested = |index: usize| matches!(outcomes.get(index), Some(Some(Outcome::Ingested)));
        let reported: Vec<usize> = match self {
            Source::Kinesis => {
                let Some(first) = (0..records.len()).find(|&index| !ingested(index)) else {
                    return Ok(Vec::new());
                };
                let named = (0..=first).rev().find(|&index| records[index].item_identifier.is_some());
                return named.map(|index| vec![index]).ok_or(first);
            }
            Source::SqsFifo => {
                let mut failed_groups = HashSet::new();
                (0..records.len())
                    .filter(|&index| {
                        let group = records[index].message_group.as_deref();
                        if !ingested(index) {
                            failed_groups.insert(group);
                        }
                        failed_groups.contains(&group)
                    })
                    .collect()
            }
            Source::Sqs => (0..records.len()).filter(|&index| !ingested(index)).collect(),
        };
        match reported.iter().find(|&&index| records[index].item_identifier.is_none()) {
            Some(&unnamed) => Err(unnamed),
            None => Ok(reported),
        }
    }

    /// How many records of the batch Lambda will deliver again after an answer naming
    /// `reported`: those records for SQS, and for Kinesis every record from the reported one
    /// to the end of the batch, ingested or not.
    pub fn redelivered(self, batch_len: usize, reported: &[usize]) -> usize {
        match self {
            Source::Kinesis => reported.first().map_or(0, |&first| batch_len - first),
            Source::Sqs | Source::SqsFifo => reported.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lambda::ItemIdentifier;
    use crate::rejection::Rejection;

    fn records(groups: &[&str]) -> Vec<Record> {
        groups
            .iter()
            .enumerate()
            .map(|(i, group)| Record {
                item_identifier: Some(ItemIdentifier::from(format!("m{i}"))),
                payload: Ok(crate::lambda::Payload::Text(String::new())),
                message_group: Some(group.to_string()),
                arrival_ms: None,
                sent_ms: None,
            })
            .collect()
    }

    fn failed() -> Option<Outcome> {
        Some(Outcome::Failed { code: "InvalidData".into(), transient: false })
    }

    const OK: Option<Outcome> = Some(Outcome::Ingested);

    #[test]
    fn a_fifo_failure_holds_back_only_the_rest_of_its_group() {
        let records = records(&["a", "b", "a", "b", "a"]);
        let mut outcomes = vec![failed(), None, None, None, None];
        Source::SqsFifo.hold_behind_failures(&records, &mut outcomes);
        let held = Some(Outcome::Held(Hold::BehindFailure));
        assert_eq!(outcomes, [failed(), None, held.clone(), None, held]);
    }

    #[test]
    fn a_transient_shard_failure_holds_back_everything_after_it() {
        let records = records(&["a", "b", "c", "d"]);
        let throttled = Some(Outcome::Failed { code: "Throttling".into(), transient: true });
        let mut outcomes = vec![None, failed(), throttled.clone(), None];
        Source::Kinesis.hold_behind_failures(&records, &mut outcomes);
        assert_eq!(outcomes, [None, failed(), throttled, Some(Outcome::Held(Hold::BehindFailure))]);
    }

    #[test]
    fn a_permanent_shard_failure_holds_nothing_back() {
        let records = records(&["a", "b", "c"]);
        let rejected = Some(Outcome::Rejected(Rejection::NotBase64));
        let mut outcomes = vec![rejected.clone(), failed(), None];
        Source::Kinesis.hold_behind_failures(&records, &mut outcomes);
        assert_eq!(outcomes, [rejected, failed(), None]);
    }

    #[test]
    fn standard_queues_hold_nothing_back() {
        let records = records(&["a", "a"]);
        let mut outcomes = vec![failed(), None];
        Source::Sqs.hold_behind_failures(&records, &mut outcomes);
        assert_eq!(outcomes, [failed(), None]);
    }

    #[test]
    fn each_source_reports_its_own_way() {
        let records = records(&["a", "b", "a", "b", "a"]);
        let outcomes = [OK, OK, failed(), None, OK];
        assert_eq!(Source::Sqs.reported(&records, &outcomes), Ok(vec![2, 3]));
        assert_eq!(Source::SqsFifo.reported(&records, &outcomes), Ok(vec![2, 3, 4]));
        assert_eq!(Source::Kinesis.reported(&records, &outcomes), Ok(vec![2]));
        assert_eq!(Source::Kinesis.reported(&records, &[OK, OK, OK, OK, OK]), Ok(vec![]));
    }

    #[test]
    fn lambda_delivers_again_from_the_reported_kinesis_record_to_the_end() {
        assert_eq!(Source::Kinesis.redelivered(10, &[3]), 7);
        assert_eq!(Source::Kinesis.redelivered(10, &[]), 0);
        assert_eq!(Source::Sqs.redelivered(10, &[3, 5]), 2);
    }

    #[test]
    fn a_record_without_an_identifier_is_named_through_its_neighbour_on_kinesis_only() {
        let mut records = records(&["a", "a", "a"]);
        records[2].item_identifier = None;
        let outcomes = [OK, OK, failed()];
        assert_eq!(Source::Kinesis.reported(&records, &outcomes), Ok(vec![1]));
        assert_eq!(Source::Sqs.reported(&records, &outcomes), Err(2));
        records[0].item_identifier = None;
        records[1].item_identifier = None;
        assert_eq!(Source::Kinesis.reported(&records, &outcomes), Err(2));
    }
}

//! A run of a batch's consecutive records → their units, one per audit event, in record order,
//! within what one invocation may take out of its records' envelopes (the budget) and before
//! the deadline; a record left for a later delivery is one held unit in its place.
//!
//! A record holds one audit event or several (CloudWatch Logs, KPL) or none (a CloudWatch Logs
//! control message). Sending works on units; each carries its record's identity and message
//! group, so the ordering rules apply to units as they do to records, and
//! [`crate::outcome::fold_outcomes`] turns their outcomes back into the records'. Large batches
//! are mapped on every core Lambda gives the function.

use crate::deadline::{PrepareBy, Stopwatch, HEAVY_RECORD_BYTES};
use crate::event::AuditEvent;
use crate::lambda::{Record, Source};
use crate::outcome::{Hold, Outcome};
use crate::prepare::envelope;
use crate::prepare::{Preparer, Units};
use crate::rejection::Rejection;

/// The units of some consecutive records of a batch, before the ordering's holds.
pub struct Part {
    pub units: Vec<Record>,
    /// Batch indices of the records, not indices into the part.
    pub owner: Vec<usize>,
    pub events: Vec<Option<AuditEvent>>,
    pub outcomes: Vec<Option<Outcome>>,
    /// What the part took of the invocation's budget.
    pub used: Budget,
}

/// What an invocation may still take out of its records' envelopes
/// ([`MAX_EVENT_BYTES_PER_INVOCATION`], [`MAX_EVENTS_PER_INVOCATION`]).
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub bytes: usize,
    pub events: usize,
}

impl Budget {
    pub const WHOLE: Budget =
        Budget { bytes: MAX_EVENT_BYTES_PER_INVOCATION, events: MAX_EVENTS_PER_INVOCATION };

    pub fn minus(self, used: Budget) -> Budget {
        Budget {
            bytes: self.bytes.saturating_sub(used.bytes),
            events: self.events.saturating_sub(used.events),
        }
    }
}

/// Maps `records`, which start at batch index `first`, to their units in record order; a
/// record left for a later delivery, by the budget or by the deadline (`by`), is one held unit
/// in its place.
pub fn prepare_part(
    source: Source,
    records: &mut [Record],
    first: usize,
    preparer: &Preparer,
    budget: Budget,
    by: Option<PrepareBy>,
) -> Part {
    let Chunk { units: all, owner: unit_owner, deferred, taken } =
        audit_events(source, records, preparer, budget, by, first == 0);
    let used = Budget { bytes: taken, events: all.len() };
    let capacity = all.len() + deferred.len();
    let mut units = Vec::with_capacity(capacity);
    let mut owner = Vec::with_capacity(capacity);
    let (mut events, mut outcomes) = (Vec::with_capacity(capacity), Vec::with_capacity(capacity));
    let mut push = |index: usize, unit: Result<Result<AuditEvent, Rejection>, Hold>| {
        units.push(records[index].metadata());
        owner.push(first + index);
        let (event, outcome) = match unit {
            Ok(Ok(event)) => (Some(event), None),
            Ok(Err(rejection)) => (None, Some(Outcome::Rejected(rejection))),
            Err(hold) => (None, Some(Outcome::Held(hold))),
        };
        events.push(event);
        outcomes.push(outcome);
    };
    let mut deferred = deferred.into_iter().peekable();
    for (unit, index) in all.into_iter().zip(unit_owner) {
        while let Some((held, hold)) = deferred.next_if(|&(held, _)| held < index) {
            push(held, Err(hold));
        }
        push(index, Ok(unit));
    }
    deferred.for_each(|(held, hold)| push(held, Err(hold)));
    Part { units, owner, events, outcomes, used }
}

/// Whether a record's payload is a binary envelope that may unpack into many events (gzip from
/// CloudWatch Logs, a KPL aggregate), as its first bytes say.
pub fn unpacks(record: &Record) -> bool {
    record.payload.as_ref().is_ok_and(|payload| envelope::binary_envelope(payload.as_bytes()).is_some())
}

/// Whether a record is looked at on its own before and after it is prepared.
fn heavy(record: &Record) -> bool {
    unpacks(record)
        || record.payload.as_ref().is_ok_and(|payload| payload.as_bytes().len() >= HEAVY_RECORD_BYTES)
}

/// Below this many records, one thread maps them sooner than starting others would help.
const PARALLEL_MAPPING_MIN_RECORDS: usize = 1024;

/// How many bytes of audit events one invocation takes out of its records' envelopes before it
/// leaves the rest for a later delivery. Envelopes multiply: a Kinesis batch of 6 MB may hold
/// hundreds of gzip records that each inflate to 16 MiB, far beyond a 128 MB function; a batch
/// of plain events never comes near (Lambda's 6 MB). Each event's bytes are held a few times
/// over while it is sent (its request body, the SDK's copy), so 16 MiB of events stays well
/// inside 128 MB. The first record of a batch is always taken, so every delivery makes progress.
pub const MAX_EVENT_BYTES_PER_INVOCATION: usize = 16 * 1024 * 1024;

/// How many events (audit events and rejected ones) one invocation takes out of its records'
/// envelopes, for the same reason: a 1 kB gzip record can hold 10,000 empty log events, so a
/// 6 MB batch could hold 28 million, each with its bookkeeping. A plain batch has at most
/// Lambda's 10,000 records; 50,000 events of bookkeeping take a few MB.
pub const MAX_EVENTS_PER_INVOCATION: usize = 50_000;

/// The audit events of a run of a batch's records (one thread's share, or all of them), with what
/// was left for a later delivery.
struct Chunk {
    /// Each record's units in record order (a record may have none, one or many).
    units: Units,
    /// `owner[u]`: the index of the record unit `u` came from.
    owner: Vec<usize>,
    /// Records left for a later delivery, in order, and why: the batch had unpacked
    /// [`MAX_EVENT_BYTES_PER_INVOCATION`] or [`MAX_EVENTS_PER_INVOCATION`] before them
    /// ([`Hold::OverBudget`]), or preparing them would have made the answer late
    /// ([`Hold::OutOfTime`]).
    deferred: Vec<(usize, Hold)>,
    /// Bytes of audit events taken.
    taken: usize,
}

/// Each record's audit events, in record order, with the index of the record each came from
/// (`batch_first` when `records` begin the batch: their first is always taken); the payloads
/// are moved out of the records (what is left in them is empty).
///
/// Large batches are split over the cores Lambda gives the function (two from 1,769 MB of
/// memory); records keep their order, and each is mapped exactly as on one thread, each of the
/// `parts` chunks with its part of the budgets, and each watching the deadline (`by`) itself.
fn audit_events(
    source: Source,
    records: &mut [Record],
    preparer: &Preparer,
    budget: Budget,
    by: Option<PrepareBy>,
    batch_first: bool,
) -> Chunk {
    let chunk_units = |first: usize, records: &mut [Record], parts: usize| -> Chunk {
        let mut chunk = Chunk {
            units: Vec::with_capacity(records.len()),
            owner: Vec::with_capacity(records.len()),
            deferred: Vec::new(),
            taken: 0,
        };
        let mut stopwatch = by.map(Stopwatch::new);
        let (bytes, events) = (budget.bytes / parts, budget.events / parts);
        let mut spent = false;
        for (offset, record) in records.iter_mut().enumerate() {
            let index = first + offset;
            if spent || chunk.taken >= bytes || chunk.units.len() >= events {
                chunk.deferred.push((index, Hold::OverBudget));
                continue;
            }
            if stopwatch.as_mut().is_some_and(|stopwatch| !stopwatch.may_prepare(heavy(record))) {
                chunk.deferred.push((index, Hold::OutOfTime));
                continue;
            }
            let before = chunk.units.len();
            let count = preparer.audit_events(source, record, &mut chunk.units);
            let taken =
                chunk.units[before..].iter().flatten().map(|event| event.event_data.len()).sum::<usize>();
            // A record's size is known only once it is unpacked: one that would carry this
            // thread's share past its budget waits for a later delivery, and so does every
            // record after it in the share, except the batch's first, so that every delivery
            // makes progress. (Another thread's share keeps its own count: on Kinesis its
            // records are then held behind this one; SQS batches never come near the budget.)
            let always = batch_first && index == 0;
            if !always && (chunk.taken + taken > bytes || chunk.units.len() > events) {
                chunk.units.truncate(before);
                chunk.deferred.push((index, Hold::OverBudget));
                spent = true;
                continue;
            }
            chunk.taken += taken;
            chunk.owner.extend(std::iter::repeat_n(index, count));
        }
        chunk
    };
    // Asking for the cores reads the cgroup's files: only worth it for a large batch.
    if records.len() < PARALLEL_MAPPING_MIN_RECORDS {
        return chunk_units(0, records, 1);
    }
    let threads = std::thread::available_parallelism().map_or(1, |cores| cores.get().min(4));
    if threads < 2 {
        return chunk_units(0, records, 1);
    }
    let size = records.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = records
            .chunks_mut(size)
            .enumerate()
            .map(|(index, records)| scope.spawn(move || chunk_units(index * size, records, threads)))
            .collect();
        let mut all = Chunk {
            units: Vec::with_capacity(size * threads),
            owner: Vec::new(),
            deferred: Vec::new(),
            taken: 0,
        };
        for worker in workers {
            let chunk = worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            all.units.extend(chunk.units);
            all.owner.extend(chunk.owner);
            all.deferred.extend(chunk.deferred);
            all.taken += chunk.taken;
        }
        all
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;
    use tokio::time::Instant;

    use super::*;
    use crate::config::{ChannelArn, Config};
    use crate::deadline::Counting;
    use crate::lambda;

    fn sqs_batch(bodies: Vec<String>) -> (Source, Vec<Record>) {
        let records: Vec<_> = bodies
            .into_iter()
            .enumerate()
            .map(|(i, body)| json!({"eventSource": "aws:sqs", "messageId": format!("m-{i}"), "body": body}))
            .collect();
        let batch =
            lambda::decode(serde_json::from_value(json!({ "Records": records })).unwrap()).unwrap().unwrap();
        (batch.source, batch.records)
    }

    fn sqs_records(count: usize) -> (Source, Vec<Record>) {
        sqs_batch(vec!["{}".to_owned(); count])
    }

    /// A valid schema event of exactly `len` bytes.
    fn schema_event(uid: usize, len: usize) -> String {
        let base = json!({
            "version": "1.0", "userIdentity": {"type": "ApplicationUser", "principalId": "alice"},
            "eventSource": "app.example.com", "eventName": "Login", "eventTime": "2026-11-26T04:00:00Z",
            "UID": format!("u-{uid}"), "recipientAccountId": "123456789012", "requestParameters": {"p": ""},
        })
        .to_string();
        let padding = "x".repeat(len - base.len());
        base.replacen(r#"{"p":""}"#, &format!(r#"{{"p":"{padding}"}}"#), 1)
    }

    fn preparer() -> Preparer {
        let channel = ChannelArn::parse("arn:aws:cloudtrail:us-east-1:123456789012:channel/c").unwrap();
        Preparer::of(&Config::for_channel(channel))
    }

    fn held(part: &Part, hold: Hold) -> Vec<usize> {
        let held = |outcome: &Option<Outcome>| *outcome == Some(Outcome::Held(hold));
        part.owner.iter().zip(&part.outcomes).filter(|(_, outcome)| held(outcome)).map(|(&i, _)| i).collect()
    }

    /// Preparing a whole batch by `deadline`, with nothing prepared before.
    fn alone_until(deadline: Instant) -> PrepareBy {
        let counting = Counting { scale: 1.0, floor: Duration::ZERO };
        PrepareBy { deadline, earlier: Duration::ZERO, counting }
    }

    fn over_budget(part: &Part) -> Vec<usize> {
        held(part, Hold::OverBudget)
    }

    #[test]
    fn the_record_that_would_cross_the_byte_budget_waits_unless_it_is_the_batchs_first() {
        let budget = Budget { bytes: 1_000, events: MAX_EVENTS_PER_INVOCATION };
        let (source, mut records) = sqs_batch((0..4).map(|i| schema_event(i, 400)).collect());
        let part = prepare_part(source, &mut records, 0, &preparer(), budget, None);
        assert_eq!(over_budget(&part), [2, 3], "800 bytes taken; a third record would make 1,200");
        assert_eq!(part.used.bytes, 800);
        assert!(part.used.bytes <= budget.bytes);

        // A first record larger than the whole budget is still taken, so every delivery makes
        // progress; nothing after it is.
        let (source, mut records) = sqs_batch(vec![schema_event(0, 1_500), schema_event(1, 300)]);
        let part = prepare_part(source, &mut records, 0, &preparer(), budget, None);
        assert_eq!(over_budget(&part), [1]);
        assert_eq!(part.used.bytes, 1_500);
        assert!(part.events[0].is_some(), "the first record is an event, not a rejection");

        // The first record of a later part is not the batch's first: it waits too.
        let (source, mut records) = sqs_batch(vec![schema_event(0, 1_500)]);
        let part = prepare_part(source, &mut records, 7, &preparer(), budget, None);
        assert_eq!(over_budget(&part), [7]);
        assert_eq!(part.used.bytes, 0);
    }

    #[test]
    fn the_record_that_would_cross_the_event_budget_waits() {
        let budget = Budget { bytes: MAX_EVENT_BYTES_PER_INVOCATION, events: 2 };
        let (source, mut records) = sqs_records(4);
        let part = prepare_part(source, &mut records, 0, &preparer(), budget, None);
        assert_eq!(over_budget(&part), [2, 3]);
        assert_eq!(part.used.events, 2);
    }

    #[test]
    fn a_later_part_takes_only_what_the_earlier_parts_left_of_the_budget() {
        let (source, mut records) = sqs_records(5);
        let budget = Budget { bytes: MAX_EVENT_BYTES_PER_INVOCATION, events: 3 };
        let part = prepare_part(source, &mut records, 100, &preparer(), budget, None);
        assert_eq!(part.owner, [100, 101, 102, 103, 104], "batch indices, every record in its place");
        assert_eq!(over_budget(&part), [103, 104]);
        assert_eq!(part.used.events, 3);

        let spent = Budget::WHOLE.minus(Budget::WHOLE);
        let (source, mut records) = sqs_records(2);
        let part = prepare_part(source, &mut records, 5, &preparer(), spent, None);
        assert_eq!(over_budget(&part), [5, 6], "no first record is taken once the budget is spent");
    }

    #[test]
    fn no_record_is_prepared_once_answering_needs_all_the_time_left() {
        let by = |deadline| Some(alone_until(deadline));
        // On one thread, and on several where the machine has them (from
        // PARALLEL_MAPPING_MIN_RECORDS records).
        for count in [3, PARALLEL_MAPPING_MIN_RECORDS + 1] {
            let (source, mut records) = sqs_records(count);
            let part = prepare_part(source, &mut records, 0, &preparer(), Budget::WHOLE, by(Instant::now()));
            assert_eq!(held(&part, Hold::OutOfTime), (0..count).collect::<Vec<_>>());
            assert!(part.events.iter().all(Option::is_none), "{count} records");
            assert_eq!(part.used.events, 0);

            let (source, mut records) = sqs_records(count);
            let far = Instant::now() + Duration::from_secs(600);
            let part = prepare_part(source, &mut records, 0, &preparer(), Budget::WHOLE, by(far));
            assert!(held(&part, Hold::OutOfTime).is_empty(), "{count} records, 600 s left");
            assert!(part.outcomes.iter().all(|outcome| matches!(outcome, Some(Outcome::Rejected(_)))));
        }
    }

    #[test]
    fn a_large_or_unpacking_record_is_heavy() {
        let large = "x".repeat(HEAVY_RECORD_BYTES);
        let (_, records) = sqs_batch(vec!["{}".to_owned(), large]);
        assert!(!heavy(&records[0]));
        assert!(heavy(&records[1]));
        let gzip =
            json!({"eventSource": "aws:kinesis", "kinesis": {"sequenceNumber": "1", "data": "H4sIAA=="}});
        let batch =
            lambda::decode(serde_json::from_value(json!({ "Records": [gzip] })).unwrap()).unwrap().unwrap();
        assert!(unpacks(&batch.records[0]) && heavy(&batch.records[0]));
    }
}

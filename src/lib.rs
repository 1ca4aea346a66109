//! A Lambda function that forwards SQS and Kinesis records to AWS CloudTrail Lake as audit
//! events, and answers Lambda with exactly the records that did not make it.
//!
//! The work is one pipeline, one module a stage:
//!
//! - [`config`]: environment variables → [`config::Config`], read once at cold start.
//! - [`logging`]: the log subscriber, with every other crate capped so no level leaks content.
//! - [`incoming`]: the Lambda event as it arrives, only the fields read, read loosely.
//! - [`reading`]: the event read from Lambda's bytes by [`incoming`] alone, in front of the
//!   runtime's path-tracking reader.
//! - [`source`]: the Lambda event → records, each with the identifier Lambda knows it by.
//! - [`envelope`]: a record's payload → the events inside it (SNS, EventBridge, CloudWatch
//!   Logs, KPL), recognised by marks no schema event has.
//! - [`mapping`]: a payload that is not a schema event → one, by the configured mapping.
//! - [`time`]: times normalised to the schema's `yyyy-MM-ddTHH:mm:ssZ`, and calendar checks.
//! - [`intake`]: a record → its audit events: envelope, then pass-through or mapping, checked.
//! - [`audit`]: a payload → an audit event (`id`, `eventData`, checksum) after the schema
//!   check, or a [`rejection`].
//! - [`outcome`]: what became of each record.
//! - [`ordering`]: the FIFO and Kinesis rules: holds, which records the answer names.
//! - [`batch`]: audit events → requests of at most 100 events and 1 MB (pure, byte-exact).
//! - [`deadline`]: when sending must stop so that the answer is never late.
//! - [`send`]: requests → outcomes through the SDK, paced by the rate limiter; the only I/O.
//! - [`recent`]: events this process saw ingested, so redeliveries are not sent twice.
//! - [`answer`]: outcomes → `SqsBatchResponse` or `KinesisEventResponse`.
//! - [`summary`] and [`metrics`]: the invocation's summary log line and its EMF metrics.
//! - [`prepare`] and [`Forwarder`] below chain the stages for one invocation; a record's
//!   events travel as units through sending and are folded back into one outcome a record
//!   ([`fold_outcomes`]) before the answer.

pub mod answer;
pub mod audit;
pub mod batch;
pub mod config;
pub mod deadline;
pub mod envelope;
pub mod incoming;
pub mod intake;
pub mod logging;
pub mod mapping;
pub mod metrics;
pub mod ordering;
pub mod outcome;
pub mod reading;
pub mod recent;
pub mod rejection;
pub mod send;
pub mod source;
pub mod summary;
pub mod time;
pub mod unbase64;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudtraildata::Client;
use lambda_runtime::LambdaEvent;
use tokio::time::Instant;

pub use answer::Answer;
pub use summary::Summary;

use crate::audit::AuditEvent;
use crate::config::Config;
use crate::incoming::IncomingEvent;
use crate::intake::{Intake, Units};
use crate::ordering::Ordering;
use crate::outcome::{Hold, Outcome};
use crate::recent::{Key, RecentlyIngested};
use crate::rejection::Rejection;
use crate::send::{Delivery, SdkChannel, SendReport, Sender};
use crate::source::{EventError, Record, Source};

/// A batch read and mapped, ready to send: the pure part of an invocation.
///
/// A record holds one audit event or several (CloudWatch Logs, KPL) or none (a CloudWatch Logs
/// control message). Sending works on *units*, one per audit event, in record order; each
/// unit carries its record's identity and message group, so the ordering rules apply to units
/// as they do to records. [`fold_outcomes`] turns the units' outcomes back into the records'.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub source: Option<Source>,
    pub event_source_arn: String,
    /// The records as Lambda delivered them (payloads moved out): what the answer names.
    pub records: Vec<Record>,
    /// `units[u]` is the metadata of the record unit `u` came from.
    pub units: Vec<Record>,
    /// `owner[u]` is the index in `records` of unit `u`'s record.
    pub owner: Vec<usize>,
    /// `events[u]` is unit `u`'s audit event, `None` when it was rejected.
    pub events: Vec<Option<AuditEvent>>,
    /// `outcomes[u]` is `Some` for units already decided: rejected, or held behind one.
    pub outcomes: Vec<Option<Outcome>>,
}

impl Prepared {
    /// Each record's outcome, from its units' `outcomes` (see [`fold_outcomes`]).
    pub fn record_outcomes(&self, outcomes: &[Option<Outcome>]) -> Vec<Option<Outcome>> {
        fold_outcomes(self.records.len(), &self.owner, outcomes)
    }
}

/// Reads a Lambda event, takes each record's events out of their envelope and maps each to its
/// audit event or its rejection, then holds back what the source's ordering says must wait
/// behind a rejection. The tests and the benchmarks call this; the handler does the same in
/// parts ([`Forwarder::forward`]).
pub fn prepare(event: IncomingEvent, intake: &Intake) -> Result<Prepared, EventError> {
    let mut batch = source::decode(event)?;
    let Part { units, owner, events, mut outcomes, .. } =
        prepare_part(batch.source, &mut batch.records, 0, intake, Budget::WHOLE, None);
    Ordering::of(batch.source).hold_behind_failures(&units, &mut outcomes);
    Ok(Prepared {
        source: batch.source,
        event_source_arn: batch.event_source_arn,
        records: batch.records,
        units,
        owner,
        events,
        outcomes,
    })
}

/// The units of some consecutive records of a batch, before the ordering's holds.
struct Part {
    units: Vec<Record>,
    /// Batch indices of the records, not indices into the part.
    owner: Vec<usize>,
    events: Vec<Option<AuditEvent>>,
    outcomes: Vec<Option<Outcome>>,
    /// What the part took of the invocation's budget.
    used: Budget,
}

/// What an invocation may still take out of its records' envelopes
/// ([`MAX_EVENT_BYTES_PER_INVOCATION`], [`MAX_EVENTS_PER_INVOCATION`]).
#[derive(Debug, Clone, Copy)]
struct Budget {
    bytes: usize,
    events: usize,
}

impl Budget {
    const WHOLE: Budget = Budget { bytes: MAX_EVENT_BYTES_PER_INVOCATION, events: MAX_EVENTS_PER_INVOCATION };

    fn minus(self, used: Budget) -> Budget {
        Budget {
            bytes: self.bytes.saturating_sub(used.bytes),
            events: self.events.saturating_sub(used.events),
        }
    }
}

/// How the time a part of a batch took to prepare counts towards the time kept for finishing
/// ([`deadline::send_until`]), the same for deciding when preparing stops and when sending
/// stops.
#[derive(Debug, Clone, Copy)]
struct Counting {
    /// How many times this part's records the answer is built for: a first part stands for the
    /// whole batch, its preparation for the batch's.
    scale: f64,
    /// The least preparation a batch sent in parts counts ([`PREPARATION_FLOOR_PER_RECORD`]).
    floor: Duration,
}

impl Counting {
    fn counted(self, preparation: Duration) -> Duration {
        preparation.mul_f64(self.scale).max(self.floor)
    }
}

/// Until when an invocation may go on preparing records: Lambda's deadline, and how the
/// preparation counts.
#[derive(Debug, Clone, Copy)]
struct PrepareBy {
    deadline: Instant,
    /// What the batch took to prepare before this part began (decoding it, earlier parts).
    earlier: Duration,
    counting: Counting,
}

impl PrepareBy {
    /// The preparation counted for finishing when `spent` of it is this part's.
    fn counted(&self, spent: Duration) -> Duration {
        self.counting.counted(self.earlier + spent)
    }
}

/// How many plain records are prepared between two looks at the clock.
const RECORDS_PER_LOOK: u32 = 8;

/// A record whose payload is this large, or that may unpack into many events ([`unpacks`]),
/// is looked at before and after on its own.
const HEAVY_RECORD_BYTES: usize = 64 * 1024;

/// Watches one thread's preparation against [`PrepareBy`]. At each look it asks whether the
/// records until the next look (one heavy record, or [`RECORDS_PER_LOOK`] plain ones), each as
/// slow as the slowest of its kind so far, would still leave time to answer
/// ([`deadline::may_prepare`]); once not, preparing stops for good. Before any record is done
/// nothing is known of their time, so the first look stops only a deadline already at hand.
struct Stopwatch {
    by: PrepareBy,
    began: Instant,
    looked: Instant,
    /// Records begun since the last look; 0 only before the first.
    since_look: u32,
    /// Whether the record begun since the last look is a heavy one.
    heavy_since_look: bool,
    /// The most a plain record took, on average over the records between two looks.
    slowest_plain: Duration,
    /// The most a heavy record took.
    slowest_heavy: Duration,
    stopped: bool,
}

impl Stopwatch {
    fn new(by: PrepareBy) -> Stopwatch {
        let now = Instant::now();
        Stopwatch {
            by,
            began: now,
            looked: now,
            since_look: 0,
            heavy_since_look: false,
            slowest_plain: Duration::ZERO,
            slowest_heavy: Duration::ZERO,
            stopped: false,
        }
    }

    /// Whether `record` may still be prepared.
    fn may_prepare(&mut self, record: &Record) -> bool {
        if self.stopped {
            return false;
        }
        let heavy = unpacks(record)
            || record.payload.as_ref().is_ok_and(|payload| payload.as_bytes().len() >= HEAVY_RECORD_BYTES);
        let look =
            heavy || self.heavy_since_look || self.since_look == 0 || self.since_look >= RECORDS_PER_LOOK;
        if look {
            let now = Instant::now();
            if self.since_look > 0 {
                let each = (now - self.looked) / self.since_look;
                let slowest =
                    if self.heavy_since_look { &mut self.slowest_heavy } else { &mut self.slowest_plain };
                *slowest = (*slowest).max(each);
            }
            let next = match heavy {
                true => self.slowest_heavy.max(self.slowest_plain),
                false => self.slowest_plain * RECORDS_PER_LOOK,
            };
            let preparation = self.by.counted(now - self.began + next);
            if !deadline::may_prepare(self.by.deadline, now, next, preparation) {
                self.stopped = true;
                return false;
            }
            self.looked = now;
            self.since_look = 0;
            self.heavy_since_look = heavy;
        }
        self.since_look += 1;
        true
    }
}

/// Maps `records`, which start at batch index `first`, to their units in record order; a
/// record left for a later delivery, by the budget or by the deadline (`by`), is one held unit
/// in its place.
fn prepare_part(
    source: Option<Source>,
    records: &mut [Record],
    first: usize,
    intake: &Intake,
    budget: Budget,
    by: Option<PrepareBy>,
) -> Part {
    let Mapped { units: all, owner: unit_owner, deferred, taken } =
        audit_events(source, records, intake, budget, by);
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

/// One outcome per record from its units' outcomes: a record is ingested when all its units
/// are (a record of none, a control message, is done); otherwise its outcome is that of its
/// first unit not ingested (`None`, not confirmed, when that unit was never decided).
///
/// ```
/// use cloudtrail_lake_forwarder::fold_outcomes;
/// use cloudtrail_lake_forwarder::outcome::Outcome;
/// let failed = Some(Outcome::Failed { code: "InvalidData".into(), transient: false });
/// let units = [Some(Outcome::Ingested), failed.clone(), Some(Outcome::Ingested)];
/// assert_eq!(fold_outcomes(3, &[0, 0, 2], &units), [failed, Some(Outcome::Ingested), Some(Outcome::Ingested)]);
/// ```
pub fn fold_outcomes(records: usize, owner: &[usize], outcomes: &[Option<Outcome>]) -> Vec<Option<Outcome>> {
    let mut folded = vec![Some(Outcome::Ingested); records];
    let mut failed = vec![false; records];
    for (&record, outcome) in owner.iter().zip(outcomes) {
        if !failed[record] && !matches!(outcome, Some(Outcome::Ingested)) {
            folded[record] = outcome.clone();
            failed[record] = true;
        }
    }
    folded
}

/// The function's state across invocations: the sender (SDK client and rate limiter) and the
/// memory of what was ingested.
#[derive(Debug)]
pub struct Forwarder {
    sender: Sender,
    recent: RecentlyIngested,
    intake: Arc<Intake>,
    metrics_namespace: String,
    function_name: String,
}

impl Forwarder {
    /// Builds the forwarder from a ready SDK client; no network call is made.
    pub fn new(client: Client, config: &Config) -> Forwarder {
        let channel = SdkChannel::new(client, config.channel.as_str(), config.external_id.as_deref());
        Forwarder {
            sender: Sender::new(
                channel,
                config.max_concurrent_requests.get(),
                config.max_requests_per_second,
            ),
            recent: RecentlyIngested::default(),
            intake: Arc::new(Intake::of(config)),
            metrics_namespace: config.metrics_namespace.clone(),
            function_name: config.function_name.clone(),
        }
    }

    /// The Lambda handler: forwards the batch and logs one summary line.
    ///
    /// An event that is not an SQS or Kinesis batch is an error, which fails the invocation.
    pub async fn handle(&self, event: LambdaEvent<IncomingEvent>) -> Result<Answer, EventError> {
        let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as u64;
        let deadline = deadline::lambda_deadline(event.context.deadline, now_ms, Instant::now());
        let payload = reading::take_read_event().unwrap_or(event.payload);
        let (answer, summary) = self.forward(payload, deadline).await.inspect_err(|error| {
            tracing::error!(%error, "the invocation's event cannot be forwarded");
        })?;
        summary.log();
        // The EMF document goes straight to stdout, outside the log formatter, as CloudWatch
        // expects; it holds counts and times only.
        let mut document =
            metrics::emf_document(&self.metrics_namespace, &self.function_name, &summary, now_ms);
        document.push('\n');
        // One write with its newline: `println!` made two system calls of it, as the document
        // outgrows stdout's line buffer. Metrics that cannot be written do not fail the batch.
        let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), document.as_bytes());
        Ok(answer)
    }

    /// Forwards one event's records and answers before Lambda's `deadline`, if one is known.
    ///
    /// A large batch goes in two parts. The records the limiter's burst can send at once are
    /// prepared first and sent; the rest are prepared on another thread meanwhile, and sent
    /// after the first part is answered. At 128 MB the limiter spaces 100 requests over 750 ms
    /// whatever else happens, so preparing the rest while the first requests travel saves
    /// most of the time preparing them would have taken. What the first part's answers hold
    /// back (the Kinesis ordering) holds back the second part as it would in one batch, and a
    /// record repeated across the parts is sent once. FIFO batches go whole: their message
    /// groups are packed in waves over the whole batch.
    pub async fn forward(
        &self,
        event: IncomingEvent,
        deadline: Option<Instant>,
    ) -> Result<(Answer, Summary), EventError> {
        let started = Instant::now();
        let mut batch = source::decode(event)?;
        let ordering = Ordering::of(batch.source);
        let total = batch.records.len();
        let first = self.first_part(&batch.records, ordering);
        let rest = batch.records.split_off(first);
        // Sending keeps back time for finishing in proportion to the preparation, and, when the
        // batch goes in parts, never less than a floor per record: at 128 MB the cgroup lets a
        // short burst of CPU run unthrottled, so a part's preparation can look many times
        // faster than the batch's, and the answer is built for the whole batch.
        let floor = match rest.is_empty() {
            true => Duration::ZERO,
            false => PREPARATION_FLOOR_PER_RECORD * total as u32,
        };
        // The first part counts as if the whole batch were prepared at its pace.
        let head_counting = Counting { scale: total as f64 / first.max(1) as f64, floor };
        let tail_counting = Counting { scale: 1.0, floor };
        // Preparing stops short of the deadline too, counting its time as sending will: a
        // batch that goes whole (FIFO, gzip, KPL) is prepared before its first request, and at
        // 128 MB that can take longer than the time Lambda gives. The records left are answered
        // as not ingested, not late.
        let by = |earlier: Duration, counting: Counting| {
            deadline.map(|deadline| PrepareBy { deadline, earlier, counting })
        };
        let head = prepare_part(
            batch.source,
            &mut batch.records,
            0,
            &self.intake,
            Budget::WHOLE,
            by(started.elapsed(), head_counting),
        );
        let mut preparation = started.elapsed();
        let tail = (!rest.is_empty()).then(|| {
            let (intake, source, budget) =
                (Arc::clone(&self.intake), batch.source, Budget::WHOLE.minus(head.used));
            let by = by(preparation, tail_counting);
            tokio::task::spawn_blocking(move || {
                let began = std::time::Instant::now();
                let mut records = rest;
                let part = prepare_part(source, &mut records, first, &intake, budget, by);
                (records, part, began.elapsed())
            })
        });
        let mut sending = Sending { first_of: HashMap::with_capacity(total), ..Sending::default() };
        let send_until = |preparation: Duration, counting: Counting| {
            let preparation = counting.counted(preparation);
            deadline.map(|deadline| deadline::send_until(deadline, Instant::now(), preparation))
        };
        let until = send_until(preparation, head_counting);
        self.send_part(&batch.event_source_arn, &mut sending, head, ordering, until).await;
        if let Some(tail) = tail {
            let (records, part, took) = tail.await.unwrap_or_else(|error| match error.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(error) => panic!("preparing the rest of the batch did not finish: {error}"),
            });
            batch.records.extend(records);
            preparation += took;
            let until = send_until(preparation, tail_counting);
            self.send_part(&batch.event_source_arn, &mut sending, part, ordering, until).await;
        }
        let Sending { owner, mut outcomes, copies, mut report, .. } = sending;
        report.remembered += copies.len();
        for (copy, original) in copies {
            outcomes[copy] = outcomes[original].clone();
        }
        report.events_ingested =
            outcomes.iter().filter(|outcome| matches!(outcome, Some(Outcome::Ingested))).count();
        let records = batch.records;
        let outcomes = fold_outcomes(records.len(), &owner, &outcomes);
        let (answer, reported) = answer::answer(batch.source, &records, &outcomes)?;
        summary::log_reported(&records, &outcomes, &reported);
        let summary = Summary::new(batch.source, &records, &outcomes, &reported, report, started.elapsed());
        Ok((answer, summary))
    }

    /// How many records of `batch` to prepare and send first: what the limiter's
    /// burst sends at once, and at least a quarter of the batch, in whole requests, whose preparation time stands
    /// for the whole batch's when the first part decides how long it may send (a hundred
    /// records at a few percent of a core say too little about ten thousand); the whole batch
    /// when it is small or FIFO, or when a record may unpack into many events ([`unpacks`]):
    /// its first records would say nothing about how long the rest takes.
    fn first_part(&self, batch: &[Record], ordering: Ordering) -> usize {
        let records = batch.len();
        if ordering.one_request_at_a_time() || records < SPLIT_MIN_RECORDS || batch.iter().any(unpacks) {
            return records;
        }
        // Whole requests' worth, so that the split leaves no half-empty request behind.
        let per_request = batch::MAX_EVENTS_PER_REQUEST;
        let first = self.sender.burst().max(records.div_ceil(4).div_ceil(per_request));
        (first * per_request).min(records)
    }

    /// Sends a part of the batch: adds its units to what was sent before, holds those that
    /// wait behind a failure of the batch so far, skips what is already known, and delivers
    /// the rest.
    async fn send_part(
        &self,
        event_source_arn: &str,
        sending: &mut Sending,
        part: Part,
        ordering: Ordering,
        send_until: Option<Instant>,
    ) {
        let start = sending.units.len();
        sending.units.extend(part.units);
        sending.owner.extend(part.owner);
        sending.outcomes.extend(part.outcomes);
        ordering.hold_behind_failures(&sending.units, &mut sending.outcomes);
        let (keys, remembered) = self.skip_known(event_source_arn, &part.events, start, sending);
        let events = Arc::new(part.events);
        // Remembered together once the part is delivered (see `RecentlyIngested`): nothing
        // looks in the memory meanwhile, and a process that dies before then forgets them,
        // which costs a duplicate on redelivery, never a loss.
        let mut confirmed = Vec::with_capacity(keys.len());
        let mut on_ingested = |index: usize| confirmed.extend(keys[index]);
        let delivery = Delivery {
            records: &sending.units[start..],
            events: &events,
            outcomes: &mut sending.outcomes[start..],
            ordering,
            send_until,
            on_ingested: &mut on_ingested,
            // An earlier part showed that every request is refused (the channel, the caller).
            stopped: sending.report.stopped.clone(),
        };
        let mut report = self.sender.deliver(delivery).await;
        self.recent.insert_all(confirmed);
        report.remembered = remembered;
        sending.report.add(report);
    }

    /// Marks as ingested every event this process already saw confirmed, and sets aside each
    /// event that repeats an earlier one of the batch (SQS delivers at least once, so one batch
    /// may hold a message twice): it is sent once, and the copy is answered by what became of
    /// it. `events` are the units from batch unit `start` on. Returns each event still to send
    /// with its key, and how many events were remembered.
    fn skip_known(
        &self,
        event_source_arn: &str,
        events: &[Option<AuditEvent>],
        start: usize,
        sending: &mut Sending,
    ) -> (Vec<Option<Key>>, usize) {
        let mut remembered = 0;
        let Sending { outcomes, first_of, copies, .. } = sending;
        let keys: Vec<Option<Key>> = events
            .iter()
            .zip(&outcomes[start..])
            .map(|(event, outcome)| {
                let event = event.as_ref().filter(|_| outcome.is_none())?;
                Some(Key::of(event_source_arn, event))
            })
            .collect();
        let seen = self.recent.seen(&keys);
        let keys = keys
            .into_iter()
            .zip(seen)
            .zip(outcomes[start..].iter_mut())
            .enumerate()
            .map(|(offset, ((key, seen), outcome))| {
                let key = key?;
                if seen {
                    *outcome = Some(Outcome::Ingested);
                    remembered += 1;
                    return None;
                }
                if let Some(&original) = first_of.get(&key) {
                    copies.push((start + offset, original));
                    *outcome = Some(Outcome::Ingested);
                    return None;
                }
                first_of.insert(key, start + offset);
                Some(key)
            })
            .collect();
        (keys, remembered)
    }
}

/// One invocation's sending so far, over the parts of its batch: every unit in batch order.
#[derive(Default)]
struct Sending {
    units: Vec<Record>,
    owner: Vec<usize>,
    outcomes: Vec<Option<Outcome>>,
    /// The first unit of each key, so that a repeat in a later part is a copy too.
    first_of: HashMap<Key, usize>,
    /// `(copy, original)` unit indices.
    copies: Vec<(usize, usize)>,
    report: SendReport,
}

/// Whether a record's payload is a binary envelope that may unpack into many events (gzip from
/// CloudWatch Logs, a KPL aggregate), as its first bytes say.
fn unpacks(record: &Record) -> bool {
    record.payload.as_ref().is_ok_and(|payload| envelope::binary_envelope(payload.as_bytes()).is_some())
}

/// The least preparation time a record of a batch sent in parts is taken to stand for when a
/// part decides how long it may send. Set with the 128 MB test of a hung service
/// (`tests/cpu_share.rs`, release build): with 60 µs the 10,000-message batch was answered
/// about 390 ms before the deadline, with 100 µs about 590 ms, as it was before batches went in
/// parts; for 10,000 records it keeps back half a second more only when the service is too slow
/// for the batch anyway.
const PREPARATION_FLOOR_PER_RECORD: Duration = Duration::from_micros(100);

/// Below this many records a batch is prepared whole before its first request: it is sent in
/// a round trip or two, and another thread would cost more than it overlaps.
const SPLIT_MIN_RECORDS: usize = 2 * batch::MAX_EVENTS_PER_REQUEST;

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

/// The audit events of a batch's records, with what was left for a later delivery.
struct Mapped {
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

/// Each record's audit events, in record order, with the index of the record each came from;
/// the payloads are moved out of the records (what is left in them is empty).
///
/// Large batches are split over the cores Lambda gives the function (two from 1,769 MB of
/// memory); records keep their order, and each is mapped exactly as on one thread, each of the
/// `parts` chunks with its part of the budgets, and each watching the deadline (`by`) itself.
fn audit_events(
    source: Option<Source>,
    records: &mut [Record],
    intake: &Intake,
    budget: Budget,
    by: Option<PrepareBy>,
) -> Mapped {
    let chunk_units = |first: usize, records: &mut [Record], parts: usize| -> Mapped {
        let mut mapped = Mapped {
            units: Vec::with_capacity(records.len()),
            owner: Vec::with_capacity(records.len()),
            deferred: Vec::new(),
            taken: 0,
        };
        let mut stopwatch = by.map(Stopwatch::new);
        for (offset, record) in records.iter_mut().enumerate() {
            if mapped.taken >= budget.bytes / parts || mapped.units.len() >= budget.events / parts {
                mapped.deferred.push((first + offset, Hold::OverBudget));
                continue;
            }
            if stopwatch.as_mut().is_some_and(|stopwatch| !stopwatch.may_prepare(record)) {
                mapped.deferred.push((first + offset, Hold::OutOfTime));
                continue;
            }
            let before = mapped.units.len();
            let count = intake.audit_events(source, record, &mut mapped.units);
            mapped.taken +=
                mapped.units[before..].iter().flatten().map(|event| event.event_data.len()).sum::<usize>();
            mapped.owner.extend(std::iter::repeat_n(first + offset, count));
        }
        mapped
    };
    // Asking for the cores reads the cgroup's files: only worth it for a large batch.
    if records.len() < PARALLEL_MAPPING_MIN_RECORDS {
        return chunk_units(0, records, 1);
    }
    let threads = std::thread::available_parallelism().map_or(1, |cores| cores.get().min(4));
    if threads < 2 {
        return chunk_units(0, records, 1);
    }
    let chunk = records.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = records
            .chunks_mut(chunk)
            .enumerate()
            .map(|(index, records)| scope.spawn(move || chunk_units(index * chunk, records, threads)))
            .collect();
        let mut all = Mapped {
            units: Vec::with_capacity(chunk * threads),
            owner: Vec::new(),
            deferred: Vec::new(),
            taken: 0,
        };
        for worker in workers {
            let mapped = worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            all.units.extend(mapped.units);
            all.owner.extend(mapped.owner);
            all.deferred.extend(mapped.deferred);
            all.taken += mapped.taken;
        }
        all
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ChannelArn;
    use serde_json::json;

    fn sqs_records(count: usize) -> (Option<Source>, Vec<Record>) {
        let records: Vec<_> = (0..count)
            .map(|i| json!({"eventSource": "aws:sqs", "messageId": format!("m-{i}"), "body": "{}"}))
            .collect();
        let batch = source::decode(serde_json::from_value(json!({ "Records": records })).unwrap()).unwrap();
        (batch.source, batch.records)
    }

    fn intake() -> Intake {
        let channel = ChannelArn::parse("arn:aws:cloudtrail:us-east-1:123456789012:channel/c").unwrap();
        Intake::of(&Config::for_channel(channel))
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

    fn kinesis_records(count: usize, gzip_at: Option<usize>) -> Vec<Record> {
        use base64::Engine as _;
        let records: Vec<_> = (0..count)
            .map(|i| {
                let data: &[u8] = if Some(i) == gzip_at { &[0x1f, 0x8b, 8, 0] } else { b"{}" };
                let data = base64::engine::general_purpose::STANDARD.encode(data);
                json!({"eventSource": "aws:kinesis", "kinesis": {"sequenceNumber": format!("{i}"), "data": data}})
            })
            .collect();
        source::decode(serde_json::from_value(json!({ "Records": records })).unwrap()).unwrap().records
    }

    #[test]
    fn a_batch_goes_in_two_parts_only_when_large_plain_and_not_fifo() {
        let client = send::sdk_client(
            aws_sdk_cloudtraildata::Config::builder()
                .behavior_version(aws_sdk_cloudtraildata::config::BehaviorVersion::latest())
                .region(aws_sdk_cloudtraildata::config::Region::new("us-east-1"))
                .endpoint_url("http://127.0.0.1:9"),
        );
        let channel = ChannelArn::parse("arn:aws:cloudtrail:us-east-1:123456789012:channel/c").unwrap();
        let forwarder = Forwarder::new(client, &Config::for_channel(channel));
        // A cold limiter's burst is one request: the first part is a quarter, in whole requests.
        assert_eq!(forwarder.first_part(&kinesis_records(1_000, None), Ordering::Shard), 300);
        assert_eq!(forwarder.first_part(&kinesis_records(300, None), Ordering::Shard), 100);
        assert_eq!(forwarder.first_part(&kinesis_records(199, None), Ordering::Shard), 199);
        assert_eq!(forwarder.first_part(&kinesis_records(300, None), Ordering::MessageGroups), 300);
        assert_eq!(forwarder.first_part(&kinesis_records(300, Some(250)), Ordering::Shard), 300);
    }

    #[test]
    fn a_later_part_takes_only_what_the_earlier_parts_left_of_the_budget() {
        let (source, mut records) = sqs_records(5);
        let budget = Budget { bytes: MAX_EVENT_BYTES_PER_INVOCATION, events: 3 };
        let part = prepare_part(source, &mut records, 100, &intake(), budget, None);
        assert_eq!(part.owner, [100, 101, 102, 103, 104], "batch indices, every record in its place");
        assert_eq!(over_budget(&part), [103, 104]);
        assert_eq!(part.used.events, 3);

        let spent = Budget::WHOLE.minus(Budget::WHOLE);
        let (source, mut records) = sqs_records(2);
        let part = prepare_part(source, &mut records, 5, &intake(), spent, None);
        assert_eq!(over_budget(&part), [5, 6], "no first record is taken once the budget is spent");
    }

    #[test]
    fn no_record_is_prepared_once_answering_needs_all_the_time_left() {
        let by = |deadline| Some(alone_until(deadline));
        // On one thread, and on several where the machine has them (from
        // PARALLEL_MAPPING_MIN_RECORDS records).
        for count in [3, PARALLEL_MAPPING_MIN_RECORDS + 1] {
            let (source, mut records) = sqs_records(count);
            let part = prepare_part(source, &mut records, 0, &intake(), Budget::WHOLE, by(Instant::now()));
            assert_eq!(held(&part, Hold::OutOfTime), (0..count).collect::<Vec<_>>());
            assert!(part.events.iter().all(Option::is_none), "{count} records");
            assert_eq!(part.used.events, 0);

            let (source, mut records) = sqs_records(count);
            let far = Instant::now() + Duration::from_secs(600);
            let part = prepare_part(source, &mut records, 0, &intake(), Budget::WHOLE, by(far));
            assert!(held(&part, Hold::OutOfTime).is_empty(), "{count} records, 600 s left");
            assert!(part.outcomes.iter().all(|outcome| matches!(outcome, Some(Outcome::Rejected(_)))));
        }
    }

    #[test]
    fn what_comes_before_the_next_look_is_begun_only_with_time_to_answer_after_it() {
        // Records 0-8 and 10-11 are plain, 9 is gzip (it may unpack into many events).
        let records = kinesis_records(12, Some(9));
        let ms = Duration::from_millis;
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut stopwatch = Stopwatch::new(alone_until(deadline));
        // Time passing for the stopwatch: everything it knows moves back.
        let pass = |stopwatch: &mut Stopwatch, time: Duration| {
            stopwatch.by.deadline -= time;
            stopwatch.began -= time;
            stopwatch.looked -= time;
        };
        assert!(stopwatch.may_prepare(&records[0]), "the first record, nothing known yet");
        for record in &records[1..8] {
            assert!(stopwatch.may_prepare(record));
        }
        // The eight plain records took 1.4 s: the next eight would take as long, and 7.2 s would
        // still be left then, with 1.9 s kept for the answer.
        pass(&mut stopwatch, ms(1_400));
        assert!(stopwatch.may_prepare(&records[8]), "8.6 s left, 1.4 s for the next eight");
        assert!((175..300).contains(&stopwatch.slowest_plain.as_millis()), "{:?}", stopwatch.slowest_plain);
        assert!(stopwatch.may_prepare(&records[9]), "a gzip record is looked at before it");
        // The gzip record took 3 s: plain records are still judged by their own pace.
        pass(&mut stopwatch, ms(3_000));
        assert!(stopwatch.may_prepare(&records[10]), "5.6 s left, 1.4 s for the next eight plain");
        assert!(
            (3_000..3_200).contains(&stopwatch.slowest_heavy.as_millis()),
            "{:?}",
            stopwatch.slowest_heavy
        );
        // Another gzip record, as slow, would leave 2.6 s against 3.7 s for finishing and 0.26 s.
        assert!(!stopwatch.may_prepare(&records[9]), "5.6 s left, 3 s for the next gzip record");
        assert!(!stopwatch.may_prepare(&records[11]), "once stopped, preparing stays stopped");

        // With 1.6 s left after eight records in 1.4 s, one more would fit; the eight begun
        // before the next look would not.
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut stopwatch = Stopwatch::new(alone_until(deadline));
        for record in &records[..8] {
            assert!(stopwatch.may_prepare(record));
        }
        pass(&mut stopwatch, ms(1_400));
        assert!(!stopwatch.may_prepare(&records[8]), "1.6 s left, 1.4 s for the next eight");

        // A part that stands for a batch four times its size counts its preparation so, and a
        // batch sent in parts counts at least its floor: either can leave no time for a record.
        let by = PrepareBy {
            deadline: Instant::now() + Duration::from_secs(3),
            earlier: ms(1_500),
            counting: Counting { scale: 4.0, floor: ms(100) },
        };
        assert_eq!(by.counted(ms(250)), ms(7_000));
        assert!(!Stopwatch::new(by).may_prepare(&records[0]), "6 s counted: 3 s kept of 3 s");
        let alone = PrepareBy { counting: Counting { scale: 1.0, ..by.counting }, ..by };
        assert!(Stopwatch::new(alone).may_prepare(&records[0]), "1.5 s counted: 0.75 s kept");
        let floored = PrepareBy { counting: Counting { floor: Duration::from_secs(6), scale: 1.0 }, ..by };
        assert!(!Stopwatch::new(floored).may_prepare(&records[0]), "a floor of 6 s: 3 s kept");
    }

    #[test]
    fn a_large_plain_record_is_looked_at_before_and_after_on_its_own() {
        let large =
            json!({"eventSource": "aws:sqs", "messageId": "m-large", "body": "x".repeat(HEAVY_RECORD_BYTES)});
        let small = json!({"eventSource": "aws:sqs", "messageId": "m-small", "body": "{}"});
        let batch = json!({ "Records": [small.clone(), large, small] });
        let records = source::decode(serde_json::from_value(batch).unwrap()).unwrap().records;
        let deadline = Instant::now() + Duration::from_secs(600);
        let mut stopwatch = Stopwatch::new(alone_until(deadline));
        assert!(stopwatch.may_prepare(&records[0]));
        assert!(!stopwatch.heavy_since_look);
        assert!(stopwatch.may_prepare(&records[1]));
        assert!(stopwatch.heavy_since_look, "looked at before the large record");
        assert_eq!(stopwatch.since_look, 1);
        assert!(stopwatch.may_prepare(&records[2]));
        assert!(!stopwatch.heavy_since_look, "and again after it");
    }
}

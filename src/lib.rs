//! A Lambda function that forwards SQS and Kinesis records to AWS CloudTrail Lake as audit
//! events, and answers Lambda with exactly the records that did not make it.
//!
//! The work is one pipeline, one module a stage:
//!
//! - [`config`]: environment variables → [`config::Config`], read once at cold start.
//! - [`incoming`]: the Lambda event as it arrives, only the fields read, read loosely.
//! - [`source`]: the Lambda event → records, each with the identifier Lambda knows it by.
//! - [`audit`]: a record → an audit event (`id`, `eventData`, checksum), or a rejection.
//! - [`outcome`]: what became of each record, and the FIFO / Kinesis ordering rules.
//! - [`batch`]: audit events → requests of at most 100 events and 1 MB (pure, byte-exact).
//! - [`send`]: requests → outcomes through the SDK; the only module that does I/O.
//! - [`retry`]: which failures are transient, and the backoff between tries.
//! - [`recent`]: events this process saw ingested, so redeliveries are not sent twice.
//! - [`answer`]: outcomes → `SqsBatchResponse` or `KinesisEventResponse`.
//! - [`summary`] and [`metrics`]: the invocation's summary log line and its EMF metrics.
//! - [`Forwarder`] below chains the stages for one invocation and logs its summary.

pub mod answer;
pub mod audit;
pub mod batch;
pub mod config;
pub mod incoming;
pub mod metrics;
pub mod outcome;
pub mod recent;
pub mod retry;
pub mod send;
pub mod source;
pub mod summary;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudtraildata::Client;
use lambda_runtime::LambdaEvent;
use tokio::time::Instant;

pub use answer::Answer;
pub use summary::Summary;

use crate::audit::{AuditEvent, Rejection};
use crate::config::Config;
use crate::incoming::IncomingEvent;
use crate::outcome::{Ordering, Outcome};
use crate::recent::{Key, RecentlyIngested};
use crate::send::Sender;
use crate::source::{EventError, Record};

/// The function's state across invocations: one SDK client and the channel it sends to.
#[derive(Debug, Clone)]
pub struct Forwarder {
    sender: Sender,
    recent: Arc<RecentlyIngested>,
    metrics_namespace: String,
    function_name: String,
}

impl Forwarder {
    /// Builds the forwarder from a ready SDK client; no network call is made.
    pub fn new(client: Client, config: &Config) -> Forwarder {
        Forwarder {
            sender: Sender::new(client, config),
            recent: Arc::default(),
            metrics_namespace: config.metrics_namespace.clone(),
            function_name: config.function_name.clone(),
        }
    }

    /// The Lambda handler: forwards the batch and logs one summary line.
    ///
    /// An event that is not an SQS or Kinesis batch is an error, which fails the invocation.
    pub async fn handle(&self, event: LambdaEvent<IncomingEvent>) -> Result<Answer, EventError> {
        let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as u64;
        let deadline = time_budget(event.context.deadline, now_ms).map(|budget| Instant::now() + budget);
        let (answer, summary) = self.forward(event.payload, deadline).await.inspect_err(|error| {
            tracing::error!(%error, "the invocation's event cannot be forwarded");
        })?;
        summary.log();
        // The EMF document goes straight to stdout, outside the log formatter, as CloudWatch
        // expects; it holds counts and times only.
        let document = metrics::emf_document(&self.metrics_namespace, &self.function_name, &summary, now_ms);
        println!("{document}");
        Ok(answer)
    }

    /// Forwards one event's records, answering by `deadline` if one is given.
    pub async fn forward(
        &self,
        event: impl Into<IncomingEvent>,
        deadline: Option<Instant>,
    ) -> Result<(Answer, Summary), EventError> {
        let started = Instant::now();
        let mut batch = source::decode(event)?;
        let ordering = Ordering::of(batch.source);
        let mut outcomes: Vec<Option<Outcome>> = vec![None; batch.records.len()];
        let events = Arc::new(audit_events(&mut batch.records, &mut outcomes));
        ordering.hold_behind_failures(&batch.records, &mut outcomes);
        let (keys, remembered) = self.skip_recently_ingested(&batch.event_source_arn, &events, &mut outcomes);
        let mut report =
            self.sender.deliver(&batch.records, &events, &mut outcomes, ordering, deadline).await;
        report.remembered = remembered;
        self.remember_ingested(keys, &outcomes);
        log_failures(&batch.records, &outcomes);
        let answer = answer::answer(batch.source, &batch.records, &outcomes)?;
        let summary =
            Summary::new(batch.source, &batch.records, &outcomes, &answer, report, started.elapsed());
        Ok((answer, summary))
    }
}

impl Forwarder {
    /// Marks as ingested every event this process already saw confirmed. Returns each event
    /// still to send with its key (`None` for the others), and how many were skipped.
    fn skip_recently_ingested(
        &self,
        event_source_arn: &str,
        events: &[Option<AuditEvent>],
        outcomes: &mut [Option<Outcome>],
    ) -> (Vec<Option<Key>>, usize) {
        let mut skipped = 0;
        let keys = events
            .iter()
            .zip(outcomes.iter_mut())
            .map(|(event, outcome)| {
                let event = event.as_ref().filter(|_| outcome.is_none())?;
                let key = Key::of(event_source_arn, event);
                if self.recent.contains(&key) {
                    *outcome = Some(Outcome::Ingested);
                    skipped += 1;
                    return None;
                }
                Some(key)
            })
            .collect();
        (keys, skipped)
    }

    /// Remembers the events this invocation got confirmed.
    fn remember_ingested(&self, keys: Vec<Option<Key>>, outcomes: &[Option<Outcome>]) {
        self.recent.insert_all(
            keys.into_iter()
                .zip(outcomes)
                .filter_map(|(key, outcome)| key.filter(|_| matches!(outcome, Some(Outcome::Ingested)))),
        );
    }
}

/// Below this many records, one thread maps them sooner than starting others would help.
const PARALLEL_MAPPING_MIN_RECORDS: usize = 1024;

/// Maps each record to its audit event, moving the payload out of the record (what is left in
/// it is empty). A record that cannot be one gets its rejection as its outcome, and a log line naming it and the rule.
///
/// Large batches are split over the cores Lambda gives the function (two from 1,769 MB of
/// memory); records keep their order, and each is mapped exactly as on one thread.
fn audit_events(records: &mut [Record], outcomes: &mut [Option<Outcome>]) -> Vec<Option<AuditEvent>> {
    let threads = std::thread::available_parallelism().map_or(1, |cores| cores.get().min(4));
    if threads < 2 || records.len() < PARALLEL_MAPPING_MIN_RECORDS {
        return audit_chunk(records, outcomes);
    }
    let chunk = records.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = records
            .chunks_mut(chunk)
            .zip(outcomes.chunks_mut(chunk))
            .map(|(records, outcomes)| scope.spawn(move || audit_chunk(records, outcomes)))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    })
}

fn audit_chunk(records: &mut [Record], outcomes: &mut [Option<Outcome>]) -> Vec<Option<AuditEvent>> {
    records
        .iter_mut()
        .zip(outcomes.iter_mut())
        .map(|(record, outcome)| {
            let payload = std::mem::replace(&mut record.payload, Ok(String::new()));
            match payload.and_then(|text| audit::audit_event(record.item_identifier.as_ref(), text)) {
                Ok(event) => Some(event),
                Err(rejection) => {
                    reject(record, &rejection);
                    *outcome = Some(Outcome::Rejected(rejection));
                    None
                }
            }
        })
        .collect()
}

fn reject(record: &Record, rejection: &Rejection) {
    tracing::warn!(
        item_identifier = record.label(),
        code = "Rejected",
        reason = %rejection,
        "record rejected: it is not a valid audit event and is reported failed"
    );
}

fn log_failures(records: &[Record], outcomes: &[Option<Outcome>]) {
    for (record, outcome) in records.iter().zip(outcomes) {
        match outcome {
            Some(Outcome::Failed { code, transient }) => {
                tracing::warn!(item_identifier = record.label(), code = %code, transient, "event not ingested")
            }
            Some(Outcome::Held(hold)) => {
                tracing::debug!(item_identifier = record.label(), reason = %hold, "record not sent")
            }
            _ => {}
        }
    }
}

/// How long the invocation may work before answering, given Lambda's deadline and the time
/// now (both epoch milliseconds). `None` means no deadline is known: `cargo lambda watch`
/// sends one in 1970 and a default context has 0, so a deadline already past at the start of
/// an invocation is not taken to mean "no time left".
///
/// A margin is kept for the answer itself: a tenth of the time, between 20 ms and 500 ms.
///
/// ```
/// use std::time::Duration;
/// use cloudtrail_lake_forwarder::time_budget;
///
/// assert_eq!(time_budget(600_000, 1_800_000_000_000), None);
/// assert_eq!(time_budget(1_000_030_000, 1_000_000_000), Some(Duration::from_millis(29_500)));
/// assert_eq!(time_budget(1_000_001_000, 1_000_000_000), Some(Duration::from_millis(900)));
/// ```
pub fn time_budget(deadline_ms: u64, now_ms: u64) -> Option<Duration> {
    let remaining = deadline_ms.checked_sub(now_ms).filter(|&ms| ms > 0)?;
    let margin = (remaining / 10).clamp(20, 500).min(remaining / 2);
    Some(Duration::from_millis(remaining - margin))
}

//! A Lambda function that forwards SQS and Kinesis records to AWS CloudTrail Lake as audit
//! events, and answers Lambda with exactly the records that did not make it.
//!
//! The work is one pipeline, one module a stage:
//!
//! - [`config`]: environment variables → [`config::Config`], read once at cold start.
//! - [`logging`]: the log subscriber, with every other crate capped so no level leaks content.
//! - [`incoming`]: the Lambda event as it arrives, only the fields read, read loosely.
//! - [`source`]: the Lambda event → records, each with the identifier Lambda knows it by.
//! - [`audit`]: a record → an audit event (`id`, `eventData`, checksum), or a [`rejection`].
//! - [`outcome`]: what became of each record.
//! - [`ordering`]: the FIFO and Kinesis rules: holds, which records the answer names.
//! - [`batch`]: audit events → requests of at most 100 events and 1 MB (pure, byte-exact).
//! - [`deadline`]: when sending must stop so that the answer is never late.
//! - [`send`]: requests → outcomes through the SDK, paced by the rate limiter; the only I/O.
//! - [`recent`]: events this process saw ingested, so redeliveries are not sent twice.
//! - [`answer`]: outcomes → `SqsBatchResponse` or `KinesisEventResponse`.
//! - [`summary`] and [`metrics`]: the invocation's summary log line and its EMF metrics.
//! - [`prepare`] and [`Forwarder`] below chain the stages for one invocation.

pub mod answer;
pub mod audit;
pub mod batch;
pub mod config;
pub mod deadline;
pub mod incoming;
pub mod logging;
pub mod metrics;
pub mod ordering;
pub mod outcome;
pub mod recent;
pub mod rejection;
pub mod send;
pub mod source;
pub mod summary;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_cloudtraildata::Client;
use lambda_runtime::LambdaEvent;
use tokio::time::Instant;

pub use answer::Answer;
pub use summary::Summary;

use crate::audit::AuditEvent;
use crate::config::Config;
use crate::incoming::IncomingEvent;
use crate::ordering::Ordering;
use crate::outcome::Outcome;
use crate::recent::{Key, RecentlyIngested};
use crate::send::{Delivery, SdkChannel, Sender};
use crate::source::{EventError, Record, Source};

/// A batch read and mapped, ready to send: the pure part of an invocation.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub source: Option<Source>,
    pub event_source_arn: String,
    pub records: Vec<Record>,
    /// `events[i]` is record `i`'s audit event, `None` when it was rejected.
    pub events: Vec<Option<AuditEvent>>,
    /// `outcomes[i]` is `Some` for records already decided: rejected, or held behind one.
    pub outcomes: Vec<Option<Outcome>>,
}

/// Reads a Lambda event and maps each record to its audit event or its rejection, then holds
/// back what the source's ordering says must wait behind a rejection. The handler, the tests
/// and the benchmarks all call this.
pub fn prepare(event: IncomingEvent) -> Result<Prepared, EventError> {
    let mut batch = source::decode(event)?;
    let mut outcomes: Vec<Option<Outcome>> = vec![None; batch.records.len()];
    let events = audit_events(&mut batch.records, &mut outcomes);
    Ordering::of(batch.source).hold_behind_failures(&batch.records, &mut outcomes);
    Ok(Prepared {
        source: batch.source,
        event_source_arn: batch.event_source_arn,
        records: batch.records,
        events,
        outcomes,
    })
}

/// The function's state across invocations: the sender (SDK client and rate limiter) and the
/// memory of what was ingested.
#[derive(Debug)]
pub struct Forwarder {
    sender: Sender,
    recent: RecentlyIngested,
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

    /// Forwards one event's records and answers before Lambda's `deadline`, if one is known.
    pub async fn forward(
        &self,
        event: IncomingEvent,
        deadline: Option<Instant>,
    ) -> Result<(Answer, Summary), EventError> {
        let started = Instant::now();
        let Prepared { source, event_source_arn, records, events, mut outcomes } = prepare(event)?;
        let send_until =
            deadline.map(|deadline| deadline::send_until(deadline, Instant::now(), started.elapsed()));
        let (keys, copies, remembered) = self.skip_known(&event_source_arn, &events, &mut outcomes);
        let events = Arc::new(events);
        let mut on_ingested = |index: usize| {
            if let Some(key) = keys[index] {
                self.recent.insert(key);
            }
        };
        let delivery = Delivery {
            records: &records,
            events: &events,
            outcomes: &mut outcomes,
            ordering: Ordering::of(source),
            send_until,
            on_ingested: &mut on_ingested,
        };
        let mut report = self.sender.deliver(delivery).await;
        report.remembered = remembered + copies.len();
        for (copy, original) in copies {
            outcomes[copy] = outcomes[original].clone();
        }
        let (answer, reported) = answer::answer(source, &records, &outcomes)?;
        summary::log_reported(&records, &outcomes, &reported);
        let summary = Summary::new(source, &records, &outcomes, &reported, report, started.elapsed());
        Ok((answer, summary))
    }

    /// Marks as ingested every event this process already saw confirmed, and sets aside each
    /// record that repeats an earlier one of the batch (SQS delivers at least once, so one batch
    /// may hold a message twice): it is sent once, and the copy is answered by what became of
    /// it. Returns each event still to send with its key, the copies with their originals, and
    /// how many events were remembered.
    fn skip_known(
        &self,
        event_source_arn: &str,
        events: &[Option<AuditEvent>],
        outcomes: &mut [Option<Outcome>],
    ) -> (Vec<Option<Key>>, Vec<(usize, usize)>, usize) {
        let mut first_of: HashMap<Key, usize> = HashMap::new();
        let mut copies = Vec::new();
        let mut remembered = 0;
        let keys = events
            .iter()
            .zip(outcomes.iter_mut())
            .enumerate()
            .map(|(index, (event, outcome))| {
                let event = event.as_ref().filter(|_| outcome.is_none())?;
                let key = Key::of(event_source_arn, event);
                if self.recent.contains(&key) {
                    *outcome = Some(Outcome::Ingested);
                    remembered += 1;
                    return None;
                }
                if let Some(&original) = first_of.get(&key) {
                    copies.push((index, original));
                    *outcome = Some(Outcome::Ingested);
                    return None;
                }
                first_of.insert(key, index);
                Some(key)
            })
            .collect();
        (keys, copies, remembered)
    }
}

/// Below this many records, one thread maps them sooner than starting others would help.
const PARALLEL_MAPPING_MIN_RECORDS: usize = 1024;

/// Maps each record to its audit event, moving the payload out of the record (what is left in
/// it is empty). A record that cannot be one gets its rejection as its outcome.
///
/// Large batches are split over the cores Lambda gives the function (two from 1,769 MB of
/// memory); records keep their order, and each is mapped exactly as on one thread.
fn audit_events(records: &mut [Record], outcomes: &mut [Option<Outcome>]) -> Vec<Option<AuditEvent>> {
    // Asking for the cores reads the cgroup's files: only worth it for a large batch.
    if records.len() < PARALLEL_MAPPING_MIN_RECORDS {
        return audit_chunk(records, outcomes);
    }
    let threads = std::thread::available_parallelism().map_or(1, |cores| cores.get().min(4));
    if threads < 2 {
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
                    *outcome = Some(Outcome::Rejected(rejection));
                    None
                }
            }
        })
        .collect()
}

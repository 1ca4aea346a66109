//! One invocation as a few named steps, and the state kept between invocations.
//!
//! [`Forwarder::forward`] reads the batch ([`crate::lambda`]), prepares its records into audit
//! events ([`crate::prepare`]), sets aside what is already known ([`crate::dedupe`]), delivers
//! the rest ([`crate::send`]), folds the events' outcomes back into one a record
//! ([`crate::outcome`]) and answers ([`crate::lambda::answer`]). The deadline policy it follows
//! lives in [`crate::deadline`].
//!
//! A large batch goes in two parts. The records the limiter's burst can send at once are
//! prepared first and sent; the rest are prepared on another thread meanwhile, and sent after
//! the first part is answered. At 128 MB the limiter spaces 100 requests over 750 ms whatever
//! else happens, so preparing the rest while the first requests travel saves most of the time
//! preparing them would have taken. What the first part's answers hold back (the Kinesis
//! ordering) holds back the second part as it would in one batch, and a record repeated across
//! the parts is sent once. FIFO batches go whole: their message groups are sent over the whole
//! batch.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudtraildata::Client;
use lambda_runtime::LambdaEvent;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::config::Config;
use crate::deadline;
use crate::dedupe::{Copies, RecentlyIngested};
use crate::files::ingest::{self, Work};
use crate::files::Files;
use crate::lambda::answer::{self, Answer};
use crate::lambda::event::IncomingEvent;
use crate::lambda::{self, read, Batch, EventError, Record, Source};
use crate::outcome::{fold_outcomes, Outcome};
use crate::prepare::part::{prepare_part, unpacks, Budget, Part};
use crate::prepare::Preparer;
use crate::rejection::Rejection;
use crate::report::{self, metrics, Summary};
use crate::send::{plan, Channel, Delivery, SdkChannel, SendReport, Sender};

/// The function's state across invocations: the sender (the channel and its rate limiter) and
/// the memory of what was ingested. `C` is the channel to CloudTrail Data: the SDK's in the
/// function, an in-memory one where a test or a benchmark is not about the network.
#[derive(Debug)]
pub struct Forwarder<C = SdkChannel> {
    sender: Sender<C>,
    recent: RecentlyIngested,
    preparer: Arc<Preparer>,
    metrics_namespace: String,
    function_name: String,
    /// Reading S3 objects named by notifications, when `S3_OBJECTS` is set.
    files: Option<Files>,
}

impl Forwarder<SdkChannel> {
    /// Builds the forwarder from a ready SDK client; no network call is made.
    pub fn new(client: Client, config: &Config) -> Forwarder<SdkChannel> {
        let channel = SdkChannel::new(client, config.channel.as_str(), config.external_id.as_deref());
        Forwarder::with_channel(channel, config)
    }
}

impl<C: Channel> Forwarder<C> {
    /// Builds the forwarder over any channel to CloudTrail Data.
    pub fn with_channel(channel: C, config: &Config) -> Forwarder<C> {
        Forwarder {
            sender: Sender::new(
                channel,
                config.max_concurrent_requests.get(),
                config.max_requests_per_second,
            ),
            recent: RecentlyIngested::default(),
            preparer: Arc::new(Preparer::of(config)),
            metrics_namespace: config.metrics_namespace.clone(),
            function_name: config.function_name.clone(),
            files: None,
        }
    }

    /// Reads the S3 objects that notifications name, with these clients and settings.
    pub fn with_files(mut self, files: Files) -> Forwarder<C> {
        self.files = Some(files);
        self
    }

    /// The Lambda handler: forwards the batch, logs one summary line and writes the metrics.
    ///
    /// An event that is not an SQS or Kinesis batch is an error, which fails the invocation.
    pub async fn handle(&self, event: LambdaEvent<IncomingEvent>) -> Result<Answer, EventError> {
        let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as u64;
        let deadline = deadline::lambda_deadline(event.context.deadline, now_ms, Instant::now());
        let payload = read::take_read_event().unwrap_or(event.payload);
        let (answer, summary) = self.forward(payload, deadline).await.inspect_err(|error| {
            tracing::error!(%error, "the invocation's event cannot be forwarded");
        })?;
        let Some(summary) = summary else {
            tracing::info!("an empty batch: nothing to forward");
            return Ok(answer);
        };
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
    /// The summary is `None` for an empty batch, which is answered at once.
    pub async fn forward(
        &self,
        event: IncomingEvent,
        deadline: Option<Instant>,
    ) -> Result<(Answer, Option<Summary>), EventError> {
        let started = Instant::now();
        let Some(mut batch) = lambda::decode(event)? else {
            return Ok((Answer::empty(), None));
        };
        let files = self.take_files(&mut batch);
        let (mut outcomes, mut report) = match batch.records.is_empty() {
            true => (Vec::new(), SendReport::default()),
            false => self.forward_records(&mut batch, started, deadline).await,
        };
        self.forward_files(&mut batch, files, deadline, &mut outcomes, &mut report).await;

        let (answer, reported) = answer::answer(batch.source, &batch.records, &outcomes)?;
        report::log_reported(&batch.records, &outcomes, &reported);
        let summary =
            Summary::new(batch.source, &batch.records, &outcomes, &reported, report, started.elapsed());
        Ok((answer, Some(summary)))
    }

    /// The batch's records that are for the files stage, taken out of it with their index.
    fn take_files(&self, batch: &mut Batch) -> Vec<(usize, Record, Result<Work, Rejection>)> {
        let Some(files) = &self.files else {
            return Vec::new();
        };
        if batch.source == Source::Kinesis {
            return Vec::new();
        }
        let works: Vec<_> = batch.records.iter().map(|record| files.work_of(record)).collect();
        if works.iter().all(Option::is_none) {
            return Vec::new();
        }
        let records = std::mem::take(&mut batch.records);
        let mut taken = Vec::new();
        for (index, (record, work)) in records.into_iter().zip(works).enumerate() {
            match work {
                Some(work) => taken.push((index, record, work)),
                None => batch.records.push(record),
            }
        }
        taken
    }

    /// Reads the objects the file records name, one record after another, and puts each record
    /// back at its place with its outcome.
    async fn forward_files(
        &self,
        batch: &mut Batch,
        taken: Vec<(usize, Record, Result<Work, Rejection>)>,
        deadline: Option<Instant>,
        outcomes: &mut Vec<Option<Outcome>>,
        report: &mut SendReport,
    ) {
        let Some(files) = &self.files else { return };
        for (index, record, work) in taken {
            let outcome = match work {
                Err(rejection) => Outcome::Rejected(rejection),
                Ok(_) if batch.source == Source::SqsFifo => Outcome::Rejected(Rejection::FilesFromFifoQueue),
                Ok(work) => {
                    let context = ingest::Context {
                        s3: &files.s3,
                        sqs: &files.sqs,
                        sender: &self.sender,
                        preparer: &self.preparer,
                        record: &record,
                        source: batch.source,
                        event_source_arn: &batch.event_source_arn,
                        send_until: deadline
                            .map(|deadline| deadline::send_until(deadline, Instant::now(), Duration::ZERO)),
                    };
                    // Boxed: the files stage's future nested inside the handler's is deeper
                    // than the compiler's layout query limit in a release build.
                    let (outcome, sent) = Box::pin(ingest::ingest(&context, work)).await;
                    report.add(sent);
                    outcome
                }
            };
            batch.records.insert(index, record);
            outcomes.insert(index, Some(outcome));
        }
    }

    /// The batch's records (none of them for the files stage) through preparing and sending:
    /// each record's outcome, and what sending cost.
    async fn forward_records(
        &self,
        batch: &mut Batch,
        started: Instant,
        deadline: Option<Instant>,
    ) -> (Vec<Option<Outcome>>, SendReport) {
        let total = batch.records.len();
        let first = self.first_part(&batch.records, batch.source);
        let rest = batch.records.split_off(first);
        let (head_clock, tail_clock) = deadline::part_clocks(deadline, total, first);

        let by = head_clock.prepare_by(started.elapsed());
        let head = prepare_part(batch.source, &mut batch.records, 0, &self.preparer, Budget::WHOLE, by);
        let mut preparation = started.elapsed();
        let tail = (!rest.is_empty()).then(|| {
            let budget = Budget::WHOLE.minus(head.used);
            self.prepare_rest(batch.source, rest, first, budget, tail_clock.prepare_by(preparation))
        });

        let mut sending = Sending::new(total);
        let until = head_clock.send_until(preparation);
        self.send_part(batch, &mut sending, head, until).await;
        if let Some(tail) = tail {
            let (records, part, took) = joined(tail).await;
            batch.records.extend(records);
            preparation += took;
            self.send_part(batch, &mut sending, part, tail_clock.send_until(preparation)).await;
        }

        let (owner, outcomes, report) = sending.finish();
        (fold_outcomes(batch.records.len(), &owner, &outcomes), report)
    }

    /// How many records of `batch` to prepare and send first: what the limiter's burst sends
    /// at once, and at least a quarter of the batch, in whole requests, whose preparation time
    /// stands for the whole batch's when the first part decides how long it may send (a
    /// hundred records at a few percent of a core say too little about ten thousand); the
    /// whole batch when it is small or FIFO, or when a record may unpack into many events
    /// ([`unpacks`]): its first records would say nothing about how long the rest takes.
    fn first_part(&self, batch: &[Record], source: Source) -> usize {
        let records = batch.len();
        if source.keeps_group_order() || records < SPLIT_MIN_RECORDS || batch.iter().any(unpacks) {
            return records;
        }
        // Whole requests' worth, so that the split leaves no half-empty request behind.
        let per_request = plan::MAX_EVENTS_PER_REQUEST;
        let first = self.sender.burst().max(records.div_ceil(4).div_ceil(per_request));
        (first * per_request).min(records)
    }

    /// Prepares the records after the first part on a blocking thread while the first part is
    /// sent; they start at batch index `first` and may take `budget`.
    fn prepare_rest(
        &self,
        source: Source,
        mut records: Vec<Record>,
        first: usize,
        budget: Budget,
        by: Option<deadline::PrepareBy>,
    ) -> JoinHandle<(Vec<Record>, Part, Duration)> {
        let preparer = Arc::clone(&self.preparer);
        tokio::task::spawn_blocking(move || {
            let began = std::time::Instant::now();
            let part = prepare_part(source, &mut records, first, &preparer, budget, by);
            (records, part, began.elapsed())
        })
    }

    /// Sends a part of the batch: adds its units to what was sent before, holds those that
    /// wait behind a failure of the batch so far, skips what is already known, and delivers
    /// the rest.
    async fn send_part(&self, batch: &Batch, sending: &mut Sending, part: Part, send_until: Option<Instant>) {
        let start = sending.units.len();
        sending.units.extend(part.units);
        sending.owner.extend(part.owner);
        sending.outcomes.extend(part.outcomes);
        batch.source.hold_behind_failures(&sending.units, &mut sending.outcomes);
        let outcomes = &mut sending.outcomes[start..];
        let unknown =
            sending.copies.skip_known(&self.recent, &batch.event_source_arn, &part.events, outcomes, start);
        let events = Arc::new(part.events);
        // Remembered together once the part is delivered (see `RecentlyIngested`): nothing
        // looks in the memory meanwhile, and a process that dies before then forgets them,
        // which costs a duplicate on redelivery, never a loss.
        let keys = unknown.keys;
        let mut confirmed = Vec::with_capacity(keys.len());
        let mut on_ingested = |index: usize| confirmed.extend(keys[index]);
        let delivery = Delivery {
            records: &sending.units[start..],
            events: &events,
            outcomes: &mut sending.outcomes[start..],
            source: batch.source,
            send_until,
            on_ingested: &mut on_ingested,
            // An earlier part showed that every request is refused (the channel, the caller).
            stopped: sending.report.stopped.clone(),
        };
        let mut report = self.sender.deliver(delivery).await;
        self.recent.insert_all(confirmed);
        report.remembered = unknown.remembered;
        sending.report.add(report);
    }
}

/// The rest of the batch, prepared on its blocking thread; a panic there is this task's.
async fn joined(tail: JoinHandle<(Vec<Record>, Part, Duration)>) -> (Vec<Record>, Part, Duration) {
    tail.await.unwrap_or_else(|error| match error.try_into_panic() {
        Ok(panic) => std::panic::resume_unwind(panic),
        Err(error) => panic!("preparing the rest of the batch did not finish: {error}"),
    })
}

/// One invocation's sending so far, over the parts of its batch: every unit in batch order.
struct Sending {
    units: Vec<Record>,
    owner: Vec<usize>,
    outcomes: Vec<Option<Outcome>>,
    copies: Copies,
    report: SendReport,
}

impl Sending {
    /// Room for the keys of a batch of `records`; the lists grow by parts, so that the first
    /// part's lists are not held at the batch's size while the rest is prepared.
    fn new(records: usize) -> Sending {
        Sending {
            units: Vec::new(),
            owner: Vec::new(),
            outcomes: Vec::new(),
            copies: Copies::with_capacity(records),
            report: SendReport::default(),
        }
    }

    /// Every unit's owner and outcome, copies answered by their originals, and what sending
    /// cost, with the events ingested counted over the batch.
    fn finish(self) -> (Vec<usize>, Vec<Option<Outcome>>, SendReport) {
        let Sending { owner, mut outcomes, copies, mut report, .. } = self;
        report.remembered += copies.answer_copies(&mut outcomes);
        report.events_ingested =
            outcomes.iter().filter(|outcome| matches!(outcome, Some(Outcome::Ingested))).count();
        (owner, outcomes, report)
    }
}

/// Below this many records a batch is prepared whole before its first request: it is sent in
/// a round trip or two, and another thread would cost more than it overlaps.
const SPLIT_MIN_RECORDS: usize = 2 * plan::MAX_EVENTS_PER_REQUEST;

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::ChannelArn;

    fn kinesis_records(count: usize, gzip_at: Option<usize>) -> Vec<Record> {
        use base64::Engine as _;
        let records: Vec<_> = (0..count)
            .map(|i| {
                let data: &[u8] = if Some(i) == gzip_at { &[0x1f, 0x8b, 8, 0] } else { b"{}" };
                let data = base64::engine::general_purpose::STANDARD.encode(data);
                json!({"eventSource": "aws:kinesis", "kinesis": {"sequenceNumber": format!("{i}"), "data": data}})
            })
            .collect();
        lambda::decode(serde_json::from_value(json!({ "Records": records })).unwrap())
            .unwrap()
            .unwrap()
            .records
    }

    #[test]
    fn a_batch_goes_in_two_parts_only_when_large_plain_and_not_fifo() {
        let client = crate::send::sdk_client(
            aws_sdk_cloudtraildata::Config::builder()
                .behavior_version(aws_sdk_cloudtraildata::config::BehaviorVersion::latest())
                .region(aws_sdk_cloudtraildata::config::Region::new("us-east-1"))
                .endpoint_url("http://127.0.0.1:9"),
        );
        let channel = ChannelArn::parse("arn:aws:cloudtrail:us-east-1:123456789012:channel/c").unwrap();
        let forwarder = Forwarder::new(client, &Config::for_channel(channel));
        // A cold limiter's burst is one request: the first part is a quarter, in whole requests.
        assert_eq!(forwarder.first_part(&kinesis_records(1_000, None), Source::Kinesis), 300);
        assert_eq!(forwarder.first_part(&kinesis_records(300, None), Source::Kinesis), 100);
        assert_eq!(forwarder.first_part(&kinesis_records(199, None), Source::Kinesis), 199);
        assert_eq!(forwarder.first_part(&kinesis_records(300, None), Source::SqsFifo), 300);
        assert_eq!(forwarder.first_part(&kinesis_records(300, Some(250)), Source::Kinesis), 300);
    }
}

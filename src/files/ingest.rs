//! One message's objects → audit events, sent window by window, and what the message is
//! answered.
//!
//! An object is read once, front to back: chunks from S3 go through the decoder in small
//! slices, each item becomes an audit event (or a rejection, logged with its object and
//! position, never its content), and every [`WINDOW_EVENTS`] events the window is delivered
//! through the same sender as any batch (its rate limiter, its retries). Memory holds one
//! window, whatever the object's size.
//!
//! After each window the resume point moves over what is done (ingested, or rejected for
//! good). The object stops when a window leaves events undone (a failure the retries did not
//! cure), when S3 fails mid-body, when the object turns unreadable, or when the invocation runs
//! short of time. If the message made progress in this invocation, a continuation carries the
//! rest ([`super::resume`]) and the message is done; if not, the message is reported and comes
//! back (or, for an object that is unreadable there, goes to the dead-letter queue in the end).

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::decode::{Item, Limits, ObjectDecoder, Position};
use super::fetch::{self, ReadFailure};
use super::resume::{Continuation, Resume};
use crate::event::{self, AuditEvent};
use crate::lambda::s3::ObjectRef;
use crate::lambda::{Record, Source};
use crate::outcome::{Hold, Outcome};
use crate::prepare::Preparer;
use crate::rejection::Rejection;
use crate::send::plan::MAX_REQUEST_BYTES;
use crate::send::{Channel, Delivery, SendReport, Sender};

/// Events sent together: ten full requests, so the limiter's pacing, not the window, sets the
/// pace, and a window of 1 KB events holds about 1 MB.
pub const WINDOW_EVENTS: usize = 1_000;
/// The bytes of event data a window holds at most.
pub const WINDOW_BYTES: usize = 4 * 1024 * 1024;
/// How much of a chunk the decoder takes at a time: a gzip slice this small inflates to at
/// most a few megabytes, so a window never overflows by much.
const SLICE_BYTES: usize = 8 * 1024;
/// The longest item: no longer event fits in a request.
const MAX_ITEM_BYTES: usize = MAX_REQUEST_BYTES;
/// Rejected items logged one by one per object and invocation; the rest are counted.
const REJECTIONS_LOGGED: u64 = 100;
/// Time kept back from sending for the continuation message, at most.
const CONTINUATION_RESERVE: Duration = Duration::from_secs(2);

/// What one message asks the files stage to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Work {
    pub objects: Vec<ObjectRef>,
    /// Where the first object resumes.
    pub resume: Resume,
}

/// Everything one message's objects need from the invocation.
pub struct Context<'a, C> {
    pub s3: &'a aws_sdk_s3::Client,
    pub sqs: &'a aws_sdk_sqs::Client,
    pub sender: &'a Sender<C>,
    pub preparer: &'a Preparer,
    pub record: &'a Record,
    pub source: Source,
    pub event_source_arn: &'a str,
    /// When sending must stop for the answer to be in time, if known.
    pub send_until: Option<Instant>,
}

/// How one object ended in this invocation.
enum ObjectEnd {
    Done,
    Gone(ReadFailure),
    /// Stopped with `resume` as its resume point; `progressed` if the point moved;
    /// `outcome` is what the message is answered if nothing at all moved.
    Stopped {
        resume: Resume,
        progressed: bool,
        outcome: Outcome,
    },
}

/// The message's outcome, and what its objects' sending cost.
pub async fn ingest<C: Channel>(context: &Context<'_, C>, work: Work) -> (Outcome, SendReport) {
    let mut report = SendReport::default();
    let Work { objects, mut resume } = work;
    let mut progressed = false;
    let stop_at = context.send_until.map(|until| {
        let left = until.saturating_duration_since(Instant::now());
        until - CONTINUATION_RESERVE.min(left / 4)
    });
    for (index, object) in objects.iter().enumerate() {
        let end = ingest_object(context, object, std::mem::take(&mut resume), stop_at, &mut report).await;
        match end {
            ObjectEnd::Done => progressed = true,
            ObjectEnd::Gone(failure) => {
                tracing::warn!(object = %object, record = context.record.label(), reason = %failure, "S3 object not read");
                progressed = true;
            }
            ObjectEnd::Stopped { resume, progressed: moved, outcome } => {
                if !(progressed || moved) {
                    return (outcome, report);
                }
                let continuation = Continuation::new(&objects[index..], &resume);
                return (continue_later(context, object, continuation).await, report);
            }
        }
    }
    (Outcome::Ingested, report)
}

/// Sends the continuation; the message is done once SQS has it.
async fn continue_later<C: Channel>(
    context: &Context<'_, C>,
    object: &ObjectRef,
    continuation: Continuation,
) -> Outcome {
    let Some(queue_url) = super::resume::queue_url(context.event_source_arn) else {
        return Outcome::Failed { code: "NoQueueToContinue".into(), transient: true };
    };
    let mut request = context.sqs.send_message().queue_url(queue_url).message_body(continuation.body());
    if context.source == Source::SqsFifo {
        let group = context.record.message_group.clone().unwrap_or_else(|| "s3-objects".to_owned());
        request = request.message_group_id(group).message_deduplication_id(continuation.deduplication_id());
    }
    // A continuation SQS took but whose answer was lost costs duplicates when the message comes
    // back as well; one never sent would cost nothing but time.
    let Some(sent) = in_time(context.send_until, request.send()).await else {
        tracing::warn!(object = %object, record = context.record.label(),
            "SQS did not answer the continuation in time; the message comes back whole");
        return Outcome::Failed { code: "NoAnswerBeforeDeadline".into(), transient: true };
    };
    match sent {
        Ok(_) => {
            tracing::info!(object = %object, record = context.record.label(), resume_at = continuation.resume_at,
                objects_left = continuation.objects.len(), "S3 object continues in a new message");
            Outcome::Ingested
        }
        Err(error) => {
            let code = aws_sdk_sqs::error::ProvideErrorMetadata::code(&error)
                .unwrap_or("SendMessageFailed")
                .to_owned();
            tracing::warn!(object = %object, record = context.record.label(), %code,
                "the continuation message was not sent; the message comes back whole");
            Outcome::Failed { code, transient: true }
        }
    }
}

/// Reads one object from `resume` on, sending window by window, until its end or a stop.
async fn ingest_object<C: Channel>(
    context: &Context<'_, C>,
    object: &ObjectRef,
    resume: Resume,
    stop_at: Option<Instant>,
    report: &mut SendReport,
) -> ObjectEnd {
    let mut reading = Reading::new(context, object, resume);
    // S3 that does not answer must not keep the invocation past its deadline: every wait on it
    // ends when sending must stop.
    let mut body = match in_time(stop_at, fetch::open(context.s3, object)).await {
        Some(Ok(body)) => body,
        Some(Err(failure @ ReadFailure::Gone { .. })) => return ObjectEnd::Gone(failure),
        Some(Err(failure)) => return reading.stopped_by(&failure),
        None => return reading.stopped_by(&ReadFailure::Transient { code: "NoAnswerBeforeDeadline".into() }),
    };
    let mut decoder = ObjectDecoder::new(Limits { max_item_bytes: MAX_ITEM_BYTES });
    decoder.skip_items(reading.resume.at);
    loop {
        let chunk = match in_time(stop_at, body.next()).await {
            None => {
                return reading.stopped_by(&ReadFailure::Transient { code: "NoAnswerBeforeDeadline".into() })
            }
            Some(None) => break,
            Some(Some(Ok(chunk))) => chunk,
            Some(Some(Err(failure))) => return reading.stopped_by(&failure),
        };
        for slice in chunk.chunks(SLICE_BYTES) {
            if stop_at.is_some_and(|stop| Instant::now() >= stop) {
                return reading.out_of_time();
            }
            if let Err(error) = decoder.push(slice, |item| reading.add(item)) {
                return reading.unreadable(context, error.to_string(), stop_at, report).await;
            }
            if reading.window_full() && !reading.send(context, stop_at, report).await {
                return reading.stopped();
            }
        }
    }
    if let Err(error) = decoder.finish(|item| reading.add(item)) {
        return reading.unreadable(context, error.to_string(), stop_at, report).await;
    }
    match reading.send(context, stop_at, report).await {
        true => ObjectEnd::Done,
        false => reading.stopped(),
    }
}

/// One object's reading: the window being filled, and the resume point so far.
struct Reading<'a> {
    object: &'a ObjectRef,
    record: &'a Record,
    preparer: &'a Preparer,
    resume: Resume,
    progressed: bool,
    /// The window: each item's ordinal, position, and event or rejection.
    items: Vec<(u64, Position, Result<AuditEvent, Rejection>)>,
    bytes: usize,
    /// The ordinal after the last item handed out so far.
    end: u64,
    rejected: u64,
    /// Why the last window left events undone.
    failure: Option<Outcome>,
}

impl<'a> Reading<'a> {
    fn new<C>(context: &Context<'a, C>, object: &'a ObjectRef, resume: Resume) -> Reading<'a> {
        Reading {
            object,
            record: context.record,
            preparer: context.preparer,
            end: resume.at,
            resume,
            progressed: false,
            items: Vec::new(),
            bytes: 0,
            rejected: 0,
            failure: None,
        }
    }

    /// Takes one item out of the decoder into the window.
    fn add(&mut self, item: Item<'_>) {
        self.end = item.ordinal + 1;
        if self.resume.done(item.ordinal) {
            return;
        }
        let event = match item.text {
            Ok(text) => self.preparer.item_event(self.record, text, item_id(self.object, item.ordinal)),
            Err(super::decode::ItemError::TooLong { bytes, .. }) => {
                Err(Rejection::TooLarge { bytes: usize::try_from(bytes).unwrap_or(usize::MAX) })
            }
            Err(super::decode::ItemError::NotUtf8 { valid_up_to }) => Err(Rejection::NotUtf8 { valid_up_to }),
        };
        self.bytes += event.as_ref().map_or(0, |event| event.event_data.len());
        self.items.push((item.ordinal, item.position, event));
    }

    fn window_full(&self) -> bool {
        self.items.len() >= WINDOW_EVENTS || self.bytes >= WINDOW_BYTES
    }

    /// Delivers the window; `true` if every item in it is done.
    async fn send<C: Channel>(
        &mut self,
        context: &Context<'_, C>,
        stop_at: Option<Instant>,
        report: &mut SendReport,
    ) -> bool {
        let items = std::mem::take(&mut self.items);
        self.bytes = 0;
        let mut ordinals = Vec::with_capacity(items.len());
        let mut outcomes = Vec::with_capacity(items.len());
        let mut events = Vec::with_capacity(items.len());
        for (ordinal, position, event) in items {
            ordinals.push(ordinal);
            match event {
                Ok(event) => {
                    events.push(Some(event));
                    outcomes.push(None);
                }
                Err(rejection) => {
                    self.log_rejection(position, &rejection);
                    events.push(None);
                    outcomes.push(Some(Outcome::Rejected(rejection)));
                }
            }
        }
        if events.iter().any(Option::is_some) {
            let units = vec![self.record.metadata(); events.len()];
            let events = Arc::new(events);
            let delivery = Delivery {
                records: &units,
                events: &events,
                outcomes: &mut outcomes,
                // The events of an object have no order to keep among themselves.
                source: Source::Sqs,
                send_until: stop_at,
                on_ingested: &mut |_| {},
                stopped: None,
            };
            let mut sent = context.sender.deliver(delivery).await;
            sent.events_ingested =
                outcomes.iter().filter(|outcome| matches!(outcome, Some(Outcome::Ingested))).count();
            report.add(sent);
        }
        self.settle(&ordinals, &outcomes)
    }

    /// Moves the resume point over what the window got done; `true` if all of it was.
    fn settle(&mut self, ordinals: &[u64], outcomes: &[Option<Outcome>]) -> bool {
        let mut undone = None;
        for (ordinal, outcome) in ordinals.iter().zip(outcomes) {
            let done = matches!(outcome, Some(Outcome::Ingested | Outcome::Rejected(_)));
            // Any item settled is progress, before the first undone one or after it: the
            // continuation carries both.
            self.progressed |= done;
            match (done, undone) {
                (true, Some(_)) => self.resume.also_done.push(*ordinal),
                (true, None) => {}
                (false, None) => {
                    undone = Some(*ordinal);
                    self.failure = Some(outcome.clone().unwrap_or(Outcome::Held(Hold::OutOfTime)));
                }
                (false, Some(_)) => {}
            }
        }
        let at = undone.unwrap_or(self.end);
        self.resume.at = at;
        self.resume.also_done.retain(|&ordinal| ordinal >= at);
        self.resume.also_done.sort_unstable();
        self.resume.also_done.dedup();
        undone.is_none()
    }

    /// The window not yet sent is dropped: its items are after the resume point.
    fn stopped(self) -> ObjectEnd {
        let outcome = self.failure.unwrap_or(Outcome::Held(Hold::OutOfTime));
        ObjectEnd::Stopped { resume: self.resume, progressed: self.progressed, outcome }
    }

    fn out_of_time(self) -> ObjectEnd {
        ObjectEnd::Stopped {
            resume: self.resume,
            progressed: self.progressed,
            outcome: Outcome::Held(Hold::OutOfTime),
        }
    }

    fn stopped_by(mut self, failure: &ReadFailure) -> ObjectEnd {
        tracing::warn!(object = %self.object, record = self.record.label(), reason = %failure, "S3 object not read to its end");
        let code = match failure {
            ReadFailure::Denied { .. } => "AccessDenied".to_owned(),
            ReadFailure::Gone { code } | ReadFailure::Transient { code } => code.clone(),
        };
        self.failure = Some(Outcome::Failed { code, transient: true });
        self.stopped()
    }

    /// The object cannot be read past some point: what came before it is sent, and the
    /// message stops there, to be reported, in the end to the dead-letter queue, with the
    /// point in its continuation.
    async fn unreadable<C: Channel>(
        mut self,
        context: &Context<'_, C>,
        problem: String,
        stop_at: Option<Instant>,
        report: &mut SendReport,
    ) -> ObjectEnd {
        tracing::warn!(object = %self.object, record = self.record.label(), %problem, items_before = self.end,
            "S3 object unreadable from here on");
        if self.send(context, stop_at, report).await {
            self.failure = Some(Outcome::Rejected(Rejection::UnreadableObject { problem }));
        }
        self.stopped()
    }

    fn log_rejection(&mut self, position: Position, rejection: &Rejection) {
        self.rejected += 1;
        let at = match position {
            Position::Line(line) => format!("line {line}"),
            Position::Element { index, line } => format!("element {index} (line {line})"),
        };
        if self.rejected <= REJECTIONS_LOGGED {
            tracing::warn!(object = %self.object, record = self.record.label(), %at, reason = %rejection,
                "event in S3 object rejected; the object's other events go on");
        } else if self.rejected == REJECTIONS_LOGGED + 1 {
            tracing::warn!(object = %self.object, record = self.record.label(),
                "more than {REJECTIONS_LOGGED} events of this S3 object rejected; the rest are counted, not listed");
        }
    }
}

/// `future`'s output, or `None` if `stop_at` comes first.
async fn in_time<T>(stop_at: Option<Instant>, future: impl std::future::Future<Output = T>) -> Option<T> {
    match stop_at {
        Some(stop_at) => tokio::time::timeout_at(stop_at, future).await.ok(),
        None => Some(future.await),
    }
}

/// The id of an item without one of its own: from where it sits, so the same on every
/// delivery of the same object version.
fn item_id(object: &ObjectRef, ordinal: u64) -> String {
    let version = object.version_id.as_deref().or(object.etag.as_deref()).unwrap_or("");
    let key = format!("{}\n{}\n{}\n{}", object.bucket, object.key, version, ordinal);
    event::sha256_id(key.as_bytes())
}

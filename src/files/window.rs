//! One object's window: the items decoded since the last delivery, turned into audit events
//! (or rejections, logged with their object and position, never their content), delivered
//! together, and the resume point moved over what got done.

use std::sync::Arc;

use tokio::time::Instant;

use super::decode::{Item, ItemError, Position};
use super::fetch::ReadFailure;
use super::ingest::{Context, ObjectEnd, WINDOW_BYTES, WINDOW_EVENTS};
use super::resume::Resume;
use crate::event::{self, AuditEvent};
use crate::lambda::s3::ObjectRef;
use crate::lambda::{Record, Source};
use crate::outcome::{Hold, Outcome};
use crate::prepare::Preparer;
use crate::rejection::Rejection;
use crate::send::{Channel, Delivery, SendReport};

/// Rejected items logged one by one per object and invocation; the rest are counted.
const REJECTIONS_LOGGED: u64 = 100;

/// One object's reading: the window being filled, and the resume point so far.
pub(super) struct Reading<'a> {
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
    pub(super) fn new<C>(context: &Context<'a, C>, object: &'a ObjectRef, resume: Resume) -> Reading<'a> {
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
    pub(super) fn add(&mut self, item: Item<'_>) {
        self.end = item.ordinal + 1;
        if self.resume.done(item.ordinal) {
            return;
        }
        let event = match item.text {
            Ok(text) => self.preparer.item_event(self.record, text, item_id(self.object, item.ordinal)),
            Err(ItemError::TooLong { bytes, .. }) => {
                Err(Rejection::TooLarge { bytes: usize::try_from(bytes).unwrap_or(usize::MAX) })
            }
            Err(ItemError::NotUtf8 { valid_up_to }) => Err(Rejection::NotUtf8 { valid_up_to }),
        };
        self.bytes += event.as_ref().map_or(0, |event| event.event_data.len());
        self.items.push((item.ordinal, item.position, event));
    }

    pub(super) fn resume_at(&self) -> u64 {
        self.resume.at
    }

    pub(super) fn window_full(&self) -> bool {
        self.items.len() >= WINDOW_EVENTS || self.bytes >= WINDOW_BYTES
    }

    /// Delivers the window; `true` if every item in it is done.
    pub(super) async fn send<C: Channel>(
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
    pub(super) fn stopped(self) -> ObjectEnd {
        let outcome = self.failure.unwrap_or(Outcome::Held(Hold::OutOfTime));
        ObjectEnd::Stopped { resume: self.resume, progressed: self.progressed, outcome }
    }

    pub(super) fn out_of_time(self) -> ObjectEnd {
        ObjectEnd::Stopped {
            resume: self.resume,
            progressed: self.progressed,
            outcome: Outcome::Held(Hold::OutOfTime),
        }
    }

    pub(super) fn stopped_by(mut self, failure: &ReadFailure) -> ObjectEnd {
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
    pub(super) async fn unreadable<C: Channel>(
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

/// The id of an item without one of its own: from where it sits, so the same on every
/// delivery of the same object version.
fn item_id(object: &ObjectRef, ordinal: u64) -> String {
    let version = object.version_id.as_deref().or(object.etag.as_deref()).unwrap_or("");
    let key = format!("{}\n{}\n{}\n{}", object.bucket, object.key, version, ordinal);
    event::sha256_id(key.as_bytes())
}

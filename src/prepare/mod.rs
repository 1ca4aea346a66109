//! A record → its audit events: take the events out of the record's envelope, send each one
//! that already is a schema event unchanged, map the others, and check them all.
//!
//! A record usually holds one event; a CloudWatch Logs record or a KPL aggregate holds many,
//! and a control message (CloudWatch Logs, SNS subscription) none. Each event is judged on
//! its own: one that cannot be sent is a rejection among its siblings, and the record is
//! answered by all of them together (see [`crate::fold_outcomes`]). Every event's `id` and
//! `eventData` are computed from the record alone, so they are the same on every delivery and
//! a redelivered record's ingested events are recognised by [`crate::dedupe`].

pub mod envelope;
pub mod mapping;
pub mod part;
pub mod time;

use std::sync::Arc;

use crate::config::Config;
use crate::event::{self, AuditEvent};
use crate::lambda::{ItemIdentifier, Payload, Record, Source};
use crate::prepare::envelope::{EnvelopeSetting, Inner, Opened, Unwrapped};
use crate::prepare::mapping::{Context, Mapping};
use crate::rejection::Rejection;

/// What turns records into events: the envelope setting, the mapping, the channel's account.
#[derive(Debug, Clone, PartialEq)]
pub struct Intake {
    pub envelope: EnvelopeSetting,
    pub mapping: Option<Arc<Mapping>>,
    /// The channel's account: the mapping's default `recipientAccountId`.
    pub account: String,
}

impl Intake {
    pub fn of(config: &Config) -> Intake {
        Intake {
            envelope: config.envelope,
            mapping: config.mapping.clone(),
            account: config.channel.account().to_owned(),
        }
    }
}

/// One record's audit events, in order, each an event or the reason it cannot be one. A
/// record that cannot be read at all is one rejection; a control message is none.
pub type Units = Vec<Result<AuditEvent, Rejection>>;

impl Intake {
    /// Appends the audit events of `record` to `out` and returns how many there were, moving
    /// the record's payload out (what is left there is empty). Appending to one list for the
    /// whole batch spares a list per record on the path every schema payload takes.
    pub fn audit_events(&self, source: Source, record: &mut Record, out: &mut Units) -> usize {
        let before = out.len();
        let payload = std::mem::replace(&mut record.payload, Ok(Payload::Text(String::new())));
        let payload = match payload {
            Ok(payload) => payload,
            Err(rejection) => {
                out.push(Err(rejection));
                return 1;
            }
        };
        let record: &Record = record;
        let sequence_number = record.item_identifier.as_ref().filter(|_| source == Source::Kinesis);
        match envelope::open_binary(self.envelope, payload, sequence_number.map(ItemIdentifier::as_str)) {
            Err(rejection) => out.push(Err(rejection)),
            Ok(Opened::Unwrapped(unwrapped)) => self.inner_events(source, record, unwrapped, out),
            Ok(Opened::Plain(payload)) => match payload.into_text() {
                Ok(text) => self.text_events(source, record, text, out),
                Err(rejection) => out.push(Err(rejection)),
            },
        }
        out.len() - before
    }

    /// A text payload: a schema event, a JSON envelope, or a payload to map.
    fn text_events(&self, source: Source, record: &Record, text: String, out: &mut Units) {
        if let Some(pinned) = envelope::pinned_json(self.envelope) {
            return match envelope::open_json(&text, Some(pinned)) {
                Ok(Some(unwrapped)) => self.inner_events(source, record, unwrapped, out),
                Ok(None) => out.push(Err(Rejection::NotInEnvelope { envelope: pinned.name() })),
                Err(rejection) => out.push(Err(rejection)),
            };
        }
        let Err(not_schema) = event::check_schema(&text) else {
            return out.push(event::schema_event(record_id(record, &text), text));
        };
        if self.envelope == EnvelopeSetting::Auto {
            match envelope::open_json(&text, None) {
                Ok(Some(unwrapped)) => return self.inner_events(source, record, unwrapped, out),
                Ok(None) => {}
                Err(rejection) => return out.push(Err(rejection)),
            }
        }
        let id = record_id(record, &text);
        out.push(self.mapped(&text, id, not_schema, Mapped { source, record, envelope: None }));
    }

    fn inner_events(&self, source: Source, record: &Record, mut unwrapped: Unwrapped, out: &mut Units) {
        let fields = std::mem::take(&mut unwrapped.fields);
        // Each payload moves into its audit event: copied, a record of 16 MiB would be held twice.
        let events = unwrapped.events.iter_mut().map(|inner| {
            let text = std::mem::replace(&mut inner.payload, Ok(String::new()))?;
            let inner = &*inner;
            let id = match &inner.part {
                Some(part) => event::audit_event_id(&ItemIdentifier::from(part.clone())),
                None => record_id(record, &text),
            };
            let Err(not_schema) = event::check_schema(&text) else {
                return event::schema_event(id, text);
            };
            let envelope = Some((inner, fields.as_ref()));
            self.mapped(&text, id, not_schema, Mapped { source, record, envelope })
        });
        out.extend(events);
    }

    /// A payload that is not a schema event (`not_schema` says why): mapped when a mapping is
    /// configured, else rejected for what the schema check found.
    fn mapped(
        &self,
        text: &str,
        id: String,
        not_schema: Rejection,
        at: Mapped<'_>,
    ) -> Result<AuditEvent, Rejection> {
        let Some(mapping) = &self.mapping else {
            return Err(not_schema);
        };
        let uid = at.envelope.and_then(|(inner, _)| inner.source_id.clone()).unwrap_or_else(|| id.clone());
        let context = Context {
            envelope: at.envelope,
            record: at.record,
            source: at.source,
            account: &self.account,
            uid: &uid,
        };
        let event_data = mapping.apply(text, context)?;
        event::check_schema(&event_data)?;
        event::schema_event(id, event_data)
    }
}

/// Where an event to map sits.
#[derive(Clone, Copy)]
struct Mapped<'a> {
    source: Source,
    record: &'a Record,
    envelope: Option<(&'a Inner, &'a serde_json::Map<String, serde_json::Value>)>,
}

/// The record's audit event id, as before envelopes: its identifier, or the payload's hash.
fn record_id(record: &Record, text: &str) -> String {
    match &record.item_identifier {
        Some(identifier) => event::audit_event_id(identifier),
        None => event::payload_id(text),
    }
}

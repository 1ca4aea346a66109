//! A record → its audit events: take the events out of the record's envelope, send each one
//! that already is a schema event unchanged, map the others, and check them all. An event
//! with every required field of the schema is a schema event even when it breaks a rule: it
//! is rejected for that rule, never mapped (see [`schema::NotSchema`]).
//!
//! A record usually holds one event; a CloudWatch Logs record or a KPL aggregate holds many,
//! and a control message (CloudWatch Logs, SNS subscription) none. Each event is judged on
//! its own: one that cannot be sent is a rejection among its siblings, and the record is
//! answered by all of them together (see [`crate::outcome::fold_outcomes`]). Every event's `id` and
//! `eventData` are computed from the record alone, so they are the same on every delivery and
//! a redelivered record's ingested events are recognised by [`crate::dedupe`].

pub mod envelope;
pub mod mapping;
pub mod part;
pub mod schema;
pub mod time;

use std::sync::Arc;

use crate::config::Config;
use crate::event::{self, AuditEvent};
use crate::lambda::{ItemIdentifier, Payload, Record, Source};
use crate::prepare::envelope::{EnvelopeSetting, InnerEvent, Opened, Unwrapped};
use crate::prepare::mapping::{Context, Mapping};
use crate::prepare::schema::NotSchema;
use crate::rejection::Rejection;

/// What turns records into events: the envelope setting, the mapping, the channel's account.
#[derive(Debug, Clone, PartialEq)]
pub struct Preparer {
    pub envelope: EnvelopeSetting,
    pub mapping: Option<Arc<Mapping>>,
    /// The channel's account: the mapping's default `recipientAccountId`.
    pub account: String,
}

impl Preparer {
    pub fn of(config: &Config) -> Preparer {
        Preparer {
            envelope: config.envelope,
            mapping: config.mapping.clone(),
            account: config.channel.account().to_owned(),
        }
    }
}

/// One record's audit events, in order, each an event or the reason it cannot be one. A
/// record that cannot be read at all is one rejection; a control message is none.
pub type Units = Vec<Result<AuditEvent, Rejection>>;

impl Preparer {
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
        let Err(not_schema) = schema::check_payload(&text) else {
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
        out.push(self.mapped(&text, id, not_schema, Origin { source, record, envelope: None }));
    }

    fn inner_events(&self, source: Source, record: &Record, mut unwrapped: Unwrapped, out: &mut Units) {
        let fields = std::mem::take(&mut unwrapped.fields);
        // Each payload moves into its audit event: copied, a record of 16 MiB would be held twice.
        let events = unwrapped.events.iter_mut().map(|inner| {
            let text = std::mem::replace(&mut inner.payload, Ok(String::new()))?;
            let inner = &*inner;
            let id = match &inner.own_id {
                Some(own_id) => event::audit_event_id(&ItemIdentifier::from(own_id.clone())),
                None => record_id(record, &text),
            };
            let Err(not_schema) = schema::check_payload(&text) else {
                return event::schema_event(id, text);
            };
            let envelope = Some((inner, fields.as_ref()));
            self.mapped(&text, id, not_schema, Origin { source, record, envelope })
        });
        out.extend(events);
    }

    /// The audit event of one item of an S3 object ([`crate::files`]): a schema event as it is,
    /// anything else mapped. `default_id` is the item's id from where it sits in its object,
    /// used when the mapping takes none from the payload.
    pub fn item_event(
        &self,
        record: &Record,
        text: &str,
        default_id: String,
    ) -> Result<AuditEvent, Rejection> {
        let Err(not_schema) = schema::check_payload(text) else {
            return event::schema_event(default_id, text.to_owned());
        };
        self.mapped(text, default_id, not_schema, Origin { source: Source::Sqs, record, envelope: None })
    }

    /// A payload that failed the schema check (`not_schema` says why): a schema event that
    /// breaks a rule is rejected for it; any other payload is mapped when a mapping is
    /// configured, else rejected for what the schema check found.
    fn mapped(
        &self,
        text: &str,
        id: String,
        not_schema: NotSchema,
        at: Origin<'_>,
    ) -> Result<AuditEvent, Rejection> {
        let not_schema = match not_schema {
            NotSchema::Broken(rejection) => return Err(rejection),
            NotSchema::ToMap(rejection) => rejection,
        };
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
        let mapped = mapping.apply(text, context)?;
        schema::check_schema(&mapped.event_data)?;
        event::schema_event(mapped.id.unwrap_or(id), mapped.event_data)
    }
}

/// Where an event to map sits.
#[derive(Clone, Copy)]
struct Origin<'a> {
    source: Source,
    record: &'a Record,
    envelope: Option<(&'a InnerEvent, &'a serde_json::Map<String, serde_json::Value>)>,
}

/// The record's audit event id, as before envelopes: its identifier, or the payload's hash.
fn record_id(record: &Record, text: &str) -> String {
    match &record.item_identifier {
        Some(identifier) => event::audit_event_id(identifier),
        None => event::payload_id(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ChannelArn;
    use serde_json::json;

    /// A mapping whose `UID` comes from a path a schema event does not have.
    fn mapping() -> Arc<Mapping> {
        let mapping = json!({"eventName": {"path": "/action"}, "eventSource": {"const": "shop"},
                             "userIdentity.type": {"const": "Customer"}, "userIdentity.principalId": {"path": "/who"},
                             "UID": {"path": "/id"}});
        Arc::new(Mapping::parse(&mapping.to_string()).unwrap())
    }

    fn preparer(mapping: Option<Arc<Mapping>>) -> Preparer {
        let channel = ChannelArn::parse("arn:aws:cloudtrail:us-east-1:123456789012:channel/c").unwrap();
        Preparer { mapping, ..Preparer::of(&Config::for_channel(channel)) }
    }

    fn units(preparer: &Preparer, body: &str) -> Units {
        let mut record = Record {
            item_identifier: Some(ItemIdentifier::from("m-1".to_owned())),
            payload: Ok(Payload::Text(body.to_owned())),
            message_group: None,
            arrival_ms: None,
            sent_ms: Some(1_764_129_600_000),
        };
        let mut units = Units::new();
        preparer.audit_events(Source::Sqs, &mut record, &mut units);
        units
    }

    #[test]
    fn a_schema_event_dated_30_february_is_rejected_for_its_time_with_or_without_a_mapping() {
        let event =
            json!({"version": "1.0", "userIdentity": {"type": "User", "principalId": "alice@example.com"},
                           "eventSource": "shop", "eventName": "Buy", "eventTime": "2026-02-30T10:00:00Z",
                           "UID": "uid-1", "recipientAccountId": "123456789012"})
            .to_string();
        let sns = json!({"Type": "Notification", "MessageId": "n-1", "TopicArn": "arn:aws:sns:us-east-1:123456789012:t",
                         "Message": event, "Timestamp": "2026-11-26T04:00:00.000Z"})
        .to_string();
        for mapping in [None, Some(mapping())] {
            for body in [&event, &sns] {
                let units = units(&preparer(mapping.clone()), body);
                assert_eq!(units, [Err(Rejection::BadEventTime)], "mapping: {}, {body}", mapping.is_some());
                let reason = Rejection::BadEventTime.to_string();
                assert!(reason.contains("eventTime is not a real calendar time"), "{reason}");
                assert!(!reason.contains("2026-02-30") && !reason.contains("alice"), "{reason}");
            }
        }
    }

    #[test]
    fn a_payload_with_only_some_of_the_schema_fields_is_still_mapped() {
        let body = json!({"action": "Buy", "who": "ann", "id": "u-1", "eventName": "x",
                          "eventTime": "2026-11-26T05:00:00+01:00"})
        .to_string();
        let units = units(&preparer(Some(mapping())), &body);
        let [Ok(event)] = &units[..] else { panic!("{units:?}") };
        let event: serde_json::Value = serde_json::from_str(&event.event_data).unwrap();
        assert_eq!((&event["eventName"], &event["UID"]), (&json!("Buy"), &json!("u-1")));
    }
}

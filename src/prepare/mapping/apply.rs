//! Applying a mapping to one payload: each rule's value found, written as its field wants it,
//! left out or defaulted as the rule says; then the defaults, the kept payload, and the id the
//! payload carries. Everything here runs once per mapped event, and reads nothing but the
//! payload and its [`Context`].

use serde_json::{Map, Value};

use super::{
    condition, hash, Context, Kind, Mapped, Mapping, Origin, Pointer, RecordField, Rule, DEFAULTED_MARK,
};
use crate::event;
use crate::lambda::Source;
use crate::prepare::{schema, time};
use crate::rejection::Rejection;

impl Mapping {
    /// Maps one payload to the text of a schema event and the id it carries, or the rule it
    /// cannot meet.
    pub fn apply(&self, payload: &str, context: Context<'_>) -> Result<Mapped, Rejection> {
        let payload_text = payload;
        let payload = payload_value(payload)?;
        let mut event = Map::new();
        let mut defaulted = Vec::new();
        for rule in &self.rules {
            if let Some(value) = value(rule, &payload, &context, &mut defaulted)? {
                insert(&mut event, rule.field, rule.member.as_deref(), value);
            }
        }
        if !defaulted.is_empty() {
            insert(&mut event, "userIdentity.details", Some(DEFAULTED_MARK), Value::Array(defaulted));
        }
        self.defaults(&mut event, &context);
        let mut text = Value::Object(event).to_string();
        if let Some(field) = self.keep_payload {
            if !payload.is_object() {
                return Err(Rejection::KeptPayloadNotObject { field });
            }
            // The payload goes in as it came, byte for byte: parsed and written again, its
            // numbers would be rounded to 64-bit floats and a repeated key dropped.
            text.pop();
            if text.len() > 1 {
                text.push(',');
            }
            text.push('"');
            text.push_str(field);
            text.push_str("\":");
            text.push_str(payload_text.trim());
            text.push('}');
        }
        let id = self.id.as_ref().and_then(|from| payload_id(from, &payload, &context));
        Ok(Mapped { event_data: text, id })
    }

    /// `version` 1.0, the channel's account, the event's own id as `UID`, and the envelope's
    /// or the record's time, for each of these the mapping does not set.
    fn defaults(&self, event: &mut Map<String, Value>, context: &Context<'_>) {
        let set = |field: &str| self.rules.iter().any(|rule| rule.field == field && rule.member.is_none());
        if !set("version") {
            event.insert("version".into(), Value::from("1.0"));
        }
        if !set("recipientAccountId") {
            event.insert("recipientAccountId".into(), Value::from(context.account));
        }
        if !set("UID") {
            event.insert("UID".into(), Value::from(context.uid));
        }
        if !set("eventTime") {
            let envelope_time =
                context.envelope.and_then(|(inner, _)| inner.time.as_ref()).and_then(time::normalise);
            let record_time = || {
                let ms = context.record.sent_ms.or(context.record.arrival_ms)?;
                time::from_epoch_ms(i64::try_from(ms).ok()?)
            };
            if let Some(time) = envelope_time.or_else(record_time) {
                event.insert("eventTime".into(), Value::from(time));
            }
        }
    }
}

/// A rule's value as the field is written, `None` when the field is left out, or the rule the
/// payload breaks. A `default` taken is noted in `defaulted`, by its name in `userIdentity`.
fn value(
    rule: &Rule,
    payload: &Value,
    context: &Context<'_>,
    defaulted: &mut Vec<Value>,
) -> Result<Option<Value>, Rejection> {
    if !condition::hold(&rule.when, payload) {
        return Ok(None);
    }
    let found = match (find(&rule.from, payload, context), &rule.default) {
        (Some(found), _) => found,
        (None, Some(default)) => {
            defaulted.push(Value::from(rule.field.trim_start_matches("userIdentity.")));
            default.clone()
        }
        (None, None) if rule.required => {
            return Err(Rejection::MappedValueMissing { field: rule.field, from: rule.from.name() });
        }
        (None, None) => return Ok(None),
    };
    match written(rule, found) {
        // A member has no rule of its own in the schema; its object is checked whole.
        Ok(value) if rule.optional && rule.member.is_none() => {
            Ok(schema::check_value(rule.field, &value).is_ok().then_some(value))
        }
        Ok(value) => Ok(Some(value)),
        Err(_) if rule.optional => Ok(None),
        Err(rejection) => Err(rejection),
    }
}

/// The value `from` finds: not null, not `""` (see [`present`]).
fn find(from: &Origin, payload: &Value, context: &Context<'_>) -> Option<Value> {
    match from {
        Origin::Path(pointers) => first_found(pointers, payload).cloned(),
        Origin::Hash(pointers) => {
            let values: Option<Vec<&Value>> =
                pointers.iter().map(|pointer| first_found(std::slice::from_ref(pointer), payload)).collect();
            values.map(|values| Value::from(hash::hash(&values)))
        }
        Origin::Envelope(pointer) => context
            .envelope
            .and_then(|(inner, shared)| inner.envelope_value(shared, pointer))
            .filter(present)
            .cloned(),
        Origin::Const(value) => Some(value).filter(present).cloned(),
        Origin::Record(field) => record_value(*field, context),
    }
}

/// The first value the pointers find, in order, that is [`present`]. Sources write null and
/// `""` for "not set" (Okta's `reason: null`, Entra's `ipAddress: ""`): either would stand in
/// the way of the next pointer, or be written as an empty field.
pub(super) fn first_found<'p>(pointers: &[Pointer], payload: &'p Value) -> Option<&'p Value> {
    pointers.iter().filter_map(|pointer| pointer.find(payload)).find(present)
}

/// Whether a value found is a value: neither null nor an empty string.
fn present(value: &&Value) -> bool {
    !value.is_null() && value.as_str() != Some("")
}

/// The audit event id the payload carries: a string (or an integer written exactly) as it is
/// when it fits the service's id pattern, else `sha256-` and its hash, as a record's identifier
/// that does not fit is hashed (see [`crate::event::audit_event_id`]): either is the same for
/// every copy of the event. Anything else (a fraction, an object) leaves the event the id it
/// has without a mapping.
fn payload_id(from: &Origin, payload: &Value, context: &Context<'_>) -> Option<String> {
    let id = match find(from, payload, context)? {
        Value::String(id) => id,
        // An integer, written exactly; a fraction is no id a source would give.
        Value::Number(number) if !number.is_f64() => number.to_string(),
        _ => return None,
    };
    Some(if event::is_audit_event_id(&id) { id } else { event::sha256_id(id.as_bytes()) })
}

/// The payload as JSON; text that is not JSON is a JSON string (a plain log line), so the
/// pointer `""` finds it. Text that starts like JSON but is not is rejected with the reason.
fn payload_value(payload: &str) -> Result<Value, Rejection> {
    match serde_json::from_str::<Value>(payload) {
        Ok(value) => Ok(value),
        Err(error) if payload.trim_start().starts_with(['{', '[']) => Err(schema::not_json(&error)),
        Err(_) => Ok(Value::String(payload.to_owned())),
    }
}

fn record_value(field: RecordField, context: &Context<'_>) -> Option<Value> {
    let record = context.record;
    let identifier = || record.item_identifier.as_ref().map(|id| Value::from(id.as_str()));
    match field {
        RecordField::MessageId if context.source != Source::Kinesis => identifier(),
        RecordField::SequenceNumber if context.source == Source::Kinesis => identifier(),
        RecordField::SentTime => record.sent_ms.map(Value::from),
        RecordField::ArrivalTime => record.arrival_ms.map(Value::from),
        RecordField::MessageGroupId => record.message_group.as_deref().map(Value::from),
        RecordField::MessageId | RecordField::SequenceNumber => None,
    }
}

/// The value as the field is written.
pub(super) fn written(rule: &Rule, value: Value) -> Result<Value, Rejection> {
    match (rule.kind, value) {
        (Kind::Object, value) => Ok(value),
        (Kind::Time, value) => {
            time::normalise(&value).map(Value::String).ok_or(Rejection::BadMappedTime { field: rule.field })
        }
        (Kind::Text, Value::String(text)) => Ok(Value::String(text)),
        // A number beyond 2^53 was read as a 64-bit float; written back, its digits would be
        // rounded (an id 12345678901234567890001 becomes 1.2345678901234568e+22).
        (Kind::Text, Value::Number(number)) if imprecise(&number) => {
            Err(Rejection::ImpreciseNumber { field: rule.field })
        }
        (Kind::Text, value @ (Value::Number(_) | Value::Bool(_))) => Ok(Value::String(value.to_string())),
        (Kind::Text, value) => Err(Rejection::WrongType {
            field: rule.field,
            expected: "a string",
            found: if value.is_array() { "an array" } else { "an object" },
        }),
    }
}

/// Whether a number read from a payload may have lost digits: a float at or beyond 2^53, or one
/// only an exponent can write.
fn imprecise(number: &serde_json::Number) -> bool {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    number.is_f64()
        && (number.as_f64().is_some_and(|float| float.abs() >= EXACT)
            || number.to_string().contains(['e', 'E']))
}

/// Puts `value` at a dotted field name (`userIdentity.type` inside `userIdentity`), or at
/// `member` inside that field's object.
fn insert(event: &mut Map<String, Value>, field: &str, member: Option<&str>, value: Value) {
    let mut names = field.split('.').chain(member);
    let Some(mut name) = names.next() else { return };
    let mut object = event;
    for next in names {
        let parent = object.entry(name).or_insert_with(|| Value::Object(Map::new()));
        // The parser refuses a field set both whole and by members, so what is in the way is
        // an object this function made; anything else is left as it is.
        let Value::Object(parent) = parent else { return };
        object = parent;
        name = next;
    }
    object.insert(name.to_owned(), value);
}

//! The declarative mapping (`EVENT_MAPPING` or `EVENT_MAPPING_FILE`): how a payload that is
//! not an integration-schema event becomes one.
//!
//! The mapping is a JSON object whose keys are schema fields (nested ones dotted, such as
//! `userIdentity.type`) and whose values say where each comes from:
//!
//! ```json
//! {"eventName": {"path": "/action"}, "eventSource": {"envelope": "/source"},
//!  "userIdentity.type": {"const": "ApplicationUser"}, "UID": {"record": "messageId"},
//!  "keepPayload": "requestParameters"}
//! ```
//!
//! Paths are JSON Pointers (RFC 6901): one syntax with no expressions, no wildcards and no
//! ambiguity about what a path finds, the one Step Functions and API Gateway users already
//! write, and `serde_json` resolves it without another dependency. The mapping is read and
//! checked once at cold start; applying it is a few pointer look-ups per event. Audit data is
//! never invented: a required field whose path finds nothing rejects the event, and the
//! defaults (`version`, `recipientAccountId`, `UID`, `eventTime`) come from the configuration
//! and the record's identity, never from guesses.

use std::fmt;

use serde_json::{Map, Value};

use crate::lambda::{Record, Source};
use crate::prepare::envelope::InnerEvent;
use crate::prepare::time;
use crate::rejection::Rejection;

/// How a schema field's value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A string; numbers and booleans are written as their JSON text.
    Text,
    /// A time, normalised to `yyyy-MM-ddTHH:mm:ssZ`.
    Time,
    /// Any JSON value, checked by the schema check (these must be objects).
    Object,
}

/// The schema fields a mapping may set, whether each is required, and how it is written.
const FIELDS: [(&str, bool, Kind); 16] = [
    ("version", true, Kind::Text),
    ("userIdentity.type", true, Kind::Text),
    ("userIdentity.principalId", true, Kind::Text),
    ("userIdentity.details", false, Kind::Object),
    ("eventSource", true, Kind::Text),
    ("eventName", true, Kind::Text),
    ("eventTime", true, Kind::Time),
    ("UID", true, Kind::Text),
    ("recipientAccountId", true, Kind::Text),
    ("userAgent", false, Kind::Text),
    ("requestParameters", false, Kind::Object),
    ("responseElements", false, Kind::Object),
    ("errorCode", false, Kind::Text),
    ("errorMessage", false, Kind::Text),
    ("sourceIPAddress", false, Kind::Text),
    ("additionalEventData", false, Kind::Object),
];

/// The required fields a mapped event gets by default when the mapping does not set them.
const DEFAULTED: [&str; 4] = ["version", "recipientAccountId", "UID", "eventTime"];

/// The fields `keepPayload` may hold the whole payload in.
const KEEP_FIELDS: [&str; 2] = ["requestParameters", "additionalEventData"];

/// A record's metadata a mapping may read with `{"record": …}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordField {
    /// SQS `messageId`.
    MessageId,
    /// SQS `attributes.SentTimestamp`.
    SentTime,
    /// Kinesis `approximateArrivalTimestamp`.
    ArrivalTime,
    /// Kinesis `sequenceNumber`.
    SequenceNumber,
    /// SQS FIFO `MessageGroupId`.
    MessageGroupId,
}

impl RecordField {
    const NAMES: &'static str = "messageId, sentTime, arrivalTime, sequenceNumber or messageGroupId";

    fn parse(name: &str) -> Option<RecordField> {
        Some(match name {
            "messageId" => RecordField::MessageId,
            "sentTime" => RecordField::SentTime,
            "arrivalTime" => RecordField::ArrivalTime,
            "sequenceNumber" => RecordField::SequenceNumber,
            "messageGroupId" => RecordField::MessageGroupId,
            _ => return None,
        })
    }
}

/// Where a field's value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// A JSON Pointer into the payload.
    Path(String),
    /// A JSON Pointer into the envelope's fields.
    Envelope(String),
    /// A constant.
    Const(Value),
    /// The record's metadata.
    Record(RecordField),
}

impl Origin {
    fn name(&self) -> &'static str {
        match self {
            Origin::Path(_) => "the payload",
            Origin::Envelope(_) => "the envelope",
            Origin::Const(_) => "a constant",
            Origin::Record(_) => "the record",
        }
    }
}

/// One field of the mapping.
#[derive(Debug, Clone, PartialEq)]
struct Rule {
    field: &'static str,
    required: bool,
    kind: Kind,
    from: Origin,
}

/// A validated mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    rules: Vec<Rule>,
    keep_payload: Option<&'static str>,
}

/// A mapping that cannot work; its message names the entry and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingError {
    pub entry: String,
    pub problem: String,
}

impl fmt::Display for MappingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.entry.is_empty() {
            f.write_str(&self.problem)
        } else {
            write!(f, "entry {:?}: {}", self.entry, self.problem)
        }
    }
}

impl std::error::Error for MappingError {}

fn error(entry: &str, problem: impl Into<String>) -> MappingError {
    MappingError { entry: entry.to_owned(), problem: problem.into() }
}

/// What a mapping reads besides the payload: the event's envelope, the record, the channel.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The event inside its envelope, with the envelope's shared fields; `None` without one.
    pub envelope: Option<(&'a InnerEvent, &'a Map<String, Value>)>,
    pub record: &'a Record,
    pub source: Source,
    /// The channel's account: the default `recipientAccountId`.
    pub account: &'a str,
    /// The default `UID`: the event's id at its source, else its audit event id.
    pub uid: &'a str,
}

impl Mapping {
    /// Reads and checks a mapping.
    ///
    /// ```
    /// use cloudtrail_lake_forwarder::prepare::mapping::Mapping;
    /// let complete = r#"{"eventName": {"path": "/action"}, "eventSource": {"const": "shop"},
    ///     "userIdentity.type": {"const": "Customer"}, "userIdentity.principalId": {"path": "/who"}}"#;
    /// assert!(Mapping::parse(complete).is_ok());
    /// let error = Mapping::parse(r#"{"eventName": {"path": "/action"}}"#).unwrap_err();
    /// assert_eq!(error.entry, "userIdentity.type");
    /// let error = Mapping::parse(r#"{"eventNme": {"path": "/action"}}"#).unwrap_err();
    /// assert!(error.to_string().starts_with("entry \"eventNme\": not a schema field"));
    /// ```
    pub fn parse(text: &str) -> Result<Mapping, MappingError> {
        let object: Map<String, Value> = serde_json::from_str(text)
            .map_err(|e| error("", format!("the mapping is not a JSON object ({e})")))?;
        let mut rules = Vec::new();
        let mut keep_payload = None;
        for (entry, value) in &object {
            if entry == "keepPayload" {
                let field =
                    value.as_str().and_then(|name| KEEP_FIELDS.into_iter().find(|keep| *keep == name));
                keep_payload = Some(field.ok_or_else(|| {
                    error(entry, "expected \"requestParameters\" or \"additionalEventData\"")
                })?);
                continue;
            }
            let Some(&(field, required, kind)) = FIELDS.iter().find(|(field, ..)| field == entry) else {
                let known: Vec<&str> = FIELDS.iter().map(|(field, ..)| *field).collect();
                return Err(error(
                    entry,
                    format!("not a schema field; expected one of {} or keepPayload", known.join(", ")),
                ));
            };
            rules.push(Rule { field, required, kind, from: parse_from(entry, value)? });
        }
        if let Some(keep) = keep_payload
            && rules.iter().any(|rule| rule.field == keep)
        {
            return Err(error(keep, "keepPayload already puts the payload in this field"));
        }
        // A mapped event is built from the mapping alone: a required field with neither a rule
        // nor a default would reject every payload, so the mapping is refused at cold start.
        let missing: Vec<&str> = FIELDS
            .iter()
            .filter(|(field, required, _)| *required && !DEFAULTED.contains(field))
            .filter(|(field, ..)| !rules.iter().any(|rule| rule.field == *field))
            .map(|(field, ..)| *field)
            .collect();
        if let Some(first) = missing.first() {
            return Err(error(
                first,
                format!(
                    "every mapped event needs {}: say where each comes from (path, envelope, const or record)",
                    missing.join(", ")
                ),
            ));
        }
        Ok(Mapping { rules, keep_payload })
    }

    /// Maps one payload to the text of a schema event (still to be checked by the schema
    /// check), or the rule it cannot meet.
    pub fn apply(&self, payload: &str, context: Context<'_>) -> Result<String, Rejection> {
        let payload_text = payload;
        let payload = payload_value(payload)?;
        let mut event = Map::new();
        for rule in &self.rules {
            let found = match &rule.from {
                Origin::Path(pointer) => payload.pointer(pointer).cloned(),
                Origin::Envelope(pointer) => context
                    .envelope
                    .and_then(|(inner, shared)| inner.envelope_value(shared, pointer))
                    .cloned(),
                Origin::Const(value) => Some(value.clone()),
                Origin::Record(field) => record_value(*field, &context),
            };
            match found.filter(|value| !value.is_null()) {
                Some(value) => insert(&mut event, rule.field, written(rule, value)?),
                None if rule.required => {
                    return Err(Rejection::MappedValueMissing { field: rule.field, from: rule.from.name() })
                }
                None => {}
            }
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
            text.push_str(&format!("{}:{}}}", Value::from(field), payload_text.trim()));
        }
        Ok(text)
    }

    /// `version` 1.0, the channel's account, the event's own id as `UID`, and the envelope's
    /// or the record's time, for each of these the mapping does not set.
    fn defaults(&self, event: &mut Map<String, Value>, context: &Context<'_>) {
        let set = |field: &str| self.rules.iter().any(|rule| rule.field == field);
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

fn parse_from(entry: &str, value: &Value) -> Result<Origin, MappingError> {
    let expected = "expected an object with one of path, envelope, const or record";
    let object =
        value.as_object().filter(|object| object.len() == 1).ok_or_else(|| error(entry, expected))?;
    let (kind, value) = object.iter().next().ok_or_else(|| error(entry, expected))?;
    let pointer = |value: &Value| match value.as_str() {
        Some("") => Ok(String::new()),
        Some(pointer) if pointer.starts_with('/') && escapes_are_valid(pointer) => Ok(pointer.to_owned()),
        Some(pointer) if pointer.starts_with('/') => Err(error(
            entry,
            format!(
                "{kind} {pointer:?} is not a JSON Pointer: a ~ must be followed by 0 or 1 \
                 (~0 is a ~ in a key, ~1 a /; RFC 6901)"
            ),
        )),
        _ => Err(error(entry, format!("{kind} must be a JSON Pointer: \"\" or a string starting with /"))),
    };
    match kind.as_str() {
        "path" => Ok(Origin::Path(pointer(value)?)),
        // The envelope is a set of named fields, not one value: "" would never find anything.
        "envelope" => match pointer(value)? {
            pointer if pointer.is_empty() => {
                Err(error(entry, "envelope must name one of its fields: a JSON Pointer starting with /"))
            }
            pointer => Ok(Origin::Envelope(pointer)),
        },
        "const" => Ok(Origin::Const(value.clone())),
        "record" => value
            .as_str()
            .and_then(RecordField::parse)
            .map(Origin::Record)
            .ok_or_else(|| error(entry, format!("record must be one of {}", RecordField::NAMES))),
        _ => Err(error(entry, expected)),
    }
}

/// Whether every `~` in `pointer` is `~0` or `~1`, the only escapes RFC 6901 has. serde_json
/// keeps any other `~` as it is, so `/a~2b` would quietly look for the key `a~2b`, which the
/// operator may not have meant: such a pointer is refused at cold start, not guessed at.
fn escapes_are_valid(pointer: &str) -> bool {
    pointer.split('~').skip(1).all(|escaped| escaped.starts_with(['0', '1']))
}

/// The payload as JSON; text that is not JSON is a JSON string (a plain log line), so the
/// pointer `""` finds it. Text that starts like JSON but is not is rejected with the reason.
fn payload_value(payload: &str) -> Result<Value, Rejection> {
    match serde_json::from_str::<Value>(payload) {
        Ok(value) => Ok(value),
        Err(error) if payload.trim_start().starts_with(['{', '[']) => {
            Err(crate::prepare::schema::not_json(&error))
        }
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
fn written(rule: &Rule, value: Value) -> Result<Value, Rejection> {
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

/// Puts `value` at a dotted field name (`userIdentity.type` inside `userIdentity`).
fn insert(event: &mut Map<String, Value>, field: &str, value: Value) {
    match field.split_once('.') {
        Some((parent, child)) => {
            let parent = event.entry(parent).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(parent) = parent {
                parent.insert(child.to_owned(), value);
            }
        }
        None => {
            event.insert(field.to_owned(), value);
        }
    }
}

#[cfg(test)]
mod tests;

//! Reading a mapping's text into rules, once at cold start: every entry's field, origin and
//! modifiers (`optional`, `default`) are checked here, so a mapping that cannot work stops the
//! function with the entry named instead of rejecting every record it meets.

use serde_json::{Map, Value};

use super::apply::written;
use super::condition::{self, Condition};
use super::{
    error, Kind, Mapping, MappingError, Origin, Pointer, RecordField, Rule, DEFAULTABLE, DEFAULTED,
    DEFAULTED_MARK, FIELDS, KEEP_FIELDS,
};
use crate::prepare::schema;

const EXPECTED: &str =
    "expected an object with one of path, envelope, const, record or hash, and optionally \
     optional, default or when";

/// Reads and checks a whole mapping.
pub(super) fn mapping(text: &str) -> Result<Mapping, MappingError> {
    let object: Map<String, Value> = serde_json::from_str(text)
        .map_err(|e| error("", format!("the mapping is not a JSON object ({e})")))?;
    let mut rules = Vec::new();
    let mut keep_payload = None;
    let mut id = None;
    for (entry, value) in &object {
        match entry.as_str() {
            "keepPayload" => {
                let field =
                    value.as_str().and_then(|name| KEEP_FIELDS.into_iter().find(|keep| *keep == name));
                keep_payload = Some(field.ok_or_else(|| {
                    error(entry, "expected \"requestParameters\" or \"additionalEventData\"")
                })?);
            }
            "id" => id = Some(id_origin(entry, value)?),
            _ => rules.push(rule(entry, value)?),
        }
    }
    check_together(&rules, keep_payload)?;
    Ok(Mapping { rules, keep_payload, id })
}

/// The rules that hold between entries: one way to fill each field, and every required field
/// with a source.
fn check_together(rules: &[Rule], keep_payload: Option<&'static str>) -> Result<(), MappingError> {
    let whole = |field: &str| rules.iter().any(|rule| rule.field == field && rule.member.is_none());
    if let Some(keep) = keep_payload
        && rules.iter().any(|rule| rule.field == keep)
    {
        return Err(error(keep, "keepPayload already puts the payload in this field"));
    }
    if let Some(member) = rules.iter().find(|rule| rule.member.is_some() && whole(rule.field)) {
        return Err(error(
            member.field,
            "set both whole and by members: say where the object comes from, or where each member does",
        ));
    }
    if whole("userIdentity.details") && rules.iter().any(|rule| rule.default.is_some()) {
        return Err(error(
            "userIdentity.details",
            "a default is marked in userIdentity.details, which this mapping takes whole from elsewhere: \
             set its members one by one (userIdentity.details.NAME)",
        ));
    }
    // A mapped event is built from the mapping alone: a required field with neither a rule
    // nor a default would reject every payload, so the mapping is refused at cold start.
    let missing: Vec<&str> = FIELDS
        .iter()
        .filter(|(field, required, _)| *required && !DEFAULTED.contains(field))
        .filter(|(field, ..)| !whole(field))
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
    Ok(())
}

/// One field's entry.
fn rule(entry: &str, value: &Value) -> Result<Rule, MappingError> {
    let (field, member, required, kind) = target(entry)?;
    let Source { from, optional, default, when } = source(entry, value)?;
    if optional && required {
        return Err(error(
            entry,
            format!("optional is for fields an event can do without, and {field} is required"),
        ));
    }
    if !when.is_empty() && required {
        return Err(error(
            entry,
            format!("when leaves a field out when it does not hold, and {field} is required"),
        ));
    }
    if field == "userIdentity.details" && member.as_deref() == Some(DEFAULTED_MARK) {
        return Err(error(
            entry,
            "userIdentity.details.defaulted is where the forwarder marks a default taken: choose another name",
        ));
    }
    let rule = Rule { field, member, required, kind, from, optional, default, when };
    if let Some(default) = &rule.default {
        if !DEFAULTABLE.contains(&field) || rule.member.is_some() {
            return Err(error(
                entry,
                "default is only for userIdentity.type and userIdentity.principalId: an event no one is \
                 named for still happened, but any other value a payload lacks rejects it rather than be \
                 replaced by one its source never sent",
            ));
        }
        // The default is written as it is into every event that takes it: a default the
        // schema refuses would reject them all.
        let valid =
            written(&rule, default.clone()).is_ok_and(|value| schema::check_value(field, &value).is_ok());
        if !valid {
            return Err(error(
                entry,
                format!("default is not a valid {field}: a non-empty string within its limit"),
            ));
        }
    }
    Ok(rule)
}

/// The schema field an entry names, the member when it names one of an object field, whether
/// the field is required, and how it is written.
fn target(entry: &str) -> Result<(&'static str, Option<String>, bool, Kind), MappingError> {
    if let Some(&(field, required, kind)) = FIELDS.iter().find(|(field, ..)| *field == entry) {
        return Ok((field, None, required, kind));
    }
    for &(field, ..) in FIELDS.iter().filter(|(.., kind)| *kind == Kind::Object) {
        if let Some(member) = entry.strip_prefix(field).and_then(|rest| rest.strip_prefix('.'))
            && !member.is_empty()
        {
            return Ok((field, Some(member.to_owned()), false, Kind::Object));
        }
    }
    let known: Vec<&str> = FIELDS.iter().map(|(field, ..)| *field).collect();
    Err(error(
        entry,
        format!(
            "not a schema field; expected one of {}, a member of an object field \
             (userIdentity.details.NAME, requestParameters.NAME, …), id or keepPayload",
            known.join(", ")
        ),
    ))
}

/// What an entry's value says: where the value comes from and what happens without it.
struct Source {
    from: Origin,
    optional: bool,
    default: Option<Value>,
    /// Conditions that must all hold for the field to be set.
    when: Vec<Condition>,
}

fn source(entry: &str, value: &Value) -> Result<Source, MappingError> {
    let object = value.as_object().ok_or_else(|| error(entry, EXPECTED))?;
    let mut from = None;
    let mut optional = false;
    let mut default = None;
    let mut when = Vec::new();
    for (key, value) in object {
        match key.as_str() {
            "when" => when = condition::parse(entry, value)?,
            "optional" => {
                optional = value.as_bool().ok_or_else(|| error(entry, "optional must be true or false"))?
            }
            "default" if value.is_null() => return Err(error(entry, "default must be a value, not null")),
            "default" => default = Some(value.clone()),
            "path" | "envelope" | "const" | "record" | "hash" if from.is_some() => {
                return Err(error(entry, EXPECTED));
            }
            "path" | "envelope" | "const" | "record" | "hash" => from = Some(origin(entry, key, value)?),
            _ => return Err(error(entry, format!("{key:?} has no meaning here; {EXPECTED}"))),
        }
    }
    let from = from.ok_or_else(|| error(entry, EXPECTED))?;
    if default.is_some() && matches!(from, Origin::Const(_)) {
        return Err(error(entry, "a const is never missing: it needs no default"));
    }
    Ok(Source { from, optional, default, when })
}

/// The `id` entry: where the payload carries the id of its audit event.
fn id_origin(entry: &str, value: &Value) -> Result<Origin, MappingError> {
    let Source { from, optional, default, when } = source(entry, value)?;
    if optional || default.is_some() || !when.is_empty() {
        return Err(error(
            entry,
            "id takes neither optional, default nor when: a value that is missing always leaves the \
             event the id it has without a mapping",
        ));
    }
    if let Origin::Const(_) = from {
        return Err(error(entry, "id cannot be a constant: every event would have the same id"));
    }
    Ok(from)
}

fn origin(entry: &str, kind: &str, value: &Value) -> Result<Origin, MappingError> {
    match kind {
        // Several pointers are tried in order: one source field under two names (a renamed
        // field, a second time field) without a condition language.
        "path" => Ok(Origin::Path(pointers(entry, kind, value)?)),
        // Every pointer is part of the hash: a value that alone is not unique (Google Cloud's
        // insertId) is hashed with what makes it unique (its log and time).
        "hash" => Ok(Origin::Hash(pointers(entry, kind, value)?)),
        // The envelope is a set of named fields, not one value: "" would never find anything.
        "envelope" => match pointer(entry, kind, value)? {
            pointer if pointer.is_empty() => {
                Err(error(entry, "envelope must name one of its fields: a JSON Pointer starting with /"))
            }
            pointer => Ok(Origin::Envelope(pointer)),
        },
        "const" => Ok(Origin::Const(value.clone())),
        _ => value
            .as_str()
            .and_then(RecordField::parse)
            .map(Origin::Record)
            .ok_or_else(|| error(entry, format!("record must be one of {}", RecordField::NAMES))),
    }
}

/// One JSON Pointer, or a non-empty list of them.
pub(super) fn pointers(entry: &str, kind: &str, value: &Value) -> Result<Vec<Pointer>, MappingError> {
    match value {
        Value::Array(pointers) if pointers.is_empty() => {
            Err(error(entry, format!("{kind} must list at least one JSON Pointer")))
        }
        Value::Array(pointers) => {
            pointers.iter().map(|value| Ok(Pointer::new(&pointer(entry, kind, value)?))).collect()
        }
        value => Ok(vec![Pointer::new(&pointer(entry, kind, value)?)]),
    }
}

fn pointer(entry: &str, kind: &str, value: &Value) -> Result<String, MappingError> {
    match value.as_str() {
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
    }
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

/// Whether every `~` in `pointer` is `~0` or `~1`, the only escapes RFC 6901 has. serde_json
/// keeps any other `~` as it is, so `/a~2b` would quietly look for the key `a~2b`, which the
/// operator may not have meant: such a pointer is refused at cold start, not guessed at.
fn escapes_are_valid(pointer: &str) -> bool {
    pointer.split('~').skip(1).all(|escaped| escaped.starts_with(['0', '1']))
}

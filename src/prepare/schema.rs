//! The CloudTrail Lake integration event schema, checked as the service checks it, before a
//! record costs a request: required fields and lengths, objects where the schema wants objects
//! and their sizes, the source IP address, a real calendar `eventTime`.
//!
//! The check reads the payload once with a visitor that borrows its strings and skips what the
//! schema does not constrain, so the cost stays near one pass over the bytes. Its errors are
//! built here, never from the payload, so a rejection can be logged.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::rejection::Rejection;

/// Required string fields of the integration event schema and their length limits
/// (`eventTime` and `recipientAccountId` have a format instead).
const REQUIRED: [(&str, usize); 6] = [
    ("version", 256),
    ("eventSource", 1024),
    ("eventName", 1024),
    ("eventTime", usize::MAX),
    ("UID", 1024),
    ("recipientAccountId", usize::MAX),
];
/// Optional string fields and their limits (`sourceIPAddress` has none in the schema).
const OPTIONAL: [(&str, usize); 4] =
    [("userAgent", 1024), ("errorCode", 256), ("errorMessage", 256), ("sourceIPAddress", usize::MAX)];
const USER_IDENTITY: [(&str, usize); 2] = [("type", 128), ("principalId", 1024)];
/// Fields that must be JSON objects, with the most bytes the service takes for each. The
/// schema says "100 kB" and "28 kB"; the binary reading is the generous one, so the forwarder
/// never rejects what the service would take (over it, the service's FieldTooLong still
/// reports the record).
const OBJECTS: [(&str, usize); 3] =
    [("requestParameters", 100 * 1024), ("responseElements", 100 * 1024), ("additionalEventData", 28 * 1024)];

/// Checks `event_data` against the integration schema as the service checks it; the
/// rejection names the first rule it breaks.
pub fn check_schema(event_data: &str) -> Result<(), Rejection> {
    check_members(&event_members(event_data)?)
}

/// Why a payload is not sent as it is, and whether a mapping may make an event of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotSchema {
    /// The payload has every required field of the schema: it is a schema event, and this is
    /// the rule it breaks. Mapped, it would be blamed on the mapping's paths, or have the
    /// field that broke the rule replaced by the mapping's default (an `eventTime` from the
    /// record): it is rejected for its own rule, mapping or not.
    Broken(Rejection),
    /// The payload is no schema event (not JSON, not an object, a required field missing):
    /// the mapping's to make one of; without a mapping, this is why it cannot be sent.
    ToMap(Rejection),
}

/// [`check_schema`] for a payload that may also be mapped: when it fails, whether it is a
/// schema event that breaks a rule or a payload for the mapping.
pub fn check_payload(event_data: &str) -> Result<(), NotSchema> {
    let members = event_members(event_data).map_err(NotSchema::ToMap)?;
    check_members(&members).map_err(|rejection| {
        let has = |field: &str| members.iter().any(|(key, _)| key == field);
        if REQUIRED.iter().all(|(field, _)| has(field)) && has("userIdentity") {
            NotSchema::Broken(rejection)
        } else {
            NotSchema::ToMap(rejection)
        }
    })
}

/// The members of the event object that the schema constrains.
fn event_members(event_data: &str) -> Result<Members<'_>, Rejection> {
    let mut deserializer = serde_json::Deserializer::from_str(event_data);
    let node = Level::Event.deserialize(&mut deserializer).and_then(|node| {
        deserializer.end()?;
        Ok(node)
    });
    match node {
        Ok(Node::Object(members)) => Ok(members),
        Ok(Node::Str(_)) => Err(Rejection::NotAnObject { found: "a string" }),
        Ok(Node::Other(found)) => Err(Rejection::NotAnObject { found }),
        Ok(Node::Raw(_)) => Err(Rejection::NotAnObject { found: "unreadable" }),
        Err(error) => Err(not_json(&error)),
    }
}

fn check_members(members: &Members<'_>) -> Result<(), Rejection> {
    reject_duplicates(members)?;
    for (field, limit) in REQUIRED {
        let value = string_field(members, field, "", true)?.unwrap_or_default();
        check_text(field, value, limit, true)?;
    }
    for (field, limit) in OPTIONAL {
        if let Some(value) = string_field(members, field, "", false)? {
            check_text(field, value, limit, false)?;
        }
    }
    for (field, limit) in OBJECTS {
        check_object(find(members, field)?, field, limit)?;
    }
    let identity = match find(members, "userIdentity")? {
        Some(Node::Object(identity)) => identity,
        Some(Node::Str(_)) => return Err(wrong_type("userIdentity", "an object", "a string")),
        Some(Node::Other(found)) => return Err(wrong_type("userIdentity", "an object", found)),
        Some(Node::Raw(_)) | None => return Err(Rejection::MissingField { field: "userIdentity" }),
    };
    for (field, limit) in USER_IDENTITY {
        let value = string_field(identity, field, "userIdentity.", true)?.unwrap_or_default();
        check_text(qualified("userIdentity.", field), value, limit, true)?;
    }
    check_object(find(identity, "details")?, "userIdentity.details", usize::MAX)?;
    Ok(())
}

/// The schema's rule for one string field: a required one not empty, the length limit, and
/// the formats of `eventTime`, `recipientAccountId` and `sourceIPAddress`.
fn check_text(field: &'static str, value: &str, limit: usize, required: bool) -> Result<(), Rejection> {
    if required {
        check_required(field, value, limit)?;
    } else {
        check_length(field, value, limit)?;
    }
    match field {
        "eventTime" if !crate::prepare::time::is_schema_time(value) => Err(Rejection::BadEventTime),
        "recipientAccountId" if value.len() != 12 || !value.bytes().all(|b| b.is_ascii_digit()) => {
            Err(Rejection::BadRecipientAccountId)
        }
        "sourceIPAddress" if value.parse::<IpAddr>().is_err() => Err(Rejection::BadSourceIpAddress),
        _ => Ok(()),
    }
}

/// Checks one field's value, named as the mapping names it (`userIdentity.details` dotted),
/// by the same rules [`check_schema`] applies to it inside an event: a mapping asks this to
/// leave out an optional field whose value the schema would refuse, rather than lose the
/// whole event for it.
///
/// ```
/// use cloudtrail_lake_forwarder::prepare::schema::check_value;
/// use serde_json::json;
/// assert!(check_value("sourceIPAddress", &json!("2001:db8::1")).is_ok());
/// assert!(check_value("sourceIPAddress", &json!("10.0.0.0/8")).is_err());
/// ```
pub fn check_value(field: &'static str, value: &Value) -> Result<(), Rejection> {
    let limit_in = |fields: &[(&str, usize)], name: &str| {
        fields.iter().find(|(known, _)| *known == name).map(|(_, limit)| *limit)
    };
    let identity = field.strip_prefix("userIdentity.");
    if let Some(limit) = limit_in(&OBJECTS, field).or((field == "userIdentity.details").then_some(usize::MAX))
    {
        return match value {
            Value::Object(_) if limit == usize::MAX => Ok(()),
            Value::Object(_) => match written_len(value) {
                bytes if bytes <= limit => Ok(()),
                bytes => Err(Rejection::FieldTooLarge { field, limit, bytes }),
            },
            other => Err(wrong_type(field, "an object", kind_of(other))),
        };
    }
    let (limit, required) =
        match (limit_in(&REQUIRED, field), identity.and_then(|f| limit_in(&USER_IDENTITY, f))) {
            (Some(limit), _) | (None, Some(limit)) => (limit, true),
            (None, None) => (limit_in(&OPTIONAL, field).unwrap_or(usize::MAX), false),
        };
    match value {
        Value::String(text) => check_text(field, text, limit, required),
        other => Err(wrong_type(field, "a string", kind_of(other))),
    }
}

/// The bytes of a value's compact JSON text, as it is written into the event, counted
/// without building the text.
fn written_len(value: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing a Value into a sink that never fails cannot fail.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A field the schema wants as a JSON object, when present (null counts as absent), within
/// `limit` bytes of JSON text.
fn check_object(node: Option<&Node<'_>>, field: &'static str, limit: usize) -> Result<(), Rejection> {
    let Some(Node::Raw(raw)) = node else {
        return Ok(());
    };
    let text = raw.get();
    let found = match text.as_bytes().first() {
        Some(b'{') if text.len() <= limit => return Ok(()),
        Some(b'{') => return Err(Rejection::FieldTooLarge { field, limit, bytes: text.len() }),
        Some(b'n') => return Ok(()),
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        _ => "a number",
    };
    Err(wrong_type(field, "an object", found))
}

type Members<'a> = Vec<(Cow<'a, str>, Node<'a>)>;

/// A field the schema constrains must appear once: which of two values would the service read?
fn reject_duplicates(members: &Members<'_>) -> Result<(), Rejection> {
    for (index, (key, _)) in members.iter().enumerate() {
        if members[..index].iter().any(|(earlier, _)| earlier == key) {
            let field = REQUIRED
                .iter()
                .chain(&OPTIONAL)
                .chain(&OBJECTS)
                .map(|(field, _)| *field)
                .find(|field| key == field)
                .unwrap_or("userIdentity");
            return Err(Rejection::DuplicateField { field });
        }
    }
    Ok(())
}

fn find<'n, 'a>(members: &'n Members<'a>, field: &'static str) -> Result<Option<&'n Node<'a>>, Rejection> {
    let mut found = members.iter().filter(|(key, _)| key == field).map(|(_, node)| node);
    let first = found.next();
    if found.next().is_some() {
        return Err(Rejection::DuplicateField { field });
    }
    Ok(first)
}

/// The string value of `field`; an error when it is required and missing, or not a string.
fn string_field<'n>(
    members: &'n Members<'_>,
    field: &'static str,
    prefix: &'static str,
    required: bool,
) -> Result<Option<&'n str>, Rejection> {
    match find(members, field)? {
        Some(Node::Str(value)) => Ok(Some(value)),
        Some(Node::Other("null")) | None if !required => Ok(None),
        Some(Node::Other(found)) => Err(wrong_type(qualified(prefix, field), "a string", found)),
        Some(Node::Object(_) | Node::Raw(_)) => {
            Err(wrong_type(qualified(prefix, field), "a string", "an object"))
        }
        None => Err(Rejection::MissingField { field: qualified(prefix, field) }),
    }
}

fn qualified(prefix: &'static str, field: &'static str) -> &'static str {
    match (prefix, field) {
        ("", field) => field,
        (_, "type") => "userIdentity.type",
        _ => "userIdentity.principalId",
    }
}

/// A required field must be there and hold something: an empty `UID` identifies nothing.
fn check_required(field: &'static str, value: &str, limit: usize) -> Result<(), Rejection> {
    if value.is_empty() {
        return Err(Rejection::EmptyField { field });
    }
    check_length(field, value, limit)
}

fn check_length(field: &'static str, value: &str, limit: usize) -> Result<(), Rejection> {
    // Byte length bounds the character count from above, so most values skip the count.
    if value.len() <= limit {
        return Ok(());
    }
    let length = value.chars().count();
    if length > limit {
        return Err(Rejection::TooLong { field, limit, length });
    }
    Ok(())
}

fn wrong_type(field: &'static str, expected: &'static str, found: &'static str) -> Rejection {
    Rejection::WrongType { field, expected, found }
}

/// A syntax error's message from serde_json names the problem and position, never the input.
pub(crate) fn not_json(error: &serde_json::Error) -> Rejection {
    let problem = match error.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            let message = error.to_string();
            match message.rfind(" at line ") {
                Some(end) => message[..end].to_owned(),
                None => message,
            }
        }
        _ => "unreadable JSON".to_owned(),
    };
    Rejection::NotJson { line: error.line(), column: error.column(), problem }
}

/// What the schema check keeps of a JSON value: strings it may need to read, the members of the
/// two objects the schema constrains, and for anything else only its kind.
enum Node<'a> {
    Str(Cow<'a, str>),
    Object(Members<'a>),
    /// A field that must be an object, kept as its text to measure it.
    Raw(&'a RawValue),
    Other(&'static str),
}

/// Which object a value sits in; it decides which members are kept.
#[derive(Clone, Copy)]
enum Level {
    Event,
    UserIdentity,
    /// A value whose text is kept: the objects the schema bounds.
    Raw,
    Leaf,
}

impl Level {
    fn child(self, key: &str) -> Option<Level> {
        let known = |fields: &[(&str, usize)]| fields.iter().any(|(field, _)| *field == key);
        match self {
            Level::Event if key == "userIdentity" => Some(Level::UserIdentity),
            Level::Event if known(&REQUIRED) || known(&OPTIONAL) => Some(Level::Leaf),
            Level::Event if known(&OBJECTS) => Some(Level::Raw),
            Level::UserIdentity if known(&USER_IDENTITY) => Some(Level::Leaf),
            Level::UserIdentity if key == "details" => Some(Level::Raw),
            _ => None,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Level {
    type Value = Node<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node<'de>, D::Error> {
        deserializer.deserialize_any(NodeVisitor(self))
    }
}

struct NodeVisitor(Level);

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Node<'de>, E> {
        Ok(Node::Other("a boolean"))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Node<'de>, E> {
        Ok(Node::Other("a number"))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Node<'de>, E> {
        Ok(Node::Other("a number"))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Node<'de>, E> {
        Ok(Node::Other("a number"))
    }
    fn visit_unit<E>(self) -> Result<Node<'de>, E> {
        Ok(Node::Other("null"))
    }
    fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Node<'de>, E> {
        Ok(Node::Str(Cow::Borrowed(value)))
    }
    fn visit_str<E>(self, value: &str) -> Result<Node<'de>, E> {
        Ok(Node::Str(Cow::Owned(value.to_owned())))
    }
    fn visit_string<E>(self, value: String) -> Result<Node<'de>, E> {
        Ok(Node::Str(Cow::Owned(value)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Node::Other("an array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node<'de>, A::Error> {
        if let Level::Leaf | Level::Raw = self.0 {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(Node::Other("an object"));
        }
        // Room for every member this level keeps (plus `userIdentity` and `details`), so the
        // list is allocated once per object, not regrown as it fills.
        let kept = match self.0 {
            Level::Event => REQUIRED.len() + OPTIONAL.len() + OBJECTS.len() + 1,
            _ => USER_IDENTITY.len() + 1,
        };
        let mut members = Vec::with_capacity(kept);
        while let Some(key) = map.next_key_seed(Level::Leaf)? {
            let Node::Str(key) = key else { continue };
            match self.0.child(&key) {
                Some(Level::Raw) => members.push((key, Node::Raw(map.next_value::<&'de RawValue>()?))),
                Some(level) => members.push((key, map.next_value_seed(level)?)),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Node::Object(members))
    }
}

#[cfg(test)]
mod tests;

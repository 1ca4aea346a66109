//! The declarative mapping (`EVENT_MAPPING` or `EVENT_MAPPING_FILE`): how a payload that is
//! not an integration-schema event becomes one.
//!
//! The mapping is a JSON object whose keys are schema fields (nested ones dotted, such as
//! `userIdentity.type`, and members of object fields such as `userIdentity.details.org`) and
//! whose values say where each comes from:
//!
//! ```json
//! {"eventName": {"path": "/action"}, "eventSource": {"envelope": "/source"},
//!  "userIdentity.type": {"const": "ApplicationUser"}, "UID": {"record": "messageId"},
//!  "eventTime": {"path": ["/@timestamp", "/created_at"]},
//!  "sourceIPAddress": {"path": "/ip", "optional": true},
//!  "userIdentity.principalId": {"path": "/actor", "default": "unknown"},
//!  "errorCode": {"path": "/outcome/result", "when": {"path": "/outcome/result", "in": ["DENY"]}},
//!  "id": {"hash": ["/logName", "/timestamp", "/insertId"]},
//!  "keepPayload": "requestParameters"}
//! ```
//!
//! Paths are JSON Pointers (RFC 6901): one syntax with no expressions, no wildcards and no
//! ambiguity about what a path finds, the one Step Functions and API Gateway users already
//! write, and `serde_json` resolves it without another dependency. The mapping is read and
//! checked once at cold start (`parse.rs`); applying it is a few pointer look-ups per event.
//! Audit data is never invented: a required field whose paths find nothing rejects the event,
//! the defaults (`version`, `recipientAccountId`, `UID`, `eventTime`) come from the
//! configuration and the record's identity, and the one value a mapping may state for a
//! missing one (the principal's `default`) is marked in the event as such. Shipped mappings
//! for known sources are in [`presets`].

mod apply;
mod condition;
mod hash;
mod parse;
mod pointer;
pub mod presets;

pub use pointer::Pointer;

use std::fmt;

use serde_json::{Map, Value};

use crate::lambda::{Record, Source};
use crate::prepare::envelope::InnerEvent;
use condition::Condition;

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

/// The fields a `default` may stand in for: the principal is the one required value a source
/// may honestly lack (an event no one is named for still happened). Any other required value
/// a payload lacks rejects it: a default there would be content the source never sent.
const DEFAULTABLE: [&str; 2] = ["userIdentity.type", "userIdentity.principalId"];

/// The member of `userIdentity.details` that lists the `userIdentity` fields holding their
/// mapping's `default` (`["principalId"]`), so a stated "unknown" is never read as a name.
const DEFAULTED_MARK: &str = "defaulted";

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

/// Where a field's value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// JSON Pointers into the payload, tried in order: the first that finds a value (not
    /// null, not `""`) gives it.
    Path(Vec<Pointer>),
    /// `sha256-` and the hex SHA-256 of the values these pointers find, together (see
    /// [`hash`]); nothing when any of them finds nothing.
    Hash(Vec<Pointer>),
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
            Origin::Path(_) | Origin::Hash(_) => "the payload",
            Origin::Envelope(_) => "the envelope",
            Origin::Const(_) => "a constant",
            Origin::Record(_) => "the record",
        }
    }
}

/// One entry of the mapping: a schema field, or one member of a field that is an object.
#[derive(Debug, Clone, PartialEq)]
struct Rule {
    field: &'static str,
    /// The member's name when the entry sets one member of `field` (`org` of
    /// `userIdentity.details.org`); the field is then an object built member by member.
    member: Option<String>,
    required: bool,
    kind: Kind,
    from: Origin,
    /// Left out when its value is absent or breaks the schema's rule for the field, rather
    /// than rejecting the event: for values a source sends in shapes the schema refuses.
    optional: bool,
    /// The value when `from` finds nothing, marked in the event (see [`DEFAULTED_MARK`]).
    default: Option<Value>,
    /// The field is set only when these all hold (see [`condition`]); empty: always.
    when: Vec<Condition>,
}

/// A validated mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    rules: Vec<Rule>,
    keep_payload: Option<&'static str>,
    /// Where the audit event's `id` comes from, when the payload carries its own.
    id: Option<Origin>,
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

/// A payload mapped: the text of a schema event (still to be checked by the schema check),
/// and the audit event `id` the payload carries, when the mapping names one and it fits the
/// service's pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    pub event_data: String,
    /// `None`: the event keeps the id it has without a mapping.
    pub id: Option<String>,
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
        parse::mapping(text)
    }
}

#[cfg(test)]
mod tests;

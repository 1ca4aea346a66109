//! S3 event notifications in an SQS message body: which objects to read, which messages only
//! need acknowledging, and which are broken.
//!
//! A notification reaches the queue straight from S3 (`{"Records":[…]}`), inside an SNS
//! notification's `Message` string (raw delivery off; with it on, the body is the notification
//! itself), or as an EventBridge "Object Created" event. [`read`] tells the three from a body
//! that is no notification at all (`Ok(None)`: the body goes on to the record path) and from a
//! notification that breaks S3's format (`Err`: a rejection naming the rule). Every entry of
//! `Records` counts, not only the first. The S3 user guide ("Event message structure", "Using
//! EventBridge") is the source; [`AllowedObjects`] is the setting that says which buckets and
//! prefixes may be read at all.
//!
//! Bucket names and keys are names of places, not audit content: unlike payloads they may
//! appear in log lines and messages (escaped, so a key cannot forge a log line).

mod allowed;
mod parse;
#[cfg(test)]
mod tests;

use std::fmt;

pub use allowed::{AllowedObjects, AllowedObjectsError};
pub use parse::read;

use crate::rejection::Rejection;

/// The `eventSource` of an entry of an S3 event notification.
pub const EVENT_SOURCE: &str = "aws:s3";

/// An object a notification says was created: what `GetObject` needs to read that very version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub bucket: String,
    /// The key, decoded from the notification's form encoding.
    pub key: String,
    /// Only on versioned buckets.
    pub version_id: Option<String>,
    /// As given: S3 notifications (`eTag`) and EventBridge (`etag`) both write it without the
    /// quotes `GetObject` puts around its `ETag` header.
    pub etag: Option<String>,
    pub size: Option<u64>,
    /// Orders events for one key: a later write of the key has a greater sequencer.
    pub sequencer: Option<String>,
}

impl fmt::Display for ObjectRef {
    /// `s3://bucket/key`, the key escaped like a Rust string so a newline in it stays one line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket.escape_debug(), self.key.escape_debug())?;
        match &self.version_id {
            Some(version) => write!(f, " (version {})", version.escape_debug()),
            None => Ok(()),
        }
    }
}

/// How the notification reached the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// S3 sent it to the queue, or through SNS with raw message delivery on.
    Direct,
    /// Inside an SNS notification's `Message` (raw message delivery off).
    Sns,
    /// An EventBridge event from `aws.s3`.
    EventBridge,
}

/// An S3 notification found in a message body, with one entry per event it reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub delivery: Delivery,
    /// In the notification's order; never empty.
    pub entries: Vec<Entry>,
}

/// One event of a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// An object was created: read it.
    Object(ObjectRef),
    /// Nothing to read: answer it as done, with an INFO line saying why.
    Acknowledge(Acknowledge),
}

/// Why an entry holds nothing to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acknowledge {
    /// `s3:TestEvent`, sent once when a notification configuration is saved.
    TestEvent,
    /// An event that creates no object (`ObjectRemoved:Delete`, `ObjectRestore:Post`, an
    /// EventBridge "Object Deleted"…): the queue is subscribed to more than `ObjectCreated:*`.
    NotObjectCreated { event_name: String },
}

impl fmt::Display for Acknowledge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Acknowledge::TestEvent => {
                f.write_str("the S3 test event sent when a notification is configured names no object")
            }
            Acknowledge::NotObjectCreated { event_name } => write!(
                f,
                "S3 event {event_name:?} creates no object, so there is nothing to read; subscribing \
                 the queue to s3:ObjectCreated:* only avoids these"
            ),
        }
    }
}

/// A body that is an S3 notification but breaks its format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub delivery: Delivery,
    /// The index of the `Records` entry at fault; `None` for an EventBridge event.
    pub entry: Option<usize>,
    pub problem: Problem,
}

/// The rule a malformed notification breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// An entry of an S3 notification whose `eventSource` is not `aws:s3`.
    MixedEventSources,
    /// `eventVersion` is missing or its major version is not 2, the only one this reader knows.
    UnsupportedVersion { version: Option<String> },
    /// A field the format requires is missing (or not a string).
    MissingField { field: &'static str },
    /// A field is there with the wrong JSON type.
    WrongType { field: &'static str, expected: &'static str },
    /// The key has a `%` not followed by two hex digits. Carries the key as it arrived.
    BadKeyEncoding { key: String },
    /// The key's percent-encoded bytes are not UTF-8. Carries the key as it arrived.
    KeyNotUtf8 { key: String },
}

impl Problem {
    /// The rule without names or values, for [`Rejection::BadEnvelope`].
    pub fn rule(&self) -> &'static str {
        match self {
            Problem::MixedEventSources => "an entry's eventSource is not aws:s3",
            Problem::UnsupportedVersion { .. } => "an entry's eventVersion is not 2.x",
            Problem::MissingField { .. } => "an entry lacks a required field",
            Problem::WrongType { .. } => "a field has the wrong JSON type",
            Problem::BadKeyEncoding { .. } => "an object key is not valid percent-encoding",
            Problem::KeyNotUtf8 { .. } => "an object key does not decode to UTF-8",
        }
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.delivery {
            Delivery::EventBridge => f.write_str("the EventBridge S3 event is malformed: ")?,
            Delivery::Sns => {
                f.write_str("the S3 event notification inside the SNS message is malformed: ")?
            }
            Delivery::Direct => f.write_str("the S3 event notification is malformed: ")?,
        }
        match self.entry {
            Some(entry) => write!(f, "Records[{entry}] ")?,
            None => f.write_str("it ")?,
        }
        match &self.problem {
            Problem::MixedEventSources => write!(f, "has an eventSource other than {EVENT_SOURCE}"),
            Problem::UnsupportedVersion { version: Some(version) } => {
                write!(f, "has eventVersion {version:?}; only major version 2 is known")
            }
            Problem::UnsupportedVersion { version: None } => f.write_str("has no eventVersion string"),
            Problem::MissingField { field } => write!(f, "has no {field} string"),
            Problem::WrongType { field, expected } => write!(f, "has a {field} that is not {expected}"),
            Problem::BadKeyEncoding { key } => {
                write!(f, "has the key {key:?}, where a % is not followed by two hex digits")
            }
            Problem::KeyNotUtf8 { key } => write!(f, "has the key {key:?}, which does not decode to UTF-8"),
        }
    }
}

impl std::error::Error for Malformed {}

/// The rejection of a record whose body is a malformed notification. The existing
/// `BadEnvelope` reason fits; the full [`Malformed`] message, with the entry and the key, is
/// for the log line.
impl From<Malformed> for Rejection {
    fn from(malformed: Malformed) -> Rejection {
        let envelope = match malformed.delivery {
            Delivery::EventBridge => "EventBridge S3 event",
            Delivery::Direct | Delivery::Sns => "S3 event notification",
        };
        Rejection::BadEnvelope { envelope, problem: malformed.problem.rule() }
    }
}

/// Decodes a key as S3 writes it in notifications: form encoding, where `+` is a space and
/// `%XX` a byte, the bytes UTF-8. One pass is the same as "`+` first, then percent-decoding":
/// a `%2B` becomes the `+` it stands for, never a space.
pub fn decode_key(encoded: &str) -> Result<String, Problem> {
    let mut bytes = Vec::with_capacity(encoded.len());
    let mut rest = encoded.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        rest = tail;
        match byte {
            b'+' => bytes.push(b' '),
            b'%' => {
                let pair = tail.get(..2).and_then(|pair| Some(hex(pair[0])? << 4 | hex(pair[1])?));
                let Some(decoded) = pair else {
                    return Err(Problem::BadKeyEncoding { key: encoded.to_owned() });
                };
                bytes.push(decoded);
                rest = &tail[2..];
            }
            _ => bytes.push(byte),
        }
    }
    String::from_utf8(bytes).map_err(|_| Problem::KeyNotUtf8 { key: encoded.to_owned() })
}

fn hex(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|value| value as u8)
}

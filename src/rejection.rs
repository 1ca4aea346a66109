//! Why a record is not sent: one reason per rule it broke, made where the rule is checked
//! (reading the record in [`crate::lambda`], taking it out of its envelope in
//! [`crate::prepare::envelope`], mapping it in [`crate::prepare::mapping`], checking the schema in
//! [`crate::event`]).
//!
//! Every message names the rule and, where it helps, a position or a length, never the
//! record's content, so a rejection can always be logged.

use std::fmt;

use crate::send::plan::MAX_REQUEST_BYTES;

/// Why a record is not sent. The message names the rule, never the record's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    WrongEventSource {
        expected: &'static str,
    },
    MissingPayload {
        field: &'static str,
    },
    NotBase64,
    NotUtf8 {
        valid_up_to: usize,
    },
    NotJson {
        line: usize,
        column: usize,
        problem: String,
    },
    NotAnObject {
        found: &'static str,
    },
    MissingField {
        field: &'static str,
    },
    EmptyField {
        field: &'static str,
    },
    WrongType {
        field: &'static str,
        expected: &'static str,
        found: &'static str,
    },
    TooLong {
        field: &'static str,
        limit: usize,
        length: usize,
    },
    DuplicateField {
        field: &'static str,
    },
    BadEventTime,
    BadRecipientAccountId,
    TooLarge {
        bytes: usize,
    },
    /// A field the schema wants as a JSON object is larger than the service takes.
    FieldTooLarge {
        field: &'static str,
        limit: usize,
        bytes: usize,
    },
    BadSourceIpAddress,
    /// An S3 notification names an object outside `S3_OBJECTS`; it is never fetched.
    ObjectNotAllowed,
    /// An S3 notification in a FIFO queue: objects are read from standard queues only.
    FilesFromFifoQueue,
    /// An S3 object stops being readable at some point (a broken gzip stream, text that is
    /// not JSON); the events before that point were sent.
    UnreadableObject {
        problem: String,
    },
    /// `ENVELOPE` pins an envelope and the record is not in it.
    NotInEnvelope {
        envelope: &'static str,
    },
    /// The record is in an envelope, but the envelope breaks that envelope's own format.
    BadEnvelope {
        envelope: &'static str,
        problem: &'static str,
    },
    /// gzip data that ends early or is corrupt.
    BadGzip {
        problem: &'static str,
    },
    /// gzip data that inflates past the bound: a gzip bomb, or a record too large to be one.
    GzipTooLarge {
        limit: usize,
    },
    /// More inner events in one record than the bound.
    TooManyEvents {
        envelope: &'static str,
        limit: usize,
    },
    /// A KPL aggregate whose MD5 trailer does not match its protobuf bytes.
    KplChecksumMismatch,
    /// The mapping takes a field from a path that finds nothing (or only null).
    MappedValueMissing {
        field: &'static str,
        from: &'static str,
    },
    /// The mapping's time value is neither RFC 3339 nor epoch seconds or milliseconds.
    BadMappedTime {
        field: &'static str,
    },
    /// `keepPayload` needs the payload to be a JSON object.
    KeptPayloadNotObject {
        field: &'static str,
    },
    /// A mapped text field would come from a number too large to write without losing digits.
    ImpreciseNumber {
        field: &'static str,
    },
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::WrongEventSource { expected } => {
                write!(f, "the record's eventSource is not {expected} like the rest of the batch")
            }
            Rejection::MissingPayload { field } => write!(f, "the record has no {field} string"),
            Rejection::NotBase64 => f.write_str("kinesis.data is not valid base64"),
            Rejection::NotUtf8 { valid_up_to } => {
                write!(f, "the payload is not UTF-8 text (invalid byte at offset {valid_up_to})")
            }
            Rejection::NotJson { line, column, problem } => {
                write!(f, "the payload is not JSON: {problem} at line {line} column {column}")
            }
            Rejection::NotAnObject { found } => {
                write!(f, "the payload is {found}, not a JSON object")
            }
            Rejection::MissingField { field } => write!(f, "the required field {field} is missing"),
            Rejection::EmptyField { field } => write!(f, "the required field {field} is empty"),
            Rejection::WrongType { field, expected, found } => {
                write!(f, "{field} is {found}, not {expected}")
            }
            Rejection::TooLong { field, limit, length } => {
                write!(f, "{field} has {length} characters, more than the limit of {limit}")
            }
            Rejection::DuplicateField { field } => write!(f, "{field} appears more than once"),
            Rejection::BadEventTime => f.write_str(
                "eventTime is not a real calendar time in UTC of the form yyyy-MM-ddTHH:mm:ssZ",
            ),
            Rejection::BadRecipientAccountId => {
                f.write_str("recipientAccountId is not a 12-digit AWS account ID")
            }
            Rejection::TooLarge { bytes } => write!(
                f,
                "the event needs {bytes} bytes in a request, more than the {MAX_REQUEST_BYTES}-byte request limit"
            ),
            Rejection::FieldTooLarge { field, limit, bytes } => {
                write!(f, "{field} takes {bytes} bytes, more than the service's limit of {limit}")
            }
            Rejection::BadSourceIpAddress => f.write_str("sourceIPAddress is not an IPv4 or IPv6 address"),
            Rejection::ObjectNotAllowed => f.write_str(
                "the S3 notification names an object outside S3_OBJECTS, so it is not read; add its \
                 bucket (and prefix) to S3_OBJECTS and to the role's s3:GetObject to ingest it",
            ),
            Rejection::FilesFromFifoQueue => f.write_str(
                "the S3 notification came through a FIFO queue; objects are read from standard queues only",
            ),
            Rejection::UnreadableObject { problem } => write!(f, "the S3 object cannot be read on: {problem}"),
            Rejection::NotInEnvelope { envelope } => {
                write!(f, "ENVELOPE is {envelope} and the record is not in that envelope")
            }
            Rejection::BadEnvelope { envelope, problem } => {
                write!(f, "the record's {envelope} envelope is malformed: {problem}")
            }
            Rejection::BadGzip { problem } => write!(f, "the record's gzip data is unreadable: {problem}"),
            Rejection::GzipTooLarge { limit } => write!(
                f,
                "the record's gzip data inflates to more than {limit} bytes (the bound against gzip bombs)"
            ),
            Rejection::TooManyEvents { envelope, limit } => {
                write!(f, "the record's {envelope} envelope holds more than {limit} events, the bound per record")
            }
            Rejection::KplChecksumMismatch => {
                f.write_str("the KPL aggregate's MD5 trailer does not match its protobuf bytes")
            }
            Rejection::MappedValueMissing { field, from } => {
                write!(f, "EVENT_MAPPING takes {field} from {from}, where the path finds no value")
            }
            Rejection::BadMappedTime { field } => write!(
                f,
                "EVENT_MAPPING's value for {field} is neither an RFC 3339 time nor epoch seconds or milliseconds"
            ),
            Rejection::ImpreciseNumber { field } => write!(
                f,
                "EVENT_MAPPING takes {field} from a number too large to write without losing digits; send it as a string"
            ),
            Rejection::KeptPayloadNotObject { field } => {
                write!(f, "keepPayload puts the payload in {field}, which needs a JSON object, and the payload is not one")
            }
        }
    }
}

impl std::error::Error for Rejection {}

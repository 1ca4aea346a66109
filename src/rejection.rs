//! Why a record is not sent: one reason per rule it broke, made where the rule is checked
//! (reading the record in [`crate::source`], checking the schema in [`crate::audit`]).
//!
//! Every message names the rule and, where it helps, a position or a length, never the
//! record's content, so a rejection can always be logged.

use std::fmt;

use crate::batch::MAX_REQUEST_BYTES;

/// Why a record is not sent. The message names the rule, never the record's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    WrongEventSource { expected: &'static str },
    MissingPayload { field: &'static str },
    NotBase64,
    NotUtf8 { valid_up_to: usize },
    NotJson { line: usize, column: usize, problem: String },
    NotAnObject { found: &'static str },
    MissingField { field: &'static str },
    EmptyField { field: &'static str },
    WrongType { field: &'static str, expected: &'static str, found: &'static str },
    TooLong { field: &'static str, limit: usize, length: usize },
    DuplicateField { field: &'static str },
    BadEventTime,
    BadRecipientAccountId,
    TooLarge { bytes: usize },
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
            Rejection::BadEventTime => {
                f.write_str("eventTime is not a UTC time of the form yyyy-MM-ddTHH:mm:ssZ")
            }
            Rejection::BadRecipientAccountId => {
                f.write_str("recipientAccountId is not a 12-digit AWS account ID")
            }
            Rejection::TooLarge { bytes } => write!(
                f,
                "the event needs {bytes} bytes in a request, more than the {MAX_REQUEST_BYTES}-byte request limit"
            ),
        }
    }
}

impl std::error::Error for Rejection {}

//! Why an object cannot be read to its end: broken gzip, text that is not JSON, a JSON
//! document that breaks off. Each message says what is wrong with the object so an operator can
//! tell a file cut short from one in a format the function does not read; none quotes content.

use std::fmt;

/// Why the rest of an object cannot be read. The items handed out before it stand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// How many items came out before it, skipped ones included.
    pub items: u64,
    pub problem: Unreadable,
}

/// What makes an object unreadable from some point on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreadable {
    /// The object starts with gzip's magic, but a member's header is not gzip's.
    GzipHeader,
    /// The deflate data is invalid.
    GzipCorrupt,
    /// A member's CRC-32 does not match the data inflated from it.
    GzipChecksum,
    /// A member's length (modulo 2^32) does not match the data inflated from it.
    GzipLength,
    /// The object ends inside a member's header, data or trailer.
    GzipTruncated,
    /// Bytes after a member are not another member; gzip would drop them with a warning.
    DataAfterGzip,
    /// The first byte that is not blank space starts no JSON array or object.
    NotJson { byte: u8 },
    /// A file of one object whose `Records` is not an array.
    RecordsNotAnArray,
    /// A raw line break inside a string of an array or `Records` document.
    BreakInString { line: u64 },
    /// A closing bracket of the wrong kind, at the document's or its array's level.
    Unbalanced { line: u64 },
    /// Two commas in a row, or a comma first or last in the array.
    MissingElement { line: u64 },
    /// Content after the end of the document.
    DataAfterDocument { line: u64 },
    /// The object ends before the document that starts on `line` does.
    EndsInsideDocument { line: u64 },
}

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unreadable::GzipHeader => f.write_str("the object starts like gzip but its header is not gzip's"),
            Unreadable::GzipCorrupt => f.write_str("the object's gzip data is corrupt"),
            Unreadable::GzipChecksum => f.write_str("a gzip member's CRC-32 does not match its data"),
            Unreadable::GzipLength => f.write_str("a gzip member's length does not match its data"),
            Unreadable::GzipTruncated => f.write_str(
                "the object's gzip data ends inside a member: the object is cut short or was read while \
                 being written",
            ),
            Unreadable::DataAfterGzip => {
                f.write_str("bytes after the last gzip member are not another member")
            }
            Unreadable::NotJson { byte } => write!(
                f,
                "the object is neither gzip nor JSON: its text starts with byte 0x{byte:02x}, not [ (a JSON \
                 array) or {{ (JSON Lines or a Records object)"
            ),
            Unreadable::RecordsNotAnArray => {
                f.write_str("the object's top-level Records member is not an array")
            }
            Unreadable::BreakInString { line } => {
                write!(f, "line {line} breaks inside a JSON string, so the document is not JSON")
            }
            Unreadable::Unbalanced { line } => write!(f, "line {line} closes a bracket of the wrong kind"),
            Unreadable::MissingElement { line } => {
                write!(f, "line {line} has a comma with no array element before or after it")
            }
            Unreadable::DataAfterDocument { line } => write!(
                f,
                "line {line} follows the end of the JSON document: neither one document nor JSON Lines"
            ),
            Unreadable::EndsInsideDocument { line } => {
                write!(f, "the object ends inside the JSON document that starts on line {line}")
            }
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (after {} items)", self.problem, self.items)
    }
}

impl std::error::Error for DecodeError {}

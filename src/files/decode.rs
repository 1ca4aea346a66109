//! An S3 object's bytes → its items (one event's JSON text each), pushed chunk by chunk as
//! they stream from S3, so the whole object is never held.
//!
//! gzip is recognised by its magic bytes (`1f 8b`) at the start of the object, and every member
//! is read, each checked against its CRC-32. The text's format is told by its first value,
//! after an optional UTF-8 byte order mark (skipped: editors on Windows write one, and JSON
//! parsers refuse it) and blank space:
//! - `[`: one JSON array; each element is an item.
//! - `{`: the first object is scanned. If it has a top-level `Records` member whose value is
//!   an array, the file is CloudTrail's format and each element of that array is an item,
//!   streamed out as it is read; so is Azure's older `{"records": [...]}`, when `records` is the
//!   object's first member (see [`Format::AzureRecords`]). Otherwise the object ends, and what follows decides: another
//!   line with content makes the file JSON Lines, the object its first line (a JSON Lines file
//!   starts with `{` too); nothing makes it a file of one object, which is inspected: a
//!   `Records` that is not an array is an error, a CloudTrail digest file is
//!   [`Format::CloudTrailDigest`] with no items, and anything else is one item, like a one-line
//!   JSON Lines file even if it spreads over lines. An object spread over lines and followed by
//!   more is neither, and an error; so is anything but blank space after an array or a
//!   `Records` object (concatenated documents are not read).
//! - anything else: an error (neither JSON nor JSON Lines).
//!
//! Arrays are split into their elements by a scanner that never builds the document and
//! counts depth instead of recursing. Memory stays bounded by [`Limits::max_item_bytes`] plus
//! one inflated chunk, whatever the object holds: a longer item is counted, not kept, and
//! reported as too long.
//!
//! Each item carries its position (its line, or its element's index), which depends only on
//! the object's bytes, never on how they were chunked: the same object gives the same items on
//! every delivery, so ids derived from positions are stable, and a resumed object
//! ([`ObjectDecoder::skip_items`]) picks up exactly where the confirmed items end. Nothing here
//! parses an item: that, and refusing one that is not a JSON object (a line of JSON Lines that
//! is not JSON among them), is the next stage's work.

mod error;
mod gunzip;
mod item;
mod json;
#[cfg(test)]
mod tests;
mod text;

use std::fmt;

pub use error::{DecodeError, Unreadable};
use gunzip::Gunzip;
use text::Text;

/// The bounds an object is decoded within.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The longest item kept, in bytes; a longer one is reported as [`ItemError::TooLong`]
    /// without being buffered. No item longer than an audit event may be can be sent, so the
    /// caller sets the event size it accepts (the service names no limit of its own for
    /// `eventData`, so it is at most a `PutAuditEvents` request, 1 MB).
    pub max_item_bytes: usize,
}

/// Where an item sits in its object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Position {
    /// The item's line, counting from 1, in JSON Lines (and in a file of one object).
    Line(u64),
    /// The element's index, counting from 0, in a JSON array or a `Records` array, with the
    /// line it starts on.
    Element { index: u64, line: u64 },
}

/// One item of the object: one event's JSON text, not yet parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item<'a> {
    /// How many items came before it in the object, skipped ones included.
    pub ordinal: u64,
    pub position: Position,
    /// The text without surrounding blank space, or why there is none.
    pub text: Result<&'a str, ItemError>,
}

/// Why an item cannot be handed out. The object goes on: the next item is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemError {
    /// Longer than [`Limits::max_item_bytes`]; it was skipped to its end, never buffered.
    TooLong { bytes: u64, limit: usize },
    /// Not UTF-8 text.
    NotUtf8 { valid_up_to: usize },
}

impl fmt::Display for ItemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ItemError::TooLong { bytes, limit } => {
                write!(f, "the item has {bytes} bytes, more than the limit of {limit}")
            }
            ItemError::NotUtf8 { valid_up_to } => {
                write!(f, "the item is not UTF-8 text (invalid byte at offset {valid_up_to})")
            }
        }
    }
}

/// The formats an object's text can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// No bytes, or only blank space: no items.
    Empty,
    /// One JSON value a line (GitHub's audit log streaming); also a file of one object.
    JsonLines,
    /// One JSON array of events.
    JsonArray,
    /// CloudTrail's log file format: `{"Records": [...]}`.
    CloudTrail,
    /// Azure diagnostic settings' older form, `{"records": [...]}` (blobs before 2018-11, and
    /// Event Hubs), recognised when `records` is the object's first member: a lowercase word an
    /// event of JSON Lines may have as a field of its own further in.
    AzureRecords,
    /// A CloudTrail digest file, which signs a trail's log files and holds no events: nothing to
    /// send, and answered as done.
    CloudTrailDigest,
}

/// What a fully read object was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoded {
    pub format: Format,
    /// Every item, skipped ones included.
    pub items: u64,
    /// The gzip members read; 0 when the object is not gzip.
    pub gzip_members: u64,
}

/// Whether the object is gzip, known from its first two bytes.
enum Compression {
    /// Not known yet: no byte, or only `1f`.
    Unknown {
        first: Option<u8>,
    },
    Plain,
    Gzip(Box<Gunzip>),
}

/// Decodes one object pushed chunk by chunk. See the module documentation.
///
/// ```
/// use cloudtrail_lake_forwarder::files::decode::{Format, Limits, ObjectDecoder, Position};
/// let mut decoder = ObjectDecoder::new(Limits { max_item_bytes: 256 * 1024 });
/// let mut lines = Vec::new();
/// for chunk in [&b"{\"action\":\"repo.cre"[..], b"ate\"}\n\n{\"action\":\"git.clone\"}\n"] {
///     decoder.push(chunk, |item| lines.push((item.position, item.text.unwrap().to_owned()))).unwrap();
/// }
/// let decoded = decoder.finish(|_| unreachable!()).unwrap();
/// assert_eq!(decoded.format, Format::JsonLines);
/// assert_eq!(lines[1], (Position::Line(3), "{\"action\":\"git.clone\"}".to_owned()));
/// ```
pub struct ObjectDecoder {
    compression: Compression,
    text: Text,
    failed: Option<DecodeError>,
}

impl ObjectDecoder {
    pub fn new(limits: Limits) -> ObjectDecoder {
        ObjectDecoder {
            compression: Compression::Unknown { first: None },
            text: Text::new(limits.max_item_bytes),
            failed: None,
        }
    }

    /// Reads but does not hand out the next `count` items: for an object resumed after
    /// `count` confirmed items. It still inflates and scans them (gzip cannot seek), but keeps
    /// none of their bytes. Call it before the first push.
    pub fn skip_items(&mut self, count: u64) {
        self.text.skip_items(count);
    }

    /// The items so far, skipped ones included.
    pub fn items(&self) -> u64 {
        self.text.items()
    }

    /// The memory the decoder holds for the object: at most the item limit and one inflated
    /// chunk, besides the chunk being pushed.
    pub fn buffered_bytes(&self) -> usize {
        let gzip = match &self.compression {
            Compression::Gzip(gunzip) => gunzip.buffered_bytes(),
            _ => 0,
        };
        self.text.buffered_bytes() + gzip
    }

    /// Decodes the next chunk of the object, handing each complete item to `sink`. After an
    /// error the object is unreadable: every later call returns the same error.
    pub fn push(&mut self, chunk: &[u8], mut sink: impl FnMut(Item<'_>)) -> Result<(), DecodeError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let result = self.decode(chunk, &mut sink);
        self.fail_on(result)
    }

    /// Ends the object: hands out its last item and says what it was, or why its end is not
    /// an end (a gzip member or a JSON document cut short).
    pub fn finish(mut self, mut sink: impl FnMut(Item<'_>)) -> Result<Decoded, DecodeError> {
        if let Some(error) = self.failed.take() {
            return Err(error);
        }
        if let Compression::Unknown { first: Some(first) } = self.compression {
            // A one-byte object: plain text.
            self.compression = Compression::Plain;
            let result = self.text.push(&[first], &mut sink);
            self.fail_on(result)?;
        }
        let members = match &self.compression {
            Compression::Gzip(gunzip) => gunzip.finish().map(|()| gunzip.members()),
            _ => Ok(0),
        };
        let gzip_members = self.fail_on(members)?;
        let result = self.text.finish(&mut sink);
        let format = self.fail_on(result)?;
        Ok(Decoded { format, items: self.text.items(), gzip_members })
    }

    fn decode(&mut self, chunk: &[u8], sink: &mut dyn FnMut(Item<'_>)) -> Result<(), Unreadable> {
        if let Compression::Unknown { first } = self.compression {
            let mut head = first.into_iter().chain(chunk.iter().copied());
            let (Some(byte0), second) = (head.next(), head.next()) else {
                return Ok(());
            };
            self.compression = match (byte0, second) {
                (0x1f, None) => Compression::Unknown { first: Some(byte0) },
                (0x1f, Some(0x8b)) => Compression::Gzip(Box::new(Gunzip::new())),
                _ => Compression::Plain,
            };
            if let (Some(first), false) = (first, matches!(self.compression, Compression::Unknown { .. })) {
                self.feed(&[first], sink)?;
            }
        }
        self.feed(chunk, sink)
    }

    fn feed(&mut self, bytes: &[u8], sink: &mut dyn FnMut(Item<'_>)) -> Result<(), Unreadable> {
        let text = &mut self.text;
        match &mut self.compression {
            Compression::Unknown { .. } => Ok(()),
            Compression::Plain => text.push(bytes, sink),
            Compression::Gzip(gunzip) => gunzip.push(bytes, &mut |inflated| text.push(inflated, sink)),
        }
    }

    fn fail_on<T>(&mut self, result: Result<T, Unreadable>) -> Result<T, DecodeError> {
        result.map_err(|problem| {
            let error = DecodeError { items: self.text.items(), problem };
            self.failed = Some(error.clone());
            error
        })
    }
}

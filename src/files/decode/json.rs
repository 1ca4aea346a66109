//! The structure of a JSON document, scanned byte by byte without building it: where each
//! element of the array of events starts and ends, and which members the top-level object has.
//!
//! It tracks strings, escapes and the nesting depth (a counter, so ten million `[` cost
//! nothing but time), and checks only what it needs to split the document: the brackets of
//! the document and of its array of events, and commas between elements. Whether each element
//! is valid JSON is for the parse that reads it. A line break inside a string is never JSON:
//! from there the scanner cannot tell strings from structure, so it stops.

use super::Unreadable;

/// What a scanning step stopped at. Steps stop at every event, so the caller can act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// An element starts with the byte just consumed.
    ElementStart,
    /// The element ended before the byte at the returned index, which is not consumed yet.
    ElementEnd,
    /// The top-level object has a `Records` member (or a first member `records`) whose array
    /// starts with the byte consumed.
    RecordsArray,
    /// The document's last byte was just consumed.
    End,
    /// A raw line break inside a string, at the returned index (not consumed).
    BreakInString,
}

/// The document's top-level value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    Array,
    Object,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Element {
    /// The array just opened: an element or its end may come.
    First,
    Inside,
    /// An element ended: a comma or the array's end comes next.
    Ended,
    AfterComma,
}

/// The top-level object's member being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Member {
    Key,
    /// Inside the key's string, its first bytes kept in `key`.
    InKey,
    Colon,
    Value,
    AfterValue,
}

const RECORDS: &[u8] = b"Records";
/// Azure's diagnostic settings wrote `{"records": [...]}` before JSON Lines (2018-11), and
/// Event Hubs still do. It is recognised only as the object's first member, where Azure writes
/// it: a lowercase `records` is a common word, and a JSON Lines event with a `records` array of
/// its own further in must stay an event.
const AZURE_RECORDS: &[u8] = b"records";
/// Members every CloudTrail digest file has, and no `Records` file.
const DIGEST_MARKS: [&[u8]; 2] = [b"digestPublicKeyFingerprint", b"digestSignatureAlgorithm"];
const KEY_BYTES: usize = 32;

pub struct Scan {
    document: Document,
    depth: u64,
    in_string: bool,
    escaped: bool,
    /// The depth of the array whose elements are items; 0 when there is none (yet).
    array: u64,
    element: Element,
    member: Member,
    key: [u8; KEY_BYTES],
    key_len: usize,
    /// The line the document starts on.
    pub start_line: u64,
    /// The top-level object has a `Records` member that is not an array.
    pub records_not_array: bool,
    /// Which of [`DIGEST_MARKS`] the top-level object has, one bit each.
    digest_marks: u8,
    /// The top-level object's members whose key has ended.
    members: u64,
    /// The array of events is Azure's `records`, not CloudTrail's `Records`.
    pub azure_records: bool,
}

impl Scan {
    pub fn new(document: Document, start_line: u64) -> Scan {
        Scan {
            document,
            depth: 0,
            in_string: false,
            escaped: false,
            array: 0,
            element: Element::First,
            member: Member::Key,
            key: [0; KEY_BYTES],
            key_len: 0,
            start_line,
            records_not_array: false,
            digest_marks: 0,
            members: 0,
            azure_records: false,
        }
    }

    /// Scans `bytes` from `at` to the next event or to their end, counting line breaks in
    /// `line`. Returns where to go on from, and the event if one stopped it.
    pub fn step(
        &mut self,
        bytes: &[u8],
        mut at: usize,
        line: &mut u64,
    ) -> Result<(usize, Option<Event>), Unreadable> {
        while at < bytes.len() {
            if self.in_string {
                match self.string(bytes, at) {
                    Ok(next) => at = next,
                    Err(line_break) => return Ok((line_break, Some(Event::BreakInString))),
                }
                continue;
            }
            let byte = bytes[at];
            if byte == b'\n' {
                *line += 1;
            }
            if self.array != 0 && self.depth == self.array && self.element != Element::Inside {
                if let Some(event) = self.between_elements(byte, *line)? {
                    return Ok((at + 1, Some(event)));
                }
            } else if self.array != 0 && self.depth == self.array && matches!(byte, b',' | b']' | b'}') {
                self.element = Element::Ended;
                return Ok((at, Some(Event::ElementEnd)));
            } else if let Some(event) = self.structure(byte, *line)? {
                return Ok((at + 1, Some(event)));
            }
            at += 1;
        }
        Ok((at, None))
    }

    /// Moves through a string from `at`; `Err` with the index of a raw line break.
    fn string(&mut self, bytes: &[u8], mut at: usize) -> Result<usize, usize> {
        if !self.escaped && self.member != Member::InKey {
            // The common case, a long value: straight to the next byte that matters.
            let rest = &bytes[at..];
            at += rest.iter().position(|&byte| matches!(byte, b'"' | b'\\' | b'\n')).unwrap_or(rest.len());
            if at == bytes.len() {
                return Ok(at);
            }
        }
        let byte = bytes[at];
        if byte == b'\n' {
            return Err(at);
        }
        if self.escaped {
            self.escaped = false;
            if self.member == Member::InKey {
                // An escaped key is no key this scanner looks for.
                self.key_len = KEY_BYTES + 1;
            }
        } else if byte == b'\\' {
            self.escaped = true;
        } else if byte == b'"' {
            self.in_string = false;
            if self.member == Member::InKey {
                self.member = Member::Colon;
                self.key_done();
            }
        } else if self.key_len < KEY_BYTES {
            // Only a key is read byte by byte here: other strings skip to their special bytes.
            self.key[self.key_len] = byte;
            self.key_len += 1;
        } else {
            self.key_len = KEY_BYTES + 1;
        }
        Ok(at + 1)
    }

    /// A byte at the array's own depth, outside any element.
    fn between_elements(&mut self, byte: u8, line: u64) -> Result<Option<Event>, Unreadable> {
        match (byte, self.element) {
            (b' ' | b'\t' | b'\r' | b'\n', _) => Ok(None),
            (b',', Element::Ended) => {
                self.element = Element::AfterComma;
                Ok(None)
            }
            (b',', _) | (b']', Element::AfterComma) => Err(Unreadable::MissingElement { line }),
            (b']', _) => {
                self.array = 0;
                self.close(byte, line)
            }
            (b'}', _) => Err(Unreadable::Unbalanced { line }),
            _ => {
                self.element = Element::Inside;
                self.structure(byte, line)?;
                Ok(Some(Event::ElementStart))
            }
        }
    }

    /// A byte outside strings and outside the array's own level.
    fn structure(&mut self, byte: u8, line: u64) -> Result<Option<Event>, Unreadable> {
        let top = self.document == Document::Object && self.depth == 1;
        if top && self.member == Member::Value && !matches!(byte, b' ' | b'\t' | b'\r' | b'\n') {
            self.member = Member::AfterValue;
            let azure = self.members == 1 && self.key() == AZURE_RECORDS;
            if (self.key() == RECORDS || azure) && byte == b'[' {
                self.depth += 1;
                self.array = self.depth;
                self.element = Element::First;
                self.azure_records = azure;
                return Ok(Some(Event::RecordsArray));
            }
            // Only CloudTrail's name is an error when it is not an array: Azure's is also a
            // word an event may use for anything.
            self.records_not_array |= self.key() == RECORDS;
        }
        match byte {
            b'"' => {
                self.in_string = true;
                if top && self.member == Member::Key {
                    self.member = Member::InKey;
                    self.key_len = 0;
                }
            }
            b':' if top && self.member == Member::Colon => self.member = Member::Value,
            b',' if top => self.member = Member::Key,
            b'{' | b'[' => {
                self.depth += 1;
                if self.depth == 1 && self.document == Document::Array {
                    self.array = 1;
                }
            }
            b'}' | b']' => return self.close(byte, line),
            _ => {}
        }
        Ok(None)
    }

    /// A closing bracket: the document ends when its depth goes back to 0, with the bracket
    /// that matches its first. Brackets inside elements are left to the elements' parse.
    fn close(&mut self, byte: u8, line: u64) -> Result<Option<Event>, Unreadable> {
        let document_closer = match self.document {
            Document::Array => b']',
            Document::Object => b'}',
        };
        if self.depth == 0 || (self.depth == 1 && byte != document_closer) {
            return Err(Unreadable::Unbalanced { line });
        }
        self.depth -= 1;
        Ok((self.depth == 0).then_some(Event::End))
    }

    /// Whether the top-level object has every member of a CloudTrail digest file's marks.
    pub fn is_digest(&self) -> bool {
        self.digest_marks == (1 << DIGEST_MARKS.len()) - 1
    }

    fn key(&self) -> &[u8] {
        self.key.get(..self.key_len).unwrap_or_default()
    }

    fn key_done(&mut self) {
        self.members += 1;
        if let Some(mark) = DIGEST_MARKS.iter().position(|mark| *mark == self.key()) {
            self.digest_marks |= 1 << mark;
        }
    }
}

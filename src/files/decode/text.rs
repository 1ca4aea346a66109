//! The object's text → items: the format, decided from its first value by the rule the
//! module above states, and each item's bytes and position.
//!
//! A raw line break inside a string of the first object means its line is not JSON: the file
//! is taken as JSON Lines from there, the broken line an item the parse will refuse, so one bad
//! first line does not cost the lines after it.

use super::item::ItemBuf;
use super::json::{Document, Event, Scan};
use super::{Format, Item, Position, Unreadable};

const BOM: [u8; 3] = [0xef, 0xbb, 0xbf];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// How many bytes of a byte order mark have been read.
    Bom(usize),
    /// Blank space before the first value.
    Start,
    /// Inside the first value, scanned as JSON.
    Document,
    /// JSON Lines; also the rest of the first object's line.
    Lines,
    /// After an array or a `Records` (`records`) object.
    After,
}

/// The first object, until the bytes after it say what it is.
#[derive(Debug, Clone, Copy)]
struct First {
    start_line: u64,
    end_line: u64,
    records_not_array: bool,
    digest: bool,
}

pub struct Text {
    stage: Stage,
    scan: Scan,
    /// `None` while the first object is read.
    format: Option<Format>,
    first: Option<First>,
    item: ItemBuf,
    /// Where, in the bytes being pushed, the open item's bytes not yet added begin.
    run: usize,
    /// The line the next byte is on.
    line: u64,
    items: u64,
    elements: u64,
    skip: u64,
}

type Sink<'s> = &'s mut dyn FnMut(Item<'_>);

impl Text {
    pub fn new(max_item_bytes: usize) -> Text {
        Text {
            stage: Stage::Bom(0),
            scan: Scan::new(Document::Array, 1),
            format: None,
            first: None,
            item: ItemBuf::new(max_item_bytes),
            run: 0,
            line: 1,
            items: 0,
            elements: 0,
            skip: 0,
        }
    }

    pub fn items(&self) -> u64 {
        self.items
    }

    pub fn skip_items(&mut self, count: u64) {
        self.skip += count;
    }

    pub fn buffered_bytes(&self) -> usize {
        self.item.capacity()
    }

    pub fn push(&mut self, bytes: &[u8], sink: Sink<'_>) -> Result<(), Unreadable> {
        self.run = 0;
        let mut at = 0;
        while at < bytes.len() {
            at = match self.stage {
                Stage::Bom(matched) => self.bom(bytes[at], matched, at)?,
                Stage::Start => self.start(bytes, at)?,
                Stage::Document => self.document(bytes, at, sink)?,
                Stage::Lines => self.lines(bytes, at, sink)?,
                Stage::After => self.after(bytes, at)?,
            };
        }
        if self.item.is_gathering() {
            self.item.extend(&bytes[self.run..]);
        }
        Ok(())
    }

    /// The end of the text: what the first object was, if the file has only it.
    pub fn finish(&mut self, sink: Sink<'_>) -> Result<Format, Unreadable> {
        match self.stage {
            Stage::Bom(0) | Stage::Start => return Ok(Format::Empty),
            Stage::Bom(_) => return Err(Unreadable::NotJson { byte: BOM[0] }),
            Stage::Document => return Err(Unreadable::EndsInsideDocument { line: self.scan.start_line }),
            Stage::After | Stage::Lines => {}
        }
        if self.item.is_gathering() {
            self.end_line(&[], sink);
        }
        if let Some(first) = self.first.take() {
            if first.records_not_array {
                return Err(Unreadable::RecordsNotAnArray);
            }
            if first.digest {
                self.item.close();
                return Ok(Format::CloudTrailDigest);
            }
            self.emit(&[], sink);
        }
        Ok(self.format.unwrap_or(Format::Empty))
    }

    fn bom(&mut self, byte: u8, matched: usize, at: usize) -> Result<usize, Unreadable> {
        if byte == BOM[matched] {
            self.stage = if matched + 1 == BOM.len() { Stage::Start } else { Stage::Bom(matched + 1) };
            Ok(at + 1)
        } else if matched == 0 {
            self.stage = Stage::Start;
            Ok(at)
        } else {
            Err(Unreadable::NotJson { byte: BOM[0] })
        }
    }

    fn start(&mut self, bytes: &[u8], at: usize) -> Result<usize, Unreadable> {
        let at = self.skip_blank(bytes, at);
        let Some(&byte) = bytes.get(at) else {
            return Ok(at);
        };
        let document = match byte {
            b'[' => Document::Array,
            b'{' => Document::Object,
            byte => return Err(Unreadable::NotJson { byte }),
        };
        self.scan = Scan::new(document, self.line);
        self.stage = Stage::Document;
        match document {
            Document::Array => self.format = Some(Format::JsonArray),
            // The first object may be an item itself: it is kept until that is known.
            Document::Object => self.start_item(Position::Line(self.line), at),
        }
        Ok(at)
    }

    fn document(&mut self, bytes: &[u8], at: usize, sink: Sink<'_>) -> Result<usize, Unreadable> {
        let (next, event) = self.scan.step(bytes, at, &mut self.line)?;
        match event {
            None => {}
            Some(Event::ElementStart) => {
                let position = Position::Element { index: self.elements, line: self.line };
                self.elements += 1;
                self.start_item(position, next - 1);
            }
            Some(Event::ElementEnd) => self.emit(&bytes[self.run..next], sink),
            Some(Event::RecordsArray) => {
                self.item.close();
                self.format =
                    Some(if self.scan.azure_records { Format::AzureRecords } else { Format::CloudTrail });
            }
            Some(Event::End) if self.format.is_none() => {
                self.first = Some(First {
                    start_line: self.scan.start_line,
                    end_line: self.line,
                    records_not_array: self.scan.records_not_array,
                    digest: self.scan.is_digest(),
                });
                self.format = Some(Format::JsonLines);
                self.stage = Stage::Lines;
            }
            Some(Event::End) => self.stage = Stage::After,
            Some(Event::BreakInString) if self.format.is_none() => {
                self.format = Some(Format::JsonLines);
                self.emit(&bytes[self.run..next], sink);
                self.stage = Stage::Lines;
            }
            Some(Event::BreakInString) => return Err(Unreadable::BreakInString { line: self.line }),
        }
        Ok(next)
    }

    fn lines(&mut self, bytes: &[u8], mut at: usize, sink: Sink<'_>) -> Result<usize, Unreadable> {
        if !self.item.is_gathering() {
            at = self.skip_blank(bytes, at);
            if at == bytes.len() {
                return Ok(at);
            }
            if let Some(first) = self.first.take() {
                if first.end_line != first.start_line {
                    return Err(Unreadable::DataAfterDocument { line: self.line });
                }
                self.emit(&[], sink);
            }
            self.start_item(Position::Line(self.line), at);
        }
        let Some(length) = bytes[at..].iter().position(|&byte| byte == b'\n') else {
            return Ok(bytes.len());
        };
        let end = at + length;
        self.end_line(&bytes[self.run..end], sink);
        self.line += 1;
        Ok(end + 1)
    }

    /// A line ends: it is an item, unless it is the first object's, which is held until the
    /// next line with content (or the end) says what the file is.
    fn end_line(&mut self, tail: &[u8], sink: Sink<'_>) {
        if self.first.is_some() {
            self.item.extend(tail);
            self.item.hold();
        } else {
            self.emit(tail, sink);
        }
    }

    fn after(&mut self, bytes: &[u8], at: usize) -> Result<usize, Unreadable> {
        let at = self.skip_blank(bytes, at);
        if at < bytes.len() {
            return Err(Unreadable::DataAfterDocument { line: self.line });
        }
        Ok(at)
    }

    fn skip_blank(&mut self, bytes: &[u8], mut at: usize) -> usize {
        while let Some(&byte) = bytes.get(at) {
            match byte {
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' => {}
                _ => break,
            }
            at += 1;
        }
        at
    }

    /// Opens an item whose first byte is at `at`; one that will be skipped keeps no bytes.
    fn start_item(&mut self, position: Position, at: usize) {
        self.item.start(position, self.skip == 0);
        self.run = at;
    }

    fn emit(&mut self, tail: &[u8], sink: Sink<'_>) {
        let ordinal = self.items;
        self.items += 1;
        if self.skip > 0 {
            self.skip -= 1;
            self.item.close();
            return;
        }
        let position = self.item.position();
        let text = self.item.finish(tail);
        sink(Item { ordinal, position, text });
    }
}

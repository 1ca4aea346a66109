//! The item being gathered: its bytes while they fit the limit, only its length once they do
//! not (or when it is skipped), so a 100 MB line costs the limit and no more.
//!
//! Bytes are added in runs (whatever part of a chunk belongs to the item); an item that starts
//! and ends within one chunk is handed out from the chunk itself, never copied.

use super::{ItemError, Position};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No item is open.
    Closed,
    /// An item is open and bytes are added to it.
    Gathering,
    /// An item is complete but not handed out yet: the first object, until the bytes after it
    /// say whether it is a file of one object or the first line of JSON Lines.
    Held,
}

pub struct ItemBuf {
    bytes: Vec<u8>,
    /// How many bytes the item has, kept or not.
    len: u64,
    state: State,
    /// Whether its bytes are kept: not when it is to be skipped, nor once it is too long.
    keep: bool,
    position: Position,
    max: usize,
}

impl ItemBuf {
    pub fn new(max: usize) -> ItemBuf {
        ItemBuf {
            bytes: Vec::new(),
            len: 0,
            state: State::Closed,
            keep: false,
            position: Position::Line(0),
            max,
        }
    }

    pub fn start(&mut self, position: Position, keep: bool) {
        self.bytes.clear();
        self.len = 0;
        self.state = State::Gathering;
        self.keep = keep;
        self.position = position;
    }

    pub fn position(&self) -> Position {
        self.position
    }

    pub fn is_gathering(&self) -> bool {
        self.state == State::Gathering
    }

    pub fn hold(&mut self) {
        self.state = State::Held;
    }

    /// Closes the item without handing it out: it turned out to be no item (a `Records`
    /// wrapper), or it is skipped.
    pub fn close(&mut self) {
        self.bytes.clear();
        self.state = State::Closed;
    }

    /// Adds a run of the item's bytes.
    pub fn extend(&mut self, run: &[u8]) {
        self.len += run.len() as u64;
        if !self.keep {
            return;
        }
        if self.len > self.max as u64 {
            // Too long: from here on only its length is counted.
            self.keep = false;
            self.bytes.clear();
            return;
        }
        self.reserve(run.len());
        self.bytes.extend_from_slice(run);
    }

    /// Closes the item, `tail` its last run, and gives its text without trailing whitespace.
    pub fn finish<'a>(&'a mut self, tail: &'a [u8]) -> Result<&'a str, ItemError> {
        self.state = State::Closed;
        let bytes = self.len + tail.len() as u64;
        if bytes > self.max as u64 {
            return Err(ItemError::TooLong { bytes, limit: self.max });
        }
        let text = if self.bytes.is_empty() {
            tail
        } else {
            self.reserve(tail.len());
            self.bytes.extend_from_slice(tail);
            &self.bytes
        };
        std::str::from_utf8(text.trim_ascii_end())
            .map_err(|error| ItemError::NotUtf8 { valid_up_to: error.valid_up_to() })
    }

    /// The memory the buffer holds.
    pub fn capacity(&self) -> usize {
        self.bytes.capacity()
    }

    /// Room for `more` bytes, growing by doubling but never past the limit, which the item
    /// has been checked to fit.
    fn reserve(&mut self, more: usize) {
        let needed = self.bytes.len() + more;
        if needed > self.bytes.capacity() {
            let wanted = needed.max(self.bytes.capacity() * 2).min(self.max);
            self.bytes.reserve_exact(wanted - self.bytes.len());
        }
    }
}

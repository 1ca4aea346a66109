//! gzip, inflated as its bytes arrive: every member to its end, each checked against its CRC-32
//! and length, with output in slices of at most [`OUT_BYTES`].
//!
//! The members' framing (RFC 1952) is read here and only the deflate data goes to flate2's
//! `Decompress`. flate2's own `write::MultiGzDecoder` reads every member too, but it names
//! failures loosely: a file cut inside a member's trailer is reported as a checksum mismatch,
//! and a few bytes of garbage after the last member as an incomplete deflate stream. Reading
//! the framing here says which happened, and bounds each step's output by one buffer.

use flate2::{Crc, Decompress, FlushDecompress, Status};

use super::Unreadable;

/// The most one inflate step writes before its output is handed on.
pub const OUT_BYTES: usize = 32 * 1024;

const MAGIC: [u8; 2] = [0x1f, 0x8b];
const DEFLATE: u8 = 8;
const FHCRC: u8 = 2;
const FEXTRA: u8 = 4;
const FNAME: u8 = 8;
const FCOMMENT: u8 = 16;
const RESERVED: u8 = 0xe0;

/// Where in a member the next byte falls.
#[derive(Debug, Clone, Copy)]
enum State {
    /// The 10 fixed bytes of a header: magic, method, flags, time, extra flags, OS.
    Fixed {
        bytes: [u8; 10],
        have: usize,
    },
    /// The 2-byte length of the extra field, then the field.
    ExtraLength {
        low: Option<u8>,
        flags: u8,
    },
    Extra {
        left: usize,
        flags: u8,
    },
    /// A zero-terminated file name, then a zero-terminated comment.
    Name {
        flags: u8,
    },
    Comment {
        flags: u8,
    },
    HeaderCrc {
        left: usize,
    },
    Deflate,
    /// CRC-32 and length of the data, little-endian.
    Trailer {
        bytes: [u8; 8],
        have: usize,
    },
}

/// A gzip stream of any number of members, inflated as it arrives.
pub struct Gunzip {
    state: State,
    inflate: Decompress,
    crc: Crc,
    out: Box<[u8]>,
    members: u64,
}

impl Gunzip {
    pub fn new() -> Gunzip {
        Gunzip {
            state: State::Fixed { bytes: [0; 10], have: 0 },
            inflate: Decompress::new(false),
            crc: Crc::new(),
            out: vec![0; OUT_BYTES].into_boxed_slice(),
            members: 0,
        }
    }

    /// The members read to their end so far.
    pub fn members(&self) -> u64 {
        self.members
    }

    /// The memory the inflated output takes while it is handed on.
    pub fn buffered_bytes(&self) -> usize {
        self.out.len()
    }

    /// Inflates `input`, handing each piece of output to `text` as it comes.
    pub fn push(
        &mut self,
        mut input: &[u8],
        text: &mut dyn FnMut(&[u8]) -> Result<(), Unreadable>,
    ) -> Result<(), Unreadable> {
        while let Some((&byte, rest)) = input.split_first() {
            if let State::Deflate = self.state {
                input = self.inflate(input, text)?;
            } else {
                self.framing(byte)?;
                input = rest;
            }
        }
        Ok(())
    }

    /// The stream must end between members: anywhere else it was cut short.
    pub fn finish(&self) -> Result<(), Unreadable> {
        match self.state {
            State::Fixed { have: 0, .. } => Ok(()),
            _ => Err(Unreadable::GzipTruncated),
        }
    }

    /// One byte of a header or trailer.
    fn framing(&mut self, byte: u8) -> Result<(), Unreadable> {
        self.state = match self.state {
            State::Fixed { mut bytes, have } => {
                bytes[have] = byte;
                if have < 2 && byte != MAGIC[have] {
                    // Only a second member may follow a member; anything else would be dropped.
                    let after = self.members > 0;
                    return Err(if after { Unreadable::DataAfterGzip } else { Unreadable::GzipHeader });
                }
                if have == 3 && (bytes[2] != DEFLATE || bytes[3] & RESERVED != 0) {
                    return Err(Unreadable::GzipHeader);
                }
                match have + 1 {
                    10 => after_header(bytes[3]),
                    have => State::Fixed { bytes, have },
                }
            }
            State::ExtraLength { low: None, flags } => State::ExtraLength { low: Some(byte), flags },
            State::ExtraLength { low: Some(low), flags } => {
                let left = usize::from(u16::from_le_bytes([low, byte]));
                if left == 0 {
                    after_header(flags & !FEXTRA)
                } else {
                    State::Extra { left, flags }
                }
            }
            State::Extra { left: 1, flags } => after_header(flags & !FEXTRA),
            State::Extra { left, flags } => State::Extra { left: left - 1, flags },
            State::Name { flags } if byte == 0 => after_header(flags & !FNAME),
            State::Comment { flags } if byte == 0 => after_header(flags & !FCOMMENT),
            state @ (State::Name { .. } | State::Comment { .. }) => state,
            // The header's own CRC is optional and rarely written; a damaged header shows in
            // the data's CRC-32 anyway.
            State::HeaderCrc { left: 1 } => State::Deflate,
            State::HeaderCrc { left } => State::HeaderCrc { left: left - 1 },
            State::Trailer { mut bytes, have } => {
                bytes[have] = byte;
                if have + 1 < bytes.len() {
                    State::Trailer { bytes, have: have + 1 }
                } else {
                    self.end_member(bytes)?;
                    State::Fixed { bytes: [0; 10], have: 0 }
                }
            }
            State::Deflate => unreachable!("deflate data is read by inflate"),
        };
        Ok(())
    }

    /// Inflates deflate data until it ends or `input` is used up; returns what follows it.
    fn inflate<'a>(
        &mut self,
        mut input: &'a [u8],
        text: &mut dyn FnMut(&[u8]) -> Result<(), Unreadable>,
    ) -> Result<&'a [u8], Unreadable> {
        loop {
            let (before_in, before_out) = (self.inflate.total_in(), self.inflate.total_out());
            let status = self
                .inflate
                .decompress(input, &mut self.out, FlushDecompress::None)
                .map_err(|_| Unreadable::GzipCorrupt)?;
            // Both are at most the slices' lengths, which are usizes.
            let consumed = (self.inflate.total_in() - before_in) as usize;
            let produced = (self.inflate.total_out() - before_out) as usize;
            input = &input[consumed..];
            if produced > 0 {
                self.crc.update(&self.out[..produced]);
                text(&self.out[..produced])?;
            }
            if status == Status::StreamEnd {
                self.state = State::Trailer { bytes: [0; 8], have: 0 };
                return Ok(input);
            }
            if consumed == 0 && produced == 0 {
                // With input left and room for output, inflating always moves on.
                return if input.is_empty() { Ok(input) } else { Err(Unreadable::GzipCorrupt) };
            }
        }
    }

    fn end_member(&mut self, trailer: [u8; 8]) -> Result<(), Unreadable> {
        let [c0, c1, c2, c3, l0, l1, l2, l3] = trailer;
        if u32::from_le_bytes([c0, c1, c2, c3]) != self.crc.sum() {
            return Err(Unreadable::GzipChecksum);
        }
        // ISIZE is the length modulo 2^32, as Crc::amount counts it.
        if u32::from_le_bytes([l0, l1, l2, l3]) != self.crc.amount() {
            return Err(Unreadable::GzipLength);
        }
        self.members += 1;
        self.crc.reset();
        self.inflate.reset(false);
        Ok(())
    }
}

/// The first optional header part `flags` still announce, or the deflate data.
fn after_header(flags: u8) -> State {
    if flags & FEXTRA != 0 {
        State::ExtraLength { low: None, flags }
    } else if flags & FNAME != 0 {
        State::Name { flags }
    } else if flags & FCOMMENT != 0 {
        State::Comment { flags }
    } else if flags & FHCRC != 0 {
        State::HeaderCrc { left: 2 }
    } else {
        State::Deflate
    }
}

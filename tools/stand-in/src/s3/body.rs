//! The body of an object version: bytes in memory, a file, or bytes generated when read, so a
//! test or benchmark can serve an object of gigabytes without ever holding it. A *pattern*
//! computes the bytes at any offset (a range costs nothing); a *chunk* generator is run from
//! its start on every read (for content that only exists as a stream, such as gzip) and skips
//! what comes before a range. Bodies are read in pieces of at most [`CHUNK`] bytes.

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use md5::{Digest, Md5};

/// The most bytes a body hands over at once.
pub const CHUNK: usize = 64 * 1024;

type Pattern = Arc<dyn Fn(u64, &mut [u8]) + Send + Sync>;
type Chunks = Arc<dyn Fn() -> Box<dyn Iterator<Item = Vec<u8>> + Send> + Send + Sync>;

/// The content of one object version.
#[derive(Clone)]
pub struct ObjectBody {
    source: Source,
    len: u64,
}

#[derive(Clone)]
enum Source {
    Bytes(Arc<[u8]>),
    Pattern(Pattern),
    Chunks(Chunks),
    /// The file's MD5 is taken when it is added, so a put cannot fail.
    File {
        path: PathBuf,
        md5: [u8; 16],
    },
}

impl fmt::Debug for ObjectBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.source {
            Source::Bytes(_) => "bytes",
            Source::Pattern(_) => "pattern",
            Source::Chunks(_) => "chunks",
            Source::File { .. } => "file",
        };
        write!(f, "ObjectBody({kind}, {} bytes)", self.len)
    }
}

impl ObjectBody {
    /// A body held in memory.
    pub fn bytes(bytes: impl Into<Vec<u8>>) -> ObjectBody {
        let bytes: Arc<[u8]> = bytes.into().into();
        ObjectBody { len: bytes.len() as u64, source: Source::Bytes(bytes) }
    }

    /// `len` bytes computed on demand: `fill(offset, buffer)` writes the bytes that start at
    /// `offset` into `buffer`, for any offset, the same every time.
    ///
    /// ```
    /// # use cloudtrail_data_stand_in::s3::ObjectBody;
    /// // 2 GB of b'a'..=b'z' repeated, never in memory.
    /// let body = ObjectBody::pattern(2_000_000_000, |offset, buffer| {
    ///     for (i, byte) in buffer.iter_mut().enumerate() {
    ///         *byte = b'a' + ((offset + i as u64) % 26) as u8;
    ///     }
    /// });
    /// assert_eq!(body.len(), 2_000_000_000);
    /// ```
    pub fn pattern(len: u64, fill: impl Fn(u64, &mut [u8]) + Send + Sync + 'static) -> ObjectBody {
        ObjectBody { len, source: Source::Pattern(Arc::new(fill)) }
    }

    /// Bytes generated as a stream: `make()` starts the stream anew for every read and must
    /// yield the same bytes each time. It is run once here to learn the length (a stream whose
    /// length is known only at its end, such as gzip, cannot say it beforehand).
    pub fn chunks<I>(make: impl Fn() -> I + Send + Sync + 'static) -> ObjectBody
    where
        I: Iterator<Item = Vec<u8>> + Send + 'static,
    {
        let len = make().map(|chunk| chunk.len() as u64).sum();
        ObjectBody { len, source: Source::Chunks(Arc::new(move || Box::new(make()))) }
    }

    /// The content of a file, read when the object is: the CLI serves a directory so. The
    /// file is read once here for its MD5.
    pub fn file(path: impl Into<PathBuf>) -> io::Result<ObjectBody> {
        let path = path.into();
        let len = std::fs::metadata(&path)?.len();
        let md5 = md5_of_file(&path)?;
        Ok(ObjectBody { len, source: Source::File { path, md5 } })
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The MD5 of the content, for the ETag of a single-part upload; `None` for generated
    /// content, whose MD5 would cost a read of all of it.
    pub(super) fn md5(&self) -> Option<[u8; 16]> {
        match &self.source {
            Source::Bytes(bytes) => Some(Md5::digest(bytes).into()),
            Source::File { md5, .. } => Some(*md5),
            Source::Pattern(_) | Source::Chunks(_) => None,
        }
    }

    /// Reads bytes `first..end` in pieces.
    pub fn reader(&self, first: u64, end: u64) -> io::Result<BodyReader> {
        let end = end.min(self.len);
        let position = first.min(end);
        let source = match &self.source {
            Source::Bytes(bytes) => Reading::Bytes(bytes.clone()),
            Source::Pattern(fill) => Reading::Pattern(fill.clone()),
            Source::Chunks(make) => Reading::Chunks { chunks: make(), at: 0, pending: Vec::new() },
            Source::File { path, .. } => {
                let mut file = File::open(path)?;
                file.seek(SeekFrom::Start(position))?;
                Reading::File(file)
            }
        };
        Ok(BodyReader { source, position, end })
    }
}

impl From<Vec<u8>> for ObjectBody {
    fn from(bytes: Vec<u8>) -> ObjectBody {
        ObjectBody::bytes(bytes)
    }
}

impl From<&[u8]> for ObjectBody {
    fn from(bytes: &[u8]) -> ObjectBody {
        ObjectBody::bytes(bytes)
    }
}

impl From<&str> for ObjectBody {
    fn from(text: &str) -> ObjectBody {
        ObjectBody::bytes(text)
    }
}

impl From<String> for ObjectBody {
    fn from(text: String) -> ObjectBody {
        ObjectBody::bytes(text)
    }
}

fn md5_of_file(path: &Path) -> io::Result<[u8; 16]> {
    let mut file = File::open(path)?;
    let mut hasher = Md5::new();
    let mut buffer = vec![0; CHUNK];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            return Ok(hasher.finalize().into());
        }
        hasher.update(&buffer[..read]);
    }
}

/// Reads a range of a body, a piece at a time.
pub struct BodyReader {
    source: Reading,
    position: u64,
    end: u64,
}

enum Reading {
    Bytes(Arc<[u8]>),
    Pattern(Pattern),
    /// `at` is the offset of the stream's next byte; `pending` what it yielded beyond the
    /// last piece handed over.
    Chunks {
        chunks: Box<dyn Iterator<Item = Vec<u8>> + Send>,
        at: u64,
        pending: Vec<u8>,
    },
    /// Read with blocking calls: the files the CLI serves are local and small reads of them do
    /// not hold up the server's other connections noticeably.
    File(File),
}

impl BodyReader {
    /// The next piece of at most [`CHUNK`] bytes; `None` at the end of the range. A chunk
    /// generator that stops short of the length it had the first time ends the body early, as
    /// a dropped connection would.
    pub fn next_chunk(&mut self) -> io::Result<Option<Vec<u8>>> {
        let want = (self.end - self.position).min(CHUNK as u64) as usize;
        if want == 0 {
            return Ok(None);
        }
        let chunk = match &mut self.source {
            Reading::Bytes(bytes) => bytes[self.position as usize..][..want].to_vec(),
            Reading::Pattern(fill) => {
                let mut buffer = vec![0; want];
                fill(self.position, &mut buffer);
                buffer
            }
            Reading::Chunks { chunks, at, pending } => {
                match next_from_stream(chunks.as_mut(), at, pending, self.position, want) {
                    Some(chunk) => chunk,
                    None => return Ok(None),
                }
            }
            Reading::File(file) => {
                let mut buffer = vec![0; want];
                let read = file.read(&mut buffer)?;
                if read == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                buffer.truncate(read);
                buffer
            }
        };
        self.position += chunk.len() as u64;
        Ok(Some(chunk))
    }
}

/// The stream's bytes from `position`, at most `want` of them: skips what lies before
/// `position`, keeps what lies beyond the piece for the next call.
fn next_from_stream(
    chunks: &mut (dyn Iterator<Item = Vec<u8>> + Send),
    at: &mut u64,
    pending: &mut Vec<u8>,
    position: u64,
    want: usize,
) -> Option<Vec<u8>> {
    while pending.is_empty() {
        let chunk = chunks.next()?;
        let start = *at;
        *at += chunk.len() as u64;
        if *at > position {
            let skip = position.saturating_sub(start) as usize;
            *pending = chunk;
            pending.drain(..skip);
        }
    }
    let take = want.min(pending.len());
    let rest = pending.split_off(take);
    Some(std::mem::replace(pending, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(body: &ObjectBody, first: u64, end: u64) -> Vec<u8> {
        let mut reader = body.reader(first, end).unwrap();
        let mut out = Vec::new();
        while let Some(chunk) = reader.next_chunk().unwrap() {
            assert!(chunk.len() <= CHUNK);
            out.extend(chunk);
        }
        out
    }

    fn counting(len: u64) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn every_kind_of_body_reads_the_same_bytes_in_any_range() {
        let len = 3 * CHUNK as u64 + 17;
        let expected = counting(len);
        let chunked = expected.clone();
        let bodies = [
            ObjectBody::bytes(expected.clone()),
            ObjectBody::pattern(len, |offset, buffer| {
                for (i, byte) in buffer.iter_mut().enumerate() {
                    *byte = ((offset + i as u64) % 251) as u8;
                }
            }),
            // Uneven pieces, so ranges start and end inside them.
            ObjectBody::chunks(move || {
                chunked.chunks(1000).map(<[u8]>::to_vec).collect::<Vec<_>>().into_iter()
            }),
        ];
        for body in &bodies {
            assert_eq!(body.len(), len, "{body:?}");
            for (first, end) in [(0, len), (1500, len), (10, 2010), (len - 1, len), (70_000, 140_000)] {
                assert_eq!(read_all(body, first, end), expected[first as usize..end as usize], "{body:?}");
            }
        }
    }

    #[test]
    fn a_file_body_reads_a_range_of_the_file() {
        let path = std::env::temp_dir().join(format!("s3-stand-in-body-{}", std::process::id()));
        std::fs::write(&path, b"0123456789").unwrap();
        let body = ObjectBody::file(&path).unwrap();
        assert_eq!(read_all(&body, 3, 7), b"3456");
        std::fs::remove_file(&path).unwrap();
    }
}

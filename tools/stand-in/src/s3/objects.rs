//! What the S3 stand-in holds: buckets, the versions of each key, and each version's body.
//!
//! A body is bytes in memory, a file, or bytes generated when read, so a test or benchmark can
//! serve an object of gigabytes without ever holding it: a *pattern* computes the bytes at any
//! offset (a range costs nothing), a *chunk* generator is run from its start on every read (for
//! content that only exists as a stream, such as gzip) and skips what comes before a range.
//! Bodies are read in pieces of at most [`CHUNK`] bytes.
//!
//! Versioning follows S3: in a bucket without it a put replaces the object and no version id
//! is given; with it, every put adds a version, a delete adds a delete marker, and the newest
//! version is the object.

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use md5::{Digest, Md5};

use super::error::S3Error;
use crate::sigv4::hex;

/// The most bytes a body hands over at once.
pub const CHUNK: usize = 64 * 1024;

/// The part size an SDK or the CLI uploads large objects with: a generated object's ETag
/// looks like a multipart upload's of this part size.
const PART_SIZE: u64 = 8 * 1024 * 1024;

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
    fn md5(&self) -> Option<[u8; 16]> {
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

/// One version of an object, or a delete marker.
#[derive(Debug, Clone)]
pub struct Version {
    /// `None` in a bucket without versioning.
    pub id: Option<String>,
    /// Quoted, as in the `ETag` header.
    pub etag: String,
    /// `None` for a delete marker.
    pub body: Option<ObjectBody>,
    pub content_type: String,
    pub last_modified: SystemTime,
}

#[derive(Debug, Default)]
struct Bucket {
    versioned: bool,
    /// Each key's versions, oldest first.
    objects: HashMap<String, Vec<Version>>,
}

/// Every bucket and what is in it.
#[derive(Debug, Default)]
pub struct Store {
    buckets: HashMap<String, Bucket>,
    /// Counts versions, to make version ids and generated ETags unique.
    serial: u64,
}

impl Store {
    /// Makes the bucket if it does not exist; turns versioning on when `versioned`. (S3 cannot
    /// turn it off again, only suspend it; the stand-in has no need to.)
    pub fn create_bucket(&mut self, bucket: &str, versioned: bool) {
        let entry = self.buckets.entry(bucket.to_owned()).or_default();
        entry.versioned |= versioned;
    }

    /// Adds a version of `key` (replacing the object where versioning is off); makes the
    /// bucket if needed.
    pub fn put(&mut self, bucket: &str, key: &str, body: ObjectBody, content_type: &str) -> Version {
        self.serial += 1;
        let identity = Md5::digest(format!("{bucket}/{key}#{}", self.serial));
        let etag = match body.md5() {
            Some(md5) => format!("\"{}\"", hex(&md5)),
            None => format!("\"{}-{}\"", hex(&identity), body.len().div_ceil(PART_SIZE).max(1)),
        };
        let stored = self.buckets.entry(bucket.to_owned()).or_default();
        let version = Version {
            id: stored.versioned.then(|| version_id(&identity)),
            etag,
            body: Some(body),
            content_type: content_type.to_owned(),
            last_modified: SystemTime::now(),
        };
        let versions = stored.objects.entry(key.to_owned()).or_default();
        if !stored.versioned {
            versions.clear();
        }
        versions.push(version.clone());
        version
    }

    /// Deletes `key`: with versioning, adds a delete marker and keeps the versions; without,
    /// removes the object. Returns the marker's version id.
    pub fn delete(&mut self, bucket: &str, key: &str) -> Option<String> {
        self.serial += 1;
        let identity = Md5::digest(format!("{bucket}/{key}#{}", self.serial));
        let stored = self.buckets.get_mut(bucket)?;
        if !stored.versioned {
            stored.objects.remove(key);
            return None;
        }
        let id = version_id(&identity);
        stored.objects.entry(key.to_owned()).or_default().push(Version {
            id: Some(id.clone()),
            etag: String::new(),
            body: None,
            content_type: String::new(),
            last_modified: SystemTime::now(),
        });
        Some(id)
    }

    /// The version a GetObject for `bucket`, `key` and `version_id` reads, or S3's error.
    pub fn find(&self, bucket: &str, key: &str, version_id: Option<&str>) -> Result<&Version, S3Error> {
        let stored = self.buckets.get(bucket).ok_or(S3Error::NoSuchBucket)?;
        let versions = stored.objects.get(key).map(Vec::as_slice).unwrap_or_default();
        let Some(wanted) = version_id else {
            return versions.last().filter(|version| version.body.is_some()).ok_or(S3Error::NoSuchKey);
        };
        if !stored.versioned {
            // An object put without versioning is version "null"; no other id can exist.
            return match (wanted, versions.last()) {
                ("null", Some(version)) => Ok(version),
                ("null", None) => Err(S3Error::NoSuchVersion),
                _ => Err(S3Error::InvalidVersionId),
            };
        }
        let version = versions
            .iter()
            .find(|version| version.id.as_deref() == Some(wanted))
            .ok_or(S3Error::NoSuchVersion)?;
        match version.body {
            Some(_) => Ok(version),
            None => Err(S3Error::MethodNotAllowed),
        }
    }
}

/// A version id as S3's look: 32 URL-safe characters, `.` and `_` among them, so a client that
/// encodes or trims them wrongly is caught.
fn version_id(identity: &[u8]) -> String {
    let hex = hex(identity);
    format!("{}.{}_{}", &hex[..10], &hex[10..20], &hex[20..30])
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

    #[test]
    fn the_etag_of_bytes_is_their_quoted_md5() {
        let mut store = Store::default();
        let version = store.put("b", "k", ObjectBody::bytes("hello"), "text/plain");
        assert_eq!(version.etag, "\"5d41402abc4b2a76b9719d911017c592\"");
        assert_eq!(version.id, None);
    }

    #[test]
    fn a_generated_objects_etag_looks_like_a_multipart_uploads() {
        let mut store = Store::default();
        let body = ObjectBody::pattern(20 * 1024 * 1024, |_, buffer| buffer.fill(b'x'));
        let etag = store.put("b", "k", body, "").etag;
        assert!(etag.starts_with('"') && etag.ends_with("-3\""), "{etag}");
    }

    #[test]
    fn a_versioned_bucket_keeps_every_version_and_serves_the_newest() {
        let mut store = Store::default();
        store.create_bucket("b", true);
        let first = store.put("b", "k", "one".into(), "");
        let second = store.put("b", "k", "two".into(), "");
        assert_ne!(first.id, second.id);
        assert_eq!(store.find("b", "k", None).unwrap().etag, second.etag);
        assert_eq!(store.find("b", "k", first.id.as_deref()).unwrap().etag, first.etag);
        assert_eq!(store.find("b", "k", Some("nope")).unwrap_err(), S3Error::NoSuchVersion);
    }

    #[test]
    fn a_delete_marker_hides_the_object_but_not_its_versions() {
        let mut store = Store::default();
        store.create_bucket("b", true);
        let kept = store.put("b", "k", "one".into(), "");
        let marker = store.delete("b", "k");
        assert_eq!(store.find("b", "k", None).unwrap_err(), S3Error::NoSuchKey);
        assert!(store.find("b", "k", kept.id.as_deref()).is_ok());
        assert_eq!(store.find("b", "k", marker.as_deref()).unwrap_err(), S3Error::MethodNotAllowed);
    }

    #[test]
    fn without_versioning_a_put_replaces_and_only_null_is_a_version() {
        let mut store = Store::default();
        store.put("b", "k", "one".into(), "");
        let second = store.put("b", "k", "two".into(), "");
        assert_eq!(store.find("b", "k", None).unwrap().etag, second.etag);
        assert_eq!(store.find("b", "k", Some("null")).unwrap().etag, second.etag);
        assert_eq!(store.find("b", "k", Some("abc")).unwrap_err(), S3Error::InvalidVersionId);
    }

    #[test]
    fn missing_buckets_and_keys_are_told_apart() {
        let mut store = Store::default();
        store.create_bucket("b", false);
        assert_eq!(store.find("b", "k", None).unwrap_err(), S3Error::NoSuchKey);
        assert_eq!(store.find("c", "k", None).unwrap_err(), S3Error::NoSuchBucket);
    }
}

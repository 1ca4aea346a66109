//! The S3 stand-in: `GetObject` (and `HeadObject`) on 127.0.0.1 for the real `aws-sdk-s3`
//! client, with path-style addressing (`GET /{bucket}/{key}`, as the SDK sends with
//! `force_path_style(true)` or an IP-address endpoint).
//!
//! It checks each request as S3 does (SigV4 for service `s3` with the crate's dummy
//! credentials, `x-amz-content-sha256`), then serves the version asked for (`versionId`), if
//! its ETag is the one `If-Match` names, in the `Range` asked for, streaming the body a piece
//! at a time so a generated object of gigabytes is never in memory. Errors come in S3's XML.
//! Faults are scripted per request ([`S3StandIn::fail`]): an error a number of times, a hang,
//! a connection dropped partway through a body, a slow body. Every request is recorded, so a
//! test can say what was fetched and what never was.
//!
//! - [`body`]: an object's bytes: in memory, a file, or generated when read.
//! - [`objects`]: buckets and versions.
//! - [`range`]: what a `Range` header selects.
//! - [`error`]: S3's error codes, statuses and XML.
//! - [`notification`]: the event notification S3 sends for the objects put, for a test's
//!   Lambda event.
//! - `serve`: the connection loop and the GetObject checks, in S3's order.

pub mod body;
pub mod error;
pub mod notification;
pub mod objects;
pub mod range;
mod serve;

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use body::ObjectBody;
pub use error::S3Error;
pub use notification::{event_notification, notification_key};

use crate::script::Script;
use objects::Store;

/// The Region the stand-in's buckets are in: requests must be signed for it.
pub const REGION: &str = "us-east-1";

/// The `Content-Type` of objects put without one, as S3 gives them.
pub const DEFAULT_CONTENT_TYPE: &str = "binary/octet-stream";

/// Which requests a scripted fault applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Any,
    Bucket(String),
    Object { bucket: String, key: String },
}

impl Target {
    pub fn bucket(bucket: &str) -> Target {
        Target::Bucket(bucket.to_owned())
    }

    pub fn object(bucket: &str, key: &str) -> Target {
        Target::Object { bucket: bucket.to_owned(), key: key.to_owned() }
    }

    fn applies(&self, bucket: &str, key: &str) -> bool {
        match self {
            Target::Any => true,
            Target::Bucket(name) => name == bucket,
            Target::Object { bucket: name, key: object } => name == bucket && object == key,
        }
    }
}

/// What a request meets instead of, or on top of, the normal answer. Scripted faults apply
/// after the signature is checked: a badly signed request is refused whatever the script says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum S3Fault {
    /// Answer this error.
    Error(S3Error),
    /// Never answer: the request waits until the client gives up and closes the connection.
    Hang,
    /// Answer normally, but close the connection after this many bytes of the body: the
    /// client has the head and `Content-Length`, and sees the body end early.
    DropAfter(u64),
    /// Answer normally, writing the body `chunk` bytes at a time with `pause` before each.
    SlowBody { chunk: usize, pause: Duration },
}

/// A version as put: what a test writes into the event notification that names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectVersion {
    pub bucket: String,
    pub key: String,
    /// Quoted, as in the `ETag` header and `If-Match`.
    pub etag: String,
    /// `None` in a bucket without versioning.
    pub version_id: Option<String>,
    pub size: u64,
}

impl ObjectVersion {
    /// The ETag without its quotes, as event notifications (`eTag`) and EventBridge (`etag`)
    /// carry it.
    pub fn etag_unquoted(&self) -> &str {
        self.etag.trim_matches('"')
    }
}

/// What the stand-in saw of one request, recorded when it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Request {
    pub method: String,
    /// The bucket and key, decoded from the path.
    pub bucket: String,
    pub key: String,
    /// The path and query string as sent (still percent-encoded).
    pub path: String,
    pub query: String,
    pub version_id: Option<String>,
    pub range: Option<String>,
    pub if_match: Option<String>,
    /// The status answered, from when its head is written; `None` before, or when it never
    /// was (a hang).
    pub status: Option<u16>,
    /// The S3 error code answered.
    pub error: Option<String>,
    /// Body bytes written: less than the `Content-Length` when the connection was dropped.
    pub body_bytes: u64,
    /// Whether the stand-in is done with it: answered in full, cut off by a dropped
    /// connection, or (a hang) given up on by the client.
    pub complete: bool,
    pub arrived_at: Instant,
}

#[derive(Default)]
struct State {
    store: Store,
    script: Script<Target, S3Fault>,
    requests: Vec<S3Request>,
}

/// A running S3 stand-in. Dropping it stops the server.
pub struct S3StandIn {
    address: SocketAddr,
    state: Arc<Mutex<State>>,
    server: JoinHandle<()>,
}

impl Drop for S3StandIn {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl S3StandIn {
    /// Starts a stand-in on a free port of 127.0.0.1.
    pub async fn start() -> io::Result<S3StandIn> {
        S3StandIn::start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts a stand-in on `address`, which must be a loopback address.
    pub async fn start_on(address: SocketAddr) -> io::Result<S3StandIn> {
        if !address.ip().is_loopback() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the stand-in only listens on loopback addresses",
            ));
        }
        let listener = TcpListener::bind(address).await?;
        let address = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::default()));
        let server = tokio::spawn(serve::serve(listener, state.clone()));
        Ok(S3StandIn { address, state, server })
    }

    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL_S3` (with path-style addressing).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Makes an empty bucket without versioning (putting an object makes its bucket too).
    pub fn create_bucket(&self, bucket: &str) {
        self.state().store.create_bucket(bucket, false);
    }

    /// Makes a bucket with versioning, or turns it on for an existing one: from then on every
    /// put adds a version with an id.
    pub fn create_versioned_bucket(&self, bucket: &str) {
        self.state().store.create_bucket(bucket, true);
    }

    /// Puts an object (a new version in a versioned bucket) with S3's default content type.
    pub fn put_object(&self, bucket: &str, key: &str, body: impl Into<ObjectBody>) -> ObjectVersion {
        self.put_object_typed(bucket, key, body, DEFAULT_CONTENT_TYPE)
    }

    /// Puts an object with a `Content-Type`.
    pub fn put_object_typed(
        &self,
        bucket: &str,
        key: &str,
        body: impl Into<ObjectBody>,
        content_type: &str,
    ) -> ObjectVersion {
        let body = body.into();
        let size = body.len();
        let version = self.state().store.put(bucket, key, body, content_type);
        ObjectVersion {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            etag: version.etag,
            version_id: version.id,
            size,
        }
    }

    /// Puts every file under `dir` as an object: each directory in `dir` is a bucket, each
    /// file below it an object whose key is its path from the bucket's directory, with `/`
    /// between names (`dir/audit/2026/11/a.json.gz` is `audit`, `2026/11/a.json.gz`). Files
    /// are read when requested, not now (once, for their MD5). Returns what was put, in
    /// key order.
    pub fn put_directory(&self, dir: &Path) -> io::Result<Vec<ObjectVersion>> {
        let mut put = Vec::new();
        for entry in sorted_entries(dir)? {
            if entry.is_dir() {
                let bucket = file_name(&entry);
                self.create_bucket(&bucket);
                for (key, path) in files_below(&entry, "")? {
                    put.push(self.put_object(&bucket, &key, ObjectBody::file(path)?));
                }
            }
        }
        Ok(put)
    }

    /// Deletes an object: in a versioned bucket, adds a delete marker (older versions can still
    /// be read by id) and returns its version id.
    pub fn delete_object(&self, bucket: &str, key: &str) -> Option<String> {
        self.state().store.delete(bucket, key)
    }

    /// The next `times` requests that `target` applies to meet `fault`, after the faults
    /// scripted before it ([`crate::script::ALWAYS`] for every one).
    pub fn fail(&self, target: Target, fault: S3Fault, times: usize) {
        self.state().script.push(target, fault, times);
    }

    /// Every request seen so far, in arrival order.
    pub fn requests(&self) -> Vec<S3Request> {
        self.state().requests.clone()
    }

    /// The requests that arrived after the first `from`: what a watcher that has seen `from`
    /// of them has not seen yet.
    pub fn requests_since(&self, from: usize) -> Vec<S3Request> {
        self.state().requests.get(from..).map(<[S3Request]>::to_vec).unwrap_or_default()
    }

    /// The requests for one bucket: none, for a bucket the code under test must refuse.
    pub fn requests_for(&self, bucket: &str) -> Vec<S3Request> {
        self.state().requests.iter().filter(|request| request.bucket == bucket).cloned().collect()
    }

    /// Forgets the requests seen and the faults not yet met; objects stay.
    pub fn reset(&self) {
        let mut state = self.state();
        state.requests.clear();
        state.script.clear();
    }
}

fn sorted_entries(dir: &Path) -> io::Result<Vec<std::path::PathBuf>> {
    let mut entries = std::fs::read_dir(dir)?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<io::Result<Vec<_>>>()?;
    entries.sort();
    Ok(entries)
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Every file below `dir`, with its key: `prefix` and the path from `dir`, `/`-separated.
fn files_below(dir: &Path, prefix: &str) -> io::Result<Vec<(String, std::path::PathBuf)>> {
    let mut files = Vec::new();
    for path in sorted_entries(dir)? {
        let key = format!("{prefix}{}", file_name(&path));
        if path.is_dir() {
            files.extend(files_below(&path, &format!("{key}/"))?);
        } else {
            files.push((key, path));
        }
    }
    Ok(files)
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_directory_is_served_as_buckets_of_files() {
        let dir = std::env::temp_dir().join(format!("s3-stand-in-dir-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("audit/2026/11")).unwrap();
        std::fs::create_dir_all(dir.join("empty")).unwrap();
        std::fs::write(dir.join("audit/2026/11/a b+c.json"), "hello").unwrap();
        std::fs::write(dir.join("audit/top.json"), "x").unwrap();
        std::fs::write(dir.join("not-a-bucket.txt"), "x").unwrap();

        let s3 = S3StandIn::start().await.unwrap();
        let put = s3.put_directory(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();

        let keys: Vec<(&str, &str)> = put.iter().map(|put| (put.bucket.as_str(), put.key.as_str())).collect();
        assert_eq!(keys, [("audit", "2026/11/a b+c.json"), ("audit", "top.json")]);
        assert_eq!(put[0].etag, "\"5d41402abc4b2a76b9719d911017c592\"", "the file's MD5");
        assert!(s3.state().store.find("empty", "k", None).is_err_and(|error| error == S3Error::NoSuchKey));
    }
}

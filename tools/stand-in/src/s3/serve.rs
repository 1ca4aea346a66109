//! The S3 stand-in's connections: read a request, decide its answer under the lock (checks in
//! S3's order: the operation, the signature, the payload hash, the scripted fault, the
//! version, `If-Match`, the range), then write it without the lock, streaming an object's body
//! a piece at a time so that neither a large object nor a slow client holds up the others.

use std::io;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

use super::body::{BodyReader, ObjectBody};
use super::error::{host_id, Resource};
use super::range::{select, Selection};
use super::{lock, S3Error, S3Fault, S3Request, State, REGION};
use crate::cloudtrail::{ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use crate::http::{percent_decode_path, read_request, write_head, write_response, Request, Response};
use crate::sigv4::{self, hex, SignatureError};

/// The longest a hung request waits for its client to give up.
const HANG_LIMIT: Duration = Duration::from_secs(3600);

/// Whether a connection can take another request.
enum Next {
    KeepOpen,
    Close,
}

/// What to answer, decided under the lock.
enum Plan {
    Error(S3Error),
    Hang,
    NotModified(Vec<(&'static str, String)>),
    Object {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: ObjectBody,
        first: u64,
        end: u64,
        pacing: Pacing,
    },
}

/// How an object's body is written.
#[derive(Debug, Clone, Copy)]
enum Pacing {
    Full,
    DropAfter(u64),
    Slow { chunk: usize, pause: Duration },
}

pub(super) async fn serve(listener: TcpListener, state: std::sync::Arc<Mutex<State>>) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(connection(stream, state.clone()));
    }
}

async fn connection(stream: TcpStream, state: std::sync::Arc<Mutex<State>>) {
    let _ = stream.set_nodelay(true);
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    while let Ok(Some(request)) = read_request(&mut reader).await {
        match answer(&request, &state, &mut reader, &mut writer).await {
            Ok(Next::KeepOpen) => {}
            Ok(Next::Close) | Err(_) => return,
        }
    }
}

/// The bucket and key of a path-style path, decoded: `/bucket/dir/a%2Bb.gz` is `bucket` and
/// `dir/a+b.gz`.
fn bucket_and_key(path: &str) -> (String, String) {
    let path = path.strip_prefix('/').unwrap_or(path);
    let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
    (percent_decode_path(bucket), percent_decode_path(key))
}

async fn answer(
    request: &Request,
    state: &Mutex<State>,
    reader: &mut BufReader<OwnedReadHalf>,
    writer: &mut OwnedWriteHalf,
) -> io::Result<Next> {
    let (bucket, key) = bucket_and_key(&request.path);
    let version_id = request.query_param("versionId");
    let range = request.header("range").map(str::to_owned);
    let (index, plan) = {
        let mut state = lock(state);
        let index = state.requests.len();
        state.requests.push(S3Request {
            method: request.method.clone(),
            bucket: bucket.clone(),
            key: key.clone(),
            path: request.path.clone(),
            query: request.query.clone(),
            version_id: version_id.clone(),
            range: range.clone(),
            if_match: request.header("if-match").map(str::to_owned),
            status: None,
            error: None,
            body_bytes: 0,
            complete: false,
            arrived_at: Instant::now(),
        });
        let plan = plan(request, &mut state, &bucket, &key, version_id.as_deref());
        (index, plan)
    };
    let request_id = format!("S3STANDIN{:07X}", index + 1);
    let head_only = request.method == "HEAD";
    let resource =
        Resource { bucket: &bucket, key: &key, version_id: version_id.as_deref(), range: range.as_deref() };
    let (status, error, body_bytes, next) = match plan {
        Plan::Error(error) => {
            let written = write_response(writer, &error.response(&resource, &request_id, head_only)).await;
            (Some(error.status()), Some(error.code()), 0, written.map(|()| Next::KeepOpen))
        }
        Plan::Hang => {
            wait_for_close(reader).await;
            (None, None, 0, Ok(Next::Close))
        }
        Plan::NotModified(mut headers) => {
            headers.extend(ids(&request_id));
            let written = write_response(writer, &Response { status: 304, headers, body: Vec::new() }).await;
            (Some(304), None, 0, written.map(|()| Next::KeepOpen))
        }
        Plan::Object { status, mut headers, body, first, end, pacing } => {
            headers.extend(ids(&request_id));
            // The status is known before the body is written: a client that has the head
            // can find it in the log.
            lock(state).requests[index].status = Some(status);
            let (sent, next) = match write_head(writer, status, &headers, end - first).await {
                Ok(()) if head_only => (0, writer.flush().await.map(|()| Next::KeepOpen)),
                Ok(()) => match body.reader(first, end) {
                    Ok(reader) => send_body(writer, reader, pacing).await,
                    Err(error) => (0, Err(error)),
                },
                Err(error) => (0, Err(error)),
            };
            (Some(status), None, sent, next)
        }
    };
    let mut state = lock(state);
    let seen = &mut state.requests[index];
    (seen.status, seen.error, seen.body_bytes, seen.complete) =
        (status, error.map(str::to_owned), body_bytes, true);
    next
}

fn ids(request_id: &str) -> [(&'static str, String); 2] {
    [("x-amz-request-id", request_id.to_owned()), ("x-amz-id-2", host_id(request_id))]
}

/// Decides the answer to a request, in S3's order of checks.
fn plan(request: &Request, state: &mut State, bucket: &str, key: &str, version_id: Option<&str>) -> Plan {
    if !matches!(request.method.as_str(), "GET" | "HEAD") || bucket.is_empty() || key.is_empty() {
        return Plan::Error(S3Error::NotImplemented);
    }
    if let Err(error) = check_signature(request) {
        return Plan::Error(error);
    }
    let mut pacing = Pacing::Full;
    match state.script.take(|target| target.applies(bucket, key)) {
        Some(S3Fault::Error(error)) => return Plan::Error(error),
        Some(S3Fault::Hang) => return Plan::Hang,
        Some(S3Fault::DropAfter(bytes)) => pacing = Pacing::DropAfter(bytes),
        Some(S3Fault::SlowBody { chunk, pause }) => pacing = Pacing::Slow { chunk: chunk.max(1), pause },
        None => {}
    }
    let version = match state.store.find(bucket, key, version_id) {
        Ok(version) => version,
        Err(error) => return Plan::Error(error),
    };
    let Some(body) = version.body.clone() else {
        return Plan::Error(S3Error::NoSuchKey);
    };
    let mut headers = vec![
        ("etag", version.etag.clone()),
        ("last-modified", crate::http::http_date(version.last_modified)),
        ("accept-ranges", "bytes".to_owned()),
    ];
    if let Some(id) = &version.id {
        headers.push(("x-amz-version-id", id.clone()));
    }
    // S3 judges If-Match before the range: a changed object is refused, not cut.
    if let Some(wanted) = request.header("if-match") {
        if !etag_listed(wanted, &version.etag) {
            return Plan::Error(S3Error::PreconditionFailed);
        }
    }
    if let Some(unwanted) = request.header("if-none-match") {
        if etag_listed(unwanted, &version.etag) {
            return Plan::NotModified(headers);
        }
    }
    headers.push(("content-type", version.content_type.clone()));
    let size = body.len();
    let (status, first, end) = match select(request.header("range"), size) {
        Selection::Whole => (200, 0, size),
        Selection::Part { first, last } => {
            headers.push(("content-range", format!("bytes {first}-{last}/{size}")));
            (206, first, last + 1)
        }
        Selection::Unsatisfiable => return Plan::Error(S3Error::InvalidRange { size }),
    };
    Plan::Object { status, headers, body, first, end, pacing }
}

/// Whether an `If-Match`/`If-None-Match` list names `etag`; quotes are optional, as S3 takes
/// an ETag either way, and `*` names any.
fn etag_listed(list: &str, etag: &str) -> bool {
    let bare = etag.trim_matches('"');
    list.split(',')
        .map(|item| item.trim().trim_start_matches("W/").trim_matches('"'))
        .any(|item| item == "*" || item == bare)
}

/// SigV4 for service `s3`, then the payload hash S3 insists on: `x-amz-content-sha256` must be
/// there, and be `UNSIGNED-PAYLOAD` or the body's SHA-256 (the empty body's, for a GET).
fn check_signature(request: &Request) -> Result<(), S3Error> {
    sigv4::verify(request, "s3", REGION, ACCESS_KEY_ID, SECRET_ACCESS_KEY).map_err(|why| match why {
        SignatureError::Missing => S3Error::AccessDenied,
        SignatureError::WrongRegion { signed, expected } => {
            S3Error::AuthorizationHeaderMalformed { signed, expected }
        }
        SignatureError::UnknownAccessKey(_) => S3Error::InvalidAccessKeyId,
        SignatureError::Malformed(_) | SignatureError::Mismatch => S3Error::SignatureDoesNotMatch,
    })?;
    match request.header("x-amz-content-sha256") {
        Some("UNSIGNED-PAYLOAD") => Ok(()),
        Some(hash) if hash == hex(&Sha256::digest(&request.body)) => Ok(()),
        _ => Err(S3Error::ContentSha256Mismatch),
    }
}

/// Writes the body as `pacing` says; returns the bytes written and whether the connection
/// can take another request.
async fn send_body(
    writer: &mut OwnedWriteHalf,
    mut body: BodyReader,
    pacing: Pacing,
) -> (u64, io::Result<Next>) {
    let mut sent = 0u64;
    loop {
        let chunk = match body.next_chunk() {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            // The head promised bytes the body cannot give: only closing can say so.
            Err(error) => return (sent, Err(error)),
        };
        let result = match pacing {
            Pacing::Full => writer.write_all(&chunk).await.map(|()| chunk.len()),
            Pacing::DropAfter(limit) => {
                let take = (limit - sent).min(chunk.len() as u64) as usize;
                writer.write_all(&chunk[..take]).await.map(|()| take)
            }
            Pacing::Slow { chunk: piece, pause } => write_slowly(writer, &chunk, piece, pause).await,
        };
        match result {
            Ok(written) => sent += written as u64,
            Err(error) => return (sent, Err(error)),
        }
        if matches!(pacing, Pacing::DropAfter(limit) if sent >= limit) {
            let _ = writer.flush().await;
            return (sent, Ok(Next::Close));
        }
    }
    (sent, writer.flush().await.map(|()| Next::KeepOpen))
}

async fn write_slowly(
    writer: &mut OwnedWriteHalf,
    chunk: &[u8],
    piece: usize,
    pause: Duration,
) -> io::Result<usize> {
    for part in chunk.chunks(piece) {
        tokio::time::sleep(pause).await;
        writer.write_all(part).await?;
        writer.flush().await?;
    }
    Ok(chunk.len())
}

/// Waits until the client closes the connection (it gave up on the answer), or an hour.
async fn wait_for_close(reader: &mut BufReader<OwnedReadHalf>) {
    let _ = tokio::time::timeout(HANG_LIMIT, async {
        let mut buffer = [0u8; 1024];
        while let Ok(read) = reader.read(&mut buffer).await {
            if read == 0 {
                return;
            }
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_style_paths_decode_to_bucket_and_key() {
        assert_eq!(bucket_and_key("/b/dir/a%2Bb%20c.gz"), ("b".into(), "dir/a+b c.gz".into()));
        assert_eq!(
            bucket_and_key("/b/%E6%97%A5%E6%9C%AC/%C3%A9%3A%25.json"),
            ("b".into(), "日本/é:%.json".into())
        );
        assert_eq!(bucket_and_key("/b/a+b"), ("b".into(), "a+b".into()));
        assert_eq!(bucket_and_key("/b"), ("b".into(), String::new()));
        assert_eq!(bucket_and_key("/b/dir//x"), ("b".into(), "dir//x".into()));
    }

    #[test]
    fn if_match_takes_an_etag_quoted_or_not_in_a_list_or_any() {
        let etag = "\"abc\"";
        for matching in ["\"abc\"", "abc", "\"x\", \"abc\"", "*"] {
            assert!(etag_listed(matching, etag), "{matching}");
        }
        for other in ["\"abd\"", "", "\"abc-1\""] {
            assert!(!etag_listed(other, etag), "{other}");
        }
    }
}

//! Reading one S3 object: `GetObject` pinned to the version the notification announced, its
//! body streamed in chunks, and what a failure means for the message that named the object.
//!
//! The read is pinned so that an overwrite after the notification is never read in its place:
//! by `versionId` on a versioned bucket, else by `If-Match` on the announced ETag. An object
//! that is gone (deleted, or overwritten so that the ETag no longer matches) will never be
//! readable again: its own later notification names whatever replaced it. Access denied, with
//! or without KMS, is a setting an operator fixes: the message is reported and comes back.
//! Throttling (`SlowDown`) and 5xx are retried by the SDK's standard retry mode within the
//! invocation, then reported like any transient failure.

use std::fmt;
use std::time::Duration;

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use bytes::Bytes;

use crate::lambda::s3::ObjectRef;

/// Attempts of one `GetObject` call, the SDK's standard mode with its backoff: S3 asks clients
/// to back off and retry on `SlowDown` and 5xx.
pub const GET_ATTEMPTS: u32 = 5;

/// The S3 client's retries: unlike `PutAuditEvents`, reads spend no shared quota that the
/// forwarder paces, so the SDK's own retry is the right one.
pub fn s3_retries() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(GET_ATTEMPTS)
}

/// The S3 client's timeouts: a connection that cannot be opened in 2 s will not be opened in
/// time to help; a body is read for as long as the invocation sends its events, so there is no
/// operation timeout, only one on each read.
pub fn s3_timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2))
        .read_timeout(Duration::from_secs(20))
        .build()
}

/// Why an object could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadFailure {
    /// The announced object is no more: deleted, or overwritten. Nothing will ever read it.
    Gone { code: String },
    /// The function's role may not read it; `permission` is what it lacks.
    Denied { permission: &'static str },
    /// Throttled, a 5xx, a timeout or a dropped connection, after the SDK's retries.
    Transient { code: String },
}

impl fmt::Display for ReadFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadFailure::Gone { code } => write!(
                f,
                "the object announced is gone ({code}): deleted or overwritten since the notification; \
                 a newer version has its own notification"
            ),
            ReadFailure::Denied { permission } => write!(
                f,
                "access denied: the function's role lacks {permission} on it; the message comes back \
                 until the role allows it or it reaches the dead-letter queue"
            ),
            ReadFailure::Transient { code } => {
                write!(f, "S3 did not serve the object ({code}); the message comes back to try again")
            }
        }
    }
}

/// An object's body, chunk by chunk as it arrives.
pub struct Body {
    stream: ByteStream,
}

impl Body {
    /// The next chunk; `None` at the end of the object.
    pub async fn next(&mut self) -> Option<Result<Bytes, ReadFailure>> {
        let chunk = self.stream.next().await?;
        Some(chunk.map_err(|error| ReadFailure::Transient { code: body_error_code(&error) }))
    }
}

/// Opens `object` for reading, pinned to the version announced.
pub async fn open(s3: &aws_sdk_s3::Client, object: &ObjectRef) -> Result<Body, ReadFailure> {
    let request = s3.get_object().bucket(&object.bucket).key(&object.key);
    let request = match (&object.version_id, &object.etag) {
        (Some(version), _) => request.version_id(version),
        (None, Some(etag)) => request.if_match(quoted(etag)),
        (None, None) => request,
    };
    match request.send().await {
        Ok(output) => Ok(Body { stream: output.body }),
        Err(error) => Err(classify(&error, object.version_id.is_some())),
    }
}

/// An ETag as the `If-Match` header wants it: quoted, as `GetObject` returns it; notifications
/// carry it bare.
fn quoted(etag: &str) -> String {
    if etag.starts_with('"') {
        etag.to_owned()
    } else {
        format!("\"{etag}\"")
    }
}

/// What a failed `GetObject` means. The service's message is read for one thing only: whether
/// an `AccessDenied` is KMS's (S3 answers both with the same code); it is never logged.
fn classify(error: &SdkError<GetObjectError>, versioned: bool) -> ReadFailure {
    let status = error.raw_response().map(|response| response.status().as_u16());
    let code = error.code().map(str::to_owned).unwrap_or_else(|| match error {
        SdkError::TimeoutError(_) => "Timeout".to_owned(),
        SdkError::DispatchFailure(_) => "DispatchFailure".to_owned(),
        SdkError::ResponseError(_) => "ResponseError".to_owned(),
        _ => status.map_or_else(|| "Unknown".to_owned(), |status| format!("HTTP{status}")),
    });
    match (status, code.as_str()) {
        (Some(404), _) | (_, "NoSuchKey" | "NoSuchVersion" | "NoSuchBucket") => ReadFailure::Gone { code },
        (Some(412), _) | (_, "PreconditionFailed") => ReadFailure::Gone { code },
        (Some(403), _) | (_, "AccessDenied") => {
            let kms = error.message().is_some_and(|message| message.contains("kms:"));
            let permission = match (kms, versioned) {
                (true, _) => "kms:Decrypt",
                (false, true) => "s3:GetObjectVersion",
                (false, false) => "s3:GetObject",
            };
            ReadFailure::Denied { permission }
        }
        _ => ReadFailure::Transient { code },
    }
}

/// A name for a failure in the middle of a body: the connection dropped or timed out.
fn body_error_code(error: &aws_smithy_types::byte_stream::error::Error) -> String {
    let text = error.to_string();
    if text.contains("timed out") || text.contains("timeout") { "BodyTimeout" } else { "BodyInterrupted" }
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_etag_goes_into_if_match_quoted_once() {
        assert_eq!(quoted("abc"), "\"abc\"");
        assert_eq!(quoted("\"abc\""), "\"abc\"");
    }
}

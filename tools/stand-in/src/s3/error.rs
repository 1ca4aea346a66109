//! The errors the S3 stand-in answers, in S3's shape: an HTTP status and an XML body
//! `<Error><Code>…</Code><Message>…</Message>…<RequestId>…</RequestId><HostId>…</HostId></Error>`,
//! which the SDK reads to pick its error variant (`NoSuchKey`) and its retry class (`SlowDown`
//! is throttling, 500 and 503 are transient).
//!
//! Codes, statuses and messages are S3's own. The KMS case is S3's `AccessDenied` carrying the
//! KMS refusal as its message, as S3 answers GetObject on an SSE-KMS object when the caller
//! may read the object but not decrypt it (seen in 2025 reports:
//! "User: arn:aws:sts::…:assumed-role/… is not authorized to perform: kms:Decrypt on resource:
//! arn:aws:kms:…:key/… because no identity-based policy allows the kms:Decrypt action";
//! older answers said only "Access Denied"). Code alone cannot tell it from a refused bucket:
//! only the message can.

use std::fmt::Write as _;

use crate::http::Response;

/// The role the stand-in's KMS message names: the forwarder's execution role.
pub const KMS_DENIED_PRINCIPAL: &str =
    "arn:aws:sts::123456789012:assumed-role/cloudtrail-lake-forwarder-role/cloudtrail-lake-forwarder";
/// The key the stand-in's KMS message names.
pub const KMS_KEY_ARN: &str = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/// An error S3 answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum S3Error {
    NoSuchKey,
    NoSuchVersion,
    NoSuchBucket,
    /// The caller may not read the bucket or the object.
    AccessDenied,
    /// The caller may read the object but not use its KMS key: `AccessDenied` with KMS's
    /// refusal as the message.
    KmsAccessDenied,
    /// Throttled: the SDK retries it with backoff.
    SlowDown,
    InternalError,
    /// Another service unavailable answer: 503 `ServiceUnavailable`.
    ServiceUnavailable,
    /// `If-Match` named another ETag.
    PreconditionFailed,
    /// The `Range` starts past the object's end.
    InvalidRange {
        size: u64,
    },
    /// A `versionId` on a bucket that never had versioning.
    InvalidVersionId,
    /// GET of a version that is a delete marker.
    MethodNotAllowed,
    /// Anything but an object GET or HEAD.
    NotImplemented,
    SignatureDoesNotMatch,
    InvalidAccessKeyId,
    /// Signed for another Region.
    AuthorizationHeaderMalformed {
        signed: String,
        expected: String,
    },
    /// `x-amz-content-sha256` is missing, or is neither `UNSIGNED-PAYLOAD` nor the body's hash.
    ContentSha256Mismatch,
}

impl S3Error {
    pub fn status(&self) -> u16 {
        match self {
            S3Error::NoSuchKey | S3Error::NoSuchVersion | S3Error::NoSuchBucket => 404,
            S3Error::AccessDenied
            | S3Error::KmsAccessDenied
            | S3Error::SignatureDoesNotMatch
            | S3Error::InvalidAccessKeyId => 403,
            S3Error::SlowDown | S3Error::ServiceUnavailable => 503,
            S3Error::InternalError => 500,
            S3Error::PreconditionFailed => 412,
            S3Error::InvalidRange { .. } => 416,
            S3Error::MethodNotAllowed => 405,
            S3Error::NotImplemented => 501,
            S3Error::InvalidVersionId
            | S3Error::AuthorizationHeaderMalformed { .. }
            | S3Error::ContentSha256Mismatch => 400,
        }
    }

    /// The `<Code>`, which the SDK maps to an error variant.
    pub fn code(&self) -> &'static str {
        match self {
            S3Error::NoSuchKey => "NoSuchKey",
            S3Error::NoSuchVersion => "NoSuchVersion",
            S3Error::NoSuchBucket => "NoSuchBucket",
            S3Error::AccessDenied | S3Error::KmsAccessDenied => "AccessDenied",
            S3Error::SlowDown => "SlowDown",
            S3Error::InternalError => "InternalError",
            S3Error::ServiceUnavailable => "ServiceUnavailable",
            S3Error::PreconditionFailed => "PreconditionFailed",
            S3Error::InvalidRange { .. } => "InvalidRange",
            S3Error::InvalidVersionId => "InvalidArgument",
            S3Error::MethodNotAllowed => "MethodNotAllowed",
            S3Error::NotImplemented => "NotImplemented",
            S3Error::SignatureDoesNotMatch => "SignatureDoesNotMatch",
            S3Error::InvalidAccessKeyId => "InvalidAccessKeyId",
            S3Error::AuthorizationHeaderMalformed { .. } => "AuthorizationHeaderMalformed",
            S3Error::ContentSha256Mismatch => "XAmzContentSHA256Mismatch",
        }
    }

    pub fn message(&self) -> String {
        match self {
            S3Error::NoSuchKey => "The specified key does not exist.".into(),
            S3Error::NoSuchVersion => {
                "The specified version does not exist.".into()
            }
            S3Error::NoSuchBucket => "The specified bucket does not exist".into(),
            S3Error::AccessDenied => "Access Denied".into(),
            S3Error::KmsAccessDenied => format!(
                "User: {KMS_DENIED_PRINCIPAL} is not authorized to perform: kms:Decrypt on resource: \
                 {KMS_KEY_ARN} because no identity-based policy allows the kms:Decrypt action"
            ),
            S3Error::SlowDown => "Please reduce your request rate.".into(),
            S3Error::InternalError => "We encountered an internal error. Please try again.".into(),
            S3Error::ServiceUnavailable => "Service is unable to handle request.".into(),
            S3Error::PreconditionFailed => {
                "At least one of the pre-conditions you specified did not hold".into()
            }
            S3Error::InvalidRange { .. } => "The requested range is not satisfiable".into(),
            S3Error::InvalidVersionId => "Invalid version id specified".into(),
            S3Error::MethodNotAllowed => {
                "The specified method is not allowed against this resource.".into()
            }
            S3Error::NotImplemented => {
                "A header you provided implies functionality that is not implemented".into()
            }
            S3Error::SignatureDoesNotMatch => "The request signature we calculated does not match the \
                                               signature you provided. Check your key and signing method."
                .into(),
            S3Error::InvalidAccessKeyId => {
                "The AWS Access Key Id you provided does not exist in our records.".into()
            }
            S3Error::AuthorizationHeaderMalformed { signed, expected } => format!(
                "The authorization header is malformed; the region '{signed}' is wrong; expecting '{expected}'"
            ),
            S3Error::ContentSha256Mismatch => {
                "The provided 'x-amz-content-sha256' header does not match what was computed.".into()
            }
        }
    }

    /// The answer to a request for `resource` (`bucket/key`, or `bucket`), with the request's
    /// id in the body and headers as S3 puts it in both. A HEAD answer has no body: the SDK
    /// then reads the code from the status alone, as it must with S3.
    pub fn response(&self, resource: &Resource<'_>, request_id: &str, head: bool) -> Response {
        let mut body = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
        let _ = write!(body, "<Code>{}</Code><Message>{}</Message>", self.code(), escape(&self.message()));
        match self {
            S3Error::NoSuchBucket => element(&mut body, "BucketName", resource.bucket),
            S3Error::NoSuchKey => element(&mut body, "Key", resource.key),
            S3Error::NoSuchVersion => {
                element(&mut body, "Key", resource.key);
                element(&mut body, "VersionId", resource.version_id.unwrap_or_default());
            }
            S3Error::PreconditionFailed => element(&mut body, "Condition", "If-Match"),
            S3Error::InvalidRange { size } => {
                element(&mut body, "RangeRequested", resource.range.unwrap_or_default());
                element(&mut body, "ActualObjectSize", &size.to_string());
            }
            S3Error::AuthorizationHeaderMalformed { expected, .. } => element(&mut body, "Region", expected),
            _ => {}
        }
        let _ = write!(
            body,
            "<RequestId>{request_id}</RequestId><HostId>{}</HostId></Error>",
            host_id(request_id)
        );
        let mut response = Response {
            status: self.status(),
            headers: vec![
                ("content-type", "application/xml".into()),
                ("x-amz-request-id", request_id.into()),
                ("x-amz-id-2", host_id(request_id)),
            ],
            body: if head { Vec::new() } else { body.into_bytes() },
        };
        if let S3Error::InvalidRange { size } = self {
            response.headers.push(("content-range", format!("bytes */{size}")));
        }
        response
    }
}

/// What a request named, for the elements of its error.
#[derive(Debug, Clone, Copy, Default)]
pub struct Resource<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub version_id: Option<&'a str>,
    pub range: Option<&'a str>,
}

/// The `x-amz-id-2` of a request: S3's is an opaque token; this one is derived from the
/// request id so the two are consistent in a log.
pub fn host_id(request_id: &str) -> String {
    format!("stand-in/{request_id}=")
}

fn element(body: &mut String, name: &str, value: &str) {
    let _ = write!(body, "<{name}>{}</{name}>", escape(value));
}

/// Escapes text for an XML element: keys may hold `<`, `&` and quotes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(error: &S3Error, resource: Resource<'_>) -> String {
        String::from_utf8(error.response(&resource, "REQ0000000000001", false).body).unwrap()
    }

    #[test]
    fn an_error_is_s3s_xml_with_the_request_id() {
        let resource = Resource { bucket: "b", key: "a<b>&c.json", ..Resource::default() };
        let xml = body(&S3Error::NoSuchKey, resource);
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>\
             <Message>The specified key does not exist.</Message><Key>a&lt;b&gt;&amp;c.json</Key>\
             <RequestId>REQ0000000000001</RequestId><HostId>stand-in/REQ0000000000001=</HostId></Error>"
        );
    }

    #[test]
    fn statuses_and_codes_are_s3s() {
        let cases = [
            (S3Error::NoSuchKey, 404, "NoSuchKey"),
            (S3Error::NoSuchVersion, 404, "NoSuchVersion"),
            (S3Error::NoSuchBucket, 404, "NoSuchBucket"),
            (S3Error::AccessDenied, 403, "AccessDenied"),
            (S3Error::KmsAccessDenied, 403, "AccessDenied"),
            (S3Error::SlowDown, 503, "SlowDown"),
            (S3Error::InternalError, 500, "InternalError"),
            (S3Error::PreconditionFailed, 412, "PreconditionFailed"),
            (S3Error::InvalidRange { size: 5 }, 416, "InvalidRange"),
            (S3Error::SignatureDoesNotMatch, 403, "SignatureDoesNotMatch"),
        ];
        for (error, status, code) in cases {
            let response = error.response(&Resource::default(), "R", false);
            assert_eq!((response.status, error.code()), (status, code), "{error:?}");
            let xml = String::from_utf8(response.body).unwrap();
            assert!(xml.contains(&format!("<Code>{code}</Code>")), "{xml}");
        }
    }

    #[test]
    fn the_kms_refusal_names_the_action_the_key_and_the_role() {
        let xml = body(&S3Error::KmsAccessDenied, Resource::default());
        assert!(xml.contains("<Code>AccessDenied</Code>"), "{xml}");
        assert!(xml.contains("is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:"), "{xml}");
        assert!(xml.contains(KMS_DENIED_PRINCIPAL), "{xml}");
    }

    #[test]
    fn an_unsatisfiable_range_says_the_objects_size() {
        let resource = Resource { range: Some("bytes=10-"), ..Resource::default() };
        let response = S3Error::InvalidRange { size: 7 }.response(&resource, "R", false);
        assert!(response.headers.contains(&("content-range", "bytes */7".into())));
        let xml = String::from_utf8(response.body).unwrap();
        assert!(
            xml.contains("<RangeRequested>bytes=10-</RangeRequested><ActualObjectSize>7</ActualObjectSize>")
        );
    }

    #[test]
    fn a_head_answer_has_no_body() {
        assert!(S3Error::NoSuchKey.response(&Resource::default(), "R", true).body.is_empty());
    }
}

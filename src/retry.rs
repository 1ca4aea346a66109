//! The single home of "is this failure transient?" and of how long to wait before trying again.
//!
//! Per-event codes come from the service's `failed` list; whole-request errors from the SDK
//! after its own retries. Transient failures are tried again within the invocation while time
//! allows; everything else is reported at once, since sending it again would fail again.

use std::time::Duration;

use aws_sdk_cloudtraildata::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudtraildata::operation::put_audit_events::PutAuditEventsError;

use crate::outcome::Ordering;

/// A failure as the answer and the logs see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The service's error code, or a name for what went wrong on the way.
    pub code: String,
    /// Whether the same event may succeed if sent again unchanged.
    pub transient: bool,
}

/// Whether a per-event `errorCode` is worth another try: only throttling and the service's own
/// internal failures are; every other code describes the event or the channel.
pub fn is_transient_event_code(code: &str) -> bool {
    matches!(code, "Throttling" | "InternalFailure")
}

/// Classifies a whole-request error, as left after the SDK's own retries.
pub fn classify<R>(error: &SdkError<PutAuditEventsError, R>) -> Failure
where
    R: HttpStatus,
{
    let (code, transient) = match error {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or_else(|| modeled_code(service.err())).to_owned();
            let status = service.raw().status();
            let transient = status >= 500 || status == 429 || is_throttling_code(&code);
            (code, transient)
        }
        SdkError::TimeoutError(_) => ("Timeout".to_owned(), true),
        SdkError::DispatchFailure(_) => ("ConnectionFailure".to_owned(), true),
        // The request may have reached the service: sending it again risks a duplicate, not
        // sending it risks a loss, and audit data must not be lost.
        SdkError::ResponseError(_) => ("UnreadableResponse".to_owned(), true),
        SdkError::ConstructionFailure(_) => ("RequestNotBuilt".to_owned(), false),
        _ => ("UnknownError".to_owned(), true),
    };
    Failure { code, transient }
}

/// Whether a whole-request refusal may come from what one event holds rather than from the
/// channel or the caller: then sending the request again in halves isolates that event, and
/// its neighbours get in. Channel and permission errors would refuse every half alike.
pub fn may_be_one_events_fault(failure: &Failure) -> bool {
    !failure.transient
        && matches!(
            failure.code.as_str(),
            "ValidationException" | "SerializationException" | "DuplicatedAuditEventId"
        )
}

/// The name of a modeled error, for errors whose response carried no code of its own.
fn modeled_code(error: &PutAuditEventsError) -> &'static str {
    match error {
        PutAuditEventsError::ChannelInsufficientPermission(_) => "ChannelInsufficientPermission",
        PutAuditEventsError::ChannelNotFound(_) => "ChannelNotFound",
        PutAuditEventsError::ChannelUnsupportedSchema(_) => "ChannelUnsupportedSchema",
        PutAuditEventsError::DuplicatedAuditEventId(_) => "DuplicatedAuditEventId",
        PutAuditEventsError::InvalidChannelArn(_) => "InvalidChannelARN",
        PutAuditEventsError::UnsupportedOperationException(_) => "UnsupportedOperationException",
        _ => "UnknownServiceError",
    }
}

fn is_throttling_code(code: &str) -> bool {
    matches!(code, "ThrottlingException" | "Throttling" | "TooManyRequestsException" | "RequestLimitExceeded")
}

/// The HTTP status of a raw response; implemented for the SDK's response type.
pub trait HttpStatus {
    fn status(&self) -> u16;
}

impl HttpStatus for aws_sdk_cloudtraildata::config::http::HttpResponse {
    fn status(&self) -> u16 {
        self.status().as_u16()
    }
}

/// Rounds of sending a request's transient failures again, after the first, while the deadline
/// allows. A Kinesis failure costs more than its own record: Lambda sends everything after it
/// again, stored or not, so a shard's records get twice the rounds of a queue's messages.
pub fn max_retry_rounds(ordering: Ordering) -> u32 {
    match ordering {
        Ordering::Shard => 6,
        Ordering::Unordered | Ordering::MessageGroups => 3,
    }
}

/// The wait before retry round `round` (1-based): "full jitter" over an exponential ceiling of
/// 100 ms, 200 ms, 400 ms…, capped at 2 s, so throttled invocations do not retry in step.
pub fn backoff(round: u32, random: u64) -> Duration {
    let ceiling_ms = (100u64 << round.saturating_sub(1).min(5)).min(2_000);
    Duration::from_millis(random % (ceiling_ms + 1))
}

/// A small random number for jitter, from the standard library's per-process random keys.
pub fn jitter_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos(),
    );
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudtraildata::types::error::{ChannelNotFound, DuplicatedAuditEventId};

    struct Status(u16);
    impl HttpStatus for Status {
        fn status(&self) -> u16 {
            self.0
        }
    }

    fn service(error: PutAuditEventsError, status: u16) -> Failure {
        classify(&SdkError::service_error(error, Status(status)))
    }

    #[test]
    fn only_throttling_and_internal_failures_are_transient_per_event() {
        for (code, transient) in [
            ("Throttling", true),
            ("InternalFailure", true),
            ("InvalidChecksum", false),
            ("InvalidData", false),
            ("FieldTooLong", false),
            ("AccountNotSubscribed", false),
        ] {
            assert_eq!(is_transient_event_code(code), transient, "{code}");
        }
    }

    #[test]
    fn channel_and_id_errors_are_permanent() {
        let not_found = PutAuditEventsError::ChannelNotFound(ChannelNotFound::builder().message("m").build());
        assert_eq!(service(not_found, 404), Failure { code: "ChannelNotFound".into(), transient: false });
        let duplicated =
            PutAuditEventsError::DuplicatedAuditEventId(DuplicatedAuditEventId::builder().build());
        assert!(!service(duplicated, 400).transient);
    }

    #[test]
    fn throttling_and_server_errors_are_transient() {
        let throttled = PutAuditEventsError::generic(
            aws_sdk_cloudtraildata::error::ErrorMetadata::builder().code("ThrottlingException").build(),
        );
        assert_eq!(service(throttled, 400), Failure { code: "ThrottlingException".into(), transient: true });
        let internal =
            PutAuditEventsError::generic(aws_sdk_cloudtraildata::error::ErrorMetadata::builder().build());
        assert!(service(internal, 503).transient);
    }

    #[test]
    fn lost_connections_and_timeouts_are_transient() {
        let cut: SdkError<PutAuditEventsError, Status> = SdkError::response_error("reset", Status(200));
        assert_eq!(classify(&cut), Failure { code: "UnreadableResponse".into(), transient: true });
        let timeout: SdkError<PutAuditEventsError, Status> = SdkError::timeout_error("slow");
        assert!(classify(&timeout).transient);
    }

    #[test]
    fn only_content_refusals_are_worth_splitting_a_request_for() {
        let failure = |code: &str, transient| Failure { code: code.into(), transient };
        assert!(may_be_one_events_fault(&failure("ValidationException", false)));
        assert!(may_be_one_events_fault(&failure("DuplicatedAuditEventId", false)));
        assert!(!may_be_one_events_fault(&failure("ChannelNotFound", false)));
        assert!(!may_be_one_events_fault(&failure("AccessDeniedException", false)));
        assert!(!may_be_one_events_fault(&failure("ThrottlingException", true)));
    }

    #[test]
    fn backoff_grows_and_stays_capped() {
        assert!(backoff(1, u64::MAX) <= Duration::from_millis(100));
        assert!(backoff(3, u64::MAX) <= Duration::from_millis(400));
        assert!(backoff(30, u64::MAX) <= Duration::from_secs(2));
        assert_eq!(backoff(2, 150), Duration::from_millis(150));
    }
}

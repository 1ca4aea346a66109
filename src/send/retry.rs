//! Which failures are worth another try, and how long to wait first: the one place that judges
//! an error. Throttling, the service's internal failures, 5xx answers and lost connections are
//! transient and are tried again while the invocation's time allows; everything else describes
//! the event or the channel and is reported at once, since sending it again would fail again.

use std::time::Duration;

use aws_sdk_cloudtraildata::config::http::HttpResponse;
use aws_sdk_cloudtraildata::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudtraildata::operation::put_audit_events::PutAuditEventsError;

/// A failure as the answer and the logs see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The service's error code, or a name for what went wrong on the way.
    pub code: String,
    /// Whether the same event may succeed if sent again unchanged.
    pub transient: bool,
}

impl Failure {
    pub fn new(code: impl Into<String>, transient: bool) -> Failure {
        Failure { code: code.into(), transient }
    }

    /// Whether the service said the account's request rate was exceeded, for the whole request
    /// (`ThrottlingException`) or for one event (`Throttling`).
    pub fn is_throttling(&self) -> bool {
        matches!(
            self.code.as_str(),
            "ThrottlingException" | "Throttling" | "TooManyRequestsException" | "RequestLimitExceeded"
        )
    }

    /// Whether a whole-request refusal may come from what one event holds rather than from the
    /// channel or the caller: then sending the request again in halves can isolate that event,
    /// and its neighbours get in.
    pub fn may_be_one_events_fault(&self) -> bool {
        !self.transient
            && matches!(
                self.code.as_str(),
                "ValidationException" | "SerializationException" | "DuplicatedAuditEventId"
            )
    }

    /// Whether a whole-request refusal is about the channel or the caller, so that every other
    /// request of the batch would be refused alike and is not worth sending.
    pub fn refuses_every_request(&self) -> bool {
        !self.transient
            && matches!(
                self.code.as_str(),
                "ChannelNotFound"
                    | "InvalidChannelARN"
                    | "ChannelInsufficientPermission"
                    | "ChannelUnsupportedSchema"
                    | "UnsupportedOperationException"
                    | "AccessDeniedException"
                    | "AccessDenied"
                    | "InvalidSignatureException"
                    | "UnrecognizedClientException"
                    | "ExpiredTokenException"
            )
    }
}

/// Whether a per-event `errorCode` is worth another try: only throttling and the service's own
/// internal failures are; every other code describes the event or the channel.
pub fn is_transient_event_code(code: &str) -> bool {
    matches!(code, "Throttling" | "InternalFailure")
}

/// Classifies a whole-request error.
pub fn classify(error: &SdkError<PutAuditEventsError, HttpResponse>) -> Failure {
    match error {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or_else(|| modeled_code(service.err())).to_owned();
            let status = service.raw().status().as_u16();
            let throttled = Failure::new(code.as_str(), false).is_throttling();
            Failure::new(code, status >= 500 || status == 429 || throttled)
        }
        SdkError::TimeoutError(_) => Failure::new("Timeout", true),
        SdkError::DispatchFailure(_) => Failure::new("ConnectionFailure", true),
        // The request may have reached the service: sending it again risks a duplicate, not
        // sending it risks a loss, and audit data must not be lost.
        SdkError::ResponseError(_) => Failure::new("UnreadableResponse", true),
        SdkError::ConstructionFailure(_) => Failure::new("RequestNotBuilt", false),
        _ => Failure::new("UnknownError", true),
    }
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

/// The wait before try `attempt` (1-based) of a failure that is not throttling: "full jitter"
/// over an exponential ceiling of 25 ms, 50 ms, 100 ms…, capped at 2 s, so invocations that
/// met the same outage do not come back in step. Throttled events wait for the rate limiter
/// instead, which has just slowed down.
///
/// The first ceiling is short because most such failures are passing (one event's
/// `InternalFailure`, one dropped connection) and a FIFO group waits for its failed message
/// before its next one can go: with 100 ms, the backoffs were half the time of a FIFO chaos run.
/// A real outage still reaches the 2 s cap within eight tries.
pub fn backoff(attempt: u32, random: u64) -> Duration {
    let ceiling_ms = (25u64 << attempt.saturating_sub(1).min(7)).min(2_000);
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

/// The next number of a xorshift sequence started from [`jitter_seed`].
pub fn next_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudtraildata::error::ErrorMetadata;
    use aws_sdk_cloudtraildata::types::error::{ChannelNotFound, DuplicatedAuditEventId};
    use aws_smithy_types::body::SdkBody;

    fn response(status: u16) -> HttpResponse {
        HttpResponse::new(status.try_into().expect("a valid HTTP status"), SdkBody::empty())
    }

    fn service(error: PutAuditEventsError, status: u16) -> Failure {
        classify(&SdkError::service_error(error, response(status)))
    }

    fn generic(code: Option<&str>) -> PutAuditEventsError {
        let mut metadata = ErrorMetadata::builder();
        if let Some(code) = code {
            metadata = metadata.code(code);
        }
        PutAuditEventsError::generic(metadata.build())
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
        assert_eq!(service(not_found, 404), Failure::new("ChannelNotFound", false));
        let duplicated =
            PutAuditEventsError::DuplicatedAuditEventId(DuplicatedAuditEventId::builder().build());
        assert_eq!(service(duplicated, 400), Failure::new("DuplicatedAuditEventId", false));
        assert_eq!(service(generic(None), 400), Failure::new("UnknownServiceError", false));
    }

    #[test]
    fn throttling_and_server_errors_are_transient() {
        assert_eq!(
            service(generic(Some("ThrottlingException")), 400),
            Failure::new("ThrottlingException", true)
        );
        assert!(service(generic(Some("ThrottlingException")), 400).is_throttling());
        assert!(service(generic(None), 503).transient);
        assert!(service(generic(Some("SlowDown")), 429).transient);
        assert!(!service(generic(Some("ValidationException")), 400).transient);
    }

    #[test]
    fn lost_connections_and_timeouts_are_transient() {
        let cut: SdkError<PutAuditEventsError, HttpResponse> =
            SdkError::response_error("reset", response(200));
        assert_eq!(classify(&cut), Failure::new("UnreadableResponse", true));
        let timeout: SdkError<PutAuditEventsError, HttpResponse> = SdkError::timeout_error("slow");
        assert_eq!(classify(&timeout), Failure::new("Timeout", true));
    }

    #[test]
    fn only_content_refusals_are_worth_splitting_a_request_for() {
        assert!(Failure::new("ValidationException", false).may_be_one_events_fault());
        assert!(Failure::new("DuplicatedAuditEventId", false).may_be_one_events_fault());
        assert!(!Failure::new("ChannelNotFound", false).may_be_one_events_fault());
        assert!(!Failure::new("AccessDeniedException", false).may_be_one_events_fault());
        assert!(!Failure::new("ThrottlingException", true).may_be_one_events_fault());
    }

    #[test]
    fn channel_and_caller_refusals_stop_the_batch_and_content_refusals_do_not() {
        assert!(Failure::new("ChannelNotFound", false).refuses_every_request());
        assert!(Failure::new("InvalidSignatureException", false).refuses_every_request());
        assert!(!Failure::new("ValidationException", false).refuses_every_request());
        assert!(!Failure::new("InternalServerException", true).refuses_every_request());
    }

    #[test]
    fn backoff_grows_and_stays_capped() {
        assert!(backoff(1, u64::MAX) <= Duration::from_millis(25));
        assert!(backoff(3, u64::MAX) <= Duration::from_millis(100));
        assert_eq!(backoff(3, 100), Duration::from_millis(100));
        assert_eq!(backoff(8, 2_000), Duration::from_secs(2));
        assert!(backoff(30, u64::MAX) <= Duration::from_secs(2));
        assert_eq!(backoff(2, 40), Duration::from_millis(40));
    }
}

//! The SDK side of sending: the client's settings, and one `PutAuditEvents` call with the body
//! the forwarder wrote ([`crate::send::body`]), its answer read into a [`Reply`] that says, per
//! event, whether the service took it ([`crate::send::response`]).

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_cloudtraildata::config::retry::RetryConfig;
use aws_sdk_cloudtraildata::config::timeout::TimeoutConfig;
use aws_sdk_cloudtraildata::config::SharedHttpClient;
use aws_sdk_cloudtraildata::config::StalledStreamProtectionConfig;
use aws_sdk_cloudtraildata::Client;
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use bytes::Bytes;

use super::response::{judge, planned, ReadAnswers};
use super::retry;
use super::{Channel, Reply};
use crate::event::AuditEvent;
use crate::send::body::request_body;

/// The header the body's length goes in, as the SDK's serialiser names it.
const CONTENT_LENGTH: &str = "content-length";

/// The channel a forwarder sends to, through one SDK client built once per process.
#[derive(Debug, Clone)]
pub struct SdkChannel {
    client: Client,
    channel_arn: String,
    external_id: Option<String>,
}

impl SdkChannel {
    pub fn new(client: Client, channel_arn: &str, external_id: Option<&str>) -> SdkChannel {
        SdkChannel {
            client,
            channel_arn: channel_arn.to_owned(),
            external_id: external_id.map(str::to_owned),
        }
    }
}

impl Channel for SdkChannel {
    async fn put(&self, events: Arc<Vec<Option<AuditEvent>>>, sent: Vec<usize>) -> Reply {
        let body = Bytes::from(request_body(sent.iter().map(|&index| planned(&events, index))));
        let sent = Arc::new(sent);
        let read = ReadAnswers::new(Arc::clone(&events), Arc::clone(&sent));
        let verdicts = Arc::clone(&read.verdicts);
        let response = self
            .client
            .put_audit_events()
            .channel_arn(&self.channel_arn)
            .set_external_id(self.external_id.clone())
            .set_audit_events(Some(Vec::new()))
            .customize()
            .mutate_request(move |request| with_body(request, body.clone()))
            .interceptor(read)
            .send()
            .await;
        match response {
            Ok(output) => {
                let read = verdicts.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
                Reply::Answered(read.unwrap_or_else(|| judge(&events, &sent, &output)))
            }
            Err(error) => Reply::Refused(retry::classify(&error)),
        }
    }
}

/// Replaces the body the SDK serialised with `body`, and its length; run before signing, on
/// every attempt.
fn with_body(request: &mut HttpRequest, body: Bytes) {
    let len = body.len();
    *request.body_mut() = SdkBody::from(body);
    request.headers_mut().insert(CONTENT_LENGTH, len.to_string());
}

/// The forwarder's SDK client: `base` says where and as whom (Region, credentials, endpoint),
/// and this adds how: the HTTPS client, timeouts, one attempt per call, and no stalled-stream
/// protection. The binary and the integration tests build their clients here, so the tests
/// prove the wire with the same settings.
///
/// Stalled-stream protection watches the throughput of every upload and download with timers
/// polled beside the body; `sdk_timeouts` already bounds each attempt, so it only costs CPU.
pub fn sdk_client(base: aws_sdk_cloudtraildata::config::Builder) -> Client {
    let config = base
        .http_client(https_client())
        .timeout_config(sdk_timeouts())
        .retry_config(sdk_retries())
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .build();
    Client::from_conf(config)
}

/// The HTTPS client every SDK client of the forwarder uses: the SDK's own hyper client with
/// rustls on ring. It serves `http://` endpoints too, such as the local stand-in.
pub fn https_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
        .build_https()
}

/// The SDK client's timeouts: a connection that cannot be opened in 2 s will not be opened in
/// time to help, and one hung attempt must not eat the invocation.
pub fn sdk_timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2))
        .operation_attempt_timeout(Duration::from_secs(10))
        .build()
}

/// One attempt per SDK call: every retry is the forwarder's own, so that it passes through the
/// request rate limiter, counts against the account's quota where it should, and knows the
/// invocation's deadline. The SDK's retries would resend throttled requests at once, behind the
/// limiter's back.
pub fn sdk_retries() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(1)
}

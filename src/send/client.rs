//! The SDK side of sending: the client's settings, and one `PutAuditEvents` call turned into a
//! [`Reply`] that says, per event, whether the service took it.
//!
//! Nothing the service says about an event's content reaches the logs: a per-event
//! `errorMessage` and a refused request's message may quote what they refused, so only codes
//! are kept.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_cloudtraildata::config::retry::RetryConfig;
use aws_sdk_cloudtraildata::config::timeout::TimeoutConfig;
use aws_sdk_cloudtraildata::config::SharedHttpClient;
use aws_sdk_cloudtraildata::config::StalledStreamProtectionConfig;
use aws_sdk_cloudtraildata::operation::put_audit_events::PutAuditEventsOutput;
use aws_sdk_cloudtraildata::types::AuditEvent as SdkAuditEvent;
use aws_sdk_cloudtraildata::Client;
use aws_smithy_http_client::tls;

use super::retry::{self, Failure};
use super::{Channel, Reply};
use crate::audit::AuditEvent;

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
        // The SDK takes its input by value, so each attempt copies its events; the copies are
        // made here, on the request's own task, where requests are built in parallel.
        let batch = sent.iter().map(|&index| sdk_event(planned(&events, index))).collect();
        let response = self
            .client
            .put_audit_events()
            .channel_arn(&self.channel_arn)
            .set_external_id(self.external_id.clone())
            .set_audit_events(Some(batch))
            .send()
            .await;
        match response {
            Ok(output) => Reply::Answered(judge(&events, &sent, &output)),
            Err(error) => Reply::Refused(retry::classify(&error)),
        }
    }
}

/// Each sent event's verdict, in the order sent. An event the response does not mention is
/// not confirmed, so it counts as a transient failure rather than a success.
fn judge(
    events: &[Option<AuditEvent>],
    sent: &[usize],
    output: &PutAuditEventsOutput,
) -> Vec<Result<(), Failure>> {
    let mut answers: HashMap<&str, Result<(), Failure>> = HashMap::with_capacity(sent.len());
    for entry in output.successful() {
        answers.insert(entry.id(), Ok(()));
    }
    for entry in output.failed() {
        let code = entry.error_code();
        answers.insert(entry.id(), Err(Failure::new(code, retry::is_transient_event_code(code))));
    }
    sent.iter()
        .map(|&index| {
            let id = planned(events, index).id.as_str();
            answers.get(id).cloned().unwrap_or_else(|| Err(Failure::new("Unconfirmed", true)))
        })
        .collect()
}

/// The event of a record the plan put in a request; only records with events are planned.
fn planned(events: &[Option<AuditEvent>], index: usize) -> &AuditEvent {
    events[index].as_ref().expect("only records with an audit event are planned")
}

fn sdk_event(event: &AuditEvent) -> SdkAuditEvent {
    SdkAuditEvent::builder()
        .id(&event.id)
        .event_data(&event.event_data)
        .event_data_checksum(&event.checksum)
        .build()
        .expect("id and event_data, the only required fields, are set")
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

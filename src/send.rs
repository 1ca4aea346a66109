//! Requests → per-record outcomes: the only module that talks to the network.
//!
//! Requests go out concurrently, at most `MAX_CONCURRENT_REQUESTS` at once. A FIFO queue's
//! batch (ten messages at most) goes one request at a time, in waves that hold one message per
//! group, so each group is stored in order.
//! Before each request starts, records behind a failure in their group or shard are held back.
//! Transient failures are sent again within the invocation, with jittered backoff, while the
//! deadline allows; whatever has no confirmed outcome when time runs out is reported failed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_cloudtraildata::config::retry::RetryConfig;
use aws_sdk_cloudtraildata::config::timeout::TimeoutConfig;
use aws_sdk_cloudtraildata::config::SharedHttpClient;
use aws_sdk_cloudtraildata::operation::put_audit_events::PutAuditEventsOutput;
use aws_sdk_cloudtraildata::types::AuditEvent as SdkAuditEvent;
use aws_sdk_cloudtraildata::Client;
use aws_smithy_http_client::tls;
use tokio::task::{Id, JoinSet};
use tokio::time::Instant;

use crate::audit::AuditEvent;
use crate::batch;
use crate::config::Config;
use crate::outcome::{Hold, Ordering, Outcome};
use crate::retry::{self, Failure};
use crate::source::Record;

/// Sends audit events to one channel with one SDK client, built once per process.
#[derive(Debug, Clone)]
pub struct Sender {
    client: Client,
    channel_arn: String,
    external_id: Option<String>,
    max_concurrent_requests: usize,
}

/// What sending cost, for the invocation summary and the metrics.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SendReport {
    /// `PutAuditEvents` calls made by the forwarder (the SDK's own retries not counted).
    pub requests: usize,
    /// Events sent at least once.
    pub events_sent: usize,
    /// Events sent again after a transient failure.
    pub retries: usize,
    /// Milliseconds each call took, SDK retries included.
    pub latencies_ms: Vec<f64>,
    /// The most calls in flight at once.
    pub peak_in_flight: usize,
    /// Events not sent because this process saw them ingested before (redeliveries).
    pub remembered: usize,
}

/// What one request task found out.
struct RequestResult {
    outcomes: Vec<(usize, Outcome)>,
    report: SendReport,
}

impl Sender {
    pub fn new(client: Client, config: &Config) -> Sender {
        Sender {
            client,
            channel_arn: config.channel_arn.clone(),
            external_id: config.external_id.clone(),
            max_concurrent_requests: config.max_concurrent_requests.get(),
        }
    }

    /// Sends every event whose record has no outcome yet and records what became of it.
    ///
    /// `events[i]` is record `i`'s audit event; `outcomes[i]` is filled for every record that
    /// had an event. `deadline` is when the answer must be ready, if it is known.
    pub async fn deliver(
        &self,
        records: &[Record],
        events: &Arc<Vec<Option<AuditEvent>>>,
        outcomes: &mut [Option<Outcome>],
        ordering: Ordering,
        deadline: Option<Instant>,
    ) -> SendReport {
        let pending = events.iter().enumerate().filter_map(|(index, event)| {
            let event = event.as_ref().filter(|_| outcomes[index].is_none())?;
            Some((index, event.id.as_str(), event.encoded_len))
        });
        let plan = match ordering {
            Ordering::MessageGroups => batch::pack_in_waves(
                pending.map(|(index, id, len)| (index, id, len, records[index].message_group.as_deref())),
            ),
            Ordering::Unordered | Ordering::Shard => batch::pack(pending),
        };
        let concurrency = if ordering == Ordering::MessageGroups { 1 } else { self.max_concurrent_requests };

        let mut report = SendReport::default();
        let slowest = Arc::new(AtomicU64::new(0));
        let mut tasks = JoinSet::new();
        let mut members: HashMap<Id, Vec<usize>> = HashMap::new();
        let mut next = 0;
        let mut failures_since_hold = false;
        loop {
            while tasks.len() < concurrency
                && next < plan.len()
                && has_time_for_attempt(deadline, &slowest, Duration::ZERO)
            {
                if failures_since_hold {
                    ordering.hold_behind_failures(records, outcomes);
                    failures_since_hold = false;
                }
                let indices: Vec<usize> =
                    plan[next].events.iter().copied().filter(|&index| outcomes[index].is_none()).collect();
                next += 1;
                if indices.is_empty() {
                    continue;
                }
                let rounds = retry::max_retry_rounds(ordering);
                let request = self.clone().send_with_retries(
                    events.clone(),
                    indices.clone(),
                    rounds,
                    slowest.clone(),
                    deadline,
                );
                let handle = tasks.spawn(request);
                members.insert(handle.id(), indices);
                report.peak_in_flight = report.peak_in_flight.max(tasks.len());
            }
            let joined = match deadline {
                Some(deadline) => tokio::time::timeout_at(deadline, tasks.join_next_with_id()).await,
                None => Ok(tasks.join_next_with_id().await),
            };
            match joined {
                Ok(None) => break,
                Ok(Some(Ok((id, result)))) => {
                    members.remove(&id);
                    failures_since_hold |=
                        result.outcomes.iter().any(|(_, outcome)| *outcome != Outcome::Ingested);
                    for (index, outcome) in result.outcomes {
                        outcomes[index] = Some(outcome);
                    }
                    merge(&mut report, result.report);
                }
                Ok(Some(Err(error))) => {
                    tracing::error!(%error, "a request task ended without a result; its records are reported failed");
                    let failure = Failure { code: "InternalError".into(), transient: true };
                    fail_all(outcomes, members.remove(&error.id()).unwrap_or_default(), &failure);
                    failures_since_hold = true;
                }
                Err(_deadline) => {
                    tasks.abort_all();
                    break;
                }
            }
        }
        // Requests still in flight at the deadline may or may not have been stored: they are
        // reported, so delivery stays at-least-once.
        let unanswered = Failure { code: "NoAnswerBeforeDeadline".into(), transient: true };
        for indices in members.into_values() {
            fail_all(outcomes, indices, &unanswered);
        }
        for (index, outcome) in outcomes.iter_mut().enumerate() {
            if outcome.is_none() && events[index].is_some() {
                *outcome = Some(Outcome::Held(Hold::OutOfTime));
            }
        }
        report
    }

    /// Sends one request, then sends its transient failures again with backoff while rounds
    /// and time remain.
    async fn send_with_retries(
        self,
        events: Arc<Vec<Option<AuditEvent>>>,
        pending: Vec<usize>,
        max_rounds: u32,
        slowest: Arc<AtomicU64>,
        deadline: Option<Instant>,
    ) -> RequestResult {
        let mut outcomes = Vec::with_capacity(pending.len());
        let mut report = SendReport { events_sent: pending.len(), ..SendReport::default() };
        let mut random = retry::jitter_seed();
        // The parts still to send, the next on top. A request refused whole for what one of its
        // events holds is sent again in halves, so that only that event fails.
        let mut parts = vec![pending];
        while let Some(mut pending) = parts.pop() {
            for round in 0.. {
                // The SDK takes its input by value, so each attempt copies its events; the copies
                // are made here, on the task, where requests are built in parallel.
                let batch = pending.iter().map(|&index| sdk_event(planned(&events, index))).collect();
                let started = Instant::now();
                let response = self
                    .client
                    .put_audit_events()
                    .channel_arn(&self.channel_arn)
                    .set_external_id(self.external_id.clone())
                    .set_audit_events(Some(batch))
                    .send()
                    .await;
                report.requests += 1;
                report.latencies_ms.push(started.elapsed().as_secs_f64() * 1000.0);
                slowest.fetch_max(started.elapsed().as_micros() as u64, AtomicOrdering::Relaxed);

                if let Err(error) = &response {
                    let failure = retry::classify(error);
                    let splittable = pending.len() > 1 && retry::may_be_one_events_fault(&failure);
                    if splittable && has_time_for_attempt(deadline, &slowest, Duration::ZERO) {
                        tracing::warn!(code = %failure.code, events = pending.len(), "request refused whole; sending it again in halves to find the event at fault");
                        let second = pending.split_off(pending.len() / 2);
                        parts.push(second);
                        parts.push(pending);
                        break;
                    }
                }

                let mut again = Vec::new();
                let mut last_failure = None;
                for (index, result) in judge(&events, pending, response) {
                    match result {
                        Ok(()) => outcomes.push((index, Outcome::Ingested)),
                        Err(failure) if failure.transient => {
                            again.push(index);
                            last_failure = Some(failure);
                        }
                        Err(Failure { code, transient }) => {
                            outcomes.push((index, Outcome::Failed { code, transient }))
                        }
                    }
                }
                let Some(failure) = last_failure else { break };
                random = random.rotate_left(17) ^ random.wrapping_mul(0x9E37_79B9_7F4A_7C15);
                let wait = retry::backoff(round + 1, random);
                let in_time = has_time_for_attempt(deadline, &slowest, wait);
                if round >= max_rounds || !in_time {
                    for index in again {
                        outcomes
                            .push((index, Outcome::Failed { code: failure.code.clone(), transient: true }));
                    }
                    break;
                }
                tracing::debug!(events = again.len(), code = %failure.code, ?wait, "sending transient failures again");
                report.retries += again.len();
                tokio::time::sleep(wait).await;
                pending = again;
            }
        }
        RequestResult { outcomes, report }
    }
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

/// The SDK's own retries: two attempts 50 ms apart at first, for the blips of one connection.
/// Longer waits are the forwarder's rounds, which know the invocation's deadline.
pub fn sdk_retries() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(2).with_initial_backoff(Duration::from_millis(50))
}

/// A request (or retry) is only started when at least this much time would be left for it.
const MIN_ATTEMPT_TIME: Duration = Duration::from_millis(50);

/// The most time a request needs to have left before it starts, however slow calls have been:
/// one hung call (the SDK gives each attempt 10 s) must not stop every later request.
const MAX_ATTEMPT_RESERVE: Duration = Duration::from_secs(1);

/// Whether an attempt starting after `wait` can finish before the deadline: it needs twice the
/// slowest call of this invocation so far, between [`MIN_ATTEMPT_TIME`] and
/// [`MAX_ATTEMPT_RESERVE`]. An attempt cut off at the deadline may have been stored, and then
/// comes back as a duplicate; one not started only comes back.
fn has_time_for_attempt(deadline: Option<Instant>, slowest: &AtomicU64, wait: Duration) -> bool {
    let slowest = Duration::from_micros(slowest.load(AtomicOrdering::Relaxed));
    let needed = (2 * slowest).clamp(MIN_ATTEMPT_TIME, MAX_ATTEMPT_RESERVE);
    deadline.is_none_or(|deadline| Instant::now() + wait + needed < deadline)
}

type Response = Result<
    PutAuditEventsOutput,
    aws_sdk_cloudtraildata::error::SdkError<
        aws_sdk_cloudtraildata::operation::put_audit_events::PutAuditEventsError,
        aws_sdk_cloudtraildata::config::http::HttpResponse,
    >,
>;

/// Each sent event with what the response says of it. An event the response does not mention
/// is not confirmed, so it counts as a transient failure rather than a success.
fn judge(
    events: &[Option<AuditEvent>],
    sent: Vec<usize>,
    response: Response,
) -> Vec<(usize, Result<(), Failure>)> {
    let output = match response {
        Ok(output) => output,
        Err(error) => {
            let failure = retry::classify(&error);
            tracing::warn!(
                code = %failure.code,
                transient = failure.transient,
                events = sent.len(),
                "PutAuditEvents request failed"
            );
            // A service message may quote what it refused, which could be event content: the
            // full error goes to debug only.
            tracing::debug!(error = %aws_sdk_cloudtraildata::error::DisplayErrorContext(&error), "PutAuditEvents error");
            return sent.into_iter().map(|index| (index, Err(failure.clone()))).collect();
        }
    };
    let mut answers: HashMap<&str, Result<(), Failure>> = HashMap::with_capacity(sent.len());
    for entry in output.successful() {
        answers.insert(entry.id(), Ok(()));
    }
    for entry in output.failed() {
        let code = entry.error_code();
        tracing::debug!(id = entry.id(), code, message = entry.error_message(), "event failed");
        answers.insert(
            entry.id(),
            Err(Failure { code: code.to_owned(), transient: retry::is_transient_event_code(code) }),
        );
    }
    let unconfirmed = Failure { code: "Unconfirmed".into(), transient: true };
    sent.into_iter()
        .map(|index| {
            let id = planned(events, index).id.as_str();
            (index, answers.get(id).cloned().unwrap_or_else(|| Err(unconfirmed.clone())))
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

fn fail_all(outcomes: &mut [Option<Outcome>], indices: Vec<usize>, failure: &Failure) {
    for index in indices {
        outcomes[index] = Some(Outcome::Failed { code: failure.code.clone(), transient: failure.transient });
    }
}

fn merge(total: &mut SendReport, part: SendReport) {
    total.requests += part.requests;
    total.events_sent += part.events_sent;
    total.retries += part.retries;
    total.latencies_ms.extend(part.latencies_ms);
}

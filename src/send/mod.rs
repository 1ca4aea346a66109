//! Audit events → per-record outcomes: the only part of the crate that talks to the network.
//!
//! - [`plan`]: audit events → requests of at most 100 events and 1 MB.
//! - [`body`]: a request's body, written byte for byte as the SDK would, its size known first.
//! - [`client`]: the SDK client's settings, and one `PutAuditEvents` call.
//! - [`response`]: the service's answer → each sent event's verdict.
//! - [`limiter`]: how many requests per second this execution environment may start, its
//!   share of the account's quota, found by feedback and kept across warm invocations.
//! - `scheduler`: which request goes next, under the limiter, the holds of the source's
//!   ordering and the deadline; one request's life (tries again, halves) is decided there.
//! - [`retry`]: which failures are transient, and the backoff between tries.
//!
//! [`Channel`] is the seam in front of the SDK: the scheduler's rules are unit-tested against
//! a scripted channel, and the integration tests prove the wire against the local stand-in.

pub mod body;
pub mod client;
pub mod limiter;
pub mod plan;
pub mod response;
pub mod retry;
mod scheduler;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

pub use client::{https_client, sdk_client, sdk_retries, sdk_timeouts, SdkChannel};
pub use limiter::Limiter;
use retry::Failure;

use crate::event::AuditEvent;
use crate::lambda::Record;
use crate::lambda::Source;
use crate::outcome::Outcome;

/// One `PutAuditEvents` call to the channel.
pub trait Channel: Send + Sync + 'static {
    /// Sends the events at `sent` (indices into `events`) in one request.
    fn put(
        &self,
        events: Arc<Vec<Option<AuditEvent>>>,
        sent: Vec<usize>,
    ) -> impl Future<Output = Reply> + Send;
}

/// What the service answered to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// HTTP 200: each event's verdict, in the order sent.
    Answered(Vec<Result<(), Failure>>),
    /// The request failed whole.
    Refused(Failure),
}

/// Sends audit events to one channel; built once per process, so its rate limiter carries
/// what it learned from one invocation to the next.
#[derive(Debug)]
pub struct Sender<C = SdkChannel> {
    channel: Arc<C>,
    limiter: Limiter,
    max_concurrent_requests: usize,
    /// The slowest call of the last delivery that made any, for the next one's first requests.
    slowest: Mutex<Duration>,
}

/// One invocation's sending: the records, their events, and where the outcomes go.
pub struct Delivery<'a> {
    pub records: &'a [Record],
    /// `events[i]` is record `i`'s audit event; `None` for records not to send.
    pub events: &'a Arc<Vec<Option<AuditEvent>>>,
    /// Filled for every record that had an event and no outcome yet.
    pub outcomes: &'a mut [Option<Outcome>],
    pub source: Source,
    /// When sending must stop so that the answer is ready in time, if it is known.
    pub send_until: Option<Instant>,
    /// Called with a record's index as soon as the service confirms its event.
    pub on_ingested: &'a mut (dyn FnMut(usize) + Send),
    /// A refusal an earlier delivery of the invocation met that every request would meet
    /// ([`SendReport::stopped`]): this delivery fails its events the same way, sending nothing.
    pub stopped: Option<Failure>,
}

/// What sending cost, for the invocation summary and the metrics.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SendReport {
    /// `PutAuditEvents` calls made.
    pub requests: usize,
    /// Events sent at least once.
    pub events_sent: usize,
    /// Events sent again after a transient failure, or in half of a refused request.
    pub retries: usize,
    /// Milliseconds each call took.
    pub latencies_ms: Vec<f64>,
    /// The most calls in flight at once.
    pub peak_in_flight: usize,
    /// Events not sent because this process saw them ingested before (redeliveries), or
    /// because the same record came twice in the batch.
    pub remembered: usize,
    /// Requests refused whole with `ThrottlingException`.
    pub throttled_requests: usize,
    /// Events answered `Throttling` inside a 200.
    pub throttled_events: usize,
    /// The limiter's rate at the end of the invocation, in requests per second.
    pub rate_limit: f64,
    /// Audit events ingested, confirmed now or earlier: a record of many events (CloudWatch
    /// Logs, KPL) counts each.
    pub events_ingested: usize,
    /// The refusal that showed every request would be refused, which stopped the batch.
    pub stopped: Option<Failure>,
}

impl SendReport {
    /// Adds what a later delivery of the same invocation cost.
    pub fn add(&mut self, later: SendReport) {
        self.requests += later.requests;
        self.events_sent += later.events_sent;
        self.retries += later.retries;
        self.latencies_ms.extend(later.latencies_ms);
        self.peak_in_flight = self.peak_in_flight.max(later.peak_in_flight);
        self.remembered += later.remembered;
        self.throttled_requests += later.throttled_requests;
        self.throttled_events += later.throttled_events;
        self.rate_limit = later.rate_limit;
        self.events_ingested += later.events_ingested;
        self.stopped = self.stopped.take().or(later.stopped);
    }
}

impl<C: Channel> Sender<C> {
    /// A sender that keeps at most `max_concurrent_requests` requests in flight and at most
    /// `max_requests_per_second` (the account's quota when `None`).
    pub fn new(
        channel: C,
        max_concurrent_requests: usize,
        max_requests_per_second: Option<f64>,
    ) -> Sender<C> {
        Sender {
            channel: Arc::new(channel),
            limiter: Limiter::new(max_requests_per_second),
            max_concurrent_requests: max_concurrent_requests.max(1),
            slowest: Mutex::new(Duration::ZERO),
        }
    }

    /// Sends every event whose record has no outcome yet and records what became of it.
    pub async fn deliver(&self, delivery: Delivery<'_>) -> SendReport {
        let slowest = *self.slowest.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let report =
            scheduler::Scheduler::new(&self.channel, &self.limiter, self.max_concurrent_requests, delivery)
                .knowing_slowest(slowest)
                .run()
                .await;
        if let Some(ms) = report.latencies_ms.iter().copied().reduce(f64::max) {
            *self.slowest.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) =
                Duration::from_secs_f64(ms / 1000.0);
        }
        report
    }

    /// How many requests can start at once now, before the rate paces the rest.
    pub fn burst(&self) -> usize {
        self.limiter.burst()
    }
}

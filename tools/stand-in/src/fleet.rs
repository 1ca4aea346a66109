//! A fleet of the function draining one SQS queue through one throttled CloudTrail Data
//! stand-in: how the function behaves when its execution environments share the account's
//! `PutAuditEvents` quota, as they do in Lambda.
//!
//! [`run`] starts the stand-in with an account quota and a latency, fills a [`Queue`] with
//! valid audit events, and starts `environments` processes of the real function binary, each
//! with its own Runtime API stand-in. Every environment loops as Lambda's pollers do: take a
//! batch from the shared queue, invoke with a deadline, apply the answer by Lambda's rules.
//! The run ends when the queue is drained or at the time limit, and returns a
//! [`FleetReport`]: what was stored, lost, duplicated and dead-lettered, and how close the
//! fleet came to the quota's ceiling. The benchmark (`src/bin/fleet.rs`) and the fleet test of
//! the main crate both call [`run`].
//!
//! Every loop is bounded: each message is received at most `max_receive_count` times, so the
//! invocations are bounded by the messages; the waits between them by the time limit.

mod environment;
pub mod queue;
pub mod report;

use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::task::JoinSet;
use tokio::time::Instant;

pub use environment::log_path;
use environment::{Ending, Environment, Launch};
pub use queue::{Batch, Queue, Tally, Verdict};
pub use report::{FleetReport, Invocations, OtherProducer, Setup};

use crate::fixtures::audit_event_of_len;
use crate::quota::Quota;
use crate::{Settings, StandIn};

/// How long an environment waits before asking again when nothing is visible but messages are
/// in flight or waiting out their visibility timeout.
const IDLE_WAIT: Duration = Duration::from_millis(20);

/// What to run. [`FleetSettings::new`] gives the targets of the issue: 8 environments, a
/// quota of 20 requests per second with a burst of 20, and 50 ms of service latency.
#[derive(Debug, Clone)]
pub struct FleetSettings {
    /// The function binary.
    pub binary: PathBuf,
    pub environments: usize,
    /// Messages in the queue, one audit event each.
    pub messages: usize,
    /// Bytes of each audit event.
    pub event_bytes: usize,
    /// The event source mapping's `BatchSize`.
    pub batch_size: usize,
    /// The account quota the stand-in enforces; `None` never throttles.
    pub account_quota: Option<Quota>,
    /// How long the stand-in takes to answer each request.
    pub latency: Duration,
    /// How long a failed message stays invisible after its answer (scaled down from real queues).
    pub visibility_timeout: Duration,
    /// The queue's redrive policy: receives before a message goes to the dead-letter list.
    pub max_receive_count: u32,
    /// The function timeout: each invocation's deadline.
    pub function_timeout: Duration,
    /// When the run stops, drained or not.
    pub time_limit: Duration,
    /// Variables added to every function process's environment, e.g. `MAX_CONCURRENT_REQUESTS`.
    pub function_environment: Vec<(String, String)>,
    /// The share of the account quota another producer takes, steadily, all run long (0 for
    /// none): the fleet may use the rest.
    pub other_producer_share: f64,
    /// Where each process's stdout and stderr go.
    pub logs: PathBuf,
}

impl FleetSettings {
    pub fn new(binary: impl Into<PathBuf>) -> FleetSettings {
        FleetSettings {
            binary: binary.into(),
            environments: 8,
            messages: 60_000,
            event_bytes: 1024,
            batch_size: 500,
            account_quota: Some(Quota { requests_per_second: 20.0, burst: 20.0 }),
            latency: Duration::from_millis(50),
            visibility_timeout: Duration::from_secs(1),
            max_receive_count: 5,
            function_timeout: Duration::from_secs(60),
            time_limit: Duration::from_secs(300),
            function_environment: Vec::new(),
            other_producer_share: 0.0,
            logs: std::env::temp_dir().join(format!("cloudtrail-fleet-{}", epoch_ms())),
        }
    }

    /// Refuses settings that cannot run, with what to change.
    fn check(&self) -> io::Result<()> {
        let invalid = |why: String| Err(io::Error::new(io::ErrorKind::InvalidInput, why));
        if !self.binary.is_file() {
            return invalid(format!(
                "no function binary at {}: build it first (cargo build --release --bin cloudtrail-lake-forwarder)",
                self.binary.display()
            ));
        }
        if self.environments == 0 || !(1..=10_000).contains(&self.batch_size) {
            return invalid("at least one environment, and a batch size of 1 to 10,000".into());
        }
        if self.max_receive_count == 0 {
            return invalid("maxReceiveCount must be at least 1".into());
        }
        if let Some(quota) = self.account_quota.filter(|quota| !quota.is_valid()) {
            return invalid(format!("the account quota must be positive and finite: {quota:?}"));
        }
        if !(0.0..1.0).contains(&self.other_producer_share)
            || (self.other_producer_share > 0.0 && self.account_quota.is_none())
        {
            return invalid("another producer's share is from 0 to below 1, of an account quota".into());
        }
        Ok(())
    }
}

/// The message id of message `i`: UUID-shaped like SQS's, with `i` readable in the last group.
pub fn message_id(i: usize) -> String {
    format!("5f0c9a1e-0000-4000-8000-{i:012}")
}

/// What the environments share while they drain the queue.
struct Shared {
    queue: Mutex<Queue>,
    stand_in: StandIn,
    launch: Launch,
    batch_size: usize,
    function_timeout: Duration,
    run_ends: Instant,
    invocations: Mutex<Invocations>,
    /// Messages deleted before their event was stored.
    lost: Mutex<Vec<String>>,
    /// Another producer's requests, and how many of them were throttled.
    other_producer: Mutex<(usize, usize)>,
}

impl Shared {
    fn queue(&self) -> MutexGuard<'_, Queue> {
        lock(&self.queue)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs the fleet until the queue is drained or the time limit, and reports what arrived.
/// Every process is killed before this returns; their logs stay in `settings.logs`.
pub async fn run(settings: &FleetSettings) -> io::Result<FleetReport> {
    settings.check()?;
    std::fs::create_dir_all(&settings.logs)?;
    let stand_in =
        StandIn::start(Settings { account_quota: settings.account_quota, ..Settings::default() }).await?;
    stand_in.set_latency(settings.latency);
    let bodies = (0..settings.messages).map(|i| audit_event_of_len(i, settings.event_bytes, "x"));
    let queue = Queue::new(bodies, message_id, settings.visibility_timeout, settings.max_receive_count);
    let launch = Launch {
        binary: settings.binary.clone(),
        extra_environment: settings.function_environment.clone(),
        logs: settings.logs.clone(),
    };

    let started = Instant::now();
    let mut environments = Vec::with_capacity(settings.environments);
    for index in 0..settings.environments {
        environments.push(Environment::start(index, &launch, &stand_in).await?);
    }
    let shared = Arc::new(Shared {
        queue: Mutex::new(queue),
        stand_in,
        launch,
        batch_size: settings.batch_size,
        function_timeout: settings.function_timeout,
        run_ends: started + settings.time_limit,
        invocations: Mutex::new(Invocations::default()),
        lost: Mutex::new(Vec::new()),
        other_producer: Mutex::new((0, 0)),
    });
    let other = settings.account_quota.filter(|_| settings.other_producer_share > 0.0).map(|quota| {
        let every =
            Duration::from_secs_f64(1.0 / (quota.requests_per_second * settings.other_producer_share));
        tokio::spawn(other_producer(shared.clone(), every))
    });
    let mut tasks = JoinSet::new();
    for environment in environments {
        tasks.spawn(poll(shared.clone(), environment));
    }
    let mut failure = None;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(())) => {}
            Ok(Err(error)) => failure = failure.or(Some(error)),
            Err(error) => std::panic::resume_unwind(error.into_panic()),
        }
    }
    let other_producer = match other {
        Some(task) => {
            task.abort();
            let (requests, throttled) = *lock(&shared.other_producer);
            Some(OtherProducer { share: settings.other_producer_share, requests, throttled })
        }
        None => None,
    };
    if let Some(error) = failure {
        return Err(error);
    }
    Ok(FleetReport { other_producer, ..report(settings, &shared, started.elapsed()) })
}

/// Another producer in the account: one request every `every`, all run long, each drawing a
/// token from the account quota; counts its requests and how many were throttled.
async fn other_producer(shared: Arc<Shared>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let through = shared.stand_in.take_quota_token();
        let mut counts = lock(&shared.other_producer);
        counts.0 += 1;
        counts.1 += usize::from(!through);
    }
}

/// One environment's poller: batches from the queue, answers applied, until the queue is
/// drained or the run ends. The process is killed on the way out.
async fn poll(shared: Arc<Shared>, mut environment: Environment) -> io::Result<()> {
    let result = drain(&shared, &mut environment).await;
    environment.stop().await;
    result
}

async fn drain(shared: &Shared, environment: &mut Environment) -> io::Result<()> {
    while Instant::now() < shared.run_ends {
        let received = shared.queue().receive(shared.batch_size, std::time::Instant::now());
        let Some(mut batch) = received else {
            if shared.queue().is_drained() {
                return Ok(());
            }
            tokio::time::sleep(IDLE_WAIT).await;
            continue;
        };
        lock(&shared.invocations).total += 1;
        let payload = std::mem::take(&mut batch.payload);
        let ending = environment.invoke(payload, shared.function_timeout, shared.run_ends).await;
        if ending == Ending::Cut {
            return Ok(());
        }
        let verdict = judge(shared, &ending, &batch);
        let deleted = shared.queue().settle(batch.number, &verdict, std::time::Instant::now());
        let lost = shared.stand_in.not_stored(deleted.iter().map(String::as_str));
        lock(&shared.lost).extend(lost.into_iter().map(str::to_owned));
        if matches!(ending, Ending::TimedOut | Ending::Crashed) {
            environment.replace(&shared.launch, &shared.stand_in).await?;
        }
    }
    Ok(())
}

/// The verdict on a batch from how its invocation ended, counted in the invocation tallies.
fn judge(shared: &Shared, ending: &Ending, batch: &Batch) -> Verdict {
    let mut invocations = lock(&shared.invocations);
    let verdict = match ending {
        Ending::Answered(answer) => Verdict::of_answer(answer, batch),
        Ending::Errored | Ending::TimedOut | Ending::Crashed | Ending::Cut => Verdict::BatchFailed,
    };
    match (ending, &verdict) {
        (Ending::Answered(_), Verdict::ItemsFailed(named)) => {
            invocations.with_item_failures += 1;
            invocations.item_failures += named.len();
        }
        (Ending::Answered(_) | Ending::Errored, Verdict::BatchFailed) => invocations.errors += 1,
        (Ending::TimedOut, _) => invocations.timeouts += 1,
        (Ending::Crashed, _) => invocations.crashes += 1,
        _ => {}
    }
    verdict
}

fn report(settings: &FleetSettings, shared: &Shared, wall_time: Duration) -> FleetReport {
    let queue = shared.queue();
    let tally = queue.tally();
    let measured =
        report::Measured::of(queue.message_ids(), &shared.stand_in.stored(), &shared.stand_in.requests());
    FleetReport {
        setup: Setup {
            environments: settings.environments,
            batch_size: settings.batch_size,
            account_quota: settings.account_quota,
            latency: settings.latency,
            function_environment: settings
                .function_environment
                .iter()
                .map(|(key, value)| format!("{key}={value}"))
                .collect(),
        },
        hit_time_limit: tally.left() > 0,
        queue: tally,
        lost: lock(&shared.lost).clone(),
        never_stored: measured.never_stored,
        stored: measured.stored,
        unique_stored: measured.unique_stored,
        requests: measured.requests,
        throttled_requests: measured.throttled_requests,
        throttled_per_second: measured.throttled_per_second,
        peak_requests_in_flight: shared.stand_in.peak_in_flight(),
        invocations: *lock(&shared.invocations),
        wall_time,
        ingest_window: measured.ingest_window,
        other_producer: None,
        logs: settings.logs.clone(),
    }
}

fn epoch_ms() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis()
}

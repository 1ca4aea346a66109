//! Delivery under faults. Models of Lambda's event source mappings drive the real handler
//! against the stand-in, which injects seeded chaos: 5xx, connections dropped before and after
//! the events were stored, per-event transient failures, and latency; and throttles, of a whole
//! request and of one event, late in each run.
//!
//! - SQS: what the answer does not name is deleted; named messages come back (standard: at
//!   the back of the queue; FIFO: in place, so groups stay in order); after `maxReceiveCount`
//!   receives they go to the dead-letter list. A function error returns the whole batch.
//!   Several execution environments poll the queue at once, as Lambda's pollers do; on a FIFO
//!   queue a message group is in one batch at a time.
//! - Kinesis: one environment per shard. The checkpoint moves to just before the lowest
//!   reported sequence number; a function error retries the same batch.
//!
//! Every test asserts that nothing is deleted or checkpointed before its event is stored, that
//! every event is stored at least once, and that every copy beyond the first is explained: by
//! a request the stand-in stored but never answered, or one cut off by the deadline, whose
//! events the forwarder cannot know were stored. It also asserts that the run met every kind
//! of fault, and prints how many of each, with the duplicates.
//!
//! What these tests need is faults, not volume: the chaos is far harsher than the service's
//! worst day, so that a few hundred events meet every kind of fault many times. Throttles are
//! the exception. Each one cuts the environment's rate limiter, and one met early, in a cold
//! environment's slow start, held it near two requests a second for the rest of the run, which
//! then measured only how slowly it sends (the limiter's rules have unit tests on paused time,
//! in `src/send/limiter.rs` and `src/send/scheduler/tests.rs`). So throttles are not drawn at
//! random but injected near the end of each run.

mod common;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::task::Poll;
use std::time::Duration;

use cloudtrail_data_stand_in::{Chaos, Fault, StandIn};
use cloudtrail_lake_forwarder::Forwarder;
use common::*;
use serde_json::Value;
use tokio::time::Instant;

const SEED: u64 = 0x2026_1126;
const MAX_RECEIVE_COUNT: u32 = 5;
/// The most invocations a model runs before it gives up (a bound, never reached when green).
const MAX_INVOCATIONS: usize = 2_000;
/// How long each invocation may take: Lambda's deadline.
const BUDGET: Duration = Duration::from_secs(5);
/// The fewest faults of each kind drawn at random that a run must meet.
const FEWEST_FAULTS: usize = 3;
/// The failure code of the events of a request still in flight when the deadline came.
const CUT_OFF: &str = "NoAnswerBeforeDeadline";

/// About a third of the requests fail whole, and one event in 25 fails alone.
fn chaos() -> Chaos {
    Chaos {
        seed: SEED,
        // Throttles are injected near the end of the run instead (see the module's docs).
        throttle: 0.0,
        server_error: 0.12,
        drop_before_store: 0.10,
        drop_after_store: 0.10,
        event_failure: 0.04,
        event_throttle: 0.0,
        max_latency: Duration::from_millis(15),
    }
}

async fn chaotic_stand_in(chaos: Chaos) -> StandIn {
    let stand_in = stand_in().await;
    stand_in.set_chaos(chaos);
    stand_in
}

/// Runs `futures` concurrently until each is done; a panic in one ends them all.
async fn together<F: Future<Output = ()>>(futures: impl IntoIterator<Item = F>) {
    let mut pending: Vec<_> = futures.into_iter().map(Box::pin).collect();
    std::future::poll_fn(|context| {
        pending.retain_mut(|future| future.as_mut().poll(context).is_pending());
        if pending.is_empty() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await
}

/// What one invocation answered.
struct Invoked {
    /// The answer's identifiers; `None` for a whole-batch failure.
    named: Option<Vec<String>>,
    /// Records whose request was still in flight when the deadline came.
    cut_off: usize,
}

/// Invokes the handler as Lambda would, with a deadline [`BUDGET`] away.
async fn invoke(forwarder: &Forwarder, event: Value) -> Invoked {
    let deadline = Instant::now() + BUDGET;
    match forwarder.forward(incoming(event), Some(deadline)).await {
        Ok((answer, summary)) => Invoked {
            named: Some(reported(&answer)),
            cut_off: summary.and_then(|summary| summary.failures.get(CUT_OFF).copied()).unwrap_or(0),
        },
        Err(_) => Invoked { named: None, cut_off: 0 },
    }
}

fn stored_ids(stand_in: &StandIn) -> HashSet<String> {
    stand_in.stored().into_iter().map(|event| event.id).collect()
}

/// A model's invocations, counted over all its environments, and the throttles injected near
/// the end of its run: one whole request in the last invocation a run without faults would
/// need, and the first try of the event at 95 % of the stream.
struct Invocations {
    count: AtomicUsize,
    throttle_at: usize,
}

impl Invocations {
    /// `ids` are the events' ids in the order the source delivers them.
    fn with_late_throttles(stand_in: &StandIn, fault_free: usize, ids: &[String]) -> Invocations {
        stand_in.fail_event(&ids[ids.len() * 95 / 100], "Throttling", 1);
        Invocations { count: AtomicUsize::new(0), throttle_at: fault_free - 1 }
    }

    /// Counts an invocation about to start.
    fn next(&self, stand_in: &StandIn) {
        let invocation = self.count.fetch_add(1, Ordering::SeqCst);
        assert!(invocation < MAX_INVOCATIONS, "the source did not drain in {MAX_INVOCATIONS} invocations");
        if invocation == self.throttle_at {
            stand_in.push_fault(Fault::Throttle);
        }
    }

    fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

/// Holds a run to having met every kind of fault, and prints what it met.
fn check_faults(source: &str, stand_in: &StandIn) {
    let met = stand_in.faults_met();
    println!("{source}: faults met {met:?}");
    for (kind, count, fewest) in [
        ("server errors", met.server_error, FEWEST_FAULTS),
        ("drops before storing", met.drop_before_store, FEWEST_FAULTS),
        ("drops after storing", met.drop_after_store, FEWEST_FAULTS),
        ("per-event InternalFailure", met.event_failure, FEWEST_FAULTS),
        ("throttled requests", met.throttle, 1),
        ("throttled events", met.event_throttle, 1),
    ] {
        assert!(count >= fewest, "{source}: {count} {kind}, fewer than {fewest}: the run proves too little");
    }
}

/// Counts copies beyond the first, prints them, and holds them to what the faults explain: the
/// events of requests stored but never answered, and of requests cut off by the deadline.
fn check_duplicates(source: &str, stand_in: &StandIn, sent: usize, cut_off: usize) {
    let stored = stand_in.stored();
    let unique: HashSet<&str> = stored.iter().map(|event| event.id.as_str()).collect();
    let duplicates = stored.len() - unique.len();
    let requests = stand_in.requests();
    let unanswered: usize =
        requests.iter().filter(|request| request.status.is_none()).map(|request| request.stored).sum();
    println!(
        "{source}: {sent} events, {} stored, {duplicates} duplicates ({:.1} %), explained by {unanswered} \
         stored without an answer and {cut_off} cut off by the deadline; {} requests",
        stored.len(),
        100.0 * duplicates as f64 / sent as f64,
        requests.len()
    );
    assert!(
        duplicates <= unanswered + cut_off,
        "{source}: {duplicates} duplicates, more than the faults explain"
    );
}

struct Message {
    id: String,
    body: String,
    group: Option<String>,
    receives: u32,
}

/// An SQS queue as the event source mapping sees it, polled by several environments.
struct Queue {
    fifo: bool,
    batch_size: usize,
    state: Mutex<QueueState>,
}

#[derive(Default)]
struct QueueState {
    visible: Vec<Message>,
    /// Batches being processed.
    in_flight: usize,
    /// FIFO: the message groups in a batch being processed.
    busy_groups: HashSet<String>,
    dead_letters: Vec<Message>,
    /// Records cut off by the deadline, over every invocation.
    cut_off: usize,
}

enum Received {
    Batch(Vec<Message>),
    /// Nothing to take now, but batches in flight may bring messages back.
    Wait,
    Drained,
}

impl Queue {
    /// A standard queue of `events` messages.
    fn standard(events: usize, batch_size: usize) -> Queue {
        Queue::new(events, batch_size, |_| None)
    }

    /// A FIFO queue of `events` messages, message `i` in group [`fifo_group`]`(i)`.
    fn fifo(events: usize) -> Queue {
        Queue::new(events, 10, |i| Some(fifo_group(i)))
    }

    fn new(events: usize, batch_size: usize, group: impl Fn(usize) -> Option<String>) -> Queue {
        let visible: Vec<Message> = (0..events)
            .map(|i| Message {
                id: format!("m-{i:05}"),
                body: audit_json(&format!("uid-{i}")),
                group: group(i),
                receives: 0,
            })
            .collect();
        let fifo = visible.iter().any(|m| m.group.is_some());
        Queue { fifo, batch_size, state: Mutex::new(QueueState { visible, ..QueueState::default() }) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn ids(&self) -> Vec<String> {
        self.lock().visible.iter().map(|m| m.id.clone()).collect()
    }

    /// The next batch: the first visible messages, on a FIFO queue only of groups no other
    /// batch holds (so a group's messages in a batch are the next ones of that group).
    fn receive(&self) -> Received {
        let mut state = self.lock();
        let state = &mut *state;
        if state.visible.is_empty() {
            return if state.in_flight == 0 { Received::Drained } else { Received::Wait };
        }
        let mut batch = Vec::new();
        let mut kept = Vec::new();
        for message in state.visible.drain(..) {
            let free = message.group.as_ref().is_none_or(|group| !state.busy_groups.contains(group));
            if batch.len() < self.batch_size && free {
                batch.push(message);
            } else {
                kept.push(message);
            }
        }
        state.visible = kept;
        if batch.is_empty() {
            return Received::Wait;
        }
        state.busy_groups.extend(batch.iter().filter_map(|m| m.group.clone()));
        state.in_flight += 1;
        for message in &mut batch {
            message.receives += 1;
        }
        Received::Batch(batch)
    }

    /// Deletes what the answer does not name (asserting its event was stored) and returns the
    /// rest to the queue.
    fn answered(&self, batch: Vec<Message>, invoked: Invoked, stored: &HashSet<String>) {
        let named: HashSet<String> = match invoked.named {
            Some(named) => named.into_iter().collect(),
            None => batch.iter().map(|m| m.id.clone()).collect(),
        };
        let batch_ids: HashSet<&str> = batch.iter().map(|m| m.id.as_str()).collect();
        assert!(
            named.iter().all(|id| batch_ids.contains(id.as_str())),
            "the answer names only the batch's messages"
        );
        let mut state = self.lock();
        state.cut_off += invoked.cut_off;
        state.in_flight -= 1;
        let mut returned = Vec::new();
        for message in batch {
            if let Some(group) = &message.group {
                state.busy_groups.remove(group);
            }
            if !named.contains(&message.id) {
                assert!(
                    stored.contains(&message.id),
                    "{} was deleted but its event was never stored",
                    message.id
                );
            } else if message.receives >= MAX_RECEIVE_COUNT {
                state.dead_letters.push(message);
            } else {
                returned.push(message);
            }
        }
        if self.fifo {
            state.visible.splice(0..0, returned);
        } else {
            state.visible.extend(returned);
        }
    }

    /// One environment's poller: invokes its forwarder with batch after batch until the queue
    /// is drained.
    async fn poll(&self, stand_in: &StandIn, forwarder: Forwarder, invocations: &Invocations) {
        loop {
            let batch = match self.receive() {
                Received::Batch(batch) => batch,
                Received::Wait => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
                Received::Drained => return,
            };
            invocations.next(stand_in);
            let event = records(
                batch
                    .iter()
                    .map(|m| match &m.group {
                        Some(group) => fifo_record(&m.id, group, &m.body),
                        None => sqs_record(&m.id, &m.body),
                    })
                    .collect(),
            );
            let invoked = invoke(&forwarder, event).await;
            self.answered(batch, invoked, &stored_ids(stand_in));
        }
    }

    /// Drains the queue with `environments` pollers, each its own execution environment.
    async fn drain(&self, stand_in: &StandIn, environments: usize) -> Invocations {
        let fault_free = self.lock().visible.len().div_ceil(self.batch_size);
        let invocations = Invocations::with_late_throttles(stand_in, fault_free, &self.ids());
        together((0..environments).map(|_| self.poll(stand_in, forwarder(stand_in), &invocations))).await;
        invocations
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqs_standard_loses_nothing_under_chaos() {
    const EVENTS: usize = 400;
    let stand_in = chaotic_stand_in(chaos()).await;
    let queue = Queue::standard(EVENTS, 20);
    let invocations = queue.drain(&stand_in, 4).await;

    let state = queue.lock();
    println!("sqs standard: {} invocations", invocations.count());
    assert_eq!(state.dead_letters.len(), 0, "messages reached the dead-letter queue");
    let stored = stored_ids(&stand_in);
    assert!((0..EVENTS).all(|i| stored.contains(&format!("m-{i:05}"))));
    check_duplicates("sqs standard", &stand_in, EVENTS, state.cut_off);
    check_faults("sqs standard", &stand_in);
}

/// FIFO message groups of two messages in a row, fifteen groups in turn: a batch of ten holds
/// two of each of five groups, and the next batch other groups, which other environments take
/// meanwhile.
const FIFO_GROUPS: usize = 15;

fn fifo_group(message: usize) -> String {
    format!("g-{}", message / 2 % FIFO_GROUPS)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqs_fifo_keeps_every_group_in_order_under_chaos() {
    const EVENTS: usize = 280;
    let stand_in = chaotic_stand_in(chaos()).await;
    let queue = Queue::fifo(EVENTS);
    let invocations = queue.drain(&stand_in, 3).await;

    let state = queue.lock();
    println!("sqs fifo: {} invocations", invocations.count());
    assert_eq!(state.dead_letters.len(), 0, "messages reached the dead-letter queue");
    // Each group's messages were first stored in the order they were sent.
    let mut first_stored: HashMap<String, usize> = HashMap::new();
    for (position, event) in stand_in.stored().into_iter().enumerate() {
        first_stored.entry(event.id).or_insert(position);
    }
    assert_eq!(first_stored.len(), EVENTS);
    let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
    for i in 0..EVENTS {
        groups.entry(fifo_group(i)).or_default().push(first_stored[&format!("m-{i:05}")]);
    }
    for (group, positions) in groups {
        assert!(positions.windows(2).all(|pair| pair[0] < pair[1]), "group {group} was stored out of order");
    }
    check_duplicates("sqs fifo", &stand_in, EVENTS, state.cut_off);
    check_faults("sqs fifo", &stand_in);
}

/// One shard read by its own environment: batch after batch from the checkpoint.
async fn read_shard(
    stand_in: &StandIn,
    shard: &[(String, String)],
    batch_size: usize,
    invocations: &Invocations,
    cut_off: &AtomicUsize,
) {
    let forwarder = forwarder(stand_in);
    let mut checkpoint = 0;
    while checkpoint < shard.len() {
        invocations.next(stand_in);
        let batch = &shard[checkpoint..(checkpoint + batch_size).min(shard.len())];
        let event = records(batch.iter().map(|(seq, data)| kinesis_record(seq, data.as_bytes())).collect());
        let invoked = invoke(&forwarder, event).await;
        cut_off.fetch_add(invoked.cut_off, Ordering::SeqCst);
        let Some(named) = invoked.named else { continue };
        let resume = named
            .iter()
            .map(|seq| {
                batch.iter().position(|(s, _)| s == seq).expect("the answer names only the batch's records")
            })
            .min()
            .unwrap_or(batch.len());
        let stored = stored_ids(stand_in);
        for (seq, _) in &batch[..resume] {
            assert!(stored.contains(seq), "{seq} was checkpointed but never stored");
        }
        checkpoint += resume;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kinesis_checkpoints_nothing_unstored_under_chaos() {
    const EVENTS: usize = 1200;
    const SHARDS: usize = 3;
    const BATCH_SIZE: usize = 100;
    // Harsher than the queues' chaos. Besides, a few records are refused once with a code that
    // retries cannot clear, so each shard advances part-way, in steps, whatever the machine's
    // speed: the checkpoint rule and the memory of recently ingested records are exercised,
    // not only the happy path.
    let stand_in = chaotic_stand_in(Chaos { server_error: 0.15, event_failure: 0.1, ..chaos() }).await;
    const REFUSED_ONCE: [usize; 5] = [77, 333, 555, 740, 1001];
    for position in REFUSED_ONCE {
        stand_in.fail_event(&sequence_number(position), "InvalidData", 1);
    }
    let records: Vec<(String, String)> =
        (0..EVENTS).map(|i| (sequence_number(i), audit_json(&format!("k-{i}")))).collect();
    let shards: Vec<&[(String, String)]> = records.chunks(EVENTS / SHARDS).collect();
    // The shards' records interleaved, as the stand-in receives them.
    let ids: Vec<String> =
        (0..EVENTS / SHARDS).flat_map(|i| shards.iter().map(move |shard| shard[i].0.clone())).collect();
    let invocations = Invocations::with_late_throttles(&stand_in, EVENTS.div_ceil(BATCH_SIZE), &ids);
    let cut_off = AtomicUsize::new(0);
    together(shards.iter().map(|shard| read_shard(&stand_in, shard, BATCH_SIZE, &invocations, &cut_off)))
        .await;

    println!("kinesis: {} invocations", invocations.count());
    assert!(invocations.count() > EVENTS / BATCH_SIZE, "the shards advanced part-way, not in whole batches");
    check_duplicates("kinesis", &stand_in, EVENTS, cut_off.load(Ordering::SeqCst));
    check_faults("kinesis", &stand_in);
}

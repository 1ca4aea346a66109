//! The scheduler's rules against a scripted channel, on paused time: a 60 s invocation takes
//! microseconds, and every request the scheduler makes is seen.

use std::sync::atomic::{AtomicUsize, Ordering as Atomic};
use std::sync::Mutex;

use super::*;
use crate::lambda::{ItemIdentifier, Record};

/// A channel whose answer to each request is scripted by `answer(call, events sent)`, after
/// `latency`. `None` from the script hangs the request forever.
struct Scripted<F> {
    answer: F,
    latency: Duration,
    calls: AtomicUsize,
    seen: Mutex<Vec<Vec<usize>>>,
}

impl<F> Channel for Scripted<F>
where
    F: Fn(usize, &[usize]) -> Option<Reply> + Send + Sync + 'static,
{
    async fn put(&self, _events: Arc<Vec<Option<AuditEvent>>>, sent: Vec<usize>) -> Reply {
        let call = self.calls.fetch_add(1, Atomic::SeqCst);
        self.seen.lock().unwrap().push(sent.clone());
        tokio::time::sleep(self.latency).await;
        match (self.answer)(call, &sent) {
            Some(reply) => reply,
            None => std::future::pending().await,
        }
    }
}

use crate::event::AuditEvent;
use crate::send::{body, Sender};

fn scripted<F>(answer: F) -> Arc<Scripted<F>> {
    Arc::new(Scripted {
        answer,
        latency: Duration::from_millis(50),
        calls: AtomicUsize::new(0),
        seen: Mutex::default(),
    })
}

fn all_ok(sent: &[usize]) -> Reply {
    Reply::Answered(sent.iter().map(|_| Ok(())).collect())
}

/// Every event of the request stored but event `failing`, which fails with `code`.
fn one_fails(sent: &[usize], failing: usize, code: &str, transient: bool) -> Reply {
    let verdict = |index: usize| if index == failing { Err(Failure::new(code, transient)) } else { Ok(()) };
    Reply::Answered(sent.iter().map(|&index| verdict(index)).collect())
}

fn refused(code: &str, transient: bool) -> Reply {
    Reply::Refused(Failure::new(code, transient))
}

struct Batch {
    records: Vec<Record>,
    events: Arc<Vec<Option<AuditEvent>>>,
    outcomes: Vec<Option<Outcome>>,
}

fn batch(len: usize, groups: Option<&[&str]>) -> Batch {
    let records = (0..len)
        .map(|i| Record {
            item_identifier: Some(ItemIdentifier::from(format!("m-{i}"))),
            payload: Ok(crate::lambda::Payload::Text(String::new())),
            message_group: groups.map(|groups| groups[i].to_owned()),
            arrival_ms: None,
            sent_ms: None,
        })
        .collect();
    let events = (0..len)
        .map(|i| {
            let id = format!("m-{i}");
            Some(AuditEvent {
                encoded_len: body::encoded_event_len(&id, "{}"),
                id,
                event_data: "{}".into(),
                checksum: String::new(),
            })
        })
        .collect();
    Batch { records, events: Arc::new(events), outcomes: vec![None; len] }
}

/// Runs one delivery and returns what it reported, with the indices confirmed as they came.
async fn deliver<C: Channel>(
    channel: &Arc<C>,
    limiter: &Limiter,
    batch: &mut Batch,
    source: Source,
    budget: Duration,
) -> (SendReport, Vec<usize>) {
    let mut confirmed = Vec::new();
    let mut on_ingested = |index: usize| confirmed.push(index);
    let delivery = Delivery {
        records: &batch.records,
        events: &batch.events,
        outcomes: &mut batch.outcomes,
        source,
        send_until: Some(Instant::now() + budget),
        on_ingested: &mut on_ingested,
        stopped: None,
    };
    let report = Scheduler::new(channel, limiter, 100, delivery).run().await;
    (report, confirmed)
}

/// A limiter that has grown to the account's quota, as after many clean batches.
fn fast_limiter() -> Limiter {
    let limiter = Limiter::new(None);
    let now = Instant::now();
    for _ in 0..1_000 {
        let _ = limiter.try_acquire(now);
        limiter.on_clean(now, now + Duration::from_millis(50));
    }
    assert_eq!(limiter.rate(), 100.0);
    limiter
}

fn count(outcomes: &[Option<Outcome>], wanted: &Outcome) -> usize {
    outcomes.iter().filter(|outcome| outcome.as_ref() == Some(wanted)).count()
}

#[tokio::test(start_paused = true)]
async fn a_confirmation_is_kept_when_a_later_try_hangs_past_the_deadline() {
    let channel = scripted(|call, sent: &[usize]| match call {
        0 => Some(one_fails(sent, 9, "Throttling", true)),
        _ => None,
    });
    let mut batch = batch(10, None);
    let (report, confirmed) =
        deliver(&channel, &fast_limiter(), &mut batch, Source::Sqs, Duration::from_secs(5)).await;

    assert_eq!(confirmed, (0..9).collect::<Vec<_>>());
    assert_eq!(count(&batch.outcomes, &Outcome::Ingested), 9);
    assert_eq!(
        batch.outcomes[9],
        Some(Outcome::Failed { code: "NoAnswerBeforeDeadline".into(), transient: true })
    );
    assert_eq!((report.requests, report.events_sent, report.retries, report.throttled_events), (1, 10, 1, 1));
}

#[tokio::test(start_paused = true)]
async fn a_request_task_that_panics_fails_only_its_own_events() {
    let channel = scripted(|call, sent: &[usize]| {
        assert_eq!(call, 0, "the second try, of event 9 alone, panics");
        Some(one_fails(sent, 9, "InternalFailure", true))
    });
    let mut batch = batch(10, None);
    deliver(&channel, &fast_limiter(), &mut batch, Source::Sqs, Duration::from_secs(5)).await;

    assert_eq!(count(&batch.outcomes, &Outcome::Ingested), 9);
    assert_eq!(batch.outcomes[9], Some(Outcome::Failed { code: "InternalError".into(), transient: true }));
}

#[tokio::test(start_paused = true)]
async fn a_refusal_that_is_not_about_content_stops_splitting_after_one_pair() {
    let channel = scripted(|_, _: &[usize]| Some(refused("ValidationException", false)));
    let mut batch = batch(100, None);
    let (report, _) =
        deliver(&channel, &fast_limiter(), &mut batch, Source::Sqs, Duration::from_secs(60)).await;

    assert_eq!(report.requests, 3, "the request and its two halves");
    assert_eq!(
        count(&batch.outcomes, &Outcome::Failed { code: "ValidationException".into(), transient: false }),
        100
    );
}

#[tokio::test(start_paused = true)]
async fn a_batch_refused_whole_costs_a_bounded_number_of_requests_whatever_its_size() {
    let channel = scripted(|_, _: &[usize]| Some(refused("ValidationException", false)));
    let mut batch = batch(10_000, None);
    let (report, _) =
        deliver(&channel, &fast_limiter(), &mut batch, Source::Sqs, Duration::from_secs(60)).await;

    // All 100 planned requests start at once; each may split once before the first pair of
    // halves proves the cause, after which nothing more is sent.
    assert!(report.requests <= 300, "{} requests", report.requests);
    assert!(batch.outcomes.iter().all(|outcome| matches!(outcome, Some(Outcome::Failed { .. }))));
}

#[tokio::test(start_paused = true)]
async fn a_refusal_about_the_channel_stops_the_batch_at_once() {
    let channel = scripted(|_, _: &[usize]| Some(refused("ChannelNotFound", false)));
    let limiter = Limiter::new(None);
    let mut batch = batch(1_000, None);
    let (report, _) = deliver(&channel, &limiter, &mut batch, Source::Sqs, Duration::from_secs(60)).await;

    assert_eq!(report.requests, 1, "a cold limiter lets one request start; the rest is not sent");
    assert_eq!(
        count(&batch.outcomes, &Outcome::Failed { code: "ChannelNotFound".into(), transient: false }),
        1_000
    );
}

#[tokio::test(start_paused = true)]
async fn a_delivery_after_a_stop_fails_its_events_alike_without_a_request() {
    let channel = scripted(|_, sent: &[usize]| Some(all_ok(sent)));
    let mut batch = batch(300, None);
    batch.outcomes[7] = Some(Outcome::Ingested);
    let stopped = Failure::new("ChannelNotFound", false);
    let mut on_ingested = |_: usize| {};
    let delivery = Delivery {
        records: &batch.records,
        events: &batch.events,
        outcomes: &mut batch.outcomes,
        source: Source::Kinesis,
        send_until: None,
        on_ingested: &mut on_ingested,
        stopped: Some(stopped.clone()),
    };
    let report = Scheduler::new(&channel, &fast_limiter(), 100, delivery).run().await;

    assert_eq!(channel.calls.load(Atomic::SeqCst), 0);
    assert_eq!(report.stopped, Some(stopped));
    assert_eq!(
        count(&batch.outcomes, &Outcome::Failed { code: "ChannelNotFound".into(), transient: false }),
        299
    );
    assert_eq!(batch.outcomes[7], Some(Outcome::Ingested), "what was decided before stays");
}

#[tokio::test(start_paused = true)]
async fn halving_isolates_the_one_event_the_service_refuses() {
    let channel = scripted(|_, sent: &[usize]| {
        Some(if sent.contains(&37) { refused("ValidationException", false) } else { all_ok(sent) })
    });
    let mut batch = batch(100, None);
    let (report, _) =
        deliver(&channel, &fast_limiter(), &mut batch, Source::Sqs, Duration::from_secs(60)).await;

    assert_eq!(count(&batch.outcomes, &Outcome::Ingested), 99);
    assert_eq!(
        batch.outcomes[37],
        Some(Outcome::Failed { code: "ValidationException".into(), transient: false })
    );
    assert!(report.requests <= 1 + 2 * 7, "{} requests", report.requests);
}

#[tokio::test(start_paused = true)]
async fn a_throttle_episode_shorter_than_the_budget_loses_nothing() {
    let start = Instant::now();
    let channel = scripted(move |_, sent: &[usize]| {
        Some(if start.elapsed() < Duration::from_secs(12) {
            refused("ThrottlingException", true)
        } else {
            all_ok(sent)
        })
    });
    let limiter = fast_limiter();
    let mut batch = batch(1_000, None);
    let (report, _) = deliver(&channel, &limiter, &mut batch, Source::Sqs, Duration::from_secs(59)).await;

    assert_eq!(count(&batch.outcomes, &Outcome::Ingested), 1_000);
    assert!(report.throttled_requests > 0);
    assert!(limiter.rate() < 100.0, "the throttles slowed the limiter down: {}", limiter.rate());
    assert!(start.elapsed() > Duration::from_secs(12));
}

#[tokio::test(start_paused = true)]
async fn throttling_cuts_the_rate_so_retries_do_not_hammer_the_quota() {
    let start = Instant::now();
    let channel = scripted(move |_, _: &[usize]| Some(refused("ThrottlingException", true)));
    let limiter = fast_limiter();
    let mut batch = batch(100, None);
    let (report, _) = deliver(&channel, &limiter, &mut batch, Source::Sqs, Duration::from_secs(10)).await;

    assert_eq!(
        count(&batch.outcomes, &Outcome::Failed { code: "ThrottlingException".into(), transient: true }),
        100
    );
    // Unpaced, 10 s of 50 ms round trips would be about 200 requests.
    assert!(report.requests < 40, "{} requests in {:?}", report.requests, start.elapsed());
}

#[tokio::test(start_paused = true)]
async fn a_fifo_groups_next_message_waits_only_for_its_previous_one_to_be_confirmed() {
    let channel = scripted(|call, sent: &[usize]| {
        Some(if call == 0 { one_fails(sent, 0, "InternalFailure", true) } else { all_ok(sent) })
    });
    let mut batch = batch(4, Some(&["a", "b", "a", "b"]));
    deliver(&channel, &fast_limiter(), &mut batch, Source::SqsFifo, Duration::from_secs(10)).await;

    assert_eq!(count(&batch.outcomes, &Outcome::Ingested), 4);
    // Group b's second message goes as soon as its first is confirmed, while group a's first
    // waits to be tried again (after a random backoff, which may be none: then the two may go
    // in either order); group a's second goes only after its first is confirmed.
    let seen = channel.seen.lock().unwrap().clone();
    let request_of = |event: usize| seen.iter().rposition(|request| request.contains(&event)).unwrap();
    assert_eq!(seen[0], [0, 1]);
    assert!(request_of(3) < request_of(2) && request_of(0) < request_of(2), "{seen:?}");
    assert_eq!(seen.last().unwrap(), &[2], "{seen:?}");
}

#[tokio::test(start_paused = true)]
async fn a_fifo_group_that_keeps_failing_holds_back_only_itself() {
    let channel = scripted(|_, sent: &[usize]| Some(one_fails(sent, 0, "InternalFailure", true)));
    let mut batch = batch(6, Some(&["a", "b", "c", "a", "b", "c"]));
    deliver(&channel, &fast_limiter(), &mut batch, Source::SqsFifo, Duration::from_secs(4)).await;

    for index in [1, 2, 4, 5] {
        assert_eq!(batch.outcomes[index], Some(Outcome::Ingested), "message {index}");
    }
    assert!(
        matches!(&batch.outcomes[0], Some(Outcome::Failed { code, transient: true }) if code == "InternalFailure")
    );
    assert!(batch.outcomes[3] != Some(Outcome::Ingested), "{:?}", batch.outcomes[3]);
    let seen = channel.seen.lock().unwrap();
    assert!(seen.iter().all(|request| !request.contains(&3)), "never sent ahead of its group: {seen:?}");
    // Each of the other groups' second message went after its first was answered.
    let first_request_with = |index: usize| seen.iter().position(|request| request.contains(&index)).unwrap();
    assert!(first_request_with(4) > first_request_with(1));
    assert!(first_request_with(5) > first_request_with(2));
}

#[tokio::test(start_paused = true)]
async fn once_a_fifo_batch_is_stopped_no_group_sends_anything_new() {
    // Message 1 (group b) fails once, and its retry meets a refusal every request would meet;
    // group a has eight messages, still going when that refusal comes.
    let channel = scripted(|call, sent: &[usize]| {
        Some(match (call, sent.contains(&1)) {
            (0, _) => one_fails(sent, 1, "InternalFailure", true),
            (_, true) => refused("AccessDeniedException", false),
            (_, false) => all_ok(sent),
        })
    });
    let groups: Vec<&str> = (0..16).map(|i| if i % 2 == 0 { "a" } else { "b" }).collect();
    let mut batch = batch(16, Some(&groups));
    let (report, _) =
        deliver(&channel, &fast_limiter(), &mut batch, Source::SqsFifo, Duration::from_secs(10)).await;

    assert_eq!(report.stopped.map(|failure| failure.code).as_deref(), Some("AccessDeniedException"));
    let seen = channel.seen.lock().unwrap();
    let refused_at = seen.iter().rposition(|request| request.contains(&1)).unwrap();
    // Group a had one request in flight when the refusal came back; nothing starts after it.
    assert!(seen.len() <= refused_at + 2, "requests after the stop: {seen:?}");
    let failed = |index: usize| matches!(&batch.outcomes[index], Some(Outcome::Failed { code, .. }) if code == "AccessDeniedException");
    assert!(
        failed(14),
        "group a's last message is failed with the refusal, not sent: {:?}",
        batch.outcomes[14]
    );
}

#[tokio::test(start_paused = true)]
async fn a_permanent_failure_holds_back_the_rest_of_its_fifo_group() {
    let channel = scripted(|_, sent: &[usize]| Some(one_fails(sent, 0, "InvalidData", false)));
    let mut batch = batch(4, Some(&["a", "b", "a", "b"]));
    deliver(&channel, &fast_limiter(), &mut batch, Source::SqsFifo, Duration::from_secs(10)).await;

    assert_eq!(batch.outcomes[2], Some(Outcome::Held(Hold::BehindFailure)));
    assert_eq!(batch.outcomes[3], Some(Outcome::Ingested));
}

#[tokio::test(start_paused = true)]
async fn nothing_starts_without_time_to_finish_and_what_was_not_sent_is_out_of_time() {
    let channel = scripted(|_, sent: &[usize]| Some(all_ok(sent)));
    let mut batch = batch(3, None);
    let (report, _) =
        deliver(&channel, &fast_limiter(), &mut batch, Source::Sqs, Duration::from_millis(30)).await;

    assert_eq!(report.requests, 0);
    assert_eq!(count(&batch.outcomes, &Outcome::Held(Hold::OutOfTime)), 3);
}

/// One delivery of `batch` through `sender`, with `budget` before its stop.
async fn through<C: Channel>(sender: &Sender<C>, batch: &mut Batch, budget: Duration) -> SendReport {
    let mut on_ingested = |_| {};
    let delivery = Delivery {
        records: &batch.records,
        events: &batch.events,
        outcomes: &mut batch.outcomes,
        source: Source::Sqs,
        send_until: Some(Instant::now() + budget),
        on_ingested: &mut on_ingested,
        stopped: None,
    };
    sender.deliver(delivery).await
}

/// A file's object is sent in windows, one delivery each, and an invocation's batch in parts:
/// a delivery that starts late must know how slow the service has been, or its first request
/// starts with 50 ms left, is cut off at the stop and its events, stored or not, are sent again.
#[tokio::test(start_paused = true)]
async fn a_later_delivery_remembers_how_slow_the_service_was_and_starts_nothing_it_cannot_finish() {
    let slow = Scripted {
        answer: |_, sent: &[usize]| Some(all_ok(sent)),
        latency: Duration::from_millis(200),
        calls: AtomicUsize::new(0),
        seen: Mutex::default(),
    };
    let sender = Sender::new(slow, 100, None);
    let mut first = batch(3, None);
    assert_eq!(through(&sender, &mut first, Duration::from_secs(10)).await.requests, 1);
    // The rate limiter has a token again: only time can keep the next request back.
    tokio::time::sleep(Duration::from_secs(1)).await;

    let mut second = batch(3, None);
    let report = through(&sender, &mut second, Duration::from_millis(150)).await;

    assert_eq!(
        count(&second.outcomes, &Outcome::Held(Hold::OutOfTime)),
        3,
        "a request that takes 200 ms started with 150 ms left before the stop: {:?}",
        second.outcomes
    );
    assert_eq!(report.requests, 0);
}

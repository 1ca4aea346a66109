//! The order of sending in one invocation: which request starts next, and what each answer
//! means for the events it carried.
//!
//! A request starts only when the source's ordering allows it, the rate limiter has a token
//! for it, and there is time for it to finish before `send_until`. On a FIFO queue each message
//! group has at most one message in flight or waiting to be tried again: a group's next message
//! goes, in a request with whatever else is ready, as soon as its previous one is confirmed,
//! whatever the other groups are doing, so a group that keeps failing holds back only itself.
//! Each answer is applied the moment it arrives: a confirmed event is ingested for good, even
//! if a later try of its neighbours hangs until the deadline. Transient failures go back in
//! line (throttled ones wait for the limiter, others back off); a request refused whole for
//! what one event may hold is sent again in halves. If both halves of a split are refused the
//! same way, the cause is not an event's content: splitting stops, and so does the batch, as
//! it does at once for refusals about the channel or the caller. So a batch costs at most its
//! planned requests plus, for each event at fault, two per halving (`2 log2 100` = 14), and a
//! channel that refuses everything costs at most three requests per request in flight.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::{Id, JoinError, JoinSet};
use tokio::time::Instant;

use super::retry::{self, Failure};
use super::{Channel, Delivery, Limiter, Reply, SendReport};
use crate::lambda::Source;
use crate::outcome::{Hold, Outcome};
use crate::send::plan;

/// A request (or its retry, or half of it) waiting to be sent.
#[derive(Debug, Clone)]
struct Part {
    events: Vec<usize>,
    /// How many times these events were sent before.
    tries: u32,
    not_before: Option<Instant>,
    /// The split this part is one half of.
    pair: Option<usize>,
}

/// The halves of a refused request, until both have answered.
enum Pair {
    Pending,
    /// One half was refused and waits for the other to tell whether the cause is its content.
    OneRefused(Part, Failure),
    /// One half got through: the refusal came from the other half's content.
    OneFine,
}

/// What a request task hands back.
struct Sent {
    reply: Reply,
    sent_at: Instant,
    elapsed: Duration,
}

/// The shortest and the longest time a request must have left before it starts: twice the
/// slowest call so far (this delivery's, or the last one's: an object's windows and a batch's
/// parts are deliveries of their own, and the first request of each must know how slow the
/// service has been), within these bounds. One hung call (the SDK allows 10 s) must not stop
/// every later request; a call cut off at the deadline may have been stored, and then comes
/// back as a duplicate, while one not started only comes back.
const MIN_ATTEMPT_TIME: Duration = Duration::from_millis(50);
const MAX_ATTEMPT_RESERVE: Duration = Duration::from_secs(1);

/// The most a throttled event waits before going back in line: the limiter has slowed down
/// and paces it; this only keeps environments that met the same throttle out of step.
const THROTTLE_JITTER_MS: u64 = 50;

pub(super) struct Scheduler<'s, 'd, C> {
    channel: &'s Arc<C>,
    limiter: &'s Limiter,
    max_in_flight: usize,
    delivery: Delivery<'d>,
    planned: VecDeque<Part>,
    waiting: Vec<Part>,
    flying: HashMap<Id, Part>,
    tasks: JoinSet<Sent>,
    pairs: HashMap<usize, Pair>,
    /// The last transient failure of each event that waits to be sent again.
    last_failure: HashMap<usize, Failure>,
    sent_once: Vec<bool>,
    /// Events in a part until they are decided (planned or put back there, flying, waiting
    /// to be tried again, or parked as one half of a refused pair): for FIFO, a group whose
    /// message is taken sends nothing else.
    taken: Vec<bool>,
    next_pair: usize,
    holds_due: bool,
    out_of_time: bool,
    token_at: Option<Instant>,
    slowest: Duration,
    random: u64,
    report: SendReport,
}

impl<'s, 'd, C: Channel> Scheduler<'s, 'd, C> {
    pub(super) fn new(
        channel: &'s Arc<C>,
        limiter: &'s Limiter,
        max_in_flight: usize,
        mut delivery: Delivery<'d>,
    ) -> Scheduler<'s, 'd, C> {
        let stopped = delivery.stopped.take();
        let planned =
            plan(&delivery).into_iter().map(|events| Part { events, tries: 0, not_before: None, pair: None });
        let mut scheduler = Scheduler {
            channel,
            limiter,
            max_in_flight,
            planned: planned.collect(),
            waiting: Vec::new(),
            flying: HashMap::new(),
            tasks: JoinSet::new(),
            pairs: HashMap::new(),
            last_failure: HashMap::new(),
            sent_once: vec![false; delivery.events.len()],
            taken: vec![false; delivery.events.len()],
            next_pair: 0,
            holds_due: false,
            out_of_time: false,
            token_at: None,
            slowest: Duration::ZERO,
            random: retry::jitter_seed() | 1,
            report: SendReport::default(),
            delivery,
        };
        if let Some(failure) = stopped {
            scheduler.stop(&failure);
        }
        scheduler
    }

    /// Set once a refusal showed that every request would be refused.
    fn stopped(&self) -> bool {
        self.report.stopped.is_some()
    }

    /// Starts from `slowest`, the slowest call of the sender's last delivery.
    pub(super) fn knowing_slowest(mut self, slowest: Duration) -> Self {
        self.slowest = slowest;
        self
    }

    pub(super) async fn run(mut self) -> SendReport {
        loop {
            self.start_what_can_start();
            let idle = self.planned.is_empty() && self.waiting.is_empty();
            if self.tasks.is_empty() && (idle || self.out_of_time) {
                break;
            }
            // A part already due waits for a token or a free slot, not for its own time.
            let now = Instant::now();
            let backoffs = self.waiting.iter().filter_map(|part| part.not_before).filter(|&at| at > now);
            let wake = backoffs.chain(self.token_at).min();
            tokio::select! {
                joined = self.tasks.join_next_with_id(), if !self.tasks.is_empty() => self.joined(joined),
                _ = sleep_until(wake), if wake.is_some() => {}
                _ = sleep_until(self.delivery.send_until), if self.delivery.send_until.is_some() => break,
            }
        }
        self.finish()
    }

    fn start_what_can_start(&mut self) {
        self.token_at = None;
        while self.tasks.len() < self.max_in_flight {
            let now = Instant::now();
            let Some((part, from_waiting)) = self.next_part(now) else { return };
            let put_back = |this: &mut Self, part| match from_waiting {
                true => this.waiting.push(part),
                false => this.planned.push_front(part),
            };
            if !self.has_time_for_attempt(now) {
                put_back(self, part);
                self.out_of_time = true;
                return;
            }
            if let Err(at) = self.limiter.try_acquire(now) {
                put_back(self, part);
                self.token_at = Some(at);
                return;
            }
            self.spawn(part);
        }
    }

    /// The next part to send: a retry or half whose time has come, else the next planned
    /// request (what is left of it once holds are applied), else, for FIFO, a request of the
    /// groups' messages that are ready.
    fn next_part(&mut self, now: Instant) -> Option<(Part, bool)> {
        if let Some(position) =
            self.waiting.iter().position(|part| part.not_before.is_none_or(|at| at <= now))
        {
            return Some((self.waiting.remove(position), true));
        }
        if self.holds_due {
            self.delivery.source.hold_behind_failures(self.delivery.records, self.delivery.outcomes);
            self.holds_due = false;
        }
        while let Some(mut part) = self.planned.pop_front() {
            part.events.retain(|&index| self.delivery.outcomes[index].is_none());
            if !part.events.is_empty() {
                return Some((part, false));
            }
        }
        self.ready_in_groups().map(|events| (Part { events, tries: 0, not_before: None, pair: None }, false))
    }

    /// FIFO: the first message of each group that is not ingested, where it is not taken and
    /// has no outcome yet, packed into one request within the limits. Every message before it
    /// in its group is confirmed, so sending it keeps the group's order.
    fn ready_in_groups(&mut self) -> Option<Vec<usize>> {
        if self.delivery.source != Source::SqsFifo || self.stopped() {
            return None;
        }
        let (records, outcomes, events) =
            (self.delivery.records, &*self.delivery.outcomes, self.delivery.events);
        let mut blocked: HashSet<Option<&str>> = HashSet::new();
        let ready = (0..events.len()).filter(|&index| {
            if outcomes[index] == Some(Outcome::Ingested) {
                return false;
            }
            let first_in_group = blocked.insert(records[index].message_group.as_deref());
            first_in_group && outcomes[index].is_none() && !self.taken[index] && events[index].is_some()
        });
        let ready: Vec<(usize, &str, usize)> = ready
            .map(|index| {
                let event = events[index].as_ref().expect("only events are ready");
                (index, event.id.as_str(), event.encoded_len)
            })
            .collect();
        let request = plan::pack(ready).into_iter().next()?.events;
        for &index in &request {
            self.taken[index] = true;
        }
        Some(request)
    }

    fn spawn(&mut self, part: Part) {
        for &index in &part.events {
            self.taken[index] = true;
            match std::mem::replace(&mut self.sent_once[index], true) {
                true => self.report.retries += 1,
                false => self.report.events_sent += 1,
            }
        }
        let (channel, events, sent) =
            (self.channel.clone(), self.delivery.events.clone(), part.events.clone());
        let handle = self.tasks.spawn(async move {
            let sent_at = Instant::now();
            let reply = channel.put(events, sent).await;
            Sent { reply, sent_at, elapsed: sent_at.elapsed() }
        });
        self.flying.insert(handle.id(), part);
        self.report.peak_in_flight = self.report.peak_in_flight.max(self.tasks.len());
    }

    fn joined(&mut self, joined: Option<Result<(Id, Sent), JoinError>>) {
        match joined {
            Some(Ok((id, sent))) => {
                if let Some(part) = self.flying.remove(&id) {
                    self.answered(part, sent);
                }
            }
            Some(Err(error)) => {
                tracing::error!(%error, "a request task ended without an answer; its events are reported failed");
                if let Some(part) = self.flying.remove(&error.id()) {
                    self.fail(&part.events, &Failure::new("InternalError", true));
                }
            }
            None => {}
        }
    }

    fn answered(&mut self, part: Part, sent: Sent) {
        let now = Instant::now();
        self.report.requests += 1;
        self.report.latencies_ms.push(sent.elapsed.as_secs_f64() * 1000.0);
        self.slowest = self.slowest.max(sent.elapsed);
        match sent.reply {
            Reply::Answered(verdicts) => {
                self.settle_pair(part.pair);
                self.judge_events(part, verdicts, sent.sent_at, now);
            }
            Reply::Refused(failure) if failure.transient => {
                if failure.is_throttling() {
                    self.report.throttled_requests += 1;
                    self.limiter.on_throttle(sent.sent_at, now, 1.0);
                }
                tracing::warn!(code = %failure.code, events = part.events.len(), "PutAuditEvents request failed; sending it again");
                for &index in &part.events {
                    self.last_failure.insert(index, failure.clone());
                }
                self.send_again(part, &failure, now);
            }
            Reply::Refused(failure) => self.refused(part, failure),
        }
    }

    fn judge_events(
        &mut self,
        part: Part,
        verdicts: Vec<Result<(), Failure>>,
        sent_at: Instant,
        now: Instant,
    ) {
        let mut again = Vec::new();
        let mut last = None;
        let mut throttled = 0;
        let events = part.events.len();
        for (&index, verdict) in part.events.iter().zip(verdicts) {
            match verdict {
                Ok(()) => self.decide(index, Outcome::Ingested),
                Err(failure) if failure.transient => {
                    throttled += usize::from(failure.is_throttling());
                    again.push(index);
                    self.last_failure.insert(index, failure.clone());
                    last = Some(failure);
                }
                Err(Failure { code, transient }) => self.decide(index, Outcome::Failed { code, transient }),
            }
        }
        self.report.throttled_events += throttled;
        match throttled {
            0 => self.limiter.on_clean(sent_at, now),
            throttled => self.limiter.on_throttle(sent_at, now, throttled as f64 / events as f64),
        }
        if let Some(failure) = last {
            let failure = if throttled > 0 { Failure::new("Throttling", true) } else { failure };
            self.send_again(
                Part { events: again, tries: part.tries, not_before: None, pair: None },
                &failure,
                now,
            );
        }
    }

    /// Puts transient failures back in line: throttled ones for the limiter to pace, the others
    /// after a backoff that grows with each try. Once the batch is stopped nothing goes back.
    fn send_again(&mut self, mut part: Part, failure: &Failure, now: Instant) {
        if self.stopped() {
            return self.fail(&part.events, failure);
        }
        part.tries += 1;
        tracing::debug!(code = %failure.code, events = part.events.len(), "sending transient failures again");
        let random = retry::next_random(&mut self.random);
        let wait = match failure.is_throttling() {
            true => Duration::from_millis(random % (THROTTLE_JITTER_MS + 1)),
            false => retry::backoff(part.tries, random),
        };
        part.not_before = Some(now + wait);
        self.waiting.push(part);
    }

    /// A request refused whole, for good.
    fn refused(&mut self, part: Part, failure: Failure) {
        tracing::warn!(code = %failure.code, events = part.events.len(), "PutAuditEvents request refused whole");
        if failure.refuses_every_request() {
            self.fail(&part.events, &failure);
            return self.stop(&failure);
        }
        if !failure.may_be_one_events_fault() || self.stopped() {
            self.settle_pair(part.pair);
            return self.fail(&part.events, &failure);
        }
        match part.pair.and_then(|pair| self.pairs.remove(&pair)) {
            Some(Pair::Pending) => {
                let pair = part.pair.expect("a pair was found for it");
                self.pairs.insert(pair, Pair::OneRefused(part, failure));
            }
            Some(Pair::OneRefused(other, first)) if first.code == failure.code => {
                // Both halves refused alike: the cause is the channel or the caller, not an
                // event, and every other request would meet it too.
                tracing::warn!(code = %failure.code, "both halves of a refused request were refused alike; stopping the batch");
                self.fail(&other.events, &first);
                self.fail(&part.events, &failure);
                self.stop(&failure);
            }
            Some(Pair::OneRefused(other, first)) => {
                self.split(other, &first);
                self.split(part, &failure);
            }
            Some(Pair::OneFine) | None => self.split(part, &failure),
        }
    }

    /// The other half of `pair` got an answer: its sibling's refusal was about content.
    fn settle_pair(&mut self, pair: Option<usize>) {
        let Some(pair) = pair else { return };
        match self.pairs.remove(&pair) {
            Some(Pair::Pending) => {
                self.pairs.insert(pair, Pair::OneFine);
            }
            Some(Pair::OneRefused(other, failure)) => self.split(other, &failure),
            Some(Pair::OneFine) | None => {}
        }
    }

    /// Sends a refused request again in halves, to isolate the event at fault; a single event,
    /// or one with no time left to split, fails.
    fn split(&mut self, mut part: Part, failure: &Failure) {
        if part.events.len() < 2 || !self.has_time_for_attempt(Instant::now()) {
            return self.fail(&part.events, failure);
        }
        tracing::debug!(code = %failure.code, events = part.events.len(), "sending a refused request again in halves");
        let pair = self.next_pair;
        self.next_pair += 1;
        self.pairs.insert(pair, Pair::Pending);
        let second = part.events.split_off(part.events.len() / 2);
        for events in [part.events, second] {
            self.waiting.push(Part { events, tries: 0, not_before: None, pair: Some(pair) });
        }
    }

    /// Fails every event not in flight that has no outcome with `failure`, which every request
    /// would meet; what is in flight is still judged when it answers.
    fn stop(&mut self, failure: &Failure) {
        // Nothing planned, waiting or parked as half of a pair goes out any more, and FIFO's
        // groups build nothing new: every event not in flight that has no outcome fails now.
        self.planned.clear();
        self.waiting.clear();
        self.pairs.clear();
        let flying: HashSet<usize> =
            self.flying.values().flat_map(|part| part.events.iter().copied()).collect();
        let unsent: Vec<usize> = (0..self.delivery.events.len())
            .filter(|&index| self.delivery.events[index].is_some() && !flying.contains(&index))
            .collect();
        self.fail(&unsent, failure);
        self.report.stopped.get_or_insert_with(|| failure.clone());
    }

    fn fail(&mut self, events: &[usize], failure: &Failure) {
        for &index in events {
            if self.delivery.outcomes[index].is_none() {
                self.decide(
                    index,
                    Outcome::Failed { code: failure.code.clone(), transient: failure.transient },
                );
            }
        }
    }

    fn decide(&mut self, index: usize, outcome: Outcome) {
        self.last_failure.remove(&index);
        self.taken[index] = false;
        if outcome == Outcome::Ingested {
            (self.delivery.on_ingested)(index);
        } else {
            self.holds_due = true;
        }
        self.delivery.outcomes[index] = Some(outcome);
    }

    /// Whether a request starting now can finish before `send_until`.
    fn has_time_for_attempt(&self, now: Instant) -> bool {
        let needed = (2 * self.slowest).clamp(MIN_ATTEMPT_TIME, MAX_ATTEMPT_RESERVE);
        self.delivery.send_until.is_none_or(|until| now + needed < until)
    }

    /// At the deadline, or when nothing more can be sent: what has no outcome gets one.
    /// Requests still in flight may or may not have been stored: their events are reported,
    /// so delivery stays at-least-once; their answers, had they come, were already applied.
    fn finish(mut self) -> SendReport {
        self.tasks.abort_all();
        let unanswered = Failure::new("NoAnswerBeforeDeadline", true);
        let flying: Vec<Part> = self.flying.drain().map(|(_, part)| part).collect();
        for part in flying {
            self.fail(&part.events, &unanswered);
        }
        for index in 0..self.delivery.events.len() {
            if self.delivery.events[index].is_none() || self.delivery.outcomes[index].is_some() {
                continue;
            }
            self.delivery.outcomes[index] = Some(match self.last_failure.remove(&index) {
                Some(Failure { code, transient }) => Outcome::Failed { code, transient },
                None => Outcome::Held(Hold::OutOfTime),
            });
        }
        self.report.rate_limit = self.limiter.rate();
        self.report
    }
}

/// The planned requests of a delivery: every event whose record has no outcome yet, packed in
/// record order. A FIFO delivery plans nothing ahead: its requests are made of the messages
/// each group has ready ([`Scheduler::ready_in_groups`]).
fn plan(delivery: &Delivery<'_>) -> Vec<Vec<usize>> {
    if delivery.source == Source::SqsFifo {
        return Vec::new();
    }
    let events = delivery.events.iter().enumerate().filter_map(|(index, event)| {
        let event = event.as_ref().filter(|_| delivery.outcomes[index].is_none())?;
        Some((index, event.id.as_str(), event.encoded_len))
    });
    plan::pack(events).into_iter().map(|request| request.events).collect()
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests;

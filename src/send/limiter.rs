//! How many `PutAuditEvents` requests per second this execution environment may start: its
//! share of the account's quota of 100 per second, which every environment of the function and
//! every other producer in the account spends together, and which nobody can see.
//!
//! A token bucket paces the requests; its rate is found by feedback, the way TCP and the AWS
//! SDKs' adaptive retry mode find theirs:
//! - **Slow start.** After a cold start the rate begins at [`INITIAL_RATE`] and each clean
//!   answer raises it by half (by one request per round trip, once the rate passes that), so a
//!   lone environment reaches the account's quota within a second, until the first throttle.
//! - **A cut that listens to the whole flight.** A throttled request (`ThrottlingException`)
//!   cuts the rate to [`BETA`] of what it was ([`SLOW_START_BETA`] the first time: by then the
//!   account's burst has hidden how far a fleet that started together overshot). A request the
//!   service took but some of whose events it throttled (`Throttling` inside a 200, which the
//!   SDK never sees) cuts by that share of a whole cut: a tenth of the events, a tenth of the
//!   cut. The answers of the requests that were already on their way then refine the cut: the
//!   share of them the account turned away is the share of the rate that was too much.
//! - **Cubic growth.** After a cut the rate grows back along CUBIC's curve: quickly towards the
//!   rate where it was throttled, flat near it, then faster again beyond, so it stays close to
//!   its share and probes for more only now and then. A smaller cut has a shorter way back.
//!
//! Why these numbers, measured with the fleet and CPU benchmarks: `docs/quota.md`.
//!
//! The state lives as long as the process, so warm invocations start where the last one left.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// The rate after a cold start, in requests per second.
pub const INITIAL_RATE: f64 = 2.0;
/// The lowest rate: a throttled environment still sends something every two seconds.
pub const MIN_RATE: f64 = 0.5;
/// The account's quota, and so the highest rate one environment may ever use.
pub const ACCOUNT_QUOTA: f64 = 100.0;
/// What a throttle leaves of the rate (CUBIC's and the SDKs' β).
pub const BETA: f64 = 0.7;
/// What the first throttle leaves of the rate. The account's burst lets an overshoot through
/// unthrottled for a while, so by the time the first throttle comes back a fleet that started
/// together is many times over its share: at 0.6, eight cold environments throttled 21 % of
/// their requests in the fleet benchmark, at 0.15 about 5 %.
pub const SLOW_START_BETA: f64 = 0.15;
/// How much each clean answer raises the rate in slow start, at most: by half. Doubling
/// reached the quota no sooner for a lone environment (1.63 s for 10,000 records either way)
/// and overshot further in a fleet.
const SLOW_START_GROWTH: f64 = 0.5;
/// CUBIC's scale at the account's quota: how fast the rate grows back after a cut. It is
/// scaled with the rate CUBIC returns to, so an environment takes 39 s to grow back to where it
/// was cut whatever its share: an environment whose share is one request per second probes as
/// seldom as one whose share is 100, and each probe costs a throttled request. Far smaller than
/// the SDKs' 0.4, since the quota is shared by a fleet whose members all probe.
pub const CUBIC_SCALE: f64 = 0.0005;
/// How recently a request must have been held back waiting for a token (counted from when its
/// token came, so a wait longer than this counts too) for a clean answer to raise the rate.
const LIMITED_WINDOW: Duration = Duration::from_secs(1);
/// How many seconds of requests the bucket may hold: a batch starts with a burst of this many
/// seconds' worth; short bursts keep a fleet's requests from piling onto the account's bucket
/// at the same moment.
const BURST_SECONDS: f64 = 0.25;
/// The most one clean answer may raise the rate after slow start: growth follows the requests
/// actually sent, so an environment that was idle does not come back at full speed.
const MAX_STEP: f64 = 1.0;

/// A cut of the rate, and the flight of requests that were on their way when it happened.
#[derive(Debug, Clone)]
struct Cut {
    at: Instant,
    /// The rate the flight was sent at.
    sent_rate: f64,
    /// What this cut leaves of `sent_rate` if the whole flight but the throttle that caused
    /// it comes back clean.
    beta: f64,
    /// The rate CUBIC grows back towards (its W_max) if the flight comes back clean.
    max_rate: f64,
    /// The flight's answers since the cut, in requests: a request some of whose events were
    /// throttled counts that share throttled and the rest clean.
    clean: f64,
    throttled: f64,
}

/// The rate limiter of one execution environment, shared by its invocations and their tasks.
#[derive(Debug)]
pub struct Limiter {
    ceiling: f64,
    state: Mutex<State>,
}

#[derive(Debug, Clone)]
struct State {
    rate: f64,
    tokens: f64,
    refilled: Option<Instant>,
    slow_start: bool,
    /// The last cut, and what the answers of the requests sent before it said since.
    last_cut: Option<Cut>,
    /// Until when a request last had to wait for a token: the rate only grows while it is what
    /// holds the requests back, not while the environment sends less than it allows. The end
    /// of the wait, not its start: below one request per second a lone request waits longer
    /// than [`LIMITED_WINDOW`], and its answer must still count as one the rate held back.
    last_wait: Option<Instant>,
}

impl Limiter {
    /// A limiter that never exceeds `max_requests_per_second` (at most the account's quota).
    pub fn new(max_requests_per_second: Option<f64>) -> Limiter {
        let ceiling = max_requests_per_second.unwrap_or(ACCOUNT_QUOTA).clamp(MIN_RATE, ACCOUNT_QUOTA);
        let rate = INITIAL_RATE.min(ceiling);
        Limiter {
            ceiling,
            state: Mutex::new(State {
                rate,
                tokens: 1.0,
                refilled: None,
                slow_start: true,
                last_cut: None,
                last_wait: None,
            }),
        }
    }

    /// Takes a token for a request starting `now`, or says when the next one will be there.
    pub fn try_acquire(&self, now: Instant) -> Result<(), Instant> {
        let mut state = self.lock();
        state.refill(now);
        // A shortfall too small for the clock to wait out is granted: a wait of zero would have
        // the caller ask again at once, forever.
        if state.tokens >= 1.0 - 1e-6 {
            state.tokens = (state.tokens - 1.0).max(0.0);
            return Ok(());
        }
        let wait = Duration::from_secs_f64((1.0 - state.tokens) / state.rate);
        let until = now + wait.max(Duration::from_micros(1));
        state.last_wait = Some(until);
        Err(until)
    }

    /// A request sent at `sent_at` was answered, at `now`, without any throttle.
    pub fn on_clean(&self, sent_at: Instant, now: Instant) {
        let mut state = self.lock();
        if let Some(cut) = state.last_cut.as_mut().filter(|cut| sent_at < cut.at) {
            cut.clean += 1.0;
            state.rate = cut.rate();
            return;
        }
        let limited = state.last_wait.is_some_and(|at| now.saturating_duration_since(at) <= LIMITED_WINDOW);
        if !limited {
            return;
        }
        if state.slow_start {
            // At most one more request per round trip for each answer, as TCP's window grows
            // by a segment per acknowledgement.
            let round_trip = now.saturating_duration_since(sent_at).as_secs_f64();
            let step = (state.rate * SLOW_START_GROWTH).min(1.0 / round_trip.max(f64::MIN_POSITIVE));
            state.rate = (state.rate + step).min(self.ceiling);
            return;
        }
        let target = match &state.last_cut {
            Some(cut) => cut.cubic(now.saturating_duration_since(cut.at)),
            None => state.rate,
        };
        let grown = target.min(state.rate + MAX_STEP).min(self.ceiling);
        state.rate = state.rate.max(grown);
    }

    /// A request sent at `sent_at` was throttled: whole (`share` 1), or `share` of its events.
    pub fn on_throttle(&self, sent_at: Instant, now: Instant, share: f64) {
        // Anything but a share of the events (there is none today) counts as a whole throttle.
        let share = if share > 0.0 && share < 1.0 { share } else { 1.0 };
        let mut state = self.lock();
        if let Some(cut) = state.last_cut.as_mut().filter(|cut| sent_at < cut.at) {
            // Part of the flight that was on its way when the rate was cut: the share of it the
            // account turned away says how far above its share this environment was.
            cut.throttled += share;
            cut.clean += 1.0 - share;
            state.rate = cut.rate();
            return;
        }
        state.refill(now);
        // Fast convergence: cut below where it was cut last time, the share has shrunk (more
        // environments are sending), so the rate gives some of it up for good (`share` of what
        // a whole throttle gives up).
        let max_rate = match &state.last_cut {
            Some(cut) if state.rate < cut.max_rate() => state.rate * (1.0 - (1.0 - BETA) / 2.0 * share),
            _ => state.rate,
        };
        // Slow start may have overshot by a good part by the time a throttle comes back.
        let whole = if state.slow_start { SLOW_START_BETA } else { BETA };
        // What the account turned away of this request is what the rate gives up of a whole cut.
        let beta = whole + (1.0 - whole) * (1.0 - share);
        let cut = Cut { at: now, sent_rate: state.rate, beta, max_rate, clean: 0.0, throttled: 0.0 };
        state.rate = cut.rate();
        // The quota's bucket is empty: nothing more goes out until a token comes at the new
        // rate, which also spaces out the retries of what was just throttled.
        state.tokens = state.tokens.min(0.0);
        state.slow_start = false;
        state.last_cut = Some(cut);
    }

    /// The current rate, in requests per second.
    pub fn rate(&self) -> f64 {
        self.lock().rate
    }

    /// How many requests a full bucket lets go at once at the current rate.
    pub fn burst(&self) -> usize {
        self.lock().capacity() as usize
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl State {
    fn capacity(&self) -> f64 {
        (self.rate * BURST_SECONDS).max(1.0)
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = self.refilled.map_or(Duration::ZERO, |at| now.saturating_duration_since(at));
        self.tokens = (self.tokens + elapsed.as_secs_f64() * self.rate).min(self.capacity());
        self.refilled = Some(now);
    }
}

impl Cut {
    /// The share of the flight the account let through, as far as its answers tell: two
    /// imaginary answers at β keep one answer alone from swinging it, and it never exceeds β,
    /// which is what the cut itself leaves.
    fn share(&self) -> f64 {
        ((self.clean + 2.0 * self.beta) / (self.clean + self.throttled + 2.0)).min(self.beta)
    }

    /// The rate this cut leaves: the rate the flight was sent at, times the share of it that
    /// got through.
    fn rate(&self) -> f64 {
        (self.sent_rate * self.share()).max(MIN_RATE)
    }

    /// What CUBIC's curve starts at, as a share of the rate it grows back towards: [`BETA`], or
    /// more after a cut smaller than a whole one.
    fn curve_beta(&self) -> f64 {
        self.beta.max(BETA)
    }

    /// The rate CUBIC grows back towards (its W_max), lowered with the share as the cut is;
    /// never below the rate the cut leaves, which the floor may hold above it.
    fn max_rate(&self) -> f64 {
        (self.max_rate * self.share() / self.curve_beta()).max(self.rate())
    }

    /// The rate CUBIC's curve gives `since_cut` after this cut. It starts at the rate the cut
    /// leaves, as RFC 9438 has it: fast convergence lowers only where it returns to, and a cut
    /// that the floor holds up starts at the floor. (With `K` from `β W_max`, as in RFC 8312,
    /// the curve started below the rate in both cases, which then sat flat until the curve
    /// caught up: 6 s after fast convergence, 70 s at the floor.)
    fn cubic(&self, since_cut: Duration) -> f64 {
        cubic(self.max_rate(), self.rate(), since_cut)
    }
}

/// CUBIC's window: `C (t - K)³ + W_max`, where `K` is the time it takes to grow back to
/// `W_max` from `start`.
fn cubic(max_rate: f64, start: f64, since_cut: Duration) -> f64 {
    let scale = CUBIC_SCALE * max_rate / ACCOUNT_QUOTA;
    let k = ((max_rate - start) / scale).cbrt();
    let t = since_cut.as_secs_f64() - k;
    scale * t * t * t + max_rate
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The round trip of the tests' answers.
    const RTT: Duration = Duration::from_millis(50);

    fn at(start: Instant, ms: u64) -> Instant {
        start + Duration::from_millis(ms)
    }

    /// A limiter whose requests wait for tokens, so that clean answers make it grow.
    fn busy(ceiling: Option<f64>) -> (Limiter, Instant) {
        let limiter = Limiter::new(ceiling);
        let start = Instant::now();
        while limiter.try_acquire(start).is_ok() {}
        (limiter, start)
    }

    /// A busy limiter in slow start that has grown to `rate`.
    fn busy_at(rate: f64) -> (Limiter, Instant) {
        let (limiter, start) = busy(None);
        limiter.lock().rate = rate;
        (limiter, start)
    }

    /// How many requests the limiter lets start within `window`, asking every millisecond.
    fn admitted(limiter: &Limiter, start: Instant, window_ms: u64) -> usize {
        (0..window_ms).filter(|&ms| limiter.try_acquire(at(start, ms)).is_ok()).count()
    }

    #[test]
    fn a_cold_limiter_paces_at_its_initial_rate() {
        let limiter = Limiter::new(None);
        let start = Instant::now();
        // One at once, then one every half second: at 0.5 s, 1 s, … 10 s.
        assert_eq!(admitted(&limiter, start, 10_250), 1 + 10 * INITIAL_RATE as usize);
    }

    #[test]
    fn slow_start_raises_the_rate_by_half_with_each_clean_answer_up_to_the_cap() {
        let (limiter, now) = busy(None);
        let rate_is = |expected: f64| {
            assert!((limiter.rate() - expected).abs() < 1e-9, "{} != {expected}", limiter.rate())
        };
        limiter.on_clean(now, now + RTT);
        rate_is(INITIAL_RATE * 1.5);
        limiter.on_clean(now, now + RTT);
        rate_is(INITIAL_RATE * 1.5 * 1.5);
        // Past 40 a second, an answer adds one request per round trip: at 50 ms, 20 a second.
        limiter.lock().rate = 50.0;
        limiter.on_clean(now, now + RTT);
        rate_is(70.0);
        for _ in 0..100 {
            limiter.on_clean(now, now + RTT);
        }
        rate_is(ACCOUNT_QUOTA);

        let (capped, now) = busy(Some(10.0));
        for _ in 0..100 {
            capped.on_clean(now, now + RTT);
        }
        assert_eq!(capped.rate(), 10.0);
    }

    #[test]
    fn a_round_trip_of_microseconds_does_not_jump_slow_start_to_the_ceiling() {
        let (limiter, now) = busy_at(60.0);
        limiter.on_clean(now, now + Duration::from_micros(10));
        assert_eq!(limiter.rate(), 90.0);
    }

    #[test]
    fn the_rate_does_not_grow_while_the_environment_sends_less_than_it_allows() {
        let limiter = Limiter::new(None);
        let now = Instant::now();
        assert_eq!(limiter.try_acquire(now), Ok(()));
        for _ in 0..10 {
            limiter.on_clean(now, now + RTT);
        }
        assert_eq!(limiter.rate(), INITIAL_RATE);
    }

    #[test]
    fn a_throttle_cuts_the_rate_and_the_flight_s_answers_say_by_how_much() {
        let (limiter, start) = busy_at(20.0);
        let rate_is = |expected: f64| {
            assert!((limiter.rate() - expected).abs() < 1e-9, "{} != {expected}", limiter.rate())
        };
        limiter.on_throttle(start, at(start, 100), 1.0);
        rate_is(20.0 * SLOW_START_BETA);
        // CUBIC heads back up from there as from any cut: to the rate left over β, not to the
        // overshoot.
        let cut = limiter.lock().last_cut.clone().unwrap();
        assert!((cut.max_rate() - 20.0 * SLOW_START_BETA / BETA).abs() < 1e-9, "{}", cut.max_rate());
        // Answers of requests already on their way at the cut: clean ones leave the cut as it
        // is, throttled ones, once they are more than the cut allowed for, say the share was
        // smaller.
        limiter.on_clean(at(start, 50), at(start, 110));
        rate_is(20.0 * SLOW_START_BETA);
        for ms in 0..10 {
            limiter.on_throttle(at(start, 60 + ms), at(start, 120 + ms), 1.0);
        }
        rate_is(20.0 * (1.0 + 2.0 * SLOW_START_BETA) / 13.0);
        // A request sent after the cut and throttled starts a new episode: a cut by β.
        let before = limiter.rate();
        limiter.on_throttle(at(start, 150), at(start, 200), 1.0);
        rate_is(before * BETA);
    }

    #[test]
    fn a_throttle_of_some_of_a_request_s_events_cuts_by_that_share_and_grows_back_sooner() {
        let (limiter, start) = busy_at(20.0);
        limiter.on_throttle(start, start, 1.0);
        // Out of slow start, grown back to 10 with no cut to remember.
        let rate = 10.0;
        {
            let mut state = limiter.lock();
            state.rate = rate;
            state.last_cut = None;
        }
        // A request one of whose ten events is throttled gives up a tenth of what a whole
        // throttle does.
        let cut_at = at(start, 1);
        limiter.on_throttle(cut_at, cut_at, 0.1);
        let beta = 1.0 - (1.0 - BETA) * 0.1;
        assert!((limiter.rate() - rate * beta).abs() < 1e-9, "{} != {}", limiter.rate(), rate * beta);
        // CUBIC's curve starts there and is back where it was throttled after 18 s: a tenth of
        // the cut is a way back 10^(1/3) times shorter than a whole cut's 39 s.
        let cut = limiter.lock().last_cut.clone().unwrap();
        assert!((cut.cubic(Duration::ZERO) - limiter.rate()).abs() < 1e-9);
        assert!(cut.cubic(Duration::from_secs(9)) < rate - 0.01);
        assert!((cut.cubic(Duration::from_secs_f64(39.15 / 10f64.cbrt())) - rate).abs() < 1e-3);
        // Throttled again partly while growing back below where it was cut: what fast
        // convergence gives up for good is a tenth of a whole throttle's too.
        let grown = 9.0;
        limiter.lock().rate = grown;
        let later = at(start, 2_000);
        limiter.on_throttle(later, later, 0.1);
        let cut = limiter.lock().last_cut.clone().unwrap();
        assert!((cut.max_rate - grown * (1.0 - (1.0 - BETA) / 2.0 * 0.1)).abs() < 1e-9, "{}", cut.max_rate);
        // The flight's answers count by events too: a request with half its events throttled
        // is half a throttled answer.
        limiter.on_throttle(start, at(start, 2), 0.5);
        let cut = limiter.lock().last_cut.clone().unwrap();
        assert_eq!((cut.clean, cut.throttled), (0.5, 0.5));
    }

    #[test]
    fn a_trickle_of_partly_throttled_requests_backs_off_less_than_as_many_whole_throttles() {
        // Twenty seconds of requests every 20 ms, answered after 50 ms, one in ten throttled:
        // for one of its ten events, or whole.
        let after = |share: f64| {
            let (limiter, start) = busy_at(50.0);
            limiter.on_throttle(start, start, 1.0);
            {
                let mut state = limiter.lock();
                state.rate = 50.0;
                state.last_cut = None;
            }
            for i in 1..=1_000u64 {
                let sent = at(start, 20 * i);
                let _ = limiter.try_acquire(sent);
                limiter.lock().last_wait = Some(sent);
                match i % 10 {
                    0 => limiter.on_throttle(sent, sent + RTT, share),
                    _ => limiter.on_clean(sent, sent + RTT),
                }
            }
            limiter.rate()
        };
        let (partly, whole) = (after(0.1), after(1.0));
        // A hundred whole throttles take it to the floor; a hundred tenths of one back off
        // too, since each is the quota speaking, but less far.
        assert_eq!(whole, MIN_RATE);
        assert!(partly > 4.0 * MIN_RATE && partly < 10.0, "{partly}");
    }

    #[test]
    fn a_fleet_that_overshot_together_falls_to_what_got_through_within_one_flight() {
        // Eight environments at 50 requests per second each against a quota of 20: nine
        // answers in ten come back throttled.
        let (limiter, start) = busy_at(50.0);
        limiter.on_throttle(start, at(start, 100), 1.0);
        for i in 0..20 {
            match i % 10 {
                0 => limiter.on_clean(at(start, i), at(start, 110 + i)),
                _ => limiter.on_throttle(at(start, i), at(start, 110 + i), 1.0),
            }
        }
        let share = (2.0 + 2.0 * SLOW_START_BETA) / 22.0;
        assert!((limiter.rate() - 50.0 * share).abs() < 1e-9, "{}", limiter.rate());
        // CUBIC's curve starts where the flight left the rate, not at the overshoot.
        let cut = limiter.lock().last_cut.clone().unwrap();
        assert!((cut.cubic(Duration::ZERO) - limiter.rate()).abs() < 1e-9);
    }

    #[test]
    fn after_a_cut_the_rate_returns_towards_where_it_was_throttled_then_probes_beyond() {
        let (limiter, start) = busy_at(10.0);
        limiter.on_throttle(start, start, 1.0);
        assert!((limiter.rate() - 10.0 * SLOW_START_BETA).abs() < 1e-9, "{}", limiter.rate());
        // A second cut, out of slow start, from 10 (as if it had grown back): W_max = 10.
        for _ in 0..5 {
            limiter.on_clean(start, start + RTT);
        }
        let cut_at = start + Duration::from_millis(1);
        {
            let mut state = limiter.lock();
            state.rate = 10.0;
            state.last_cut = None;
        }
        limiter.on_throttle(cut_at, cut_at, 1.0);
        assert!((limiter.rate() - 7.0).abs() < 1e-9, "{}", limiter.rate());
        // CUBIC's scale goes with the rate, so the way back takes as long as from the quota.
        let k = (ACCOUNT_QUOTA * (1.0 - BETA) / CUBIC_SCALE).cbrt();
        assert!((k - 39.15).abs() < 0.01, "{k}");
        // Enough clean answers at each moment, each after a wait for a token, that neither the
        // per-answer step nor idleness holds the rate back.
        let rate_at = |seconds: f64| {
            let now = cut_at + Duration::from_secs_f64(seconds);
            for _ in 0..100 {
                let _ = limiter.try_acquire(now);
                limiter.lock().last_wait = Some(now);
                limiter.on_clean(now, now + RTT);
            }
            limiter.rate()
        };
        let halfway = rate_at(k / 2.0);
        assert!(halfway > 7.0 && halfway < 10.0, "{halfway}");
        let at_k = rate_at(k);
        assert!((at_k - 10.0).abs() < 0.01, "{at_k}");
        assert!(rate_at(k + 3.0) < 10.1, "flat near the old rate");
        assert!(rate_at(k + 70.0) > 20.0, "then probing faster");
    }

    /// One request at a time, each sent as soon as the limiter lets it and answered clean after
    /// a round trip, for `seconds` from `start`: what a sender with one request ready does.
    fn one_at_a_time(limiter: &Limiter, start: Instant, seconds: u64) {
        let mut now = start;
        while now < start + Duration::from_secs(seconds) {
            if let Err(wake) = limiter.try_acquire(now) {
                now = wake;
                continue;
            }
            limiter.on_clean(now, now + RTT);
            now += RTT;
        }
    }

    #[test]
    fn a_rate_below_one_request_a_second_grows_back_while_it_holds_a_lone_sender_back() {
        // Cut from 1.2 requests per second to 0.84: a lone request waits 1.19 s for each token,
        // longer than the window in which a wait counts as being held back.
        let (limiter, start) = busy_at(1.2);
        limiter.lock().slow_start = false;
        limiter.on_throttle(start, start, 1.0);
        assert!((limiter.rate() - 0.84).abs() < 1e-9, "{}", limiter.rate());
        one_at_a_time(&limiter, start, 20);
        // CUBIC's curve is at 1.16 twenty seconds after the cut (K is 39 s).
        let expected = cubic(1.2, 0.84, Duration::from_secs(20));
        assert!((expected - 1.158).abs() < 0.001, "{expected}");
        assert!(limiter.rate() > 1.15, "{}", limiter.rate());
    }

    #[test]
    fn the_curve_starts_where_the_cut_leaves_the_rate_after_fast_convergence_and_at_the_floor() {
        // Cut from 10 while growing back below where the last cut was (12): fast convergence
        // lowers where the curve returns to, not where it starts.
        let (limiter, start) = busy_at(12.0);
        limiter.lock().slow_start = false;
        limiter.on_throttle(start, start, 1.0);
        limiter.lock().rate = 10.0;
        let cut_at = at(start, 5_000);
        limiter.on_throttle(cut_at, cut_at, 1.0);
        assert!((limiter.rate() - 7.0).abs() < 1e-9, "{}", limiter.rate());
        let cut = limiter.lock().last_cut.clone().unwrap();
        assert!((cut.cubic(Duration::ZERO) - 7.0).abs() < 1e-9, "{}", cut.cubic(Duration::ZERO));
        assert!(cut.cubic(Duration::from_secs(3)) > 7.05, "{}", cut.cubic(Duration::from_secs(3)));
        // The return point is 8.5, reached in K = ((8.5 - 7) / scale)^(1/3) = 33 s.
        let k = (1.5 / (CUBIC_SCALE * 8.5 / ACCOUNT_QUOTA)).cbrt();
        assert!((cut.cubic(Duration::from_secs_f64(k)) - 8.5).abs() < 1e-9);
        // A cold environment throttled at two requests per second is left at the floor; its
        // curve starts there and grows, where it sat flat for 70 s below the floor.
        let (limiter, start) = busy(None);
        limiter.on_throttle(start, start, 1.0);
        assert_eq!(limiter.rate(), MIN_RATE);
        let cut = limiter.lock().last_cut.clone().unwrap();
        assert_eq!(cut.cubic(Duration::ZERO), MIN_RATE);
        one_at_a_time(&limiter, start, 30);
        assert!(limiter.rate() > 0.55, "{}", limiter.rate());
    }

    #[test]
    fn the_rate_never_falls_below_the_floor_nor_passes_the_cap() {
        let (limiter, start) = busy(Some(3.0));
        for i in 0..20 {
            limiter.on_throttle(at(start, i * 10), at(start, i * 10 + 5), 1.0);
        }
        assert_eq!(limiter.rate(), MIN_RATE);
        let (capped, start) = busy(Some(1000.0));
        for _ in 0..1000 {
            capped.on_clean(start, start + RTT);
        }
        assert_eq!(capped.rate(), ACCOUNT_QUOTA);
    }

    #[test]
    fn the_bucket_holds_at_most_a_quarter_second_of_requests() {
        let (limiter, start) = busy_at(20.0);
        let later = at(start, 60_000);
        let burst = (0..100).take_while(|_| limiter.try_acquire(later).is_ok()).count();
        assert_eq!(burst, 5);
        let next = limiter.try_acquire(later).unwrap_err();
        assert_eq!(next, later + Duration::from_millis(50));
    }
}

//! How many `PutAuditEvents` requests per second this execution environment may start: its
//! share of the account's quota of 100 per second, which every environment of the function and
//! every other producer in the account spends together, and which nobody can see.
//!
//! A token bucket paces the requests; its rate is found by feedback, the way TCP and the AWS
//! SDKs' adaptive retry mode find theirs:
//! - **Slow start.** After a cold start the rate begins low and grows with every clean answer
//!   (by a quarter each second of sending) until the first throttle, which halves it or so.
//! - **Multiplicative decrease.** A throttle, for a whole request (`ThrottlingException`) or
//!   for one of its events (`Throttling` inside a 200, which the SDK never sees), cuts the rate
//!   to [`BETA`] of what it was, once per episode: throttles of requests sent before the last
//!   cut tell nothing new.
//! - **Cubic growth.** After a cut the rate grows back along CUBIC's curve: quickly towards the
//!   rate where it was throttled, flat near it, then faster again beyond, so it stays close to
//!   its share and probes for more only now and then.
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
/// What the first throttle leaves of the rate: by the time a throttle comes back, slow start
/// may have overshot the share by a good part.
pub const SLOW_START_BETA: f64 = 0.6;
/// CUBIC's scale: how fast the rate grows back after a cut. Far smaller than the SDKs' 0.4,
/// since the quota is shared by a fleet whose members all probe, and each probe costs a
/// throttled request: at 0.0005 an environment cut from 2.5 requests per second is back there
/// after 11 s, one cut from 100 after 39 s, and it lingers near that rate before probing on.
/// Measured with the fleet benchmark (docs/performance.md): 0.05 throttled 16 % of requests, 0.0005 about 4 %.
pub const CUBIC_SCALE: f64 = 0.0005;
/// How much each clean answer adds to the rate before the first throttle: the rate grows by a
/// quarter every second of sending, so a fleet that starts together overshoots its share by
/// little.
const SLOW_START_STEP: f64 = 0.25;
/// How recently a request must have waited for a token for a clean answer to raise the rate.
const LIMITED_WINDOW: Duration = Duration::from_secs(1);
/// How many seconds of requests the bucket may hold: a batch starts with a burst of this many
/// seconds' worth; short bursts keep a fleet's requests from piling onto the account's bucket
/// at the same moment.
const BURST_SECONDS: f64 = 0.25;
/// The most one clean answer may raise the rate: growth follows the requests actually sent, so
/// an environment that was idle does not come back at full speed.
const MAX_STEP: f64 = 1.0;

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
    /// The rate at the last cut (CUBIC's W_max) and when it happened.
    last_cut: Option<(Instant, f64)>,
    /// When a request last had to wait for a token: the rate only grows while it is what
    /// holds the requests back, not while the environment sends less than it allows.
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
        state.last_wait = Some(now);
        let wait = Duration::from_secs_f64((1.0 - state.tokens) / state.rate);
        Err(now + wait.max(Duration::from_micros(1)))
    }

    /// A request was answered, at `now`, without any throttle.
    pub fn on_clean(&self, now: Instant) {
        let mut state = self.lock();
        let limited = state.last_wait.is_some_and(|at| now.saturating_duration_since(at) <= LIMITED_WINDOW);
        if !limited {
            return;
        }
        let target = match state.last_cut {
            _ if state.slow_start => state.rate + SLOW_START_STEP,
            Some((cut_at, max_rate)) => cubic(max_rate, now.saturating_duration_since(cut_at)),
            None => state.rate,
        };
        let grown = target.min(state.rate + MAX_STEP).min(self.ceiling);
        state.rate = state.rate.max(grown);
    }

    /// A request sent at `sent_at` was throttled, whole or for some of its events.
    pub fn on_throttle(&self, sent_at: Instant, now: Instant) {
        let mut state = self.lock();
        if state.last_cut.is_some_and(|(cut_at, _)| sent_at < cut_at) {
            return;
        }
        state.refill(now);
        // Fast convergence: cut below where it was cut last time, the share has shrunk (more
        // environments are sending), so the rate gives some of it up for good.
        let max_rate = match state.last_cut {
            Some((_, last_max)) if state.rate < last_max => state.rate * (1.0 + BETA) / 2.0,
            _ => state.rate,
        };
        // Slow start may have overshot by up to half by the time a throttle comes back.
        let beta = if state.slow_start { SLOW_START_BETA } else { BETA };
        state.rate = (state.rate * beta).max(MIN_RATE);
        // The quota's bucket is empty: nothing more goes out until a token comes at the new
        // rate, which also spaces out the retries of what was just throttled.
        state.tokens = state.tokens.min(0.0);
        state.slow_start = false;
        state.last_cut = Some((now, max_rate));
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

/// CUBIC's window: `C (t - K)³ + W_max`, where `K` is the time it takes to grow back to
/// `W_max` from `β W_max`.
fn cubic(max_rate: f64, since_cut: Duration) -> f64 {
    let k = (max_rate * (1.0 - BETA) / CUBIC_SCALE).cbrt();
    let t = since_cut.as_secs_f64() - k;
    CUBIC_SCALE * t * t * t + max_rate
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn slow_start_grows_with_each_clean_answer_up_to_the_cap() {
        let (limiter, now) = busy(Some(10.0));
        for _ in 0..4 {
            limiter.on_clean(now);
        }
        assert_eq!(limiter.rate(), INITIAL_RATE + 4.0 * SLOW_START_STEP);
        for _ in 0..100 {
            limiter.on_clean(now);
        }
        assert_eq!(limiter.rate(), 10.0);
    }

    #[test]
    fn the_rate_does_not_grow_while_the_environment_sends_less_than_it_allows() {
        let limiter = Limiter::new(None);
        let now = Instant::now();
        assert_eq!(limiter.try_acquire(now), Ok(()));
        for _ in 0..10 {
            limiter.on_clean(now);
        }
        assert_eq!(limiter.rate(), INITIAL_RATE);
    }

    #[test]
    fn a_throttle_cuts_the_rate_once_per_episode() {
        let (limiter, start) = busy(None);
        for _ in 0..72 {
            limiter.on_clean(start);
        }
        assert_eq!(limiter.rate(), 20.0);
        limiter.on_throttle(start, at(start, 100));
        assert!((limiter.rate() - 20.0 * SLOW_START_BETA).abs() < 1e-9, "leaving slow start");
        // Requests that were already on their way when the rate was cut say nothing new.
        limiter.on_throttle(at(start, 50), at(start, 120));
        assert!((limiter.rate() - 20.0 * SLOW_START_BETA).abs() < 1e-9);
        limiter.on_throttle(at(start, 150), at(start, 200));
        assert!((limiter.rate() - 20.0 * SLOW_START_BETA * BETA).abs() < 1e-9);
    }

    #[test]
    fn after_a_cut_the_rate_returns_towards_where_it_was_throttled_then_probes_beyond() {
        let (limiter, start) = busy(None);
        for _ in 0..32 {
            limiter.on_clean(start);
        }
        limiter.on_throttle(start, start);
        assert!((limiter.rate() - 10.0 * SLOW_START_BETA).abs() < 1e-9, "{}", limiter.rate());
        // A second cut, out of slow start, from 10 (as if it had grown back): W_max = 10.
        for _ in 0..5 {
            limiter.on_clean(start);
        }
        let cut_at = start + Duration::from_millis(1);
        {
            let mut state = limiter.lock();
            state.rate = 10.0;
            state.last_cut = None;
        }
        limiter.on_throttle(cut_at, cut_at);
        assert!((limiter.rate() - 7.0).abs() < 1e-9, "{}", limiter.rate());
        let k = (10.0 * (1.0 - BETA) / CUBIC_SCALE).cbrt();
        // Enough clean answers at each moment, each after a wait for a token, that neither the
        // per-answer step nor idleness holds the rate back.
        let rate_at = |seconds: f64| {
            let now = cut_at + Duration::from_secs_f64(seconds);
            for _ in 0..100 {
                let _ = limiter.try_acquire(now);
                limiter.lock().last_wait = Some(now);
                limiter.on_clean(now);
            }
            limiter.rate()
        };
        let halfway = rate_at(k / 2.0);
        assert!(halfway > 7.0 && halfway < 10.0, "{halfway}");
        let at_k = rate_at(k);
        assert!((at_k - 10.0).abs() < 0.01, "{at_k}");
        assert!(rate_at(k + 3.0) < 10.1, "flat near the old rate");
        assert!(rate_at(k + 30.0) > 20.0, "then probing faster");
    }

    #[test]
    fn the_rate_never_falls_below_the_floor_nor_passes_the_cap() {
        let (limiter, start) = busy(Some(3.0));
        for i in 0..20 {
            limiter.on_throttle(at(start, i * 10), at(start, i * 10 + 5));
        }
        assert_eq!(limiter.rate(), MIN_RATE);
        let (capped, start) = busy(Some(1000.0));
        for _ in 0..1000 {
            capped.on_clean(start);
        }
        assert_eq!(capped.rate(), ACCOUNT_QUOTA);
    }

    #[test]
    fn the_bucket_holds_at_most_a_quarter_second_of_requests() {
        let (limiter, start) = busy(None);
        for _ in 0..72 {
            limiter.on_clean(start);
        }
        assert_eq!(limiter.rate(), 20.0);
        let later = at(start, 60_000);
        let burst = (0..100).take_while(|_| limiter.try_acquire(later).is_ok()).count();
        assert_eq!(burst, 5);
        let next = limiter.try_acquire(later).unwrap_err();
        assert_eq!(next, later + Duration::from_millis(50));
    }
}

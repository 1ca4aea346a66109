//! How many `PutAuditEvents` requests per second this execution environment may start: its
//! share of the account's quota of 100 per second, which every environment of the function and
//! every other producer in the account spends together, and which nobody can see.
//!
//! A token bucket paces the requests; its rate is found by feedback, the way TCP and the AWS
//! SDKs' adaptive retry mode find theirs:
//! - **Slow start.** After a cold start the rate begins low and grows by one request per
//!   second for every clean answer (doubling about every second) until the first throttle.
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
/// CUBIC's scale: how fast the rate grows back after a cut. Smaller than the SDKs' 0.4, since
/// the quota is shared by a fleet whose members all probe: at 0.05 an environment that was cut
/// from 2.5 requests per second is back there after 2.5 s, one cut from 100 after about 8 s.
pub const CUBIC_SCALE: f64 = 0.05;
/// How many seconds of requests the bucket may hold: a batch can start with a burst of this
/// many seconds' worth, but never more than the rate allows over a second.
const BURST_SECONDS: f64 = 1.0;
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
}

impl Limiter {
    /// A limiter that never exceeds `max_requests_per_second` (at most the account's quota).
    pub fn new(max_requests_per_second: Option<f64>) -> Limiter {
        let ceiling = max_requests_per_second.unwrap_or(ACCOUNT_QUOTA).clamp(MIN_RATE, ACCOUNT_QUOTA);
        let rate = INITIAL_RATE.min(ceiling);
        Limiter {
            ceiling,
            state: Mutex::new(State { rate, tokens: 1.0, refilled: None, slow_start: true, last_cut: None }),
        }
    }

    /// Takes a token for a request starting `now`, or says when the next one will be there.
    pub fn try_acquire(&self, now: Instant) -> Result<(), Instant> {
        let mut state = self.lock();
        state.refill(now);
        if state.tokens >= 1.0 {
            state.tokens -= 1.0;
            return Ok(());
        }
        Err(now + Duration::from_secs_f64((1.0 - state.tokens) / state.rate))
    }

    /// A request was answered, at `now`, without any throttle.
    pub fn on_clean(&self, now: Instant) {
        let mut state = self.lock();
        let target = match state.last_cut {
            _ if state.slow_start => state.rate + 1.0,
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
        let max_rate = state.rate;
        state.rate = (state.rate * BETA).max(MIN_RATE);
        state.tokens = state.tokens.min(state.capacity());
        state.slow_start = false;
        state.last_cut = Some((now, max_rate));
    }

    /// The current rate, in requests per second.
    pub fn rate(&self) -> f64 {
        self.lock().rate
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
    fn slow_start_grows_by_one_request_per_second_per_clean_answer_up_to_the_cap() {
        let limiter = Limiter::new(Some(10.0));
        let now = Instant::now();
        for _ in 0..5 {
            limiter.on_clean(now);
        }
        assert_eq!(limiter.rate(), INITIAL_RATE + 5.0);
        for _ in 0..50 {
            limiter.on_clean(now);
        }
        assert_eq!(limiter.rate(), 10.0);
    }

    #[test]
    fn a_throttle_cuts_the_rate_once_per_episode() {
        let limiter = Limiter::new(None);
        let start = Instant::now();
        for _ in 0..18 {
            limiter.on_clean(start);
        }
        assert_eq!(limiter.rate(), 20.0);
        limiter.on_throttle(start, at(start, 100));
        assert!((limiter.rate() - 14.0).abs() < 1e-9);
        // Requests that were already on their way when the rate was cut say nothing new.
        limiter.on_throttle(at(start, 50), at(start, 120));
        assert!((limiter.rate() - 14.0).abs() < 1e-9);
        limiter.on_throttle(at(start, 150), at(start, 200));
        assert!((limiter.rate() - 9.8).abs() < 1e-9);
    }

    #[test]
    fn after_a_cut_the_rate_returns_towards_where_it_was_throttled_then_probes_beyond() {
        let limiter = Limiter::new(None);
        let start = Instant::now();
        for _ in 0..8 {
            limiter.on_clean(start);
        }
        limiter.on_throttle(start, start);
        assert!((limiter.rate() - 7.0).abs() < 1e-9);
        let k = (10.0 * (1.0 - BETA) / CUBIC_SCALE).cbrt();
        // Enough clean answers at each moment that the per-answer step does not bind.
        let rate_at = |seconds: f64| {
            for _ in 0..100 {
                limiter.on_clean(start + Duration::from_secs_f64(seconds));
            }
            limiter.rate()
        };
        let halfway = rate_at(k / 2.0);
        assert!(halfway > 7.0 && halfway < 10.0, "{halfway}");
        let at_k = rate_at(k);
        assert!((at_k - 10.0).abs() < 0.01, "{at_k}");
        assert!(rate_at(k + 1.0) < 10.1, "flat near the old rate");
        assert!(rate_at(k + 10.0) > 50.0, "then probing faster");
    }

    #[test]
    fn the_rate_never_falls_below_the_floor_nor_passes_the_cap() {
        let limiter = Limiter::new(Some(3.0));
        let start = Instant::now();
        for i in 0..20 {
            limiter.on_throttle(at(start, i * 10), at(start, i * 10 + 5));
        }
        assert_eq!(limiter.rate(), MIN_RATE);
        let capped = Limiter::new(Some(1000.0));
        for _ in 0..200 {
            capped.on_clean(start);
        }
        assert_eq!(capped.rate(), ACCOUNT_QUOTA);
    }

    #[test]
    fn the_bucket_holds_at_most_a_second_of_requests() {
        let limiter = Limiter::new(None);
        let start = Instant::now();
        assert_eq!(limiter.try_acquire(start), Ok(()));
        for _ in 0..8 {
            limiter.on_clean(start);
        }
        let later = at(start, 60_000);
        let burst = (0..100).take_while(|_| limiter.try_acquire(later).is_ok()).count();
        assert_eq!(burst, 10);
        let next = limiter.try_acquire(later).unwrap_err();
        assert_eq!(next, later + Duration::from_millis(100));
    }
}

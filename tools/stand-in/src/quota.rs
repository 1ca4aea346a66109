//! The account-wide request quota of `PutAuditEvents`: 100 requests per second per account and
//! Region, shared by every caller. The stand-in models it as a token bucket that every
//! connection draws from: a request takes a token when it arrives, and one that finds none is
//! throttled. The bucket is given the time by its caller, so its arithmetic is tested without a
//! clock.

use std::time::{Duration, Instant};

/// A requests-per-second quota with a burst allowance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quota {
    /// Tokens added per second: the sustained rate the account may send.
    pub requests_per_second: f64,
    /// The most tokens the bucket holds: how many requests may arrive at once after a quiet
    /// spell. Values below 1 are taken as 1, or no request could ever pass.
    pub burst: f64,
}

impl Quota {
    /// The service's own quota (Service Quotas L-A60E6D1D). AWS does not publish the burst; one
    /// second's worth is assumed.
    pub const SERVICE: Quota = Quota { requests_per_second: 100.0, burst: 100.0 };

    /// Whether the quota can ever let a request through: a positive, finite rate and burst.
    pub fn is_valid(&self) -> bool {
        let positive = |value: f64| value.is_finite() && value > 0.0;
        positive(self.requests_per_second) && positive(self.burst)
    }
}

/// A token bucket for one [`Quota`]; it starts full.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    quota: Quota,
    capacity: f64,
    tokens: f64,
    refilled_at: Instant,
}

impl TokenBucket {
    /// A full bucket for `quota`, as of `now`.
    pub fn new(quota: Quota, now: Instant) -> TokenBucket {
        let capacity = quota.burst.max(1.0);
        TokenBucket { quota, capacity, tokens: capacity, refilled_at: now }
    }

    pub fn quota(&self) -> Quota {
        self.quota
    }

    /// Takes a token for a request arriving at `now`; `false` means the request is throttled.
    /// A throttled request takes nothing, as the service's does not count against the quota
    /// (an assumption: AWS does not say).
    pub fn try_take(&mut self, now: Instant) -> bool {
        self.refill(now);
        if self.tokens < 1.0 {
            return false;
        }
        self.tokens -= 1.0;
        true
    }

    /// Tokens available at `now`, whole or not.
    pub fn available(&mut self, now: Instant) -> f64 {
        self.refill(now);
        self.tokens
    }

    /// Adds the tokens earned since the last refill. A `now` earlier than the last refill (two
    /// callers racing for the lock with instants read before it) adds nothing.
    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.refilled_at);
        if elapsed == Duration::ZERO {
            return;
        }
        self.tokens =
            (self.tokens + elapsed.as_secs_f64() * self.quota.requests_per_second).min(self.capacity);
        self.refilled_at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(requests_per_second: f64, burst: f64) -> Quota {
        Quota { requests_per_second, burst }
    }

    fn takes_at(bucket: &mut TokenBucket, now: Instant, tries: usize) -> usize {
        (0..tries).filter(|_| bucket.try_take(now)).count()
    }

    #[test]
    fn a_full_bucket_lets_exactly_the_burst_through_at_once() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(quota(20.0, 20.0), start);
        assert_eq!(takes_at(&mut bucket, start, 50), 20);
        assert!(!bucket.try_take(start), "the 21st request at the same instant is throttled");
    }

    #[test]
    fn an_empty_bucket_earns_one_token_per_interval_of_the_rate() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(quota(20.0, 20.0), start);
        takes_at(&mut bucket, start, 20);
        assert!(!bucket.try_take(start + Duration::from_millis(49)), "49 ms earn less than one token");
        assert!(bucket.try_take(start + Duration::from_millis(50)), "50 ms earn one token at 20/s");
        assert!(!bucket.try_take(start + Duration::from_millis(50)));
    }

    #[test]
    fn a_steady_flood_gets_the_rate_and_no_more() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(quota(20.0, 20.0), start);
        // 200 requests a second for 10 s, one every 5 ms.
        let passed = (0..2_000).filter(|i| bucket.try_take(start + Duration::from_millis(5 * i))).count();
        // The burst, then 20 per second over the 9.995 s that follow.
        assert!((218..=220).contains(&passed), "{passed} passed");
    }

    #[test]
    fn a_quiet_spell_refills_no_more_than_the_burst() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(quota(100.0, 5.0), start);
        takes_at(&mut bucket, start, 5);
        let later = start + Duration::from_secs(60);
        assert_eq!(bucket.available(later), 5.0);
        assert_eq!(takes_at(&mut bucket, later, 10), 5);
    }

    #[test]
    fn throttled_requests_do_not_spend_tokens() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(quota(10.0, 1.0), start);
        assert!(bucket.try_take(start));
        // A flood within the next 100 ms is refused without pushing the next token back.
        takes_at(&mut bucket, start + Duration::from_millis(50), 100);
        assert!(bucket.try_take(start + Duration::from_millis(100)));
    }

    #[test]
    fn a_burst_below_one_still_lets_requests_through() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(quota(2.0, 0.2), start);
        assert!(bucket.try_take(start));
        assert!(bucket.try_take(start + Duration::from_millis(500)));
    }

    #[test]
    fn an_instant_before_the_last_refill_earns_nothing() {
        let start = Instant::now();
        let later = start + Duration::from_secs(1);
        let mut bucket = TokenBucket::new(quota(1.0, 1.0), later);
        assert!(bucket.try_take(later));
        assert!(!bucket.try_take(start), "an earlier instant must not go back in time");
        assert_eq!(bucket.available(later), 0.0);
    }

    #[test]
    fn only_positive_finite_quotas_are_valid() {
        assert!(Quota::SERVICE.is_valid());
        assert!(quota(0.5, 1.0).is_valid());
        for invalid in [quota(0.0, 1.0), quota(1.0, 0.0), quota(f64::NAN, 1.0), quota(f64::INFINITY, 1.0)] {
            assert!(!invalid.is_valid(), "{invalid:?}");
        }
    }
}

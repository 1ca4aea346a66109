//! When the invocation must stop sending, so that its answer reaches Lambda before the
//! deadline: a late answer is a timeout, and then the whole batch comes back.
//!
//! The work after sending stops grows with the batch (deciding each record, the log lines that
//! name the reported ones, building and writing the answer), and its speed depends on the CPU
//! share Lambda gives the function: at 128 MB about 7% of a core, so the same work takes over
//! ten times longer than on a full core. Rather than guess that share, the reserve is measured:
//! it is a fraction of the time this very invocation took to read and map its records, work of
//! the same kind on the same records at the same CPU share, plus a fixed margin for the answer's
//! own round trip and for a CPU quota that may pause the process for a whole scheduling period.

use std::time::Duration;

use tokio::time::Instant;

/// What is kept for the answer besides the measured part: a tenth of the time left, between
/// these bounds, and never more than half of it.
const MIN_MARGIN: Duration = Duration::from_millis(100);
const MAX_MARGIN: Duration = Duration::from_millis(500);

/// The share of the preparation time (reading and mapping the batch) kept for finishing it. The
/// finishing work touches each record once, without parsing or hashing its payload; measured
/// at 128 MB's CPU share it stays under a fifth of the preparation, so a half leaves room.
const FINISHING_SHARE: f64 = 0.5;

/// The instant Lambda's deadline falls on, given the deadline and the time now in epoch
/// milliseconds. `None` means no deadline is known: `cargo lambda watch` sends one in 1970 and
/// a default context has 0, so a deadline already past at the start of an invocation is not
/// taken to mean "no time left".
///
/// ```
/// use std::time::Duration;
/// use cloudtrail_lake_forwarder::deadline::lambda_deadline;
/// use tokio::time::Instant;
///
/// let now = Instant::now();
/// assert_eq!(lambda_deadline(600_000, 1_800_000_000_000, now), None);
/// assert_eq!(lambda_deadline(1_000_030_000, 1_000_000_000, now), Some(now + Duration::from_secs(30)));
/// ```
pub fn lambda_deadline(deadline_ms: u64, now_ms: u64, now: Instant) -> Option<Instant> {
    let remaining = deadline_ms.checked_sub(now_ms).filter(|&ms| ms > 0)?;
    Some(now + Duration::from_millis(remaining))
}

/// When sending must stop: the deadline less a margin and the time finishing will take, given
/// how long preparing the batch took. Sending never starts in the past: with no time left,
/// `now` comes back and nothing is sent.
///
/// ```
/// use std::time::Duration;
/// use cloudtrail_lake_forwarder::deadline::send_until;
/// use tokio::time::Instant;
///
/// let now = Instant::now();
/// let deadline = now + Duration::from_secs(60);
/// // 60 s left and a quick preparation: the margin is 500 ms.
/// assert_eq!(send_until(deadline, now, Duration::ZERO), deadline - Duration::from_millis(500));
/// // A preparation of 4 s (a large batch at a small CPU share) keeps 2 s more.
/// assert_eq!(send_until(deadline, now, Duration::from_secs(4)), deadline - Duration::from_millis(2_500));
/// ```
pub fn send_until(deadline: Instant, now: Instant, preparation: Duration) -> Instant {
    let remaining = deadline.saturating_duration_since(now);
    let margin = (remaining / 10).clamp(MIN_MARGIN, MAX_MARGIN).min(remaining / 2);
    let finishing = preparation.mul_f64(FINISHING_SHARE);
    let reserve = margin + finishing;
    if reserve >= remaining {
        return now;
    }
    deadline - reserve
}

/// Whether preparing may go on for `next` more time (the records until the clock is looked at
/// again, as slow as the slowest so far) and still leave time to answer: at `now + next`,
/// sending could still begin before the reserve that a preparation of `preparation` by then
/// keeps back ([`send_until`]). Preparing past that point would answer late, and a late answer
/// brings the whole batch back.
///
/// ```
/// use std::time::Duration;
/// use cloudtrail_lake_forwarder::deadline::may_prepare;
/// use tokio::time::Instant;
///
/// let now = Instant::now();
/// let deadline = now + Duration::from_secs(3);
/// let second = Duration::from_secs(1);
/// // 1 s prepared: 0.5 s more leaves sending 1.5 s; 2 s more would leave nothing.
/// assert!(may_prepare(deadline, now, second / 2, 3 * second / 2));
/// assert!(!may_prepare(deadline, now, 2 * second, 3 * second));
/// ```
pub fn may_prepare(deadline: Instant, now: Instant, next: Duration, preparation: Duration) -> bool {
    let then = now + next;
    send_until(deadline, then, preparation) > then
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_margin_is_a_tenth_of_the_time_within_its_bounds() {
        let now = Instant::now();
        for (left_ms, margin_ms) in [(60_000, 500), (3_000, 300), (500, 100), (150, 75)] {
            let deadline = now + Duration::from_millis(left_ms);
            assert_eq!(
                send_until(deadline, now, Duration::ZERO),
                deadline - Duration::from_millis(margin_ms),
                "{left_ms} ms left"
            );
        }
    }

    #[test]
    fn a_slow_preparation_keeps_more_for_finishing_and_never_ends_in_the_past() {
        let now = Instant::now();
        let deadline = now + Duration::from_secs(3);
        assert_eq!(
            send_until(deadline, now, Duration::from_secs(2)),
            deadline - Duration::from_millis(1_300)
        );
        assert_eq!(send_until(deadline, now, Duration::from_secs(10)), now);
        assert_eq!(
            send_until(now, now + Duration::from_secs(1), Duration::ZERO),
            now + Duration::from_secs(1)
        );
    }

    #[test]
    fn preparing_goes_on_while_what_comes_next_leaves_time_to_send() {
        let now = Instant::now();
        let deadline = now + Duration::from_secs(3);
        let ms = Duration::from_millis;
        // 1 s prepared, 1.5 s more: 1.5 s left then, keeping 150 ms and half of 2.5 s.
        assert!(may_prepare(deadline, now, ms(1_500), ms(2_500)));
        assert!(!may_prepare(deadline, now, ms(1_700), ms(2_700)));
        // The preparation counted may be more than the time spent (a part standing for a batch).
        assert!(!may_prepare(deadline, now, ms(1_500), ms(3_000)));
        // Nothing prepared yet, nothing known of a record's time: only a deadline at hand stops it.
        assert!(may_prepare(deadline, now, Duration::ZERO, Duration::ZERO));
        assert!(!may_prepare(now, now, Duration::ZERO, Duration::ZERO));
        assert!(!may_prepare(now, now + ms(1), Duration::ZERO, Duration::ZERO));
    }

    #[test]
    fn deadlines_in_the_past_at_the_start_are_unknown() {
        let now = Instant::now();
        assert_eq!(lambda_deadline(0, 1_764_129_600_000, now), None);
        assert_eq!(lambda_deadline(1_764_129_600_000, 1_764_129_600_000, now), None);
        assert_eq!(
            lambda_deadline(1_764_129_600_250, 1_764_129_600_000, now),
            Some(now + Duration::from_millis(250))
        );
    }
}

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

/// How the time a part of a batch took to prepare counts towards the time kept for finishing
/// ([`send_until`]), the same for deciding when preparing stops and when sending
/// stops.
#[derive(Debug, Clone, Copy)]
pub struct Counting {
    /// How many times this part's records the answer is built for: a first part stands for the
    /// whole batch, its preparation for the batch's.
    pub scale: f64,
    /// The least preparation a batch sent in parts counts ([`PREPARATION_FLOOR_PER_RECORD`]).
    pub floor: Duration,
}

impl Counting {
    pub fn counted(self, preparation: Duration) -> Duration {
        preparation.mul_f64(self.scale).max(self.floor)
    }
}

/// Until when an invocation may go on preparing records: Lambda's deadline, and how the
/// preparation counts.
#[derive(Debug, Clone, Copy)]
pub struct PrepareBy {
    pub deadline: Instant,
    /// What the batch took to prepare before this part began (decoding it, earlier parts).
    pub earlier: Duration,
    pub counting: Counting,
}

impl PrepareBy {
    /// The preparation counted for finishing when `spent` of it is this part's.
    pub fn counted(&self, spent: Duration) -> Duration {
        self.counting.counted(self.earlier + spent)
    }
}

/// How many plain records are prepared between two looks at the clock.
pub const RECORDS_PER_LOOK: u32 = 8;

/// A record whose payload is this large, or that may unpack into many events, is looked at
/// before and after on its own.
pub const HEAVY_RECORD_BYTES: usize = 64 * 1024;

/// Watches one thread's preparation against [`PrepareBy`]. At each look it asks whether the
/// records until the next look (one heavy record, or [`RECORDS_PER_LOOK`] plain ones), each as
/// slow as the slowest of its kind so far, would still leave time to answer
/// ([`may_prepare`]); once not, preparing stops for good. Before any record is done
/// nothing is known of their time, so the first look stops only a deadline already at hand.
pub struct Stopwatch {
    by: PrepareBy,
    began: Instant,
    looked: Instant,
    /// Records begun since the last look; 0 only before the first.
    since_look: u32,
    /// Whether the record begun since the last look is a heavy one.
    heavy_since_look: bool,
    /// The most a plain record took, on average over the records between two looks.
    slowest_plain: Duration,
    /// The most a heavy record took.
    slowest_heavy: Duration,
    stopped: bool,
}

impl Stopwatch {
    pub fn new(by: PrepareBy) -> Stopwatch {
        let now = Instant::now();
        Stopwatch {
            by,
            began: now,
            looked: now,
            since_look: 0,
            heavy_since_look: false,
            slowest_plain: Duration::ZERO,
            slowest_heavy: Duration::ZERO,
            stopped: false,
        }
    }

    /// Whether the next record may still be prepared; `heavy` when it is large or may unpack
    /// into many events ([`HEAVY_RECORD_BYTES`]).
    pub fn may_prepare(&mut self, heavy: bool) -> bool {
        if self.stopped {
            return false;
        }
        let look =
            heavy || self.heavy_since_look || self.since_look == 0 || self.since_look >= RECORDS_PER_LOOK;
        if look {
            let now = Instant::now();
            if self.since_look > 0 {
                let each = (now - self.looked) / self.since_look;
                let slowest =
                    if self.heavy_since_look { &mut self.slowest_heavy } else { &mut self.slowest_plain };
                *slowest = (*slowest).max(each);
            }
            let next = match heavy {
                true => self.slowest_heavy.max(self.slowest_plain),
                false => self.slowest_plain * RECORDS_PER_LOOK,
            };
            let preparation = self.by.counted(now - self.began + next);
            if !may_prepare(self.by.deadline, now, next, preparation) {
                self.stopped = true;
                return false;
            }
            self.looked = now;
            self.since_look = 0;
            self.heavy_since_look = heavy;
        }
        self.since_look += 1;
        true
    }
}

/// The least preparation time a record of a batch sent in parts is taken to stand for when a
/// part decides how long it may send. Set with the 128 MB test of a hung service
/// (`tests/cpu_share.rs`, release build): with 60 µs the 10,000-message batch was answered
/// about 390 ms before the deadline, with 100 µs about 590 ms, as it was before batches went in
/// parts; for 10,000 records it keeps back half a second more only when the service is too slow
/// for the batch anyway.
pub const PREPARATION_FLOOR_PER_RECORD: Duration = Duration::from_micros(100);

/// The clock one part of a batch prepares and sends by: Lambda's deadline, and how the part's
/// preparation counts towards the time kept for finishing.
#[derive(Debug, Clone, Copy)]
pub struct PartClock {
    deadline: Option<Instant>,
    counting: Counting,
}

impl PartClock {
    /// Until when the part may go on preparing records, `earlier` having been spent on the
    /// batch before it began (decoding it, earlier parts); `None` when no deadline is known.
    pub fn prepare_by(self, earlier: Duration) -> Option<PrepareBy> {
        self.deadline.map(|deadline| PrepareBy { deadline, earlier, counting: self.counting })
    }

    /// When the part must stop sending, the batch having taken `preparation` to prepare so far.
    pub fn send_until(self, preparation: Duration) -> Option<Instant> {
        let preparation = self.counting.counted(preparation);
        self.deadline.map(|deadline| send_until(deadline, Instant::now(), preparation))
    }
}

/// The clocks of a batch of `total` records whose first part holds `first`: `(first part, the
/// rest)`.
///
/// Sending keeps back time for finishing in proportion to the preparation, and, when the batch
/// goes in parts, never less than [`PREPARATION_FLOOR_PER_RECORD`]: at 128 MB the cgroup lets a
/// short burst of CPU run unthrottled, so a part's preparation can look many times faster than
/// the batch's, and the answer is built for the whole batch. The first part counts as if the
/// whole batch were prepared at its pace. Preparing stops short of the deadline too, counting
/// its time as sending will: a batch that goes whole (FIFO, gzip, KPL) is prepared before its
/// first request, and at 128 MB that can take longer than the time Lambda gives; the records
/// left are answered as not ingested, not late.
pub fn part_clocks(deadline: Option<Instant>, total: usize, first: usize) -> (PartClock, PartClock) {
    let floor = match first < total {
        true => PREPARATION_FLOOR_PER_RECORD * total as u32,
        false => Duration::ZERO,
    };
    let head = Counting { scale: total as f64 / first.max(1) as f64, floor };
    let tail = Counting { scale: 1.0, floor };
    (PartClock { deadline, counting: head }, PartClock { deadline, counting: tail })
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

    /// Preparing a whole batch by `deadline`, with nothing prepared before.
    fn alone_until(deadline: Instant) -> PrepareBy {
        let counting = Counting { scale: 1.0, floor: Duration::ZERO };
        PrepareBy { deadline, earlier: Duration::ZERO, counting }
    }

    #[test]
    fn what_comes_before_the_next_look_is_begun_only_with_time_to_answer_after_it() {
        // Plain records, and heavy ones (a gzip record: it may unpack into many events).
        let (plain, heavy) = (false, true);
        let ms = Duration::from_millis;
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut stopwatch = Stopwatch::new(alone_until(deadline));
        // Time passing for the stopwatch: everything it knows moves back.
        let pass = |stopwatch: &mut Stopwatch, time: Duration| {
            stopwatch.by.deadline -= time;
            stopwatch.began -= time;
            stopwatch.looked -= time;
        };
        assert!(stopwatch.may_prepare(plain), "the first record, nothing known yet");
        for _ in 1..8 {
            assert!(stopwatch.may_prepare(plain));
        }
        // The eight plain records took 1.4 s: the next eight would take as long, and 7.2 s would
        // still be left then, with 1.9 s kept for the answer.
        pass(&mut stopwatch, ms(1_400));
        assert!(stopwatch.may_prepare(plain), "8.6 s left, 1.4 s for the next eight");
        assert!((175..300).contains(&stopwatch.slowest_plain.as_millis()), "{:?}", stopwatch.slowest_plain);
        assert!(stopwatch.may_prepare(heavy), "a gzip record is looked at before it");
        // The gzip record took 3 s: plain records are still judged by their own pace.
        pass(&mut stopwatch, ms(3_000));
        assert!(stopwatch.may_prepare(plain), "5.6 s left, 1.4 s for the next eight plain");
        assert!(
            (3_000..3_200).contains(&stopwatch.slowest_heavy.as_millis()),
            "{:?}",
            stopwatch.slowest_heavy
        );
        // Another gzip record, as slow, would leave 2.6 s against 3.7 s for finishing and 0.26 s.
        assert!(!stopwatch.may_prepare(heavy), "5.6 s left, 3 s for the next gzip record");
        assert!(!stopwatch.may_prepare(plain), "once stopped, preparing stays stopped");

        // With 1.6 s left after eight records in 1.4 s, one more would fit; the eight begun
        // before the next look would not.
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut stopwatch = Stopwatch::new(alone_until(deadline));
        for _ in 0..8 {
            assert!(stopwatch.may_prepare(plain));
        }
        pass(&mut stopwatch, ms(1_400));
        assert!(!stopwatch.may_prepare(plain), "1.6 s left, 1.4 s for the next eight");

        // A part that stands for a batch four times its size counts its preparation so, and a
        // batch sent in parts counts at least its floor: either can leave no time for a record.
        let by = PrepareBy {
            deadline: Instant::now() + Duration::from_secs(3),
            earlier: ms(1_500),
            counting: Counting { scale: 4.0, floor: ms(100) },
        };
        assert_eq!(by.counted(ms(250)), ms(7_000));
        assert!(!Stopwatch::new(by).may_prepare(plain), "6 s counted: 3 s kept of 3 s");
        let alone = PrepareBy { counting: Counting { scale: 1.0, ..by.counting }, ..by };
        assert!(Stopwatch::new(alone).may_prepare(plain), "1.5 s counted: 0.75 s kept");
        let floored = PrepareBy { counting: Counting { floor: Duration::from_secs(6), scale: 1.0 }, ..by };
        assert!(!Stopwatch::new(floored).may_prepare(plain), "a floor of 6 s: 3 s kept");
    }

    #[test]
    fn a_heavy_record_is_looked_at_before_and_after_on_its_own() {
        let deadline = Instant::now() + Duration::from_secs(600);
        let mut stopwatch = Stopwatch::new(alone_until(deadline));
        assert!(stopwatch.may_prepare(false));
        assert!(!stopwatch.heavy_since_look);
        assert!(stopwatch.may_prepare(true));
        assert!(stopwatch.heavy_since_look, "looked at before the heavy record");
        assert_eq!(stopwatch.since_look, 1);
        assert!(stopwatch.may_prepare(false));
        assert!(!stopwatch.heavy_since_look, "and again after it");
    }
}

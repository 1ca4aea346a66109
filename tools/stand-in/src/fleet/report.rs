//! What a fleet run delivered, measured where it lands: the stand-in's stored events and seen
//! requests against the queue's messages. Printed as a Markdown table; [`FleetReport::delivery_problems`]
//! is what a test asserts on.
//!
//! Throughput is unique events stored over the *ingest window*: from the first request the
//! stand-in saw to the moment the last message's event was first stored. Cold starts before the
//! first request and the queue's final waits after the last event do not dilute it; the wall
//! time is reported beside it.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

use crate::cloudtrail::{SeenRequest, StoredEvent, MAX_EVENTS};
use crate::fleet::queue::Tally;
use crate::quota::Quota;

/// How the fleet was set up, repeated in the report so a table stands on its own.
#[derive(Debug, Clone, PartialEq)]
pub struct Setup {
    pub environments: usize,
    pub batch_size: usize,
    pub account_quota: Option<Quota>,
    pub latency: Duration,
    /// Extra variables given to the function processes, as `KEY=VALUE`.
    pub function_environment: Vec<String>,
}

/// How the invocations ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Invocations {
    pub total: usize,
    /// Answers that named at least one message as failed.
    pub with_item_failures: usize,
    /// Messages named as failed, over all answers.
    pub item_failures: usize,
    /// Answered with a function error, or an answer Lambda cannot use.
    pub errors: usize,
    /// No answer by the deadline: the environment was replaced.
    pub timeouts: usize,
    /// The process exited during an invocation: the environment was replaced.
    pub crashes: usize,
}

/// The report of one fleet run.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetReport {
    pub setup: Setup,
    pub queue: Tally,
    /// Messages deleted from the queue before their event was stored: audit events lost.
    pub lost: Vec<String>,
    /// Messages whose event was never stored, whatever became of them.
    pub never_stored: usize,
    /// Events stored, copies included.
    pub stored: usize,
    pub unique_stored: usize,
    pub requests: usize,
    pub throttled_requests: usize,
    /// Throttled requests in each second from the first request: where the fleet spent them,
    /// finding its shares at cold start or probing later.
    pub throttled_per_second: Vec<usize>,
    /// The most requests the stand-in was handling at once.
    pub peak_requests_in_flight: usize,
    pub invocations: Invocations,
    /// From the start of the run (before the cold starts) to its end.
    pub wall_time: Duration,
    /// From the first request to the first storing of the last message's event; `None` when
    /// nothing was stored.
    pub ingest_window: Option<Duration>,
    /// Whether the run was stopped by its time limit rather than by an empty queue.
    pub hit_time_limit: bool,
    /// Another producer in the account, when the run had one.
    pub other_producer: Option<OtherProducer>,
    /// Where each process's stdout and stderr are.
    pub logs: std::path::PathBuf,
}

/// Another producer that took a steady share of the account quota during the run. Alone, a
/// producer under the quota is never throttled: what it met here is the fleet's doing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OtherProducer {
    /// The share of the quota it asked for.
    pub share: f64,
    pub requests: usize,
    pub throttled: usize,
}

/// What the stand-in saw, reduced to the report's numbers.
pub(crate) struct Measured {
    pub stored: usize,
    pub unique_stored: usize,
    pub never_stored: usize,
    pub requests: usize,
    pub throttled_requests: usize,
    pub throttled_per_second: Vec<usize>,
    pub ingest_window: Option<Duration>,
}

impl Measured {
    /// Measures `stored` and `requests` against the queue's `message_ids`.
    pub fn of<'a>(
        message_ids: impl Iterator<Item = &'a str>,
        stored: &[StoredEvent],
        requests: &[SeenRequest],
    ) -> Measured {
        let mut first_stored: HashMap<&str, Instant> = HashMap::with_capacity(stored.len());
        for event in stored {
            first_stored.entry(event.id.as_str()).or_insert(event.stored_at);
        }
        let never_stored = message_ids.filter(|id| !first_stored.contains_key(id)).count();
        let first_request = requests.iter().map(|request| request.arrived_at).min();
        let last_new_event = first_stored.values().max().copied();
        let mut throttled_per_second = Vec::new();
        for request in requests.iter().filter(|request| request.was_throttled()) {
            let second = first_request
                .map_or(0, |first| request.arrived_at.saturating_duration_since(first).as_secs() as usize);
            if throttled_per_second.len() <= second {
                throttled_per_second.resize(second + 1, 0);
            }
            throttled_per_second[second] += 1;
        }
        Measured {
            stored: stored.len(),
            unique_stored: first_stored.len(),
            never_stored,
            requests: requests.len(),
            throttled_requests: requests.iter().filter(|request| request.was_throttled()).count(),
            throttled_per_second,
            ingest_window: first_request
                .zip(last_new_event)
                .map(|(first, last)| last.saturating_duration_since(first)),
        }
    }
}

impl FleetReport {
    /// Copies stored beyond the first of each event.
    pub fn duplicates(&self) -> usize {
        self.stored - self.unique_stored
    }

    /// Unique events stored per second of the ingest window.
    pub fn events_per_second(&self) -> Option<f64> {
        let window = self.ingest_window?.as_secs_f64();
        (window > 0.0).then(|| self.unique_stored as f64 / window)
    }

    /// The most events per second the account quota leaves the fleet: full requests at its
    /// rate, less another producer's share.
    pub fn ceiling_events_per_second(&self) -> Option<f64> {
        let others = self.other_producer.map_or(0.0, |other| other.share);
        Some(self.setup.account_quota?.requests_per_second * (1.0 - others) * MAX_EVENTS as f64)
    }

    pub fn share_of_ceiling(&self) -> Option<f64> {
        Some(self.events_per_second()? / self.ceiling_events_per_second()?)
    }

    /// The throttle timeline, `-` when nothing was throttled.
    fn throttled_per_second_row(&self) -> Option<String> {
        let seconds: Vec<String> = self.throttled_per_second.iter().map(usize::to_string).collect();
        (!seconds.is_empty()).then(|| seconds.join(" / "))
    }

    pub fn throttled_share(&self) -> f64 {
        share(self.throttled_requests, self.requests)
    }

    /// What broke the delivery guarantee: messages lost, dead-lettered, never stored, or left
    /// in the queue. Empty when every message's event was stored and the queue was drained.
    pub fn delivery_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !self.lost.is_empty() {
            let first: Vec<&str> = self.lost.iter().take(5).map(String::as_str).collect();
            problems.push(format!(
                "{} messages deleted before their event was stored (first: {})",
                self.lost.len(),
                first.join(", ")
            ));
        }
        let counts = [
            (self.queue.dead_lettered, "messages dead-lettered"),
            (self.never_stored, "messages whose event was never stored"),
            (self.queue.left(), "messages left in the queue"),
        ];
        for (count, what) in counts {
            if count > 0 {
                problems.push(format!("{count} {what}"));
            }
        }
        problems
    }
}

/// The table's rows, in three parts: how the fleet was set up, what became of the messages,
/// and how fast and at what cost in requests.
impl FleetReport {
    fn setup_rows(&self) -> Vec<(&'static str, String)> {
        let setup = &self.setup;
        let quota = setup.account_quota.map_or("none".into(), |quota| {
            format!("{} requests/s, burst {}", quota.requests_per_second, quota.burst)
        });
        let extra = if setup.function_environment.is_empty() {
            "none".into()
        } else {
            setup.function_environment.join(" ")
        };
        vec![
            ("environments", setup.environments.to_string()),
            ("batch size", setup.batch_size.to_string()),
            ("account quota", quota),
            ("service latency", format!("{} ms", setup.latency.as_millis())),
            ("function environment", extra),
        ]
    }

    fn delivery_rows(&self) -> Vec<(&'static str, String)> {
        let messages = self.queue.messages;
        let time_limit = if self.hit_time_limit { " (time limit)" } else { "" };
        vec![
            ("messages", messages.to_string()),
            ("events stored", self.stored.to_string()),
            ("unique events stored", with_share(self.unique_stored, messages)),
            ("duplicates", with_share(self.duplicates(), messages)),
            ("lost (deleted, never stored)", self.lost.len().to_string()),
            ("deleted on receive 1, 2, …", by_receive(&self.queue.deleted_by_receive)),
            ("dead-lettered", with_share(self.queue.dead_lettered, messages)),
            ("left in queue", format!("{}{time_limit}", self.queue.left())),
        ]
    }

    fn throughput_rows(&self) -> Vec<(&'static str, String)> {
        let seconds = |duration: Duration| format!("{:.2} s", duration.as_secs_f64());
        let rate = |rate: f64| format!("{rate:.0}");
        let invocations = &self.invocations;
        vec![
            ("wall time", seconds(self.wall_time)),
            ("ingest window (first request → last new event)", or_dash(self.ingest_window.map(seconds))),
            ("events/s (unique ÷ ingest window)", or_dash(self.events_per_second().map(rate))),
            (
                "ceiling events/s (quota × 100, less another producer's share)",
                or_dash(self.ceiling_events_per_second().map(rate)),
            ),
            ("share of ceiling", or_dash(self.share_of_ceiling().map(percent))),
            ("requests", self.requests.to_string()),
            ("throttled requests", with_share(self.throttled_requests, self.requests)),
            ("throttled in second 1, 2, …", or_dash(self.throttled_per_second_row())),
            ("peak requests in flight at the service", self.peak_requests_in_flight.to_string()),
            (
                "another producer: share of the quota, requests throttled",
                or_dash(self.other_producer.map(|other| {
                    format!(
                        "{} of the quota, {}",
                        percent(other.share),
                        with_share(other.throttled, other.requests)
                    )
                })),
            ),
            ("invocations", invocations.total.to_string()),
            (
                "answers naming failures",
                format!("{} ({} messages)", invocations.with_item_failures, invocations.item_failures),
            ),
            (
                "function errors / timeouts / crashes",
                format!("{} / {} / {}", invocations.errors, invocations.timeouts, invocations.crashes),
            ),
        ]
    }
}

impl fmt::Display for FleetReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "| measure | value |")?;
        writeln!(f, "| --- | ---: |")?;
        for (measure, value) in [self.setup_rows(), self.delivery_rows(), self.throughput_rows()].concat() {
            writeln!(f, "| {measure} | {value} |")?;
        }
        Ok(())
    }
}

fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn percent(share: f64) -> String {
    format!("{:.1} %", 100.0 * share)
}

/// `12 (0.6 %)`: a count and its share of `whole`.
fn with_share(count: usize, whole: usize) -> String {
    format!("{count} ({})", percent(share(count, whole)))
}

/// `11200 / 4200 / 3500 / 1100 / 0`.
fn by_receive(counts: &[usize]) -> String {
    counts.iter().map(usize::to_string).collect::<Vec<_>>().join(" / ")
}

fn or_dash(value: Option<String>) -> String {
    value.unwrap_or_else(|| "–".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(id: &str, at: Instant) -> StoredEvent {
        StoredEvent {
            id: id.into(),
            event_data: "{}".into(),
            event_id: "e".into(),
            request: 0,
            stored_at: at,
        }
    }

    fn request(error: Option<&str>, at: Instant) -> SeenRequest {
        SeenRequest {
            body_len: 0,
            ids: Vec::new(),
            status: Some(if error.is_some() { 400 } else { 200 }),
            error: error.map(str::to_owned),
            arrived_at: at,
            stored: 0,
        }
    }

    fn report(measured: Measured, queue: Tally, lost: Vec<String>) -> FleetReport {
        FleetReport {
            setup: Setup {
                environments: 2,
                batch_size: 10,
                account_quota: Some(Quota { requests_per_second: 20.0, burst: 20.0 }),
                latency: Duration::from_millis(50),
                function_environment: Vec::new(),
            },
            queue,
            lost,
            never_stored: measured.never_stored,
            stored: measured.stored,
            unique_stored: measured.unique_stored,
            requests: measured.requests,
            throttled_requests: measured.throttled_requests,
            throttled_per_second: measured.throttled_per_second,
            peak_requests_in_flight: 1,
            invocations: Invocations::default(),
            wall_time: Duration::from_secs(3),
            ingest_window: measured.ingest_window,
            hit_time_limit: false,
            other_producer: None,
            logs: "logs".into(),
        }
    }

    fn drained(messages: usize) -> Tally {
        Tally {
            messages,
            deleted: messages,
            deleted_by_receive: vec![messages],
            batches: 1,
            ..Tally::default()
        }
    }

    #[test]
    fn copies_throttling_and_throughput_are_counted_from_what_the_stand_in_saw() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let events =
            [stored("a", at(100)), stored("b", at(200)), stored("a", at(1_500)), stored("c", at(2_000))];
        let requests = [
            request(Some("ThrottlingException"), at(0)),
            request(None, at(50)),
            request(None, at(60)),
            request(Some("ThrottlingException"), at(2_100)),
        ];
        let measured = Measured::of(["a", "b", "c", "d"].into_iter(), &events, &requests);
        let report = report(measured, drained(4), Vec::new());

        assert_eq!((report.stored, report.unique_stored, report.duplicates()), (4, 3, 1));
        assert_eq!(report.never_stored, 1, "d was never stored");
        assert_eq!(report.ingest_window, Some(Duration::from_secs(2)));
        assert_eq!(report.events_per_second(), Some(1.5));
        assert_eq!(report.ceiling_events_per_second(), Some(2_000.0));
        let shared = FleetReport {
            other_producer: Some(OtherProducer { share: 0.6, requests: 100, throttled: 3 }),
            ..report.clone()
        };
        assert_eq!(shared.ceiling_events_per_second(), Some(800.0), "the fleet's ceiling is what is left");
        assert_eq!(report.throttled_requests, 2);
        assert_eq!(report.throttled_per_second, [1, 0, 1]);
        assert_eq!(report.throttled_per_second_row().as_deref(), Some("1 / 0 / 1"));
        assert!((report.throttled_share() - 2.0 / 4.0).abs() < 1e-9);
    }

    #[test]
    fn a_clean_run_has_no_delivery_problems() {
        let t0 = Instant::now();
        let measured = Measured::of(["a"].into_iter(), &[stored("a", t0)], &[request(None, t0)]);
        assert_eq!(report(measured, drained(1), Vec::new()).delivery_problems(), Vec::<String>::new());
    }

    #[test]
    fn a_message_deleted_before_its_event_was_stored_is_a_delivery_problem() {
        // The fleet test asserts `delivery_problems()` is empty: this is the case it must catch.
        let measured = Measured::of(["a"].into_iter(), &[], &[]);
        let problems = report(measured, drained(1), vec!["a".into()]).delivery_problems();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("1 messages deleted before their event was stored (first: a)"));
        assert!(problems[1].contains("1 messages whose event was never stored"));
    }

    #[test]
    fn dead_letters_and_leftovers_are_delivery_problems() {
        let t0 = Instant::now();
        let measured = Measured::of(["a"].into_iter(), &[stored("a", t0)], &[]);
        let queue = Tally {
            messages: 3,
            deleted: 1,
            deleted_by_receive: vec![1],
            dead_lettered: 1,
            waiting: 1,
            ..Tally::default()
        };
        let problems = report(measured, queue, Vec::new()).delivery_problems();
        assert_eq!(problems, ["1 messages dead-lettered", "1 messages left in the queue"]);
    }

    #[test]
    fn the_table_names_every_measure() {
        let t0 = Instant::now();
        let measured = Measured::of(["a"].into_iter(), &[stored("a", t0)], &[request(None, t0)]);
        let table = report(measured, drained(1), Vec::new()).to_string();
        assert!(table.starts_with("| measure | value |\n| --- | ---: |\n"));
        for measure in
            ["duplicates", "lost", "dead-lettered", "share of ceiling", "throttled requests", "invocations"]
        {
            assert!(table.contains(measure), "{measure}: {table}");
        }
    }
}

//! One summary line per invocation, with the figures the metrics are made of.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::lambda::{Record, Source};
use crate::outcome::Outcome;
use crate::send::SendReport;

/// What one invocation did.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub source: Source,
    /// Records in the batch.
    pub records: usize,
    /// Records the service confirmed.
    pub ingested: usize,
    /// Records never sent because they cannot be valid audit events.
    pub rejected: usize,
    /// Identifiers in the answer.
    pub reported: usize,
    /// Records Lambda will deliver again: the reported ones, and on Kinesis every record from
    /// the reported one to the end of the batch.
    pub redelivered: usize,
    /// Records not ingested, counted by error code (or `Rejected`, `HeldBehindFailure`, `OutOfTime`,
    /// `OverBudget`).
    pub failures: BTreeMap<String, usize>,
    /// Age of the oldest record at the end of the invocation (Kinesis), in milliseconds.
    pub oldest_record_age_ms: Option<u64>,
    pub send: SendReport,
    pub duration: Duration,
}

impl Summary {
    pub fn new(
        source: Source,
        records: &[Record],
        outcomes: &[Option<Outcome>],
        reported: &[usize],
        send: SendReport,
        duration: Duration,
    ) -> Summary {
        let mut failures = BTreeMap::new();
        for outcome in outcomes {
            let code = match outcome {
                Some(outcome) => outcome.failure_code(),
                None => Some("Unconfirmed"),
            };
            if let Some(code) = code {
                *failures.entry(code.to_owned()).or_insert(0) += 1;
            }
        }
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64;
        Summary {
            source,
            records: records.len(),
            ingested: outcomes.iter().filter(|outcome| matches!(outcome, Some(Outcome::Ingested))).count(),
            rejected: outcomes.iter().filter(|outcome| matches!(outcome, Some(Outcome::Rejected(_)))).count(),
            reported: reported.len(),
            redelivered: source.redelivered(records.len(), reported),
            failures,
            oldest_record_age_ms: records
                .iter()
                .filter_map(|record| record.arrival_ms)
                .min()
                .map(|oldest| now_ms.saturating_sub(oldest)),
            send,
            duration,
        }
    }

    /// Logs the summary at info level.
    pub fn log(&self) {
        let failures: Vec<String> =
            self.failures.iter().map(|(code, count)| format!("{code}={count}")).collect();
        tracing::info!(
            source = self.source.name(),
            records = self.records,
            ingested = self.ingested,
            rejected = self.rejected,
            reported = self.reported,
            redelivered = self.redelivered,
            events_ingested = self.send.events_ingested,
            events_sent = self.send.events_sent,
            requests = self.send.requests,
            retries = self.send.retries,
            remembered = self.send.remembered,
            throttled_requests = self.send.throttled_requests,
            throttled_events = self.send.throttled_events,
            rate_limit = self.send.rate_limit,
            failures = %failures.join(","),
            duration_ms = self.duration.as_millis() as u64,
            "invocation summary"
        );
    }
}

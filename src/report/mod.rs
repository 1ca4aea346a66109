//! What an operator reads of an invocation: a WARN line for every record the answer names, with
//! its code and reason, and one summary line with the figures the metrics are made of. Both
//! name records and count codes; neither ever holds a payload.

pub mod metrics;

use std::collections::BTreeMap;
use std::time::Duration;

use crate::lambda::{Record, Source};
use crate::outcome::Outcome;
use crate::send::SendReport;

/// The most identifiers one log line names: lines stay readable, and a batch of 10,000
/// reported records costs a hundred lines rather than ten thousand when time is short.
const IDENTIFIERS_PER_LINE: usize = 100;

/// Logs, at WARN, every record the answer names, with its code and why, so an operator sees
/// each record that comes back. Records that share a code and a reason share lines.
pub fn log_reported(records: &[Record], outcomes: &[Option<Outcome>], reported: &[usize]) {
    let mut groups: BTreeMap<(&str, String), Vec<&str>> = BTreeMap::new();
    for &index in reported {
        let (code, reason) = match &outcomes[index] {
            Some(Outcome::Ingested) => {
                ("KeptForOrder", "reported so that its message group stays in order".to_owned())
            }
            Some(outcome) => (outcome.failure_code().unwrap_or("Unknown"), outcome.reason()),
            None => ("Unconfirmed", "the service did not confirm it".to_owned()),
        };
        groups.entry((code, reason)).or_default().push(records[index].label());
    }
    for ((code, reason), identifiers) in groups {
        for chunk in identifiers.chunks(IDENTIFIERS_PER_LINE) {
            tracing::warn!(
                code,
                reason = %reason,
                records = chunk.len(),
                item_identifiers = %chunk.join(","),
                "records reported to Lambda, which will deliver them again"
            );
        }
    }
}

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

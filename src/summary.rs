//! The invocation summary: one log line an operator can read at a glance, and the figures the
//! metrics are made of. It counts records and codes; it never holds a payload.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::answer::Answer;
use crate::outcome::Outcome;
use crate::send::SendReport;
use crate::source::{Record, Source};

/// What one invocation did.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub source: Option<Source>,
    /// Records in the batch.
    pub records: usize,
    /// Records the service confirmed.
    pub ingested: usize,
    /// Records never sent because they cannot be valid audit events.
    pub rejected: usize,
    /// Identifiers in the answer.
    pub reported: usize,
    /// Records not ingested, counted by error code (or `Rejected`, `HeldBehindFailure`, `OutOfTime`).
    pub failures: BTreeMap<String, usize>,
    /// Age of the oldest record at the end of the invocation (Kinesis), in milliseconds.
    pub oldest_record_age_ms: Option<u64>,
    pub send: SendReport,
    pub duration: Duration,
}

impl Summary {
    pub fn new(
        source: Option<Source>,
        records: &[Record],
        outcomes: &[Option<Outcome>],
        answer: &Answer,
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
            reported: answer.item_identifiers().len(),
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
            source = self.source.map_or("none", Source::name),
            records = self.records,
            ingested = self.ingested,
            rejected = self.rejected,
            reported = self.reported,
            events_sent = self.send.events_sent,
            requests = self.send.requests,
            retries = self.send.retries,
            remembered = self.send.remembered,
            failures = %failures.join(","),
            duration_ms = self.duration.as_millis() as u64,
            "invocation summary"
        );
    }
}

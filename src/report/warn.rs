//! A WARN line for every record the answer names, with its code and reason: it names records
//! and counts codes, and never holds a payload.

use std::collections::BTreeMap;

use crate::lambda::Record;
use crate::outcome::Outcome;

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

//! What became of each record in one invocation: ingested, rejected, failed at the service, or
//! held back. The rules that decide holds and answers live in [`crate::lambda::ordering`].

use std::fmt;

use crate::rejection::Rejection;

/// The fate of one record in this invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The service confirmed the event in its `successful` list.
    Ingested,
    /// The record can never be a valid audit event; it was not sent.
    Rejected(Rejection),
    /// The service failed the event, or its whole request, after all retries.
    Failed { code: String, transient: bool },
    /// The record was not sent in this invocation.
    Held(Hold),
}

/// Why a valid record was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// An earlier record of its message group (FIFO) or shard (Kinesis) failed.
    BehindFailure,
    /// The invocation's deadline came first.
    OutOfTime,
    /// The batch's earlier records unpacked to as many audit event bytes or events as one
    /// invocation takes ([`crate::prepare::part::MAX_EVENT_BYTES_PER_INVOCATION`],
    /// [`crate::prepare::part::MAX_EVENTS_PER_INVOCATION`]); this one waits for a later delivery.
    OverBudget,
}

impl Outcome {
    /// Whether the record may get in on a later delivery: transient failures and held records.
    /// A rejected record, or one the service refused for what it is, fails the same way again.
    pub fn may_succeed_later(&self) -> bool {
        match self {
            Outcome::Failed { transient, .. } => *transient,
            Outcome::Held(_) => true,
            Outcome::Ingested | Outcome::Rejected(_) => false,
        }
    }

    /// The code counted in the invocation summary, `None` for an ingested record.
    pub fn failure_code(&self) -> Option<&str> {
        match self {
            Outcome::Ingested => None,
            Outcome::Rejected(_) => Some("Rejected"),
            Outcome::Failed { code, .. } => Some(code),
            Outcome::Held(Hold::BehindFailure) => Some("HeldBehindFailure"),
            Outcome::Held(Hold::OutOfTime) => Some("OutOfTime"),
            Outcome::Held(Hold::OverBudget) => Some("OverBudget"),
        }
    }

    /// Why the record was not ingested, for the log line that names it.
    pub fn reason(&self) -> String {
        match self {
            Outcome::Ingested => "ingested".to_owned(),
            Outcome::Rejected(rejection) => rejection.to_string(),
            Outcome::Failed { transient: true, .. } => {
                "the service did not take the event; it may succeed when delivered again".to_owned()
            }
            Outcome::Failed { transient: false, .. } => {
                "the service refused the event; it will fail the same way again".to_owned()
            }
            Outcome::Held(hold) => hold.to_string(),
        }
    }
}

impl fmt::Display for Hold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Hold::BehindFailure => "an earlier record of its group or shard failed",
            Hold::OutOfTime => "the invocation ran out of time before it could be sent",
            Hold::OverBudget => {
                "the batch's earlier records unpacked to as many events as one invocation holds; it comes back on a later delivery"
            }
        })
    }
}

/// One outcome per record from its units' outcomes: a record is ingested when all its units
/// are (a record of none, a control message, is done); otherwise its outcome is that of its
/// first unit not ingested (`None`, not confirmed, when that unit was never decided).
///
/// ```
/// use cloudtrail_lake_forwarder::outcome::fold_outcomes;
/// use cloudtrail_lake_forwarder::outcome::Outcome;
/// let failed = Some(Outcome::Failed { code: "InvalidData".into(), transient: false });
/// let units = [Some(Outcome::Ingested), failed.clone(), Some(Outcome::Ingested)];
/// assert_eq!(fold_outcomes(3, &[0, 0, 2], &units), [failed, Some(Outcome::Ingested), Some(Outcome::Ingested)]);
/// ```
pub fn fold_outcomes(records: usize, owner: &[usize], outcomes: &[Option<Outcome>]) -> Vec<Option<Outcome>> {
    let mut folded = vec![Some(Outcome::Ingested); records];
    let mut failed = vec![false; records];
    for (&record, outcome) in owner.iter().zip(outcomes) {
        if !failed[record] && !matches!(outcome, Some(Outcome::Ingested)) {
            folded[record] = outcome.clone();
            failed[record] = true;
        }
    }
    folded
}

//! What reached the CloudTrail Data stand-in from one run: whether every line of the file is
//! stored, and how many copies of events were. Events are matched to lines by their `UID`,
//! which both sides take from `_document_id` (the forwarder also uses it as the audit event
//! id; the sample builds ids from the file name and a counter). Duplicates are counted both
//! ways: by id, what the service itself would see, and by `UID`, the same line stored twice.

use std::collections::HashSet;

use cloudtrail_data_stand_in::StoredEvent;
use serde::Deserialize;

use crate::github::document_id;

/// The stand-in's store after a run, against the file's lines.
#[derive(Debug, Clone, Copy)]
pub struct Stored {
    pub events: usize,
    /// Lines of the file with no stored event.
    pub missing: u64,
    /// Stored events beyond the first with the same id.
    pub duplicate_ids: usize,
    /// Stored events beyond the first for the same line.
    pub duplicate_lines: usize,
    /// Stored events whose `eventData` has no `UID` string.
    pub without_uid: usize,
}

#[derive(Deserialize)]
struct Uid<'a> {
    #[serde(rename = "UID", borrow)]
    uid: Option<&'a str>,
}

/// Checks `stored` against the `lines` of the file.
pub fn check(stored: &[StoredEvent], lines: u64) -> Stored {
    let ids: HashSet<&str> = stored.iter().map(|event| event.id.as_str()).collect();
    let mut uids = HashSet::with_capacity(stored.len());
    let mut without_uid = 0;
    for event in stored {
        match serde_json::from_str::<Uid>(&event.event_data).ok().and_then(|found| found.uid) {
            Some(uid) => {
                uids.insert(uid);
            }
            None => without_uid += 1,
        }
    }
    let missing = (0..lines).filter(|&line| !uids.contains(document_id(line).as_str())).count() as u64;
    Stored {
        events: stored.len(),
        missing,
        duplicate_ids: stored.len() - ids.len(),
        duplicate_lines: stored.len() - without_uid - uids.len(),
        without_uid,
    }
}

//! The events this execution environment has recently seen ingested, so a redelivered record
//! whose event the service already confirmed is answered as done instead of being sent again.
//!
//! This is what keeps Kinesis duplicates rare: Lambda resumes a shard at the lowest reported
//! sequence number, so after a partial failure it delivers again records that were stored.
//! A record counts as seen only when the service listed it as successful, and it is recognised
//! by its source ARN, its audit event id and its checksum together, so a different payload under
//! the same id is sent. The memory is per process and bounded: after a cold start, or beyond the
//! last [`CAPACITY`] events, a redelivered record is sent again (a duplicate, never a loss).

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::audit::AuditEvent;

/// How many events are remembered: five full 10,000-record batches, about 2.5 MB.
pub const CAPACITY: usize = 50_000;

/// What identifies an ingested event: SHA-256 of source ARN, id and checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key([u8; 32]);

impl Key {
    pub fn of(event_source_arn: &str, event: &AuditEvent) -> Key {
        let digest = Sha256::new()
            .chain_update(event_source_arn.as_bytes())
            .chain_update([0])
            .chain_update(event.id.as_bytes())
            .chain_update([0])
            .chain_update(event.checksum.as_bytes())
            .finalize();
        Key(digest.into())
    }
}

/// A bounded set of recently ingested events, oldest forgotten first.
#[derive(Debug, Default)]
pub struct RecentlyIngested {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    keys: HashSet<Key>,
    order: VecDeque<Key>,
}

impl RecentlyIngested {
    pub fn contains(&self, key: &Key) -> bool {
        self.lock().keys.contains(key)
    }

    /// Remembers an event the service just confirmed, forgetting the oldest beyond capacity.
    pub fn insert(&self, key: Key) {
        let mut inner = self.lock();
        if inner.keys.insert(key) {
            inner.order.push_back(key);
        }
        if inner.order.len() > CAPACITY {
            if let Some(oldest) = inner.order.pop_front() {
                inner.keys.remove(&oldest);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str, checksum: &str) -> AuditEvent {
        AuditEvent { id: id.into(), event_data: String::new(), checksum: checksum.into(), encoded_len: 0 }
    }

    #[test]
    fn a_record_is_recognised_only_by_source_id_and_content_together() {
        let recent = RecentlyIngested::default();
        recent.insert(Key::of("arn:stream/a", &event("1", "c1")));
        assert!(recent.contains(&Key::of("arn:stream/a", &event("1", "c1"))));
        assert!(!recent.contains(&Key::of("arn:stream/b", &event("1", "c1"))));
        assert!(!recent.contains(&Key::of("arn:stream/a", &event("1", "c2"))));
        assert!(!recent.contains(&Key::of("arn:stream/a", &event("2", "c1"))));
    }

    #[test]
    fn the_oldest_events_are_forgotten_beyond_capacity() {
        let recent = RecentlyIngested::default();
        let keys: Vec<Key> =
            (0..CAPACITY + 10).map(|i| Key::of("arn", &event(&i.to_string(), "c"))).collect();
        keys.iter().for_each(|key| recent.insert(*key));
        assert!(!recent.contains(&keys[9]));
        assert!(recent.contains(&keys[10]));
        assert!(recent.contains(&keys[CAPACITY + 9]));
    }
}

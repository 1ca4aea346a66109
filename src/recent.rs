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
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::audit::AuditEvent;

/// How many events are remembered: five full 10,000-record batches, about 3 MB.
pub const CAPACITY: usize = 50_000;

/// What identifies an ingested event: the first 128 bits of the SHA-256 of source ARN, id and
/// checksum. Two different events share a key only by a collision no one can search for in
/// fewer than 2^64 tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key([u8; 16]);

/// The key is already a digest: the set's hasher (SipHash with this process's random keys, as
/// `HashSet` always has) is fed 8 of its bytes rather than all of them. A batch crafted to fill
/// one bucket would need those random keys.
impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let (head, _) = self.0.split_first_chunk::<8>().expect("a key has 16 bytes");
        state.write_u64(u64::from_le_bytes(*head));
    }
}

impl Key {
    pub fn of(event_source_arn: &str, event: &AuditEvent) -> Key {
        let digest = Sha256::new()
            .chain_update(event_source_arn.as_bytes())
            .chain_update([0])
            .chain_update(event.id.as_bytes())
            .chain_update([0])
            .chain_update(event.checksum.as_bytes())
            .finalize();
        let (head, _) = digest.split_first_chunk::<16>().expect("SHA-256 has 32 bytes");
        Key(*head)
    }
}

/// A bounded set of recently ingested events, oldest forgotten first.
#[derive(Debug)]
pub struct RecentlyIngested {
    inner: Mutex<Inner>,
}

/// Room for twice [`CAPACITY`] keys: the set stays under half full, so forgetting one key and
/// remembering another, once per ingested event when full, rarely leaves the tombstones that
/// make the table rehash every key in place.
impl Default for RecentlyIngested {
    fn default() -> RecentlyIngested {
        let inner = Inner {
            keys: HashSet::with_capacity(2 * CAPACITY),
            order: VecDeque::with_capacity(CAPACITY + 1),
        };
        RecentlyIngested { inner: Mutex::new(inner) }
    }
}

#[derive(Debug)]
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

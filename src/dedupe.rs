//! The events this execution environment has recently seen ingested, so a redelivered record
//! whose event the service already confirmed is answered as done instead of being sent again.
//!
//! This is what keeps Kinesis duplicates rare: Lambda resumes a shard at the lowest reported
//! sequence number, so after a partial failure it delivers again records that were stored.
//! A record counts as seen only when the service listed it as successful, and it is recognised
//! by its source ARN, its audit event id and its checksum together, so a different payload under
//! the same id is sent. The memory is per process and bounded: after a cold start, or beyond the
//! last [`CAPACITY`] events, a redelivered record is sent again (a duplicate, never a loss).
//!
//! Within one batch, [`Copies`] sets aside an event that repeats an earlier one (SQS delivers
//! at least once, so one batch may hold a message twice): it is sent once, and the copy is
//! answered by what became of its original.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::event::AuditEvent;
use crate::outcome::Outcome;

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
    inner: Mutex<Memory>,
}

/// Room for twice [`CAPACITY`] keys: the set stays under half full, so forgetting one key and
/// remembering another, once per ingested event when full, rarely leaves the tombstones that
/// make the table rehash every key in place.
impl Default for RecentlyIngested {
    fn default() -> RecentlyIngested {
        let inner = Memory {
            keys: HashSet::with_capacity(2 * CAPACITY),
            order: VecDeque::with_capacity(CAPACITY + 1),
        };
        RecentlyIngested { inner: Mutex::new(inner) }
    }
}

#[derive(Debug)]
struct Memory {
    keys: HashSet<Key>,
    order: VecDeque<Key>,
}

impl Memory {
    fn remember(&mut self, key: Key) {
        if self.keys.insert(key) {
            self.order.push_back(key);
        }
        if self.order.len() > CAPACITY
            && let Some(oldest) = self.order.pop_front()
        {
            self.keys.remove(&oldest);
        }
    }
}

/// A batch's keys are looked up, and its confirmed keys remembered, all under one lock in a
/// loop that does nothing else. The set is 2 MB, and after an event's 13 MB have streamed
/// through the cache every look-up misses it; in a tight loop the processor has the next keys'
/// misses under way while it waits for the first, where one lock a key (an atomic instruction,
/// a barrier to the loads after it) and a SHA-256 between two look-ups left each miss to be
/// waited for alone.
impl RecentlyIngested {
    /// Whether each of `keys` was seen ingested; `None` is not.
    pub fn seen(&self, keys: &[Option<Key>]) -> Vec<bool> {
        let inner = self.lock();
        keys.iter().map(|key| key.as_ref().is_some_and(|key| inner.keys.contains(key))).collect()
    }

    /// Remembers events the service confirmed, in the order confirmed.
    pub fn insert_all(&self, keys: impl IntoIterator<Item = Key>) {
        let mut inner = self.lock();
        for key in keys {
            inner.remember(key);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The events of one batch so far, by key, over the parts it is sent in.
#[derive(Debug, Default)]
pub struct Copies {
    /// The first unit of each key, so that a repeat in a later part is a copy too.
    first_of: HashMap<Key, usize>,
    /// `(copy, original)` unit indices.
    copies: Vec<(usize, usize)>,
}

/// What is left to send of a part once the known events are set aside.
pub struct Unknown {
    /// Each unit's key when it is still to send; `None` for a unit not to send.
    pub keys: Vec<Option<Key>>,
    /// Events this process already saw confirmed.
    pub remembered: usize,
}

impl Copies {
    pub fn with_capacity(units: usize) -> Copies {
        Copies { first_of: HashMap::with_capacity(units), copies: Vec::new() }
    }

    /// Marks as ingested every event of a part that `recent` saw confirmed, and sets aside
    /// each event that repeats an earlier one of the batch. `events` and `outcomes` are the
    /// part's units, which begin at batch unit `start`; only events still without an outcome
    /// are looked at.
    pub fn skip_known(
        &mut self,
        recent: &RecentlyIngested,
        event_source_arn: &str,
        events: &[Option<AuditEvent>],
        outcomes: &mut [Option<Outcome>],
        start: usize,
    ) -> Unknown {
        let keys: Vec<Option<Key>> = events
            .iter()
            .zip(outcomes.iter())
            .map(|(event, outcome)| {
                let event = event.as_ref().filter(|_| outcome.is_none())?;
                Some(Key::of(event_source_arn, event))
            })
            .collect();
        let seen = recent.seen(&keys);
        let mut remembered = 0;
        let keys = keys
            .into_iter()
            .zip(seen)
            .zip(outcomes.iter_mut())
            .enumerate()
            .map(|(offset, ((key, seen), outcome))| {
                let key = key?;
                if seen {
                    *outcome = Some(Outcome::Ingested);
                    remembered += 1;
                    return None;
                }
                if let Some(&original) = self.first_of.get(&key) {
                    self.copies.push((start + offset, original));
                    *outcome = Some(Outcome::Ingested);
                    return None;
                }
                self.first_of.insert(key, start + offset);
                Some(key)
            })
            .collect();
        Unknown { keys, remembered }
    }

    /// Answers each copy by what became of its original, over the whole batch's units;
    /// returns how many copies there were.
    pub fn answer_copies(self, outcomes: &mut [Option<Outcome>]) -> usize {
        for &(copy, original) in &self.copies {
            outcomes[copy] = outcomes[original].clone();
        }
        self.copies.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contains(recent: &RecentlyIngested, key: Key) -> bool {
        recent.seen(&[Some(key)])[0]
    }

    fn event(id: &str, checksum: &str) -> AuditEvent {
        AuditEvent { id: id.into(), event_data: String::new(), checksum: checksum.into(), encoded_len: 0 }
    }

    #[test]
    fn a_record_is_recognised_only_by_source_id_and_content_together() {
        let recent = RecentlyIngested::default();
        recent.insert_all([Key::of("arn:stream/a", &event("1", "c1"))]);
        assert!(contains(&recent, Key::of("arn:stream/a", &event("1", "c1"))));
        assert!(!contains(&recent, Key::of("arn:stream/b", &event("1", "c1"))));
        assert!(!contains(&recent, Key::of("arn:stream/a", &event("1", "c2"))));
        assert!(!contains(&recent, Key::of("arn:stream/a", &event("2", "c1"))));
    }

    #[test]
    fn a_batch_is_looked_up_and_remembered_as_one_key_at_a_time_is() {
        let recent = RecentlyIngested::default();
        let keys: Vec<Key> = (0..4).map(|i| Key::of("arn", &event(&i.to_string(), "c"))).collect();
        recent.insert_all([keys[1], keys[3], keys[1]]);
        let asked = [Some(keys[0]), None, Some(keys[1]), Some(keys[2]), Some(keys[3])];
        assert_eq!(recent.seen(&asked), [false, false, true, false, true]);
        assert_eq!(recent.lock().order.len(), 2, "a key confirmed twice is remembered once");
    }

    #[test]
    fn the_oldest_events_are_forgotten_beyond_capacity() {
        let recent = RecentlyIngested::default();
        let keys: Vec<Key> =
            (0..CAPACITY + 10).map(|i| Key::of("arn", &event(&i.to_string(), "c"))).collect();
        recent.insert_all(keys.iter().copied());
        assert!(!contains(&recent, keys[9]));
        assert!(contains(&recent, keys[10]));
        assert!(contains(&recent, keys[CAPACITY + 9]));
    }

    #[test]
    fn a_repeat_within_the_batch_is_sent_once_and_answered_by_its_original() {
        let recent = RecentlyIngested::default();
        recent.insert_all([Key::of("arn", &event("old", "c"))]);
        let events = [Some(event("a", "c")), Some(event("old", "c")), Some(event("a", "c")), None];
        let mut outcomes = vec![None; 4];
        let mut copies = Copies::with_capacity(4);
        let unknown = copies.skip_known(&recent, "arn", &events, &mut outcomes, 10);
        assert_eq!(unknown.keys, [Some(Key::of("arn", &event("a", "c"))), None, None, None]);
        assert_eq!(unknown.remembered, 1);
        assert_eq!(outcomes[1], Some(Outcome::Ingested), "seen ingested before");

        // The batch's units, of which these were 10 to 13: the original failed.
        let mut batch = vec![None; 14];
        batch[10] = Some(Outcome::Failed { code: "InternalFailure".into(), transient: true });
        assert_eq!(copies.answer_copies(&mut batch), 1);
        assert_eq!(batch[12], batch[10], "the copy shares its original's fate");
    }
}

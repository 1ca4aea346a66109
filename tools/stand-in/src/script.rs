//! The fault script of the S3 and SQS stand-ins: what the next requests meet, written by a test
//! before it runs the code under test. Each entry says which requests it applies to (any, or
//! one bucket, object or queue), what they meet, and how many times; a request meets the
//! first entry that applies to it, in the order written, and that entry is spent by one.
//!
//! "Answer twice with `SlowDown`, then serve" is one entry with `times` 2; "this bucket always
//! refuses" is one with [`ALWAYS`]. The script knows nothing of S3 or SQS: each stand-in says
//! what a target is and what a fault does.

use std::collections::VecDeque;

/// `times` for an entry that is never spent.
pub const ALWAYS: usize = usize::MAX;

#[derive(Debug, Clone)]
struct Entry<T, F> {
    target: T,
    fault: F,
    /// How many more requests meet it; [`ALWAYS`] is never decremented.
    left: usize,
}

/// Faults waiting for the requests they apply to.
#[derive(Debug, Clone)]
pub struct Script<T, F> {
    entries: VecDeque<Entry<T, F>>,
}

impl<T, F> Default for Script<T, F> {
    fn default() -> Self {
        Script { entries: VecDeque::new() }
    }
}

impl<T, F: Clone> Script<T, F> {
    /// The next `times` requests that `target` applies to meet `fault` (after the entries
    /// written before this one are spent, for requests both apply to).
    pub fn push(&mut self, target: T, fault: F, times: usize) {
        if times > 0 {
            self.entries.push_back(Entry { target, fault, left: times });
        }
    }

    /// The fault a request meets, if any: the first entry whose target `applies` to it.
    pub fn take(&mut self, applies: impl Fn(&T) -> bool) -> Option<F> {
        let index = self.entries.iter().position(|entry| applies(&entry.target))?;
        let entry = &mut self.entries[index];
        let fault = entry.fault.clone();
        if entry.left != ALWAYS {
            entry.left -= 1;
            if entry.left == 0 {
                self.entries.remove(index);
            }
        }
        Some(fault)
    }

    /// Forgets every entry.
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn takes(script: &mut Script<&'static str, u32>, target: &str, count: usize) -> Vec<Option<u32>> {
        (0..count).map(|_| script.take(|t| *t == "*" || *t == target)).collect()
    }

    #[test]
    fn an_entry_applies_its_count_of_times_then_requests_pass() {
        let mut script = Script::default();
        script.push("*", 7, 2);
        assert_eq!(takes(&mut script, "a", 3), [Some(7), Some(7), None]);
    }

    #[test]
    fn entries_are_met_in_the_order_written() {
        let mut script = Script::default();
        script.push("*", 1, 1);
        script.push("*", 2, 1);
        assert_eq!(takes(&mut script, "a", 3), [Some(1), Some(2), None]);
    }

    #[test]
    fn a_targeted_entry_leaves_other_requests_alone() {
        let mut script = Script::default();
        script.push("b", 5, 1);
        assert_eq!(takes(&mut script, "a", 1), [None]);
        assert_eq!(takes(&mut script, "b", 2), [Some(5), None]);
    }

    #[test]
    fn an_entry_for_always_is_never_spent() {
        let mut script = Script::default();
        script.push("b", 9, ALWAYS);
        assert_eq!(takes(&mut script, "b", 4), [Some(9); 4]);
    }

    #[test]
    fn zero_times_writes_nothing() {
        let mut script = Script::default();
        script.push("*", 1, 0);
        assert_eq!(takes(&mut script, "a", 1), [None]);
    }
}

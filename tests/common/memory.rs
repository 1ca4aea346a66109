//! A channel to CloudTrail Data in memory, for tests and benchmarks where the network is not
//! the point: it answers every event at once with the verdict it was built with, and keeps what
//! it was sent. The forwarder drives it through the same `forward` the handler calls.

use std::sync::{Arc, Mutex};

use cloudtrail_lake_forwarder::config::Config;
use cloudtrail_lake_forwarder::event::AuditEvent;
use cloudtrail_lake_forwarder::send::retry::Failure;
use cloudtrail_lake_forwarder::send::{Channel, Reply};
use cloudtrail_lake_forwarder::Forwarder;

/// Answers each event it is sent with `verdict`, and remembers every event sent.
pub struct MemoryChannel {
    verdict: Result<(), Failure>,
    sent: Arc<Mutex<Vec<AuditEvent>>>,
}

impl MemoryChannel {
    /// A channel that takes every event.
    pub fn accepting() -> MemoryChannel {
        MemoryChannel { verdict: Ok(()), sent: Arc::default() }
    }

    /// A channel that refuses every event with a permanent `code` (nothing is tried again).
    pub fn refusing(code: &str) -> MemoryChannel {
        MemoryChannel { verdict: Err(Failure::new(code, false)), sent: Arc::default() }
    }

    /// What the channel was sent, shared with the forwarder that owns it.
    pub fn sent(&self) -> Arc<Mutex<Vec<AuditEvent>>> {
        Arc::clone(&self.sent)
    }
}

impl Channel for MemoryChannel {
    async fn put(&self, events: Arc<Vec<Option<AuditEvent>>>, sent: Vec<usize>) -> Reply {
        let mut kept = self.sent.lock().unwrap();
        for &index in &sent {
            kept.push(events[index].clone().expect("only events are sent"));
        }
        Reply::Answered(sent.iter().map(|_| self.verdict.clone()).collect())
    }
}

/// A forwarder over `channel` with `config`, and what it sends.
pub fn memory_forwarder(
    channel: MemoryChannel,
    config: &Config,
) -> (Forwarder<MemoryChannel>, Arc<Mutex<Vec<AuditEvent>>>) {
    let sent = channel.sent();
    (Forwarder::with_channel(channel, config), sent)
}

//! `--parts`: what the forwarder's work on one file costs part by part, in this process, with
//! no HTTP, no runtime loop and no sending, so that the CPU per 1,000 events of the function can
//! be set against the parts no forwarder can leave out.
//!
//! Each part is a pass over the whole file on one thread, timed by that thread's CPU
//! (`/proc/thread-self/stat`), each pass doing what the one before did and one thing more:
//!
//! 1. gunzip and split into lines (`flate2` on `miniz_oxide`, the forwarder's inflater);
//! 2. and read each line as JSON (`serde_json::Value`), which any mapping of a field needs;
//! 3. and write a request body from each line as the forwarder writes an event's `eventData`
//!    into one (`send::body::write_escaped`) and hash each body of 100 (SHA-256, which SigV4
//!    signs), and each line's SHA-256 checksum (`event::checksum`), which the service needs;
//! 4. the forwarder's own event instead of the line: `Preparer::item_event` with the `github`
//!    preset (schema check, mapping, the line kept whole, the id and checksum), then the same
//!    body and hash.
//!
//! Pass 3 is a floor: any forwarder of these files inflates them, reads each line, hashes each
//! event and signs each request, and pass 3 does that for events smaller than any a mapping
//! that keeps the line can write (the line alone).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::time::Duration;

use cloudtrail_lake_forwarder::config::{ChannelArn, Config};
use cloudtrail_lake_forwarder::event;
use cloudtrail_lake_forwarder::lambda::{Payload, Record};
use cloudtrail_lake_forwarder::prepare::mapping::presets;
use cloudtrail_lake_forwarder::prepare::Preparer;
use cloudtrail_lake_forwarder::send::body;
use flate2::read::MultiGzDecoder;

use crate::github::AuditFile;
use crate::Error;

/// One pass: its name and its CPU per 1,000 events.
pub struct Part {
    pub name: &'static str,
    pub per_1000: Duration,
}

pub fn parts(file: &AuditFile) -> Result<Vec<Part>, Error> {
    let channel = ChannelArn::parse("arn:aws:cloudtrail:us-east-1:123456789012:channel/bench")
        .ok_or("the bench channel ARN does not parse")?;
    let mut config = Config::for_channel(channel);
    config.mapping = Some(std::sync::Arc::new(presets::preset("github").ok_or("no github preset")??));
    let preparer = Preparer::of(&config);
    let record = Record {
        item_identifier: None,
        payload: Ok(Payload::Text(String::new())),
        message_group: None,
        arrival_ms: None,
        sent_ms: Some(1_764_000_000_000),
    };

    let per_1000 = |cpu: Duration| cpu.mul_f64(1000.0 / file.events as f64);
    let mut parts = Vec::new();
    let lines = pass(file, |_| Ok(()))?;
    parts.push(Part { name: "gunzip, lines", per_1000: per_1000(lines) });
    let parsed = pass(file, |line| {
        serde_json::from_str::<serde_json::Value>(line)?;
        Ok(())
    })?;
    parts.push(Part { name: "and each line read as JSON", per_1000: per_1000(parsed) });
    let mut bodies = Bodies::default();
    let floor = pass(file, |line| {
        serde_json::from_str::<serde_json::Value>(line)?;
        let checksum = event::checksum(line);
        bodies.add(line, &checksum);
        Ok(())
    })?;
    parts.push(Part {
        name: "and checksums, request bodies, their SHA-256 (the floor)",
        per_1000: per_1000(floor),
    });
    let mut bodies = Bodies::default();
    let mut ordinal = 0u64;
    let forwarder = pass(file, |line| {
        ordinal += 1;
        let id = event::sha256_id(format!("bucket\nkey\nversion\n{ordinal}").as_bytes());
        let event = preparer.item_event(&record, line, id).map_err(|rejection| format!("{rejection:?}"))?;
        bodies.add(&event.event_data, &event.checksum);
        Ok(())
    })?;
    parts.push(Part {
        name: "the forwarder's events (preset github), bodies, SHA-256",
        per_1000: per_1000(forwarder),
    });
    Ok(parts)
}

/// Request bodies of 100 events, written as the forwarder writes them, and hashed.
#[derive(Default)]
struct Bodies {
    body: Vec<u8>,
    events: usize,
}

impl Bodies {
    fn add(&mut self, event_data: &str, checksum: &str) {
        self.body.extend_from_slice(b"{\"eventData\":\"");
        body::write_escaped(&mut self.body, event_data);
        self.body.extend_from_slice(b"\",\"checksum\":\"");
        self.body.extend_from_slice(checksum.as_bytes());
        self.body.extend_from_slice(b"\"},");
        self.events += 1;
        if self.events == 100 {
            std::hint::black_box(event::sha256_id(&self.body));
            self.body.clear();
            self.events = 0;
        }
    }
}

/// One pass over the file's lines, on this thread; its CPU.
fn pass(file: &AuditFile, mut each: impl FnMut(&str) -> Result<(), Error>) -> Result<Duration, Error> {
    let before = thread_cpu()?;
    let mut reader = BufReader::with_capacity(64 * 1024, MultiGzDecoder::new(File::open(&file.path)?));
    let mut line = String::new();
    let mut lines = 0u64;
    while reader.read_line(&mut line)? > 0 {
        each(line.trim_end())?;
        lines += 1;
        line.clear();
    }
    if lines != file.events {
        return Err(format!("read {lines} lines of {}", file.events).into());
    }
    Ok(thread_cpu()? - before)
}

/// This thread's user and system CPU.
fn thread_cpu() -> Result<Duration, Error> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat")?;
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks: u64 = fields
        .get(11..13)
        .ok_or("short stat")?
        .iter()
        .map(|field| field.parse::<u64>())
        .sum::<Result<_, _>>()?;
    Ok(Duration::from_secs_f64(ticks as f64 / crate::function::clock_ticks_per_second() as f64))
}

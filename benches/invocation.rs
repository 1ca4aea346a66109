//! The work each invocation does besides the pipeline, on one core: the EMF document, and the
//! memory of ingested events, which a warm environment keeps full (50,000 keys) so that every
//! confirmed event forgets one and remembers another. `cargo bench --bench invocation`.

use std::collections::BTreeMap;
use std::time::Duration;

use cloudtrail_data_stand_in::fixtures::audit_event_of_len;
use cloudtrail_lake_forwarder::dedupe::{Key, RecentlyIngested, CAPACITY};
use cloudtrail_lake_forwarder::event::{self, AuditEvent};
use cloudtrail_lake_forwarder::lambda::Source;
use cloudtrail_lake_forwarder::send::body;
use cloudtrail_lake_forwarder::send::SendReport;
use cloudtrail_lake_forwarder::{report::metrics, Summary};
use divan::Bencher;

fn main() {
    divan::main();
}

const ARN: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/s";

fn key(i: usize) -> Key {
    let id = format!("4963567093412806740612094{i:031}");
    let checksum = event::checksum(&id);
    Key::of(ARN, &AuditEvent { id, event_data: String::new(), checksum, encoded_len: 0 })
}

/// One 10,000-event invocation's look-ups and inserts into a full memory, as the forwarder
/// makes them: the batch's keys looked up under one lock, the confirmed ones remembered under
/// one lock. Before each sample 16 MB stream through the cache, as an event's bytes do between
/// two look-ups of the same table in a real invocation.
#[divan::bench(sample_count = 20, sample_size = 1)]
fn remember_10000_in_a_full_memory(bencher: Bencher) {
    let recent = full_memory();
    let mut next = CAPACITY;
    bencher.with_inputs(|| cold_keys(&mut next)).bench_local_refs(|keys| {
        divan::black_box(recent.seen(keys));
        recent.insert_all(keys.iter().flatten().copied());
    });
}

fn full_memory() -> RecentlyIngested {
    let recent = RecentlyIngested::default();
    recent.insert_all((0..CAPACITY).map(key));
    recent
}

/// The next 10,000 new keys, after 16 MB have gone through the cache.
fn cold_keys(next: &mut usize) -> Vec<Option<Key>> {
    let streamed = vec![1u8; 16 << 20];
    divan::black_box(streamed.iter().map(|&byte| byte as u64).sum::<u64>());
    *next += 10_000;
    (*next - 10_000..*next).map(|i| Some(key(i))).collect()
}

/// The EMF document of a 10-record SQS invocation.
#[divan::bench]
fn emf_document_of_10_records(bencher: Bencher) {
    let summary = Summary {
        source: Source::Sqs,
        records: 10,
        ingested: 10,
        rejected: 0,
        reported: 0,
        redelivered: 0,
        failures: BTreeMap::new(),
        oldest_record_age_ms: None,
        send: SendReport {
            requests: 1,
            events_sent: 10,
            latencies_ms: vec![51.2],
            rate_limit: 100.0,
            events_ingested: 10,
            ..SendReport::default()
        },
        duration: Duration::from_micros(52_300),
    };
    bencher.bench(|| {
        metrics::emf_document("AuditForwarder", "forwarder", divan::black_box(&summary), 1_764_129_600_000)
            .to_string()
    });
}

/// A 10,000-record batch's worth of audit event text: 7 MB of ~700-byte events, their
/// `requestParameters` filled with `x` (as the CPU benchmark sends) or with quotes (a quarter
/// of the filler's bytes escaped).
fn event_texts(filler: &str) -> Vec<String> {
    (0..10_000).map(|i| audit_event_of_len(i, 700, filler)).collect()
}

const FILLERS: [&str; 2] = ["x", "a\"b "];

/// Measuring each event's escaped length, as every event is measured for the packer.
#[divan::bench(args = FILLERS, sample_count = 20)]
fn escaped_len_of_10000_events(bencher: Bencher, filler: &str) {
    let texts = event_texts(filler);
    bencher.bench_local(|| texts.iter().map(|text| body::escaped_len(divan::black_box(text))).sum::<usize>());
}

/// Writing the same events into request bodies, 100 to a body.
#[divan::bench(args = FILLERS, sample_count = 20)]
fn write_10000_events_into_bodies(bencher: Bencher, filler: &str) {
    let texts = event_texts(filler);
    let checksum = event::checksum("{}");
    let id = "49635670934128067406120940000000000000";
    bencher.bench_local(|| {
        texts
            .chunks(100)
            .map(|chunk| {
                let len = chunk.iter().map(|text| body::encoded_event_len(id, text)).sum();
                let events = chunk.iter().map(|text| (id, text.as_str(), checksum.as_str()));
                body::write_body(events, body::request_len(chunk.len(), len)).len()
            })
            .sum::<usize>()
    });
}

//! An invocation without the network, on one core: read the Lambda event's JSON, then the
//! handler's own [`Forwarder::forward`]: decode the batch, take events out of their envelopes,
//! map each to an audit event (schema check and SHA-256 checksum), pack the requests and write
//! their bodies, over a channel in memory that takes every event at once, on paused time so
//! that the rate limiter's pacing costs nothing. `cargo bench --bench pipeline` prints time and
//! throughput in bytes of event data (for CloudWatch Logs, of the log events' messages).

use base64::Engine as _;
use cloudtrail_data_stand_in::fixtures::{audit_event_of_len, cloudwatch_logs_data};
use cloudtrail_lake_forwarder::config::{ChannelArn, Config};
use cloudtrail_lake_forwarder::lambda::event::IncomingEvent;
use cloudtrail_lake_forwarder::Forwarder;
use divan::counter::BytesCount;
use divan::Bencher;
use serde_json::{json, Value};

#[path = "../tests/common/memory.rs"]
#[allow(dead_code)]
mod memory;

use memory::MemoryChannel;

fn main() {
    divan::main();
}

fn kinesis_event(records: usize, len: usize) -> (Value, u64) {
    let mut bytes = 0;
    let records: Vec<Value> = (0..records)
        .map(|i| {
            let data = audit_event_of_len(i, len, "a\"b ");
            bytes += data.len() as u64;
            json!({"eventSource": "aws:kinesis", "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/s",
                   "kinesis": {"sequenceNumber": format!("4963567093412806740612094{i:031}"),
                               "data": base64::engine::general_purpose::STANDARD.encode(data),
                               "approximateArrivalTimestamp": 1764149400.0}})
        })
        .collect();
    (json!({ "Records": records }), bytes)
}

/// `records` Kinesis records from a CloudWatch Logs subscription, each holding `per_record`
/// log events whose messages are schema events of `len` bytes.
fn cloudwatch_event(records: usize, per_record: usize, len: usize) -> (Value, u64) {
    let mut bytes = 0;
    let records: Vec<Value> = (0..records)
        .map(|i| {
            let events: Vec<(String, i64, String)> = (0..per_record)
                .map(|j| {
                    let message = audit_event_of_len(i * per_record + j, len, "a\"b ");
                    bytes += message.len() as u64;
                    (format!("{:056}", i * per_record + j), 1_764_149_400_000, message)
                })
                .collect();
            let data = cloudwatch_logs_data("/app/audit", &events);
            json!({"eventSource": "aws:kinesis", "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/s",
                   "kinesis": {"sequenceNumber": format!("4963567093412806740612094{i:031}"),
                               "data": base64::engine::general_purpose::STANDARD.encode(data),
                               "approximateArrivalTimestamp": 1764149400.0}})
        })
        .collect();
    (json!({ "Records": records }), bytes)
}

fn sqs_event(records: usize, len: usize) -> (Value, u64) {
    let mut bytes = 0;
    let records: Vec<Value> = (0..records)
        .map(|i| {
            let body = audit_event_of_len(i, len, "a\"b ");
            bytes += body.len() as u64;
            json!({"messageId": format!("9a7f3c1e-0000-4000-8000-{i:012}"), "body": body, "eventSource": "aws:sqs",
                   "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:audit", "attributes": {}})
        })
        .collect();
    (json!({ "Records": records }), bytes)
}

/// Reads the event as the runtime hands it over and forwards it; returns how many events the
/// channel was sent.
fn forward(runtime: &tokio::runtime::Runtime, forwarder: Forwarder<MemoryChannel>, event: &[u8]) -> usize {
    let incoming: IncomingEvent = serde_json::from_slice(event).expect("a JSON event");
    let (_, summary) = runtime.block_on(forwarder.forward(incoming, None)).expect("a valid batch");
    summary.expect("a batch with records").send.events_sent
}

fn run(bencher: Bencher, (event, bytes): (Value, u64)) {
    let text = event.to_string().into_bytes();
    let channel =
        ChannelArn::parse("arn:aws:cloudtrail:us-east-1:123456789012:channel/bench").expect("an ARN");
    let config = Config::for_channel(channel);
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
    // A new forwarder for each run (made outside the timing), so its memory of ingested events
    // never skips one.
    bencher
        .counter(BytesCount::new(bytes))
        .with_inputs(|| Forwarder::with_channel(MemoryChannel::accepting(), &config))
        .bench_local_values(|forwarder| forward(&runtime, forwarder, &text));
}

#[divan::bench(args = [1, 100, 10_000])]
fn sqs_1kb(bencher: Bencher, records: usize) {
    run(bencher, sqs_event(records, 1024));
}

#[divan::bench(args = [1, 100, 10_000])]
fn kinesis_1kb(bencher: Bencher, records: usize) {
    run(bencher, kinesis_event(records, 1024));
}

#[divan::bench(args = [1, 100])]
fn sqs_60kb(bencher: Bencher, records: usize) {
    run(bencher, sqs_event(records, 60 * 1024));
}

/// 10,000 records of 60 KB (600 MB) is far beyond Lambda's 6 MB payload; a few samples suffice.
#[divan::bench(args = [1, 100, 10_000], sample_count = 3, sample_size = 1)]
fn kinesis_60kb(bencher: Bencher, records: usize) {
    run(bencher, kinesis_event(records, 60 * 1024));
}

/// CloudWatch Logs: 100 log events of 1 KB per record, gzip inflated and each event checked.
#[divan::bench(args = [1, 100])]
fn cloudwatch_logs_1kb_x100(bencher: Bencher, records: usize) {
    run(bencher, cloudwatch_event(records, 100, 1024));
}

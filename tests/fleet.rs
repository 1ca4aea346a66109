//! A fleet of the function's real binary sharing one throttled account: four execution
//! environments drain one SQS queue into the CloudTrail Data stand-in, which enforces an
//! account-wide request quota. The same engine as the fleet benchmark
//! (`cargo run --release -p cloudtrail-data-stand-in --bin fleet`), at a size CI can afford.
//!
//! It asserts delivery only: nothing lost, nothing dead-lettered, every event stored, the
//! queue drained. Throughput and the share throttled are the benchmark's business. The quota,
//! 12 requests per second with a burst of 4, is below what four environments offer (three
//! requests per batch at once), so requests are throttled, through the real SDK, which must
//! read the stand-in's `ThrottlingException` as throttling: up to 80 % of them on a fast
//! machine, where some answers name messages that come back, fewer on a busy one. The function
//! as it is copes: on the fast machine no message needed more than 2 of its 5 receives, so a
//! dead letter here means a fault, not bad luck.
//!
//! The test can fail: the fleet checks, as each batch is settled, that every message the
//! queue deletes had its event stored; a deletion before storage is listed in
//! `report.lost` (see the report's unit test
//! `a_message_deleted_before_its_event_was_stored_is_a_delivery_problem`). Checked by hand too:
//! a queue that also deletes the messages an answer names loses a few hundred here.

use std::path::PathBuf;
use std::time::Duration;

use cloudtrail_data_stand_in::fleet::{self, FleetSettings};
use cloudtrail_data_stand_in::Quota;

const BINARY: &str = env!("CARGO_BIN_EXE_cloudtrail-lake-forwarder");
const MESSAGES: usize = 3_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_fleet_stores_every_message_and_loses_none() {
    let settings = FleetSettings {
        environments: 4,
        messages: MESSAGES,
        batch_size: 250,
        account_quota: Some(Quota { requests_per_second: 12.0, burst: 4.0 }),
        latency: Duration::from_millis(20),
        visibility_timeout: Duration::from_millis(200),
        function_timeout: Duration::from_secs(10),
        // A bound, not a target: a healthy run takes a few seconds.
        time_limit: Duration::from_secs(50),
        logs: PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fleet"),
        ..FleetSettings::new(BINARY)
    };
    let report = fleet::run(&settings).await.expect("the fleet starts");
    println!("{report}");
    // Each failure names the counts, the first ids (never contents) and where the logs are.
    let why =
        format!("{:?}; the function's logs are in {}", report.delivery_problems(), report.logs.display());

    assert!(report.lost.is_empty(), "messages were deleted before their event was stored: {why}");
    assert_eq!(report.queue.dead_lettered, 0, "messages were dead-lettered: {why}");
    assert_eq!(report.never_stored, 0, "some messages' events were never stored: {why}");
    assert_eq!(report.queue.left(), 0, "the queue was not drained in time: {why}");
    assert_eq!(report.unique_stored, MESSAGES);
}

//! The forwarder at 128 MB's CPU share (7,236 µs of every 100,000 µs, `machine::CpuShare`):
//! how many events a second of CPU forwards, how many it forwards per second of wall time when
//! that is all the CPU it has, and what that makes of a 1 GB file: how many 900-second
//! invocations it takes at the account's full quota (100 requests of 100 events a second).
//!
//! The 1 GB figure is computed from the `--mb` file's measured rate; with `--also-1gb` the
//! gigabyte is also read whole at the share, with Lambda's longest deadline (900 s), which takes
//! about ten minutes of wall time (and little of the machine: 7 % of a core). The computation
//! leaves out what grows with the file: a continued invocation inflates the part of the object
//! already done again to skip it (gzip cannot be resumed at an offset).

use std::path::Path;

use std::time::Duration;

use cloudtrail_data_stand_in::machine::{CpuShare, PERIOD_US, QUOTA_US};

use crate::function::Reading;
use crate::github::AuditFile;
use crate::table::size_label;
use crate::{forwarder, Error, Options, StandIns};

/// The longest a Lambda function may run.
const LAMBDA_TIMEOUT_S: f64 = 900.0;
/// The account's quota, in events per second, with full requests.
const QUOTA_EVENTS_PER_S: f64 = 100.0 * 100.0;

pub async fn report(
    options: &Options,
    binary: &Path,
    files: &[AuditFile],
    share: &CpuShare,
) -> Result<(), Error> {
    println!("\nAt 128 MB's CPU share ({share}):\n");
    let file = &files[0];
    let reading = read_at_share(options, binary, file, share).await?;
    let events = file.events as f64;
    let per_cpu_second = events / reading.cpu.as_secs_f64();
    let fraction = QUOTA_US as f64 / PERIOD_US as f64;
    let busy: f64 = reading.walls.iter().map(Duration::as_secs_f64).sum();
    let per_wall_second = events / busy;
    println!(
        "  CPU {:.1} s: {per_cpu_second:.0} events per second of CPU, so at most {:.0} a second at {:.1} % of a core; \
         measured {per_wall_second:.0} a second of invocation time",
        reading.cpu.as_secs_f64(),
        per_cpu_second * fraction,
        fraction * 100.0
    );

    let gigabyte = files.iter().find(|file| file.uncompressed_bytes >= 1_000_000_000);
    let gigabyte_events = match gigabyte {
        Some(file) => file.events as f64,
        None => events * 1e9 / file.uncompressed_bytes as f64,
    };
    let rate = per_wall_second.min(QUOTA_EVENTS_PER_S);
    let per_invocation = rate * LAMBDA_TIMEOUT_S;
    let invocations = (gigabyte_events / per_invocation).ceil();
    println!(
        "  1 GB of these lines ({gigabyte_events:.0} events), computed from that rate: {rate:.0} events/s (the quota \
         allows {QUOTA_EVENTS_PER_S:.0}), {per_invocation:.0} events per {LAMBDA_TIMEOUT_S:.0} s invocation: \
         {invocations} invocation{} ({:.1} min), before re-reading what continued invocations skip",
        if invocations == 1.0 { "" } else { "s" },
        gigabyte_events / rate / 60.0
    );

    if let Some(file) = gigabyte {
        println!();
        let whole = Options { deadline: Duration::from_secs_f64(LAMBDA_TIMEOUT_S), ..options.clone() };
        read_at_share(&whole, binary, file, share).await?;
    }
    Ok(())
}

/// Reads `file` with the forwarder in the group and prints what it took.
async fn read_at_share(
    options: &Options,
    binary: &Path,
    file: &AuditFile,
    share: &CpuShare,
) -> Result<Reading, Error> {
    let stand_ins = StandIns::start(file, options.latency).await?;
    let reading = forwarder(options, binary, &stand_ins, Some(share)).await?;
    let stored = stand_ins.take_stored(file);
    let walls: Vec<String> =
        reading.walls.iter().map(|wall| format!("{:.1} s", wall.as_secs_f64())).collect();
    println!(
        "{}, deadline {} s: cold start {:.1} ms; {} invocation{} ({}), CPU {:.1} s, peak RSS {:.1} MiB; \
         {} of {} events stored, {} missing, {} duplicates by id{}",
        size_label(file),
        options.deadline.as_secs(),
        reading.cold_start.as_secs_f64() * 1000.0,
        reading.invocations,
        if reading.invocations == 1 { "" } else { "s" },
        walls.join(", "),
        reading.cpu.as_secs_f64(),
        reading.peak_rss_kib as f64 / 1024.0,
        stored.events,
        file.events,
        stored.missing,
        stored.duplicate_ids,
        reading.stopped.as_ref().map_or_else(String::new, |why| format!("; stopped: {why}"))
    );
    Ok(reading)
}

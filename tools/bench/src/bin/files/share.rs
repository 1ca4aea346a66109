//! The forwarder at 128 MB's CPU share (7,236 µs of every 100,000 µs, `machine::CpuShare`):
//! how many events a second of CPU forwards, how many it forwards per second of wall time when
//! that is all the CPU it has, and what that makes of a 1 GB file: how many 900-second
//! invocations it takes at the account's full quota (100 requests of 100 events a second).
//!
//! The 1 GB figure is computed from the `--mb` file's measured rate, not run: at the share a
//! gigabyte takes tens of minutes. The computation leaves out what grows with the file: a
//! continued invocation inflates the part of the object already done again to skip it (gzip
//! cannot be resumed at an offset), which the measured run only pays for its own, smaller
//! prefixes.

use std::path::Path;

use cloudtrail_data_stand_in::machine::{CpuShare, PERIOD_US, QUOTA_US};

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
    let file = &files[0];
    println!("\nAt 128 MB's CPU share ({share}), {}:\n", size_label(file));
    let stand_ins = StandIns::start(file, options.latency).await?;
    let reading = forwarder(options, binary, &stand_ins, Some(share)).await?;
    let stored = stand_ins.take_stored(file);
    let walls: Vec<String> =
        reading.walls.iter().map(|wall| format!("{:.1} s", wall.as_secs_f64())).collect();
    println!(
        "cold start {:.1} ms; {} invocations ({}); {} of {} events stored, {} missing, {} duplicates by id{}",
        reading.cold_start.as_secs_f64() * 1000.0,
        reading.invocations,
        walls.join(", "),
        stored.events,
        file.events,
        stored.missing,
        stored.duplicate_ids,
        reading.stopped.map_or_else(String::new, |why| format!("; stopped: {why}"))
    );

    let events = file.events as f64;
    let per_cpu_second = events / reading.cpu.as_secs_f64();
    let fraction = QUOTA_US as f64 / PERIOD_US as f64;
    let busy: f64 = reading.walls.iter().map(|wall| wall.as_secs_f64()).sum();
    let per_wall_second = events / busy;
    println!(
        "CPU {:.1} s: {per_cpu_second:.0} events per second of CPU, so at most {:.0} a second at {:.1} % of a core; \
         measured {per_wall_second:.0} a second of invocation time",
        reading.cpu.as_secs_f64(),
        per_cpu_second * fraction,
        fraction * 100.0
    );

    let gigabyte = match files.iter().find(|file| file.uncompressed_bytes >= 1_000_000_000) {
        Some(file) => file.events as f64,
        None => events * 1e9 / file.uncompressed_bytes as f64,
    };
    let rate = per_wall_second.min(QUOTA_EVENTS_PER_S);
    let per_invocation = rate * LAMBDA_TIMEOUT_S;
    println!(
        "1 GB of these lines ({gigabyte:.0} events), computed, not run: at {rate:.0} events/s (the quota allows {QUOTA_EVENTS_PER_S:.0}), \
         {per_invocation:.0} events per {LAMBDA_TIMEOUT_S:.0} s invocation, so {} invocations of up to {LAMBDA_TIMEOUT_S:.0} s \
         ({:.0} min of Lambda time), before the re-reading of what continued invocations skip",
        (gigabyte / per_invocation).ceil(),
        gigabyte / rate / 60.0
    );
    Ok(())
}

//! The table the files benchmark prints: one row per side and file, and the lines about each
//! run that the table has no column for.

use std::time::Duration;

use crate::check::Stored;
use crate::floor::Part;
use crate::function::Reading;
use crate::github::AuditFile;
use crate::peer::PeerRun;
use crate::Error;

/// One side's row of the table.
pub struct Row {
    label: String,
    events: u64,
    invocations: String,
    wall: Duration,
    cpu: Duration,
    peak_rss_kib: u64,
    stored: Result<Stored, String>,
}

pub fn forwarder_row(
    file: &AuditFile,
    reading: Result<Reading, Error>,
    stored: Stored,
    verbose: bool,
) -> Row {
    let label = format!("forwarder, {}", size_label(file));
    match reading {
        Ok(reading) => {
            describe_invocations(&reading, verbose);
            Row {
                label,
                events: file.events,
                invocations: match reading.stopped {
                    Some(_) => format!("{}, stopped", reading.invocations),
                    None => reading.invocations.to_string(),
                },
                wall: reading.wall,
                cpu: reading.cpu,
                peak_rss_kib: reading.peak_rss_kib,
                stored: Ok(stored),
            }
        }
        Err(why) => Row {
            label,
            events: file.events,
            invocations: "–".into(),
            wall: Duration::ZERO,
            cpu: Duration::ZERO,
            peak_rss_kib: 0,
            stored: Err(format!("failed: {why}")),
        },
    }
}

fn describe_invocations(reading: &Reading, verbose: bool) {
    let walls: Vec<String> =
        reading.walls.iter().map(|wall| format!("{:.1} s", wall.as_secs_f64())).collect();
    println!(
        "  forwarder: cold start {:.1} ms; {} invocations: {}",
        reading.cold_start.as_secs_f64() * 1000.0,
        reading.invocations,
        walls.join(", ")
    );
    let count = |field: &str| -> u64 {
        reading.summaries.iter().filter_map(|summary| summary["fields"][field].as_u64()).sum()
    };
    let (sent, ingested) = (count("events_sent"), count("events_ingested"));
    if sent > ingested {
        println!(
            "  forwarder: {} events sent but not confirmed when their invocation answered (the next sends them again)",
            sent - ingested
        );
    }
    if let Some(why) = &reading.stopped {
        println!("  forwarder stopped before the object was done: {why}");
    }
    if verbose {
        for summary in &reading.summaries {
            println!("    {}", summary["fields"]);
        }
    }
}

pub fn peer_row(file: &AuditFile, run: Result<PeerRun, Error>, stored: Stored) -> Row {
    let label = format!("Python peer (AWS sample), {}", size_label(file));
    match run {
        Ok(run) => {
            println!(
                "  peer: start {:.0} ms CPU (interpreter, boto3, clients); {} requests, {} events answered failed; process {:.1} s",
                run.start_cpu_s * 1000.0,
                run.requests,
                run.failed,
                run.process_wall.as_secs_f64()
            );
            // What the peer's one process would need as a Lambda function, whose memory sizes
            // are MiB (Lambda writes MB) in steps of 1; rounded up to 64 here.
            let seconds = run.process_wall.as_secs_f64();
            println!(
                "  peer as one Lambda invocation: {seconds:.0} s ({}), memory size at least {} MB",
                if seconds > 900.0 { "over the 900 s limit: it would time out" } else { "within 900 s" },
                run.max_rss_kib.div_ceil(1024 * 64) * 64
            );
            Row {
                label,
                events: run.events,
                invocations: "1 (no deadline)".into(),
                wall: Duration::from_secs_f64(run.work_wall_s),
                cpu: Duration::from_secs_f64(run.work_cpu_s),
                peak_rss_kib: run.max_rss_kib,
                stored: Ok(stored),
            }
        }
        Err(why) => Row {
            label,
            events: 0,
            invocations: "–".into(),
            wall: Duration::ZERO,
            cpu: Duration::ZERO,
            peak_rss_kib: 0,
            stored: Err(format!("failed: {why}")),
        },
    }
}

pub fn size_label(file: &AuditFile) -> String {
    match file.uncompressed_bytes >= 1_000_000_000 {
        true => format!("{:.1} GB", file.uncompressed_bytes as f64 / 1e9),
        false => format!("{:.0} MB", file.uncompressed_bytes as f64 / 1e6),
    }
}

pub fn print_table(rows: &[Row]) {
    println!(
        "| run | events | invocations | wall | CPU | CPU per 1,000 events | peak RSS | stored | missing | duplicates (id / line) |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for row in rows {
        let per_thousand = match row.events {
            0 => "–".to_owned(),
            events => format!("{:.1} ms", row.cpu.as_secs_f64() * 1e6 / events as f64),
        };
        let stored = match &row.stored {
            Ok(stored) => format!(
                "{}{} | {} | {} / {}",
                stored.events,
                match stored.without_uid {
                    0 => String::new(),
                    without => format!(" ({without} without a UID)"),
                },
                stored.missing,
                stored.duplicate_ids,
                stored.duplicate_lines
            ),
            Err(why) => format!("{why} | | "),
        };
        println!(
            "| {} | {} | {} | {:.1} s | {:.2} s | {per_thousand} | {:.1} MiB | {stored} |",
            row.label,
            row.events,
            row.invocations,
            row.wall.as_secs_f64(),
            row.cpu.as_secs_f64(),
            row.peak_rss_kib as f64 / 1024.0
        );
    }
}

/// The parts of the forwarder's work on `file` (`--parts`), beside the function's and the
/// peer's CPU per 1,000 events on the same file, and a tenth of the peer's.
pub fn print_parts(file: &AuditFile, parts: &[Part], rows: &[Row]) {
    let per_thousand = |row: &Row| row.cpu.as_secs_f64() * 1e6 / row.events.max(1) as f64;
    let size = size_label(file);
    println!("\nparts, {size} file, one thread in this process:\n");
    println!("| part | CPU per 1,000 events |");
    println!("| --- | ---: |");
    for part in parts {
        println!("| {} | {:.1} ms |", part.name, part.per_1000.as_secs_f64() * 1e3);
    }
    for row in rows.iter().filter(|row| row.label.ends_with(&size) && row.stored.is_ok()) {
        println!("| {} (measured above) | {:.1} ms |", row.label, per_thousand(row));
        if row.label.starts_with("Python") {
            println!("| a tenth of the peer's | {:.1} ms |", per_thousand(row) / 10.0);
        }
    }
}

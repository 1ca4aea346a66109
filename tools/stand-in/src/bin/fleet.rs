//! `fleet`: the fleet benchmark. Several execution environments of the real function binary
//! drain one SQS queue into one CloudTrail Data stand-in that enforces an account-wide quota,
//! as `PutAuditEvents`' 100 requests per second are shared in an account. Prints a Markdown
//! table: events stored, duplicates, lost, dead-lettered, throughput against the quota's
//! ceiling, and the share of requests throttled.
//!
//! ```sh
//! cargo build --release --bin cloudtrail-lake-forwarder
//! cargo run --release -p cloudtrail-data-stand-in --bin fleet -- [flags]
//! ```
//!
//! | flag | default | meaning |
//! | --- | --- | --- |
//! | `--binary PATH` | `target/release/cloudtrail-lake-forwarder` | the function binary |
//! | `--environments N` | 8 | execution environments (processes) |
//! | `--events N` | 60000 | messages in the queue, one audit event each (30 s of the quota: a sustained run, not only the fleet's cold start) |
//! | `--event-bytes N` | 1024 | size of each audit event |
//! | `--batch-size N` | 500 | the event source mapping's `BatchSize` |
//! | `--account-rps R` | 20 | the account quota, requests per second |
//! | `--account-burst B` | 20 | the quota's burst |
//! | `--latency-ms N` | 50 | the stand-in's time to answer each request |
//! | `--visibility-timeout-ms N` | 1000 | how long a failed message stays invisible |
//! | `--max-receive-count N` | 5 | receives before a message is dead-lettered |
//! | `--timeout-s N` | 60 | the function timeout (each invocation's deadline) |
//! | `--time-limit-s N` | 300 | when the run stops, drained or not |
//! | `--env KEY=VALUE` | | a variable for every function process (repeatable) |
//! | `--logs DIR` | a new directory in the temp dir | where each process's stdout and stderr go |
//! | `--other-producer-share S` | 0 | another producer in the account takes this share of the quota (0.6: 60 %), one request at a time, all run long |
//!
//! Defaults are the targets of the issue. The function's logs hold ids and counts, never
//! event contents; neither does the table.

use std::process::ExitCode;
use std::time::Duration;

use cloudtrail_data_stand_in::fleet::{self, FleetSettings};
use cloudtrail_data_stand_in::Quota;

type Error = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("fleet: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Error> {
    let settings = settings(std::env::args().skip(1))?;
    eprintln!(
        "fleet: {} environments, {} events, logs in {}",
        settings.environments,
        settings.messages,
        settings.logs.display()
    );
    let report = fleet::run(&settings).await?;
    println!("{report}");
    for problem in report.delivery_problems() {
        eprintln!("delivery problem: {problem}");
    }
    Ok(())
}

fn settings(mut args: impl Iterator<Item = String>) -> Result<FleetSettings, Error> {
    let mut settings = FleetSettings::new("target/release/cloudtrail-lake-forwarder");
    let mut quota = Quota { requests_per_second: 20.0, burst: 20.0 };
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--binary" => settings.binary = value()?.into(),
            "--environments" => settings.environments = value()?.parse()?,
            "--events" => settings.messages = value()?.parse()?,
            "--event-bytes" => settings.event_bytes = value()?.parse()?,
            "--batch-size" => settings.batch_size = value()?.parse()?,
            "--account-rps" => quota.requests_per_second = value()?.parse()?,
            "--account-burst" => quota.burst = value()?.parse()?,
            "--latency-ms" => settings.latency = Duration::from_millis(value()?.parse()?),
            "--visibility-timeout-ms" => {
                settings.visibility_timeout = Duration::from_millis(value()?.parse()?)
            }
            "--max-receive-count" => settings.max_receive_count = value()?.parse()?,
            "--timeout-s" => settings.function_timeout = Duration::from_secs(value()?.parse()?),
            "--time-limit-s" => settings.time_limit = Duration::from_secs(value()?.parse()?),
            "--env" => {
                let pair = value()?;
                let (key, value) =
                    pair.split_once('=').ok_or_else(|| format!("--env takes KEY=VALUE, not {pair:?}"))?;
                settings.function_environment.push((key.to_owned(), value.to_owned()));
            }
            "--logs" => settings.logs = value()?.into(),
            "--other-producer-share" => settings.other_producer_share = value()?.parse()?,
            other => {
                return Err(
                    format!("unknown argument {other:?}; see the flags in the source's first lines").into()
                )
            }
        }
    }
    settings.account_quota = Some(quota);
    Ok(settings)
}

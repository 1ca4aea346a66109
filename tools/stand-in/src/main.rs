//! `cloudtrail-data-stand-in`: runs the CloudTrail Data stand-in as a process, for the
//! `cargo lambda watch` loop. Prints one line per stored event (id and size, not content).
//!
//! Usage: `cloudtrail-data-stand-in [--port 9001] [--channel-arn ARN] [--external-id ID]
//! [--latency-ms N] [--account-rps R [--account-burst B]]`
//!
//! `--account-rps` throttles the requests of all callers together beyond R per second, with a
//! burst of B (default: R), answering `ThrottlingException` as the service does beyond its
//! account quota of 100 per second.

use std::net::SocketAddr;
use std::time::Duration;

use cloudtrail_data_stand_in::cloudtrail::{ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use cloudtrail_data_stand_in::{Quota, Settings, StandIn};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut settings = Settings::default();
    let mut port = 9001u16;
    let mut latency = Duration::ZERO;
    let mut account_rps = None;
    let mut account_burst = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--port" => port = value()?.parse()?,
            "--channel-arn" => settings.channel_arn = value()?,
            "--external-id" => settings.external_id = Some(value()?),
            "--latency-ms" => latency = Duration::from_millis(value()?.parse()?),
            "--account-rps" => account_rps = Some(value()?.parse::<f64>()?),
            "--account-burst" => account_burst = Some(value()?.parse::<f64>()?),
            other => {
                return Err(
                    format!("unknown argument {other:?}; see the usage in the source's first lines").into()
                )
            }
        }
    }
    settings.account_quota = account_quota(account_rps, account_burst)?;
    let stand_in = StandIn::start_on(SocketAddr::from(([127, 0, 0, 1], port)), settings).await?;
    stand_in.set_latency(latency);
    println!(
        "CloudTrail Data stand-in on {} for channel {} (sign with AWS_ACCESS_KEY_ID={ACCESS_KEY_ID} AWS_SECRET_ACCESS_KEY={SECRET_ACCESS_KEY})",
        stand_in.endpoint(),
        stand_in.settings().channel_arn
    );
    if let Some(quota) = stand_in.settings().account_quota {
        println!("account quota: {} requests per second, burst {}", quota.requests_per_second, quota.burst);
    }
    let mut reported = 0;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
        let stored = stand_in.stored_since(reported);
        for event in &stored {
            println!("stored id={} eventID={} bytes={}", event.id, event.event_id, event.event_data.len());
        }
        reported += stored.len();
    }
}

/// The quota from the flags: none without `--account-rps`; the burst defaults to one second's
/// worth of requests.
fn account_quota(rps: Option<f64>, burst: Option<f64>) -> Result<Option<Quota>, String> {
    let Some(requests_per_second) = rps else {
        return match burst {
            Some(_) => Err("--account-burst needs --account-rps".into()),
            None => Ok(None),
        };
    };
    let quota = Quota { requests_per_second, burst: burst.unwrap_or(requests_per_second) };
    if !quota.is_valid() {
        return Err(format!("the account quota must be positive and finite: {quota:?}"));
    }
    Ok(Some(quota))
}

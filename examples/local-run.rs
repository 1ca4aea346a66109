//! Runs the forwarder on a sample event with no AWS account: starts the CloudTrail Data
//! stand-in on 127.0.0.1, hands the event to the real handler with the real SDK client
//! (dummy credentials, endpoint pointed at the stand-in), then prints Lambda's answer and
//! what the stand-in ingested.
//!
//! `cargo run --example local-run -- events/sqs-standard.json`
//!
//! A sample with a mapping beside it (`events/NAME.mapping.json`) runs with that mapping, as
//! `EVENT_MAPPING_FILE` would give it; one with a preset's name beside it (`events/NAME.preset`)
//! with that preset, as `EVENT_MAPPING=preset:NAME` would.

use aws_sdk_cloudtraildata::config::{BehaviorVersion, Credentials, Region};
use cloudtrail_data_stand_in::cloudtrail::{ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use cloudtrail_data_stand_in::{Settings, StandIn};
use cloudtrail_lake_forwarder::config::{ChannelArn, Config};
use cloudtrail_lake_forwarder::lambda::event::IncomingEvent;
use cloudtrail_lake_forwarder::prepare::mapping::{presets, Mapping};
use cloudtrail_lake_forwarder::{send, Forwarder};
use lambda_runtime::{Context, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    lambda_runtime::tracing::init_default_subscriber();
    let path = std::env::args().nth(1).unwrap_or_else(|| "events/sqs-standard.json".into());
    let event: IncomingEvent =
        serde_json::from_slice(&std::fs::read(&path).map_err(|e| format!("{path}: {e}"))?)?;

    let stand_in = StandIn::start(Settings::default()).await?;
    println!(
        "CloudTrail Data stand-in on {} for channel {}",
        stand_in.endpoint(),
        stand_in.settings().channel_arn
    );
    let sdk_config = aws_sdk_cloudtraildata::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(ACCESS_KEY_ID, SECRET_ACCESS_KEY, None, None, "local-run"))
        .endpoint_url(stand_in.endpoint())
        .http_client(send::https_client())
        .timeout_config(send::sdk_timeouts())
        .retry_config(send::sdk_retries())
        .build();
    let channel =
        ChannelArn::parse(&stand_in.settings().channel_arn).ok_or("the stand-in's channel is an ARN")?;
    let mut config = Config::for_channel(channel);
    let mapping_path = path.replace(".json", ".mapping.json");
    if let Ok(mapping) = std::fs::read_to_string(&mapping_path) {
        println!("Mapping payloads with {mapping_path}");
        config.mapping = Some(std::sync::Arc::new(Mapping::parse(&mapping)?));
    }
    let preset_path = path.replace(".json", ".preset");
    if let Ok(name) = std::fs::read_to_string(&preset_path) {
        let name = name.trim();
        println!("Mapping payloads with preset:{name} ({preset_path})");
        let preset = presets::preset(name).ok_or_else(|| format!("{preset_path}: no preset {name:?}"))?;
        config.mapping = Some(std::sync::Arc::new(preset?));
    }
    let forwarder = Forwarder::new(aws_sdk_cloudtraildata::Client::from_conf(sdk_config), &config);

    println!("Invoking the handler with {path}");
    let answer = forwarder.handle(LambdaEvent::new(event, Context::default())).await?;
    println!("\nLambda answer:\n{}", serde_json::to_string_pretty(&answer)?);

    let stored = stand_in.stored();
    println!(
        "\nIngested by the stand-in ({} events in {} requests):",
        stored.len(),
        stand_in.requests().len()
    );
    for event in stored {
        let preview: String = event.event_data.chars().take(100).collect();
        let more = if event.event_data.len() > preview.len() { "…" } else { "" };
        println!("  id={} eventID={}\n    eventData={preview}{more}", event.id, event.event_id);
    }
    Ok(())
}

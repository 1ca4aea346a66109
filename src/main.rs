//! Cold start: read the configuration, build one SDK client, and run the Lambda runtime loop.
//!
//! Nothing here calls the network: credentials and endpoint come from the environment (in
//! Lambda, the role's credentials; locally, whatever the shell sets, such as
//! `AWS_ENDPOINT_URL_CLOUDTRAIL_DATA`), and credentials are fetched on first use. The Region is
//! the channel's, taken from `CHANNEL_ARN`: a channel lives in one Region and its requests must
//! go there, wherever the function runs.

use aws_config::{BehaviorVersion, Region};
use cloudtrail_lake_forwarder::config::Config;
use cloudtrail_lake_forwarder::lambda::event::IncomingEvent;
use cloudtrail_lake_forwarder::lambda::read::ReadEventLayer;
use cloudtrail_lake_forwarder::{logging, send, Forwarder};
use lambda_runtime::layers::TracingLayer;
use lambda_runtime::{service_fn, LambdaEvent, Runtime};

// One thread: an invocation is one task that waits on the network most of the time, and its CPU
// work (mapping, hashing, serialising) is cheaper on one core than handed between worker
// threads, which cost a wake-up and a context switch each time. Lambda gives 128 MB 7% of a
// core; the cfs quota is handed out per CPU in slices, so a second busy thread gets throttled
// sooner. Large batches still map their records on every core (`audit_events`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let variable = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let level = variable("AWS_LAMBDA_LOG_LEVEL").or_else(|| variable("RUST_LOG"));
    logging::init(level.as_deref(), variable("AWS_LAMBDA_LOG_FORMAT").as_deref());
    let config = Config::from_lookup(|name| std::env::var(name).ok()).inspect_err(|error| {
        tracing::error!(%error, "configuration error; the function cannot start");
    })?;
    if let Some(region) = variable("AWS_REGION").filter(|region| region != config.channel.region()) {
        tracing::info!(
            function_region = %region,
            channel_region = config.channel.region(),
            "the channel is in another Region than the function; requests go to the channel's Region"
        );
    }

    let sdk_config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(config.channel.region().to_owned()))
        .http_client(send::https_client())
        .timeout_config(send::sdk_timeouts())
        .retry_config(send::sdk_retries())
        .load()
        .await;
    let client = send::sdk_client(aws_sdk_cloudtraildata::config::Builder::from(&sdk_config));
    let forwarder = Forwarder::new(client, &config);
    tracing::debug!(channel = %config.channel, concurrency = config.max_concurrent_requests, "ready");

    // `lambda_runtime::run` with one more layer: the event is read by the forwarder itself,
    // not through the runtime's path-tracking reader (`reading`).
    let forwarder = &forwarder;
    let handler =
        service_fn(move |event: LambdaEvent<IncomingEvent>| async move { forwarder.handle(event).await });
    Runtime::new(handler).layer(ReadEventLayer).layer(TracingLayer::new()).run().await
}

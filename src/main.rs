//! Cold start: read the configuration, build one SDK client, and run the Lambda runtime loop.
//!
//! Nothing here calls the network: region, credentials and endpoint come from the environment
//! (in Lambda, `AWS_REGION` and the role's credentials; locally, whatever the shell sets, such
//! as `AWS_ENDPOINT_URL_CLOUDTRAIL_DATA`), and credentials are fetched on first use.

use aws_config::BehaviorVersion;
use cloudtrail_lake_forwarder::config::Config;
use cloudtrail_lake_forwarder::incoming::IncomingEvent;
use cloudtrail_lake_forwarder::send;
use cloudtrail_lake_forwarder::Forwarder;
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_lookup(|name| std::env::var(name).ok()).inspect_err(|error| {
        tracing::error!(%error, "configuration error; the function cannot start");
    })?;

    let sdk_config = aws_config::defaults(BehaviorVersion::latest())
        .http_client(send::https_client())
        .timeout_config(send::sdk_timeouts())
        .retry_config(send::sdk_retries())
        .load()
        .await;
    let forwarder = Forwarder::new(aws_sdk_cloudtraildata::Client::new(&sdk_config), &config);
    tracing::debug!(channel = %config.channel_arn, concurrency = config.max_concurrent_requests, "ready");

    let forwarder = &forwarder;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<IncomingEvent>| async move {
        forwarder.handle(event).await
    }))
    .await
}

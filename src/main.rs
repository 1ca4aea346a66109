//! Cold start: read the configuration, build one SDK client, and run the Lambda runtime loop.
//!
//! Nothing here calls AWS: credentials and endpoint come from the environment (in
//! Lambda, the role's credentials; locally, whatever the shell sets, such as
//! `AWS_ENDPOINT_URL_CLOUDTRAIL_DATA`), and credentials are fetched on first use. The Region is
//! the channel's, taken from `CHANNEL_ARN`: a channel lives in one Region and its requests must
//! go there, wherever the function runs. The one call made here is to the Lambda Runtime API,
//! when a configuration error stops the function (`report_init_error`).

use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use cloudtrail_lake_forwarder::config::{Config, ConfigError};
use cloudtrail_lake_forwarder::files::{self, Files};
use cloudtrail_lake_forwarder::lambda::event::IncomingEvent;
use cloudtrail_lake_forwarder::lambda::read::ReadEventLayer;
use cloudtrail_lake_forwarder::lambda::s3::AllowedObjects;
use cloudtrail_lake_forwarder::{logging, send, Forwarder};
use lambda_runtime::layers::TracingLayer;
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent, Runtime};
use lambda_runtime_api_client::{body::Body, build_request, PooledClient};

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
    let config = match Config::from_lookup(|name| std::env::var(name).ok()) {
        Ok(config) => config,
        Err(error) => {
            tracing::error!(%error, "configuration error; the function cannot start");
            if let Some(runtime_api) = variable("AWS_LAMBDA_RUNTIME_API") {
                report_init_error(&runtime_api, &error).await;
            }
            return Err(error.into());
        }
    };
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
    let mut forwarder = Forwarder::new(client, &config);
    if let Some(allowed) = config.objects.clone() {
        forwarder = forwarder.with_files(files_clients(&sdk_config, allowed));
    }
    tracing::debug!(channel = %config.channel, concurrency = config.max_concurrent_requests, "ready");

    // `lambda_runtime::run` with one more layer: the event is read by the forwarder itself,
    // not through the runtime's path-tracking reader (`lambda::read`).
    let forwarder = &forwarder;
    let handler =
        service_fn(move |event: LambdaEvent<IncomingEvent>| async move { forwarder.handle(event).await });
    Runtime::new(handler).layer(ReadEventLayer).layer(TracingLayer::new()).run().await
}

/// The clients of the files stage. S3 and SQS are the function's own Region's: a bucket
/// notifies a queue in its Region, and an event source mapping reads a queue in the function's.
/// With an endpoint set for S3 (a local stand-in), requests are path-style: a bucket cannot be
/// a subdomain of 127.0.0.1.
fn files_clients(sdk_config: &aws_config::SdkConfig, allowed: AllowedObjects) -> Files {
    let region = std::env::var("AWS_REGION").ok().filter(|region| !region.is_empty()).map(Region::new);
    let local =
        ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"].iter().any(|name| std::env::var_os(name).is_some());
    let s3 = aws_sdk_s3::config::Builder::from(sdk_config)
        .region(region.clone().or_else(|| sdk_config.region().cloned()))
        .force_path_style(local)
        .retry_config(files::fetch::s3_retries())
        .timeout_config(files::fetch::s3_timeouts())
        .build();
    let sqs = aws_sdk_sqs::config::Builder::from(sdk_config)
        .region(region.or_else(|| sdk_config.region().cloned()))
        .retry_config(aws_smithy_types::retry::RetryConfig::standard())
        .build();
    Files { s3: aws_sdk_s3::Client::from_conf(s3), sqs: aws_sdk_sqs::Client::from_conf(sqs), allowed }
}

/// How long the Runtime API has to accept the init error: it runs on the same host, and the
/// function exits either way.
const INIT_ERROR_TIMEOUT: Duration = Duration::from_secs(2);

/// Tells the Lambda Runtime API why init failed (`POST …/runtime/init/error`), so that Lambda
/// shows the setting to fix, not only "Runtime exited". `lambda_runtime` 1.x posts there only
/// for SnapStart hooks and offers no call for it: the post goes through its own Runtime API
/// client. A failed report is logged; the function exits all the same.
async fn report_init_error(runtime_api: &str, error: &ConfigError) {
    let diagnostic = Diagnostic::from(error);
    let report = async {
        let endpoint =
            runtime_api.parse().map_err(|e| format!("AWS_LAMBDA_RUNTIME_API is not host:port ({e})"))?;
        let client = PooledClient::builder().with_endpoint(endpoint).build();
        let request = build_request()
            .method("POST")
            .uri("/2018-06-01/runtime/init/error")
            .header("Lambda-Runtime-Function-Error-Type", diagnostic.error_type.as_str())
            .header("Content-Type", "application/json")
            .body(Body::from(serde_json::to_vec(&diagnostic).map_err(|e| e.to_string())?))
            .map_err(|e| e.to_string())?;
        let response = client.call(request).await.map_err(|e| e.to_string())?;
        match response.status() {
            status if status.is_success() => Ok(()),
            status => Err(format!("the Runtime API answered {status}")),
        }
    };
    match tokio::time::timeout(INIT_ERROR_TIMEOUT, report).await {
        Ok(Ok(())) => {}
        Ok(Err(problem)) => {
            tracing::warn!(%problem, "the init error could not be reported to the Runtime API")
        }
        Err(_) => {
            tracing::warn!(timeout = ?INIT_ERROR_TIMEOUT, "the Runtime API did not take the init error in time")
        }
    }
}

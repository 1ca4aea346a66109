//! The real SDK clients, pointed at the stand-ins as the forwarder points its own: the same
//! HTTP client (rustls on ring), the crate's dummy credentials, path-style S3, and fast
//! retries so a test of three attempts takes milliseconds.

#![allow(dead_code)] // Each test file uses the clients it needs.

use std::time::Duration;

use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region, SharedHttpClient};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use cloudtrail_data_stand_in::cloudtrail::{ACCESS_KEY_ID, SECRET_ACCESS_KEY};

fn http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new().tls_provider(tls::Provider::Rustls(CryptoMode::Ring)).build_https()
}

fn credentials(secret: &str) -> Credentials {
    Credentials::new(ACCESS_KEY_ID, secret, None, None, "stand-in")
}

/// The SDK's standard retries (3 attempts), with backoff of a millisecond.
pub fn retries(max_attempts: u32) -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(max_attempts)
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(5))
}

pub fn s3_client(endpoint: &str) -> aws_sdk_s3::Client {
    s3_client_with(endpoint, SECRET_ACCESS_KEY, retries(3), TimeoutConfig::disabled())
}

pub fn s3_client_with(
    endpoint: &str,
    secret: &str,
    retry: RetryConfig,
    timeouts: TimeoutConfig,
) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials(secret))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .http_client(http_client())
        .retry_config(retry)
        .timeout_config(timeouts)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

pub fn sqs_client(endpoint: &str) -> aws_sdk_sqs::Client {
    sqs_client_with(endpoint, SECRET_ACCESS_KEY, retries(3), TimeoutConfig::disabled())
}

pub fn sqs_client_with(
    endpoint: &str,
    secret: &str,
    retry: RetryConfig,
    timeouts: TimeoutConfig,
) -> aws_sdk_sqs::Client {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials(secret))
        .endpoint_url(endpoint)
        .http_client(http_client())
        .retry_config(retry)
        .timeout_config(timeouts)
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

/// Times out each attempt after `attempt`: what a caller does against a hang.
pub fn attempt_timeout(attempt: Duration) -> TimeoutConfig {
    TimeoutConfig::builder().operation_attempt_timeout(attempt).build()
}

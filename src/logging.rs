//! The function's log: Lambda's log level and format as the operator set them, with every
//! other crate capped so that no level ever lets event content through.
//!
//! Audit events carry personal data. At `TRACE`, `lambda_runtime` logs each raw Lambda event,
//! bodies included, and the SDK's HTTP stack logs requests (with their `eventData`) and
//! responses (with service messages that may quote it). So whatever `AWS_LAMBDA_LOG_LEVEL` or
//! `RUST_LOG` asks for, only this crate's own lines, which name records and rules and never
//! content, go below `INFO`; every other target is capped at `INFO`, where none of them logs
//! a payload.

use lambda_runtime::tracing::subscriber::filter::{EnvFilter, LevelFilter, Targets};
use lambda_runtime::tracing::subscriber::layer::SubscriberExt;
use lambda_runtime::tracing::subscriber::util::SubscriberInitExt;
use lambda_runtime::tracing::subscriber::{fmt, Layer};

/// The level below which only this crate may log.
const OTHER_CRATES_CAP: LevelFilter = LevelFilter::INFO;

/// Installs the subscriber. `level` is `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG` (a level or
/// `tracing` directives), `INFO` when neither is set; `format` is `AWS_LAMBDA_LOG_FORMAT`
/// (`JSON` or text).
pub fn init(level: Option<&str>, format: Option<&str>) {
    let requested = EnvFilter::builder()
        .with_default_directive(LevelFilter::INFO.into())
        .parse_lossy(level.unwrap_or("INFO").to_ascii_lowercase());
    let cap = Targets::new()
        .with_default(OTHER_CRATES_CAP)
        .with_target(env!("CARGO_CRATE_NAME"), LevelFilter::TRACE);
    let text = fmt::layer().with_target(false).without_time();
    let registry = lambda_runtime::tracing::subscriber::registry();
    if format.is_some_and(|format| format.eq_ignore_ascii_case("json")) {
        registry.with(text.json().with_filter(requested).with_filter(cap)).init();
    } else {
        registry.with(text.with_filter(requested).with_filter(cap)).init();
    }
}

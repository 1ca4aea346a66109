//! Runs the forwarder on a sample event with no AWS account: starts the CloudTrail Data
//! stand-in on 127.0.0.1, hands the event to the real handler with the real SDK client
//! (dummy credentials, endpoint pointed at the stand-in), then prints Lambda's answer and
//! what the stand-in ingested.
//!
//! `cargo run --example local-run -- events/sqs-standard.json`
//!
//! The configuration is read as the function reads it (`Config::from_lookup`), from the
//! environment, except that `CHANNEL_ARN` is the stand-in's channel and `EXTERNAL_ID` is
//! never taken (the stand-in's channel has none). A sample with a mapping beside it
//! (`events/NAME.mapping.json`) runs with that mapping, as `EVENT_MAPPING_FILE` would give it,
//! and one with a preset's name beside it (`events/NAME.preset`) with that preset, as
//! `EVENT_MAPPING=preset:NAME` would, unless `EVENT_MAPPING` or `EVENT_MAPPING_FILE` is set.
//!
//! **Files in S3.** A sample whose messages are S3 event notifications
//! (`events/sqs-s3-github.json`) also gets the S3 stand-in serving `events/s3/` (each
//! directory a bucket, each file below it an object) and the SQS stand-in for the
//! continuation of objects one invocation cannot finish, with the real `aws-sdk-s3` and
//! `aws-sdk-sqs` clients pointed at them; `S3_OBJECTS` defaults to the buckets in `events/s3/`
//! and `EVENT_MAPPING`, without a mapping or preset beside the sample, to `preset:github`.
//! `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL_SQS`, when set, name stand-ins of your own (the
//! `s3-stand-in` binary) instead. Continuation messages the function sends are delivered back
//! to it, as Lambda would, until none is left.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use aws_sdk_cloudtraildata::config::{BehaviorVersion, Credentials, Region};
use cloudtrail_data_stand_in::cloudtrail::{ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use cloudtrail_data_stand_in::sqs::lambda_event;
use cloudtrail_data_stand_in::{S3StandIn, Settings, SqsStandIn, StandIn};
use cloudtrail_lake_forwarder::config::Config;
use cloudtrail_lake_forwarder::files::{fetch, Files};
use cloudtrail_lake_forwarder::lambda::event::IncomingEvent;
use cloudtrail_lake_forwarder::lambda::s3;
use cloudtrail_lake_forwarder::{send, Forwarder};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;

/// The most continuation rounds delivered back before the run stops: an object that keeps
/// being continued past this is a bug worth seeing, not a reason to loop forever.
const MAX_ROUNDS: usize = 100;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    lambda_runtime::tracing::init_default_subscriber();
    let path = std::env::args().nth(1).unwrap_or_else(|| "events/sqs-standard.json".into());
    let event: Value = serde_json::from_slice(&std::fs::read(&path).map_err(|e| format!("{path}: {e}"))?)?;

    let stand_in = StandIn::start(Settings::default()).await?;
    println!(
        "CloudTrail Data stand-in on {} for channel {}",
        stand_in.endpoint(),
        stand_in.settings().channel_arn
    );
    let sdk_config = aws_sdk_cloudtraildata::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials())
        .endpoint_url(stand_in.endpoint())
        .http_client(send::https_client())
        .timeout_config(send::sdk_timeouts())
        .retry_config(send::sdk_retries())
        .build();

    // Values the run gives when the environment does not; CHANNEL_ARN always.
    let mut defaults = HashMap::from([("CHANNEL_ARN", stand_in.settings().channel_arn.clone())]);
    let mapping_path = path.replace(".json", ".mapping.json");
    let mapping_set = variable("EVENT_MAPPING").is_some() || variable("EVENT_MAPPING_FILE").is_some();
    if !mapping_set && Path::new(&mapping_path).exists() {
        println!("Mapping payloads with {mapping_path}");
        defaults.insert("EVENT_MAPPING_FILE", mapping_path);
    }
    let preset_path = path.replace(".json", ".preset");
    if let (false, Ok(name)) = (mapping_set, std::fs::read_to_string(&preset_path)) {
        println!("Mapping payloads with preset:{} ({preset_path})", name.trim());
        defaults.insert("EVENT_MAPPING", format!("preset:{}", name.trim()));
    }
    let mut files = None;
    if names_s3_objects(&event) {
        files = Some(FileStandIns::start(&path, &event).await?);
        let buckets = buckets_in(&served_directory(&path))?;
        defaults.insert("S3_OBJECTS", buckets.join(","));
        if !mapping_set
            && !defaults.contains_key("EVENT_MAPPING_FILE")
            && !defaults.contains_key("EVENT_MAPPING")
        {
            defaults.insert("EVENT_MAPPING", "preset:github".into());
        }
    }
    let config = Config::from_lookup(|name| match name {
        "CHANNEL_ARN" | "EXTERNAL_ID" => defaults.get(name).cloned(),
        _ => variable(name).or_else(|| defaults.get(name).cloned()),
    })
    .map_err(|error| error.to_string())?;
    let mut forwarder = Forwarder::new(aws_sdk_cloudtraildata::Client::from_conf(sdk_config), &config);
    if let (Some(files), Some(allowed)) = (&files, config.objects.clone()) {
        println!("Reading S3 objects in S3_OBJECTS={allowed}");
        forwarder = forwarder.with_files(files.clients(allowed));
    }

    println!("Invoking the handler with {path}");
    let mut event = event;
    for round in 1.. {
        let incoming: IncomingEvent = serde_json::from_value(event)?;
        let answer = forwarder.handle(LambdaEvent::new(incoming, Context::default())).await?;
        println!("\nLambda answer:\n{}", serde_json::to_string_pretty(&answer)?);
        let Some((continuations, count)) = files.as_mut().and_then(FileStandIns::continuations) else {
            break;
        };
        if round == MAX_ROUNDS {
            return Err(format!("still continuing after {MAX_ROUNDS} rounds").into());
        }
        println!("\nDelivering the {count} continuation message(s) the function sent, as Lambda would");
        event = continuations;
    }

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
    if let Some(files) = &files {
        files.print_requests();
    }
    Ok(())
}

/// A variable of the environment, unset when empty (as the function reads it).
fn variable(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// The stand-ins' dummy keys: every stand-in checks SigV4 with them.
fn credentials() -> Credentials {
    Credentials::new(ACCESS_KEY_ID, SECRET_ACCESS_KEY, None, None, "local-run")
}

/// Whether any message of the event is an S3 notification, as the function itself reads one.
fn names_s3_objects(event: &Value) -> bool {
    let records = event["Records"].as_array().map(Vec::as_slice).unwrap_or_default();
    records
        .iter()
        .filter_map(|record| record["body"].as_str())
        .any(|body| matches!(s3::read(body), Ok(Some(_))))
}

/// Where the files stage's clients go: stand-ins started here, or the endpoints the
/// environment names.
struct FileStandIns {
    s3: Option<S3StandIn>,
    sqs: Option<SqsStandIn>,
    s3_endpoint: String,
    sqs_endpoint: String,
    /// Continuation messages already delivered back.
    delivered: usize,
}

impl FileStandIns {
    /// Starts the S3 stand-in on the `s3/` directory beside the sample and the SQS stand-in
    /// with the sample's queues, unless the environment names endpoints.
    async fn start(path: &str, event: &Value) -> Result<FileStandIns, Box<dyn std::error::Error>> {
        let dir = served_directory(path);
        let s3 = match variable("AWS_ENDPOINT_URL_S3") {
            Some(endpoint) => {
                println!("S3: AWS_ENDPOINT_URL_S3={endpoint} (from the environment)");
                None
            }
            None => {
                let s3 = S3StandIn::start().await?;
                let objects =
                    s3.put_directory(&dir).map_err(|e| format!("cannot serve {}: {e}", dir.display()))?;
                println!("S3 stand-in on {} serving {}:", s3.endpoint(), dir.display());
                for object in objects {
                    println!(
                        "  s3://{}/{} size={} eTag={}",
                        object.bucket,
                        object.key,
                        object.size,
                        object.etag_unquoted()
                    );
                }
                Some(s3)
            }
        };
        let sqs = match variable("AWS_ENDPOINT_URL_SQS") {
            Some(endpoint) => {
                println!(
                    "SQS: AWS_ENDPOINT_URL_SQS={endpoint} (from the environment; continuations stay there)"
                );
                None
            }
            None => {
                let sqs = SqsStandIn::start().await?;
                for queue in queues_of(event) {
                    sqs.create_queue(&queue);
                }
                println!("SQS stand-in on {} for continuations", sqs.endpoint());
                Some(sqs)
            }
        };
        let s3_endpoint = s3.as_ref().map(S3StandIn::endpoint).or_else(|| variable("AWS_ENDPOINT_URL_S3"));
        let sqs_endpoint =
            sqs.as_ref().map(SqsStandIn::endpoint).or_else(|| variable("AWS_ENDPOINT_URL_SQS"));
        Ok(FileStandIns {
            s3,
            sqs,
            s3_endpoint: s3_endpoint.unwrap_or_default(),
            sqs_endpoint: sqs_endpoint.unwrap_or_default(),
            delivered: 0,
        })
    }

    /// The files stage's clients, built as the function's `main` builds them (path-style S3,
    /// the S3 retries and timeouts), pointed at the stand-ins.
    fn clients(&self, allowed: s3::AllowedObjects) -> Files {
        let s3 = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(credentials())
            .http_client(send::https_client())
            .endpoint_url(&self.s3_endpoint)
            .force_path_style(true)
            .retry_config(fetch::s3_retries())
            .timeout_config(fetch::s3_timeouts())
            .build();
        let sqs = aws_sdk_sqs::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(credentials())
            .http_client(send::https_client())
            .endpoint_url(&self.sqs_endpoint)
            .build();
        Files { s3: aws_sdk_s3::Client::from_conf(s3), sqs: aws_sdk_sqs::Client::from_conf(sqs), allowed }
    }

    /// The messages sent to the SQS stand-in since the last call, as the Lambda SQS event
    /// that delivers them, and how many; `None` when there are none (or the SQS endpoint is
    /// not ours to read).
    fn continuations(&mut self) -> Option<(Value, usize)> {
        let sent = self.sqs.as_ref()?.sent_since(self.delivered);
        if sent.is_empty() {
            return None;
        }
        self.delivered += sent.len();
        Some((lambda_event(&sent), sent.len()))
    }

    /// What the function asked of S3 and sent to SQS: names and sizes, not content.
    fn print_requests(&self) {
        if let Some(s3) = &self.s3 {
            println!("\nS3 requests:");
            for request in s3.requests() {
                let pinned = match (&request.version_id, &request.if_match) {
                    (Some(version), _) => format!(" versionId={version}"),
                    (None, Some(etag)) => format!(" If-Match={etag}"),
                    (None, None) => String::new(),
                };
                let status = request.status.map_or("no answer".into(), |status| status.to_string());
                let error = request.error.map(|code| format!(" {code}")).unwrap_or_default();
                println!(
                    "  {} s3://{}/{}{pinned} -> {status}{error}, {} bytes",
                    request.method, request.bucket, request.key, request.body_bytes
                );
            }
        }
        if let Some(sqs) = &self.sqs {
            let sent = sqs.sent();
            println!("\nContinuation messages sent: {}", sent.len());
            for message in sent {
                println!("  {} id={} bytes={}", message.queue_name, message.message_id, message.body.len());
            }
        }
    }
}

/// The directory served as S3: `s3/` beside the sample.
fn served_directory(path: &str) -> PathBuf {
    Path::new(path).parent().unwrap_or(Path::new(".")).join("s3")
}

/// The bucket directories under `dir`, sorted.
fn buckets_in(dir: &Path) -> Result<Vec<String>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        format!("the sample names S3 objects, served from {}, which cannot be read: {e}", dir.display())
    })?;
    let mut buckets: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path: &PathBuf| path.is_dir())
        .filter_map(|path| path.file_name().map(|name| name.to_string_lossy().into_owned()))
        .collect();
    buckets.sort();
    if buckets.is_empty() {
        return Err(format!("{} holds no bucket directory", dir.display()));
    }
    Ok(buckets)
}

/// The queues the event's records came from (the last part of each `eventSourceARN`): the
/// function sends continuations to the queue a message came from.
fn queues_of(event: &Value) -> Vec<String> {
    let records = event["Records"].as_array().map(Vec::as_slice).unwrap_or_default();
    let mut queues: Vec<String> = records
        .iter()
        .filter_map(|record| record["eventSourceARN"].as_str())
        .filter_map(|arn| arn.rsplit(':').next())
        .map(str::to_owned)
        .collect();
    queues.sort();
    queues.dedup();
    queues
}

//! `s3-stand-in`: serves a directory as S3 buckets for the local run, and optionally the SQS
//! stand-in the forwarder continues large objects through. Prints every object it serves
//! (bucket, key, size, ETag: what an event notification for it must say), then one line per
//! request and per message sent (sizes, not content).
//!
//! Usage: `s3-stand-in [--dir events/s3] [--port 9002] [--sqs-port 9003 [--queue NAME]...]
//! [--versioned]`
//!
//! Each directory in `--dir` is a bucket; each file below it an object keyed by its path from
//! there (`events/s3/audit/2026/11/a.json.gz` is `s3://audit/2026/11/a.json.gz`). Files added
//! later are not seen: restart. `--versioned` turns versioning on, so objects get version ids.
//! `--queue` names the queues to accept (default: `audit-events`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use cloudtrail_data_stand_in::cloudtrail::{ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use cloudtrail_data_stand_in::{S3StandIn, SqsStandIn};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut dir = None;
    let mut port = 9002u16;
    let mut sqs_port = None;
    let mut queues = Vec::new();
    let mut versioned = false;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--dir" => dir = Some(PathBuf::from(value()?)),
            "--port" => port = value()?.parse()?,
            "--sqs-port" => sqs_port = Some(value()?.parse::<u16>()?),
            "--queue" => queues.push(value()?),
            "--versioned" => versioned = true,
            other => {
                return Err(
                    format!("unknown argument {other:?}; see the usage in the source's first lines").into()
                )
            }
        }
    }
    let loopback = |port| SocketAddr::from(([127, 0, 0, 1], port));
    let s3 = S3StandIn::start_on(loopback(port)).await?;
    println!("S3 stand-in: AWS_ENDPOINT_URL_S3={} (path style)", s3.endpoint());
    if let Some(dir) = &dir {
        if versioned {
            for bucket in std::fs::read_dir(dir)?.flatten().filter(|entry| entry.path().is_dir()) {
                s3.create_versioned_bucket(&bucket.file_name().to_string_lossy());
            }
        }
        let objects =
            s3.put_directory(dir).map_err(|error| format!("cannot serve {}: {error}", dir.display()))?;
        for object in objects {
            let version =
                object.version_id.as_deref().map(|id| format!(" versionId={id}")).unwrap_or_default();
            println!(
                "  s3://{}/{} size={} eTag={}{version}",
                object.bucket,
                object.key,
                object.size,
                object.etag_unquoted()
            );
        }
    }
    let sqs = match sqs_port {
        Some(port) => Some(SqsStandIn::start_on(loopback(port)).await?),
        None => None,
    };
    if let Some(sqs) = &sqs {
        println!("SQS stand-in: AWS_ENDPOINT_URL_SQS={}", sqs.endpoint());
        if queues.is_empty() {
            queues.push("audit-events".into());
        }
        for queue in &queues {
            println!("  queue {}", sqs.create_queue(queue));
        }
    }
    println!("sign with AWS_ACCESS_KEY_ID={ACCESS_KEY_ID} AWS_SECRET_ACCESS_KEY={SECRET_ACCESS_KEY} AWS_REGION=us-east-1");
    watch(&s3, sqs.as_ref()).await;
    Ok(())
}

/// Prints each request and message as it comes, until Ctrl-C.
async fn watch(s3: &S3StandIn, sqs: Option<&SqsStandIn>) {
    let (mut requests, mut messages) = (0, 0);
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return,
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
        // Requests are printed in arrival order once the stand-in is done with each.
        for request in s3.requests_since(requests).into_iter().take_while(|request| request.complete) {
            let version = request.version_id.map(|id| format!(" versionId={id}")).unwrap_or_default();
            let range = request.range.map(|range| format!(" range={range}")).unwrap_or_default();
            let error = request.error.map(|code| format!(" {code}")).unwrap_or_default();
            println!(
                "{} s3://{}/{}{version}{range} -> {}{error} bytes={}",
                request.method,
                request.bucket,
                request.key,
                request.status.map_or("no answer".into(), |status| status.to_string()),
                request.body_bytes
            );
            requests += 1;
        }
        if let Some(sqs) = sqs {
            for message in sqs.sent_since(messages) {
                println!(
                    "SendMessage {} id={} bytes={}",
                    message.queue_name,
                    message.message_id,
                    message.body.len()
                );
                messages += 1;
            }
        }
    }
}

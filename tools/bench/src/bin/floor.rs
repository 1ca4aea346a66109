//! The floor under the CPU benchmark: a Lambda function made only of the parts the forwarder
//! is built on, doing none of the forwarder's own work, so that `cpu --floor` can say how much
//! of an invocation's CPU those parts cost by themselves.
//!
//! ```sh
//! cargo build --release --bin cloudtrail-lake-forwarder -p forwarder-bench --bin floor
//! cargo run --release -p forwarder-bench --bin cpu -- --floor runtime     # or --floor sdk, --floor plain
//! ```
//!
//! `FLOOR=runtime`: `lambda_runtime`'s loop (the same layers as the forwarder's `main`, less the
//! forwarder's own reader), reading each event only far enough to count its `Records`, and
//! answering that none failed. `FLOOR=sdk`: the same, and then the `PutAuditEvents` calls a batch
//! of that many records needs (one per 100, all at once), through the forwarder's own SDK
//! client and request body (`send::SdkChannel`), carrying events built once at start: no
//! decoding, mapping, schema check or hashing of the batch's events, no rate limiter, no memory
//! of ingested events, no logs or metrics. What the forwarder costs beyond this is its own work.
//! `FLOOR=plain`: the same calls made the SDK's own way, its serialiser writing the body and its
//! reader reading the answer, for comparison with the forwarder's.
//!
//! It is a benchmark tool, not a forwarder: it sends the same prepared events, under the same
//! ids at every invocation, whatever the batch holds, and for at most 10,000 records (the
//! benchmark's stand-in counts what it stored, so a larger batch shows as events missing).

use std::sync::Arc;

use aws_config::{BehaviorVersion, Region};
use cloudtrail_lake_forwarder::config::ChannelArn;
use cloudtrail_lake_forwarder::event::{self, AuditEvent};
use cloudtrail_lake_forwarder::send::plan::MAX_EVENTS_PER_REQUEST;
use cloudtrail_lake_forwarder::send::{self, Channel, Reply, SdkChannel};
use lambda_runtime::layers::TracingLayer;
use lambda_runtime::{service_fn, Error, LambdaEvent, Runtime};
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::{json, Value};

/// The event read no further than its records' count.
#[derive(Deserialize)]
struct Batch {
    #[serde(rename = "Records", default)]
    records: Vec<IgnoredAny>,
}

/// What `FLOOR=sdk` sends: requests of 100 events of 700 bytes (the size of the benchmark's
/// Kinesis events), built at start; the stand-in refuses an id twice only within a request.
struct Calls {
    channel: Arc<SdkChannel>,
    requests: Vec<Arc<Vec<Option<AuditEvent>>>>,
    /// `FLOOR=plain`: the SDK's own call, its serialiser and reader, without the forwarder's
    /// per-call customisation (its body and its response reader).
    plain: Option<(aws_sdk_cloudtraildata::Client, String)>,
}

impl Calls {
    async fn send(&self, records: usize) -> Result<(), Error> {
        let mut replies = tokio::task::JoinSet::new();
        for (request, first) in self.requests.iter().zip((0..records).step_by(MAX_EVENTS_PER_REQUEST)) {
            let count = (records - first).min(MAX_EVENTS_PER_REQUEST);
            let (channel, events) = (Arc::clone(&self.channel), Arc::clone(request));
            if let Some((client, arn)) = self.plain.clone() {
                replies.spawn(async move { plain_put(&client, &arn, &events[..count]).await });
                continue;
            }
            replies.spawn(async move { channel.put(events, (0..count).collect()).await });
        }
        while let Some(reply) = replies.join_next().await {
            match reply? {
                Reply::Answered(verdicts) if verdicts.iter().all(Result::is_ok) => {}
                other => return Err(format!("the stand-in did not store a floor request: {other:?}").into()),
            }
        }
        Ok(())
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let mode = std::env::var("FLOOR").unwrap_or_default();
    let calls = match mode.as_str() {
        "runtime" => None,
        "sdk" => Some(calls(false).await?),
        "plain" => Some(calls(true).await?),
        _ => return Err(format!("FLOOR must be runtime, sdk or plain, not {mode:?}").into()),
    };
    let calls = &calls;
    let handler = service_fn(move |event: LambdaEvent<Batch>| async move {
        if let Some(calls) = calls {
            calls.send(event.payload.records.len()).await?;
        }
        Ok::<Value, Error>(json!({ "batchItemFailures": [] }))
    });
    Runtime::new(handler).layer(TracingLayer::new()).run().await
}

/// The SDK client as the forwarder's `main` builds it, and requests enough for 10,000 records.
async fn calls(plain: bool) -> Result<Calls, Error> {
    let arn = std::env::var("CHANNEL_ARN")?;
    let channel = ChannelArn::parse(&arn).ok_or("CHANNEL_ARN is not a channel ARN")?;
    let sdk_config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(channel.region().to_owned()))
        .http_client(send::https_client())
        .load()
        .await;
    let client = send::sdk_client(aws_sdk_cloudtraildata::config::Builder::from(&sdk_config));
    let event_data = cloudtrail_data_stand_in::fixtures::audit_event_of_len(0, 700, "x");
    let request = |r: usize| -> Result<Vec<Option<AuditEvent>>, Error> {
        (0..MAX_EVENTS_PER_REQUEST)
            .map(|i| Ok(Some(event::schema_event(format!("floor-{r}-{i}"), event_data.clone())?)))
            .collect()
    };
    let requests = (0..100).map(|r| request(r).map(Arc::new)).collect::<Result<_, _>>()?;
    let plain = plain.then(|| (client.clone(), channel.as_str().to_owned()));
    Ok(Calls { channel: Arc::new(SdkChannel::new(client, channel.as_str(), None)), requests, plain })
}

/// One `PutAuditEvents` call as the SDK makes it by itself; a refusal of any event counts as
/// not stored.
async fn plain_put(
    client: &aws_sdk_cloudtraildata::Client,
    arn: &str,
    events: &[Option<AuditEvent>],
) -> Reply {
    use aws_sdk_cloudtraildata::types::AuditEvent as SdkEvent;
    let input = events.iter().flatten().map(|event| {
        SdkEvent::builder()
            .id(&event.id)
            .event_data(&event.event_data)
            .event_data_checksum(&event.checksum)
            .build()
            .expect("id and eventData are set")
    });
    match client.put_audit_events().channel_arn(arn).set_audit_events(Some(input.collect())).send().await {
        Ok(output) if output.failed().is_empty() => Reply::Answered(vec![Ok(()); events.len()]),
        Ok(_) => Reply::Refused(send::retry::Failure::new("Refused", false)),
        Err(error) => Reply::Refused(send::retry::classify(&error)),
    }
}

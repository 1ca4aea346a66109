//! Every sample event in `events/` gets the answer written beside it (`NAME.answer.json`),
//! from the real handler and SDK client against the stand-in, and the stand-in stores the
//! number of audit events listed below for it: an answer of "none failed" is only as good as
//! the events that actually arrived (a gzip or KPL record opened to nothing is answered done). A sample with a mapping beside
//! it (`NAME.mapping.json`) runs with that mapping, as `EVENT_MAPPING_FILE` would give it; one
//! with a preset's name beside it (`NAME.preset`) with that preset, as `EVENT_MAPPING=preset:NAME`.
//! A sample whose messages are S3 notifications runs as the local run has it: the S3 stand-in
//! serves `events/s3/`, `S3_OBJECTS` is its buckets, and the mapping, unless one is beside it,
//! `preset:github`.

mod common;

use std::path::Path;
use std::sync::Arc;

use cloudtrail_data_stand_in::{S3StandIn, SqsStandIn};
use cloudtrail_lake_forwarder::lambda::s3;
use cloudtrail_lake_forwarder::prepare::mapping::{presets, Mapping};
use serde_json::Value;

/// Each sample and the number of audit events the stand-in stores from it.
const SAMPLES: [(&str, usize); 17] = [
    ("kinesis-cloudwatch-logs.json", 2), // two log events; the control message holds none
    ("kinesis-kpl.json", 2),             // one aggregate of two user records
    ("kinesis-sam-generated.json", 0),
    ("kinesis.json", 3),
    ("sqs-eventbridge.json", 1),
    ("sqs-fifo.json", 3), // five, less the invalid one and the one held behind it
    ("sqs-mapped.json", 1),
    ("sqs-mixed-invalid.json", 2),
    ("sqs-okta.json", 3),
    ("sqs-s3-azure-activity.json", 3), // four records, one with a time without a zone
    ("sqs-s3-cloudtrail.json", 3),
    ("sqs-s3-entra.json", 3),
    ("sqs-s3-gcp-audit.json", 3), // four lines, one a LogEntry that is no audit log
    ("sqs-s3-github.json", 5),    // five GitHub lines in two gzip members
    ("sqs-sam-generated.json", 0),
    ("sqs-sns.json", 1),
    ("sqs-standard.json", 3),
];

#[tokio::test]
async fn every_sample_event_is_answered_as_documented() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("events");
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(&folder).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with(".json") || name.ends_with(".answer.json") || name.ends_with(".mapping.json") {
            continue;
        }
        let answer_path = folder.join(name.replace(".json", ".answer.json"));
        let expected: Value = serde_json::from_slice(
            &std::fs::read(&answer_path).unwrap_or_else(|_| panic!("{name} has no answer file")),
        )
        .unwrap();
        let event: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();

        let stand_in = common::stand_in().await;
        let mut config = common::config(&stand_in);
        if let Ok(mapping) = std::fs::read_to_string(folder.join(name.replace(".json", ".mapping.json"))) {
            config.mapping = Some(Arc::new(Mapping::parse(&mapping).unwrap()));
        }
        if let Ok(preset) = std::fs::read_to_string(folder.join(name.replace(".json", ".preset"))) {
            let preset = presets::preset(preset.trim()).unwrap_or_else(|| panic!("{name}: no such preset"));
            config.mapping = Some(Arc::new(preset.unwrap()));
        }
        let mut files = None;
        if names_s3_objects(&event) {
            if config.mapping.is_none() {
                config.mapping = Some(Arc::new(presets::preset("github").unwrap().unwrap()));
            }
            files = Some(serve_s3_directory(&folder.join("s3"), &event).await);
        }
        let mut forwarder = common::forwarder_with(&stand_in, &config);
        if let Some((s3, sqs, allowed)) = &files {
            forwarder = forwarder.with_files(common::files(&s3.endpoint(), &sqs.endpoint(), allowed.clone()));
        }
        let (answer, _) = forwarder.forward(common::incoming(event), None).await.unwrap();
        assert_eq!(serde_json::to_value(&answer).unwrap(), expected, "{name}");
        let stored = SAMPLES.iter().find(|(sample, _)| *sample == name).map(|(_, stored)| *stored);
        let stored = stored.unwrap_or_else(|| panic!("{name} is not listed in SAMPLES"));
        assert_eq!(stand_in.stored().len(), stored, "the audit events stored from {name}");
        checked.push(name);
    }
    checked.sort();
    assert_eq!(checked, SAMPLES.map(|(name, _)| name.to_owned()));
}

/// Whether any message of the event is an S3 notification, as the function reads one.
fn names_s3_objects(event: &Value) -> bool {
    let records = event["Records"].as_array().map(Vec::as_slice).unwrap_or_default();
    records
        .iter()
        .filter_map(|record| record["body"].as_str())
        .any(|body| matches!(s3::read(body), Ok(Some(_))))
}

/// The S3 stand-in serving `dir` (each directory a bucket), the SQS stand-in with the event's
/// queues for continuations, and the buckets as `S3_OBJECTS`.
async fn serve_s3_directory(dir: &Path, event: &Value) -> (S3StandIn, SqsStandIn, s3::AllowedObjects) {
    let s3 = S3StandIn::start().await.unwrap();
    let served = s3.put_directory(dir).unwrap();
    let mut buckets: Vec<&str> = served.iter().map(|object| object.bucket.as_str()).collect();
    buckets.dedup();
    let sqs = SqsStandIn::start().await.unwrap();
    let records = event["Records"].as_array().unwrap();
    for arn in records.iter().filter_map(|record| record["eventSourceARN"].as_str()) {
        sqs.create_queue(arn.rsplit(':').next().unwrap());
    }
    let allowed = buckets.join(",").parse().unwrap();
    (s3, sqs, allowed)
}

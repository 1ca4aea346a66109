//! Every sample event in `events/` gets the answer written beside it (`NAME.answer.json`),
//! from the real handler and SDK client against the stand-in, and the stand-in stores the
//! number of audit events listed below for it: an answer of "none failed" is only as good as
//! the events that actually arrived (a gzip or KPL record opened to nothing is answered done). A sample with a mapping beside
//! it (`NAME.mapping.json`) runs with that mapping, as `EVENT_MAPPING_FILE` would give it; one
//! with a preset's name beside it (`NAME.preset`) with that preset, as `EVENT_MAPPING=preset:NAME`.

mod common;

use std::path::Path;
use std::sync::Arc;

use cloudtrail_lake_forwarder::prepare::mapping::{presets, Mapping};
use serde_json::Value;

/// Each sample and the number of audit events the stand-in stores from it.
const SAMPLES: [(&str, usize); 16] = [
    ("kinesis-cloudwatch-logs.json", 2), // two log events; the control message holds none
    ("kinesis-kpl.json", 2),             // one aggregate of two user records
    ("kinesis-sam-generated.json", 0),
    ("kinesis.json", 3),
    ("sqs-azure-activity.json", 3), // and a record whose time has no zone, rejected
    ("sqs-cloudtrail.json", 3),
    ("sqs-entra.json", 3),
    ("sqs-eventbridge.json", 1),
    ("sqs-fifo.json", 3),      // five, less the invalid one and the one held behind it
    ("sqs-gcp-audit.json", 3), // and a LogEntry that is no audit log, rejected
    ("sqs-mapped.json", 1),
    ("sqs-mixed-invalid.json", 2),
    ("sqs-okta.json", 3),
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
        let forwarder = common::forwarder_with(&stand_in, &config);
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

//! Every sample event in `events/` gets the answer written beside it (`NAME.answer.json`),
//! from the real handler and SDK client against the stand-in.

mod common;

use std::path::Path;

use serde_json::Value;

#[tokio::test]
async fn every_sample_event_is_answered_as_documented() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("events");
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(&folder).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with(".json") || name.ends_with(".answer.json") {
            continue;
        }
        let answer_path = folder.join(name.replace(".json", ".answer.json"));
        let expected: Value = serde_json::from_slice(
            &std::fs::read(&answer_path).unwrap_or_else(|_| panic!("{name} has no answer file")),
        )
        .unwrap();
        let event: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();

        let stand_in = common::stand_in().await;
        let (answer, _) = common::forwarder(&stand_in).forward(common::incoming(event), None).await.unwrap();
        assert_eq!(serde_json::to_value(&answer).unwrap(), expected, "{name}");
        checked.push(name);
    }
    checked.sort();
    assert_eq!(
        checked,
        [
            "kinesis-sam-generated.json",
            "kinesis.json",
            "sqs-fifo.json",
            "sqs-mixed-invalid.json",
            "sqs-sam-generated.json",
            "sqs-standard.json"
        ]
    );
}

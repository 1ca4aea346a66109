//! One CloudWatch embedded metric format (EMF) document per invocation, written to stdout as a
//! JSON line: CloudWatch turns it into metrics without any API call from the function.
//!
//! The document is a plain JSON object, so it stays valid EMF whether Lambda's log format is
//! text or JSON. It carries counts and times only, never a record's content.

use serde_json::{json, Map, Value};

use crate::source::Source;
use crate::summary::Summary;

/// EMF takes at most 100 values for one metric in one document.
const MAX_VALUES: usize = 100;

/// The EMF document for one invocation. `timestamp_ms` is epoch milliseconds.
pub fn emf_document(namespace: &str, function_name: &str, summary: &Summary, timestamp_ms: u64) -> Value {
    let source = summary.source.map_or("none", Source::name);
    let mut metrics: Vec<(&str, &str, Value)> = vec![
        ("RecordsReceived", "Count", json!(summary.records)),
        ("RecordsIngested", "Count", json!(summary.ingested)),
        ("EventsIngested", "Count", json!(summary.send.events_ingested)),
        // What Lambda will deliver again, successes after a Kinesis failure included.
        ("RecordsFailed", "Count", json!(summary.redelivered)),
        // Never valid audit events; on SQS they end in the dead-letter queue, on Kinesis only
        // their position reaches the OnFailure destination.
        ("RecordsRejected", "Count", json!(summary.rejected)),
        ("PutAuditEventsRequests", "Count", json!(summary.send.requests)),
        ("Retries", "Count", json!(summary.send.retries)),
        ("RedeliveriesSkipped", "Count", json!(summary.send.remembered)),
        ("ThrottledRequests", "Count", json!(summary.send.throttled_requests)),
        ("ThrottledEvents", "Count", json!(summary.send.throttled_events)),
        ("RequestRateLimit", "Count/Second", json!(summary.send.rate_limit)),
        ("InvocationDuration", "Milliseconds", json!(summary.duration.as_secs_f64() * 1000.0)),
    ];
    if !summary.send.latencies_ms.is_empty() {
        metrics.push(("IngestLatency", "Milliseconds", json!(spread(&summary.send.latencies_ms))));
    }
    if let Some(age) = summary.oldest_record_age_ms {
        metrics.push(("OldestRecordAge", "Milliseconds", json!(age)));
    }

    let mut document = Map::new();
    document.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [["FunctionName", "Source"]],
                "Metrics": metrics.iter().map(|(name, unit, _)| json!({"Name": name, "Unit": unit})).collect::<Vec<_>>(),
            }],
        }),
    );
    document.insert("FunctionName".into(), json!(function_name));
    document.insert("Source".into(), json!(source));
    for (name, _, value) in metrics {
        document.insert(name.into(), value);
    }
    Value::Object(document)
}

/// At most [`MAX_VALUES`] values that keep the distribution: all of them, or evenly spaced
/// order statistics (minimum and maximum included) when there are more.
fn spread(values: &[f64]) -> Vec<f64> {
    if values.len() <= MAX_VALUES {
        return values.to_vec();
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    (0..MAX_VALUES).map(|i| sorted[i * (sorted.len() - 1) / (MAX_VALUES - 1)]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::send::SendReport;
    use std::collections::BTreeMap;
    use std::time::Duration;

    fn summary() -> Summary {
        Summary {
            source: Some(Source::Kinesis),
            records: 10,
            ingested: 7,
            rejected: 1,
            reported: 1,
            redelivered: 4,
            failures: BTreeMap::new(),
            oldest_record_age_ms: Some(1234),
            send: SendReport {
                requests: 2,
                events_sent: 9,
                retries: 3,
                latencies_ms: vec![12.0, 30.5],
                peak_in_flight: 2,
                remembered: 0,
                throttled_requests: 1,
                throttled_events: 2,
                rate_limit: 7.5,
                events_ingested: 12,
            },
            duration: Duration::from_millis(45),
        }
    }

    #[test]
    fn the_document_declares_every_metric_it_carries() {
        let document = emf_document("Audit", "forwarder", &summary(), 1_764_129_600_000);
        let directive = &document["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(document["_aws"]["Timestamp"], 1_764_129_600_000u64);
        assert_eq!(directive["Namespace"], "Audit");
        assert_eq!(directive["Dimensions"], json!([["FunctionName", "Source"]]));
        assert_eq!(
            (document["FunctionName"].clone(), document["Source"].clone()),
            (json!("forwarder"), json!("kinesis"))
        );
        for metric in directive["Metrics"].as_array().unwrap() {
            let name = metric["Name"].as_str().unwrap();
            assert!(document[name].is_number() || document[name].is_array(), "{name}");
            assert!(["Count", "Milliseconds", "Count/Second"].contains(&metric["Unit"].as_str().unwrap()));
        }
        assert_eq!(document["RecordsIngested"], 7);
        assert_eq!(document["EventsIngested"], 12);
        assert_eq!(document["RecordsFailed"], 4);
        assert_eq!(document["ThrottledRequests"], 1);
        assert_eq!(document["ThrottledEvents"], 2);
        assert_eq!(document["RequestRateLimit"], 7.5);
        assert_eq!(document["IngestLatency"], json!([12.0, 30.5]));
        assert_eq!(document["OldestRecordAge"], 1234);
    }

    #[test]
    fn many_latencies_are_reduced_to_a_hundred_that_keep_the_extremes() {
        let values: Vec<f64> = (0..1000).map(f64::from).collect();
        let kept = spread(&values);
        assert_eq!(kept.len(), 100);
        assert_eq!((kept[0], kept[99]), (0.0, 999.0));
    }
}

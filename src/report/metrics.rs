//! One CloudWatch embedded metric format (EMF) document per invocation, written to stdout as a
//! JSON line: CloudWatch turns it into metrics without any API call from the function.
//!
//! The document is a plain JSON object, so it stays valid EMF whether Lambda's log format is
//! text or JSON. It carries counts and times only, never a record's content.

use serde::Serialize;

use crate::report::Summary;

/// EMF takes at most 100 values for one metric in one document.
const MAX_VALUES: usize = 100;

/// The EMF document for one invocation, as one line of JSON. `timestamp_ms` is epoch
/// milliseconds.
///
/// Written straight into its text rather than built as a `serde_json::Value` first: the
/// document's shape is fixed, and a map of maps cost more allocations than the whole
/// invocation of a small batch should.
pub fn emf_document(namespace: &str, function_name: &str, summary: &Summary, timestamp_ms: u64) -> String {
    let send = &summary.send;
    let count = |value: usize| Value::Count(value as u64);
    let mut metrics: Vec<(&str, &str, Value)> = vec![
        ("RecordsReceived", "Count", count(summary.records)),
        ("RecordsIngested", "Count", count(summary.ingested)),
        ("EventsIngested", "Count", count(send.events_ingested)),
        // What Lambda will deliver again, successes after a Kinesis failure included.
        ("RecordsFailed", "Count", count(summary.redelivered)),
        // Never valid audit events; on SQS they end in the dead-letter queue, on Kinesis only
        // their position reaches the OnFailure destination.
        ("RecordsRejected", "Count", count(summary.rejected)),
        ("PutAuditEventsRequests", "Count", count(send.requests)),
        ("Retries", "Count", count(send.retries)),
        ("RedeliveriesSkipped", "Count", count(send.remembered)),
        ("ThrottledRequests", "Count", count(send.throttled_requests)),
        ("ThrottledEvents", "Count", count(send.throttled_events)),
        ("RequestRateLimit", "Count/Second", Value::Float(send.rate_limit)),
        ("InvocationDuration", "Milliseconds", Value::Float(summary.duration.as_secs_f64() * 1000.0)),
    ];
    if !send.latencies_ms.is_empty() {
        metrics.push(("IngestLatency", "Milliseconds", Value::Spread(spread(&send.latencies_ms))));
    }
    if let Some(age) = summary.oldest_record_age_ms {
        metrics.push(("OldestRecordAge", "Milliseconds", Value::Count(age)));
    }

    let mut out = Vec::with_capacity(1024);
    out.extend_from_slice(b"{\"_aws\":{\"Timestamp\":");
    push_json(&mut out, &timestamp_ms);
    out.extend_from_slice(b",\"CloudWatchMetrics\":[{\"Namespace\":");
    push_json(&mut out, namespace);
    out.extend_from_slice(b",\"Dimensions\":[[\"FunctionName\",\"Source\"]],\"Metrics\":[");
    for (index, (name, unit, _)) in metrics.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        // Metric names and units are the constants above: no character needs escaping.
        for part in ["{\"Name\":\"", name, "\",\"Unit\":\"", unit, "\"}"] {
            out.extend_from_slice(part.as_bytes());
        }
    }
    out.extend_from_slice(b"]}]},\"FunctionName\":");
    push_json(&mut out, function_name);
    out.extend_from_slice(b",\"Source\":");
    push_json(&mut out, summary.source.name());
    for (name, _, value) in &metrics {
        for part in [",\"", name, "\":"] {
            out.extend_from_slice(part.as_bytes());
        }
        match value {
            Value::Count(value) => push_json(&mut out, value),
            Value::Float(value) => push_json(&mut out, value),
            Value::Spread(values) => push_json(&mut out, values),
        }
    }
    out.push(b'}');
    String::from_utf8(out).expect("serde_json writes UTF-8, and so do the literals here")
}

/// A metric's value in the document.
enum Value {
    Count(u64),
    Float(f64),
    Spread(Vec<f64>),
}

/// Appends `value` as JSON: strings escaped, numbers as serde_json writes them (a float that is
/// not finite as `null`).
fn push_json<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    serde_json::to_writer(out, value).expect("numbers and strings serialise into a Vec without error");
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
    use crate::lambda::Source;
    use crate::send::SendReport;
    use serde_json::{json, Value};
    use std::collections::BTreeMap;
    use std::time::Duration;

    fn summary() -> Summary {
        Summary {
            source: Source::Kinesis,
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
                stopped: None,
            },
            duration: Duration::from_millis(45),
        }
    }

    #[test]
    fn the_document_declares_every_metric_it_carries() {
        let text = emf_document("Audit \"prod\"", "forwarder", &summary(), 1_764_129_600_000);
        assert!(!text.contains('\n'), "one line");
        let document: Value = serde_json::from_str(&text).unwrap();
        let directive = &document["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(document["_aws"]["Timestamp"], 1_764_129_600_000u64);
        assert_eq!(directive["Namespace"], "Audit \"prod\"");
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

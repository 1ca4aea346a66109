//! Each envelope end to end: real SDK client, HTTP to the CloudTrail Data stand-in on
//! 127.0.0.1, and what the stand-in stored.

mod common;

use std::sync::Arc;

use cloudtrail_data_stand_in::StandIn;
use cloudtrail_lake_forwarder::prepare::mapping::Mapping;
use cloudtrail_lake_forwarder::{Answer, Forwarder};
use common::*;
use serde_json::{json, Value};

async fn forward(forwarder: &Forwarder, event: Value) -> Answer {
    forwarder.forward(incoming(event), None).await.expect("a readable batch").0
}

fn mapped_forwarder(stand_in: &StandIn, mapping: Value) -> Forwarder {
    let mut config = config(stand_in);
    config.mapping = Some(Arc::new(Mapping::parse(&mapping.to_string()).expect("a valid mapping")));
    forwarder_with(stand_in, &config)
}

fn log_events(ids: std::ops::Range<usize>) -> Vec<(String, i64, String)> {
    ids.map(|i| (format!("{i:056}"), 1_764_129_600_000 + i as i64, audit_json(&format!("log-{i}")))).collect()
}

#[tokio::test]
async fn an_sns_message_is_sent_byte_for_byte_under_the_sqs_message_id() {
    let stand_in = stand_in().await;
    let message = audit_json("sns-1");
    let body = json!({"Type": "Notification", "MessageId": "n-1", "TopicArn": "arn:aws:sns:us-east-1:123456789012:t",
                      "Message": message, "Timestamp": "2026-11-26T04:00:00.000Z"});
    let answer = forward(&forwarder(&stand_in), records(vec![sqs_record("m-1", &body.to_string())])).await;

    assert_eq!(reported(&answer), Vec::<String>::new());
    let stored = stand_in.stored();
    assert_eq!((stored[0].id.as_str(), stored[0].event_data.as_str()), ("m-1", message.as_str()));
}

#[tokio::test]
async fn an_event_bridge_detail_is_mapped_with_the_envelope_fields() {
    let stand_in = stand_in().await;
    let body = json!({"version": "0", "id": "eb-7", "detail-type": "Order Placed", "source": "shop.orders",
                      "account": "123456789012", "time": "2026-11-26T05:00:00+01:00", "region": "us-east-1",
                      "resources": [], "detail": {"customer": "ann", "total": 3}});
    let mapping = json!({"eventSource": {"envelope": "/source"}, "eventName": {"envelope": "/detail-type"},
                         "userIdentity.type": {"const": "Customer"}, "userIdentity.principalId": {"path": "/customer"},
                         "keepPayload": "requestParameters"});
    let answer =
        forward(&mapped_forwarder(&stand_in, mapping), records(vec![sqs_record("m-1", &body.to_string())]))
            .await;

    assert_eq!(reported(&answer), Vec::<String>::new());
    let stored: Value = serde_json::from_str(&stand_in.stored()[0].event_data).unwrap();
    assert_eq!(
        stored,
        json!({"version": "1.0", "eventSource": "shop.orders", "eventName": "Order Placed",
               "userIdentity": {"type": "Customer", "principalId": "ann"}, "UID": "eb-7",
               "eventTime": "2026-11-26T04:00:00Z", "recipientAccountId": "123456789012",
               "requestParameters": {"customer": "ann", "total": 3}})
    );
}

#[tokio::test]
async fn a_producer_payload_with_some_event_bridge_field_names_is_mapped_as_it_is() {
    let stand_in = stand_in().await;
    let body = json!({"n": "OrderPlaced", "detail-type": "order", "detail": {"a": 1}});
    let mapping = json!({"eventSource": {"const": "shop"}, "eventName": {"path": "/n"},
                         "userIdentity.type": {"const": "T"}, "userIdentity.principalId": {"const": "p"},
                         "keepPayload": "additionalEventData"});
    let answer =
        forward(&mapped_forwarder(&stand_in, mapping), records(vec![sqs_record("m-1", &body.to_string())]))
            .await;

    assert_eq!(reported(&answer), Vec::<String>::new());
    let stored: Value = serde_json::from_str(&stand_in.stored()[0].event_data).unwrap();
    assert_eq!(stored["eventName"], "OrderPlaced");
    assert_eq!(stored["additionalEventData"], body);
}

#[tokio::test]
async fn each_kpl_user_record_is_an_event_named_by_sequence_number_and_index() {
    let stand_in = stand_in().await;
    let data = kpl_aggregate(&[audit_json("a").as_bytes(), audit_json("b").as_bytes()]);
    let answer =
        forward(&forwarder(&stand_in), records(vec![kinesis_record(&sequence_number(1), &data)])).await;

    assert_eq!(reported(&answer), Vec::<String>::new());
    let ids: Vec<String> = stand_in.stored().into_iter().map(|event| event.id).collect();
    assert_eq!(ids, [format!("{}-0", sequence_number(1)), format!("{}-1", sequence_number(1))]);
    assert_eq!(stand_in.stored()[1].event_data, audit_json("b"));
}

#[tokio::test]
async fn a_cloudwatch_control_message_is_done_and_sends_nothing() {
    let stand_in = stand_in().await;
    let control = gzip(br#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[]}"#);
    let answer =
        forward(&forwarder(&stand_in), records(vec![kinesis_record(&sequence_number(1), &control)])).await;

    assert_eq!(reported(&answer), Vec::<String>::new());
    assert_eq!(stand_in.requests().len(), 0);
}

#[tokio::test]
async fn sns_subscription_control_messages_are_done_and_send_nothing() {
    let stand_in = stand_in().await;
    // A mapping that would take any JSON object: a control message must not become an event.
    let mapping = json!({"eventSource": {"const": "s"}, "eventName": {"const": "n"},
                         "userIdentity.type": {"const": "T"}, "userIdentity.principalId": {"const": "p"}});
    let control = |kind: &str| {
        json!({"Type": kind, "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b", "Token": "2336412f37fb687f5d51e6e2425c464de",
               "TopicArn": "arn:aws:sns:us-east-1:123456789012:audit",
               "Message": "You have chosen to subscribe to the topic arn:aws:sns:us-east-1:123456789012:audit.",
               "SubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=2336412f37",
               "Timestamp": "2026-11-26T04:00:00.000Z", "SignatureVersion": "1", "Signature": "c2ln",
               "SigningCertURL": "https://sns.us-east-1.amazonaws.com/cert.pem"})
        .to_string()
    };
    let batch = records(vec![
        sqs_record("subscribe", &control("SubscriptionConfirmation")),
        sqs_record("unsubscribe", &control("UnsubscribeConfirmation")),
    ]);
    let answer = forward(&mapped_forwarder(&stand_in, mapping), batch).await;

    assert_eq!(reported(&answer), Vec::<String>::new());
    assert_eq!(stand_in.requests().len(), 0);
}

#[tokio::test]
async fn a_refused_log_event_reports_its_record_and_only_it_is_sent_again() {
    let stand_in = stand_in().await;
    let forwarder = forwarder(&stand_in);
    let events = log_events(0..3);
    stand_in.fail_event(&events[1].0, "InvalidData", 1);
    let batch = records(vec![
        kinesis_record(&sequence_number(1), &cloudwatch_logs_data("/app/audit", &events)),
        kinesis_record(&sequence_number(2), &cloudwatch_logs_data("/app/audit", &log_events(3..5))),
    ]);

    let answer = forward(&forwarder, batch.clone()).await;
    assert_eq!(reported(&answer), [sequence_number(1)]);
    assert_eq!(stand_in.stored().len(), 4);

    // Lambda delivers the shard again from the reported record: only the refused event goes.
    let requests_before = stand_in.requests().len();
    let answer = forward(&forwarder, batch).await;
    assert_eq!(reported(&answer), Vec::<String>::new());
    let again: Vec<Vec<String>> =
        stand_in.requests()[requests_before..].iter().map(|r| r.ids.clone()).collect();
    assert_eq!(again, [vec![events[1].0.clone()]]);
    let mut stored: Vec<String> = stand_in.stored().into_iter().map(|event| event.id).collect();
    stored.sort();
    assert_eq!(stored, log_events(0..5).into_iter().map(|(id, ..)| id).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_pinned_envelope_rejects_records_outside_it_and_sends_the_rest() {
    let stand_in = stand_in().await;
    let mut config = config(&stand_in);
    config.envelope = cloudtrail_lake_forwarder::prepare::envelope::EnvelopeSetting::parse("sns").unwrap();
    let sns = json!({"Type": "Notification", "MessageId": "n-1", "TopicArn": "arn:aws:sns:us-east-1:123456789012:t", "Message": audit_json("s")});
    let batch = records(vec![sqs_record("plain", &audit_json("p")), sqs_record("sns", &sns.to_string())]);
    let answer = forward(&forwarder_with(&stand_in, &config), batch).await;

    assert_eq!(reported(&answer), ["plain"]);
    assert_eq!(stand_in.stored().into_iter().map(|event| event.id).collect::<Vec<_>>(), ["sns"]);
}

#[tokio::test]
async fn records_past_the_invocations_event_bytes_wait_for_a_later_delivery_and_then_get_in() {
    // Four CloudWatch Logs records of 70 log events of 90 kB: 6.3 MB of events each, so the
    // third would carry the invocation to 18.9 MB, past the 16 MiB one invocation takes out of
    // its envelopes: it and the fourth wait.
    let stand_in = stand_in().await;
    let forwarder = forwarder(&stand_in);
    let record = |n: usize| {
        let events: Vec<(String, i64, String)> = (0..70)
            .map(|i| {
                (
                    format!("{:056}", n * 100 + i),
                    1_764_129_600_000,
                    audit_json_of_len(&format!("r{n}-{i}"), 90_000),
                )
            })
            .collect();
        kinesis_record(&sequence_number(n), &cloudwatch_logs_data("/app/audit", &events))
    };

    let (answer, summary) = forwarder
        .forward(incoming(records((1..=4).map(record).collect())), None)
        .await
        .expect("a readable batch");
    let summary = summary.expect("a batch with records");
    assert_eq!(reported(&answer), [sequence_number(3)], "the third record is left for later, not dropped");
    assert_eq!(stand_in.stored().len(), 2 * 70);
    let taken: usize = stand_in.stored().iter().map(|event| event.event_data.len()).sum();
    assert!(taken <= 16 * 1024 * 1024, "{taken} bytes of events taken");
    assert_eq!(
        (summary.ingested, summary.send.events_ingested),
        (2, 2 * 70),
        "records and events counted apart"
    );
    assert_eq!(summary.failures.get("OverBudget"), Some(&2));

    // Lambda resumes the shard at the reported record.
    let answer = forward(&forwarder, records(vec![record(3), record(4)])).await;
    assert_eq!(reported(&answer), Vec::<String>::new());
    assert_eq!(stand_in.stored().len(), 4 * 70);
}

//! S3 notifications as S3, SNS and EventBridge deliver them (shapes from the S3 user guide's
//! "Event message structure" and "Using EventBridge"), keys in S3's form encoding, and the
//! allowed objects setting.

use serde_json::{json, Value};

use super::*;

fn record(event_name: &str, key: &str) -> Value {
    json!({"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
           "eventTime": "2026-11-26T04:00:00.000Z", "eventName": event_name,
           "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"}, "requestParameters": {"sourceIPAddress": "192.0.2.1"},
           "s3": {"s3SchemaVersion": "1.0", "configurationId": "audit",
                  "bucket": {"name": "audit-logs", "arn": "arn:aws:s3:::audit-logs"},
                  "object": {"key": key, "size": 1024, "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                             "versionId": "3HL4kqtJlcpXroDTDmJ", "sequencer": "0055AED6DCD90281E5"}}})
}

fn notification(records: &[Value]) -> String {
    json!({"Records": records}).to_string()
}

fn sns(message: &str) -> String {
    json!({"Type": "Notification", "MessageId": "5f1c-22", "TopicArn": "arn:aws:sns:us-east-1:123456789012:s3",
           "Subject": "Amazon S3 Notification", "Message": message, "Timestamp": "2026-11-26T04:00:00.123Z",
           "SignatureVersion": "1", "Signature": "c2ln", "SigningCertURL": "https://x", "UnsubscribeURL": "https://y"})
    .to_string()
}

fn event_bridge(detail_type: &str, key: &str) -> String {
    json!({"version": "0", "id": "17793124-05d4-b198-2fde-7ededc63b103", "detail-type": detail_type,
           "source": "aws.s3", "account": "123456789012", "time": "2026-11-26T04:00:00Z", "region": "us-east-1",
           "resources": ["arn:aws:s3:::audit-logs"],
           "detail": {"version": "0", "bucket": {"name": "audit-logs"},
                      "object": {"key": key, "size": 5, "etag": "b1946ac92492d2347c6235b4d2611184",
                                 "version-id": "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e", "sequencer": "00617F08299329D189"},
                      "request-id": "N4N7GDK58NMKJ12R", "requester": "123456789012", "reason": "PutObject"}})
    .to_string()
}

fn objects(body: &str) -> Vec<ObjectRef> {
    let notification = read(body).expect("well formed").expect("a notification");
    let object = |entry: Entry| match entry {
        Entry::Object(object) => object,
        Entry::Acknowledge(why) => panic!("expected an object, got {why}"),
    };
    notification.entries.into_iter().map(object).collect()
}

fn problem(body: &str) -> Malformed {
    read(body).expect_err("malformed")
}

#[test]
fn keys_are_form_decoded_plus_first_then_percent() {
    let cases = [
        ("red+flower.jpg", "red flower.jpg"),
        ("a%2Bb", "a+b"),
        ("100%25+done", "100% done"),
        ("time%3A12%3A00", "time:12:00"),
        ("caf%C3%A9", "café"),
        ("%E6%97%A5%E6%9C%AC/log", "日本/log"),
        ("already/plain-key_1.json", "already/plain-key_1.json"),
        ("%2b%2B+", "++ "),
    ];
    for (encoded, decoded) in cases {
        assert_eq!(decode_key(encoded).as_deref(), Ok(decoded), "{encoded}");
        let body = notification(&[record("ObjectCreated:Put", encoded)]);
        assert_eq!(objects(&body)[0].key, decoded, "{encoded}");
    }
}

#[test]
fn a_key_that_does_not_decode_is_a_malformed_notification() {
    for key in ["50%", "50%2", "%zz", "a%+1"] {
        assert_eq!(decode_key(key), Err(Problem::BadKeyEncoding { key: key.into() }), "{key}");
    }
    assert_eq!(decode_key("%C3"), Err(Problem::KeyNotUtf8 { key: "%C3".into() }));
    let malformed =
        problem(&notification(&[record("ObjectCreated:Put", "ok"), record("ObjectCreated:Put", "%ff")]));
    assert_eq!(malformed.entry, Some(1));
    assert_eq!(
        malformed.to_string(),
        "the S3 event notification is malformed: Records[1] has the key \"%ff\", which does not decode to UTF-8"
    );
}

#[test]
fn every_record_of_a_notification_names_its_object() {
    let body = notification(&[
        record("ObjectCreated:Put", "a.json"),
        record("ObjectCreated:CompleteMultipartUpload", "b.json"),
    ]);
    let objects = objects(&body);
    assert_eq!(objects.len(), 2);
    assert_eq!(
        objects[0],
        ObjectRef {
            bucket: "audit-logs".into(),
            key: "a.json".into(),
            version_id: Some("3HL4kqtJlcpXroDTDmJ".into()),
            etag: Some("d41d8cd98f00b204e9800998ecf8427e".into()),
            size: Some(1024),
            sequencer: Some("0055AED6DCD90281E5".into()),
        }
    );
    assert_eq!(objects[1].key, "b.json");
    assert_eq!(objects[0].to_string(), "s3://audit-logs/a.json (version 3HL4kqtJlcpXroDTDmJ)");
}

#[test]
fn unknown_fields_and_newer_minor_versions_are_read_and_optional_fields_may_be_absent() {
    let mut entry = record("ObjectCreated:Copy", "k");
    entry["eventVersion"] = json!("2.3");
    entry["glacierEventData"] = json!({"x": 1});
    for field in ["versionId", "eTag", "size", "sequencer"] {
        entry["s3"]["object"].as_object_mut().unwrap().remove(field);
    }
    let object = &objects(&notification(&[entry]))[0];
    assert_eq!((object.version_id.as_ref(), object.etag.as_ref(), object.size), (None, None, None));
    assert_eq!(object.sequencer, None);
    // S3 writes the ETag bare; one that arrives quoted, as GetObject's header has it, stays so.
    let mut quoted = record("ObjectCreated:Put", "k");
    quoted["s3"]["object"]["eTag"] = json!("\"d41d8cd98f00b204e9800998ecf8427e\"");
    let etag = objects(&notification(&[quoted]))[0].etag.clone();
    assert_eq!(etag.as_deref(), Some("\"d41d8cd98f00b204e9800998ecf8427e\""));
}

#[test]
fn events_that_create_no_object_and_test_events_are_acknowledged() {
    let body = notification(&[record("ObjectRemoved:Delete", "a"), record("ObjectCreated:Post", "b")]);
    let entries = read(&body).unwrap().unwrap().entries;
    assert_eq!(
        entries[0],
        Entry::Acknowledge(Acknowledge::NotObjectCreated { event_name: "ObjectRemoved:Delete".into() })
    );
    assert!(matches!(&entries[1], Entry::Object(object) if object.key == "b"));

    let test_event = json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-11-26T04:00:00.000Z",
                            "Bucket": "audit-logs", "RequestId": "5582815E1AEA5ADF", "HostId": "8cLeGAmw098X5cv4Zkw"})
    .to_string();
    for (body, delivery) in [(test_event.clone(), Delivery::Direct), (sns(&test_event), Delivery::Sns)] {
        let expected = Notification { delivery, entries: vec![Entry::Acknowledge(Acknowledge::TestEvent)] };
        assert_eq!(read(&body), Ok(Some(expected)));
    }
}

#[test]
fn an_sns_notification_carries_the_s3_notification_in_its_message() {
    let inner = notification(&[record("ObjectCreated:Put", "dir/a+b.json")]);
    let notification = read(&sns(&inner)).unwrap().unwrap();
    assert_eq!(notification.delivery, Delivery::Sns);
    assert!(matches!(&notification.entries[0], Entry::Object(object) if object.key == "dir/a b.json"));
    // Raw message delivery on: the body is the notification itself.
    assert_eq!(read(&inner).unwrap().unwrap().delivery, Delivery::Direct);
    // An SNS notification about something else goes on to the record path.
    assert_eq!(read(&sns("{\"eventName\":\"x\"}")), Ok(None));
    let malformed = problem(&sns(&notification_with_version("3.0")));
    assert_eq!((malformed.delivery, malformed.entry), (Delivery::Sns, Some(0)));
}

fn notification_with_version(version: &str) -> String {
    let mut entry = record("ObjectCreated:Put", "k");
    entry["eventVersion"] = json!(version);
    notification(&[entry])
}

#[test]
fn an_event_bridge_object_created_event_names_its_object_decoded_the_same_way() {
    let object = &objects(&event_bridge("Object Created", "reports/q1+summary%2Bdraft.json"))[0];
    assert_eq!(object.key, "reports/q1 summary+draft.json");
    assert_eq!(object.version_id.as_deref(), Some("IYV3p45BT0ac8hjHg1houSdS1a.Mro8e"));
    assert_eq!(object.etag.as_deref(), Some("b1946ac92492d2347c6235b4d2611184"));
    assert_eq!((object.size, object.sequencer.as_deref()), (Some(5), Some("00617F08299329D189")));
    let deleted = read(&event_bridge("Object Deleted", "k")).unwrap().unwrap();
    let acknowledge = Acknowledge::NotObjectCreated { event_name: "Object Deleted".into() };
    assert_eq!(deleted.entries, [Entry::Acknowledge(acknowledge)]);
}

#[test]
fn malformed_notifications_name_the_entry_and_the_rule() {
    let mut no_bucket = record("ObjectCreated:Put", "k");
    no_bucket["s3"]["bucket"].as_object_mut().unwrap().remove("name");
    let mut bad_size = record("ObjectCreated:Put", "k");
    bad_size["s3"]["object"]["size"] = json!("1024");
    let mut no_version = record("ObjectCreated:Put", "k");
    no_version.as_object_mut().unwrap().remove("eventVersion");
    let mut foreign = record("ObjectCreated:Put", "k");
    foreign["eventSource"] = json!("aws:sqs");
    let mut no_key = record("ObjectCreated:Put", "");
    no_key["eventName"] = json!("ObjectCreated:Put");
    let cases = [
        (notification(&[no_bucket]), "Records[0] has no s3.bucket.name string"),
        (notification(&[bad_size]), "Records[0] has a s3.object.size that is not a whole number of bytes"),
        (notification(&[no_version]), "Records[0] has no eventVersion string"),
        (
            notification_with_version("3.0"),
            "Records[0] has eventVersion \"3.0\"; only major version 2 is known",
        ),
        (
            notification(&[record("ObjectCreated:Put", "k"), foreign]),
            "Records[1] has an eventSource other than aws:s3",
        ),
        (notification(&[no_key]), "Records[0] has no s3.object.key string"),
    ];
    for (body, message) in cases {
        let malformed = problem(&body);
        assert_eq!(malformed.to_string(), format!("the S3 event notification is malformed: {message}"));
        let rejection = Rejection::from(malformed.clone());
        assert_eq!(
            rejection,
            Rejection::BadEnvelope { envelope: "S3 event notification", problem: malformed.problem.rule() }
        );
    }
    let no_bucket = event_bridge("Object Created", "k").replace("\"name\":\"audit-logs\"", "\"nom\":1");
    assert_eq!(
        problem(&no_bucket).to_string(),
        "the EventBridge S3 event is malformed: it has no detail.bucket.name string"
    );
}

#[test]
fn bodies_without_every_mark_of_a_notification_go_on_to_the_record_path() {
    let cloudtrail_format = json!({"Records": [{"eventVersion": "1.08", "eventSource": "s3.amazonaws.com",
                                                 "eventName": "PutObject"}]});
    let not_s3 = [
        "not json".to_string(),
        "[1,2]".to_string(),
        r#"{"eventName":"ObjectCreated:Put","s3":{}}"#.to_string(),
        cloudtrail_format.to_string(),
        r#"{"Records":[]}"#.to_string(),
        r#"{"Records":"aws:s3"}"#.to_string(),
        r#"{"Service":"Amazon S3","Event":"s3:Other"}"#.to_string(),
        event_bridge("Object Created", "k").replace("aws.s3", "shop.orders"),
        event_bridge("Object Created", "k")
            .replace("\"detail\":{", "\"detail\":[{")
            .replace("\"PutObject\"}", "\"PutObject\"}]"),
        sns("not json"),
    ];
    for body in not_s3 {
        assert_eq!(read(&body), Ok(None), "{body}");
    }
}

#[test]
fn allowed_objects_are_buckets_with_optional_prefixes() {
    let allowed = AllowedObjects::parse(" audit-logs , github.audit-1/stream/ ,logs.example/a").unwrap();
    assert_eq!(allowed.to_string(), "audit-logs,github.audit-1/stream/,logs.example/a");
    let object = |bucket: &str, key: &str| ObjectRef {
        bucket: bucket.into(),
        key: key.into(),
        version_id: None,
        etag: None,
        size: None,
        sequencer: None,
    };
    let cases = [
        ("audit-logs", "anything/at/all.json", true),
        ("github.audit-1", "stream/2026/01/x.json.gz", true),
        ("github.audit-1", "streams/x.json.gz", false),
        ("github.audit-1", "other/stream/x", false),
        ("logs.example", "a", true),
        ("logs.example", "ab/c", true),
        ("audit-logs-2", "x", false),
        ("Audit-Logs", "x", false),
    ];
    for (bucket, key, allows) in cases {
        assert_eq!(allowed.allows(&object(bucket, key)), allows, "{bucket}/{key}");
    }
}

#[test]
fn an_allowed_objects_setting_that_cannot_be_read_says_which_entry_and_why() {
    let cases = [
        ("", "the allowed objects setting names no bucket: give bucket names, each optionally followed by /prefix, separated by commas"),
        ("a-bucket,,b-bucket", "entry 2 of the allowed objects setting is empty: remove the extra comma"),
        ("a-bucket,", "entry 2 of the allowed objects setting is empty: remove the extra comma"),
        ("ab", "\"ab\" in the allowed objects setting does not start with a bucket name: a bucket name has 3 to 63 characters"),
        ("Audit-Logs/x", "\"Audit-Logs/x\" in the allowed objects setting does not start with a bucket name: a bucket name has only lowercase letters, digits, dots and hyphens"),
        ("s3://audit-logs/x", "\"s3://audit-logs/x\" in the allowed objects setting does not start with a bucket name: give the bucket name itself, not an s3:// address or an ARN"),
        (&"a".repeat(64), "a bucket name has 3 to 63 characters"),
    ];
    for (setting, message) in cases {
        let error = setting.parse::<AllowedObjects>().expect_err(setting).to_string();
        assert!(error.ends_with(message), "{setting}: {error}");
    }
    assert!(AllowedObjects::parse(&"a".repeat(63)).is_ok());
}

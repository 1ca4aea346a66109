//! What S3 sends when objects are created: the event notification (the SQS message body, or
//! the SNS `Message`) that tells the forwarder which object to read, written from the versions
//! the stand-in holds so a test's event names exactly what the stand-in serves.
//!
//! The shape and the key's encoding are SERVICE.md's ("Files in S3"): `eventVersion` 2.1,
//! `eventName` `ObjectCreated:Put` without the `s3:` prefix, `size` a number, `eTag` without
//! quotes, `versionId` only for versioned buckets, and the key form-encoded: a space is `+`,
//! `+` is `%2B`, `:` is `%3A`. The stand-in also keeps `/` and RFC 3986's unreserved
//! characters as they are and percent-encodes every other byte (UTF-8 included), an
//! assumption for the characters SERVICE.md does not list.

use serde_json::{json, Value};

use super::{ObjectVersion, REGION};

/// A key as an event notification carries it.
pub fn notification_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for byte in key.bytes() {
        match byte {
            b' ' => out.push('+'),
            b'/' | b'-' | b'_' | b'.' | b'~' => out.push(byte as char),
            _ if byte.is_ascii_alphanumeric() => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The notification S3 sends for `objects` created by `PutObject`, one record each, in order.
pub fn event_notification<'a>(objects: impl IntoIterator<Item = &'a ObjectVersion>) -> Value {
    let records: Vec<Value> = objects
        .into_iter()
        .enumerate()
        .map(|(i, object)| {
            let mut described = json!({
                "key": notification_key(&object.key),
                "size": object.size,
                "eTag": object.etag_unquoted(),
                "sequencer": format!("0065A1B2C3D4E5F6{i:02X}"),
            });
            if let Some(version_id) = &object.version_id {
                described["versionId"] = json!(version_id);
            }
            json!({
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventTime": "2026-11-26T09:30:00.000Z",
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
                "requestParameters": {"sourceIPAddress": "192.0.2.10"},
                "responseElements": {"x-amz-request-id": "S3STANDIN0000000", "x-amz-id-2": "stand-in"},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "audit-files",
                    "bucket": {
                        "name": object.bucket,
                        "ownerIdentity": {"principalId": "AEXAMPLE"},
                        "arn": format!("arn:aws:s3:::{}", object.bucket),
                    },
                    "object": described,
                },
            })
        })
        .collect();
    json!({"Records": records})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_form_encoded_as_s3_writes_them() {
        assert_eq!(notification_key("red flower.jpg"), "red+flower.jpg");
        assert_eq!(notification_key("2026/11/a+b:c.json.gz"), "2026/11/a%2Bb%3Ac.json.gz");
        assert_eq!(notification_key("日本/é 1.log"), "%E6%97%A5%E6%9C%AC/%C3%A9+1.log");
        assert_eq!(notification_key("100%.txt"), "100%25.txt");
    }

    #[test]
    fn a_record_names_the_version_and_etag_put() {
        let object = ObjectVersion {
            bucket: "audit".into(),
            key: "a b.json".into(),
            etag: "\"abc\"".into(),
            version_id: Some("v.1_x".into()),
            size: 42,
        };
        let event = event_notification([&object]);
        let s3 = &event["Records"][0]["s3"];
        assert_eq!(s3["bucket"]["name"], "audit");
        assert_eq!(
            s3["object"],
            json!({"key": "a+b.json", "size": 42, "eTag": "abc", "versionId": "v.1_x", "sequencer": "0065A1B2C3D4E5F600"})
        );
        assert_eq!(event["Records"][0]["eventName"], "ObjectCreated:Put");
    }
}

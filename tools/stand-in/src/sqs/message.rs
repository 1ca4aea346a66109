//! A `SendMessage` call as SQS judges it, and the message it keeps: the rules a sender can
//! break (body size and characters, the delay, FIFO's group and deduplication ids), the MD5
//! the answer carries, and the message as it comes back in a Lambda SQS event.
//!
//! Rules, from the SQS developer guide ("Quotas related to messages", `SendMessage`): a body of
//! 1 byte to 1 MiB (raised from 256 KiB in 2025) of XML-safe Unicode; `DelaySeconds` 0 to 900
//! and not per message on FIFO queues; FIFO queues need `MessageGroupId` and, without
//! content-based deduplication (off by default), `MessageDeduplicationId`; standard queues
//! take no deduplication id.

use std::time::{SystemTime, UNIX_EPOCH};

use md5::{Digest, Md5};
use serde_json::{json, Value};

use super::error::SqsError;
use crate::sigv4::hex;

/// The most bytes in a message body.
pub const MAX_MESSAGE_BYTES: usize = 1_048_576;
/// The longest a message can be delayed, in seconds.
pub const MAX_DELAY_SECONDS: i64 = 900;

/// A message the stand-in accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    pub message_id: String,
    /// The `QueueUrl` as sent.
    pub queue_url: String,
    /// The queue's name, the URL's last segment.
    pub queue_name: String,
    pub body: String,
    pub delay_seconds: Option<i64>,
    pub message_group_id: Option<String>,
    pub message_deduplication_id: Option<String>,
    /// Hex MD5 of the body's UTF-8 bytes, as answered in `MD5OfMessageBody`.
    pub md5_of_body: String,
    /// FIFO queues only: the message's place in its queue, a decimal string.
    pub sequence_number: Option<String>,
    /// `MessageAttributes` as sent (JSON), `Null` when there were none.
    pub message_attributes: Value,
    /// Epoch milliseconds.
    pub sent_timestamp_ms: u64,
}

/// The `MD5OfMessageBody` of a body: hex MD5 of its UTF-8 bytes.
pub fn md5_of_body(body: &str) -> String {
    hex(&Md5::digest(body.as_bytes()))
}

/// The parameters of a `SendMessage` body the stand-in reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendMessageInput {
    pub queue_url: String,
    pub body: String,
    pub delay_seconds: Option<i64>,
    pub message_group_id: Option<String>,
    pub message_deduplication_id: Option<String>,
    pub message_attributes: Value,
}

impl SendMessageInput {
    /// Reads the JSON body; a missing `QueueUrl` or `MessageBody` is `MissingParameter`.
    pub fn parse(body: &[u8]) -> Result<SendMessageInput, SqsError> {
        let input: Value = serde_json::from_slice(body)
            .map_err(|_| SqsError::InvalidParameterValue("the request body is not JSON".into()))?;
        let text = |name: &str| input.get(name).and_then(Value::as_str).map(str::to_owned);
        Ok(SendMessageInput {
            queue_url: text("QueueUrl").ok_or_else(|| SqsError::MissingParameter("QueueUrl".into()))?,
            body: text("MessageBody").ok_or_else(|| SqsError::MissingParameter("MessageBody".into()))?,
            delay_seconds: input.get("DelaySeconds").and_then(Value::as_i64),
            message_group_id: text("MessageGroupId"),
            message_deduplication_id: text("MessageDeduplicationId"),
            message_attributes: input.get("MessageAttributes").cloned().unwrap_or(Value::Null),
        })
    }

    /// The queue's name: the last segment of its URL (`…/123456789012/name`).
    pub fn queue_name(&self) -> &str {
        self.queue_url.trim_end_matches('/').rsplit('/').next().unwrap_or_default()
    }

    /// SQS's checks of the message for a queue, FIFO or not.
    pub fn check(&self, fifo: bool) -> Result<(), SqsError> {
        if self.body.is_empty() || self.body.len() > MAX_MESSAGE_BYTES {
            return Err(SqsError::InvalidParameterValue(format!(
                "Message must be between 1 and {MAX_MESSAGE_BYTES} bytes long."
            )));
        }
        if !self.body.chars().all(allowed) {
            return Err(SqsError::InvalidMessageContents);
        }
        if let Some(delay) = self.delay_seconds {
            if !(0..=MAX_DELAY_SECONDS).contains(&delay) {
                return Err(SqsError::InvalidParameterValue(format!(
                    "Value {delay} for parameter DelaySeconds is invalid. Reason: must be between 0 and 900."
                )));
            }
            if fifo && delay != 0 {
                return Err(SqsError::InvalidParameterValue(
                    "The request include parameter that is not valid for this queue type".into(),
                ));
            }
        }
        match (fifo, &self.message_group_id, &self.message_deduplication_id) {
            (true, None, _) => Err(SqsError::MissingParameter("MessageGroupId".into())),
            (true, Some(_), None) => Err(SqsError::InvalidParameterValue(
                "The queue should either have ContentBasedDeduplication enabled or \
                 MessageDeduplicationId provided explicitly"
                    .into(),
            )),
            (false, _, Some(_)) => Err(SqsError::InvalidParameterValue(
                "The request include parameter that is not valid for this queue type".into(),
            )),
            _ => Ok(()),
        }
    }
}

/// The characters a message may hold (XML 1.0's).
fn allowed(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

impl SentMessage {
    /// The queue's ARN, in the stand-in's account and Region.
    pub fn queue_arn(&self) -> String {
        format!("arn:aws:sqs:{}:{}:{}", super::REGION, super::ACCOUNT_ID, self.queue_name)
    }

    /// The message as a record of the Lambda SQS event that delivers it (first receive), so a
    /// test can hand what the function sent back to the function.
    pub fn lambda_record(&self) -> Value {
        let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_millis() as u64);
        let mut attributes = json!({
            "ApproximateReceiveCount": "1",
            "SentTimestamp": self.sent_timestamp_ms.to_string(),
            "SenderId": "AROAIWPX5BD2BHG722MW4:cloudtrail-lake-forwarder",
            "ApproximateFirstReceiveTimestamp": now_ms.max(self.sent_timestamp_ms).to_string(),
        });
        for (name, value) in [
            ("SequenceNumber", &self.sequence_number),
            ("MessageGroupId", &self.message_group_id),
            ("MessageDeduplicationId", &self.message_deduplication_id),
        ] {
            if let Some(value) = value {
                attributes[name] = json!(value);
            }
        }
        json!({
            "messageId": self.message_id,
            "receiptHandle": format!("{}#1", self.message_id),
            "body": self.body,
            "attributes": attributes,
            "messageAttributes": {},
            "md5OfBody": self.md5_of_body,
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn(),
            "awsRegion": super::REGION,
        })
    }
}

/// A Lambda SQS event delivering `messages`, in order.
pub fn lambda_event<'a>(messages: impl IntoIterator<Item = &'a SentMessage>) -> Value {
    json!({"Records": messages.into_iter().map(SentMessage::lambda_record).collect::<Vec<_>>()})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(body: &str) -> SendMessageInput {
        SendMessageInput {
            queue_url: "http://127.0.0.1:1/123456789012/q".into(),
            body: body.into(),
            delay_seconds: None,
            message_group_id: None,
            message_deduplication_id: None,
            message_attributes: Value::Null,
        }
    }

    #[test]
    fn the_md5_of_a_body_is_the_hex_md5_of_its_utf8_bytes() {
        // `printf %s '{"bucket":"b","offset":1024}' | md5sum`, and the MD5 of "é" (c3 a9).
        assert_eq!(md5_of_body(r#"{"bucket":"b","offset":1024}"#), "ba73728577a2f542c89627ad34870c1b");
        assert_eq!(md5_of_body("é"), "66ddcd97cfdeabb2f6fb8a999b4bc76f");
    }

    #[test]
    fn parse_reads_what_the_sdk_sends() {
        let body = br#"{"QueueUrl":"http://h/123456789012/q.fifo","MessageBody":"x","DelaySeconds":0,
            "MessageGroupId":"g","MessageDeduplicationId":"d"}"#;
        let input = SendMessageInput::parse(body).unwrap();
        assert_eq!(input.queue_name(), "q.fifo");
        assert_eq!(
            (
                input.delay_seconds,
                input.message_group_id.as_deref(),
                input.message_deduplication_id.as_deref()
            ),
            (Some(0), Some("g"), Some("d"))
        );
        assert_eq!(
            SendMessageInput::parse(br#"{"QueueUrl":"u"}"#).unwrap_err(),
            SqsError::MissingParameter("MessageBody".into())
        );
    }

    #[test]
    fn bodies_are_checked_for_size_and_characters() {
        assert!(input("ok \u{1F600}").check(false).is_ok());
        assert!(input("").check(false).is_err());
        assert!(input(&"x".repeat(MAX_MESSAGE_BYTES)).check(false).is_ok());
        assert!(input(&"x".repeat(MAX_MESSAGE_BYTES + 1)).check(false).is_err());
        assert_eq!(input("a\u{0}b").check(false).unwrap_err(), SqsError::InvalidMessageContents);
    }

    #[test]
    fn fifo_queues_need_a_group_and_a_deduplication_id_and_no_delay() {
        let mut message = input("x");
        assert_eq!(message.check(true).unwrap_err(), SqsError::MissingParameter("MessageGroupId".into()));
        message.message_group_id = Some("g".into());
        assert!(message.check(true).is_err(), "no deduplication id");
        message.message_deduplication_id = Some("d".into());
        assert!(message.check(true).is_ok());
        message.delay_seconds = Some(5);
        assert!(message.check(true).is_err(), "a per-message delay");
        assert!(message.check(false).is_err(), "a deduplication id on a standard queue");
    }

    #[test]
    fn delays_run_from_0_to_900_seconds() {
        let mut message = input("x");
        for (delay, valid) in [(0, true), (900, true), (901, false), (-1, false)] {
            message.delay_seconds = Some(delay);
            assert_eq!(message.check(false).is_ok(), valid, "{delay}");
        }
    }

    #[test]
    fn a_sent_message_comes_back_as_a_lambda_record() {
        let sent = SentMessage {
            message_id: "m-1".into(),
            queue_url: "http://127.0.0.1:1/123456789012/q.fifo".into(),
            queue_name: "q.fifo".into(),
            body: "{}".into(),
            delay_seconds: None,
            message_group_id: Some("g".into()),
            message_deduplication_id: Some("d".into()),
            md5_of_body: md5_of_body("{}"),
            sequence_number: Some("18800000000000000001".into()),
            message_attributes: Value::Null,
            sent_timestamp_ms: 1,
        };
        let event = lambda_event([&sent]);
        let record = &event["Records"][0];
        assert_eq!(record["messageId"], "m-1");
        assert_eq!(record["body"], "{}");
        assert_eq!(record["md5OfBody"], "99914b932bd37a50b983c5e7c90ae93b");
        assert_eq!(record["eventSourceARN"], "arn:aws:sqs:us-east-1:123456789012:q.fifo");
        assert_eq!(record["attributes"]["MessageGroupId"], "g");
    }
}

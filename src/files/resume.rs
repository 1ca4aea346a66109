//! Continuing an object that one invocation cannot finish: a continuation message, sent to the
//! queue the notification came from, that names the objects left and where the first one
//! resumes.
//!
//! The message is sent only after every event before its resume point was confirmed (or
//! rejected for good), and the message that named the object is answered done only once the
//! continuation was accepted by SQS: so nothing is lost, and nothing confirmed is sent again.
//! Events sent after the resume point whose outcome is known are listed (`alsoDone`) and
//! skipped; only events whose outcome was unknown (a request cut off by the deadline) can be
//! stored twice. The state travels in the message itself, so any execution environment, in
//! any process, continues where another stopped, and a fresh message resets the receive count:
//! an object that keeps making progress never reaches the dead-letter queue, one that makes
//! none (a read that always fails) does, with its resume point in its body.
//!
//! If SQS does not take the continuation, the message that named the object is reported and
//! comes back whole: the events already confirmed are sent again (recognised by their ids,
//! which are the same on every delivery), never lost.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::lambda::s3::ObjectRef;

/// The marker field of a continuation message, and its value.
pub const MARKER: &str = "cloudtrailLakeForwarder";
pub const MARKER_VALUE: &str = "continuation";

/// Where the objects of a message stand: the objects left, and how far the first one got.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resume {
    /// Items of the first object before this ordinal are done.
    pub at: u64,
    /// Items after `at` that are done too, ascending.
    pub also_done: Vec<u64>,
}

impl Resume {
    /// Whether the item with this ordinal was already done.
    pub fn done(&self, ordinal: u64) -> bool {
        ordinal < self.at || self.also_done.binary_search(&ordinal).is_ok()
    }
}

/// A continuation message's body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Continuation {
    #[serde(rename = "cloudtrailLakeForwarder")]
    pub marker: String,
    pub version: u32,
    pub objects: Vec<ObjectState>,
    pub resume_at: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_done: Vec<u64>,
}

/// An object as a continuation names it: its key decoded, not form-encoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectState {
    pub bucket: String,
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e_tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

impl Continuation {
    /// The continuation of `objects` (the first resumes at `resume`).
    pub fn new(objects: &[ObjectRef], resume: &Resume) -> Continuation {
        Continuation {
            marker: MARKER_VALUE.to_owned(),
            version: 1,
            objects: objects.iter().map(ObjectState::from).collect(),
            resume_at: resume.at,
            also_done: resume.also_done.clone(),
        }
    }

    /// Reads a message body as a continuation: `None` when it is not one.
    pub fn read(body: &str) -> Option<Result<Continuation, String>> {
        // Cheap test first: most bodies are audit events, not continuations.
        if !body.contains(MARKER) {
            return None;
        }
        let value: serde_json::Value = serde_json::from_str(body).ok()?;
        if value.get(MARKER)?.as_str()? != MARKER_VALUE {
            return None;
        }
        Some(match serde_json::from_value::<Continuation>(value) {
            Ok(continuation) if continuation.version == 1 && !continuation.objects.is_empty() => {
                Ok(continuation)
            }
            Ok(_) => Err("a continuation message of an unknown version, or naming no object".to_owned()),
            Err(error) => Err(format!("a continuation message that is malformed: {error}")),
        })
    }

    pub fn objects(&self) -> Vec<ObjectRef> {
        self.objects.iter().map(ObjectRef::from).collect()
    }

    pub fn resume(&self) -> Resume {
        let mut also_done = self.also_done.clone();
        also_done.sort_unstable();
        also_done.dedup();
        Resume { at: self.resume_at, also_done }
    }

    pub fn body(&self) -> String {
        serde_json::to_string(self).expect("a continuation is plain data")
    }

    /// A deduplication id for a FIFO queue: the same continuation is the same message.
    pub fn deduplication_id(&self) -> String {
        let digest = Sha256::digest(self.body().as_bytes());
        digest.iter().take(32).map(|byte| format!("{byte:02x}")).collect()
    }
}

impl From<&ObjectRef> for ObjectState {
    fn from(object: &ObjectRef) -> ObjectState {
        ObjectState {
            bucket: object.bucket.clone(),
            key: object.key.clone(),
            version_id: object.version_id.clone(),
            e_tag: object.etag.clone(),
            size: object.size,
        }
    }
}

impl From<&ObjectState> for ObjectRef {
    fn from(state: &ObjectState) -> ObjectRef {
        ObjectRef {
            bucket: state.bucket.clone(),
            key: state.key.clone(),
            version_id: state.version_id.clone(),
            etag: state.e_tag.clone(),
            size: state.size,
            sequencer: None,
        }
    }
}

/// The URL of the queue named by an `eventSourceARN` (`arn:aws:sqs:REGION:ACCOUNT:NAME`), as
/// `SendMessage` takes it; `None` when the ARN is not a queue's.
pub fn queue_url(event_source_arn: &str) -> Option<String> {
    let mut parts = event_source_arn.splitn(6, ':');
    let (arn, partition, service, region, account, name) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if arn != "arn" || service != "sqs" || region.is_empty() || account.is_empty() || name.is_empty() {
        return None;
    }
    let domain = match partition {
        "aws-cn" => "amazonaws.com.cn",
        _ => "amazonaws.com",
    };
    Some(format!("https://sqs.{region}.{domain}/{account}/{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(key: &str) -> ObjectRef {
        ObjectRef {
            bucket: "audit-logs".into(),
            key: key.into(),
            version_id: None,
            etag: Some("0123abcd".into()),
            size: Some(10),
            sequencer: None,
        }
    }

    #[test]
    fn a_continuation_reads_back_as_it_was_written() {
        let resume = Resume { at: 1_200, also_done: vec![1_203, 1_250] };
        let continuation = Continuation::new(&[object("2026/a b+c.json.gz"), object("x")], &resume);
        let read = Continuation::read(&continuation.body()).unwrap().unwrap();
        assert_eq!(read, continuation);
        assert_eq!(read.resume(), resume);
        assert_eq!(read.objects(), [object("2026/a b+c.json.gz"), object("x")]);
        assert!(resume.done(1_199) && !resume.done(1_200) && resume.done(1_203) && !resume.done(1_204));
    }

    #[test]
    fn only_a_marked_body_is_a_continuation() {
        assert_eq!(Continuation::read(r#"{"eventName": "x"}"#), None);
        assert_eq!(Continuation::read(r#"{"cloudtrailLakeForwarder": "other"}"#), None);
        let broken = Continuation::read(r#"{"cloudtrailLakeForwarder": "continuation", "version": 1}"#);
        assert!(broken.unwrap().is_err());
        let empty = r#"{"cloudtrailLakeForwarder":"continuation","version":1,"objects":[],"resumeAt":0}"#;
        assert!(Continuation::read(empty).unwrap().is_err());
    }

    #[test]
    fn a_queue_arn_gives_its_url() {
        assert_eq!(
            queue_url("arn:aws:sqs:eu-west-1:123456789012:audit-queue").as_deref(),
            Some("https://sqs.eu-west-1.amazonaws.com/123456789012/audit-queue")
        );
        assert_eq!(queue_url("arn:aws:kinesis:eu-west-1:123456789012:stream/s"), None);
        assert_eq!(queue_url("not an arn"), None);
    }
}

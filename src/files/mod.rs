//! The files stage: S3 objects named by S3 event notifications ([`crate::lambda::s3`]) are read
//! into events. An object streams from S3 in chunks and [`decode`] turns it into items, one
//! event's JSON text each, with a position that is the same on every delivery; from there each
//! item goes the way of a record's payload (schema check or mapping), and its position gives an
//! event without an id of its own a stable one.

pub mod decode;
pub mod fetch;
pub mod ingest;
pub mod resume;

use crate::lambda::s3::{self, AllowedObjects, Entry};
use crate::lambda::{Payload, Record};
use crate::rejection::Rejection;
use ingest::Work;
use resume::{Continuation, Resume};

/// The clients and the setting the files stage reads objects with.
#[derive(Debug, Clone)]
pub struct Files {
    pub s3: aws_sdk_s3::Client,
    pub sqs: aws_sdk_sqs::Client,
    /// `S3_OBJECTS`: the only buckets and prefixes read.
    pub allowed: AllowedObjects,
}

impl Files {
    /// What a record asks of the files stage: `None` when its body is neither an S3
    /// notification nor a continuation, and it goes the way of any record.
    pub fn work_of(&self, record: &Record) -> Option<Result<Work, Rejection>> {
        let Ok(Payload::Text(body)) = &record.payload else {
            return None;
        };
        if let Some(continuation) = Continuation::read(body) {
            let continuation = match continuation {
                Ok(continuation) => continuation,
                Err(problem) => {
                    tracing::warn!(record = record.label(), %problem, "continuation message not read");
                    return Some(Err(Rejection::BadEnvelope {
                        envelope: "continuation message",
                        problem: "it does not follow the format this version writes",
                    }));
                }
            };
            let objects = continuation.objects();
            return Some(
                self.allowed(record, &objects).map(|()| Work { objects, resume: continuation.resume() }),
            );
        }
        let notification = match s3::read(body) {
            Ok(None) => return None,
            Ok(Some(notification)) => notification,
            Err(malformed) => {
                tracing::warn!(record = record.label(), reason = %malformed, "S3 notification not read");
                return Some(Err(malformed.into()));
            }
        };
        let mut objects = Vec::new();
        for entry in notification.entries {
            match entry {
                Entry::Object(object) => objects.push(object),
                Entry::Acknowledge(why) => {
                    tracing::info!(record = record.label(), reason = %why, "S3 notification entry: nothing to read")
                }
            }
        }
        Some(self.allowed(record, &objects).map(|()| Work { objects, resume: Resume::default() }))
    }

    /// Refuses a message naming any object outside `S3_OBJECTS`, naming each: none of its
    /// objects is read, so a half-allowed message is not read in part again and again.
    fn allowed(&self, record: &Record, objects: &[s3::ObjectRef]) -> Result<(), Rejection> {
        let refused: Vec<_> = objects.iter().filter(|object| !self.allowed.allows(object)).collect();
        for object in &refused {
            tracing::warn!(record = record.label(), object = %object, allowed = %self.allowed,
                "S3 object outside S3_OBJECTS: not read");
        }
        if refused.is_empty() {
            Ok(())
        } else {
            Err(Rejection::ObjectNotAllowed)
        }
    }
}

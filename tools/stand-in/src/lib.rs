//! Local stand-ins for what the forwarder talks to, for its tests and local runs; none of this
//! is part of the Lambda binary.
//!
//! - [`cloudtrail`]: CloudTrail Data's `PutAuditEvents` on 127.0.0.1, checking requests as the
//!   service does and failing on command.
//! - [`quota`]: the account-wide request quota, a token bucket every connection draws from.
//! - [`s3`]: S3's `GetObject` on 127.0.0.1: versions, ranges, `If-Match`, generated objects
//!   of gigabytes streamed without holding them, S3's errors, scripted faults.
//! - [`sqs`]: SQS's `SendMessage` on 127.0.0.1, keeping what it is sent for a test to deliver
//!   back to the function.
//! - [`script`]: the scripted faults of those two: which requests meet what, how many times.
//! - [`runtime_api`]: the Lambda Runtime API, to drive the real function binary.
//! - [`fleet`]: a shared SQS queue and a fleet of function processes draining it through one
//!   throttled stand-in, and the report of what arrived; for the fleet benchmark and its test.
//! - [`fixtures`]: a Lambda-like environment pointed at the stand-ins, and sample events.
//! - [`http`]: the small HTTP/1.1 they all speak.
//! - [`sigv4`]: SigV4 signature verification.

pub mod cloudtrail;
pub mod fixtures;
pub mod fleet;
pub mod http;
pub mod machine;
pub mod quota;
pub mod runtime_api;
pub mod s3;
pub mod script;
pub mod sigv4;
pub mod sqs;

pub use cloudtrail::{Chaos, Fault, FaultsMet, Settings, StandIn, StoredEvent};
pub use quota::Quota;
pub use runtime_api::{InvocationResult, RuntimeApi};
pub use s3::{ObjectBody, ObjectVersion, S3Error, S3Fault, S3StandIn};
pub use sqs::{SentMessage, SqsError, SqsFault, SqsStandIn};

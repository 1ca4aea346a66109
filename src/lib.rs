//! A Lambda function that forwards SQS and Kinesis records to AWS CloudTrail Lake as audit
//! events, and answers Lambda with exactly the records that did not make it.
//!
//! The crate is one pipeline, and each stage has a room of its own:
//!
//! ```text
//! Lambda event ─▶ records ─▶ envelope ─▶ schema or mapping ─▶ plan ─▶ send ─▶ answer
//!  lambda/        lambda/    prepare/    prepare/             send/   send/   lambda/answer
//! ```
//!
//! - [`config`]: environment variables → [`config::Config`], read once at cold start.
//! - [`logging`]: the log subscriber, with every other crate capped so no level leaks content.
//! - [`forwarder`]: [`Forwarder`], one invocation as a few named steps, and the state kept
//!   between invocations.
//! - [`lambda`]: what Lambda hands over and wants back: the event read loosely, one file per
//!   source, the source's ordering rules, and the partial batch answer.
//! - [`files`]: S3 objects named by notifications → their events, decoded as they stream.
//! - [`prepare`]: a record → its audit events: envelope, then the schema check or the mapping,
//!   within the invocation's budget.
//! - [`event`]: the audit event (`id`, `eventData`, checksum); [`rejection`]: why a record or
//!   event is not sent.
//! - [`outcome`]: what became of each event, folded back into one outcome per record.
//! - [`deadline`]: when preparing and sending must stop so that the answer is never late.
//! - [`dedupe`]: the events this process saw ingested, and copies within one batch.
//! - [`send`]: audit events → `PutAuditEvents` requests (≤ 100 events, ≤ 1 MB), paced by the
//!   account's quota, retried and split until the deadline; the only network I/O.
//! - [`report`]: the summary log line, a WARN line per reported record, the EMF metrics.

pub mod config;
pub mod deadline;
pub mod dedupe;
pub mod event;
pub mod files;
pub mod forwarder;
pub mod lambda;
pub mod logging;
pub mod outcome;
pub mod prepare;
pub mod rejection;
pub mod report;
pub mod send;

pub use forwarder::Forwarder;
pub use lambda::answer::Answer;
pub use report::Summary;

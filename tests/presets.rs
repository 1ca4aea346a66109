//! The presets for third-party audit logs (`EVENT_MAPPING=preset:NAME`) on real-shaped events
//! (`tests/fixtures/<source>/`), end to end: each fixture arrives as its source delivers it
//! (an EventBridge event in an SQS message for Okta, an S3 object named by an S3 notification
//! for the file sources), goes through `Forwarder::forward` with the real SDK clients against
//! the CloudTrail Data, S3 and SQS stand-ins, and the stand-in stores exactly the audit event in
//! `<case>.expected.json`: its `id`, and its `eventData` (the original, kept whole as
//! `requestParameters`, is checked byte for byte against the fixture and not repeated there).

mod common;
#[path = "presets/harness.rs"]
mod harness;

#[path = "presets/azure_activity.rs"]
mod azure_activity;
#[path = "presets/cloudtrail.rs"]
mod cloudtrail;
#[path = "presets/entra.rs"]
mod entra;
#[path = "presets/gcp_audit.rs"]
mod gcp_audit;
#[path = "presets/okta.rs"]
mod okta;

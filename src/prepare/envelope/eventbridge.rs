//! EventBridge → SQS: the body is the event bus's event, `"version": "0"` with `id`,
//! `detail-type`, `source`, `account` and `time` strings, whose `detail` object is the event.

use std::sync::Arc;

use serde_json::Value;

use super::{fields_of, text, Envelope, InnerEvent, Members, Unwrapped};

/// Takes the `detail` out of `members` when they bear every mark of an EventBridge event; leaves
/// them as they are otherwise.
pub(super) fn take(members: &mut Members<'_>) -> Option<Unwrapped> {
    let texts = |keys: &[&str]| keys.iter().all(|key| text(members, key).is_some());
    let is_object = members.get("detail").is_some_and(|raw| raw.get().starts_with('{'));
    if text(members, "version").as_deref() != Some("0")
        || !texts(&["id", "detail-type", "source", "account", "time"])
        || !is_object
    {
        return None;
    }
    // The detail's own text: a detail that is a schema event is sent unchanged.
    let detail = members.remove("detail")?.get().to_owned();
    let fields = fields_of(std::mem::take(members));
    let source_id = fields.get("id").and_then(Value::as_str).map(str::to_owned);
    let time = fields.get("time").cloned();
    let events = vec![InnerEvent::single(detail, source_id, time)];
    Some(Unwrapped { envelope: Envelope::EventBridge, fields: Arc::new(fields), events })
}

//! SNS → SQS with raw message delivery off: the body is a notification, `"Type":
//! "Notification"` with `TopicArn` and `MessageId` strings, whose `Message` string is the
//! published event. A subscription or unsubscription confirmation is SNS control traffic, like
//! CloudWatch Logs' control message: it holds no event.

use std::sync::Arc;

use serde_json::Value;

use super::{fields_of, text, Envelope, InnerEvent, Members, Unwrapped};

/// Takes the event out of `members` when they bear every mark of a notification (or of control
/// traffic, which holds none); leaves them as they are otherwise.
pub(super) fn take(members: &mut Members<'_>) -> Option<Unwrapped> {
    let texts = |keys: &[&str]| keys.iter().all(|key| text(members, key).is_some());
    let kind = text(members, "Type");
    if kind.as_deref() == Some("Notification") && texts(&["TopicArn", "MessageId"]) {
        let message = text(members, "Message")?;
        members.remove("Message");
        let fields = fields_of(std::mem::take(members));
        let source_id = fields.get("MessageId").and_then(Value::as_str).map(str::to_owned);
        let time = fields.get("Timestamp").cloned();
        let events = vec![InnerEvent::single(message, source_id, time)];
        return Some(Unwrapped { envelope: Envelope::Sns, fields: Arc::new(fields), events });
    }
    let control = matches!(kind.as_deref(), Some("SubscriptionConfirmation" | "UnsubscribeConfirmation"));
    if control && texts(&["TopicArn", "MessageId", "Token", "SubscribeURL"]) {
        // Nothing of a control message is kept: its Token confirms a subscription.
        return Some(Unwrapped { envelope: Envelope::Sns, fields: Arc::default(), events: Vec::new() });
    }
    None
}

//! The audit event as `PutAuditEvents` takes it: an `id` that fits the service's pattern and
//! stays the same on every delivery, the `eventData` text sent unchanged, and its SHA-256
//! checksum; with the bound that keeps an event too large for any request from being sent.
//! Whether the text is a schema event is [`crate::prepare::schema`]'s to say.

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::lambda::ItemIdentifier;
use crate::rejection::Rejection;
use crate::send::body;
use crate::send::plan::MAX_REQUEST_BYTES;

/// One audit event, ready to be packed into a `PutAuditEvents` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// The event's `id`: the record's identifier when it fits the service's pattern.
    pub id: String,
    /// The record's payload, unchanged.
    pub event_data: String,
    /// base64(SHA-256(event_data)).
    pub checksum: String,
    /// Bytes this event's JSON object takes in a request body (without a separating comma).
    pub encoded_len: usize,
}

/// The audit event for `event_data` that already passed [`crate::prepare::schema::check_schema`], under `id`: the
/// request size bound and the checksum.
pub fn schema_event(id: String, event_data: String) -> Result<AuditEvent, Rejection> {
    let encoded_len = body::encoded_event_len(&id, &event_data);
    if body::request_len(1, encoded_len) > MAX_REQUEST_BYTES {
        return Err(Rejection::TooLarge { bytes: body::request_len(1, encoded_len) });
    }
    Ok(checked_event(id, event_data, encoded_len))
}

fn checked_event(id: String, event_data: String, encoded_len: usize) -> AuditEvent {
    let checksum = checksum(&event_data);
    AuditEvent { id, event_data, checksum, encoded_len }
}

/// The audit event `id` for a record without an identifier: `sha256-` and the hex SHA-256 of
/// its payload, the same on every delivery.
pub fn payload_id(event_data: &str) -> String {
    sha256_id(event_data.as_bytes())
}

/// base64 of the SHA-256 of the text's bytes: what the service compares `eventDataChecksum` to.
///
/// ```
/// assert_eq!(
///     cloudtrail_lake_forwarder::event::checksum("{}"),
///     "RBNvo1WzZ4oRRq0W9+hknpT7T8If536DEMBg9hyq/4o="
/// );
/// ```
pub fn checksum(event_data: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(event_data.as_bytes()))
}

/// The audit event `id` for a record: its identifier when that matches `^[-_A-Za-z0-9]{1,128}$`
/// (SQS message IDs and Kinesis sequence numbers do), otherwise `sha256-` and the hex SHA-256
/// of the identifier, so the id is always valid and stays the same on every delivery.
pub fn audit_event_id(item_identifier: &ItemIdentifier) -> String {
    let identifier = item_identifier.as_str();
    if is_audit_event_id(identifier) {
        return identifier.to_owned();
    }
    sha256_id(identifier.as_bytes())
}

/// Whether `id` fits the service's audit event id pattern, `^[-_A-Za-z0-9]{1,128}$`; the
/// SDK does not check it, and one id that breaks it fails the whole request.
///
/// ```
/// use cloudtrail_lake_forwarder::event::is_audit_event_id;
/// assert!(is_audit_event_id("Nm4EoecTsz6kAS-87bAEfA"));
/// assert!(!is_audit_event_id("a+b/c=="));
/// ```
pub fn is_audit_event_id(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `sha256-` and the hex SHA-256 of `bytes`: 71 characters of the id pattern.
pub fn sha256_id(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(bytes);
    let mut id = String::with_capacity(7 + 64);
    id.push_str("sha256-");
    for byte in digest {
        id.push(char::from(HEX[usize::from(byte >> 4)]));
        id.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_without_an_identifier_gets_an_id_from_its_payload() {
        let text = r#"{"UID":"u-1"}"#;
        let id = payload_id(text);
        assert!(id.starts_with("sha256-") && id.len() == 71, "{id}");
        assert_eq!(id, payload_id(text));
        assert_ne!(id, payload_id(r#"{"UID":"u-2"}"#));
    }

    #[test]
    fn ids_that_break_the_pattern_are_hashed_to_a_stable_valid_id() {
        let plain =
            ItemIdentifier::from("49590338271490256608559692538361571095921575989136588898".to_owned());
        assert_eq!(audit_event_id(&plain), plain.as_str());
        for odd in ["has space", "é", &"9".repeat(129)] {
            let id = audit_event_id(&ItemIdentifier::from(odd.to_owned()));
            assert!(id.starts_with("sha256-") && id.len() == 71, "{id}");
            assert!(id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            assert_eq!(id, audit_event_id(&ItemIdentifier::from(odd.to_owned())));
        }
    }
}

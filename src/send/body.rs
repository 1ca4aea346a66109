//! The body of a `PutAuditEvents` request, written by the forwarder itself, byte for byte as
//! the SDK's serialiser would (compact JSON, the members in the model's order, the SDK's
//! escaping): its size is known exactly before it is written, and each event's bytes are copied
//! once, straight from the audit event into the body. Tests compare these bodies with the ones
//! the SDK writes for the same events, and with what the local stand-in receives.

use crate::event::AuditEvent;

/// `{"auditEvents":[` and `]}` around the events.
const ENVELOPE_LEN: usize = r#"{"auditEvents":[]}"#.len();

/// One event's object without its three string values; the checksum is always 44 characters.
const EVENT_FRAME_LEN: usize = r#"{"id":"","eventData":"","eventDataChecksum":""}"#.len() + 44;

/// Bytes one event takes in a request body.
pub fn encoded_event_len(id: &str, event_data: &str) -> usize {
    EVENT_FRAME_LEN + escaped_len(id) + escaped_len(event_data)
}

/// Bytes of a request body holding `events` events whose encoded lengths add up to `events_len`.
pub fn request_len(events: usize, events_len: usize) -> usize {
    ENVELOPE_LEN + events_len + events.saturating_sub(1)
}

/// Whether the SDK's serialiser escapes `byte` inside a JSON string: `"`, `\` and the control
/// characters. Everything else, non-ASCII included, is written as it is.
const fn is_escaped(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// Control characters with a two-byte escape (`\b`, `\f`, `\n`, `\r`, `\t`); the others take six
/// (`\u00XX`).
const fn is_short_control(byte: u8) -> bool {
    matches!(byte, 0x08 | 0x0C | b'\n' | b'\r' | b'\t')
}

/// Length of `text` as a JSON string's contents, escaped as the SDK's serialiser does: `"` and
/// `\` and the short control escapes take two bytes, other control characters six (`\u00XX`),
/// and everything else, non-ASCII included, is written as it is.
///
/// Counting is branch-free and sums 64 bytes at a time in byte-wide counters, so that it runs
/// over many bytes at once; the control characters are told apart only in the rare text that
/// has one.
pub fn escaped_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    let count = |bytes: &[u8], matches: fn(u8) -> bool| -> usize {
        let mut chunks = bytes.chunks_exact(64);
        let mut total: usize = (&mut chunks)
            .map(|chunk| usize::from(chunk.iter().fold(0u8, |sum, &byte| sum + u8::from(matches(byte)))))
            .sum();
        total += chunks.remainder().iter().filter(|&&byte| matches(byte)).count();
        total
    };
    let escaped = count(bytes, is_escaped);
    if escaped == 0 {
        return bytes.len();
    }
    let long = match count(bytes, |byte| byte < 0x20) {
        0 => 0,
        _ => bytes.iter().filter(|&&byte| byte < 0x20 && !is_short_control(byte)).count(),
    };
    bytes.len() + escaped + 4 * long
}

/// Appends `text` to `out` as a JSON string's contents, escaped as the SDK's serialiser does
/// ([`escaped_len`] bytes). Runs without escapes are copied whole, 16 bytes are looked at
/// together, and a byte at a time only where one of them needs escaping.
pub fn write_escaped(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = text.as_bytes();
    let mut copied = 0;
    let mut at = 0;
    while at < bytes.len() {
        if let Some(block) = bytes.get(at..at + 16)
            && !block.iter().fold(false, |any, &byte| any | is_escaped(byte))
        {
            at += 16;
            continue;
        }
        let end = (at + 16).min(bytes.len());
        for index in at..end {
            let byte = bytes[index];
            if !is_escaped(byte) {
                continue;
            }
            out.extend_from_slice(&bytes[copied..index]);
            copied = index + 1;
            match byte {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                0x08 => out.extend_from_slice(b"\\b"),
                0x0C => out.extend_from_slice(b"\\f"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                _ => out.extend_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(byte >> 4)],
                    HEX[usize::from(byte & 0xF)],
                ]),
            }
        }
        at = end;
    }
    out.extend_from_slice(&bytes[copied..]);
}

/// The body of a `PutAuditEvents` request carrying `events`, in order: what the SDK's
/// serialiser writes for them (`{"auditEvents":[{"id":…,"eventData":…,"eventDataChecksum":…},…]}`;
/// the channel ARN and external id go in the query string). `len` is the body's length, from
/// [`request_len`], so the body is written into one allocation of the right size.
pub fn write_body<'a>(events: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>, len: usize) -> Vec<u8> {
    let mut body = Vec::with_capacity(len);
    body.extend_from_slice(br#"{"auditEvents":["#);
    for (index, (id, event_data, checksum)) in events.into_iter().enumerate() {
        if index > 0 {
            body.push(b',');
        }
        body.extend_from_slice(br#"{"id":""#);
        write_escaped(&mut body, id);
        body.extend_from_slice(br#"","eventData":""#);
        write_escaped(&mut body, event_data);
        body.extend_from_slice(br#"","eventDataChecksum":""#);
        write_escaped(&mut body, checksum);
        body.extend_from_slice(br#""}"#);
    }
    body.extend_from_slice(b"]}");
    body
}

/// The body of a request carrying `events`, written by the forwarder: the bytes the SDK's
/// serialiser would write for them, each event's text copied once from where it already is.
///
/// The SDK takes its input by value and escapes every `eventData` byte by byte into a string
/// it then copies into the body; for a 7 MB batch that was the largest single cost of an
/// invocation. So the SDK serialises an empty list of events, and `with_body` puts this body
/// in its place before the request is signed: the signature, the payload hash and
/// `Content-Length` are those of these bytes.
pub fn request_body<'a>(events: impl Iterator<Item = &'a AuditEvent> + Clone) -> Vec<u8> {
    let (count, len) =
        events.clone().fold((0, 0), |(count, len), event| (count + 1, len + event.encoded_len));
    let len = request_len(count, len);
    let body = write_body(
        events.map(|event| (event.id.as_str(), event.event_data.as_str(), event.checksum.as_str())),
        len,
    );
    debug_assert_eq!(body.len(), len, "the body is as long as the packer counted");
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_counts_what_the_sdk_escapes() {
        assert_eq!(escaped_len(r#"{"a":"b"}"#), 13);
        assert_eq!(escaped_len("tab\there\\"), 11);
        assert_eq!(escaped_len("\u{1}"), 6);
        assert_eq!(escaped_len("é/<>"), 5);
    }

    #[test]
    fn escaping_writes_what_serde_json_writes_wherever_the_escaped_byte_falls_in_a_block() {
        let oracle = |text: &str| {
            let quoted = serde_json::to_string(text).unwrap();
            quoted[1..quoted.len() - 1].to_owned()
        };
        let mut texts = Vec::new();
        for byte in 0..0x80u8 {
            for before in 0..34 {
                let byte = char::from(byte);
                texts.push(format!("{}{byte}{}", "a".repeat(before), "é\"".repeat(before % 3)));
                texts.push(format!("{byte}{}{byte}{byte}", "\u{1}".repeat(before)));
            }
        }
        texts
            .push(r#"{"eventVersion":"1.0","userIdentity":{"type":"x"},"note":"tab\tline\nend"}"#.to_owned());
        texts.push("\u{7f}€😀/<>".repeat(5));
        for text in &texts {
            let mut out = Vec::new();
            write_escaped(&mut out, text);
            assert_eq!(String::from_utf8(out).unwrap(), oracle(text), "{text:?}");
            assert_eq!(escaped_len(text), oracle(text).len(), "{text:?}");
        }
    }

    #[test]
    fn a_request_is_the_envelope_its_events_and_the_commas_between_them() {
        let one = encoded_event_len("m1", "{}");
        assert_eq!(one, r#"{"eventData":"{}","eventDataChecksum":"RBNvo1WzZ4oRRq0W9+hknpT7T8If536DEMBg9hyq/4o=","id":"m1"}"#.len());
        assert_eq!(request_len(1, one), one + 18);
        assert_eq!(request_len(3, 3 * one), 3 * one + 18 + 2);
    }
}

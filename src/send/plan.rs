//! Audit events → `PutAuditEvents` requests within the service limits: at most 100 events and
//! at most 1 MB of request body, with ids unique within each request.
//!
//! The forwarder writes each request body itself ([`write_body`]), byte for byte as the SDK's
//! serialiser would (compact JSON, the members in the model's order, the SDK's escaping), so
//! its size is known exactly before it is written, and each event's bytes are copied once,
//! straight from the audit event into the body. Tests compare these bodies with the ones the
//! SDK writes for the same events, and with what the local stand-in receives.

use std::collections::{HashMap, HashSet};

/// The most events one request may carry.
pub const MAX_EVENTS_PER_REQUEST: usize = 100;

/// The most bytes one request body may have. The service states "1 MB"; the decimal reading is
/// the stricter one, so requests fit whichever the service applies.
pub const MAX_REQUEST_BYTES: usize = 1_000_000;

/// `{"auditEvents":[` and `]}` around the events.
const ENVELOPE_LEN: usize = r#"{"auditEvents":[]}"#.len();

/// One event's object without its three string values; the checksum is always 44 characters.
const EVENT_FRAME_LEN: usize = r#"{"id":"","eventData":"","eventDataChecksum":""}"#.len() + 44;

/// A request to send: which events it carries (indices into the caller's list), in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedRequest {
    pub events: Vec<usize>,
    /// The exact length of the request body the SDK will send.
    pub body_len: usize,
}

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
        if let Some(block) = bytes.get(at..at + 16) {
            if !block.iter().fold(false, |any, &byte| any | is_escaped(byte)) {
                at += 16;
                continue;
            }
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

/// Packs events, given as `(index, id, encoded_len)` in record order, into requests: each
/// request takes events in order until the next one would break a limit or repeat an id.
///
/// An event too large for any request must be rejected before packing; one that slips through
/// still gets a request of its own, which the service will refuse, rather than being dropped.
///
/// ```
/// use cloudtrail_lake_forwarder::send::plan::pack;
///
/// let events: Vec<(usize, String, usize)> =
///     (0..250).map(|i| (i, format!("id-{i}"), 1_000)).collect();
/// let requests = pack(events.iter().map(|(i, id, len)| (*i, id.as_str(), *len)));
/// let sizes: Vec<usize> = requests.iter().map(|request| request.events.len()).collect();
/// assert_eq!(sizes, [100, 100, 50]);
/// ```
pub fn pack<'a>(events: impl IntoIterator<Item = (usize, &'a str, usize)>) -> Vec<PlannedRequest> {
    let mut requests = Vec::new();
    let mut current = PlannedRequest { events: Vec::new(), body_len: ENVELOPE_LEN };
    let mut ids: HashSet<&str> = HashSet::new();
    for (index, id, encoded_len) in events {
        let separator = usize::from(!current.events.is_empty());
        let fits = current.events.len() < MAX_EVENTS_PER_REQUEST
            && current.body_len + separator + encoded_len <= MAX_REQUEST_BYTES
            && !ids.contains(id);
        if !fits && !current.events.is_empty() {
            requests.push(std::mem::replace(
                &mut current,
                PlannedRequest { events: Vec::new(), body_len: ENVELOPE_LEN },
            ));
            ids.clear();
        }
        current.body_len += usize::from(!current.events.is_empty()) + encoded_len;
        current.events.push(index);
        ids.insert(id);
    }
    if !current.events.is_empty() {
        requests.push(current);
    }
    requests
}

/// Packs events of SQS FIFO message groups, given as `(index, id, encoded_len, group)` in
/// record order, in waves: wave *k* holds the *k*-th event of every group, so no request holds
/// two events of one group, and sending the requests in order stores each group in order (a
/// group's next event goes out only after the one before it was confirmed).
///
/// ```
/// use cloudtrail_lake_forwarder::send::plan::pack_in_waves;
///
/// let events = [(0, "a1", 10, Some("a")), (1, "a2", 10, Some("a")), (2, "b1", 10, Some("b"))];
/// let requests = pack_in_waves(events);
/// let waves: Vec<Vec<usize>> = requests.into_iter().map(|request| request.events).collect();
/// assert_eq!(waves, [vec![0, 2], vec![1]]);
/// ```
pub fn pack_in_waves<'a>(
    events: impl IntoIterator<Item = (usize, &'a str, usize, Option<&'a str>)>,
) -> Vec<PlannedRequest> {
    let mut next_wave: HashMap<Option<&str>, usize> = HashMap::new();
    let mut waves: Vec<Vec<(usize, &str, usize)>> = Vec::new();
    for (index, id, encoded_len, group) in events {
        let wave = next_wave.entry(group).or_insert(0);
        if *wave == waves.len() {
            waves.push(Vec::new());
        }
        waves[*wave].push((index, id, encoded_len));
        *wave += 1;
    }
    waves.into_iter().flat_map(pack).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pack_sizes(events: &[(String, usize)]) -> Vec<PlannedRequest> {
        pack(events.iter().enumerate().map(|(i, (id, len))| (i, id.as_str(), *len)))
    }

    fn distinct(count: usize, len: usize) -> Vec<(String, usize)> {
        (0..count).map(|i| (format!("id-{i}"), len)).collect()
    }

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

    #[test]
    fn a_thousand_small_events_make_ten_requests_of_a_hundred() {
        let requests = pack_sizes(&distinct(1000, 200));
        assert_eq!(requests.len(), 10);
        assert!(requests.iter().all(|request| request.events.len() == 100));
        let order: Vec<usize> = requests.iter().flat_map(|request| request.events.clone()).collect();
        assert_eq!(order, (0..1000).collect::<Vec<_>>());
    }

    #[test]
    fn forty_60kb_events_fit_in_the_fewest_requests_without_passing_a_megabyte() {
        let requests = pack_sizes(&distinct(40, 61_440));
        let total = request_len(40, 40 * 61_440);
        assert!(requests.iter().all(|request| request.body_len <= MAX_REQUEST_BYTES));
        assert!(requests.len() <= total.div_ceil(MAX_REQUEST_BYTES) + 1, "{}", requests.len());
        let body: usize = requests.iter().map(|r| r.body_len).sum();
        assert_eq!(
            body,
            40 * 61_440 + requests.iter().map(|r| request_len(r.events.len(), 0)).sum::<usize>()
        );
    }

    #[test]
    fn an_event_that_fills_a_request_to_the_byte_still_fits() {
        let exact = MAX_REQUEST_BYTES - ENVELOPE_LEN;
        assert_eq!(pack_sizes(&distinct(2, exact)).len(), 2);
        let half = (MAX_REQUEST_BYTES - ENVELOPE_LEN - 1) / 2;
        let requests = pack_sizes(&distinct(2, half));
        assert_eq!(requests.len(), 1);
        assert!(requests[0].body_len <= MAX_REQUEST_BYTES);
        assert_eq!(pack_sizes(&distinct(2, half + 1)).len(), 2);
    }

    #[test]
    fn a_repeated_id_starts_a_new_request() {
        let events = vec![("a".to_string(), 10), ("b".to_string(), 10), ("a".to_string(), 10)];
        let requests = pack_sizes(&events);
        assert_eq!(requests.iter().map(|r| r.events.clone()).collect::<Vec<_>>(), [vec![0, 1], vec![2]]);
    }

    #[test]
    fn fifo_waves_never_put_two_events_of_one_group_in_a_request() {
        let groups = ["a", "a", "b", "a", "c", "b"];
        let ids: Vec<String> = (0..groups.len()).map(|i| format!("m{i}")).collect();
        let requests =
            pack_in_waves(groups.iter().enumerate().map(|(i, group)| (i, ids[i].as_str(), 10, Some(*group))));
        let waves: Vec<Vec<usize>> = requests.into_iter().map(|request| request.events).collect();
        assert_eq!(waves, [vec![0, 2, 4], vec![1, 5], vec![3]]);
    }

    #[test]
    fn an_oversized_event_is_alone_rather_than_dropped() {
        let requests = pack_sizes(&[("a".into(), 10), ("b".into(), 2_000_000), ("c".into(), 10)]);
        assert_eq!(
            requests.iter().map(|r| r.events.clone()).collect::<Vec<_>>(),
            [vec![0], vec![1], vec![2]]
        );
    }
}

//! Audit events → `PutAuditEvents` requests within the service limits: at most 100 events and
//! at most 1 MB of request body, with ids unique within each request. Each event's size in a body is known before any body is written
//! ([`crate::send::body`]), so planning is exact and serialises nothing.

use std::collections::HashSet;

use crate::send::body::request_len;

/// The most events one request may carry.
pub const MAX_EVENTS_PER_REQUEST: usize = 100;

/// The most bytes one request body may have. The service states "1 MB"; the decimal reading is
/// the stricter one, so requests fit whichever the service applies.
pub const MAX_REQUEST_BYTES: usize = 1_000_000;

/// A request to send: which events it carries (indices into the caller's list), in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedRequest {
    pub events: Vec<usize>,
    /// The exact length of the request body the SDK will send.
    pub body_len: usize,
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
    let mut current = PlannedRequest { events: Vec::new(), body_len: request_len(0, 0) };
    let mut ids: HashSet<&str> = HashSet::new();
    for (index, id, encoded_len) in events {
        let separator = usize::from(!current.events.is_empty());
        let fits = current.events.len() < MAX_EVENTS_PER_REQUEST
            && current.body_len + separator + encoded_len <= MAX_REQUEST_BYTES
            && !ids.contains(id);
        if !fits && !current.events.is_empty() {
            requests.push(std::mem::replace(
                &mut current,
                PlannedRequest { events: Vec::new(), body_len: request_len(0, 0) },
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::send::body::request_len;

    fn pack_sizes(events: &[(String, usize)]) -> Vec<PlannedRequest> {
        pack(events.iter().enumerate().map(|(i, (id, len))| (i, id.as_str(), *len)))
    }

    fn distinct(count: usize, len: usize) -> Vec<(String, usize)> {
        (0..count).map(|i| (format!("id-{i}"), len)).collect()
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
        let exact = MAX_REQUEST_BYTES - request_len(0, 0);
        assert_eq!(pack_sizes(&distinct(2, exact)).len(), 2);
        let half = (MAX_REQUEST_BYTES - request_len(0, 0) - 1) / 2;
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
    fn an_oversized_event_is_alone_rather_than_dropped() {
        let requests = pack_sizes(&[("a".into(), 10), ("b".into(), 2_000_000), ("c".into(), 10)]);
        assert_eq!(
            requests.iter().map(|r| r.events.clone()).collect::<Vec<_>>(),
            [vec![0], vec![1], vec![2]]
        );
    }
}

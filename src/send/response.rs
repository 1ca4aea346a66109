//! A `PutAuditEvents` answer → each sent event's verdict, in the order sent.
//!
//! Nothing the service says about an event's content reaches the logs: a per-event
//! `errorMessage` and a refused request's message may quote what they refused, so only codes
//! are kept.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_cloudtraildata::operation::put_audit_events::PutAuditEventsOutput;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextMut, Error as ErasedError, Output,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::{HttpResponse, OrchestratorError};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::client::ser_de::{DeserializeResponse, SharedResponseDeserializer};
use aws_smithy_types::config_bag::ConfigBag;
use serde::Deserialize;

use super::retry::{self, Failure};
use crate::event::AuditEvent;

/// Each sent event's verdict, in the order sent, from the SDK's reading of a response. An
/// event the response does not mention is not confirmed, so it counts as a transient failure
/// rather than a success.
pub(super) fn judge(
    events: &[Option<AuditEvent>],
    sent: &[usize],
    output: &PutAuditEventsOutput,
) -> Vec<Result<(), Failure>> {
    let stored = output.successful().iter().map(|entry| entry.id());
    let refused = output.failed().iter().map(|entry| (entry.id(), entry.error_code()));
    verdicts(events, sent, stored, refused)
}

/// Each sent event's verdict from the ids a response lists as stored and as refused (with the
/// refusal's code); see [`judge`].
fn verdicts<'a>(
    events: &[Option<AuditEvent>],
    sent: &[usize],
    stored: impl ExactSizeIterator<Item = &'a str> + Clone,
    refused: impl ExactSizeIterator<Item = (&'a str, &'a str)>,
) -> Vec<Result<(), Failure>> {
    // A response that lists every event as stored, in the order sent, is answered by comparing
    // ids in step, without hashing each id twice into a map; any other is read through the map.
    let in_step = refused.len() == 0
        && stored.len() == sent.len()
        && stored.clone().zip(sent).all(|(id, &index)| id == planned(events, index).id);
    if in_step {
        return vec![Ok(()); sent.len()];
    }
    let mut answers: HashMap<&str, Result<(), Failure>> = HashMap::with_capacity(sent.len());
    for id in stored {
        answers.insert(id, Ok(()));
    }
    for (id, code) in refused {
        answers.insert(id, Err(Failure::new(code, retry::is_transient_event_code(code))));
    }
    sent.iter()
        .map(|&index| {
            let id = planned(events, index).id.as_str();
            answers.get(id).cloned().unwrap_or_else(|| Err(Failure::new("Unconfirmed", true)))
        })
        .collect()
}

/// Each sent event's verdict, in the order sent.
type Verdicts = Vec<Result<(), Failure>>;

/// Reads a successful `PutAuditEvents` response straight into the sent events' verdicts.
///
/// The SDK reads a response of 100 events with its own JSON tokenizer into an output that owns
/// two strings an event, the id and the service's event id, only for [`judge`] to hash the ids
/// into a map: 3 % of a 10,000-record invocation's CPU in perf, and a quarter of its remaining
/// allocations. For a response with a success status this interceptor puts its own reader in
/// the SDK's place for the one call: the reader takes the ids where they lie in the body, turns
/// them into verdicts, and gives the SDK an empty output. Any other status is read by the SDK as
/// before, so its errors are classified as they always were; a body this reader cannot read is
/// an unreadable response, as it is to the SDK.
#[derive(Clone)]
pub(super) struct ReadAnswers {
    events: Arc<Vec<Option<AuditEvent>>>,
    sent: Arc<Vec<usize>>,
    pub(super) verdicts: Arc<std::sync::Mutex<Option<Verdicts>>>,
}

/// Without the events: their `eventData` must never reach a log, whatever logs the SDK's parts.
impl std::fmt::Debug for ReadAnswers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadAnswers").field("sent", &self.sent.len()).finish_non_exhaustive()
    }
}

impl ReadAnswers {
    pub(super) fn new(events: Arc<Vec<Option<AuditEvent>>>, sent: Arc<Vec<usize>>) -> ReadAnswers {
        ReadAnswers { events, sent, verdicts: Arc::default() }
    }
}

impl Intercept for ReadAnswers {
    fn name(&self) -> &'static str {
        "ReadAnswers"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if context.response().status().is_success() {
            cfg.interceptor_state().store_put(SharedResponseDeserializer::new(self.clone()));
        }
        Ok(())
    }
}

impl DeserializeResponse for ReadAnswers {
    fn deserialize_nonstreaming_with_config(
        &self,
        response: &HttpResponse,
        _: &ConfigBag,
    ) -> Result<Output, OrchestratorError<ErasedError>> {
        // An empty body is an empty answer to the SDK's reader too.
        let body = match response.body().bytes().unwrap_or_default() {
            blank if blank.iter().all(u8::is_ascii_whitespace) => b"{}".as_slice(),
            body => body,
        };
        // Only where reading failed: `serde_json`'s message may quote the body it could not read.
        let answers: Answers<'_> = serde_json::from_slice(body).map_err(|error| {
            let (line, column) = (error.line(), error.column());
            OrchestratorError::response(
                format!("unreadable PutAuditEvents response at line {line}, column {column}").into(),
            )
        })?;
        let stored = answers.successful.iter().map(|entry| entry.id.as_ref());
        let refused = answers.failed.iter().map(|entry| (entry.id.as_ref(), entry.error_code.as_ref()));
        let verdicts = verdicts(&self.events, &self.sent, stored, refused);
        *self.verdicts.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(verdicts);
        let empty = PutAuditEventsOutput::builder()
            .set_successful(Some(Vec::new()))
            .set_failed(Some(Vec::new()))
            .build()
            .map_err(OrchestratorError::other)?;
        Ok(Output::erase(empty))
    }
}

/// A `PutAuditEvents` response body as the reader needs it: ids borrowed from the body where
/// they have no escapes, and a refusal's code; the refusal's message is never read. A list or
/// field that is missing or `null` reads as empty, as the SDK's reader takes it, so an entry
/// without an id leaves its event unconfirmed rather than the whole response unreadable.
#[derive(Deserialize)]
struct Answers<'a> {
    #[serde(borrow, default, deserialize_with = "null_as_empty")]
    successful: Vec<Stored<'a>>,
    #[serde(borrow, default, deserialize_with = "null_as_empty")]
    failed: Vec<Refused<'a>>,
}

#[derive(Deserialize)]
struct Stored<'a> {
    #[serde(borrow, default, deserialize_with = "null_as_empty")]
    id: Cow<'a, str>,
}

#[derive(Deserialize)]
struct Refused<'a> {
    #[serde(borrow, default, deserialize_with = "null_as_empty")]
    id: Cow<'a, str>,
    #[serde(borrow, default, deserialize_with = "null_as_empty", rename = "errorCode")]
    error_code: Cow<'a, str>,
}

fn null_as_empty<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// The event of a record the plan put in a request; only records with events are planned.
pub(super) fn planned(events: &[Option<AuditEvent>], index: usize) -> &AuditEvent {
    events[index].as_ref().expect("only records with an audit event are planned")
}

#[cfg(test)]
mod tests {
    use aws_sdk_cloudtraildata::types::{AuditEventResultEntry, ResultErrorEntry};
    use aws_smithy_types::body::SdkBody;

    use super::*;

    fn events(ids: &[&str]) -> Vec<Option<AuditEvent>> {
        let event = |id: &str| AuditEvent {
            id: id.to_owned(),
            event_data: "{}".to_owned(),
            checksum: String::new(),
            encoded_len: 0,
        };
        ids.iter().map(|id| Some(event(id))).collect()
    }

    fn output(successful: &[&str], failed: &[(&str, &str)]) -> PutAuditEventsOutput {
        let stored = |id: &str| AuditEventResultEntry::builder().id(id).event_id(format!("e-{id}")).build();
        let refused = |(id, code): &(&str, &str)| {
            ResultErrorEntry::builder().id(*id).error_code(*code).error_message("quoted content").build()
        };
        PutAuditEventsOutput::builder()
            .set_successful(Some(successful.iter().map(|id| stored(id).unwrap()).collect()))
            .set_failed(Some(failed.iter().map(|entry| refused(entry).unwrap()).collect()))
            .build()
            .unwrap()
    }

    fn codes(verdicts: Vec<Result<(), Failure>>) -> Vec<Option<String>> {
        verdicts.into_iter().map(|verdict| verdict.err().map(|failure| failure.code)).collect()
    }

    #[test]
    fn each_sent_event_gets_the_verdict_the_response_gives_its_id_in_any_order() {
        let events = events(&["a", "b", "c", "d"]);
        let sent = [0, 1, 2, 3];
        let ok = None;
        let all_stored = judge(&events, &sent, &output(&["a", "b", "c", "d"], &[]));
        assert_eq!(codes(all_stored), vec![ok.clone(), ok.clone(), ok.clone(), ok.clone()]);

        // Out of order, one refused, one not mentioned at all.
        let mixed = judge(&events, &sent, &output(&["c", "a"], &[("b", "InvalidChecksum")]));
        let expected = [ok.clone(), Some("InvalidChecksum".into()), ok.clone(), Some("Unconfirmed".into())];
        assert_eq!(codes(mixed), expected);

        // Every id listed as stored in order, yet one also listed as refused: the refusal
        // stands, as it does when the answers go through the map.
        let contradictory =
            judge(&events, &sent, &output(&["a", "b", "c", "d"], &[("b", "InvalidChecksum")]));
        assert_eq!(codes(contradictory)[1], Some("InvalidChecksum".into()));

        // The same number of stored ids, but not the ones sent.
        let other = judge(&events, &sent, &output(&["a", "b", "c", "x"], &[]));
        assert_eq!(codes(other)[3], Some("Unconfirmed".into()));

        // Only some of the events sent, in order of the plan.
        let subset = judge(&events, &[1, 3], &output(&["b", "d"], &[]));
        assert_eq!(codes(subset), vec![ok.clone(), ok]);
    }

    fn read(body: &str, ids: &[&str], sent: Vec<usize>) -> Result<Vec<Option<String>>, String> {
        let reader = ReadAnswers::new(Arc::new(events(ids)), Arc::new(sent));
        let response = HttpResponse::new(200u16.try_into().unwrap(), SdkBody::from(body.to_owned()));
        let output = reader.deserialize_nonstreaming_with_config(&response, &ConfigBag::base());
        let output = output.map_err(|error| format!("{error:?}"))?;
        let output = output.downcast::<PutAuditEventsOutput>().expect("the SDK's output type");
        assert!(output.successful().is_empty() && output.failed().is_empty(), "the SDK gets an empty output");
        let verdicts = reader.verdicts.lock().unwrap().take().expect("the reader keeps its verdicts");
        Ok(codes(verdicts))
    }

    #[test]
    fn the_reader_gives_the_verdicts_the_sdks_reading_gives() {
        let ids = ["a", "b\"c", "d"];
        // Out of order, an id with an escape, a refusal with a message that quotes content,
        // fields the reader does not need.
        let body = r#"{"successful":[{"id":"d","eventID":"e-d"},{"id":"b\"c","eventID":"e-b"}],
            "failed":[{"id":"a","errorCode":"InvalidChecksum","errorMessage":"secret"}],"extra":1}"#;
        let expected = vec![Some("InvalidChecksum".to_owned()), None, None];
        assert_eq!(read(body, &ids, vec![0, 1, 2]), Ok(expected));
        let output = output(&["d", "b\"c"], &[("a", "InvalidChecksum")]);
        assert_eq!(
            codes(judge(&events(&ids), &[0, 1, 2], &output)),
            read(body, &ids, vec![0, 1, 2]).unwrap()
        );

        // Missing or null lists and ids read as empty, as the SDK takes them: the events are
        // unconfirmed, not the whole response unreadable.
        let unconfirmed = Some("Unconfirmed".to_owned());
        assert_eq!(read(r#"{"failed":null}"#, &ids, vec![0]), Ok(vec![unconfirmed.clone()]));
        assert_eq!(
            read(r#"{"successful":[{"eventID":"x"},{"id":"d"}]}"#, &ids, vec![0, 2]),
            Ok(vec![unconfirmed, None])
        );

        assert_eq!(read(" ", &ids, vec![0]), Ok(vec![Some("Unconfirmed".to_owned())]));

        // A body that is not the answer's JSON is an unreadable response, and what it says is
        // not quoted.
        let unreadable = read("<html>", &ids, vec![0]).unwrap_err();
        assert!(unreadable.contains("unreadable PutAuditEvents response"), "{unreadable}");
        let unreadable = read(r#"{"successful":"secret"}"#, &ids, vec![0]).unwrap_err();
        assert!(!unreadable.contains("secret"), "{unreadable}");
    }
}

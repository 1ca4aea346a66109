//! The invocation's event read straight from the bytes Lambda sends, before `lambda_runtime`
//! reads it.
//!
//! `lambda_runtime` deserialises every event through `serde_path_to_error`, so that a failure
//! can say where in the event it happened. To know that path it copies every object key it
//! passes into a new `String`: a Kinesis record has about 13 keys, so a 10,000-record event
//! costs 130,000 allocations and frees before the forwarder sees a record, about a tenth of the
//! CPU of such an invocation. [`IncomingEvent`] reads any JSON without failing (a record is
//! judged later, on its own), so the path is never needed for it.
//!
//! [`ReadEventLayer`] sits in front of the runtime's own services: it reads the event with
//! `serde_json` alone, keeps it for the handler in a task-local slot that lives exactly as long
//! as this invocation's future, and hands the runtime the body `null` in its place, which costs
//! nothing to read. The handler takes the event with [`take_read_event`]. When the body is not
//! JSON at all, it is passed on untouched and the runtime reports the error as it always has.
//! Without the layer (a test calling the handler directly) nothing is kept, and the handler
//! reads the payload it is given.

use std::cell::Cell;
use std::task::{Context, Poll};

use lambda_runtime::tower::{Layer, Service};
use lambda_runtime::LambdaInvocation;
use tokio::task::futures::TaskLocalFuture;

use crate::lambda::event::IncomingEvent;

tokio::task_local! {
    static READ_EVENT: Cell<Option<IncomingEvent>>;
}

/// The body the runtime reads in place of an event this layer has read: JSON `null`, which
/// reads as an [`IncomingEvent`] without records should the slot ever be empty.
const READ_ELSEWHERE: &[u8] = b"null";

/// Reads each invocation's event before the runtime's services do; see the module docs.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadEventLayer;

impl<S> Layer<S> for ReadEventLayer {
    type Service = ReadEvent<S>;

    fn layer(&self, inner: S) -> ReadEvent<S> {
        ReadEvent { inner }
    }
}

/// The service [`ReadEventLayer`] puts in front of the runtime's own.
#[derive(Debug, Clone)]
pub struct ReadEvent<S> {
    inner: S,
}

impl<S: Service<LambdaInvocation>> Service<LambdaInvocation> for ReadEvent<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = TaskLocalFuture<Cell<Option<IncomingEvent>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut invocation: LambdaInvocation) -> Self::Future {
        let event = read(&invocation.body);
        if event.is_some() {
            // The event's text is dropped here, while its records are read and kept.
            invocation.body = bytes::Bytes::from_static(READ_ELSEWHERE);
        }
        READ_EVENT.scope(Cell::new(event), self.inner.call(invocation))
    }
}

/// The event in `body`, or `None` when it is not JSON.
///
/// A body that is UTF-8 throughout, as JSON must be, is checked once as a whole and read as
/// text: read as bytes, `serde_json` checks each string it keeps on its own, a few instructions a
/// byte more over the 13 MB of a 10,000-record Kinesis event. Any other body is read as bytes, as
/// before, so that what it reads as (bad bytes in a field the forwarder skips are no error) does
/// not change.
fn read(body: &[u8]) -> Option<IncomingEvent> {
    match std::str::from_utf8(body) {
        Ok(text) => serde_json::from_str(text).ok(),
        Err(_) => serde_json::from_slice(body).ok(),
    }
}

/// The event [`ReadEventLayer`] read for the invocation this task is running, once; `None` if
/// the layer is not in front of the handler or the event was already taken.
pub fn take_read_event() -> Option<IncomingEvent> {
    READ_EVENT.try_with(Cell::take).ok().flatten()
}

#[cfg(test)]
mod tests {
    use lambda_runtime::Context as LambdaContext;

    use super::*;

    /// The body the runtime's services were given, and what the handler found in the slot.
    type Seen = (Vec<u8>, Option<IncomingEvent>);

    /// The runtime's services as this layer sees them: what body they were given, and what
    /// the handler found in the slot while the invocation ran.
    #[derive(Clone, Default)]
    struct Runtime {
        seen: std::sync::Arc<std::sync::Mutex<Vec<Seen>>>,
    }

    impl Service<LambdaInvocation> for Runtime {
        type Response = ();
        type Error = std::convert::Infallible;
        type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), Self::Error>>>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, invocation: LambdaInvocation) -> Self::Future {
            let seen = self.seen.clone();
            Box::pin(async move {
                let taken = take_read_event();
                assert_eq!(take_read_event(), None, "the event is taken once");
                seen.lock().unwrap().push((invocation.body.to_vec(), taken));
                Ok(())
            })
        }
    }

    fn invocation(body: &'static [u8]) -> LambdaInvocation {
        let (parts, ()) = http::Response::new(()).into_parts();
        LambdaInvocation { parts, body: bytes::Bytes::from_static(body), context: LambdaContext::default() }
    }

    #[tokio::test]
    async fn the_handler_takes_the_event_read_in_front_and_the_runtime_reads_null() {
        let runtime = Runtime::default();
        let mut service = ReadEventLayer.layer(runtime.clone());
        service.call(invocation(br#"{"Records":[{"messageId":"m1","body":"{}"}]}"#)).await.unwrap();
        service.call(invocation(b"not json")).await.unwrap();

        let seen = runtime.seen.lock().unwrap();
        assert_eq!(seen[0].0, b"null");
        let records =
            seen[0].1.as_ref().and_then(|event| event.records.as_ref()).expect("the event was kept");
        assert_eq!(records[0].message_id.as_deref(), Some("m1"));
        // Not JSON: passed on untouched for the runtime's own error, and nothing kept.
        assert_eq!(seen[1], (b"not json".to_vec(), None));
        assert_eq!(take_read_event(), None, "the slot does not outlive its invocation");
    }

    #[tokio::test]
    async fn outside_the_layer_there_is_no_event_to_take() {
        assert_eq!(take_read_event(), None);
    }

    #[test]
    fn a_body_read_as_text_or_as_bytes_reads_the_same() {
        let text = r#"{"Records":[{"messageId":"m\u00e9","body":"{\"a\":\"é\"}"}]}"#.as_bytes();
        assert_eq!(read(text), serde_json::from_slice(text).ok());
        assert!(read(text).is_some());
        // Not UTF-8, in a field the forwarder skips: read as bytes, as before, not refused.
        let skipped = b"{\"Records\":[{\"messageId\":\"m1\",\"x\":\"\xff\"}]}";
        let records = read(skipped).and_then(|event| event.records).expect("read as bytes");
        assert_eq!(records[0].message_id.as_deref(), Some("m1"));
        assert_eq!(read(b"not json"), None);
    }

    #[test]
    fn the_placeholder_body_reads_as_an_event_without_records() {
        let event: IncomingEvent = serde_json::from_slice(READ_ELSEWHERE).unwrap();
        assert_eq!(event, IncomingEvent::default());
    }
}

//! The request body the forwarder writes itself is, byte for byte, the body the SDK's own
//! serialiser writes for the same events, and it is what gets signed and sent.
//!
//! Both requests go through the real SDK client up to the moment of sending: an interceptor
//! registered on the client keeps the request as it would go on the wire (signed, with its
//! headers and body) and stops it there, so these properties need no server. The stand-in
//! test at the end sends such a body for real: the stand-in checks the SigV4 signature over
//! the body it received, each event's checksum, and stores what the service would store.

mod common;

use std::sync::{Arc, Mutex};

use aws_sdk_cloudtraildata::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cloudtraildata::types::AuditEvent as SdkAuditEvent;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use cloudtrail_lake_forwarder::event::{self, AuditEvent};
use cloudtrail_lake_forwarder::send::body::{encoded_event_len, request_len};
use cloudtrail_lake_forwarder::send::{self, Channel, Reply, SdkChannel};
use common::*;
use proptest::prelude::*;
use serde_json::json;

/// A request as it would have been sent: its body and its `content-length` header.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sent {
    body: Vec<u8>,
    content_length: Option<String>,
    signed: bool,
}

/// Keeps the last request the client was about to send, and stops it there.
#[derive(Debug, Clone, Default)]
struct Capture(Arc<Mutex<Option<Sent>>>);

impl Capture {
    fn take(&self) -> Sent {
        self.0.lock().unwrap().take().expect("the client got as far as sending")
    }
}

impl Intercept for Capture {
    fn name(&self) -> &'static str {
        "Capture"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let sent = Sent {
            body: request.body().bytes().expect("the body is in memory").to_vec(),
            content_length: request.headers().get("content-length").map(str::to_owned),
            signed: request
                .headers()
                .get("authorization")
                .is_some_and(|value| value.starts_with("AWS4-HMAC-SHA256")),
        };
        *self.0.lock().unwrap() = Some(sent);
        Err("kept by the test; not sent".into())
    }
}

/// A real SDK client with `capture` on it; the endpoint is never connected to.
fn capturing_client(capture: &Capture) -> aws_sdk_cloudtraildata::Client {
    send::sdk_client(
        aws_sdk_cloudtraildata::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("AKIDWIRE", "wire-secret", None, None, "wire"))
            .endpoint_url("http://127.0.0.1:9")
            .interceptor(capture.clone()),
    )
}

/// What the SDK's serialiser sends for `events`, given to it the ordinary way.
async fn sdk_serialised(capture: &Capture, events: &[AuditEvent]) -> Sent {
    let sdk_events = events
        .iter()
        .map(|event| {
            SdkAuditEvent::builder()
                .id(&event.id)
                .event_data(&event.event_data)
                .event_data_checksum(&event.checksum)
                .build()
                .unwrap()
        })
        .collect();
    let result = capturing_client(capture)
        .put_audit_events()
        .channel_arn(CHANNEL_ARN)
        .set_audit_events(Some(sdk_events))
        .send()
        .await;
    assert!(result.is_err(), "the capture stops the request");
    capture.take()
}

/// What the forwarder's channel sends for `events`, through the same client.
async fn forwarder_written(capture: &Capture, events: Vec<AuditEvent>) -> Sent {
    let sent = (0..events.len()).collect();
    let channel = SdkChannel::new(capturing_client(capture), CHANNEL_ARN, None);
    let reply = channel.put(Arc::new(events.into_iter().map(Some).collect()), sent).await;
    assert!(matches!(reply, Reply::Refused(_)), "the capture stops the request: {reply:?}");
    capture.take()
}

fn both(events: Vec<AuditEvent>) -> (Sent, Sent) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let capture = Capture::default();
        let sdk = sdk_serialised(&capture, &events).await;
        let ours = forwarder_written(&capture, events).await;
        (sdk, ours)
    })
}

fn event(id: &str, event_data: &str) -> AuditEvent {
    event::schema_event(id.to_owned(), event_data.to_owned()).expect("small enough for a request")
}

/// Text that is mostly what needs escaping: quotes, backslashes, every control character,
/// and multi-byte characters around them.
fn hostile_text() -> impl Strategy<Value = String> {
    let character = prop_oneof![
        Just('"'),
        Just('\\'),
        (0u8..0x20).prop_map(char::from),
        Just('\u{7f}'),
        Just('\u{2028}'),
        Just('é'),
        Just('😀'),
        any::<char>(),
        prop::char::range('a', 'z'),
    ];
    prop::collection::vec(character, 0..120).prop_map(|characters| characters.into_iter().collect())
}

#[test]
fn every_byte_below_0x80_is_written_as_the_sdk_writes_it() {
    let text: String = (0u8..0x80).map(char::from).collect();
    let events =
        vec![event("all-ascii", &text), event("multi-byte", "é😀\u{2028}\u{0}\"\\"), event("empty", "")];
    let (sdk, ours) = both(events);
    assert_eq!(String::from_utf8_lossy(&ours.body), String::from_utf8_lossy(&sdk.body));
    assert_eq!(ours, sdk);
    assert!(ours.signed);
    assert_eq!(ours.content_length, Some(ours.body.len().to_string()));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_events_are_sent_as_the_sdk_would_send_them(
        texts in prop::collection::vec(hostile_text(), 1..6),
        ids in prop::collection::vec("[-_A-Za-z0-9]{1,128}", 6),
    ) {
        let events: Vec<AuditEvent> = texts.iter().zip(&ids).map(|(text, id)| event(id, text)).collect();
        let planned = request_len(events.len(), events.iter().map(|event| event.encoded_len).sum());
        let (sdk, ours) = both(events);
        prop_assert_eq!(ours.body.len(), planned);
        prop_assert_eq!(&ours, &sdk);
        prop_assert!(ours.signed);
        prop_assert_eq!(ours.content_length, Some(planned.to_string()));
    }
}

#[tokio::test]
async fn the_stand_in_takes_the_written_body_and_stores_each_event_unchanged() {
    let stand_in = stand_in().await;
    let tricky = [
        json!({"quote": "\"", "backslash": "\\", "control": "\u{1}\u{1f}\n\t", "unicode": "é😀\u{2028}"}),
        json!({"path": "C:\\Users\\\"x\"", "nested": {"a": ["\"", "\\\\"]}}),
    ];
    let bodies: Vec<String> = tricky
        .iter()
        .enumerate()
        .map(|(i, extra)| {
            let mut value: serde_json::Value =
                serde_json::from_str(&audit_json(&format!("uid-{i}"))).unwrap();
            value["additionalEventData"] = extra.clone();
            value.to_string()
        })
        .collect();
    let event =
        records(bodies.iter().enumerate().map(|(i, body)| sqs_record(&format!("m-{i}"), body)).collect());
    let (answer, _) = forwarder(&stand_in).forward(incoming(event), None).await.expect("a readable batch");

    assert_eq!(reported(&answer), Vec::<String>::new());
    let requests = stand_in.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].status, Some(200), "signature and checksums verified: {requests:?}");
    let encoded: usize =
        bodies.iter().enumerate().map(|(i, body)| encoded_event_len(&format!("m-{i}"), body)).sum();
    assert_eq!(requests[0].body_len, request_len(bodies.len(), encoded));
    let mut stored: Vec<(String, String)> =
        stand_in.stored().into_iter().map(|event| (event.id, event.event_data)).collect();
    stored.sort();
    let expected: Vec<(String, String)> =
        bodies.iter().enumerate().map(|(i, body)| (format!("m-{i}"), body.clone())).collect();
    assert_eq!(stored, expected);
}

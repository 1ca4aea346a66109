//! The SQS stand-in: `SendMessage` on 127.0.0.1 for the real `aws-sdk-sqs` client, in the AWS
//! JSON 1.0 protocol it speaks (`POST /`, `X-Amz-Target: AmazonSQS.SendMessage`,
//! `Content-Type: application/x-amz-json-1.0`, the parameters in a JSON body), signed with
//! SigV4 for service `sqs`. The forwarder sends itself a continuation message through it when
//! an object is too large for one invocation.
//!
//! It keeps every message it accepts ([`SqsStandIn::sent`]), so a test can read what was sent
//! and deliver it back to the function as a Lambda SQS event ([`lambda_event`]). It answers the
//! `MD5OfMessageBody` SQS computes, judges FIFO's rules, and fails on command
//! ([`SqsStandIn::fail`]): an error a number of times, a hang, a message kept without an
//! answer.
//!
//! FIFO deduplication ids are remembered for the stand-in's life, not SQS's five minutes: no
//! test runs that long.
//!
//! A server of its own, not routes in the S3 stand-in's: the SDK takes one endpoint per service
//! (`AWS_ENDPOINT_URL_SQS`, `AWS_ENDPOINT_URL_S3`), so a second port costs nothing, while one
//! server would mix two scripts of faults and two request logs that tests assert on apart.

pub mod error;
pub mod message;

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;
use tokio::io::{AsyncReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub use error::SqsError;
pub use message::{lambda_event, md5_of_body, SentMessage};

use crate::cloudtrail::{ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use crate::http::{read_request, write_response, Request, Response};
use crate::script::Script;
use crate::sigv4::{self, SignatureError};
use message::SendMessageInput;

/// The account and Region of the stand-in's queues.
pub const ACCOUNT_ID: &str = "123456789012";
pub const REGION: &str = "us-east-1";

/// The `X-Amz-Target` of `SendMessage`.
pub const SEND_MESSAGE: &str = "AmazonSQS.SendMessage";

/// The longest a hung request waits for its client to give up.
const HANG_LIMIT: Duration = Duration::from_secs(3600);

/// What a `SendMessage` meets instead of the normal answer (after its signature is checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqsFault {
    /// Answer this error; nothing is kept.
    Error(SqsError),
    /// Never answer; nothing is kept.
    Hang,
    /// Keep the message, then close the connection without answering: the sender cannot know
    /// it was sent, and a retry sends it twice.
    DropAfterSend,
}

/// What the stand-in saw of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqsRequest {
    /// The `X-Amz-Target` header.
    pub target: Option<String>,
    pub queue_url: Option<String>,
    /// The status answered; `None` when there was no answer.
    pub status: Option<u16>,
    /// The error code answered, as the SDK reports it.
    pub error: Option<String>,
    pub arrived_at: Instant,
}

#[derive(Default)]
struct State {
    /// Queue names; a name ending in `.fifo` is a FIFO queue.
    queues: HashSet<String>,
    sent: Vec<SentMessage>,
    /// Per FIFO queue, the deduplication ids seen and the message each was first sent as.
    deduplication: HashMap<(String, String), String>,
    script: Script<(), SqsFault>,
    requests: Vec<SqsRequest>,
    counter: u64,
}

/// A running SQS stand-in. Dropping it stops the server.
pub struct SqsStandIn {
    address: SocketAddr,
    state: Arc<Mutex<State>>,
    server: JoinHandle<()>,
}

impl Drop for SqsStandIn {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl SqsStandIn {
    /// Starts a stand-in on a free port of 127.0.0.1.
    pub async fn start() -> io::Result<SqsStandIn> {
        SqsStandIn::start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts a stand-in on `address`, which must be a loopback address.
    pub async fn start_on(address: SocketAddr) -> io::Result<SqsStandIn> {
        if !address.ip().is_loopback() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the stand-in only listens on loopback addresses",
            ));
        }
        let listener = TcpListener::bind(address).await?;
        let address = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::default()));
        let server = tokio::spawn(serve(listener, state.clone()));
        Ok(SqsStandIn { address, state, server })
    }

    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL_SQS`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Makes a queue (FIFO when the name ends in `.fifo`, without content-based
    /// deduplication) and returns its URL, `{endpoint}/123456789012/{name}`. A queue URL of
    /// another host with the same name, as in the real Region, is taken for it too.
    pub fn create_queue(&self, name: &str) -> String {
        self.state().queues.insert(name.to_owned());
        format!("{}/{ACCOUNT_ID}/{name}", self.endpoint())
    }

    /// The next `times` `SendMessage` requests meet `fault`, after those scripted before it
    /// ([`crate::script::ALWAYS`] for every one).
    pub fn fail(&self, fault: SqsFault, times: usize) {
        self.state().script.push((), fault, times);
    }

    /// Every message accepted, in the order sent.
    pub fn sent(&self) -> Vec<SentMessage> {
        self.state().sent.clone()
    }

    /// The messages accepted after the first `from`.
    pub fn sent_since(&self, from: usize) -> Vec<SentMessage> {
        self.state().sent.get(from..).map(<[SentMessage]>::to_vec).unwrap_or_default()
    }

    /// Every request seen, in arrival order.
    pub fn requests(&self) -> Vec<SqsRequest> {
        self.state().requests.clone()
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn serve(listener: TcpListener, state: Arc<Mutex<State>>) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(connection(stream, state.clone()));
    }
}

async fn connection(stream: TcpStream, state: Arc<Mutex<State>>) {
    let _ = stream.set_nodelay(true);
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    while let Ok(Some(request)) = read_request(&mut reader).await {
        let response = match handle(&request, &state) {
            Outcome::Answer(response) => response,
            Outcome::Drop => return,
            Outcome::Hang => {
                // Waits until the client gives up and closes the connection.
                let _ = tokio::time::timeout(HANG_LIMIT, async {
                    let mut buffer = [0u8; 1024];
                    while matches!(reader.read(&mut buffer).await, Ok(read) if read > 0) {}
                })
                .await;
                return;
            }
        };
        if write_response(&mut writer, &response).await.is_err() {
            return;
        }
    }
}

enum Outcome {
    Answer(Response),
    Hang,
    Drop,
}

/// Judges one request under the lock and records it.
fn handle(request: &Request, state: &Mutex<State>) -> Outcome {
    let mut state = lock(state);
    state.counter += 1;
    let request_id = format!("00000000-0000-4000-8000-{:012x}", state.counter);
    let input = SendMessageInput::parse(&request.body).ok();
    let index = state.requests.len();
    state.requests.push(SqsRequest {
        target: request.header("x-amz-target").map(str::to_owned),
        queue_url: input.as_ref().map(|input| input.queue_url.clone()),
        status: None,
        error: None,
        arrived_at: Instant::now(),
    });
    let outcome = match send_message(request, &mut state) {
        Ok((sent, fault)) => {
            let mut body = json!({"MD5OfMessageBody": sent.md5_of_body, "MessageId": sent.message_id});
            if let Some(sequence_number) = &sent.sequence_number {
                body["SequenceNumber"] = json!(sequence_number);
            }
            match fault {
                Some(SqsFault::DropAfterSend) => Outcome::Drop,
                _ => Outcome::Answer(Response {
                    status: 200,
                    headers: vec![
                        ("content-type", "application/x-amz-json-1.0".into()),
                        ("x-amzn-requestid", request_id.clone()),
                    ],
                    body: body.to_string().into_bytes(),
                }),
            }
        }
        Err(Refusal::Fault(SqsFault::Hang)) => Outcome::Hang,
        Err(Refusal::Fault(SqsFault::DropAfterSend)) => Outcome::Drop,
        Err(Refusal::Fault(SqsFault::Error(error)) | Refusal::Error(error)) => {
            state.requests[index].error = Some(error.code().to_owned());
            Outcome::Answer(error.response(&request_id))
        }
    };
    if let Outcome::Answer(response) = &outcome {
        state.requests[index].status = Some(response.status);
    }
    outcome
}

/// Why a request was not accepted.
enum Refusal {
    Error(SqsError),
    Fault(SqsFault),
}

impl From<SqsError> for Refusal {
    fn from(error: SqsError) -> Refusal {
        Refusal::Error(error)
    }
}

/// The checks of `SendMessage`, in SQS's order (protocol, signature, script, queue, message),
/// and the message kept, with the fault that lets it be kept without an answer, if any.
fn send_message(request: &Request, state: &mut State) -> Result<(SentMessage, Option<SqsFault>), Refusal> {
    let target = request.header("x-amz-target").unwrap_or_default();
    let content_type = request.header("content-type").unwrap_or_default();
    if request.method != "POST" || content_type != "application/x-amz-json-1.0" || target != SEND_MESSAGE {
        return Err(SqsError::UnknownOperation(format!(
            "{} {} X-Amz-Target {target:?} Content-Type {content_type:?}; only {SEND_MESSAGE} in JSON 1.0 is served",
            request.method, request.path
        ))
        .into());
    }
    sigv4::verify(request, "sqs", REGION, ACCESS_KEY_ID, SECRET_ACCESS_KEY).map_err(|why| match why {
        SignatureError::Missing => SqsError::AccessDenied,
        other => SqsError::InvalidSignature(other.to_string()),
    })?;
    let fault = match state.script.take(|()| true) {
        Some(SqsFault::DropAfterSend) => Some(SqsFault::DropAfterSend),
        Some(fault) => return Err(Refusal::Fault(fault)),
        None => None,
    };
    let input = SendMessageInput::parse(&request.body)?;
    let queue = input.queue_name().to_owned();
    if !state.queues.contains(&queue) {
        return Err(SqsError::QueueDoesNotExist.into());
    }
    let fifo = queue.ends_with(".fifo");
    input.check(fifo)?;
    state.counter += 1;
    let message_id = format!("{:08x}-5a5a-4000-8000-{:012x}", state.sent.len(), state.counter);
    // A FIFO queue accepts a repeated deduplication id but keeps the first message only.
    if let Some(id) = input.message_deduplication_id.clone().filter(|_| fifo) {
        if let Some(first) = state.deduplication.get(&(queue.clone(), id.clone())) {
            let first = state.sent.iter().find(|sent| &sent.message_id == first).cloned();
            return first.map(|sent| (sent, fault)).ok_or(Refusal::Error(SqsError::InternalError));
        }
        state.deduplication.insert((queue.clone(), id), message_id.clone());
    }
    let sent = SentMessage {
        message_id,
        md5_of_body: md5_of_body(&input.body),
        sequence_number: fifo
            .then(|| format!("{:020}", 18_000_000_000_000_000_000u128 + state.sent.len() as u128)),
        queue_url: input.queue_url,
        queue_name: queue,
        body: input.body,
        delay_seconds: input.delay_seconds,
        message_group_id: input.message_group_id,
        message_deduplication_id: input.message_deduplication_id,
        message_attributes: input.message_attributes,
        sent_timestamp_ms: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_millis() as u64),
    };
    state.sent.push(sent.clone());
    Ok((sent, fault))
}

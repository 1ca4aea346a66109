//! The CloudTrail Data stand-in: `PutAuditEvents` on 127.0.0.1, checking each request as the
//! service does, storing what it accepts, and failing on command.
//!
//! Checks, in the service's order: the SigV4 signature (service `cloudtrail-data`), the
//! `channelArn` and `externalId` parameters, the body size (1 MB), 1 to 100 events, each id's
//! pattern and its uniqueness in the request; then per event, the checksum and the JSON.
//! Faults are injected by command (the next requests, given event ids) or at random from a
//! seed; the random draws depend on what is sent, not on when, so a test replays the same chaos.
//! An optional account quota ([`Quota`]) throttles requests beyond a rate shared by all callers,
//! before anything else is looked at, as the service's front door does.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::io::BufReader;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::http::{read_request, write_response, Request, Response};
use crate::quota::{Quota, TokenBucket};
use crate::sigv4;

/// The most events in one request, and the most bytes in one request body.
pub const MAX_EVENTS: usize = 100;
pub const MAX_BODY_BYTES: usize = 1_000_000;

/// Credentials the stand-in accepts; tests and tools sign with these.
pub const ACCESS_KEY_ID: &str = "AKIDSTANDIN";
pub const SECRET_ACCESS_KEY: &str = "stand-in-secret";

/// What the stand-in's channel looks like.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The channel's ARN; requests must name it (a bare ID is refused, as the service does).
    pub channel_arn: String,
    /// When set, requests must carry this `externalId`.
    pub external_id: Option<String>,
    /// When set, the requests per second the whole account may send, over every connection;
    /// the service's is [`Quota::SERVICE`]. `None` never throttles.
    pub account_quota: Option<Quota>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            channel_arn: "arn:aws:cloudtrail:us-east-1:123456789012:channel/stand-in-channel".into(),
            external_id: None,
            account_quota: None,
        }
    }
}

/// A whole-request fault for an upcoming request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer `ThrottlingException` (HTTP 400); nothing is stored.
    Throttle,
    /// Answer HTTP 500 `InternalServerException`; nothing is stored.
    ServerError,
    /// Close the connection without answering, before storing anything.
    DropBeforeStore,
    /// Store the request's valid events, then close the connection without answering.
    DropAfterStore,
    /// Never answer: the request hangs until the client gives up on it.
    Hang,
    /// Answer normally: a place in the queue of faults for a request that meets none.
    Pass,
}

/// Random faults, drawn per request and per event from a seeded generator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Chaos {
    pub seed: u64,
    /// Chance that a request meets each fault (checked in this order, one fault at most).
    pub throttle: f64,
    pub server_error: f64,
    pub drop_before_store: f64,
    pub drop_after_store: f64,
    /// Chance that an event fails with `InternalFailure`.
    pub event_failure: f64,
    /// Chance that an event fails with `Throttling`, as when the account's rate is exceeded.
    pub event_throttle: f64,
    /// Extra latency per request, drawn uniformly up to this.
    pub max_latency: Duration,
}

/// An event the stand-in stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub id: String,
    pub event_data: String,
    /// The `eventID` the stand-in gave it.
    pub event_id: String,
    /// Which request (0-based, in arrival order) stored it.
    pub request: usize,
    /// When it was stored: fleet reports measure throughput by it.
    pub stored_at: Instant,
}

/// What the stand-in saw of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    pub body_len: usize,
    /// The ids of its events; empty when the request was not valid, or was throttled by the
    /// account quota (the service does not read those).
    pub ids: Vec<String>,
    /// The HTTP status answered, or `None` when the connection was dropped.
    pub status: Option<u16>,
    /// The error code of a whole-request error.
    pub error: Option<String>,
    /// When it arrived, which is when it took its token from the account quota.
    pub arrived_at: Instant,
    /// How many of its events it stored: with no answer (`status` `None`), what the client
    /// cannot know was stored and will send again.
    pub stored: usize,
}

impl SeenRequest {
    /// Whether the account quota (or an injected fault) throttled it.
    pub fn was_throttled(&self) -> bool {
        self.error.as_deref() == Some(THROTTLED)
    }
}

/// The error code of a request over the account's quota.
pub const THROTTLED: &str = "ThrottlingException";

/// How many faults the stand-in applied, by kind, whether commanded or drawn by chaos: what a
/// test under chaos can print and hold to, so that it knows it met every fault it is about.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultsMet {
    /// Requests answered `ThrottlingException` (injected, chaos or a throttle episode; not the
    /// account quota's).
    pub throttle: usize,
    pub server_error: usize,
    pub drop_before_store: usize,
    pub drop_after_store: usize,
    pub hang: usize,
    /// Events answered `InternalFailure`.
    pub event_failure: usize,
    /// Events answered `Throttling`.
    pub event_throttle: usize,
}

impl FaultsMet {
    fn request(&mut self, fault: Fault) {
        match fault {
            Fault::Throttle => self.throttle += 1,
            Fault::ServerError => self.server_error += 1,
            Fault::DropBeforeStore => self.drop_before_store += 1,
            Fault::DropAfterStore => self.drop_after_store += 1,
            Fault::Hang => self.hang += 1,
            Fault::Pass => {}
        }
    }

    fn event(&mut self, code: &str) {
        match code {
            "InternalFailure" => self.event_failure += 1,
            "Throttling" => self.event_throttle += 1,
            _ => {}
        }
    }
}

#[derive(Default)]
struct State {
    stored: Vec<StoredEvent>,
    /// The ids in `stored`, to answer "was it stored?" without a scan.
    stored_ids: HashSet<String>,
    requests: Vec<SeenRequest>,
    faults: VecDeque<Fault>,
    event_failures: HashMap<String, VecDeque<String>>,
    /// Requests holding one of these ids are refused whole with the given code.
    refusals: HashMap<String, String>,
    latency: Duration,
    /// Every request until then is throttled.
    throttle_until: Option<Instant>,
    chaos: Option<Chaos>,
    /// How often each chaos key was drawn for.
    draws: HashMap<String, u64>,
    met: FaultsMet,
    in_flight: usize,
    peak_in_flight: usize,
    account_quota: Option<TokenBucket>,
}

impl State {
    fn new(settings: &Settings) -> State {
        State {
            account_quota: settings.account_quota.map(|quota| TokenBucket::new(quota, Instant::now())),
            ..State::default()
        }
    }
}

/// A running stand-in. Dropping it stops the server.
pub struct StandIn {
    address: SocketAddr,
    settings: Arc<Settings>,
    state: Arc<Mutex<State>>,
    server: JoinHandle<()>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl StandIn {
    /// Starts a stand-in on a free port of 127.0.0.1.
    pub async fn start(settings: Settings) -> io::Result<StandIn> {
        StandIn::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), settings).await
    }

    /// Starts a stand-in on `address`, which must be a loopback address.
    pub async fn start_on(address: SocketAddr, settings: Settings) -> io::Result<StandIn> {
        if !address.ip().is_loopback() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the stand-in only listens on loopback addresses",
            ));
        }
        let listener = TcpListener::bind(address).await?;
        let address = listener.local_addr()?;
        let settings = Arc::new(settings);
        let state = Arc::new(Mutex::new(State::new(&settings)));
        let server = tokio::spawn(serve(listener, settings.clone(), state.clone()));
        Ok(StandIn { address, settings, state, server })
    }

    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL_CLOUDTRAIL_DATA`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Every event stored so far, in the order stored.
    pub fn stored(&self) -> Vec<StoredEvent> {
        self.state().stored.clone()
    }

    /// The events stored after the first `from`, in the order stored: what a watcher that has
    /// seen `from` of them has not seen yet, without copying the rest.
    pub fn stored_since(&self, from: usize) -> Vec<StoredEvent> {
        self.state().stored.get(from..).map(<[StoredEvent]>::to_vec).unwrap_or_default()
    }

    /// How many events were stored, copies included.
    pub fn stored_count(&self) -> usize {
        self.state().stored.len()
    }

    /// Which of `ids` no event was stored for yet.
    pub fn not_stored<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
        let state = self.state();
        ids.into_iter().filter(|id| !state.stored_ids.contains(*id)).collect()
    }

    /// Every request seen so far, in arrival order.
    /// A request of another producer in the account, which draws from the same quota but
    /// stores nothing: whether it got a token (always, without a quota).
    pub fn take_quota_token(&self) -> bool {
        let now = Instant::now();
        self.state().account_quota.as_mut().is_none_or(|bucket| bucket.try_take(now))
    }

    pub fn requests(&self) -> Vec<SeenRequest> {
        self.state().requests.clone()
    }

    /// The faults applied so far, by kind.
    pub fn faults_met(&self) -> FaultsMet {
        self.state().met
    }

    /// The most requests that were being handled at once.
    pub fn peak_in_flight(&self) -> usize {
        self.state().peak_in_flight
    }

    /// Applies `fault` to the next request that has not met one yet.
    pub fn push_fault(&self, fault: Fault) {
        self.state().faults.push_back(fault);
    }

    /// Fails the event with this id with `code` the next `times` times it is sent.
    pub fn fail_event(&self, id: &str, code: &str, times: usize) {
        let mut state = self.state();
        let codes = state.event_failures.entry(id.to_owned()).or_default();
        codes.extend(std::iter::repeat_n(code.to_owned(), times));
    }

    /// Refuses, whole, every request that holds the event with this id, with `code` (HTTP 400),
    /// as the service does for a request whose content it cannot accept.
    pub fn refuse_requests_containing(&self, id: &str, code: &str) {
        self.state().refusals.insert(id.to_owned(), code.to_owned());
    }

    /// Every request waits this long before it is handled.
    /// Throttles every request, whole, for the next `episode`, as a busy account does.
    pub fn throttle_for(&self, episode: Duration) {
        self.state().throttle_until = Some(Instant::now() + episode);
    }

    pub fn set_latency(&self, latency: Duration) {
        self.state().latency = latency;
    }

    /// Turns on random faults from `chaos`.
    pub fn set_chaos(&self, chaos: Chaos) {
        self.state().chaos = Some(chaos);
    }

    /// Forgets stored events, seen requests and pending faults; the account quota's bucket is
    /// full again.
    pub fn reset(&self) {
        let mut state = self.state();
        let latency = state.latency;
        *state = State { latency, ..State::new(&self.settings) };
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn serve(listener: TcpListener, settings: Arc<Settings>, state: Arc<Mutex<State>>) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(connection(stream, settings.clone(), state.clone()));
    }
}

async fn connection(stream: TcpStream, settings: Arc<Settings>, state: Arc<Mutex<State>>) {
    let _ = stream.set_nodelay(true);
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    while let Ok(Some(request)) = read_request(&mut reader).await {
        let answer = if request.path.starts_with("/_stand-in/") {
            Some(inspect(&request, &state))
        } else {
            put_audit_events(&request, &settings, &state).await
        };
        let Some(response) = answer else { return };
        if write_response(&mut writer, &response).await.is_err() {
            return;
        }
    }
}

/// `GET /_stand-in/events` lists what was stored, for tools that run the stand-in as a process.
fn inspect(request: &Request, state: &Mutex<State>) -> Response {
    let state = lock(state);
    match request.path.as_str() {
        "/_stand-in/events" => Response::json(
            200,
            &Value::Array(
                state
                    .stored
                    .iter()
                    .map(|event| json!({"id": event.id, "eventID": event.event_id, "eventData": event.event_data}))
                    .collect(),
            ),
        ),
        _ => Response::json(404, &json!({"message": "unknown stand-in path"})),
    }
}

/// Handles one `PutAuditEvents` call; `None` drops the connection without an answer.
async fn put_audit_events(request: &Request, settings: &Settings, state: &Mutex<State>) -> Option<Response> {
    let arrived_at = Instant::now();
    let within_quota = {
        let mut state = lock(state);
        state.in_flight += 1;
        state.peak_in_flight = state.peak_in_flight.max(state.in_flight);
        state.account_quota.as_mut().is_none_or(|bucket| bucket.try_take(arrived_at))
    };
    let (response, ids, stored) = if within_quota {
        judge_and_store(request, settings, state).await
    } else {
        (Some(over_quota(state).await), Vec::new(), 0)
    };
    let seen = SeenRequest {
        body_len: request.body.len(),
        ids,
        status: response.as_ref().map(|response| response.status),
        error: response.as_ref().and_then(|response| {
            response
                .headers
                .iter()
                .find(|(name, _)| *name == "x-amzn-errortype")
                .map(|(_, code)| code.clone())
        }),
        arrived_at,
        stored,
    };
    let mut state = lock(state);
    state.in_flight -= 1;
    state.requests.push(seen);
    response
}

/// The answer to a request beyond the account quota. It is not read (a throttled request is
/// what most of a flood is, so it must cost next to nothing), but it takes the service's time
/// to answer like any other.
async fn over_quota(state: &Mutex<State>) -> Response {
    let latency = lock(state).latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    error(400, THROTTLED, "Rate exceeded")
}

/// Checks a request within the quota, applies the faults due to it, and stores what it may.
/// Returns the answer, the ids of the request's events and how many of them it stored.
async fn judge_and_store(
    request: &Request,
    settings: &Settings,
    state: &Mutex<State>,
) -> (Option<Response>, Vec<String>, usize) {
    let checked = check_request(request, settings);
    let ids: Vec<String> = match &checked {
        Ok(events) => events
            .iter()
            .filter_map(|event| event.get("id").and_then(Value::as_str).map(str::to_owned))
            .collect(),
        Err(_) => Vec::new(),
    };
    let (checked, latency, fault) = {
        let mut state = lock(state);
        let checked = checked.and_then(|events| refuse(events, &state.refusals));
        let throttling = state.throttle_until.is_some_and(|until| Instant::now() < until);
        let queued = if throttling { Some(Fault::Throttle) } else { state.faults.pop_front() };
        let (fault, extra) = match queued {
            Some(fault) => (Some(fault), Duration::ZERO),
            None if checked.is_ok() => roll_request(&mut state, &ids),
            None => (None, Duration::ZERO),
        };
        if let (Ok(_), Some(fault)) = (&checked, fault) {
            state.met.request(fault);
        }
        (checked, state.latency + extra, fault)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let (response, stored) = match checked {
        Err(response) => (Some(response), 0),
        Ok(events) => match fault {
            Some(Fault::Throttle) => (Some(error(400, THROTTLED, "Rate exceeded")), 0),
            Some(Fault::ServerError) => {
                (Some(error(500, "InternalServerException", "stand-in server error")), 0)
            }
            Some(Fault::DropBeforeStore) => (None, 0),
            Some(Fault::DropAfterStore) => (None, accept(&events, state).1),
            Some(Fault::Hang) => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                (None, 0)
            }
            Some(Fault::Pass) | None => {
                let (response, stored) = accept(&events, state);
                (Some(response), stored)
            }
        },
    };
    (response, ids, stored)
}

/// The whole-request checks; the request's events when they pass.
fn check_request(request: &Request, settings: &Settings) -> Result<Vec<Value>, Response> {
    if request.method != "POST" || request.path != "/PutAuditEvents" {
        return Err(error(404, "UnknownOperationException", "only POST /PutAuditEvents is served"));
    }
    // Requests must go to the channel's Region: a channel lives in one.
    let region = settings.channel_arn.split(':').nth(3).unwrap_or_default();
    sigv4::verify(request, "cloudtrail-data", region, ACCESS_KEY_ID, SECRET_ACCESS_KEY)
        .map_err(|why| error(403, "InvalidSignatureException", &why.to_string()))?;
    let channel = request.query_param("channelArn").unwrap_or_default();
    // The API model's pattern for channelArn is ^arn:.*$: a bare channel ID is refused whole.
    if !channel.starts_with("arn:") {
        return Err(error(
            400,
            "ValidationException",
            "1 validation error detected: Value at 'channelArn' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: ^arn:.*$",
        ));
    }
    if channel != settings.channel_arn {
        return Err(error(404, "ChannelNotFound", "no channel with that ARN"));
    }
    if let Some(expected) = &settings.external_id {
        if request.query_param("externalId").as_deref() != Some(expected.as_str()) {
            return Err(error(
                403,
                "ChannelInsufficientPermission",
                "the externalId does not match the channel policy",
            ));
        }
    }
    if request.body.len() > MAX_BODY_BYTES {
        return Err(error(413, "ValidationException", "the request body is larger than 1 MB"));
    }
    let mut body: Value = serde_json::from_slice(&request.body)
        .map_err(|_| error(400, "SerializationException", "body is not JSON"))?;
    let Some(Value::Array(events)) = body.get_mut("auditEvents").map(Value::take) else {
        return Err(error(400, "ValidationException", "auditEvents is required"));
    };
    if events.is_empty() || events.len() > MAX_EVENTS {
        return Err(error(400, "ValidationException", "auditEvents must hold 1 to 100 events"));
    }
    let mut ids = HashSet::new();
    for event in &events {
        let id = event.get("id").and_then(Value::as_str).unwrap_or_default();
        let valid = (1..=128).contains(&id.len())
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid || event.get("eventData").and_then(Value::as_str).is_none() {
            return Err(error(400, "ValidationException", "an event's id or eventData is invalid"));
        }
        if !ids.insert(id) {
            return Err(error(400, "DuplicatedAuditEventId", "two events in the request have the same id"));
        }
    }
    Ok(events)
}

fn refuse(events: Vec<Value>, refusals: &HashMap<String, String>) -> Result<Vec<Value>, Response> {
    let refused = events.iter().find_map(|event| {
        let code = refusals.get(event.get("id")?.as_str()?)?;
        Some((code, event.get("eventData")?.as_str()?))
    });
    match refused {
        Some((code, event_data)) => Err(error(
            400,
            code,
            &format!("the request holds an event the stand-in was told to refuse: {}", quoted(event_data)),
        )),
        None => Ok(events),
    }
}

/// Stores the events that pass the per-event checks and answers with both lists; also says
/// how many it stored.
fn accept(events: &[Value], state: &Mutex<State>) -> (Response, usize) {
    // What the event itself gets wrong is judged before taking the lock, so concurrent
    // requests are checked in parallel as they are by the service.
    let judged: Vec<(String, &str, Option<EventFailure>)> = events
        .iter()
        .map(|event| {
            let id = event["id"].as_str().unwrap_or_default().to_owned();
            let event_data = event["eventData"].as_str().unwrap_or_default();
            let content = content_failure(event, event_data);
            (id, event_data, content)
        })
        .collect();
    let mut state = lock(state);
    let request = state.requests.len();
    let mut successful = Vec::new();
    let mut failed = Vec::new();
    for (id, event_data, content) in judged {
        let failure = injected_failure(&mut state, &id, event_data)
            .or(content)
            .or_else(|| chaos_failure(&mut state, &id));
        match failure {
            Some((code, message)) => {
                state.met.event(&code);
                failed.push(json!({"id": id, "errorCode": code, "errorMessage": message}))
            }
            None => {
                let event_id = format!("{:08x}-0000-4000-8000-{:012x}", request, state.stored.len());
                successful.push(json!({"id": id, "eventID": event_id}));
                state.stored_ids.insert(id.clone());
                let stored_at = Instant::now();
                state.stored.push(StoredEvent {
                    id,
                    event_data: event_data.to_owned(),
                    event_id,
                    request,
                    stored_at,
                });
            }
        }
    }
    let stored = successful.len();
    (Response::json(200, &json!({"successful": successful, "failed": failed})), stored)
}

/// A per-event failure: the error code and message of a `failed` entry.
type EventFailure = (String, String);

fn injected_failure(state: &mut State, id: &str, event_data: &str) -> Option<EventFailure> {
    let code = state.event_failures.get_mut(id).and_then(VecDeque::pop_front)?;
    Some((code, format!("failure injected by the stand-in for eventData {}", quoted(event_data))))
}

/// The start of an event's content, as a service message may quote it back: the forwarder must
/// never let such a message into its logs.
fn quoted(event_data: &str) -> String {
    let start: String = event_data.chars().take(120).collect();
    format!("{start:?}")
}

/// The per-event checks of the service: the checksum, and eventData being an object with the
/// schema's required fields.
fn content_failure(event: &Value, event_data: &str) -> Option<EventFailure> {
    if let Some(checksum) = event.get("eventDataChecksum").and_then(Value::as_str) {
        let expected =
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(event_data.as_bytes()));
        if checksum != expected {
            return Some((
                "InvalidChecksum".into(),
                format!("eventDataChecksum does not match eventData {}", quoted(event_data)),
            ));
        }
    }
    match serde_json::from_str::<Value>(event_data) {
        Ok(Value::Object(fields)) => {
            let required = [
                "version",
                "userIdentity",
                "eventSource",
                "eventName",
                "eventTime",
                "UID",
                "recipientAccountId",
            ];
            let missing = required.iter().find(|field| !fields.contains_key(**field))?;
            Some(("FieldNotFound".into(), format!("{missing} is required in {}", quoted(event_data))))
        }
        _ => Some(("InvalidData".into(), format!("eventData is not a JSON object: {}", quoted(event_data)))),
    }
}

fn chaos_failure(state: &mut State, id: &str) -> Option<EventFailure> {
    let chaos = state.chaos?;
    let seen = state.draws.entry(format!("event:{id}")).or_insert(0);
    *seen += 1;
    let roll = draw(chaos.seed, "event", id, *seen);
    if roll >= chaos.event_failure + chaos.event_throttle {
        return None;
    }
    let code = if roll < chaos.event_throttle { "Throttling" } else { "InternalFailure" };
    Some((code.into(), "failure injected by the stand-in's chaos".into()))
}

/// Draws a request's fault and extra latency. The draw depends on the seed, the request's ids
/// and how often the same ids came before, not on arrival order, so concurrent senders meet
/// the same chaos on every run.
fn roll_request(state: &mut State, ids: &[String]) -> (Option<Fault>, Duration) {
    let Some(chaos) = state.chaos else { return (None, Duration::ZERO) };
    let key = ids.join(",");
    let seen = state.draws.entry(format!("request:{key}")).or_insert(0);
    *seen += 1;
    let n = *seen;
    let latency = chaos.max_latency.mul_f64(draw(chaos.seed, "latency", &key, n));
    let roll = draw(chaos.seed, "fault", &key, n);
    let mut threshold = 0.0;
    for (chance, fault) in [
        (chaos.throttle, Fault::Throttle),
        (chaos.server_error, Fault::ServerError),
        (chaos.drop_before_store, Fault::DropBeforeStore),
        (chaos.drop_after_store, Fault::DropAfterStore),
    ] {
        threshold += chance;
        if roll < threshold {
            return (Some(fault), latency);
        }
    }
    (None, latency)
}

/// A number in [0, 1) from the seed, a purpose, a key and a count: FNV-1a into splitmix64.
fn draw(seed: u64, purpose: &str, key: &str, n: u64) -> f64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for byte in purpose.bytes().chain([0]).chain(key.bytes()).chain(n.to_le_bytes()) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut z = hash.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

fn error(status: u16, code: &str, message: &str) -> Response {
    Response::json(status, &json!({"message": message})).with_header("x-amzn-errortype", code)
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// Sends `count` unsigned requests on one connection; returns each raw answer.
    async fn send_unsigned(stand_in: &StandIn, count: usize) -> Vec<String> {
        let mut stream = TcpStream::connect(stand_in.address()).await.unwrap();
        let mut answers = Vec::new();
        for _ in 0..count {
            let request = "POST /PutAuditEvents HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}";
            stream.write_all(request.as_bytes()).await.unwrap();
            // Every answer's body is a JSON object: read until one has ended.
            let mut answer = Vec::new();
            while answer.last() != Some(&b'}') {
                let mut buffer = [0; 4096];
                let read = stream.read(&mut buffer).await.unwrap();
                assert!(read > 0, "the stand-in closed the connection");
                answer.extend_from_slice(&buffer[..read]);
            }
            answers.push(String::from_utf8_lossy(&answer).into_owned());
        }
        answers
    }

    #[tokio::test]
    async fn a_request_beyond_the_account_quota_is_throttled_before_it_is_read() {
        // One token, earned back only after 1,000 s: the second request finds none.
        let quota = Quota { requests_per_second: 0.001, burst: 1.0 };
        let stand_in =
            StandIn::start(Settings { account_quota: Some(quota), ..Settings::default() }).await.unwrap();
        let answers = send_unsigned(&stand_in, 2).await;

        assert!(
            answers[0].contains("InvalidSignatureException"),
            "the first request is read: {}",
            answers[0]
        );
        assert!(answers[1].starts_with("HTTP/1.1 400 "), "{}", answers[1]);
        assert!(answers[1].contains("x-amzn-errortype: ThrottlingException"), "{}", answers[1]);
        assert!(answers[1].ends_with(r#"{"message":"Rate exceeded"}"#), "{}", answers[1]);
        let requests = stand_in.requests();
        assert_eq!(requests.len(), 2);
        assert!(!requests[0].was_throttled() && requests[1].was_throttled());
        assert_eq!(stand_in.stored_count(), 0);
    }

    #[tokio::test]
    async fn without_a_quota_nothing_is_throttled() {
        let stand_in = StandIn::start(Settings::default()).await.unwrap();
        let answers = send_unsigned(&stand_in, 30).await;
        assert!(answers.iter().all(|answer| answer.contains("InvalidSignatureException")));
    }
}

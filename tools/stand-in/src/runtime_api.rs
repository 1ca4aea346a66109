//! A stand-in for the Lambda Runtime API on 127.0.0.1, so a test can run the real function
//! binary through the real runtime loop: it hands out queued invocations on `next` and keeps
//! what the function answers. It also notes when the first `next` arrived, which is when a
//! cold start ends, and counts `next` requests, so a benchmark knows when the function has
//! finished with an invocation and waits for the next one. What a function that cannot start
//! posts to `init/error` is kept too.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::BufReader;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::http::{read_request, write_response, Request, Response};

const PREFIX: &str = "/2018-06-01/runtime";

/// What the function answered to one invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum InvocationResult {
    /// The body posted to `…/response`.
    Response(Value),
    /// The body posted to `…/error`.
    Error(Value),
}

struct Invocation {
    request_id: String,
    payload: Vec<u8>,
    deadline_ms: u64,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Invocation>,
    results: HashMap<String, InvocationResult>,
    /// When each answer arrived, in epoch milliseconds, to compare with its deadline.
    answered_ms: HashMap<String, u64>,
    first_next: Option<Instant>,
    nexts: u64,
    /// The body and the `Lambda-Runtime-Function-Error-Type` header posted to `init/error`.
    init_error: Option<(Value, Option<String>)>,
    counter: u64,
}

/// A running Runtime API stand-in. Dropping it stops the server.
pub struct RuntimeApi {
    address: SocketAddr,
    state: Arc<Mutex<State>>,
    changed: Arc<Notify>,
    server: JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl RuntimeApi {
    pub async fn start() -> io::Result<RuntimeApi> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let address = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::default()));
        let changed = Arc::new(Notify::new());
        let server = tokio::spawn(serve(listener, state.clone(), changed.clone()));
        Ok(RuntimeApi { address, state, changed, server })
    }

    /// `127.0.0.1:PORT`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Queues an invocation with `payload` and a deadline (epoch ms); returns its request id.
    pub fn invoke(&self, payload: &Value, deadline_ms: u64) -> String {
        self.invoke_raw(payload.to_string().into_bytes(), deadline_ms)
    }

    /// Queues an invocation whose payload is already serialised.
    pub fn invoke_raw(&self, payload: Vec<u8>, deadline_ms: u64) -> String {
        let mut state = self.state();
        state.counter += 1;
        let request_id = format!("00000000-0000-4000-8000-{:012}", state.counter);
        state.queue.push_back(Invocation { request_id: request_id.clone(), payload, deadline_ms });
        drop(state);
        self.changed.notify_waiters();
        request_id
    }

    /// Waits up to `timeout` for the function's answer to `request_id`.
    pub async fn result(&self, request_id: &str, timeout: Duration) -> Option<InvocationResult> {
        let until = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.changed.notified();
            if let Some(result) = self.state().results.get(request_id) {
                return Some(result.clone());
            }
            if tokio::time::timeout_at(until, notified).await.is_err() {
                return None;
            }
        }
    }

    /// When the answer to `request_id` arrived, in epoch milliseconds like its deadline.
    pub fn answered_ms(&self, request_id: &str) -> Option<u64> {
        self.state().answered_ms.get(request_id).copied()
    }

    /// When the function first asked for work: the end of its cold start.
    pub fn first_next(&self) -> Option<Instant> {
        self.state().first_next
    }

    /// How many times the function has asked for work: after its answer to the `n`th
    /// invocation, it is idle again once this reaches `n + 1`.
    pub fn next_requests(&self) -> u64 {
        self.state().nexts
    }

    /// Waits up to `timeout` until the function has asked for work `count` times.
    pub async fn wait_for_next_requests(&self, count: u64, timeout: Duration) -> bool {
        let until = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.changed.notified();
            if self.state().nexts >= count {
                return true;
            }
            if tokio::time::timeout_at(until, notified).await.is_err() {
                return false;
            }
        }
    }

    /// What the function posted to `init/error`, if it did.
    pub fn init_error(&self) -> Option<Value> {
        self.state().init_error.as_ref().map(|(body, _)| body.clone())
    }

    /// The `Lambda-Runtime-Function-Error-Type` header of the `init/error` post, if it had one.
    pub fn init_error_type(&self) -> Option<String> {
        self.state().init_error.as_ref().and_then(|(_, error_type)| error_type.clone())
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn serve(listener: TcpListener, state: Arc<Mutex<State>>, changed: Arc<Notify>) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(connection(stream, state.clone(), changed.clone()));
    }
}

async fn connection(stream: TcpStream, state: Arc<Mutex<State>>, changed: Arc<Notify>) {
    let _ = stream.set_nodelay(true);
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    while let Ok(Some(request)) = read_request(&mut reader).await {
        let response = route(&request, &state, &changed).await;
        if write_response(&mut writer, &response).await.is_err() {
            return;
        }
    }
}

async fn route(request: &Request, state: &Mutex<State>, changed: &Notify) -> Response {
    let accepted = || Response::json(202, &serde_json::json!({"status": "OK"}));
    let path = request.path.strip_prefix(PREFIX).unwrap_or("");
    if request.method == "GET" && path == "/invocation/next" {
        return next_invocation(state, changed).await;
    }
    let body = || serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    if request.method == "POST" && path == "/init/error" {
        let error_type = request.header("lambda-runtime-function-error-type").map(str::to_owned);
        lock(state).init_error = Some((body(), error_type));
        changed.notify_waiters();
        return accepted();
    }
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if let ["invocation", request_id, kind @ ("response" | "error")] = parts[..] {
        let result = if kind == "response" {
            InvocationResult::Response(body())
        } else {
            InvocationResult::Error(body())
        };
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_millis() as u64);
        let mut state = lock(state);
        state.results.insert(request_id.to_owned(), result);
        state.answered_ms.insert(request_id.to_owned(), now_ms);
        drop(state);
        changed.notify_waiters();
        return accepted();
    }
    Response::json(404, &serde_json::json!({"message": "unknown Runtime API path"}))
}

async fn next_invocation(state: &Mutex<State>, changed: &Notify) -> Response {
    lock(state).nexts += 1;
    changed.notify_waiters();
    loop {
        let notified = changed.notified();
        {
            let mut state = lock(state);
            state.first_next.get_or_insert_with(Instant::now);
            if let Some(invocation) = state.queue.pop_front() {
                return Response {
                    status: 200,
                    headers: vec![
                        ("content-type", "application/json".into()),
                        ("lambda-runtime-aws-request-id", invocation.request_id),
                        ("lambda-runtime-deadline-ms", invocation.deadline_ms.to_string()),
                        (
                            "lambda-runtime-invoked-function-arn",
                            "arn:aws:lambda:us-east-1:123456789012:function:cloudtrail-lake-forwarder".into(),
                        ),
                        (
                            "lambda-runtime-trace-id",
                            "Root=1-00000000-000000000000000000000000;Sampled=0".into(),
                        ),
                    ],
                    body: invocation.payload,
                };
            }
        }
        notified.await;
    }
}

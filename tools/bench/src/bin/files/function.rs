//! The forwarder's release binary as the function process, through the Runtime API stand-in,
//! reading one S3 object from its notification to its last event: the first invocation gets
//! the SQS message S3 would have sent, and each later one the continuation messages the
//! function sent to the SQS stand-in, as Lambda would deliver them. What it costs is read from
//! the process between invocations: CPU (user + system, `/proc/PID/stat`) and peak RSS
//! (`VmHWM`), as `cpu.rs` reads them.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cloudtrail_data_stand_in::fixtures::{lambda_environment, object_environment};
use cloudtrail_data_stand_in::machine::CpuShare;
use cloudtrail_data_stand_in::s3::event_notification;
use cloudtrail_data_stand_in::sqs::{lambda_event, ACCOUNT_ID, REGION};
use cloudtrail_data_stand_in::{InvocationResult, ObjectVersion, RuntimeApi, S3StandIn, SqsStandIn, StandIn};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::Error;

/// More invocations than any object here needs: a function that keeps continuing without
/// getting anywhere is stopped.
const MOST_INVOCATIONS: usize = 200;

/// What the stand-ins and the function are set up with.
pub struct Setup<'a> {
    pub binary: &'a Path,
    pub cloudtrail: &'a StandIn,
    pub s3: &'a S3StandIn,
    pub sqs: &'a SqsStandIn,
    /// The bucket the function may read (`S3_OBJECTS`).
    pub bucket: &'a str,
    /// The queue S3 notifies and the function continues through.
    pub queue: &'a str,
    /// Each invocation's deadline, from when it is handed over.
    pub deadline: Duration,
    pub share: Option<&'a CpuShare>,
}

/// One object read through, as the function did it.
pub struct Reading {
    pub invocations: usize,
    /// From handing over the first event to the last answer.
    pub wall: Duration,
    /// Start of the process to its first request for work.
    pub cold_start: Duration,
    /// CPU time of the invocations, start excluded.
    pub cpu: Duration,
    pub peak_rss_kib: u64,
    /// Each invocation's wall time.
    pub walls: Vec<Duration>,
    /// Each invocation's summary line, when it wrote one.
    pub summaries: Vec<Value>,
    /// Why reading stopped before the object was done, if it did.
    pub stopped: Option<String>,
}

/// Starts the function and hands it `object`'s notification, then every continuation it sends,
/// until it sends none.
pub async fn read_object(setup: &Setup<'_>, object: &ObjectVersion) -> Result<Reading, Error> {
    let mut function = Function::start(setup).await?;
    let mut event = first_event(object, setup.queue);
    let mut seen = setup.sqs.sent().len();
    let before = function.cpu_ticks()?;
    let started = Instant::now();
    let mut walls = Vec::new();
    let mut stopped = None;
    while walls.len() < MOST_INVOCATIONS {
        let invoked = Instant::now();
        let answer = function.invoke(event.to_string().into_bytes(), setup.deadline).await?;
        walls.push(invoked.elapsed());
        if let Err(why) = answer {
            stopped = Some(why);
            break;
        }
        let continuations = setup.sqs.sent_since(seen);
        if continuations.is_empty() {
            break;
        }
        seen += continuations.len();
        event = lambda_event(&continuations);
    }
    if walls.len() == MOST_INVOCATIONS {
        stopped = Some(format!("still continuing after {MOST_INVOCATIONS} invocations"));
    }
    let wall = started.elapsed();
    let ticks = function.cpu_ticks()? - before;
    // Summary lines are written before the answer; give the pipe a moment.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let summaries = function.summaries.lock().unwrap().clone();
    Ok(Reading {
        invocations: walls.len(),
        wall,
        cold_start: function.cold_start,
        cpu: Duration::from_secs_f64(ticks as f64 / clock_ticks_per_second() as f64),
        peak_rss_kib: function.peak_rss_kib(),
        walls,
        summaries,
        stopped,
    })
}

/// The SQS message that S3 sends to the queue for `object`, as a Lambda event.
fn first_event(object: &ObjectVersion, queue: &str) -> Value {
    json!({"Records": [{
        "messageId": "5c1d2a4e-0000-4000-8000-000000000001",
        "receiptHandle": "AQEBnotification#1",
        "body": event_notification([object]).to_string(),
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1764149400000",
                       "SenderId": "AIDAS3NOTIFICATION", "ApproximateFirstReceiveTimestamp": "1764149400001"},
        "messageAttributes": {}, "md5OfBody": "0123456789abcdef0123456789abcdef",
        "eventSource": "aws:sqs", "eventSourceARN": format!("arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{queue}"),
        "awsRegion": REGION,
    }]})
}

/// The function process under its Runtime API stand-in.
struct Function {
    child: Child,
    pid: u32,
    runtime: RuntimeApi,
    cold_start: Duration,
    invocations: u64,
    summaries: Arc<Mutex<Vec<Value>>>,
}

impl Function {
    async fn start(setup: &Setup<'_>) -> Result<Function, Error> {
        let runtime = RuntimeApi::start().await?;
        let mut command = match setup.share {
            Some(share) => share.command(setup.binary),
            None => Command::new(setup.binary),
        };
        command
            .env_clear()
            .envs(lambda_environment(&runtime.address(), setup.cloudtrail))
            .envs(object_environment(setup.s3, setup.sqs))
            .env("S3_OBJECTS", setup.bucket)
            .env("EVENT_MAPPING", "preset:github")
            .env("AWS_LAMBDA_LOG_LEVEL", "INFO")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let started = Instant::now();
        let mut child = command.spawn()?;
        let pid = child.id().ok_or("the function exited at once")?;
        let summaries = Arc::new(Mutex::new(Vec::new()));
        tokio::spawn(read_summaries(child.stdout.take().ok_or("no stdout")?, summaries.clone()));
        while runtime.first_next().is_none() {
            if let Some(status) = child.try_wait()? {
                let why = runtime.init_error().map_or_else(String::new, |error| format!(": {error}"));
                return Err(format!("the function exited at init ({status}){why}").into());
            }
            tokio::time::sleep(Duration::from_micros(500)).await;
        }
        let cold_start = runtime.first_next().expect("polled above") - started;
        Ok(Function { child, pid, runtime, cold_start, invocations: 0, summaries })
    }

    /// Invokes with `event` and waits until the function asks for its next one. `Ok(Err)` when
    /// it answered anything but "all done": Lambda would deliver the message again later.
    async fn invoke(&mut self, event: Vec<u8>, deadline: Duration) -> Result<Result<(), String>, Error> {
        let deadline_ms =
            SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as u64 + deadline.as_millis() as u64;
        let request_id = self.runtime.invoke_raw(event, deadline_ms);
        let result = self.runtime.result(&request_id, deadline + Duration::from_secs(60)).await;
        self.invocations += 1;
        let outcome = match result {
            Some(InvocationResult::Response(answer))
                if answer["batchItemFailures"].as_array().is_some_and(Vec::is_empty) =>
            {
                Ok(())
            }
            Some(InvocationResult::Response(answer)) => {
                Err(format!("invocation {} reported the message failed: {answer}", self.invocations))
            }
            Some(InvocationResult::Error(error)) => {
                Err(format!("invocation {} ended in an error: {error}", self.invocations))
            }
            None => {
                return Err(
                    format!("no answer a minute past invocation {}'s deadline", self.invocations).into()
                )
            }
        };
        if !self.runtime.wait_for_next_requests(self.invocations + 1, Duration::from_secs(30)).await {
            return Err("the function did not ask for its next invocation".into());
        }
        Ok(outcome)
    }

    fn cpu_ticks(&self) -> Result<u64, Error> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid))?;
        // The command name may hold spaces; the fields after it are numbers. utime and stime
        // are fields 14 and 15 of stat(5), the 12th and 13th after the name.
        let fields: Vec<&str> = stat.rsplit_once(')').ok_or("malformed stat")?.1.split_whitespace().collect();
        Ok(fields[11].parse::<u64>()? + fields[12].parse::<u64>()?)
    }

    fn peak_rss_kib(&self) -> u64 {
        peak_rss_kib(self.pid)
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// `VmHWM` of a process, in KiB; 0 when it cannot be read.
pub fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn read_summaries(stdout: tokio::process::ChildStdout, summaries: Arc<Mutex<Vec<Value>>>) {
    let mut lines = BufReader::new(stdout).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if line.contains("invocation summary") {
            if let Ok(value) = serde_json::from_str::<Value>(&line) {
                summaries.lock().unwrap().push(value);
            }
        }
    }
}

/// The release binary, or the one `BENCH_BINARY` names.
pub fn release_binary(target: &Path) -> Result<PathBuf, String> {
    let path = std::env::var_os("BENCH_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| target.join("release/cloudtrail-lake-forwarder"));
    match path.exists() {
        true => Ok(path),
        false => Err(format!(
            "{} is missing: run `cargo build --release --bin cloudtrail-lake-forwarder` first",
            path.display()
        )),
    }
}

/// `USER_HZ`, the unit of `/proc/PID/stat`'s times.
pub fn clock_ticks_per_second() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100)
}

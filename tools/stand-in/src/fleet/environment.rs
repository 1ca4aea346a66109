//! One execution environment of the fleet: a process of the real function binary and the
//! Runtime API stand-in it polls. Like Lambda, an environment whose invocation timed out or
//! whose process died is replaced by a fresh one (a new cold start); the old process is killed.
//!
//! Each process starts with a cleared environment: the Lambda-like variables of
//! [`lambda_environment`] (dummy credentials, endpoints on 127.0.0.1) and the caller's extras,
//! so nothing can reach AWS. Its stdout and stderr go to files, one pair per start.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokio::process::{Child, Command};
use tokio::time::Instant;

use crate::fixtures::lambda_environment;
use crate::{InvocationResult, RuntimeApi, StandIn};

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ending {
    /// The function answered (`…/response`).
    Answered(Value),
    /// The function reported an error (`…/error`).
    Errored,
    /// No answer by the deadline.
    TimedOut,
    /// The process exited before answering.
    Crashed,
    /// The run's time limit came first; the batch stays in flight.
    Cut,
}

/// What every process of the fleet is started with.
#[derive(Debug, Clone)]
pub struct Launch {
    pub binary: PathBuf,
    pub extra_environment: Vec<(String, String)>,
    pub logs: PathBuf,
}

pub struct Environment {
    index: usize,
    starts: usize,
    runtime: RuntimeApi,
    process: Child,
}

impl Environment {
    /// Starts environment `index`'s first process.
    pub async fn start(index: usize, launch: &Launch, stand_in: &StandIn) -> io::Result<Environment> {
        let runtime = RuntimeApi::start().await?;
        let process = spawn(index, 1, launch, &runtime, stand_in)?;
        Ok(Environment { index, starts: 1, runtime, process })
    }

    /// Hands `payload` to the function with a deadline `timeout` away, and waits for the end of
    /// the invocation or for `run_ends`, whichever comes first.
    pub async fn invoke(&mut self, payload: Vec<u8>, timeout: Duration, run_ends: Instant) -> Ending {
        let deadline_ms = epoch_ms() + timeout.as_millis() as u64;
        let request_id = self.runtime.invoke_raw(payload, deadline_ms);
        let wait = timeout.min(run_ends.saturating_duration_since(Instant::now()));
        tokio::select! {
            result = self.runtime.result(&request_id, wait) => match result {
                Some(InvocationResult::Response(answer)) => Ending::Answered(answer),
                Some(InvocationResult::Error(_)) => Ending::Errored,
                None if wait < timeout => Ending::Cut,
                None => Ending::TimedOut,
            },
            _ = self.process.wait() => Ending::Crashed,
        }
    }

    /// Replaces the process (and its Runtime API, so no invocation meant for the old one
    /// reaches the new one) after a timeout or a crash.
    pub async fn replace(&mut self, launch: &Launch, stand_in: &StandIn) -> io::Result<()> {
        self.stop().await;
        self.runtime = RuntimeApi::start().await?;
        self.starts += 1;
        self.process = spawn(self.index, self.starts, launch, &self.runtime, stand_in)?;
        Ok(())
    }

    /// Kills the process and waits for it to go.
    pub async fn stop(&mut self) {
        let _ = self.process.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.process.wait()).await;
    }
}

fn spawn(
    index: usize,
    start: usize,
    launch: &Launch,
    runtime: &RuntimeApi,
    stand_in: &StandIn,
) -> io::Result<Child> {
    let log =
        |stream: &str| -> io::Result<File> { File::create(log_path(&launch.logs, index, start, stream)) };
    Command::new(&launch.binary)
        .env_clear()
        .envs(lambda_environment(&runtime.address(), stand_in))
        .envs(launch.extra_environment.iter().map(|(key, value)| (key, value)))
        .stdin(Stdio::null())
        .stdout(Stdio::from(log("stdout")?))
        .stderr(Stdio::from(log("stderr")?))
        .kill_on_drop(true)
        .spawn()
        .map_err(|error| {
            io::Error::new(error.kind(), format!("cannot start {}: {error}", launch.binary.display()))
        })
}

/// `env-03.1.stdout`: environment 3's first process's stdout.
pub fn log_path(logs: &Path, index: usize, start: usize, stream: &str) -> PathBuf {
    logs.join(format!("env-{index:02}.{start}.{stream}"))
}

fn epoch_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as u64
}

//! The Python peer (`tools/bench/peer/github_sample.py`, AWS's GitHub sample's work in one
//! process) run against the same stand-ins as the forwarder, with the same dummy credentials
//! and nothing else in its environment, so that it cannot reach AWS. It measures itself
//! (`resource.getrusage`) and prints one JSON line, read here.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use cloudtrail_data_stand_in::cloudtrail::{ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use cloudtrail_data_stand_in::{ObjectVersion, S3StandIn, StandIn};
use serde::Deserialize;
use tokio::process::Command;

use crate::Error;

/// What the peer says of its run.
#[derive(Debug, Deserialize)]
pub struct PeerRun {
    pub events: u64,
    pub requests: u64,
    /// Events the service answered as failed: the sample neither retries nor reports them.
    pub failed: u64,
    /// Interpreter, `import boto3` and the clients.
    pub start_cpu_s: f64,
    /// Reading, mapping and sending.
    pub work_cpu_s: f64,
    pub work_wall_s: f64,
    pub max_rss_kib: u64,
    /// From spawning the interpreter to its exit, measured here.
    #[serde(skip)]
    pub process_wall: Duration,
}

/// The interpreter of the venv under the build folder, or `BENCH_PYTHON`.
pub fn python(target: &Path) -> Result<PathBuf, String> {
    let path = std::env::var_os("BENCH_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| target.join("bench-venv/bin/python"));
    match path.exists() {
        true => Ok(path),
        false => Err(format!(
            "{} is missing: `python3 -m venv {venv} && {venv}/bin/pip install -r tools/bench/peer/requirements.txt`",
            path.display(),
            venv = target.join("bench-venv").display()
        )),
    }
}

/// Runs the peer on `object` and waits for it.
pub async fn forward(
    python: &Path,
    cloudtrail: &StandIn,
    s3: &S3StandIn,
    object: &ObjectVersion,
) -> Result<PeerRun, Error> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("peer/github_sample.py");
    let channel_arn = &cloudtrail.settings().channel_arn;
    let account_id = channel_arn.split(':').nth(4).ok_or("a channel ARN without an account")?;
    let started = Instant::now();
    let output = Command::new(python)
        .arg(&script)
        .args(["--bucket", &object.bucket, "--key", &object.key, "--channel-arn", channel_arn])
        .args(["--account-id", account_id, "--s3-endpoint", &s3.endpoint()])
        .args(["--cloudtrail-endpoint", &cloudtrail.endpoint()])
        .env_clear()
        .envs([
            ("AWS_REGION", "us-east-1"),
            // boto3 reads the Region from this one; Lambda sets both.
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID),
            ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_CONFIG_FILE", "/dev/null"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
            ("PYTHONDONTWRITEBYTECODE", "1"),
        ])
        .env("AWS_ENDPOINT_URL_S3", s3.endpoint())
        .env("AWS_ENDPOINT_URL_CLOUDTRAIL_DATA", cloudtrail.endpoint())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output()
        .await?;
    let process_wall = started.elapsed();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last: Vec<&str> = stderr.lines().rev().take(3).collect();
        return Err(format!("the Python peer failed ({}): {}", output.status, last.join(" / ")).into());
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().ok_or("the Python peer printed nothing")?;
    let mut run: PeerRun = serde_json::from_str(last)?;
    run.process_wall = process_wall;
    Ok(run)
}

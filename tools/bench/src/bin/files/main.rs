//! Files benchmark: one GitHub Enterprise audit-log file in S3 forwarded to CloudTrail Lake by
//! the forwarder and by a Python peer doing what AWS's GitHub sample does, side by side in one
//! run: events, invocations, wall time, CPU per 1,000 events, peak RSS, and whether every event
//! was stored once.
//!
//! ```sh
//! python3 -m venv target/bench-venv && target/bench-venv/bin/pip install -r tools/bench/peer/requirements.txt
//! cargo build --release --bin cloudtrail-lake-forwarder
//! cargo run --release -p forwarder-bench --bin files -- [--mb 100] [--also-1gb] [--share] [--parts] [--latency-ms 50] [--deadline-s 60] [--only forwarder|peer] [--verbose]
//! ```
//!
//! The file (`github.rs`: gzip JSON Lines of GitHub-shaped events, about `--mb` MB of text) is
//! written once under the build folder (`CARGO_TARGET_DIR`, or `target/`) and served by the S3
//! stand-in. The CloudTrail Data stand-in answers each request after `--latency-ms` and throttles
//! beyond the account's quota (100 requests per second); the SQS stand-in takes the forwarder's
//! continuation messages.
//!
//! - The forwarder (`function.rs`): the release binary through the Runtime API stand-in, with
//!   `S3_OBJECTS` and `EVENT_MAPPING=preset:github`; the first invocation gets the object's S3
//!   notification in an SQS message, each next one the continuation messages it sent, each with
//!   a deadline `--deadline-s` after it was handed over, until it sends none. CPU is the
//!   process's user + system time over the invocations; peak RSS its `VmHWM`.
//! - The peer (`peer.rs`, `tools/bench/peer/github_sample.py`): boto3 reads the whole object,
//!   maps every line as the sample does and sends requests of 100 events one after the other,
//!   in one process with no deadline. It reports its own CPU and peak RSS (`getrusage`).
//!
//! Then `check.rs` matches what the CloudTrail Data stand-in stored to the file's lines.
//!
//! With `--parts`, `floor.rs` then measures the forwarder's work on each file part by part in
//! this process, beside the parts any forwarder needs (inflating, reading JSON, hashing).
//!
//! With `--share` (root and a cgroup CPU controller), the forwarder reads the `--mb` file again
//! at 128 MB's CPU share (`machine::CpuShare`): its events per second of CPU, and from them how
//! many 900-second invocations a 1 GB file takes at the account's full quota.
//!
//! The forwarder's wiring of S3 objects is the lead's work in progress: until it is on this
//! branch, the forwarder rows say why it stopped, and `--only peer` measures the peer alone.

mod check;
mod floor;
mod function;
mod github;
mod peer;
mod share;
mod table;

use std::path::{Path, PathBuf};
use std::time::Duration;

use cloudtrail_data_stand_in::machine::{self, CpuShare};
use cloudtrail_data_stand_in::{ObjectBody, ObjectVersion, Quota, S3StandIn, Settings, SqsStandIn, StandIn};

use check::Stored;
use function::{Reading, Setup};
use github::AuditFile;

type Error = Box<dyn std::error::Error>;

/// Where the files are put, and the queue their notifications go to.
pub const BUCKET: &str = "github-audit-log";
const QUEUE: &str = "github-audit-files";

/// A key as GitHub's streaming writes them; the sample takes the id prefix from its sixth part.
const KEY_PREFIX: &str = "2026/11/26/09/30";

#[derive(Clone)]
struct Options {
    megabytes: u64,
    also_1gb: bool,
    share: bool,
    parts: bool,
    latency: Duration,
    deadline: Duration,
    only: Option<String>,
    verbose: bool,
}

fn options() -> Result<Options, Error> {
    let mut options = Options {
        megabytes: 100,
        also_1gb: false,
        share: false,
        parts: false,
        latency: Duration::from_millis(50),
        deadline: Duration::from_secs(60),
        only: None,
        verbose: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--mb" => options.megabytes = value()?.parse()?,
            "--also-1gb" => options.also_1gb = true,
            "--share" => options.share = true,
            "--parts" => options.parts = true,
            "--latency-ms" => options.latency = Duration::from_millis(value()?.parse()?),
            "--deadline-s" => options.deadline = Duration::from_secs(value()?.parse()?),
            "--only" => options.only = Some(value()?),
            "--verbose" => options.verbose = true,
            _ => {
                return Err(format!("unknown argument {flag:?}; see the usage at the top of the file").into())
            }
        }
    }
    Ok(options)
}

/// The stand-ins of one file's runs: the file is put once, each side reads it.
struct StandIns {
    cloudtrail: StandIn,
    s3: S3StandIn,
    sqs: SqsStandIn,
    object: ObjectVersion,
}

impl StandIns {
    async fn start(file: &AuditFile, latency: Duration) -> Result<StandIns, Error> {
        let settings = Settings { account_quota: Some(Quota::SERVICE), ..Settings::default() };
        let cloudtrail = StandIn::start(settings).await?;
        cloudtrail.set_latency(latency);
        let s3 = S3StandIn::start().await?;
        let key = format!("{KEY_PREFIX}/{}.json.log.gz", file_uuid(file.uncompressed_bytes));
        let object = s3.put_object(BUCKET, &key, ObjectBody::file(&file.path)?);
        let sqs = SqsStandIn::start().await?;
        sqs.create_queue(QUEUE);
        Ok(StandIns { cloudtrail, s3, sqs, object })
    }

    /// What was stored since the last take, checked against the file; the store is emptied.
    fn take_stored(&self, file: &AuditFile) -> Stored {
        let stored = self.cloudtrail.stored();
        self.cloudtrail.reset();
        check::check(&stored, file.events)
    }
}

/// A UUID-shaped name for the file, as GitHub's keys end.
fn file_uuid(seed: u64) -> String {
    let hex = format!("{:016x}{:016x}", seed.wrapping_mul(0x9e37_79b9_7f4a_7c15), !seed);
    format!("{}-{}-4{}-8{}-{}", &hex[..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32])
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let options = options()?;
    let target = target_dir();
    println!("machine: {} cores, {}", std::thread::available_parallelism()?.get(), machine::cpu_model());
    println!(
        "stand-ins: CloudTrail Data answers after {} ms, account quota 100 requests/s; invocation deadline {} s\n",
        options.latency.as_millis(),
        options.deadline.as_secs()
    );
    let mut sizes = vec![options.megabytes];
    if options.also_1gb && options.megabytes != 1000 {
        sizes.push(1000);
    }
    let runs_forwarder = options.only.as_deref() != Some("peer");
    let runs_peer = options.only.as_deref() != Some("forwarder");
    let binary = if runs_forwarder { Some(function::release_binary(&target)?) } else { None };
    let python = if runs_peer { Some(peer::python(&target)?) } else { None };

    let mut rows = Vec::new();
    let mut files = Vec::new();
    for megabytes in sizes {
        let file = github::audit_file(&target.join("bench-files"), megabytes)?;
        println!(
            "file: {} — {} events, {:.1} MB of JSON lines, {:.1} MB gzip",
            file.path.display(),
            file.events,
            file.uncompressed_bytes as f64 / 1e6,
            file.compressed_bytes as f64 / 1e6
        );
        let stand_ins = StandIns::start(&file, options.latency).await?;
        if let Some(binary) = &binary {
            let reading = forwarder(&options, binary, &stand_ins, None).await;
            let stored = stand_ins.take_stored(&file);
            rows.push(table::forwarder_row(&file, reading, stored, options.verbose));
        }
        if let Some(python) = &python {
            let run = peer::forward(python, &stand_ins.cloudtrail, &stand_ins.s3, &stand_ins.object).await;
            let stored = stand_ins.take_stored(&file);
            rows.push(table::peer_row(&file, run, stored));
        }
        files.push(file);
    }
    println!();
    table::print_table(&rows);
    if options.parts {
        for file in &files {
            table::print_parts(file, &floor::parts(file)?, &rows);
        }
    }

    if options.share {
        let Some(binary) = &binary else {
            return Err("--share measures the forwarder: drop --only peer".into());
        };
        match CpuShare::create("files") {
            Ok(cpu_share) => share::report(&options, binary, &files, &cpu_share).await?,
            Err(why) => println!("\n128 MB's CPU share: skipped ({why})"),
        }
    }
    Ok(())
}

/// Reads the file's object with the forwarder, at `share` when given.
async fn forwarder(
    options: &Options,
    binary: &Path,
    stand_ins: &StandIns,
    share: Option<&CpuShare>,
) -> Result<Reading, Error> {
    let setup = Setup {
        binary,
        cloudtrail: &stand_ins.cloudtrail,
        s3: &stand_ins.s3,
        sqs: &stand_ins.sqs,
        bucket: BUCKET,
        queue: QUEUE,
        deadline: options.deadline,
        share,
    };
    function::read_object(&setup, &stand_ins.object).await
}

/// The build folder: `CARGO_TARGET_DIR`, or the workspace's `target/`.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

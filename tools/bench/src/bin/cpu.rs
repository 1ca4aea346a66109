//! CPU benchmark: what an invocation costs the function process in CPU time, and what that
//! means at 128 MB, where Lambda gives the function about 7% of a core.
//!
//! ```sh
//! cargo build --release --bin cloudtrail-lake-forwarder
//! cargo run --release -p forwarder-bench --bin cpu -- [--latency-ms 50] [--quick] [--only kinesis|sqs100|sqs10|share] [--instructions] [--floor runtime|sdk|plain]
//! ```
//!
//! The release binary runs as the function process, through the real runtime loop (the Runtime
//! API stand-in) and the real SDK client, against the CloudTrail Data stand-in (no quota, so
//! nothing is throttled; each request answered after `--latency-ms`). One process serves every
//! case, warm: its rate limiter has grown to the account's quota before anything is measured.
//! CPU is the process's user + system time from `/proc/PID/stat`, read when it is idle (waiting
//! for its next invocation) before and after a series of invocations, so the 10 ms clock tick
//! is averaged out. Every invocation carries new identifiers, so the function's memory of
//! ingested events never skips one, and the stand-in must store every event.
//!
//! As root with a cgroup CPU controller (v1's `/sys/fs/cgroup/cpu`, or v2's `cpu.max`: the
//! stand-in's `machine::CpuShare`), it then runs the function at 128 MB's CPU share (7,236 µs
//! of every 100,000 µs, as `tests/cpu_share.rs` does) and prints the cold start and the wall
//! time of warm 10,000-record Kinesis invocations. `BENCH_BINARY=PATH` runs another build (say,
//! one with symbols for `perf`); `BENCH_PROFILE=FILE` records each measured series with `perf
//! record` into `FILE.<case>` (`BENCH_CALL_GRAPH=dwarf` for call stacks through code without
//! frame pointers). `--only` runs one case (or only the cgroup part). Cold start at the share
//! counts from spawning `sh`, which joins the group and then executes the function.
//!
//! `--floor runtime|sdk|plain` runs `floor` (`src/bin/floor.rs`) in the function's place: only
//! the parts the forwarder is built on (`lambda_runtime`'s loop; and the SDK's `PutAuditEvents`
//! calls, with the forwarder's body or, `plain`, the SDK's own), none of its own work, so that
//! the table says what an invocation costs before the forwarder does anything (`cargo build
//! --release -p forwarder-bench --bin floor` first).
//!
//! `--instructions` runs the function under `valgrind --tool=callgrind` and prints instructions
//! per invocation instead of CPU time: a count that repeats for the same binary and events
//! whatever else the machine runs, to compare two builds where CPU time is too noisy to. (It
//! counts instructions, not cycles: cache misses and system calls cost nothing in it.)

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use cloudtrail_data_stand_in::fixtures::{audit_event_of_len, lambda_environment};
use cloudtrail_data_stand_in::machine::{self, CpuShare};
use cloudtrail_data_stand_in::{InvocationResult, RuntimeApi, Settings, StandIn};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

type Error = Box<dyn std::error::Error>;

/// A Lambda event to send: which kind, how many records.
#[derive(Clone, Copy)]
enum Case {
    Kinesis { records: usize },
    Sqs { records: usize },
}

impl Case {
    fn name(self) -> String {
        match self {
            Case::Kinesis { records } => format!("Kinesis {records} x 700 B"),
            Case::Sqs { records } => format!("SQS {records} x 1 KB"),
        }
    }

    fn records(self) -> usize {
        match self {
            Case::Kinesis { records } | Case::Sqs { records } => records,
        }
    }

    /// The event of invocation `round`: its records' identifiers and `UID`s are new.
    fn event(self, round: usize) -> Vec<u8> {
        let first = round * 100_000;
        let records: Vec<Value> = match self {
            Case::Kinesis { records } => (first..first + records).map(kinesis_record).collect(),
            Case::Sqs { records } => (first..first + records).map(sqs_record).collect(),
        };
        json!({ "Records": records }).to_string().into_bytes()
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut latency_ms = 50u64;
    let mut quick = false;
    let mut only = None;
    let mut instructions = false;
    let mut floor = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--latency-ms" => latency_ms = args.next().ok_or("--latency-ms needs a value")?.parse()?,
            "--quick" => quick = true,
            "--only" => only = Some(args.next().ok_or("--only needs a case")?),
            "--instructions" => instructions = true,
            "--floor" => floor = Some(args.next().ok_or("--floor needs runtime, sdk or plain")?),
            _ => {
                return Err(format!("unknown argument {flag:?}; see the usage at the top of the file").into())
            }
        }
    }
    let binary = release_binary(floor.is_some())?;
    let latency = Duration::from_millis(latency_ms);
    let ticks = clock_ticks_per_second();
    println!("machine: {} cores, {}", std::thread::available_parallelism()?.get(), machine::cpu_model());
    println!("binary: {} ({:.2} MiB)", binary.display(), machine::file_size(&binary) as f64 / 1048576.0);
    println!("stand-in latency: {latency_ms} ms per request, no throttling; CPU = utime + stime of the function process");
    if let Some(floor) = &floor {
        println!("floor: FLOOR={floor}, the parts the forwarder is built on and none of its own work (tools/bench/src/bin/floor.rs)");
    }
    println!();

    let scale = if quick { 4 } else { 1 };
    let cases = [
        ("kinesis", Case::Kinesis { records: 10_000 }, 20 / scale),
        ("sqs100", Case::Sqs { records: 100 }, 300 / scale),
        ("sqs10", Case::Sqs { records: 10 }, 600 / scale),
    ];
    if only.as_deref() == Some("share") {
        let share = CpuShare::create("bench")?;
        return at_128_mb(&binary, &share, latency, ticks, quick).await;
    }
    let stand_in = StandIn::start(Settings::default()).await?;
    stand_in.set_latency(latency);
    let counter = instructions.then(Callgrind::new).transpose()?;
    let mut function = Function::start(&binary, &stand_in, None, counter.as_ref(), floor.as_deref()).await?;
    let warm_up = function.warm_up(&stand_in, Case::Kinesis { records: 10_000 }).await?;
    println!("warm-up: {warm_up}\n");

    match counter {
        Some(_) => {
            println!(
                "| case | invocations | instructions per invocation | per event | wall per invocation |"
            );
            println!("| --- | ---: | ---: | ---: | ---: |");
        }
        None => {
            println!(
                "| case | invocations | CPU per invocation | of which system | page faults | CPU per 1,000 events | wall per invocation |"
            );
            println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        }
    }
    for (label, case, invocations) in cases {
        if only.as_ref().is_some_and(|only| only != label) {
            continue;
        }
        let events: Vec<Vec<u8>> =
            (0..invocations).map(|round| case.event(function.rounds + round)).collect();
        let profiler = profile(function.pid, label).await?;
        if let Some(counter) = &counter {
            counter.start(function.pid)?;
        }
        let before = function.usage()?;
        let started = Instant::now();
        for event in events {
            function.invoke(&stand_in, event, case.records()).await?;
        }
        let wall = started.elapsed() / invocations as u32;
        if let Some(counter) = &counter {
            let per_invocation = counter.stop(function.pid)? as f64 / invocations as f64;
            println!(
                "| {} | {invocations} | {:.2} M | {:.0} | {:.0} ms |",
                case.name(),
                per_invocation / 1e6,
                per_invocation / case.records() as f64,
                wall.as_secs_f64() * 1000.0
            );
            continue;
        }
        let after = function.usage()?;
        let per_invocation = |count: u64| count as f64 / invocations as f64;
        let to_ms = |ticks_used: u64| per_invocation(ticks_used) * 1000.0 / ticks as f64;
        let system_ms = to_ms(after.system_ticks - before.system_ticks);
        let cpu_ms = to_ms(after.user_ticks - before.user_ticks) + system_ms;
        let faults = per_invocation(after.minor_faults - before.minor_faults);
        if let Some(mut perf) = profiler {
            std::process::Command::new("kill")
                .args(["-INT", &perf.id().unwrap_or(0).to_string()])
                .status()?;
            perf.wait().await?;
        }
        println!(
            "| {} | {invocations} | {cpu_ms:.2} ms | {system_ms:.2} ms | {faults:.0} | {:.2} ms | {:.0} ms |",
            case.name(),
            cpu_ms * 1000.0 / case.records() as f64,
            wall.as_secs_f64() * 1000.0
        );
    }
    println!("\npeak RSS of the function process: {:.1} MiB", function.peak_rss_kib() as f64 / 1024.0);
    drop(function);
    if only.is_some() || instructions || floor.is_some() {
        return Ok(());
    }

    match CpuShare::create("bench") {
        Ok(share) => at_128_mb(&binary, &share, latency, ticks, quick).await?,
        Err(why) => println!("\n128 MB's CPU share: skipped ({why})"),
    }
    Ok(())
}

/// `perf record` attached to the function, when `BENCH_PROFILE` asks for it.
async fn profile(pid: u32, label: &str) -> Result<Option<Child>, Error> {
    let Ok(output) = std::env::var("BENCH_PROFILE") else { return Ok(None) };
    let perf = Command::new("perf")
        .args(["record", "-e", "cpu-clock", "-F", "4000", "--call-graph"])
        .arg(std::env::var("BENCH_CALL_GRAPH").unwrap_or_else(|_| "fp".to_owned()))
        .args(["-p", &pid.to_string(), "-o"])
        .arg(format!("{output}.{label}"))
        .stderr(Stdio::null())
        .spawn()?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    Ok(Some(perf))
}

/// Instructions counted by `valgrind --tool=callgrind`: the same for the same binary and
/// events whatever else the machine is doing, where CPU time on a shared machine is not. The
/// function runs under callgrind with instrumentation off; each measured series switches it
/// on, then dumps and reads the total.
struct Callgrind {
    folder: PathBuf,
}

impl Callgrind {
    fn new() -> Result<Callgrind, Error> {
        let folder = std::env::temp_dir().join(format!("cpu-callgrind-{}", std::process::id()));
        std::fs::create_dir_all(&folder)?;
        Ok(Callgrind { folder })
    }

    fn command(&self, binary: &PathBuf) -> Command {
        let mut command = Command::new("valgrind");
        command
            .args(["--tool=callgrind", "--instr-atstart=no"])
            .arg(format!("--callgrind-out-file={}", self.folder.join("out.%p").display()))
            .arg(binary);
        command
    }

    fn control(pid: u32, option: &str) -> Result<(), Error> {
        let status = std::process::Command::new("callgrind_control")
            .args([option, &pid.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        status.success().then_some(()).ok_or_else(|| format!("callgrind_control {option} failed").into())
    }

    fn start(&self, pid: u32) -> Result<(), Error> {
        Callgrind::control(pid, "--zero")?;
        Callgrind::control(pid, "--instr=on")
    }

    /// Instructions since [`Callgrind::start`], from the dump it writes now.
    fn stop(&self, pid: u32) -> Result<u64, Error> {
        Callgrind::control(pid, "--instr=off")?;
        let before: Vec<PathBuf> = self.dumps()?;
        Callgrind::control(pid, "--dump")?;
        let dump =
            self.dumps()?.into_iter().find(|dump| !before.contains(dump)).ok_or("no new callgrind dump")?;
        let text = std::fs::read_to_string(dump)?;
        let totals =
            text.lines().find_map(|line| line.strip_prefix("totals:")).ok_or("a dump without totals")?;
        Ok(totals.trim().parse()?)
    }

    fn dumps(&self) -> Result<Vec<PathBuf>, Error> {
        Ok(std::fs::read_dir(&self.folder)?.filter_map(|entry| Some(entry.ok()?.path())).collect())
    }
}

/// Cold start and warm 10,000-record invocations with the function in the 128 MB cgroup.
async fn at_128_mb(
    binary: &PathBuf,
    share: &CpuShare,
    latency: Duration,
    ticks: u64,
    quick: bool,
) -> Result<(), Error> {
    println!("\nAt 128 MB's CPU share ({share}):\n");
    let stand_in = StandIn::start(Settings::default()).await?;
    stand_in.set_latency(latency);
    let mut cold = Vec::new();
    for _ in 0..if quick { 5 } else { 15 } {
        // Between runs the group's quota refills, so each start begins with a full period.
        tokio::time::sleep(Duration::from_millis(200)).await;
        cold.push(Function::start(binary, &stand_in, Some(share), None, None).await?.cold_start);
    }
    cold.sort();
    println!(
        "cold start (process start to first Runtime API request, {} runs): median {:.1} ms, max {:.1} ms",
        cold.len(),
        cold[cold.len() / 2].as_secs_f64() * 1000.0,
        cold[cold.len() - 1].as_secs_f64() * 1000.0
    );

    // A fresh environment that has seen a little traffic before its first big batch, as after
    // a recycle: 100 SQS messages, 1,000 Kinesis records, then 10,000.
    let mut fresh = Function::start(binary, &stand_in, Some(share), None, None).await?;
    let mut steps = Vec::new();
    for case in
        [Case::Sqs { records: 100 }, Case::Kinesis { records: 1_000 }, Case::Kinesis { records: 10_000 }]
    {
        let (wall, _) = fresh.invoke(&stand_in, case.event(fresh.rounds), case.records()).await?;
        steps.push(format!("{}: {:.0} ms", case.name(), wall.as_secs_f64() * 1000.0));
    }
    println!("fresh environment, one invocation each: {}", steps.join(", "));
    drop(fresh);

    let case = Case::Kinesis { records: 10_000 };
    let mut function = Function::start(binary, &stand_in, Some(share), None, None).await?;
    let warm_up = function.warm_up(&stand_in, case).await?;
    println!("warm-up: {warm_up}");
    let mut walls = Vec::new();
    let mut handler = Vec::new();
    let mut rates = Vec::new();
    let before = function.cpu_ticks()?;
    let invocations = if quick { 3 } else { 5 };
    for round in 0..invocations {
        let event = case.event(function.rounds + round);
        let (wall, summary) = function.invoke(&stand_in, event, case.records()).await?;
        walls.push(wall);
        handler.push(summary["fields"]["duration_ms"].as_f64().unwrap_or(0.0));
        rates.push(summary["fields"]["rate_limit"].as_f64().unwrap_or(0.0));
    }
    let cpu_ms = (function.cpu_ticks()? - before) as f64 * 1000.0 / ticks as f64 / invocations as f64;
    walls.sort();
    handler.sort_by(f64::total_cmp);
    println!(
        "10,000 Kinesis records, warm, {invocations} invocations: wall median {:.0} ms (min {:.0}, max {:.0}), CPU {cpu_ms:.0} ms per invocation, limiter at {:.0} requests/s",
        walls[walls.len() / 2].as_secs_f64() * 1000.0,
        walls[0].as_secs_f64() * 1000.0,
        walls[walls.len() - 1].as_secs_f64() * 1000.0,
        rates.iter().copied().fold(0.0, f64::max)
    );
    println!(
        "  of which in the handler (its duration_ms): median {:.0} ms; the rest is the runtime client receiving and reading the 13 MB event",
        handler[handler.len() / 2]
    );
    println!(
        "  (the account quota caps the limiter at 100 requests/s with a burst of a quarter second: \
         100 requests cannot all start in less than {:.0} ms)",
        (100.0 - 25.0) / 100.0 * 1000.0
    );
    Ok(())
}

/// The function process under the Runtime API stand-in.
struct Function {
    child: Child,
    pid: u32,
    runtime: RuntimeApi,
    summaries: Arc<Mutex<Vec<Value>>>,
    cold_start: Duration,
    /// Invocations answered so far.
    rounds: usize,
    /// The mode of `tools/bench/src/bin/floor.rs`, which writes no summary lines and has no limiter.
    floor: Option<String>,
}

impl Function {
    async fn start(
        binary: &PathBuf,
        stand_in: &StandIn,
        share: Option<&CpuShare>,
        counter: Option<&Callgrind>,
        floor: Option<&str>,
    ) -> Result<Function, Error> {
        let runtime = RuntimeApi::start().await?;
        let mut command = match share {
            // The shell joins the group, then becomes the function: its whole life, the loader
            // included, runs at the share. (A `pre_exec` hook would charge the teardown of this
            // benchmark's large address space, at exec, to the function.)
            Some(share) => share.command(binary),
            None => match counter {
                Some(counter) => counter.command(binary),
                None => Command::new(binary),
            },
        };
        command
            .env_clear()
            .envs(lambda_environment(&runtime.address(), stand_in))
            .env("AWS_LAMBDA_LOG_LEVEL", "INFO")
            .envs(floor.map(|mode| ("FLOOR", mode)))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let started = Instant::now();
        let mut child = command.spawn()?;
        let pid = child.id().ok_or("the function exited at once")?;
        let summaries = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().ok_or("no stdout")?;
        tokio::spawn(read_summaries(stdout, summaries.clone()));
        while runtime.first_next().is_none() {
            if let Some(status) = child.try_wait()? {
                return Err(format!("the function exited at init: {status}").into());
            }
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        let cold_start = runtime.first_next().expect("polled above") - started;
        Ok(Function {
            child,
            pid,
            runtime,
            summaries,
            cold_start,
            rounds: 0,
            floor: floor.map(str::to_owned),
        })
    }

    /// Invokes the function with `event` and waits until it asks for the next one; returns the
    /// time from handing it the event to its answer, and its summary line.
    async fn invoke(
        &mut self,
        stand_in: &StandIn,
        event: Vec<u8>,
        records: usize,
    ) -> Result<(Duration, Value), Error> {
        let deadline_ms = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as u64 + 120_000;
        let invoked = Instant::now();
        let request_id = self.runtime.invoke_raw(event, deadline_ms);
        let result = self.runtime.result(&request_id, Duration::from_secs(120)).await;
        let wall = invoked.elapsed();
        self.rounds += 1;
        match result {
            Some(InvocationResult::Response(answer))
                if answer["batchItemFailures"].as_array().is_some_and(Vec::is_empty) => {}
            other => return Err(format!("the function did not answer with success: {other:?}").into()),
        }
        let idle = self.runtime.wait_for_next_requests(self.rounds as u64 + 1, Duration::from_secs(10));
        if !idle.await {
            return Err("the function did not ask for its next invocation".into());
        }
        let stored = stand_in.stored_count();
        stand_in.reset();
        // The runtime's floor sends nothing.
        let records = if self.floor.as_deref() == Some("runtime") { 0 } else { records };
        if stored != records {
            return Err(format!("{stored} of {records} events stored").into());
        }
        if self.floor.is_some() {
            return Ok((wall, Value::Null));
        }
        // The summary line is written before the answer; give the pipe a moment.
        for _ in 0..100 {
            if let Some(summary) = self.summaries.lock().unwrap().get(self.rounds - 1) {
                return Ok((wall, summary.clone()));
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        Err("no summary line for the invocation".into())
    }

    /// Sends batches until the rate limiter stops growing: a cold environment starts at 2
    /// requests per second and grows with each answer while the limiter holds requests back.
    /// The floor has no limiter: one invocation opens its connections.
    async fn warm_up(&mut self, stand_in: &StandIn, case: Case) -> Result<String, Error> {
        let mut steps = Vec::new();
        let mut last_rate = 0.0;
        for _ in 0..12 {
            let (wall, summary) = self.invoke(stand_in, case.event(self.rounds), case.records()).await?;
            let rate = summary["fields"]["rate_limit"].as_f64().unwrap_or(0.0);
            steps.push(format!("{:.0} ms (limiter {rate:.0}/s)", wall.as_secs_f64() * 1000.0));
            if self.floor.is_some() || rate == last_rate || rate >= 100.0 {
                break;
            }
            last_rate = rate;
        }
        Ok(format!("{} invocations of {}: {}", steps.len(), case.name(), steps.join(", ")))
    }

    /// The process's user + system time so far, in clock ticks.
    fn cpu_ticks(&self) -> Result<u64, Error> {
        let usage = self.usage()?;
        Ok(usage.user_ticks + usage.system_ticks)
    }

    /// The process's CPU time and minor page faults so far, from `/proc/PID/stat`.
    fn usage(&self) -> Result<Usage, Error> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid))?;
        // The command name may hold spaces; the fields after it are plain numbers.
        let fields: Vec<&str> = stat.rsplit_once(')').ok_or("malformed stat")?.1.split_whitespace().collect();
        // After the name: state is field 3 of stat(5), minflt 10, utime 14 and stime 15.
        Ok(Usage {
            minor_faults: fields[7].parse()?,
            user_ticks: fields[11].parse()?,
            system_ticks: fields[12].parse()?,
        })
    }

    fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }
}

/// What `/proc/PID/stat` says a process has used so far.
#[derive(Clone, Copy)]
struct Usage {
    minor_faults: u64,
    user_ticks: u64,
    system_ticks: u64,
}

/// Ends the function as Lambda ends an environment, with SIGTERM, so that a tool wrapping it
/// (`valgrind --tool=callgrind`, say) writes its results; SIGKILL if it is still there 30 s on.
impl Drop for Function {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill").args(["-TERM", &self.pid.to_string()]).status();
        let until = Instant::now() + Duration::from_secs(30);
        while Instant::now() < until && matches!(self.child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.start_kill();
    }
}

async fn read_summaries(stdout: tokio::process::ChildStdout, summaries: Arc<Mutex<Vec<Value>>>) {
    let mut lines = BufReader::new(stdout).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if !line.contains("invocation summary") {
            continue;
        }
        if let Ok(value) = serde_json::from_str::<Value>(&line) {
            summaries.lock().unwrap().push(value);
        }
    }
}

fn kinesis_record(i: usize) -> Value {
    let sequence_number = format!("4963567093412806740612094{i:031}");
    json!({
        "eventSource": "aws:kinesis", "eventVersion": "1.0",
        "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/audit-events",
        "eventID": format!("shardId-000000000000:{sequence_number}"),
        "eventName": "aws:kinesis:record", "awsRegion": "us-east-1",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/forwarder",
        "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "tenant-1",
                    "sequenceNumber": sequence_number,
                    "data": base64::engine::general_purpose::STANDARD.encode(audit_event_of_len(i, 700, "x")),
                    "approximateArrivalTimestamp": 1764149400.0}
    })
}

fn sqs_record(i: usize) -> Value {
    json!({
        "messageId": format!("9a7f3c1e-0000-4000-8000-{i:012}"), "receiptHandle": format!("AQEB{i:060}"),
        "body": audit_event_of_len(i, 1000, "x"),
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1764149400000"},
        "messageAttributes": {}, "md5OfBody": "0123456789abcdef0123456789abcdef", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:audit-events", "awsRegion": "us-east-1"
    })
}

/// The release binary (the floor's, for `--floor`), or the one `BENCH_BINARY` names.
fn release_binary(floor: bool) -> Result<PathBuf, String> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let path = std::env::var_os("BENCH_BINARY").map(PathBuf::from).unwrap_or_else(|| match floor {
        true => target.join("release/floor"),
        false => target.join("release/cloudtrail-lake-forwarder"),
    });
    if path.exists() {
        Ok(path)
    } else {
        Err(format!(
            "{} is missing: run `cargo build --release --bin cloudtrail-lake-forwarder -p forwarder-bench --bin floor` first",
            path.display()
        ))
    }
}

/// `USER_HZ`, the unit of `/proc/PID/stat`'s times: 100 on every Linux that Lambda runs.
fn clock_ticks_per_second() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100)
}

//! What the benchmarks and the 128 MB test need of this machine: a CPU cgroup with 128 MB's
//! share of a core, a started process joining it, and the facts a benchmark prints.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::process::Command;

/// A cgroup-v1 CPU group with the share of a core Lambda gives 128 MB (7,236 µs of every
/// 100,000 µs; 1,769 MB is a whole core), removed when dropped.
#[derive(Debug)]
pub struct CpuShare(PathBuf);

impl CpuShare {
    /// Creates the group, named after `purpose` and this process; needs root and cgroup v1.
    pub fn create(purpose: &str) -> Result<CpuShare, String> {
        let group = PathBuf::from("/sys/fs/cgroup/cpu")
            .join(format!("cloudtrail-forwarder-{purpose}-{}", std::process::id()));
        std::fs::create_dir_all(&group)
            .map_err(|error| format!("cannot create {}: {error}", group.display()))?;
        let share = CpuShare(group);
        for (file, value) in [("cpu.cfs_period_us", "100000"), ("cpu.cfs_quota_us", "7236")] {
            std::fs::write(share.0.join(file), value)
                .map_err(|error| format!("cannot write {file}: {error}"))?;
        }
        Ok(share)
    }

    /// A command that runs `binary` inside the group from its first instruction: `sh` writes
    /// its own pid into the group, then becomes the binary. Joining from a `pre_exec` hook
    /// would charge the fork of a large parent to the group.
    pub fn command(&self, binary: &Path) -> Command {
        let mut command = Command::new("sh");
        let procs = self.0.join("cgroup.procs");
        command.arg("-c").arg(format!("echo $$ > {} && exec \"$0\"", procs.display())).arg(binary);
        command
    }
}

impl Drop for CpuShare {
    fn drop(&mut self) {
        // The group can only go once its processes have ended.
        for _ in 0..50 {
            if std::fs::remove_dir(&self.0).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// A file's size in bytes, 0 when it cannot be read.
pub fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |metadata| metadata.len())
}

/// The CPU's model name from `/proc/cpuinfo`.
pub fn cpu_model() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    info.lines()
        .find_map(|line| line.strip_prefix("model name"))
        .map_or("unknown CPU".into(), |rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
}

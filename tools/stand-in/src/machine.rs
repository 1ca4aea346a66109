//! What the benchmarks and the 128 MB test need of this machine: a CPU cgroup with 128 MB's
//! share of a core, on cgroup v1 or v2, that a started process joins ([`CpuShare`]), and the
//! facts a benchmark prints.

mod cpu_share;

use std::path::Path;

pub use cpu_share::{cpu_max, CpuShare, Hierarchy, PERIOD_US, QUOTA_US};

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

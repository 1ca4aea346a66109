//! A CPU cgroup with the share of a core Lambda gives 128 MB, on cgroup v1 or v2, and a started
//! process that runs inside it from its first instruction.
//!
//! Which hierarchy holds the CPU controller is read from the mount table: a cgroup-v1 mount with
//! the `cpu` controller (`/sys/fs/cgroup/cpu`, or `cpu,cpuacct`), else a cgroup2 mount whose
//! `cgroup.controllers` offers `cpu`. The kernel binds a controller to one hierarchy at a time,
//! so on a hybrid machine (v1 controllers beside a cgroup2 mount at `/sys/fs/cgroup/unified`)
//! at most one of them can have it. The group is made at the top of that hierarchy:
//! - v1: `cpu.cfs_period_us` = 100000 and `cpu.cfs_quota_us` = 7236;
//! - v2: `cpu.max` = `7236 100000`, after enabling the `cpu` controller for child groups in the
//!   parent's `cgroup.subtree_control` if it is not yet (only a cgroup without processes of its
//!   own, such as the root, may do that: v2's "no internal processes" rule).
//!
//! Either needs root. Where no group can be made, [`CpuShare::create`] says why.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::process::Command;

/// The CPU time a 128 MB function gets in each period: 7,236 µs of every 100,000 µs (1,769 MB is
/// a whole core).
pub const QUOTA_US: u64 = 7_236;
pub const PERIOD_US: u64 = 100_000;

/// Where a CPU group can be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hierarchy {
    /// A cgroup-v1 mount of the `cpu` controller.
    V1(PathBuf),
    /// A cgroup2 mount whose `cgroup.controllers` offers `cpu`.
    V2(PathBuf),
}

impl Hierarchy {
    /// The hierarchy that holds the CPU controller on this machine.
    pub fn find() -> Result<Hierarchy, String> {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
            .map_err(|error| format!("cannot read /proc/self/mountinfo: {error}"))?;
        Hierarchy::from_mounts(&mountinfo, |mount| {
            std::fs::read_to_string(mount.join("cgroup.controllers")).ok()
        })
    }

    /// The hierarchy that holds the CPU controller, given the mount table (`/proc/self/mountinfo`)
    /// and what a cgroup2 mount's `cgroup.controllers` holds (`None` when it cannot be read).
    pub fn from_mounts(
        mountinfo: &str,
        controllers: impl Fn(&Path) -> Option<String>,
    ) -> Result<Hierarchy, String> {
        let mounts: Vec<Mount> = mountinfo.lines().filter_map(Mount::parse).collect();
        if let Some(v1) =
            mounts.iter().find(|m| m.fstype == "cgroup" && m.options.split(',').any(|o| o == "cpu"))
        {
            return Ok(Hierarchy::V1(v1.point.clone()));
        }
        let mut offered = Vec::new();
        for v2 in mounts.iter().filter(|m| m.fstype == "cgroup2") {
            let list = controllers(&v2.point);
            if list.as_deref().is_some_and(|list| has_controller(list, "cpu")) {
                return Ok(Hierarchy::V2(v2.point.clone()));
            }
            let list = list.map_or("unreadable".into(), |list| format!("{:?}", list.trim()));
            offered.push(format!("{} offers {list}", v2.point.display()));
        }
        Err(match offered.is_empty() {
            true => "no cgroup v1 mount has the cpu controller, and no cgroup2 hierarchy is mounted".into(),
            false => format!(
                "no cgroup v1 mount has the cpu controller, and the cgroup2 hierarchy has no cpu \
                 controller to give ({}; it may be bound to a v1 hierarchy that is not mounted)",
                offered.join("; ")
            ),
        })
    }
}

impl fmt::Display for Hierarchy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hierarchy::V1(mount) => write!(f, "cgroup v1 ({})", mount.display()),
            Hierarchy::V2(mount) => write!(f, "cgroup v2 ({})", mount.display()),
        }
    }
}

/// One line of `/proc/self/mountinfo`: where, what type, and the super options (a v1
/// hierarchy's controllers).
struct Mount {
    point: PathBuf,
    fstype: String,
    options: String,
}

impl Mount {
    /// `36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue`: the
    /// mount point is the fifth field; the type, source and super options follow the `-`.
    fn parse(line: &str) -> Option<Mount> {
        let (before, after) = line.split_once(" - ")?;
        let point = before.split(' ').nth(4)?;
        let mut after = after.split(' ');
        let fstype = after.next()?.to_owned();
        let options = after.nth(1).unwrap_or_default().to_owned();
        Some(Mount { point: PathBuf::from(unescape(point)), fstype, options })
    }
}

/// Undoes the kernel's octal escapes of a mount point (`\040` for a space, and so on).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).filter(|digits| digits.iter().all(|d| (b'0'..=b'7').contains(d)));
        match (bytes[i], octal) {
            (b'\\', Some(digits)) => {
                out.push(digits.iter().fold(0u8, |value, d| value.wrapping_mul(8).wrapping_add(d - b'0')));
                i += 4;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether a v2 controller list (`cgroup.controllers`, `cgroup.subtree_control`) names one.
fn has_controller(list: &str, name: &str) -> bool {
    list.split_whitespace().any(|controller| controller == name)
}

/// What cgroup v2's `cpu.max` holds for a quota of `quota_us` in every `period_us`.
pub fn cpu_max(quota_us: u64, period_us: u64) -> String {
    format!("{quota_us} {period_us}")
}

/// A CPU group with the share of a core Lambda gives 128 MB, removed when dropped.
#[derive(Debug)]
pub struct CpuShare {
    group: PathBuf,
    hierarchy: Hierarchy,
}

impl CpuShare {
    /// Creates the group, named after `purpose` and this process, in the hierarchy that holds
    /// the CPU controller; needs root. The error says why none could be made.
    pub fn create(purpose: &str) -> Result<CpuShare, String> {
        CpuShare::create_in(&Hierarchy::find()?, purpose)
    }

    /// Creates the group at the top of `hierarchy`.
    pub fn create_in(hierarchy: &Hierarchy, purpose: &str) -> Result<CpuShare, String> {
        let name = format!("cloudtrail-forwarder-{purpose}-{}", std::process::id());
        let (parent, settings) = match hierarchy {
            Hierarchy::V1(mount) => (
                mount,
                vec![
                    ("cpu.cfs_period_us", PERIOD_US.to_string()),
                    ("cpu.cfs_quota_us", QUOTA_US.to_string()),
                ],
            ),
            Hierarchy::V2(mount) => {
                enable_cpu_for_children(mount)?;
                (mount, vec![("cpu.max", cpu_max(QUOTA_US, PERIOD_US))])
            }
        };
        let group = parent.join(name);
        std::fs::create_dir_all(&group)
            .map_err(|error| format!("cannot create {}: {error}", group.display()))?;
        let share = CpuShare { group, hierarchy: hierarchy.clone() };
        for (file, value) in settings {
            let path = share.group.join(file);
            std::fs::write(&path, &value)
                .map_err(|error| format!("cannot write {value:?} to {}: {error}", path.display()))?;
            // The kernel may take a write and keep something else: read back what rules.
            let kept = std::fs::read_to_string(&path).unwrap_or_default();
            if kept.trim() != value {
                return Err(format!("{} holds {:?} after writing {value:?}", path.display(), kept.trim()));
            }
        }
        Ok(share)
    }

    /// A command that runs `binary` inside the group from its first instruction: `sh` writes
    /// its own pid into the group, then becomes the binary. Joining from a `pre_exec` hook
    /// would charge the fork of a large parent to the group.
    pub fn command(&self, binary: &Path) -> Command {
        let mut command = Command::new("sh");
        let procs = self.group.join("cgroup.procs");
        command.arg("-c").arg(format!("echo $$ > {} && exec \"$0\"", procs.display())).arg(binary);
        command
    }
}

/// Lets child groups of `parent` (a cgroup2 directory) use the `cpu` controller.
fn enable_cpu_for_children(parent: &Path) -> Result<(), String> {
    let subtree_control = parent.join("cgroup.subtree_control");
    let enabled = std::fs::read_to_string(&subtree_control)
        .map_err(|error| format!("cannot read {}: {error}", subtree_control.display()))?;
    if has_controller(&enabled, "cpu") {
        return Ok(());
    }
    std::fs::write(&subtree_control, "+cpu").map_err(|error| {
        // The kernel's errno says which rule refused it.
        let why = match error.raw_os_error() {
            // ENOENT
            Some(2) => ": this hierarchy does not offer the cpu controller",
            // EBUSY
            Some(16) => {
                ": the cgroup has processes of its own, so it cannot give controllers to child groups"
            }
            _ => "",
        };
        format!("cannot enable the cpu controller in {} (+cpu): {error}{why}", subtree_control.display())
    })
}

impl fmt::Display for CpuShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let limit = match self.hierarchy {
            Hierarchy::V1(_) => format!("cpu.cfs_quota_us {QUOTA_US} per cpu.cfs_period_us {PERIOD_US}"),
            Hierarchy::V2(_) => format!("cpu.max {}", cpu_max(QUOTA_US, PERIOD_US)),
        };
        write!(f, "{} group {} ({limit})", self.hierarchy, self.group.display())
    }
}

impl Drop for CpuShare {
    fn drop(&mut self) {
        // The group can only go once its processes have ended.
        for _ in 0..50 {
            match std::fs::remove_dir(&self.group) {
                Err(error) if error.kind() != io::ErrorKind::NotFound => {
                    std::thread::sleep(Duration::from_millis(100))
                }
                _ => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This machine's mount table: v1 controllers, each its own mount, beside a cgroup2 mount.
    const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw";

    /// A systemd machine on the unified hierarchy only.
    const UNIFIED: &str = "\
22 1 0:21 / /proc rw,nosuid shared:12 - proc proc rw
27 20 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot";

    fn offering(list: &'static str) -> impl Fn(&Path) -> Option<String> {
        move |_| Some(list.to_owned())
    }

    #[test]
    fn a_v1_cpu_mount_is_chosen_even_beside_a_cgroup2_mount() {
        assert_eq!(
            Hierarchy::from_mounts(HYBRID, offering("hugetlb\n")),
            Ok(Hierarchy::V1("/sys/fs/cgroup/cpu".into()))
        );
    }

    #[test]
    fn a_v1_mount_of_cpu_and_cpuacct_together_holds_cpu_and_one_of_cpuacct_alone_does_not() {
        let together = "35 31 0:32 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct";
        assert_eq!(
            Hierarchy::from_mounts(together, offering("")),
            Ok(Hierarchy::V1("/sys/fs/cgroup/cpu,cpuacct".into()))
        );
        let alone = "33 31 0:30 / /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct";
        assert!(Hierarchy::from_mounts(alone, offering("")).is_err());
    }

    #[test]
    fn without_v1_the_unified_hierarchy_is_chosen_when_it_offers_cpu() {
        assert_eq!(
            Hierarchy::from_mounts(UNIFIED, offering("cpuset cpu io memory hugetlb pids rdma misc\n")),
            Ok(Hierarchy::V2("/sys/fs/cgroup".into()))
        );
        // `cpuset` is not `cpu`.
        assert!(Hierarchy::from_mounts(UNIFIED, offering("cpuset io memory\n")).is_err());
    }

    #[test]
    fn the_reason_names_what_the_cgroup2_hierarchy_offers() {
        let without_cpu_v1 = HYBRID.replace("rw,cpu\n", "rw,net_cls\n");
        let why = Hierarchy::from_mounts(&without_cpu_v1, offering("hugetlb\n")).unwrap_err();
        assert!(why.contains("/sys/fs/cgroup/unified offers \"hugetlb\""), "{why}");
        let why = Hierarchy::from_mounts("22 1 0:21 / /proc rw - proc proc rw", offering("")).unwrap_err();
        assert!(why.contains("no cgroup2 hierarchy is mounted"), "{why}");
    }

    #[test]
    fn escaped_mount_points_are_read_back() {
        let spaced = r"50 31 0:40 / /mnt/cgroup\040v2 rw - cgroup2 cgroup2 rw";
        assert_eq!(
            Hierarchy::from_mounts(spaced, offering("cpu")),
            Ok(Hierarchy::V2("/mnt/cgroup v2".into()))
        );
    }

    #[test]
    fn cpu_max_is_the_quota_then_the_period() {
        assert_eq!(cpu_max(QUOTA_US, PERIOD_US), "7236 100000");
    }

    /// A directory shaped like a cgroup2 parent, where the writes can be seen: the kernel's
    /// own answers are not (the 128 MB test makes the real group where the machine allows it).
    fn fake_cgroup2(name: &str, subtree_control: &str) -> PathBuf {
        let parent = std::env::temp_dir().join(format!("cpu-share-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&parent).unwrap();
        std::fs::write(parent.join("cgroup.controllers"), "cpuset cpu io memory pids\n").unwrap();
        std::fs::write(parent.join("cgroup.subtree_control"), subtree_control).unwrap();
        parent
    }

    /// Removes what a group made in a fake parent holds, so that dropping it removes it.
    fn remove(share: CpuShare, files: &[&str]) {
        for file in files {
            std::fs::remove_file(share.group.join(file)).unwrap();
        }
    }

    #[test]
    fn on_cgroup_v2_the_cpu_controller_is_enabled_for_children_and_the_group_gets_cpu_max() {
        let parent = fake_cgroup2("v2", "memory pids\n");
        let share = CpuShare::create_in(&Hierarchy::V2(parent.clone()), "unit").unwrap();

        assert_eq!(std::fs::read_to_string(parent.join("cgroup.subtree_control")).unwrap(), "+cpu");
        assert_eq!(std::fs::read_to_string(share.group.join("cpu.max")).unwrap(), "7236 100000");
        assert!(share.to_string().starts_with(&format!("cgroup v2 ({}) group ", parent.display())));
        assert!(share.to_string().ends_with("(cpu.max 7236 100000)"), "{share}");
        let command = share.command(Path::new("/bin/true"));
        let args: Vec<_> = command.as_std().get_args().collect();
        assert_eq!(
            args[1],
            format!("echo $$ > {} && exec \"$0\"", share.group.join("cgroup.procs").display()).as_str()
        );
        remove(share, &["cpu.max"]);
        std::fs::remove_dir_all(parent).unwrap();
    }

    #[test]
    fn on_cgroup_v2_an_enabled_cpu_controller_is_left_as_it_is() {
        let parent = fake_cgroup2("v2-enabled", "cpu memory\n");
        let share = CpuShare::create_in(&Hierarchy::V2(parent.clone()), "unit").unwrap();
        assert_eq!(std::fs::read_to_string(parent.join("cgroup.subtree_control")).unwrap(), "cpu memory\n");
        remove(share, &["cpu.max"]);
        std::fs::remove_dir_all(parent).unwrap();
    }

    #[test]
    fn on_cgroup_v1_the_group_gets_a_quota_per_period() {
        let parent = std::env::temp_dir().join(format!("cpu-share-v1-{}", std::process::id()));
        std::fs::create_dir_all(&parent).unwrap();
        let share = CpuShare::create_in(&Hierarchy::V1(parent.clone()), "unit").unwrap();

        assert_eq!(std::fs::read_to_string(share.group.join("cpu.cfs_period_us")).unwrap(), "100000");
        assert_eq!(std::fs::read_to_string(share.group.join("cpu.cfs_quota_us")).unwrap(), "7236");
        assert!(
            share.to_string().ends_with("(cpu.cfs_quota_us 7236 per cpu.cfs_period_us 100000)"),
            "{share}"
        );
        remove(share, &["cpu.cfs_period_us", "cpu.cfs_quota_us"]);
        std::fs::remove_dir_all(parent).unwrap();
    }
}

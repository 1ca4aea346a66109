//! GitHub Enterprise audit-log files as the streaming to S3 writes them (SERVICE.md, "Files in
//! S3"): gzip of JSON lines, one event a line, keys in alphabetical order. Each line is made
//! from its number alone, so the same file comes out on every run and a check can name every
//! event it should find (`document_id`) without keeping the file.
//!
//! The mix is what an enterprise's stream looks like: Git events dominate (clone, fetch, push),
//! then `api.request` (with method, path and status, streaming only), workflow runs, pull
//! requests, and a tail of repository, organisation, team, token and business events. Actors
//! come from a pool of people and bots; `actor_ip` is there for people only, and not always
//! (IP display on, but absent for some API events), IPv4 or IPv6; some events have no actor at
//! all (GitHub's own). Ids are 22 characters of the URL-safe alphabet, unique by construction;
//! `@timestamp` and `created_at` are epoch milliseconds.
//!
//! The file is written once under the build folder and kept: a gigabyte takes a while to
//! compress, and serving a file from disk costs the benchmark nothing while it measures.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use flate2::write::GzEncoder;
use flate2::Compression;

mod line;

pub use line::line;

/// Bump when lines change, so a kept file of the old shape is not served.
const SHAPE: u32 = 1;

/// A generated file on disk.
#[derive(Debug, Clone)]
pub struct AuditFile {
    pub path: PathBuf,
    /// Lines, one event each; their numbers are `0..events`.
    pub events: u64,
    pub uncompressed_bytes: u64,
    pub compressed_bytes: u64,
}

/// The file of at least `megabytes` (10^6 bytes) of lines in `folder`, written now unless a
/// previous run left it there.
pub fn audit_file(folder: &Path, megabytes: u64) -> io::Result<AuditFile> {
    std::fs::create_dir_all(folder)?;
    let path = folder.join(format!("github-{megabytes}mb-v{SHAPE}.json.log.gz"));
    let facts = path.with_extension("gz.facts");
    if let Some((events, uncompressed_bytes)) = read_facts(&facts) {
        if let Ok(metadata) = std::fs::metadata(&path) {
            return Ok(AuditFile { path, events, uncompressed_bytes, compressed_bytes: metadata.len() });
        }
    }
    let partial = path.with_extension("gz.partial");
    let mut gzip = GzEncoder::new(BufWriter::new(File::create(&partial)?), Compression::default());
    let (mut events, mut uncompressed_bytes) = (0u64, 0u64);
    while uncompressed_bytes < megabytes * 1_000_000 {
        let mut line = serde_json::to_vec(&line(events))?;
        line.push(b'\n');
        gzip.write_all(&line)?;
        uncompressed_bytes += line.len() as u64;
        events += 1;
    }
    gzip.finish()?.into_inner().map_err(io::IntoInnerError::into_error)?.sync_all()?;
    std::fs::rename(&partial, &path)?;
    std::fs::write(&facts, format!("{events} {uncompressed_bytes}\n"))?;
    let compressed_bytes = std::fs::metadata(&path)?.len();
    Ok(AuditFile { path, events, uncompressed_bytes, compressed_bytes })
}

fn read_facts(path: &Path) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(path).ok()?;
    let (events, bytes) = text.trim().split_once(' ')?;
    Some((events.parse().ok()?, bytes.parse().ok()?))
}

/// The `_document_id` of line `n`: 16 bytes, the first 8 a bijection of `n` (so no two lines
/// share one), in 22 URL-safe base64 characters, as GitHub's look.
pub fn document_id(n: u64) -> String {
    let first = mix(n ^ 0x6a09_e667_f3bc_c908);
    let second = mix(first.wrapping_add(0xbb67_ae85_84ca_a73b));
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&first.to_be_bytes());
    bytes[8..].copy_from_slice(&second.to_be_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// splitmix64's finaliser: a bijection of `u64` that scatters neighbouring inputs.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Draws of line `n`: the same for the same line on every run.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 = mix(self.0);
        self.0
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    fn percent(&mut self, chance: u64) -> bool {
        self.below(100) < chance
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len() as u64) as usize]
    }

    fn hex(&mut self, len: usize) -> String {
        let mut out = String::new();
        while out.len() < len {
            out.push_str(&format!("{:016x}", self.next()));
        }
        out.truncate(len);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_22_url_safe_characters_and_distinct() {
        let ids: std::collections::HashSet<String> = (0..100_000).map(document_id).collect();
        assert_eq!(ids.len(), 100_000);
        assert!(ids
            .iter()
            .all(|id| id.len() == 22
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')));
    }
}

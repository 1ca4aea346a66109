//! Which objects the function may read: the configured buckets, each with an optional key
//! prefix. A notification naming any other place is refused by name and never fetched, so a
//! queue that S3 (or anyone allowed to send to it) fills with foreign notifications cannot make
//! the function read objects it was not meant to.

use std::fmt;
use std::str::FromStr;

use super::ObjectRef;

/// The buckets and key prefixes objects may be read from, parsed from a setting such as
/// `audit-logs,github-audit/stream/`.
///
/// ```
/// use cloudtrail_lake_forwarder::lambda::s3::{AllowedObjects, ObjectRef};
/// let allowed: AllowedObjects = "audit-logs,github-audit/stream/".parse().unwrap();
/// let object = |bucket: &str, key: &str| ObjectRef {
///     bucket: bucket.into(), key: key.into(), version_id: None, etag: None, size: None, sequencer: None,
/// };
/// assert!(allowed.allows(&object("audit-logs", "any/key.json")));
/// assert!(allowed.allows(&object("github-audit", "stream/2026/01/a.json.gz")));
/// assert!(!allowed.allows(&object("github-audit", "other/a.json.gz")));
/// assert!(!allowed.allows(&object("someone-else", "stream/a.json")));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedObjects {
    places: Vec<Place>,
}

/// A bucket, and the prefix every key read from it must start with (empty: any key).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Place {
    bucket: String,
    prefix: String,
}

impl AllowedObjects {
    /// Reads the setting: entries separated by commas, each a bucket name, optionally followed
    /// by `/` and a key prefix. A prefix is literal (no wildcards) and is compared with the
    /// decoded key. Spaces around entries are ignored.
    pub fn parse(setting: &str) -> Result<AllowedObjects, AllowedObjectsError> {
        if setting.trim().is_empty() {
            return Err(AllowedObjectsError::Empty);
        }
        let places = setting.split(',').enumerate().map(|(index, entry)| place(index, entry.trim()));
        Ok(AllowedObjects { places: places.collect::<Result<_, _>>()? })
    }

    /// Whether the setting lets the function read `object`.
    pub fn allows(&self, object: &ObjectRef) -> bool {
        self.places.iter().any(|place| place.bucket == object.bucket && object.key.starts_with(&place.prefix))
    }
}

fn place(index: usize, entry: &str) -> Result<Place, AllowedObjectsError> {
    if entry.is_empty() {
        return Err(AllowedObjectsError::EmptyEntry { position: index + 1 });
    }
    let (bucket, prefix) = entry.split_once('/').unwrap_or((entry, ""));
    let problem = if entry.contains(':') {
        Some("give the bucket name itself, not an s3:// address or an ARN")
    } else if !(3..=63).contains(&bucket.len()) {
        Some("a bucket name has 3 to 63 characters")
    } else if !bucket.bytes().all(|byte| matches!(byte, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-')) {
        Some("a bucket name has only lowercase letters, digits, dots and hyphens")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(AllowedObjectsError::BadBucketName { entry: entry.to_owned(), problem }),
        None => Ok(Place { bucket: bucket.to_owned(), prefix: prefix.to_owned() }),
    }
}

impl FromStr for AllowedObjects {
    type Err = AllowedObjectsError;

    fn from_str(setting: &str) -> Result<AllowedObjects, AllowedObjectsError> {
        AllowedObjects::parse(setting)
    }
}

impl fmt::Display for AllowedObjects {
    /// The setting as it was understood: `bucket`, or `bucket/prefix`, comma-separated.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, place) in self.places.iter().enumerate() {
            let separator = if index == 0 { "" } else { "," };
            match place.prefix.as_str() {
                "" => write!(f, "{separator}{}", place.bucket)?,
                prefix => write!(f, "{separator}{}/{}", place.bucket, prefix.escape_debug())?,
            }
        }
        Ok(())
    }
}

/// Why the allowed objects setting cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedObjectsError {
    /// The setting names no bucket.
    Empty,
    /// Two commas with nothing between them, or a comma at either end.
    EmptyEntry { position: usize },
    /// An entry whose bucket part cannot be a bucket name.
    BadBucketName { entry: String, problem: &'static str },
}

impl fmt::Display for AllowedObjectsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AllowedObjectsError::Empty => f.write_str(
                "the allowed objects setting names no bucket: give bucket names, each optionally \
                 followed by /prefix, separated by commas",
            ),
            AllowedObjectsError::EmptyEntry { position } => {
                write!(f, "entry {position} of the allowed objects setting is empty: remove the extra comma")
            }
            AllowedObjectsError::BadBucketName { entry, problem } => write!(
                f,
                "{entry:?} in the allowed objects setting does not start with a bucket name: {problem}"
            ),
        }
    }
}

impl std::error::Error for AllowedObjectsError {}

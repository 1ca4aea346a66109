//! What the S3 stand-in holds: buckets and the versions of each key. Versioning follows S3: in
//! a bucket without it a put replaces the object and no version id is given; with it, every
//! put adds a version, a delete adds a delete marker, and the newest version is the object.
//! An ETag is the body's MD5, as S3's for a single-part upload, or for a generated body (whose
//! MD5 would cost reading all of it) one shaped like a multipart upload's.

use std::collections::HashMap;
use std::time::SystemTime;

use md5::{Digest, Md5};

use super::body::ObjectBody;
use super::error::S3Error;
use crate::sigv4::hex;

/// The part size an SDK or the CLI uploads large objects with: a generated object's ETag
/// looks like a multipart upload's of this part size.
const PART_SIZE: u64 = 8 * 1024 * 1024;

/// One version of an object, or a delete marker.
#[derive(Debug, Clone)]
pub struct Version {
    /// `None` in a bucket without versioning.
    pub id: Option<String>,
    /// Quoted, as in the `ETag` header.
    pub etag: String,
    /// `None` for a delete marker.
    pub body: Option<ObjectBody>,
    pub content_type: String,
    pub last_modified: SystemTime,
}

#[derive(Debug, Default)]
struct Bucket {
    versioned: bool,
    /// Each key's versions, oldest first.
    objects: HashMap<String, Vec<Version>>,
}

/// Every bucket and what is in it.
#[derive(Debug, Default)]
pub struct Store {
    buckets: HashMap<String, Bucket>,
    /// Counts versions, to make version ids and generated ETags unique.
    serial: u64,
}

impl Store {
    /// Makes the bucket if it does not exist; turns versioning on when `versioned`. (S3 cannot
    /// turn it off again, only suspend it; the stand-in has no need to.)
    pub fn create_bucket(&mut self, bucket: &str, versioned: bool) {
        let entry = self.buckets.entry(bucket.to_owned()).or_default();
        entry.versioned |= versioned;
    }

    /// Adds a version of `key` (replacing the object where versioning is off); makes the
    /// bucket if needed.
    pub fn put(&mut self, bucket: &str, key: &str, body: ObjectBody, content_type: &str) -> Version {
        self.serial += 1;
        let identity = Md5::digest(format!("{bucket}/{key}#{}", self.serial));
        let etag = match body.md5() {
            Some(md5) => format!("\"{}\"", hex(&md5)),
            None => format!("\"{}-{}\"", hex(&identity), body.len().div_ceil(PART_SIZE).max(1)),
        };
        let stored = self.buckets.entry(bucket.to_owned()).or_default();
        let version = Version {
            id: stored.versioned.then(|| version_id(&identity)),
            etag,
            body: Some(body),
            content_type: content_type.to_owned(),
            last_modified: SystemTime::now(),
        };
        let versions = stored.objects.entry(key.to_owned()).or_default();
        if !stored.versioned {
            versions.clear();
        }
        versions.push(version.clone());
        version
    }

    /// Deletes `key`: with versioning, adds a delete marker and keeps the versions; without,
    /// removes the object. Returns the marker's version id.
    pub fn delete(&mut self, bucket: &str, key: &str) -> Option<String> {
        self.serial += 1;
        let identity = Md5::digest(format!("{bucket}/{key}#{}", self.serial));
        let stored = self.buckets.get_mut(bucket)?;
        if !stored.versioned {
            stored.objects.remove(key);
            return None;
        }
        let id = version_id(&identity);
        stored.objects.entry(key.to_owned()).or_default().push(Version {
            id: Some(id.clone()),
            etag: String::new(),
            body: None,
            content_type: String::new(),
            last_modified: SystemTime::now(),
        });
        Some(id)
    }

    /// The version a GetObject for `bucket`, `key` and `version_id` reads, or S3's error.
    pub fn find(&self, bucket: &str, key: &str, version_id: Option<&str>) -> Result<&Version, S3Error> {
        let stored = self.buckets.get(bucket).ok_or(S3Error::NoSuchBucket)?;
        let versions = stored.objects.get(key).map(Vec::as_slice).unwrap_or_default();
        let Some(wanted) = version_id else {
            return versions.last().filter(|version| version.body.is_some()).ok_or(S3Error::NoSuchKey);
        };
        if !stored.versioned {
            // An object put without versioning is version "null"; no other id can exist.
            return match (wanted, versions.last()) {
                ("null", Some(version)) => Ok(version),
                ("null", None) => Err(S3Error::NoSuchVersion),
                _ => Err(S3Error::InvalidVersionId),
            };
        }
        let version = versions
            .iter()
            .find(|version| version.id.as_deref() == Some(wanted))
            .ok_or(S3Error::NoSuchVersion)?;
        match version.body {
            Some(_) => Ok(version),
            None => Err(S3Error::MethodNotAllowed),
        }
    }
}

/// A version id as S3's look: 32 URL-safe characters, `.` and `_` among them, so a client that
/// encodes or trims them wrongly is caught.
fn version_id(identity: &[u8]) -> String {
    let hex = hex(identity);
    format!("{}.{}_{}", &hex[..10], &hex[10..20], &hex[20..30])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_etag_of_bytes_is_their_quoted_md5() {
        let mut store = Store::default();
        let version = store.put("b", "k", ObjectBody::bytes("hello"), "text/plain");
        assert_eq!(version.etag, "\"5d41402abc4b2a76b9719d911017c592\"");
        assert_eq!(version.id, None);
    }

    #[test]
    fn a_generated_objects_etag_looks_like_a_multipart_uploads() {
        let mut store = Store::default();
        let body = ObjectBody::pattern(20 * 1024 * 1024, |_, buffer| buffer.fill(b'x'));
        let etag = store.put("b", "k", body, "").etag;
        assert!(etag.starts_with('"') && etag.ends_with("-3\""), "{etag}");
    }

    #[test]
    fn a_versioned_bucket_keeps_every_version_and_serves_the_newest() {
        let mut store = Store::default();
        store.create_bucket("b", true);
        let first = store.put("b", "k", "one".into(), "");
        let second = store.put("b", "k", "two".into(), "");
        assert_ne!(first.id, second.id);
        assert_eq!(store.find("b", "k", None).unwrap().etag, second.etag);
        assert_eq!(store.find("b", "k", first.id.as_deref()).unwrap().etag, first.etag);
        assert_eq!(store.find("b", "k", Some("nope")).unwrap_err(), S3Error::NoSuchVersion);
    }

    #[test]
    fn a_delete_marker_hides_the_object_but_not_its_versions() {
        let mut store = Store::default();
        store.create_bucket("b", true);
        let kept = store.put("b", "k", "one".into(), "");
        let marker = store.delete("b", "k");
        assert_eq!(store.find("b", "k", None).unwrap_err(), S3Error::NoSuchKey);
        assert!(store.find("b", "k", kept.id.as_deref()).is_ok());
        assert_eq!(store.find("b", "k", marker.as_deref()).unwrap_err(), S3Error::MethodNotAllowed);
    }

    #[test]
    fn without_versioning_a_put_replaces_and_only_null_is_a_version() {
        let mut store = Store::default();
        store.put("b", "k", "one".into(), "");
        let second = store.put("b", "k", "two".into(), "");
        assert_eq!(store.find("b", "k", None).unwrap().etag, second.etag);
        assert_eq!(store.find("b", "k", Some("null")).unwrap().etag, second.etag);
        assert_eq!(store.find("b", "k", Some("abc")).unwrap_err(), S3Error::InvalidVersionId);
    }

    #[test]
    fn missing_buckets_and_keys_are_told_apart() {
        let mut store = Store::default();
        store.create_bucket("b", false);
        assert_eq!(store.find("b", "k", None).unwrap_err(), S3Error::NoSuchKey);
        assert_eq!(store.find("c", "k", None).unwrap_err(), S3Error::NoSuchBucket);
    }
}

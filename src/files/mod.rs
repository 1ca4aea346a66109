//! The files stage: S3 objects named by S3 event notifications ([`crate::lambda::s3`]) are read
//! into events. An object streams from S3 in chunks and [`decode`] turns it into items, one
//! event's JSON text each, with a position that is the same on every delivery; from there each
//! item goes the way of a record's payload (schema check or mapping), and its position gives an
//! event without an id of its own a stable one.

pub mod decode;

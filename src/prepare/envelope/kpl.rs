//! Kinesis Producer Library aggregates: magic `F3 89 9A C2`, a protobuf `AggregatedRecord`,
//! then the MD5 of the protobuf bytes (awslabs/amazon-kinesis-producer, aggregation-format.md).
//!
//! ```text
//! message AggregatedRecord { repeated string partition_key_table = 1;
//!                            repeated string explicit_hash_key_table = 2;
//!                            repeated Record records = 3; }
//! message Record { required uint64 partition_key_index = 1; optional uint64 explicit_hash_key_index = 2;
//!                  required bytes data = 3; repeated Tag tags = 4; }
//! ```
//!
//! The protobuf reader is written out here: two messages of varints and length-delimited
//! fields need forty lines, not a code generator. Every length is checked against what is
//! left, so truncated or hostile input is a named rejection, never a panic or a large
//! allocation; the count of user records is bounded.

use std::sync::Arc;

use md5::{Digest, Md5};
use serde_json::{Map, Value};

use super::{Envelope, InnerEvent, Unwrapped};
use crate::rejection::Rejection;

/// The first bytes of every KPL aggregate.
pub const MAGIC: [u8; 4] = [0xf3, 0x89, 0x9a, 0xc2];

/// The most user records one aggregate may hold. A Kinesis record holds at most 1 MiB, and the
/// KPL aggregates far fewer records than this into one.
pub const MAX_USER_RECORDS: usize = 10_000;

const ENVELOPE: &str = "KPL";
const MD5_LEN: usize = 16;

/// Reads an aggregate; each user record becomes an event named by `sequence_number` and its
/// index (`<sequence number>-<index>`), the same on every delivery.
pub fn unwrap(data: &[u8], sequence_number: Option<&str>) -> Result<Unwrapped, Rejection> {
    let body = data.strip_prefix(&MAGIC[..]).ok_or(Rejection::NotInEnvelope { envelope: "kpl" })?;
    if body.len() < MD5_LEN {
        return Err(bad("the aggregate is shorter than its MD5 trailer"));
    }
    let (protobuf, trailer) = body.split_at(body.len() - MD5_LEN);
    if Md5::digest(protobuf).as_slice() != trailer {
        return Err(Rejection::KplChecksumMismatch);
    }
    let aggregate = read_aggregate(protobuf)?;
    // The KPL aggregates at least one user record; an empty aggregate is not one it made.
    if aggregate.records.is_empty() {
        return Err(bad("the aggregate holds no user records"));
    }
    let events = aggregate
        .records
        .into_iter()
        .enumerate()
        .map(|(index, record)| {
            let partition_key = aggregate
                .partition_keys
                .get(record.partition_key_index as usize)
                .ok_or(bad("a user record's partition_key_index is past the partition key table"))?;
            let mut fields = Map::new();
            fields.insert("partitionKey".into(), Value::String(partition_key.clone()));
            if let Some(hash_key_index) = record.explicit_hash_key_index {
                let hash_key = aggregate
                    .explicit_hash_keys
                    .get(hash_key_index as usize)
                    .ok_or(bad("a user record's explicit_hash_key_index is past the hash key table"))?;
                fields.insert("explicitHashKey".into(), Value::String(hash_key.clone()));
            }
            fields.insert("subRecord".into(), Value::from(index));
            let payload = String::from_utf8(record.data)
                .map_err(|error| Rejection::NotUtf8 { valid_up_to: error.utf8_error().valid_up_to() });
            Ok(InnerEvent {
                payload,
                own_id: sequence_number.map(|sequence_number| format!("{sequence_number}-{index}")),
                source_id: None,
                time: None,
                fields,
            })
        })
        .collect::<Result<Vec<InnerEvent>, Rejection>>()?;
    Ok(Unwrapped { envelope: Envelope::Kpl, fields: Arc::new(Map::new()), events })
}

fn bad(problem: &'static str) -> Rejection {
    Rejection::BadEnvelope { envelope: ENVELOPE, problem }
}

#[derive(Debug, Default)]
struct Aggregate {
    partition_keys: Vec<String>,
    explicit_hash_keys: Vec<String>,
    records: Vec<UserRecord>,
}

#[derive(Debug, Default)]
struct UserRecord {
    partition_key_index: u64,
    explicit_hash_key_index: Option<u64>,
    data: Vec<u8>,
}

/// A protobuf field: its number and its value (varint, or the bytes of a length-delimited one;
/// a fixed-width one is only ever skipped, as no field of these messages is fixed-width).
enum Field<'a> {
    Varint(u32, u64),
    Bytes(u32, &'a [u8]),
    Fixed(u32),
}

fn read_aggregate(mut input: &[u8]) -> Result<Aggregate, Rejection> {
    let mut aggregate = Aggregate::default();
    while !input.is_empty() {
        match next_field(&mut input)? {
            Field::Bytes(1, key) => aggregate.partition_keys.push(text(key)?),
            Field::Bytes(2, key) => aggregate.explicit_hash_keys.push(text(key)?),
            Field::Bytes(3, record) => {
                if aggregate.records.len() == MAX_USER_RECORDS {
                    return Err(Rejection::TooManyEvents { envelope: ENVELOPE, limit: MAX_USER_RECORDS });
                }
                aggregate.records.push(read_record(record)?);
            }
            // Every field 1-3 is length-delimited: any other wire type is not what the KPL
            // writes, and skipping it could skip a user record.
            Field::Varint(1..=3, _) | Field::Fixed(1..=3) => {
                return Err(bad("an AggregatedRecord field has the wrong wire type"))
            }
            Field::Varint(..) | Field::Bytes(..) | Field::Fixed(_) => {}
        }
    }
    Ok(aggregate)
}

fn read_record(mut input: &[u8]) -> Result<UserRecord, Rejection> {
    let mut record = UserRecord::default();
    let (mut has_key, mut has_data) = (false, false);
    while !input.is_empty() {
        match next_field(&mut input)? {
            Field::Varint(1, index) => (record.partition_key_index, has_key) = (index, true),
            Field::Varint(2, index) => record.explicit_hash_key_index = Some(index),
            Field::Bytes(3, data) => (record.data, has_data) = (data.to_vec(), true),
            Field::Bytes(4, _) => {} // a tag: not part of the event
            Field::Bytes(1 | 2, _) | Field::Varint(3 | 4, _) | Field::Fixed(1..=4) => {
                return Err(bad("a Record field has the wrong wire type"))
            }
            Field::Varint(..) | Field::Bytes(..) | Field::Fixed(_) => {}
        }
    }
    if !has_key || !has_data {
        return Err(bad("a user record lacks its required partition_key_index or data"));
    }
    Ok(record)
}

fn text(bytes: &[u8]) -> Result<String, Rejection> {
    String::from_utf8(bytes.to_vec()).map_err(|_| bad("a key table entry is not UTF-8"))
}

/// Reads one field off the front of `input`.
fn next_field<'a>(input: &mut &'a [u8]) -> Result<Field<'a>, Rejection> {
    let key = varint(input)?;
    let number = u32::try_from(key >> 3).map_err(|_| bad("a field number is out of range"))?;
    match key & 7 {
        0 => Ok(Field::Varint(number, varint(input)?)),
        1 => skip(input, number, 8),
        2 => {
            let len = usize::try_from(varint(input)?).map_err(|_| bad("a length is out of range"))?;
            if len > input.len() {
                return Err(bad("a length-delimited field runs past the end of the aggregate"));
            }
            let (bytes, rest) = input.split_at(len);
            *input = rest;
            Ok(Field::Bytes(number, bytes))
        }
        5 => skip(input, number, 4),
        _ => Err(bad("a field has an unknown or group wire type")),
    }
}

fn skip<'a>(input: &mut &'a [u8], number: u32, len: usize) -> Result<Field<'a>, Rejection> {
    if len > input.len() {
        return Err(bad("a fixed-width field runs past the end of the aggregate"));
    }
    *input = &input[len..];
    Ok(Field::Fixed(number))
}

fn varint(input: &mut &[u8]) -> Result<u64, Rejection> {
    let mut value = 0u64;
    for (index, &byte) in input.iter().enumerate().take(10) {
        // Nine bytes carry 63 bits: the tenth may add only the 64th, and a bit beyond it would
        // be dropped, reading another number than the one written.
        if index == 9 && byte > 1 {
            return Err(bad("a varint overflows 64 bits"));
        }
        value |= u64::from(byte & 0x7f) << (7 * index);
        if byte & 0x80 == 0 {
            *input = &input[index + 1..];
            return Ok(value);
        }
    }
    Err(bad("a varint is truncated"))
}

/// Builds aggregates for the tests: the encoder the KPL would run.
#[cfg(test)]
mod encode {
    use super::*;

    /// An aggregate of `records` (partition key index, data), all under the keys in `keys`.
    pub fn aggregate(keys: &[&str], records: &[(u64, &[u8])]) -> Vec<u8> {
        let mut protobuf = Vec::new();
        for key in keys {
            bytes_field(&mut protobuf, 1, key.as_bytes());
        }
        for (index, data) in records {
            let mut record = Vec::new();
            varint_field(&mut record, 1, *index);
            bytes_field(&mut record, 3, data);
            bytes_field(&mut protobuf, 3, &record);
        }
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&protobuf);
        out.extend_from_slice(&Md5::digest(&protobuf));
        out
    }

    fn put_varint(out: &mut Vec<u8>, mut value: u64) {
        while value >= 0x80 {
            out.push((value as u8) | 0x80);
            value >>= 7;
        }
        out.push(value as u8);
    }

    fn varint_field(out: &mut Vec<u8>, number: u64, value: u64) {
        put_varint(out, number << 3);
        put_varint(out, value);
    }

    fn bytes_field(out: &mut Vec<u8>, number: u64, bytes: &[u8]) {
        put_varint(out, (number << 3) | 2);
        put_varint(out, bytes.len() as u64);
        out.extend_from_slice(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::encode::aggregate;
    use super::*;
    use serde_json::json;

    #[test]
    fn each_user_record_is_an_event_named_by_sequence_number_and_index() {
        let data = aggregate(&["tenant-a", "tenant-b"], &[(0, b"{\"a\":1}"), (1, b"second")]);
        let unwrapped = unwrap(&data, Some("4960")).unwrap();
        assert_eq!(unwrapped.envelope, Envelope::Kpl);
        let parts: Vec<_> = unwrapped.events.iter().map(|event| event.own_id.clone().unwrap()).collect();
        assert_eq!(parts, ["4960-0", "4960-1"]);
        assert_eq!(unwrapped.events[1].payload.as_deref(), Ok("second"));
        assert_eq!(
            unwrapped.events[1].envelope_value(&unwrapped.fields, "/partitionKey"),
            Some(&json!("tenant-b"))
        );
    }

    #[test]
    fn an_md5_mismatch_rejects_the_record() {
        let mut data = aggregate(&["k"], &[(0, b"x")]);
        let last = data.len() - 1;
        data[last] ^= 1;
        assert_eq!(unwrap(&data, None).unwrap_err(), Rejection::KplChecksumMismatch);
        assert!(matches!(unwrap(&MAGIC, None), Err(Rejection::BadEnvelope { .. })));
    }

    /// `protobuf` between the magic and its MD5 trailer.
    fn with_protobuf(protobuf: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(protobuf);
        out.extend_from_slice(&Md5::digest(protobuf));
        out
    }

    #[test]
    fn malformed_aggregates_are_named() {
        for protobuf in [
            &[0x1a, 0x05, 0x08][..],                   // a record longer than what is left
            &[0x1a, 0x02, 0x08, 0x00][..],             // a record without data
            &[0x1a, 0x02, 0x1a, 0x00][..],             // a record without a partition key index
            &[0x1a, 0x04, 0x08, 0x05, 0x1a, 0x00][..], // an index past the key table
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01][..],
            &[0x0b][..], // a group
        ] {
            assert!(
                matches!(unwrap(&with_protobuf(protobuf), None), Err(Rejection::BadEnvelope { .. })),
                "{protobuf:?}"
            );
        }
    }

    #[test]
    fn an_aggregate_without_user_records_is_malformed() {
        let no_records = Err(bad("the aggregate holds no user records"));
        assert_eq!(unwrap(&aggregate(&[], &[]), Some("4960")), no_records);
        assert_eq!(unwrap(&aggregate(&["k"], &[]), Some("4960")), no_records);
    }

    #[test]
    fn a_known_field_of_the_wrong_wire_type_is_malformed() {
        let key_table = [0x0a, 0x01, b'k']; // partition_key_table = ["k"]
        let record = |fields: &[u8]| [&key_table[..], &[0x1a, fields.len() as u8], fields].concat();
        let aggregate_field = bad("an AggregatedRecord field has the wrong wire type");
        let record_field = bad("a Record field has the wrong wire type");
        let valid = record(&[0x08, 0x00, 0x1a, 0x00]);
        let cases: [(Vec<u8>, &Rejection); 7] = [
            ([&valid[..], &[0x0d, 0, 0, 0, 0]].concat(), &aggregate_field), // 1 as fixed32
            ([&valid[..], &[0x11, 0, 0, 0, 0, 0, 0, 0, 0]].concat(), &aggregate_field), // 2 as fixed64
            ([&valid[..], &[0x1d, 0, 0, 0, 0]].concat(), &aggregate_field), // 3 as fixed32
            (record(&[0x08, 0x00, 0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0x1a, 0x00]), &record_field), // 1 as fixed64
            (record(&[0x08, 0x00, 0x15, 0, 0, 0, 0, 0x1a, 0x00]), &record_field), // 2 as fixed32
            (record(&[0x08, 0x00, 0x1a, 0x00, 0x19, 0, 0, 0, 0, 0, 0, 0, 0]), &record_field), // 3 as fixed64
            (record(&[0x08, 0x00, 0x1a, 0x00, 0x20, 0x00]), &record_field), // tags as a varint
        ];
        for (protobuf, expected) in cases {
            assert_eq!(unwrap(&with_protobuf(&protobuf), None).unwrap_err(), *expected, "{protobuf:?}");
        }
        assert_eq!(unwrap(&with_protobuf(&valid), None).unwrap().events.len(), 1);
        // Unknown fields of any wire type are still skipped, as protobuf readers do.
        let unknown = [&valid[..], &[0x2d, 0, 0, 0, 0, 0x31, 0, 0, 0, 0, 0, 0, 0, 0]].concat();
        assert_eq!(unwrap(&with_protobuf(&unknown), None).unwrap().events.len(), 1);
    }

    #[test]
    fn a_varint_past_64_bits_is_malformed() {
        // partition_key_index 0 written with a tenth byte whose bit would be bit 64.
        let index = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02];
        let fields = [&[0x08][..], &index, &[0x1a, 0x00]].concat();
        let protobuf = [&[0x0a, 0x01, b'k', 0x1a, fields.len() as u8][..], &fields].concat();
        assert_eq!(unwrap(&with_protobuf(&protobuf), None).unwrap_err(), bad("a varint overflows 64 bits"));
        // The largest value the tenth byte can carry, u64::MAX, still reads.
        let mut input = &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01][..];
        assert_eq!(varint(&mut input), Ok(u64::MAX));
    }

    #[test]
    fn more_user_records_than_the_bound_are_refused() {
        let records: Vec<(u64, &[u8])> = vec![(0, b"{}"); MAX_USER_RECORDS + 1];
        assert_eq!(
            unwrap(&aggregate(&["k"], &records), None).unwrap_err(),
            Rejection::TooManyEvents { envelope: "KPL", limit: MAX_USER_RECORDS }
        );
        assert_eq!(unwrap(&aggregate(&["k"], &records[1..]), None).unwrap().events.len(), MAX_USER_RECORDS);
    }
}

//! Hostile objects: gzip cut short, corrupt or split into members anywhere; lines of 100 MB;
//! a million lines; JSON nested a million deep; and arbitrary bytes in arbitrary chunks.

use std::io::Write;

use flate2::write::{DeflateEncoder, GzEncoder};
use flate2::{Compression, Crc};
use proptest::prelude::*;

use super::super::gunzip::OUT_BYTES;
use super::*;

const RECORDS: &str =
    "{\"Records\": [\n  {\"eventID\": \"e1\"},\n  {\"eventID\": \"e2\", \"a\": [1, \"]\"]}\n]}\n";

#[test]
fn a_gzip_member_boundary_anywhere_changes_nothing() {
    for text in [GITHUB_LINES, RECORDS] {
        let plain = decode(text.as_bytes());
        for split in 0..=text.len() {
            let (head, tail) = text.as_bytes().split_at(split);
            let members = [gzip(head), gzip(tail)].concat();
            for size in [1, 7, members.len()] {
                let run = decode_chunks(members.chunks(size), LIMITS, 0);
                assert_eq!(run.items, plain.items, "members split at {split}, in chunks of {size}");
                assert_eq!(
                    run.end.map(|decoded| (decoded.format, decoded.gzip_members)),
                    Ok((plain.format(), 2))
                );
            }
        }
    }
}

#[test]
fn gzip_cut_short_anywhere_is_an_error_at_finish_after_the_whole_items_before_it() {
    let lines: String = (0..200).map(|n| format!("{{\"n\":{n}}}\n")).collect();
    let whole = decode(lines.as_bytes());
    let first_member = gzip(&lines.as_bytes()[..900]);
    let two_members = [first_member.clone(), gzip(&lines.as_bytes()[900..])].concat();
    for object in [gzip(lines.as_bytes()), two_members] {
        // A cut exactly between members leaves a whole gzip file: only the object's size (in
        // the notification) can tell it from the real end.
        for cut in (2..object.len()).filter(|cut| *cut != first_member.len()) {
            let run = decode_chunks(object[..cut].chunks(64), LIMITS, 0);
            let error = run.end.expect_err("a cut gzip stream is never accepted");
            assert_eq!(error.problem, Unreadable::GzipTruncated, "cut at {cut}");
            assert_eq!(error.items, run.items.len() as u64);
            assert_eq!(run.items, whole.items[..run.items.len()], "only whole lines came out");
        }
    }
    assert_eq!(decode(&[0x1f]).end.unwrap_err().problem, Unreadable::NotJson { byte: 0x1f });
}

#[test]
fn corrupt_gzip_and_bytes_after_the_last_member_are_named() {
    let member = gzip(b"{\"a\":1}\n{\"b\":2}\n");
    let with = |at: usize, byte: u8| {
        let mut changed = member.clone();
        changed[at] = byte;
        changed
    };
    let end = member.len();
    let cases: [(Vec<u8>, Unreadable); 7] = [
        (with(end - 8, member[end - 8] ^ 1), Unreadable::GzipChecksum),
        (with(end - 4, member[end - 4] ^ 1), Unreadable::GzipLength),
        (with(2, 7), Unreadable::GzipHeader),
        (with(3, 0x20), Unreadable::GzipHeader),
        ([member.clone(), b"trailing garbage".to_vec()].concat(), Unreadable::DataAfterGzip),
        ([member.clone(), vec![0; 8]].concat(), Unreadable::DataAfterGzip),
        ([member.clone(), vec![0x1f, 0x8b, 8, 0]].concat(), Unreadable::GzipTruncated),
    ];
    for (object, problem) in cases {
        for size in [1, object.len()] {
            assert_eq!(decode_chunks(object.chunks(size), LIMITS, 0).end.unwrap_err().problem, problem);
        }
    }
    // A damaged deflate block is refused as corrupt, or caught by the CRC-32.
    let corrupt = decode(&with(12, member[12] ^ 0x55)).end.unwrap_err().problem;
    assert!(matches!(corrupt, Unreadable::GzipCorrupt | Unreadable::GzipChecksum), "{corrupt:?}");
}

#[test]
fn gzip_headers_with_every_optional_field_are_read() {
    let text = b"[{\"a\":1},{\"b\":2}]";
    let mut deflate = DeflateEncoder::new(Vec::new(), Compression::default());
    deflate.write_all(text).unwrap();
    let mut crc = Crc::new();
    crc.update(text);
    // FHCRC | FEXTRA | FNAME | FCOMMENT, a 3-byte extra field, a name, a comment, a header CRC.
    let header =
        [&[0x1f, 0x8b, 8, 0x1e, 0, 0, 0, 0, 0, 3, 3, 0][..], b"xyz", b"a.json\0", b"note\0", &[0, 0]];
    let trailer = [crc.sum().to_le_bytes(), crc.amount().to_le_bytes()].concat();
    let object = [header.concat(), deflate.finish().unwrap(), trailer].concat();
    let run = same_in_every_chunking(&object);
    assert_eq!(run.items, decode(text).items);
    assert_eq!(run.end.unwrap().gzip_members, 1);
}

/// Decodes `chunks`, tallying the items and the most memory the decoder held after any push.
fn decode_tallied<'a>(
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> (Vec<(Position, Option<ItemError>)>, u64, usize) {
    let mut decoder = ObjectDecoder::new(LIMITS);
    let mut items = Vec::new();
    let mut most = 0;
    for chunk in chunks {
        decoder.push(chunk, |item| items.push((item.position, item.text.err()))).unwrap();
        most = most.max(decoder.buffered_bytes());
    }
    let decoded = decoder.finish(|item| items.push((item.position, item.text.err()))).unwrap();
    (items, decoded.items, most)
}

#[test]
fn a_100_mb_line_passes_with_memory_bounded_by_the_limit_and_one_inflated_chunk() {
    const BIG: usize = 100 * 1024 * 1024;
    let filler = vec![b'x'; 64 * 1024];
    let (head, tail) = (&b"{\"big\":\""[..], &b"\"}\n{\"b\":2}\n"[..]);
    let pieces =
        || std::iter::once(head).chain(std::iter::repeat_n(&filler[..], BIG / filler.len())).chain([tail]);
    let too_long = Some(ItemError::TooLong { bytes: BIG as u64 + 10, limit: LIMITS.max_item_bytes });
    let expected = vec![(Position::Line(1), too_long), (Position::Line(2), None)];

    let (items, count, most) = decode_tallied(pieces());
    assert_eq!((items, count), (expected.clone(), 2));
    assert!(most <= LIMITS.max_item_bytes, "held {most} bytes");

    // The same through gzip, the big line second this time.
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(b"{\"b\":2}\n").unwrap();
    pieces().for_each(|piece| encoder.write_all(piece).unwrap());
    let compressed = encoder.finish().unwrap();
    let (items, _, most) = decode_tallied(compressed.chunks(64 * 1024));
    assert_eq!(items.len(), 3);
    assert_eq!(items[1], (Position::Line(2), too_long));
    assert!(most <= LIMITS.max_item_bytes + OUT_BYTES, "held {most} bytes");
}

#[test]
fn an_oversized_record_in_a_records_file_is_skipped_to_its_end() {
    let big = format!("{{\"Records\":[{{\"e\":\"{}\"}},{{\"eventID\":\"e2\"}}]}}", "y".repeat(5 << 20));
    let (items, _, most) = decode_tallied(big.as_bytes().chunks(64 * 1024));
    assert_eq!(items[0].1, Some(ItemError::TooLong { bytes: (5 << 20) + 8, limit: LIMITS.max_item_bytes }));
    assert_eq!(items[1], (Position::Element { index: 1, line: 1 }, None));
    assert!(most <= LIMITS.max_item_bytes, "held {most} bytes");

    // A Records member after a member too long to keep is still found.
    let late = format!("{{\"meta\":\"{}\",\"Records\":[{{\"eventID\":\"e1\"}}]}}", "m".repeat(1 << 20));
    let run = decode(late.as_bytes());
    assert_eq!((run.format(), run.texts()), (Format::CloudTrail, vec!["{\"eventID\":\"e1\"}"]));
}

#[test]
fn a_million_tiny_lines_all_come_out() {
    let lines = "{\"n\":1}\n".repeat(1_000_000);
    let object = gzip(lines.as_bytes());
    let mut decoder = ObjectDecoder::new(LIMITS);
    let (mut count, mut last) = (0u64, None);
    let mut sink = |item: Item<'_>| {
        count += u64::from(item.text == Ok("{\"n\":1}"));
        last = Some(item.position);
    };
    for chunk in object.chunks(64 * 1024) {
        decoder.push(chunk, &mut sink).unwrap();
    }
    let decoded = decoder.finish(&mut sink).unwrap();
    assert_eq!((count, decoded.items, last), (1_000_000, 1_000_000, Some(Position::Line(1_000_000))));
}

#[test]
fn json_nested_a_million_deep_costs_no_stack() {
    const DEEP: usize = 1_000_000;
    let open = "[".repeat(DEEP);
    let closed = format!("{open}{}", "]".repeat(DEEP));
    let end = decode(open.as_bytes()).end;
    assert_eq!(end, Err(DecodeError { items: 0, problem: Unreadable::EndsInsideDocument { line: 1 } }));

    let run = decode(closed.as_bytes());
    let too_long = Err(ItemError::TooLong { bytes: 2 * DEEP as u64 - 2, limit: LIMITS.max_item_bytes });
    assert_eq!(run.items, [(0, Position::Element { index: 0, line: 1 }, too_long)]);
    let roomy = decode_chunks([closed.as_bytes()], Limits { max_item_bytes: 2 * DEEP }, 0);
    assert_eq!(roomy.items[0].2.as_ref().map(|text| text.len()), Ok(2 * DEEP - 2));

    let deep_line = format!("{{\"a\":{closed}}}\n{{\"b\":2}}\n");
    assert_eq!(decode(deep_line.as_bytes()).items[1].2.as_deref(), Ok("{\"b\":2}"));
}

proptest! {
    #[test]
    fn arbitrary_bytes_in_arbitrary_chunks_decode_the_same_and_never_panic(
        bytes in proptest::collection::vec(
            prop_oneof![4 => proptest::sample::select(b"{}[]\",:\\ \n\r\tRecords1".to_vec()), 1 => any::<u8>()],
            0..160,
        ),
        prefix in proptest::sample::select(vec![&b""[..], b"{\"Records\":[", b"[", b"{\"a\":1}\n"]),
        sizes in proptest::collection::vec(1usize..24, 1..8),
    ) {
        let object = [prefix, &bytes[..]].concat();
        let whole = decode(&object);
        let mut chunks = Vec::new();
        let mut rest = &object[..];
        for size in sizes.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (chunk, tail) = rest.split_at((*size).min(rest.len()));
            chunks.push(chunk);
            rest = tail;
        }
        prop_assert_eq!(&decode_chunks(chunks, LIMITS, 0), &whole);
        prop_assert_eq!(decode_chunks(gzip(&object).chunks(sizes[0]), LIMITS, 0).items, whole.items);
    }
}

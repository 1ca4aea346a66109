//! The formats as producers write them, positions that survive any chunking, and items that
//! are too long, not UTF-8, or skipped. Hostile objects (broken gzip, huge lines, deep JSON)
//! are in `tests/hostile.rs`.

mod hostile;

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;

use super::*;

const LIMITS: Limits = Limits { max_item_bytes: 256 * 1024 };

/// Everything a decoding hands out, owned, so two decodings compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub items: Vec<(u64, Position, Result<String, ItemError>)>,
    pub end: Result<Decoded, DecodeError>,
}

impl Run {
    pub fn texts(&self) -> Vec<&str> {
        self.items.iter().map(|(_, _, text)| text.as_deref().expect("an item with text")).collect()
    }

    pub fn positions(&self) -> Vec<Position> {
        self.items.iter().map(|(_, position, _)| *position).collect()
    }

    pub fn format(&self) -> Format {
        self.end.as_ref().expect("a readable object").format
    }
}

pub fn decode_chunks<'a>(chunks: impl IntoIterator<Item = &'a [u8]>, limits: Limits, skip: u64) -> Run {
    let mut decoder = ObjectDecoder::new(limits);
    decoder.skip_items(skip);
    let mut items = Vec::new();
    let mut sink = |item: Item<'_>| items.push((item.ordinal, item.position, item.text.map(str::to_owned)));
    for chunk in chunks {
        if decoder.push(chunk, &mut sink).is_err() {
            break;
        }
    }
    let end = decoder.finish(&mut sink);
    Run { items, end }
}

pub fn decode(object: &[u8]) -> Run {
    decode_chunks([object], LIMITS, 0)
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Decodes `object` whole, then in chunks of every size and split at every position, and
/// asserts every decoding hands out the same.
pub fn same_in_every_chunking(object: &[u8]) -> Run {
    let whole = decode(object);
    for size in 1..=object.len() {
        assert_eq!(decode_chunks(object.chunks(size), LIMITS, 0), whole, "in chunks of {size}");
    }
    for split in 0..=object.len() {
        let (head, tail) = object.split_at(split);
        assert_eq!(decode_chunks([head, tail], LIMITS, 0), whole, "split at {split}");
    }
    whole
}

const GITHUB_LINES: &str = "{\"action\":\"repo.create\",\"_document_id\":\"a1\"}\r\n\r\n  \n\
                            {\"action\":\"git.clone\",\"note\":\"braces } ] and \\\" stay\"}\n\
                            {\"action\":\"org.update\"}";

#[test]
fn json_lines_are_items_numbered_by_line_with_blank_lines_and_cr_skipped() {
    let run = same_in_every_chunking(GITHUB_LINES.as_bytes());
    assert_eq!(run.format(), Format::JsonLines);
    assert_eq!(run.positions(), [Position::Line(1), Position::Line(4), Position::Line(5)]);
    assert_eq!(run.texts()[0], "{\"action\":\"repo.create\",\"_document_id\":\"a1\"}");
    assert_eq!(run.texts()[2], "{\"action\":\"org.update\"}");
    assert_eq!(run.items.iter().map(|item| item.0).collect::<Vec<_>>(), [0, 1, 2]);
    assert_eq!(same_in_every_chunking(&gzip(GITHUB_LINES.as_bytes())).items, run.items);
}

#[test]
fn a_one_line_json_lines_file_is_one_item_on_its_line() {
    for object in ["{\"a\":1}", "{\"a\":1}\n", "\n\n{\"a\":1}  \r\n\n"] {
        let run = same_in_every_chunking(object.as_bytes());
        assert_eq!((run.format(), run.texts()), (Format::JsonLines, vec!["{\"a\":1}"]), "{object:?}");
    }
    assert_eq!(decode(b"\n\n{\"a\":1}").positions(), [Position::Line(3)]);
    let pretty = "{\n  \"eventName\": \"x\",\n  \"n\": [1,\n 2]\n}\n";
    let run = same_in_every_chunking(pretty.as_bytes());
    assert_eq!((run.positions(), run.texts()), (vec![Position::Line(1)], vec![pretty.trim_end()]));
}

#[test]
fn a_json_array_gives_its_elements_with_their_index_and_line() {
    let object = "[\n  {\"a\": \"x,]}\\\"\"},\n  {\"b\": [1, {\"c\": []}]} ,\"text\", 7,\n  null\n]\n";
    let run = same_in_every_chunking(object.as_bytes());
    assert_eq!(run.format(), Format::JsonArray);
    assert_eq!(run.texts(), ["{\"a\": \"x,]}\\\"\"}", "{\"b\": [1, {\"c\": []}]}", "\"text\"", "7", "null"]);
    let element = |index, line| Position::Element { index, line };
    assert_eq!(run.positions(), [element(0, 2), element(1, 3), element(2, 3), element(3, 3), element(4, 4)]);
    assert_eq!(decode(b"[]").end.map(|decoded| (decoded.format, decoded.items)), Ok((Format::JsonArray, 0)));
}

#[test]
fn a_records_object_gives_each_record_minified_or_pretty_printed() {
    let minified = r#"{"Records":[{"eventID":"e1","n":{"Records":[9]}},{"eventID":"e2"}]}"#;
    let pretty = "{\n  \"digestSignatureAlgorithm\": 1,\n  \"Records\" :\n  [\n    {\"eventID\": \"e1\",\n     \
                  \"n\": {\"Records\": [9]}},\n    {\"eventID\": \"e2\"}\n  ],\n  \"other\": {\"Records\": 1}\n}\n";
    for object in [minified, pretty] {
        let run = same_in_every_chunking(object.as_bytes());
        assert_eq!(run.format(), Format::CloudTrail, "{object}");
        assert_eq!(run.items.len(), 2);
        assert!(run.texts()[1].starts_with("{\"eventID\"") && run.texts()[1].ends_with('}'));
    }
    let run = decode(pretty.as_bytes());
    let element = |index, line| Position::Element { index, line };
    assert_eq!(run.positions(), [element(0, 5), element(1, 7)]);
    assert_eq!(run.texts()[0], "{\"eventID\": \"e1\",\n     \"n\": {\"Records\": [9]}}");
}

#[test]
fn a_records_member_that_is_not_an_array_is_an_error_in_a_file_of_one_object() {
    for object in [r#"{"Records":{"eventID":"e1"}}"#, "{\"Records\": null}\n", r#"{"a":1,"Records":"x"}"#] {
        let end = same_in_every_chunking(object.as_bytes()).end;
        assert_eq!(end, Err(DecodeError { items: 0, problem: Unreadable::RecordsNotAnArray }), "{object}");
    }
    assert_eq!(
        Unreadable::RecordsNotAnArray.to_string(),
        "the object's top-level Records member is not an array"
    );
    // In JSON Lines it is an event's own field.
    let lines = "{\"Records\":\"x\"}\n{\"b\":2}\n";
    assert_eq!(decode(lines.as_bytes()).texts(), ["{\"Records\":\"x\"}", "{\"b\":2}"]);
}

#[test]
fn azures_older_records_object_gives_each_record_but_only_as_its_first_member() {
    let blob = "{\"records\": [\n{\"time\": \"2019-01-21T22:14:26.9792776Z\", \"operationName\": \"w\"}\n,\
                {\"time\": \"2019-01-21T22:14:27Z\"}]}\n";
    let run = same_in_every_chunking(blob.as_bytes());
    assert_eq!(run.format(), Format::AzureRecords);
    assert_eq!(
        run.texts(),
        [
            "{\"time\": \"2019-01-21T22:14:26.9792776Z\", \"operationName\": \"w\"}",
            "{\"time\": \"2019-01-21T22:14:27Z\"}"
        ]
    );
    // Further in, or not an array, `records` is an event's own field: the line is an event.
    for line in [r#"{"id":1,"records":[{"a":1}]}"#, r#"{"records":"none"}"#] {
        let lines = format!("{line}\n{{\"b\":2}}\n");
        let run = same_in_every_chunking(lines.as_bytes());
        assert_eq!((run.format(), run.texts()), (Format::JsonLines, vec![line, "{\"b\":2}"]), "{line}");
    }
}

#[test]
fn a_cloudtrail_digest_file_holds_no_events_and_says_what_it_is() {
    // The shape of a CloudTrail-Digest/ file: it signs the trail's log files, it has no Records.
    let digest = r#"{"awsAccountId":"111122223333","digestStartTime":"2026-11-26T03:00:00Z",
        "digestEndTime":"2026-11-26T04:00:00Z","digestS3Bucket":"trail","digestS3Object":"AWSLogs/x.json.gz",
        "digestPublicKeyFingerprint":"8eb1fc4f","digestSignatureAlgorithm":"SHA256withRSA",
        "newestEventTime":"2026-11-26T03:59:00Z","previousDigestSignature":"4c7c","logFiles":[
        {"s3Bucket":"trail","s3Object":"AWSLogs/a.json.gz","hashValue":"9bd7","hashAlgorithm":"SHA-256"}]}"#;
    let run = decode(&gzip(digest.as_bytes()));
    assert_eq!(run.items, []);
    assert_eq!(run.end, Ok(Decoded { format: Format::CloudTrailDigest, items: 0, gzip_members: 1 }));
    let one_mark = digest.replace("digestSignatureAlgorithm", "signature");
    assert_eq!(decode(one_mark.as_bytes()).format(), Format::JsonLines, "one mark alone is an event");
}

#[test]
fn what_is_neither_one_document_nor_json_lines_is_an_error() {
    let error = |items, problem| Err(DecodeError { items, problem });
    let cases: [(&[u8], Result<Decoded, DecodeError>); 6] = [
        (b"[{\"a\":1},{\"b\":2}] trailing", error(2, Unreadable::DataAfterDocument { line: 1 })),
        (b"{\"Records\":[1]}\n{\"b\":2}\n", error(1, Unreadable::DataAfterDocument { line: 2 })),
        (b"{\n\"a\":1\n}\n{\"b\":2}\n", error(0, Unreadable::DataAfterDocument { line: 4 })),
        (b"[1][2]", error(1, Unreadable::DataAfterDocument { line: 1 })),
        (b"\n  eventName,eventTime\n", error(0, Unreadable::NotJson { byte: b'e' })),
        (b"\xef\xbb\x00{}", error(0, Unreadable::NotJson { byte: 0xef })),
    ];
    for (object, end) in cases {
        assert_eq!(same_in_every_chunking(object).end, end, "{}", String::from_utf8_lossy(object));
    }
    assert_eq!(
        Unreadable::NotJson { byte: b'e' }.to_string(),
        "the object is neither gzip nor JSON: its text starts with byte 0x65, not [ (a JSON array) or { \
         (JSON Lines or a Records object)"
    );
}

#[test]
fn broken_array_structure_is_an_error_naming_its_line() {
    let cases: [(&str, u64, Unreadable); 8] = [
        ("[1,\n,2]", 1, Unreadable::MissingElement { line: 2 }),
        ("[1,\n]", 1, Unreadable::MissingElement { line: 2 }),
        ("[,1]", 0, Unreadable::MissingElement { line: 1 }),
        ("[1}", 1, Unreadable::Unbalanced { line: 1 }),
        ("{\"Records\":[1}", 1, Unreadable::Unbalanced { line: 1 }),
        ("[1,\n2", 1, Unreadable::EndsInsideDocument { line: 1 }),
        ("\n{\"Records\":[{\"a\":\"x\ny\"}]}", 0, Unreadable::BreakInString { line: 2 }),
        ("\n\n{\"a\":{\"b\":1}", 0, Unreadable::EndsInsideDocument { line: 3 }),
    ];
    for (object, items, problem) in cases {
        let end = same_in_every_chunking(object.as_bytes()).end;
        assert_eq!(end, Err(DecodeError { items, problem }), "{object:?}");
    }
}

#[test]
fn lines_that_are_not_json_are_handed_out_for_the_parse_to_refuse() {
    let object = "{\"a\":1}\nnot json\n{\"unterminated\n{\"b\":2}\n";
    let run = same_in_every_chunking(object.as_bytes());
    assert_eq!(run.texts(), ["{\"a\":1}", "not json", "{\"unterminated", "{\"b\":2}"]);
    // A first line broken inside a string is no document: the lines after it are still read.
    let run = same_in_every_chunking(b"{\"a\":\"cut\n{\"b\":2}\n");
    assert_eq!((run.format(), run.texts()), (Format::JsonLines, vec!["{\"a\":\"cut", "{\"b\":2}"]));
}

#[test]
fn invalid_utf8_makes_an_item_error_and_the_next_line_is_read() {
    let run = same_in_every_chunking(b"{\"a\":\"\xff\"}\n{\"b\":\"\xc3\xa9\"}\n");
    assert_eq!(run.items[0], (0, Position::Line(1), Err(ItemError::NotUtf8 { valid_up_to: 6 })));
    assert_eq!(run.items[1].2.as_deref(), Ok("{\"b\":\"é\"}"));
}

#[test]
fn a_byte_order_mark_at_the_start_is_skipped() {
    let cases: [(&[u8], &[&str]); 2] =
        [(b"\xef\xbb\xbf{\"a\":1}\n{\"b\":2}", &["{\"a\":1}", "{\"b\":2}"]), (b"\xef\xbb\xbf[1]", &["1"])];
    for (object, texts) in cases {
        let run = same_in_every_chunking(object);
        assert_eq!(run.texts(), texts);
        assert_eq!(decode(&gzip(object)).items, run.items);
    }
}

#[test]
fn an_empty_object_and_an_empty_gzip_have_no_items() {
    let empty = |gzip_members| Ok(Decoded { format: Format::Empty, items: 0, gzip_members });
    assert_eq!(decode(b"").end, empty(0));
    assert_eq!(same_in_every_chunking(b" \r\n\n").end, empty(0));
    assert_eq!(same_in_every_chunking(&gzip(b"")).end, empty(1));
    assert_eq!(decode(&[gzip(b""), gzip(b"\n")].concat()).end, empty(2));
}

#[test]
fn an_item_longer_than_the_limit_is_reported_and_the_next_one_read() {
    let limits = Limits { max_item_bytes: 16 };
    let object = "{\"a\":\"0123456789abcdef\"}\n{\"b\":1}\n[\"exactly 16 b\"]\n";
    let expected_too_long = Err(ItemError::TooLong { bytes: 24, limit: 16 });
    let whole = decode_chunks([object.as_bytes()], limits, 0);
    for size in 1..=object.len() {
        assert_eq!(decode_chunks(object.as_bytes().chunks(size), limits, 0), whole);
    }
    assert_eq!(whole.items[0], (0, Position::Line(1), expected_too_long));
    assert_eq!(whole.items[1].2.as_deref(), Ok("{\"b\":1}"));
    assert_eq!(whole.items[2].2.as_deref(), Ok("[\"exactly 16 b\"]"));

    let array = "[{\"b\":1},\"0123456789abcdefg\",{\"c\":2}]";
    let run = decode_chunks(array.as_bytes().chunks(5), limits, 0);
    let too_long = Err(ItemError::TooLong { bytes: 19, limit: 16 });
    assert_eq!(run.items[1], (1, Position::Element { index: 1, line: 1 }, too_long));
    assert_eq!(run.items[2].2.as_deref(), Ok("{\"c\":2}"));
}

#[test]
fn skipped_items_are_read_but_not_handed_out_and_ordinals_go_on() {
    let lines = GITHUB_LINES.as_bytes();
    let all = decode(lines);
    for skip in 0..=4 {
        for size in [1, 3, lines.len()] {
            let run = decode_chunks(lines.chunks(size), LIMITS, skip);
            assert_eq!(run.items, all.items[(skip as usize).min(3)..], "skip {skip} in chunks of {size}");
            assert_eq!(run.end.as_ref().map(|decoded| decoded.items), Ok(3));
        }
    }
    let records = br#"{"Records":[{"n":0},{"n":1},{"n":2}]}"#;
    let run = decode_chunks(records.chunks(4), LIMITS, 2);
    assert_eq!(run.items, [(2, Position::Element { index: 2, line: 1 }, Ok("{\"n\":2}".into()))]);
    let run = decode_chunks([&b"{\"only\":1}"[..]], LIMITS, 1);
    assert_eq!((run.items.len(), run.end.map(|decoded| decoded.items)), (0, Ok(1)));
}

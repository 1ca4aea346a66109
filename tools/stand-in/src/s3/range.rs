//! Which bytes of an object a `Range` header asks for, by the rules S3 follows (RFC 9110's
//! byte ranges, one range per request): `bytes=N-`, `bytes=N-M` and the suffix `bytes=-S`.
//! A header S3 cannot use (another unit, several ranges, a last byte before the first) is
//! ignored and the whole object is sent; a range that starts past the end is refused.

/// What to send of an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// The whole object: 200.
    Whole,
    /// Bytes `first..=last`: 206 with `Content-Range`.
    Part { first: u64, last: u64 },
    /// A range that holds none of the object's bytes: 416 `InvalidRange`.
    Unsatisfiable,
}

/// The selection `range` makes of an object of `len` bytes.
pub fn select(range: Option<&str>, len: u64) -> Selection {
    let Some(spec) = range.and_then(|range| range.trim().strip_prefix("bytes=")) else {
        return Selection::Whole;
    };
    if spec.contains(',') {
        return Selection::Whole;
    }
    let Some((first, last)) = spec.split_once('-') else { return Selection::Whole };
    let number = |text: &str| text.trim().parse::<u64>().ok();
    match (first.trim().is_empty(), number(first), number(last)) {
        // `bytes=-S`: the last S bytes.
        (true, _, Some(suffix)) if suffix > 0 && len > 0 => {
            Selection::Part { first: len - suffix.min(len), last: len - 1 }
        }
        (true, _, Some(_)) => Selection::Unsatisfiable,
        (false, Some(first), _) if last.trim().is_empty() => part(first, u64::MAX, len),
        (false, Some(first), Some(last)) if last >= first => part(first, last, len),
        _ => Selection::Whole,
    }
}

/// A range `first..=last` asked of an object of `len` bytes: the end is cut to the object's,
/// the start must fall within it.
fn part(first: u64, last: u64, len: u64) -> Selection {
    if first >= len {
        return Selection::Unsatisfiable;
    }
    Selection::Part { first, last: last.min(len - 1) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(first: u64, last: u64) -> Selection {
        Selection::Part { first, last }
    }

    #[test]
    fn ranges_select_as_s3_does() {
        let cases: &[(Option<&str>, Selection)] = &[
            (None, Selection::Whole),
            (Some("bytes=0-"), part(0, 99)),
            (Some("bytes=40-"), part(40, 99)),
            (Some("bytes=99-"), part(99, 99)),
            (Some("bytes=10-19"), part(10, 19)),
            (Some("bytes=10-10"), part(10, 10)),
            (Some("bytes=90-1000"), part(90, 99)),
            (Some("bytes=-10"), part(90, 99)),
            (Some("bytes=-1000"), part(0, 99)),
            (Some("bytes=100-"), Selection::Unsatisfiable),
            (Some("bytes=100-200"), Selection::Unsatisfiable),
            (Some("bytes=-0"), Selection::Unsatisfiable),
            // What S3 cannot use, it ignores.
            (Some("bytes=20-10"), Selection::Whole),
            (Some("bytes=0-1,5-6"), Selection::Whole),
            (Some("items=0-1"), Selection::Whole),
            (Some("bytes=x-"), Selection::Whole),
            (Some("bytes=-"), Selection::Whole),
        ];
        for (range, expected) in cases {
            assert_eq!(select(*range, 100), *expected, "{range:?}");
        }
    }

    #[test]
    fn no_range_holds_a_byte_of_an_empty_object() {
        assert_eq!(select(Some("bytes=0-"), 0), Selection::Unsatisfiable);
        assert_eq!(select(Some("bytes=-5"), 0), Selection::Unsatisfiable);
        assert_eq!(select(None, 0), Selection::Whole);
    }
}

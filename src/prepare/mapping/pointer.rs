//! JSON Pointers (RFC 6901) read once at cold start: each reference token unescaped then, so
//! that a look-up per event walks the payload without splitting, unescaping or allocating.

use serde_json::Value;

/// One JSON Pointer, checked by the parser (`""`, or `/` and tokens whose only escapes are
/// `~0` and `~1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pointer {
    /// The tokens, `~1` read as `/` and `~0` as `~`; none for `""`, the whole payload.
    tokens: Vec<String>,
}

impl Pointer {
    pub(super) fn new(text: &str) -> Pointer {
        let tokens =
            text.split('/').skip(1).map(|token| token.replace("~1", "/").replace("~0", "~")).collect();
        Pointer { tokens }
    }

    /// The value the pointer finds in `value`, as `serde_json::Value::pointer` finds it: a
    /// token names an object's member, or an array's index written in decimal with no sign and
    /// no leading zero.
    pub fn find<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        self.tokens.iter().try_fold(value, |value, token| match value {
            Value::Object(members) => members.get(token),
            Value::Array(items) => index(token).and_then(|index| items.get(index)),
            _ => None,
        })
    }
}

fn index(token: &str) -> Option<usize> {
    if token.starts_with('+') || (token.starts_with('0') && token.len() != 1) {
        return None;
    }
    token.parse().ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_pointer_finds_what_serde_json_finds() {
        let payload = json!({
            "a": {"b/c": [10, {"d~e": "deep"}], "": "empty key"},
            "0": "zero key", "list": ["x", "y"], "n": null
        });
        for text in [
            "",
            "/a",
            "/a/b~1c",
            "/a/b~1c/0",
            "/a/b~1c/1/d~0e",
            "/a/",
            "/0",
            "/list/1",
            "/list/01",
            "/list/+1",
            "/list/-",
            "/list/2",
            "/n",
            "/n/x",
            "/missing",
            "/a/b~1c/1/d~0e/x",
        ] {
            assert_eq!(Pointer::new(text).find(&payload), payload.pointer(text), "{text:?}");
        }
    }
}

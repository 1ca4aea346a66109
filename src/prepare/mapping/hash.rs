//! Hashes (`"hash"`): an id made from several values of the payload, for sources whose own id
//! is not unique alone, or that have none.
//!
//! Google Cloud's `insertId` is unique only within its log and timestamp, so its audit event id
//! is a hash of the three; an Azure Activity Log record has no id at all, so its id is a hash
//! of the record itself (`""`). Either way the same record gives the same id wherever it is read
//! again: in the next copy of an append blob, in a file a sink wrote twice, after a relay. A
//! random id, or one from the file and position, would store each of those copies once more.
//!
//! The value is `sha256-` and the hex SHA-256 of the values as one JSON array in a canonical
//! text: compact, object members sorted by key, strings escaped as `serde_json` escapes them.
//! So whitespace and member order (a pretty-printed `{"records": [...]}` blob against a JSON
//! Lines one) do not change the id, and the text does not depend on how `serde_json` keeps maps.
//! It is 71 characters of the service's id pattern.

use serde_json::Value;

use crate::event::sha256_id;

/// `sha256-` and the hex SHA-256 of `values`' canonical text (see the module documentation).
pub(super) fn hash(values: &[&Value]) -> String {
    let mut text = String::from("[");
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        canonical(value, &mut text);
    }
    text.push(']');
    sha256_id(text.as_bytes())
}

/// Writes `value` compact with object members sorted by key. Depth is bounded by the payload's
/// parse, which `serde_json` limits to 128 levels.
fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(members) => {
            let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
            sorted.sort_unstable_by_key(|(key, _)| *key);
            out.push('{');
            for (i, (key, member)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::from(key.as_str()).to_string());
                out.push(':');
                canonical(member, out);
            }
            out.push('}');
        }
        Value::Array(elements) => {
            out.push('[');
            for (i, element) in elements.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(element, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_hash_is_of_the_values_canonical_text() {
        let values = [
            json!("projects/p/logs/cloudaudit.googleapis.com%2Factivity"),
            json!({"b": [1, "x"], "a": null}),
        ];
        let text = r#"["projects/p/logs/cloudaudit.googleapis.com%2Factivity",{"a":null,"b":[1,"x"]}]"#;
        assert_eq!(hash(&[&values[0], &values[1]]), sha256_id(text.as_bytes()));
    }

    #[test]
    fn whitespace_and_member_order_do_not_change_the_hash_and_any_value_does() {
        let compact: Value = serde_json::from_str(r#"{"time":"t","identity":{"b":1,"a":2}}"#).unwrap();
        let pretty: Value =
            serde_json::from_str("{\n  \"identity\": {\"a\": 2,\n \"b\": 1},\n  \"time\": \"t\"\n}").unwrap();
        assert_eq!(hash(&[&compact]), hash(&[&pretty]));
        let other: Value = serde_json::from_str(r#"{"time":"t","identity":{"b":1,"a":3}}"#).unwrap();
        assert_ne!(hash(&[&compact]), hash(&[&other]));
        // Values are kept apart: ("ab", "c") is not ("a", "bc").
        assert_ne!(hash(&[&json!("ab"), &json!("c")]), hash(&[&json!("a"), &json!("bc")]));
    }

    #[test]
    fn the_hash_fits_the_audit_event_id_pattern() {
        let id = hash(&[&json!("é \" / +")]);
        assert!(crate::event::is_audit_event_id(&id) && id.starts_with("sha256-") && id.len() == 71, "{id}");
    }
}

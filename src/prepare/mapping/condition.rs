//! Conditions (`"when"`): a field set only when the payload says so, such as an `errorCode`
//! only on a real failure.
//!
//! Sources report an outcome on every event, success or not (Okta's `outcome.result`, Azure's
//! `resultType`, Google Cloud's `status.code`, GitHub's `status_code`); copied into `errorCode`
//! unconditionally it would mark every success as a failure. A condition reads one value of the
//! payload and tests it, either against a list of values (`in`) or a lower bound (`atLeast`):
//!
//! ```json
//! {"errorCode": {"path": "/outcome/result", "when": {"path": "/outcome/result", "in": ["DENY", "FAILURE"]}}}
//! {"errorCode": {"path": "/status_code", "when": [{"path": "/action", "in": ["api.request"]},
//!                                                 {"path": "/status_code", "atLeast": 400}]}}
//! ```
//!
//! A list of conditions holds when each one does. These two tests are all the presets need: no
//! negation, no "or", no expressions, so what a condition does is read at a glance and checked
//! at cold start. A condition whose value is missing (absent, `null` or `""`) does not hold.

use serde_json::Value;

use super::parse::pointers;
use super::{error, MappingError, Pointer};

/// One test of one value of the payload.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Condition {
    /// JSON Pointers tried in order, as a `path`'s are: the first value found is tested.
    pointers: Vec<Pointer>,
    test: Test,
}

#[derive(Debug, Clone, PartialEq)]
enum Test {
    /// The value equals one of these (numbers by their value: `7` and `7.0` are equal).
    In(Vec<Value>),
    /// The value is a number at least this.
    AtLeast(f64),
}

const EXPECTED: &str =
    "when must be a condition {\"path\": …, \"in\": [values]} or {\"path\": …, \"atLeast\": number}, \
     or a list of them that must all hold";

/// Reads an entry's `when`: one condition or a non-empty list of them.
pub(super) fn parse(entry: &str, value: &Value) -> Result<Vec<Condition>, MappingError> {
    match value {
        Value::Array(conditions) if conditions.is_empty() => Err(error(entry, EXPECTED)),
        Value::Array(conditions) => conditions.iter().map(|condition| one(entry, condition)).collect(),
        condition => Ok(vec![one(entry, condition)?]),
    }
}

fn one(entry: &str, value: &Value) -> Result<Condition, MappingError> {
    let object = value.as_object().ok_or_else(|| error(entry, EXPECTED))?;
    let mut found = None;
    let mut test = None;
    for (key, value) in object {
        match key.as_str() {
            "path" => found = Some(pointers(entry, "when's path", value)?),
            "in" if test.is_none() => test = Some(values(entry, value)?),
            "atLeast" if test.is_none() => {
                let bound = value.as_f64().ok_or_else(|| error(entry, "when's atLeast must be a number"))?;
                test = Some(Test::AtLeast(bound));
            }
            _ => return Err(error(entry, format!("{key:?} has no meaning in a condition; {EXPECTED}"))),
        }
    }
    match (found, test) {
        (Some(pointers), Some(test)) => Ok(Condition { pointers, test }),
        _ => Err(error(entry, EXPECTED)),
    }
}

fn values(entry: &str, value: &Value) -> Result<Test, MappingError> {
    match value {
        Value::Array(values) if !values.is_empty() && values.iter().all(|value| !value.is_null()) => {
            Ok(Test::In(values.clone()))
        }
        _ => Err(error(entry, "when's in must list the values (not null) that make the condition hold")),
    }
}

/// Whether every condition holds for `payload`; an empty list always holds.
pub(super) fn hold(conditions: &[Condition], payload: &Value) -> bool {
    conditions.iter().all(|condition| condition.holds(payload))
}

impl Condition {
    fn holds(&self, payload: &Value) -> bool {
        let Some(value) = super::apply::first_found(&self.pointers, payload) else {
            return false;
        };
        match &self.test {
            Test::In(values) => values.iter().any(|listed| same(listed, value)),
            Test::AtLeast(bound) => value.as_f64().is_some_and(|number| number >= *bound),
        }
    }
}

/// JSON equality, except that numbers are equal by value, whatever their JSON text: a source
/// may write `7` as `7.0`.
fn same(listed: &Value, value: &Value) -> bool {
    match (listed, value) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (a, b) => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn holds(when: Value, payload: Value) -> bool {
        hold(&parse("errorCode", &when).unwrap(), &payload)
    }

    #[test]
    fn in_holds_for_a_listed_value_only() {
        let when = json!({"path": "/outcome/result", "in": ["DENY", "FAILURE"]});
        assert!(holds(when.clone(), json!({"outcome": {"result": "DENY"}})));
        assert!(holds(when.clone(), json!({"outcome": {"result": "FAILURE"}})));
        for result in [json!("SUCCESS"), json!("deny"), json!(null), json!(""), json!(["DENY"])] {
            assert!(!holds(when.clone(), json!({"outcome": {"result": result}})), "{result}");
        }
        assert!(!holds(when, json!({})));
        assert!(holds(json!({"path": "/code", "in": [7]}), json!({"code": 7.0})));
    }

    #[test]
    fn at_least_holds_for_numbers_from_the_bound_on() {
        let when = json!({"path": "/status/code", "atLeast": 1});
        assert!(holds(when.clone(), json!({"status": {"code": 7}})));
        assert!(!holds(when.clone(), json!({"status": {"code": 0}})));
        assert!(!holds(when.clone(), json!({"status": {}})), "an empty status is OK");
        assert!(!holds(when, json!({"status": {"code": "7"}})), "a string is not a number");
    }

    #[test]
    fn a_list_of_conditions_holds_when_each_does() {
        let when =
            json!([{"path": "/action", "in": ["api.request"]}, {"path": "/status_code", "atLeast": 400}]);
        assert!(holds(when.clone(), json!({"action": "api.request", "status_code": 404})));
        assert!(!holds(when.clone(), json!({"action": "api.request", "status_code": 200})));
        assert!(!holds(when, json!({"action": "repo.create", "status_code": 404})));
    }

    #[test]
    fn a_condition_that_cannot_work_is_refused_at_cold_start() {
        for when in [
            json!([]),
            json!("failed"),
            json!({"path": "/a"}),
            json!({"in": ["x"]}),
            json!({"path": "/a", "in": []}),
            json!({"path": "/a", "in": [null]}),
            json!({"path": "/a", "in": "x"}),
            json!({"path": "/a", "atLeast": "400"}),
            json!({"path": "/a", "in": ["x"], "atLeast": 1}),
            json!({"path": "a", "in": ["x"]}),
            json!({"path": "/a", "equals": "x"}),
        ] {
            let refused = parse("errorCode", &when).unwrap_err();
            assert_eq!(refused.entry, "errorCode", "{when}");
        }
    }
}

//! Outcomes → the partial batch response Lambda reads: `SqsBatchResponse` with message IDs, or
//! `KinesisEventResponse` with sequence numbers.
//!
//! Every identifier in an answer comes from the batch, is never empty and is named once (an
//! empty or unknown one would fail the whole batch). Which records are named is decided by
//! [`crate::lambda::ordering`]; this module only writes the response Lambda reads.

use std::collections::HashSet;

use aws_lambda_events::event::sqs::SqsBatchResponse;
use aws_lambda_events::event::streams::KinesisEventResponse;
use serde::Serialize;

use crate::lambda::{EventError, Record, Source};
use crate::outcome::Outcome;

/// The function's answer: `{"batchItemFailures":[{"itemIdentifier":"…"}]}` for either source.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    Sqs(SqsBatchResponse),
    Kinesis(KinesisEventResponse),
}

impl Answer {
    /// The answer to an empty batch: nothing to report. It is the same JSON for both sources.
    pub fn empty() -> Answer {
        Answer::Sqs(SqsBatchResponse::default())
    }
}

#[cfg(test)]
impl Answer {
    /// The reported identifiers, in answer order.
    pub fn item_identifiers(&self) -> Vec<&str> {
        match self {
            Answer::Sqs(response) => {
                response.batch_item_failures.iter().map(|failure| failure.item_identifier.as_str()).collect()
            }
            Answer::Kinesis(response) => response
                .batch_item_failures
                .iter()
                .filter_map(|failure| failure.item_identifier.as_deref())
                .collect(),
        }
    }
}

/// Builds the answer for `records` given each one's outcome (`outcomes[i]` for `records[i]`),
/// and returns it with the indices of the records it names. Which records are named is the
/// source's rule, in [`Source::reported`].
///
/// A record that came without an identifier cannot be named: if it must be reported, the only
/// answer that does not drop it is an error for the whole batch.
pub fn answer(
    source: Source,
    records: &[Record],
    outcomes: &[Option<Outcome>],
) -> Result<(Answer, Vec<usize>), EventError> {
    let reported = source
        .reported(records, outcomes)
        .map_err(|index| EventError::MissingIdentifier { index, field: source.identifier_field() })?;
    // `reported` only holds records with an identifier.
    let named = reported.iter().filter_map(|&index| records[index].item_identifier.as_ref());
    let answer = match source {
        Source::Kinesis => {
            let mut response = KinesisEventResponse::default();
            named.for_each(|identifier| response.add_failure(identifier.as_str()));
            Answer::Kinesis(response)
        }
        Source::Sqs | Source::SqsFifo => {
            let mut response = SqsBatchResponse::default();
            let mut seen = HashSet::new();
            for identifier in named.filter(|identifier| seen.insert(*identifier)) {
                response.add_failure(identifier.as_str());
            }
            Answer::Sqs(response)
        }
    };
    Ok((answer, reported))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Hold;
    use crate::rejection::Rejection;
    use serde_json::json;

    fn batch(event: serde_json::Value) -> (Source, Vec<Record>) {
        let batch = crate::lambda::decode(serde_json::from_value(event).unwrap())
            .unwrap()
            .expect("a batch with records");
        (batch.source, batch.records)
    }

    fn sqs_batch(ids: &[&str], fifo_groups: Option<&[&str]>) -> (Source, Vec<Record>) {
        let arn = if fifo_groups.is_some() {
            "arn:aws:sqs:eu-west-1:123456789012:q.fifo"
        } else {
            "arn:aws:sqs:eu-west-1:123456789012:q"
        };
        batch(json!({"Records": ids.iter().enumerate().map(|(i, id)| json!({
            "messageId": id, "body": "{}", "eventSource": "aws:sqs", "eventSourceARN": arn,
            "attributes": fifo_groups.map_or(json!({}), |groups| json!({"MessageGroupId": groups[i]}))
        })).collect::<Vec<_>>()}))
    }

    const OK: Option<Outcome> = Some(Outcome::Ingested);

    fn failed(code: &str) -> Option<Outcome> {
        Some(Outcome::Failed { code: code.into(), transient: false })
    }

    fn json_of(answer: &Answer) -> serde_json::Value {
        serde_json::to_value(answer).unwrap()
    }

    #[test]
    fn a_batch_that_all_landed_answers_with_no_failures() {
        let (source, records) = sqs_batch(&["a", "b"], None);
        let answer = answer(source, &records, &[OK, OK]).unwrap().0;
        assert_eq!(json_of(&answer), json!({"batchItemFailures": []}));
    }

    #[test]
    fn sqs_reports_exactly_the_records_that_did_not_land() {
        let (source, records) = sqs_batch(&["a", "b", "c", "d"], None);
        let rejected = Some(Outcome::Rejected(Rejection::BadEventTime));
        let (answer, _) = answer(source, &records, &[OK, failed("InvalidData"), rejected, None]).unwrap();
        assert_eq!(
            json_of(&answer),
            json!({"batchItemFailures": [{"itemIdentifier": "b"}, {"itemIdentifier": "c"}, {"itemIdentifier": "d"}]})
        );
    }

    #[test]
    fn a_message_delivered_twice_in_one_batch_is_named_once() {
        let (source, records) = sqs_batch(&["a", "a"], None);
        assert_eq!(
            answer(source, &records, &[failed("Throttling"), failed("Throttling")])
                .unwrap()
                .0
                .item_identifiers(),
            ["a"]
        );
    }

    #[test]
    fn fifo_failure_reports_the_rest_of_its_group() {
        let (source, records) = sqs_batch(&["a1", "b1", "a2", "b2", "a3"], Some(&["a", "b", "a", "b", "a"]));
        let outcomes = [OK, OK, failed("InvalidData"), OK, OK];
        assert_eq!(answer(source, &records, &outcomes).unwrap().0.item_identifiers(), ["a2", "a3"]);
    }

    #[test]
    fn kinesis_reports_the_lowest_record_not_ingested() {
        let kinesis: Vec<_> = ["1", "2", "3", "4"]
            .iter()
            .map(|n| json!({"eventSource": "aws:kinesis", "kinesis": {
                "sequenceNumber": format!("4959000000000000000000000000000000000000000000000000000{n}"), "data": "e30="}}))
            .collect();
        let (source, records) = batch(json!({ "Records": kinesis }));
        let held = Some(Outcome::Held(Hold::BehindFailure));
        let (answer, reported) =
            answer(source, &records, &[OK, failed("InternalFailure"), OK, held]).unwrap();
        assert_eq!(reported, [1]);
        assert!(matches!(answer, Answer::Kinesis(_)));
        assert_eq!(answer.item_identifiers(), ["49590000000000000000000000000000000000000000000000000002"]);
        let (all_ok, _) = super::answer(source, &records, &[OK, OK, OK, OK]).unwrap();
        assert_eq!(json_of(&all_ok), json!({"batchItemFailures": []}));
    }

    #[test]
    fn a_record_without_an_identifier_is_fine_once_ingested_and_fails_the_batch_otherwise() {
        let (source, mut records) = sqs_batch(&["a", "b"], None);
        records[1].item_identifier = None;
        assert_eq!(
            answer(source, &records, &[failed("InvalidData"), OK]).unwrap().0.item_identifiers(),
            ["a"]
        );
        assert_eq!(
            answer(source, &records, &[OK, failed("InvalidData")]),
            Err(EventError::MissingIdentifier { index: 1, field: "messageId" })
        );
    }

    #[test]
    fn kinesis_names_the_nearest_earlier_record_when_the_failed_one_has_no_identifier() {
        let kinesis: Vec<_> = ["1", "2", "3"]
            .iter()
            .map(|n| json!({"eventSource": "aws:kinesis", "kinesis": {"sequenceNumber": n, "data": "e30="}}))
            .collect();
        let (source, mut records) = batch(json!({ "Records": kinesis }));
        records[2].item_identifier = None;
        let outcomes = [OK, OK, failed("InvalidData")];
        assert_eq!(answer(source, &records, &outcomes).unwrap().0.item_identifiers(), ["2"]);
        records[0].item_identifier = None;
        records[1].item_identifier = None;
        assert_eq!(
            answer(source, &records, &outcomes),
            Err(EventError::MissingIdentifier { index: 2, field: "kinesis.sequenceNumber" })
        );
    }
}

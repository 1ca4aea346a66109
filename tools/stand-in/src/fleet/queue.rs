//! A standard SQS queue as Lambda's event source mapping drains it, shared by every execution
//! environment of a fleet: what one invocation receives, no other sees until its answer is
//! applied.
//!
//! The rules (SERVICE.md, "Lambda: partial batch responses"): a batch's messages that the
//! answer does not name are deleted; named ones, and the whole batch after a function error or
//! timeout, come back after the visibility timeout; a message due for its receive beyond
//! `maxReceiveCount` goes to the dead-letter list instead. The visibility timeout is counted
//! from the answer, not from the receive: a queue set up as advised (at least six times the
//! function timeout) never shows a message again while its invocation runs, and counting from
//! the answer keeps that true with a timeout scaled down to a second.
//!
//! Time is given by the caller, so the rules are unit-tested without a clock.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

/// The most bytes Lambda puts in one synchronous invocation's event: a batch stops short of it.
pub const MAX_INVOCATION_PAYLOAD: usize = 6 * 1024 * 1024;

/// The queue's ARN in every record: a standard queue (a FIFO queue's name ends in `.fifo`).
pub const QUEUE_ARN: &str = "arn:aws:sqs:us-east-1:123456789012:audit-events";

/// `{"Records":[` and `]}` around the records.
const EVENT_FRAME_BYTES: usize = 14;

/// Where a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Visible,
    /// Answered as failed; visible again at this instant.
    Returning(Instant),
    /// Handed to an invocation that has not answered yet.
    InFlight,
    Deleted,
    DeadLettered,
}

struct Message {
    message_id: String,
    body: String,
    receive_count: u32,
    first_received_ms: Option<u64>,
    place: Place,
}

/// A batch handed to one invocation: its number, its messages' ids, and the Lambda SQS event.
#[derive(Debug, Clone)]
pub struct Batch {
    pub number: u64,
    pub message_ids: Vec<String>,
    /// The event as Lambda sends it: `{"Records":[…]}`.
    pub payload: Vec<u8>,
}

/// What an invocation's answer means for its batch, by Lambda's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every message succeeded and is deleted.
    AllSucceeded,
    /// These messages (`itemIdentifier` = `messageId`) failed; the rest succeeded.
    ItemsFailed(HashSet<String>),
    /// The whole batch failed: a function error, a timeout, or an answer Lambda cannot use.
    BatchFailed,
}

impl Verdict {
    /// Reads a function's answer to `batch` as Lambda does. An answer without
    /// `batchItemFailures` (or with it null or empty) is a success; an entry whose
    /// `itemIdentifier` is missing, empty or not a message of the batch fails the whole batch.
    ///
    /// The Runtime API stand-in reads an answer that is not JSON as null, so such an answer
    /// counts as a success here; the fleet's loss check still catches what it would delete.
    pub fn of_answer(answer: &Value, batch: &Batch) -> Verdict {
        let failures = match answer {
            Value::Null => return Verdict::AllSucceeded,
            Value::Object(fields) => match fields.get("batchItemFailures") {
                None | Some(Value::Null) => return Verdict::AllSucceeded,
                Some(Value::Array(entries)) => entries,
                Some(_) => return Verdict::BatchFailed,
            },
            _ => return Verdict::BatchFailed,
        };
        let mut named = HashSet::new();
        for entry in failures {
            let identifier = entry.get("itemIdentifier").and_then(Value::as_str).unwrap_or_default();
            if !batch.message_ids.iter().any(|id| id == identifier) {
                return Verdict::BatchFailed;
            }
            named.insert(identifier.to_owned());
        }
        if named.is_empty() {
            Verdict::AllSucceeded
        } else {
            Verdict::ItemsFailed(named)
        }
    }
}

/// How many messages are where, for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub messages: usize,
    pub deleted: usize,
    /// Deleted messages by the receive that deleted them: `[0]` on the first receive, and so
    /// on up to `maxReceiveCount`. Deletions late in the list are messages that came close to
    /// the dead-letter queue.
    pub deleted_by_receive: Vec<usize>,
    pub dead_lettered: usize,
    /// Visible, or waiting out the visibility timeout.
    pub waiting: usize,
    /// In a batch whose invocation has not answered.
    pub in_flight: usize,
    /// Batches handed out.
    pub batches: u64,
}

impl Tally {
    /// Messages neither deleted nor dead-lettered.
    pub fn left(&self) -> usize {
        self.waiting + self.in_flight
    }
}

/// The queue.
pub struct Queue {
    messages: Vec<Message>,
    visible: VecDeque<usize>,
    /// Messages waiting out the visibility timeout, in the order they become visible (each is
    /// pushed at "now + timeout", and now only grows).
    returning: VecDeque<usize>,
    in_flight: HashMap<u64, Vec<usize>>,
    visibility_timeout: Duration,
    max_receive_count: u32,
    sent_timestamp_ms: u64,
    batches: u64,
}

impl Queue {
    /// A queue holding one message per body, with ids from `message_id(i)`.
    pub fn new(
        bodies: impl IntoIterator<Item = String>,
        message_id: impl Fn(usize) -> String,
        visibility_timeout: Duration,
        max_receive_count: u32,
    ) -> Queue {
        let messages: Vec<Message> = bodies
            .into_iter()
            .enumerate()
            .map(|(i, body)| Message {
                message_id: message_id(i),
                body,
                receive_count: 0,
                first_received_ms: None,
                place: Place::Visible,
            })
            .collect();
        Queue {
            visible: (0..messages.len()).collect(),
            messages,
            returning: VecDeque::new(),
            in_flight: HashMap::new(),
            visibility_timeout,
            max_receive_count,
            sent_timestamp_ms: epoch_ms(),
            batches: 0,
        }
    }

    /// Every message's id, in the order sent.
    pub fn message_ids(&self) -> impl Iterator<Item = &str> {
        self.messages.iter().map(|message| message.message_id.as_str())
    }

    /// Up to `batch_size` visible messages, made invisible until their answer is applied; a
    /// batch also stops short of [`MAX_INVOCATION_PAYLOAD`]. `None` when nothing is visible.
    pub fn receive(&mut self, batch_size: usize, now: Instant) -> Option<Batch> {
        self.return_due(now);
        let now_ms = epoch_ms();
        let mut members = Vec::new();
        let mut records: Vec<String> = Vec::new();
        let mut payload_len = EVENT_FRAME_BYTES;
        while members.len() < batch_size {
            let Some(&index) = self.visible.front() else { break };
            if self.messages[index].receive_count >= self.max_receive_count {
                self.visible.pop_front();
                self.messages[index].place = Place::DeadLettered;
                continue;
            }
            let record = self.record(index, now_ms);
            if !records.is_empty() && payload_len + 1 + record.len() > MAX_INVOCATION_PAYLOAD {
                break;
            }
            self.visible.pop_front();
            let message = &mut self.messages[index];
            message.receive_count += 1;
            message.first_received_ms.get_or_insert(now_ms);
            message.place = Place::InFlight;
            payload_len += record.len() + usize::from(!records.is_empty());
            records.push(record);
            members.push(index);
        }
        if members.is_empty() {
            return None;
        }
        self.batches += 1;
        let number = self.batches;
        let message_ids = members.iter().map(|&index| self.messages[index].message_id.clone()).collect();
        self.in_flight.insert(number, members);
        let payload = format!("{{\"Records\":[{}]}}", records.join(",")).into_bytes();
        Some(Batch { number, message_ids, payload })
    }

    /// Applies the verdict on batch `number` at `now`; returns the ids of the messages deleted.
    /// A batch settled twice (or never handed out) changes nothing.
    pub fn settle(&mut self, number: u64, verdict: &Verdict, now: Instant) -> Vec<String> {
        let Some(members) = self.in_flight.remove(&number) else { return Vec::new() };
        let visible_at = now + self.visibility_timeout;
        let mut deleted = Vec::new();
        for index in members {
            let message = &mut self.messages[index];
            let failed = match verdict {
                Verdict::AllSucceeded => false,
                Verdict::ItemsFailed(named) => named.contains(&message.message_id),
                Verdict::BatchFailed => true,
            };
            if failed {
                message.place = Place::Returning(visible_at);
                self.returning.push_back(index);
            } else {
                message.place = Place::Deleted;
                deleted.push(message.message_id.clone());
            }
        }
        deleted
    }

    /// Whether every message was deleted or dead-lettered: nothing visible, returning or in
    /// flight. Messages due for the dead-letter list only go there on a receive, so a caller
    /// that sees `receive` answer `None` and this answer `false` has to wait for answers.
    pub fn is_drained(&self) -> bool {
        self.visible.is_empty() && self.returning.is_empty() && self.in_flight.is_empty()
    }

    pub fn tally(&self) -> Tally {
        let mut tally = Tally {
            messages: self.messages.len(),
            deleted_by_receive: vec![0; self.max_receive_count as usize],
            batches: self.batches,
            ..Tally::default()
        };
        for message in &self.messages {
            match message.place {
                Place::Visible | Place::Returning(_) => tally.waiting += 1,
                Place::InFlight => tally.in_flight += 1,
                Place::Deleted => {
                    tally.deleted += 1;
                    tally.deleted_by_receive[message.receive_count as usize - 1] += 1;
                }
                Place::DeadLettered => tally.dead_lettered += 1,
            }
        }
        tally
    }

    /// Moves the messages whose visibility timeout has passed to the back of the visible ones.
    fn return_due(&mut self, now: Instant) {
        while let Some(&index) = self.returning.front() {
            let message = &mut self.messages[index];
            match message.place {
                Place::Returning(at) if at > now => break,
                _ => {}
            }
            message.place = Place::Visible;
            self.returning.pop_front();
            self.visible.push_back(index);
        }
    }

    /// A message as a record of the Lambda SQS event, serialised, as received once more.
    fn record(&self, index: usize, now_ms: u64) -> String {
        let message = &self.messages[index];
        json!({
            "messageId": message.message_id,
            "receiptHandle": format!("{}#{}", message.message_id, message.receive_count + 1),
            "body": message.body,
            "attributes": {
                "ApproximateReceiveCount": (message.receive_count + 1).to_string(),
                "SentTimestamp": self.sent_timestamp_ms.to_string(),
                "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                "ApproximateFirstReceiveTimestamp": message.first_received_ms.unwrap_or(now_ms).to_string(),
            },
            "messageAttributes": {},
            // The MD5 of the body in real events; the function does not read it, and computing
            // it would take a crate for nothing else.
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": QUEUE_ARN,
            "awsRegion": "us-east-1",
        })
        .to_string()
    }
}

fn epoch_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(1);

    fn queue(messages: usize, max_receive_count: u32) -> Queue {
        Queue::new(
            (0..messages).map(|i| format!("{{\"n\":{i}}}")),
            |i| format!("m-{i}"),
            TIMEOUT,
            max_receive_count,
        )
    }

    fn failed(ids: &[&str]) -> Verdict {
        Verdict::ItemsFailed(ids.iter().map(|id| id.to_string()).collect())
    }

    #[test]
    fn a_batch_is_a_lambda_sqs_event_of_up_to_batch_size_messages() {
        let mut queue = queue(5, 5);
        let batch = queue.receive(3, Instant::now()).unwrap();
        let event: Value = serde_json::from_slice(&batch.payload).unwrap();
        let records = event["Records"].as_array().unwrap();

        assert_eq!(batch.message_ids, ["m-0", "m-1", "m-2"]);
        assert_eq!(records.len(), 3);
        assert_eq!(records[1]["messageId"], "m-1");
        assert_eq!(records[1]["body"], "{\"n\":1}");
        assert_eq!(records[1]["eventSource"], "aws:sqs");
        assert_eq!(records[1]["eventSourceARN"], QUEUE_ARN);
        assert_eq!(records[1]["attributes"]["ApproximateReceiveCount"], "1");
        assert_eq!(queue.tally().in_flight, 3);
    }

    #[test]
    fn messages_in_flight_are_not_handed_to_another_invocation() {
        let mut queue = queue(4, 5);
        let now = Instant::now();
        let first = queue.receive(3, now).unwrap();
        let second = queue.receive(3, now).unwrap();
        assert_eq!(second.message_ids, ["m-3"]);
        assert!(queue.receive(3, now).is_none());
        assert_ne!(first.number, second.number);
    }

    #[test]
    fn what_the_answer_does_not_name_is_deleted_and_named_messages_come_back_after_the_timeout() {
        let mut queue = queue(3, 5);
        let now = Instant::now();
        let batch = queue.receive(10, now).unwrap();
        let deleted = queue.settle(batch.number, &failed(&["m-1"]), now);

        assert_eq!(deleted, ["m-0", "m-2"]);
        assert_eq!(queue.tally().deleted_by_receive, [2, 0, 0, 0, 0]);
        assert!(queue.receive(10, now + TIMEOUT - Duration::from_millis(1)).is_none(), "still invisible");
        let again = queue.receive(10, now + TIMEOUT).unwrap();
        assert_eq!(again.message_ids, ["m-1"]);
        queue.settle(again.number, &Verdict::AllSucceeded, now + TIMEOUT);
        assert_eq!(queue.tally().deleted_by_receive, [2, 1, 0, 0, 0], "m-1 was deleted on its 2nd receive");
        let event: Value = serde_json::from_slice(&again.payload).unwrap();
        assert_eq!(event["Records"][0]["attributes"]["ApproximateReceiveCount"], "2");
    }

    #[test]
    fn a_failed_invocation_returns_its_whole_batch() {
        let mut queue = queue(3, 5);
        let now = Instant::now();
        let batch = queue.receive(10, now).unwrap();
        assert!(queue.settle(batch.number, &Verdict::BatchFailed, now).is_empty());
        assert_eq!(queue.tally().waiting, 3);
        assert!(!queue.is_drained());
        assert_eq!(queue.receive(10, now + TIMEOUT).unwrap().message_ids.len(), 3);
    }

    #[test]
    fn a_message_due_for_a_sixth_receive_goes_to_the_dead_letter_list() {
        let mut queue = queue(1, 5);
        let mut now = Instant::now();
        for _ in 0..5 {
            let batch = queue.receive(10, now).expect("received up to maxReceiveCount times");
            queue.settle(batch.number, &failed(&["m-0"]), now);
            now += TIMEOUT;
        }
        assert!(queue.receive(10, now).is_none());
        let tally = queue.tally();
        assert_eq!((tally.messages, tally.dead_lettered, tally.batches), (1, 1, 5));
        assert!(queue.is_drained());
    }

    #[test]
    fn a_batch_stops_short_of_the_invocation_payload_limit() {
        let body = "x".repeat(1024 * 1024);
        let mut queue = Queue::new(std::iter::repeat_n(body, 8), |i| format!("m-{i}"), TIMEOUT, 5);
        let batch = queue.receive(10, Instant::now()).unwrap();
        assert_eq!(batch.message_ids.len(), 5);
        assert!(batch.payload.len() <= MAX_INVOCATION_PAYLOAD);
    }

    #[test]
    fn settling_an_unknown_or_settled_batch_changes_nothing() {
        let mut queue = queue(2, 5);
        let now = Instant::now();
        let batch = queue.receive(10, now).unwrap();
        assert_eq!(queue.settle(batch.number, &Verdict::AllSucceeded, now).len(), 2);
        assert!(queue.settle(batch.number, &Verdict::BatchFailed, now).is_empty());
        assert!(queue.settle(99, &Verdict::BatchFailed, now).is_empty());
        assert_eq!(queue.tally().deleted, 2);
        assert!(queue.is_drained());
    }

    #[test]
    fn answers_are_read_by_lambdas_rules() {
        let mut queue = queue(2, 5);
        let batch = queue.receive(10, Instant::now()).unwrap();
        let verdict = |answer: Value| Verdict::of_answer(&answer, &batch);

        assert_eq!(verdict(Value::Null), Verdict::AllSucceeded);
        assert_eq!(verdict(json!({})), Verdict::AllSucceeded);
        assert_eq!(verdict(json!({"batchItemFailures": null})), Verdict::AllSucceeded);
        assert_eq!(verdict(json!({"batchItemFailures": []})), Verdict::AllSucceeded);
        assert_eq!(verdict(json!({"batchItemFailures": [{"itemIdentifier": "m-1"}]})), failed(&["m-1"]));
        for whole_batch in [
            json!({"batchItemFailures": [{"itemIdentifier": ""}]}),
            json!({"batchItemFailures": [{"itemIdentifier": null}]}),
            json!({"batchItemFailures": [{"itemIdentifier": "m-7"}]}),
            json!({"batchItemFailures": [{}]}),
            json!({"batchItemFailures": "m-1"}),
            json!("ok"),
        ] {
            assert_eq!(verdict(whole_batch.clone()), Verdict::BatchFailed, "{whole_batch}");
        }
    }
}

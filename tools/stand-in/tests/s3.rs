//! The S3 stand-in as the forwarder will meet it: through the real `aws-sdk-s3` client, path
//! style, signed with the crate's dummy credentials. Each test asserts a piece of S3's contract
//! the forwarder relies on (keys that need encoding, versions, `If-Match`, ranges, S3's errors
//! and the SDK's reading of them), or a fault the forwarder must survive.

mod common;

use std::time::{Duration, Instant};

use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::operation::get_object::{GetObjectError, GetObjectOutput};
use cloudtrail_data_stand_in::cloudtrail::SECRET_ACCESS_KEY;
use cloudtrail_data_stand_in::s3::{ObjectBody, S3Error, S3Fault, S3StandIn, Target};
use cloudtrail_data_stand_in::script::ALWAYS;
use common::{attempt_timeout, retries, s3_client, s3_client_with};
use tokio::io::AsyncReadExt;

async fn body_of(output: GetObjectOutput) -> Vec<u8> {
    output.body.collect().await.expect("the whole body").into_bytes().to_vec()
}

/// The S3 error code and HTTP status of a failed GetObject.
async fn error_of(
    result: Result<GetObjectOutput, aws_sdk_s3::error::SdkError<GetObjectError>>,
) -> (String, u16) {
    let error = result.expect_err("an error answer");
    let status = error.raw_response().map_or(0, |response| response.status().as_u16());
    (error.into_service_error().code().unwrap_or_default().to_owned(), status)
}

#[tokio::test]
async fn keys_that_need_encoding_are_read_back_as_put() {
    let s3 = S3StandIn::start().await.unwrap();
    let client = s3_client(&s3.endpoint());
    let keys = ["2026/11/red flower+1:2%.json", "日本/é.log.gz", "a&b=c?d#e.txt", "dir//x"];
    for key in keys {
        s3.put_object("audit", key, format!("content of {key}"));
    }
    for key in keys {
        let output = client.get_object().bucket("audit").key(key).send().await.unwrap();
        assert_eq!(body_of(output).await, format!("content of {key}").into_bytes(), "{key}");
    }
    let seen: Vec<String> = s3.requests().into_iter().map(|request| request.key).collect();
    assert_eq!(seen, keys);
}

#[tokio::test]
async fn an_answer_carries_the_etag_size_and_version_s3_gives() {
    let s3 = S3StandIn::start().await.unwrap();
    s3.create_versioned_bucket("audit");
    let put = s3.put_object("audit", "k.json", "hello");
    let output = s3_client(&s3.endpoint()).get_object().bucket("audit").key("k.json").send().await.unwrap();
    assert_eq!(output.e_tag(), Some("\"5d41402abc4b2a76b9719d911017c592\""));
    assert_eq!(put.etag_unquoted(), "5d41402abc4b2a76b9719d911017c592");
    assert_eq!(output.content_length(), Some(5));
    assert_eq!(output.version_id(), put.version_id.as_deref());
    assert!(output.last_modified().is_some());
}

#[tokio::test]
async fn a_bad_signature_is_refused_with_signature_does_not_match() {
    let s3 = S3StandIn::start().await.unwrap();
    s3.put_object("audit", "k", "x");
    let client = s3_client_with(&s3.endpoint(), "not-the-secret", retries(1), TimeoutConfig::disabled());
    let result = client.get_object().bucket("audit").key("k").send().await;
    assert_eq!(error_of(result).await, ("SignatureDoesNotMatch".into(), 403));
}

#[tokio::test]
async fn a_range_is_answered_206_with_its_content_range() {
    let s3 = S3StandIn::start().await.unwrap();
    s3.put_object("audit", "k", "0123456789");
    let client = s3_client(&s3.endpoint());
    for (range, bytes, content_range) in [
        ("bytes=2-5", "2345", "bytes 2-5/10"),
        ("bytes=7-", "789", "bytes 7-9/10"),
        ("bytes=-2", "89", "bytes 8-9/10"),
    ] {
        let output = client.get_object().bucket("audit").key("k").range(range).send().await.unwrap();
        assert_eq!(output.content_range(), Some(content_range));
        assert_eq!(body_of(output).await, bytes.as_bytes(), "{range}");
    }
    let result = client.get_object().bucket("audit").key("k").range("bytes=10-").send().await;
    assert_eq!(error_of(result).await, ("InvalidRange".into(), 416));
    let ranges: Vec<_> = s3.requests().into_iter().map(|request| request.range).collect();
    assert_eq!(ranges[0].as_deref(), Some("bytes=2-5"));
}

#[tokio::test]
async fn version_id_pins_the_reader_to_the_version_notified() {
    let s3 = S3StandIn::start().await.unwrap();
    s3.create_versioned_bucket("audit");
    let first = s3.put_object("audit", "k", "first");
    let second = s3.put_object("audit", "k", "second");
    let client = s3_client(&s3.endpoint());
    let get =
        |version: Option<String>| client.get_object().bucket("audit").key("k").set_version_id(version).send();

    assert_eq!(body_of(get(first.version_id.clone()).await.unwrap()).await, b"first");
    assert_eq!(body_of(get(None).await.unwrap()).await, b"second");
    assert_eq!(error_of(get(Some("no-such-version".into())).await).await, ("NoSuchVersion".into(), 404));
    let versions: Vec<_> = s3.requests().into_iter().map(|request| request.version_id).collect();
    assert_eq!(versions, [first.version_id, None, Some("no-such-version".into())]);
    assert_ne!(second.etag, first.etag);
}

#[tokio::test]
async fn if_match_with_another_etag_is_412_precondition_failed() {
    let s3 = S3StandIn::start().await.unwrap();
    let old = s3.put_object("audit", "k", "old");
    let new = s3.put_object("audit", "k", "new");
    let client = s3_client(&s3.endpoint());
    let result = client.get_object().bucket("audit").key("k").if_match(&old.etag).send().await;
    assert_eq!(error_of(result).await, ("PreconditionFailed".into(), 412));
    let output = client.get_object().bucket("audit").key("k").if_match(&new.etag).send().await.unwrap();
    assert_eq!(body_of(output).await, b"new");
    assert_eq!(s3.requests()[0].if_match.as_deref(), Some(old.etag.as_str()));
}

#[tokio::test]
async fn missing_keys_and_buckets_are_s3s_404s_as_the_sdk_reads_them() {
    let s3 = S3StandIn::start().await.unwrap();
    s3.create_bucket("audit");
    let client = s3_client(&s3.endpoint());
    let error = client.get_object().bucket("audit").key("gone").send().await.unwrap_err();
    assert!(matches!(error.as_service_error(), Some(GetObjectError::NoSuchKey(_))), "{error:?}");
    let result = client.get_object().bucket("elsewhere").key("k").send().await;
    assert_eq!(error_of(result).await, ("NoSuchBucket".into(), 404));
}

#[tokio::test]
async fn refusals_are_403_access_denied_and_kms_names_itself_only_in_the_message() {
    let s3 = S3StandIn::start().await.unwrap();
    s3.put_object("locked", "k", "x");
    s3.put_object("audit", "sealed", "x");
    s3.fail(Target::bucket("locked"), S3Fault::Error(S3Error::AccessDenied), ALWAYS);
    s3.fail(Target::object("audit", "sealed"), S3Fault::Error(S3Error::KmsAccessDenied), ALWAYS);
    let client = s3_client(&s3.endpoint());

    let denied = client.get_object().bucket("locked").key("k").send().await.unwrap_err().into_service_error();
    assert_eq!((denied.code(), denied.message()), (Some("AccessDenied"), Some("Access Denied")));
    let kms =
        client.get_object().bucket("audit").key("sealed").send().await.unwrap_err().into_service_error();
    assert_eq!(kms.code(), Some("AccessDenied"));
    assert!(kms.message().unwrap_or_default().contains("not authorized to perform: kms:Decrypt"), "{kms:?}");
    assert_eq!(s3.requests().len(), 2, "a 403 is not retried");
}

#[tokio::test]
async fn slow_down_and_internal_error_are_retried_by_the_sdk_then_served() {
    let s3 = S3StandIn::start().await.unwrap();
    s3.put_object("audit", "k", "x");
    s3.fail(Target::Any, S3Fault::Error(S3Error::SlowDown), 1);
    s3.fail(Target::Any, S3Fault::Error(S3Error::InternalError), 1);
    let output = s3_client(&s3.endpoint()).get_object().bucket("audit").key("k").send().await.unwrap();
    assert_eq!(body_of(output).await, b"x");
    let errors: Vec<_> = s3.requests().into_iter().map(|request| request.error).collect();
    assert_eq!(errors, [Some("SlowDown".into()), Some("InternalError".into()), None]);
}

#[tokio::test]
async fn a_hung_request_is_ended_by_the_clients_timeout() {
    let s3 = S3StandIn::start().await.unwrap();
    s3.put_object("audit", "k", "x");
    s3.fail(Target::Any, S3Fault::Hang, 1);
    let client = s3_client_with(
        &s3.endpoint(),
        SECRET_ACCESS_KEY,
        retries(1),
        attempt_timeout(Duration::from_millis(300)),
    );
    let started = Instant::now();
    let error = client.get_object().bucket("audit").key("k").send().await.unwrap_err();
    assert!(matches!(error, aws_sdk_s3::error::SdkError::TimeoutError(_)), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(s3.requests()[0].status, None, "never answered");
}

#[tokio::test]
async fn a_connection_dropped_mid_body_fails_the_read_after_the_bytes_sent() {
    let s3 = S3StandIn::start().await.unwrap();
    s3.put_object("audit", "k", vec![7u8; 100_000]);
    s3.fail(Target::object("audit", "k"), S3Fault::DropAfter(30_000), 1);
    let output = s3_client(&s3.endpoint()).get_object().bucket("audit").key("k").send().await.unwrap();
    assert_eq!(output.content_length(), Some(100_000));
    let mut reader = output.body.into_async_read();
    let mut received = Vec::new();
    let result = reader.read_to_end(&mut received).await;
    assert!(result.is_err(), "the body ended early, which the reader must see");
    assert_eq!(received.len(), 30_000);
    assert_eq!(s3.requests()[0].body_bytes, 30_000);
}

#[tokio::test]
async fn a_slow_body_arrives_whole_in_its_own_time() {
    let s3 = S3StandIn::start().await.unwrap();
    s3.put_object("audit", "k", vec![1u8; 10_000]);
    s3.fail(Target::Any, S3Fault::SlowBody { chunk: 1_000, pause: Duration::from_millis(5) }, 1);
    let started = Instant::now();
    let output = s3_client(&s3.endpoint()).get_object().bucket("audit").key("k").send().await.unwrap();
    assert_eq!(body_of(output).await.len(), 10_000);
    assert!(started.elapsed() >= Duration::from_millis(50), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_generated_stream_is_served_from_any_offset() {
    let s3 = S3StandIn::start().await.unwrap();
    let lines = || (0..10_000).map(|i| format!("{{\"line\":{i}}}\n").into_bytes());
    let expected: Vec<u8> = lines().flatten().collect();
    let put = s3.put_object("audit", "lines.json", ObjectBody::chunks(lines));
    assert_eq!(put.size, expected.len() as u64);
    let output = s3_client(&s3.endpoint())
        .get_object()
        .bucket("audit")
        .key("lines.json")
        .range("bytes=100000-")
        .send()
        .await;
    assert_eq!(body_of(output.unwrap()).await, expected[100_000..]);
}

/// The peak resident memory of this process, from `/proc/self/status`.
fn peak_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
    kib.unwrap_or(0) * 1024
}

#[tokio::test]
async fn a_200_mb_generated_object_streams_through_in_bounded_memory() {
    const LEN: u64 = 200 * 1024 * 1024;
    const PERIOD: usize = 251;
    // The object is 0, 1, ... 250 repeated; any piece of it is a slice of this cycle, so both
    // sides copy and compare whole slices (a byte loop takes seconds in a debug build).
    let cycle: std::sync::Arc<[u8]> = (0..PERIOD + 128 * 1024).map(|i| (i % PERIOD) as u8).collect();
    let piece =
        |offset: u64, len: usize| (offset % PERIOD as u64) as usize..(offset % PERIOD as u64) as usize + len;
    let s3 = S3StandIn::start().await.unwrap();
    let source = cycle.clone();
    s3.put_object(
        "audit",
        "big.bin",
        ObjectBody::pattern(LEN, move |offset, buffer| {
            buffer.copy_from_slice(&source[piece(offset, buffer.len())])
        }),
    );
    let before = peak_rss_bytes();
    let output = s3_client(&s3.endpoint()).get_object().bucket("audit").key("big.bin").send().await.unwrap();
    assert_eq!(output.content_length(), Some(LEN as i64));
    let mut reader = output.body.into_async_read();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut offset = 0u64;
    loop {
        let read = reader.read(&mut buffer).await.unwrap();
        if read == 0 {
            break;
        }
        assert!(buffer[..read] == cycle[piece(offset, read)], "a wrong byte after offset {offset}");
        offset += read as u64;
    }
    assert_eq!(offset, LEN);
    let grown = peak_rss_bytes().saturating_sub(before);
    // Neither side held the object: its 200 MB would show here many times over this bound.
    assert!(grown < 32 * 1024 * 1024, "peak memory grew by {} MB", grown / (1024 * 1024));
}

#[tokio::test]
async fn the_request_log_says_what_was_fetched_and_what_never_was() {
    let s3 = S3StandIn::start().await.unwrap();
    s3.put_object("allowed", "k", "x");
    s3.put_object("refused", "k", "x");
    let client = s3_client(&s3.endpoint());
    client.get_object().bucket("allowed").key("k").range("bytes=0-").send().await.unwrap();
    let requests = s3.requests_for("allowed");
    assert_eq!(requests.len(), 1);
    assert_eq!((requests[0].method.as_str(), requests[0].status), ("GET", Some(206)));
    assert!(requests[0].query.contains("x-id=GetObject"), "{}", requests[0].query);
    assert!(s3.requests_for("refused").is_empty());
}

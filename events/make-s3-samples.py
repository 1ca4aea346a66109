#!/usr/bin/env python3
"""Writes the S3 samples of events/: a GitHub Enterprise audit-log file as GitHub streams it to
S3, under events/s3/BUCKET/KEY, and the SQS event whose message is S3's notification for it.

Run from the repository root: python3 events/make-s3-samples.py. gzip's header carries no time
here (mtime=0), so the output is the same on every run. The local run and the cargo lambda loop
serve events/s3/ with the S3 stand-in (each directory a bucket, each file below it an object),
which answers the file's MD5 as its ETag: the notification's eTag below is that MD5, so the
read pinned to it (If-Match) finds the object.
"""
import gzip, hashlib, json, os
from datetime import datetime, timezone
from urllib.parse import quote_plus

BUCKET = "example-audit-logs"
# GitHub's key form as streamed: YYYY/MM/DD/HH/MM/<uuid>.json.log.gz (its docs say
# YYYY/MM/HH/MM/<uuid>.json.gz; the forwarder depends on neither).
KEY = "2026/12/04/22/05/9f3c2a1e-7b4d-4c8e-a6f1-0d2b5e8c7a43.json.log.gz"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:audit-events"


def at(clock):
    """Epoch milliseconds of 2026-12-04T<clock>Z, as GitHub writes @timestamp and created_at."""
    moment = datetime.fromisoformat(f"2026-12-04T{clock}+00:00")
    return int(moment.astimezone(timezone.utc).timestamp() * 1000)


ENTERPRISE = {"business": "example-enterprise", "business_id": 222222, "org": "example-org", "org_id": 3333333}

# Real-shaped lines (GitHub's field names; see tests/fixtures/github/). `actor_ip` appears only
# where the enterprise discloses IP addresses, and never for bots and some API requests.
LINES = [
    {"@timestamp": at("22:04:01.123"), "_document_id": "Xk3pQ9vR2tLm8sWc1yBn4A", "action": "repo.create",
     "actor": "octocat", "actor_id": 583231, "actor_is_bot": False, "actor_location": {"country_code": "US"},
     **ENTERPRISE, "created_at": at("22:04:01.123"), "operation_type": "create", "public_repo": False,
     "repo": "example-org/payments-service", "repo_id": 4444444,
     "user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36",
     "visibility": "internal"},
    {"@timestamp": at("22:04:12.456"), "_document_id": "Hq7wE2rT5yUi9oPa3sDf6g", "action": "org.add_member",
     "actor": "org-admin", "actor_id": 55555, "actor_ip": "203.0.113.24", "actor_is_bot": False,
     "actor_location": {"country_code": "DE"}, **ENTERPRISE, "created_at": at("22:04:12.456"),
     "operation_type": "create", "permission": "read", "user": "new-member", "user_id": 66666,
     "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.3 Safari/605.1.15"},
    {"@timestamp": at("22:04:30.999"), "_document_id": "Gc4lOnE9vEnT-2x7Kq1mZw", "action": "git.clone",
     "actor": "octocat", "actor_id": 583231, "actor_ip": "2001:db8:85a3::8a2e:370:7334", "actor_is_bot": False,
     "actor_location": {"country_code": "US"}, **ENTERPRISE,
     "hashed_token": "p4Jg0vGZ8d3eWkq3nXlH2m0Yc1u9T5sA7bVxQeRfLzM=",
     "programmatic_access_type": "Personal access token (classic)", "repo": "example-org/payments-service",
     "repo_id": 4444444, "repository": "example-org/payments-service", "repository_public": False,
     "transport_protocol": 1, "transport_protocol_name": "http", "user_agent": "git/2.51.0"},
    {"@timestamp": at("22:04:45.042"), "_document_id": "Bt8PuLlReQ_3dEpEnDaBoT", "action": "pull_request.create",
     "actor": "dependabot[bot]", "actor_id": 49699333, "actor_is_bot": True, **ENTERPRISE,
     "created_at": at("22:04:45.042"), "operation_type": "create",
     "programmatic_access_type": "GitHub App server-to-server token", "pull_request_id": 123456789,
     "repo": "example-org/payments-service", "repo_id": 4444444},
    {"@timestamp": at("22:04:58.777"), "_document_id": "Ap1ReQ404_mIsSiNgRePo0", "action": "api.request",
     "actor": "octocat", "actor_id": 583231, "actor_is_bot": False, **ENTERPRISE,
     "created_at": at("22:04:58.777"), "operation_type": "access",
     "programmatic_access_type": "Fine-grained personal access token",
     "request_id": "C0DE:1234:5678AB:9ABCDE:6931F0A2", "request_method": "GET", "status_code": 404,
     "url_path": "/repos/example-org/missing-repo", "user_agent": "curl/8.14.1"},
]


def jsonl(lines):
    return "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines).encode()


# Two gzip members, as a writer that appends compressed parts makes: a reader must go on after
# the first member's end, or it sees three events of five.
body = gzip.compress(jsonl(LINES[:3]), mtime=0) + gzip.compress(jsonl(LINES[3:]), mtime=0)
path = os.path.join("events", "s3", BUCKET, *KEY.split("/"))
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "wb") as f:
    f.write(body)

# S3's notification, as the S3 stand-in's event_notification writes it (tools/stand-in/src/s3/
# notification.rs): the key form-encoded, eTag without quotes, size a number; no versionId, as
# from a bucket without versioning, so the read is pinned by the ETag.
notification = {"Records": [{
    "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
    "eventTime": "2026-12-04T22:05:03.512Z", "eventName": "ObjectCreated:Put",
    "userIdentity": {"principalId": "AWS:AROAEXAMPLEGITHUBSTREAM:github-audit-log-streaming"},
    "requestParameters": {"sourceIPAddress": "192.0.2.10"},
    "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
    "s3": {
        "s3SchemaVersion": "1.0", "configurationId": "cloudtrail-lake-forwarder",
        "bucket": {"name": BUCKET, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                   "arn": f"arn:aws:s3:::{BUCKET}"},
        "object": {"key": quote_plus(KEY, safe="/-_.~"), "size": len(body),
                   "eTag": hashlib.md5(body).hexdigest(), "sequencer": "0069320A3F7B5C1D2E"},
    },
}]}
event = {"Records": [{
    "messageId": "3f1e8d2c-6b4a-4c9e-8f7d-2a1b0c9d8e7f",
    "receiptHandle": "AQEB3f1e8d2c6b4a4c9e",
    "body": json.dumps(notification, separators=(",", ":")),
    "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(at("22:05:03.600")),
                   "SenderId": "AIDAJHIPRHEMV73VRJEBU", "ApproximateFirstReceiveTimestamp": str(at("22:05:03.612"))},
    "messageAttributes": {},
    "md5OfBody": "",
    "eventSource": "aws:sqs",
    "eventSourceARN": QUEUE_ARN,
    "awsRegion": "us-east-1",
}]}
for name, value in [("sqs-s3-github", event), ("sqs-s3-github.answer", {"batchItemFailures": []})]:
    with open(f"events/{name}.json", "w") as f:
        json.dump(value, f, indent=2)
        f.write("\n")
print(f"wrote {path} ({len(body)} bytes, MD5 {hashlib.md5(body).hexdigest()}) and events/sqs-s3-github.json")

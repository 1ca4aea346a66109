#!/usr/bin/env python3
"""Writes the preset samples of events/ from the fixtures in tests/fixtures/, so the samples
show the records the tests check: for each, the SQS event (sqs-*.json), the preset it runs with
(sqs-*.preset) and its answer (sqs-*.answer.json).

- Okta's log stream delivers EventBridge events: sqs-okta.json's messages are those.
- The other sources write files, copied to S3: each sample is S3's notification for one object
  under events/s3/example-audit-logs/, written here too, in the source's form and key layout
  (sqs-s3-PRESET.json). The S3 stand-in answers a file's MD5 as its ETag, so the notification's
  eTag is that MD5, and the key is form-encoded as S3 encodes it (`=` as %3D, `:` as %3A).
  Two files hold a record the preset must reject (a time with no zone, a LogEntry that is no
  audit log): it is logged and skipped, and the rest of the file is sent.

Run from the repository root: python3 events/make-preset-samples.py. gzip's header carries no
time here (mtime=0), so the output is the same on every run.
"""
import gzip, hashlib, json, os
from urllib.parse import quote_plus

BUCKET = "example-audit-logs"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:audit-events"
OKTA = ["user-session-start", "sign-on-denied", "system-null-ip"]


def fixture(source, case):
    return open(f"tests/fixtures/{source}/{case}.json").read().strip()


def record(source, case):
    """The one record of a fixture, as an object."""
    value = json.loads(fixture(source, case))
    for container in ("Records", "records"):
        if container in value:
            return value[container][0]
    return value


def compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def no_zone():
    bad = record("azure-activity", "vm-write-start")
    bad["time"] = "05/01/2024 08:30:12"  # a zone would have to be guessed: rejected
    return bad


NOT_AUDIT = {"insertId": "t1", "logName": "projects/example-prod/logs/syslog", "textPayload": "kernel: eth0 up",
             "timestamp": "2024-05-01T12:00:00Z", "resource": {"type": "gce_instance"}}

# Each file source: its key as the copy job writes it, and the object's bytes.
FILES = {
    "entra": (
        "insights-logs-auditlogs/tenantId=4bbb79f7-5724-4c9e-95f3-de075f6ec090/y=2024/m=05/d=01/h=09/m=00/PT1H.json",
        "".join(fixture("entra", case) + "\n" for case in
                ["add-user-by-user", "failed-add-member-to-role", "timeout-without-initiator"]).encode()),
    # The older form, pretty-printed as Azure wrote it before JSON Lines.
    "azure-activity": (
        "insights-activity-logs/resourceId=/SUBSCRIPTIONS/8A4DE8B5-095C-47D0-A96F-A75130C61D53/y=2024/m=05/d=01/h=08/m=00/PT1H.json",
        (json.dumps({"records": [record("azure-activity", case) for case in
                                 ["vm-write-start", "role-assignment-denied", "resource-health-no-caller"]] + [no_zone()]},
                    indent=4, ensure_ascii=False) + "\n").encode()),
    # A sink names its files 12:00:00_12:59:59_S0.json; a file in this repository cannot have a
    # `:` (Windows refuses it), so the sample's copy names the hour with `-`. tests/presets.rs
    # reads a key with the colons (they arrive as %3A).
    "gcp-audit": (
        "cloudaudit.googleapis.com/activity/2024/05/01/12-00-00_12-59-59_S0.json",
        "".join(compact(record("gcp-audit", case)) + "\n" for case in
                ["instance-insert", "permission-denied", "principal-subject-no-email"]).encode()
        + (compact(NOT_AUDIT) + "\n").encode()),
    "cloudtrail": (
        "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/05/01/111122223333_CloudTrail_eu-west-1_20240501T1205Z_Vn3x7q.json.gz",
        gzip.compress(compact({"Records": [record("cloudtrail", case) for case in
                                           ["assumed-role-put-bucket-policy", "aws-service-assume-role",
                                            "third-party-offset-and-odd-id"]]}).encode(), mtime=0)),
}


def message(name, n, body):
    digest = hashlib.sha256(f"{name}-{n}".encode()).hexdigest()
    message_id = f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-8{digest[17:20]}-{digest[20:32]}"
    return {"messageId": message_id, "receiptHandle": "AQEB" + digest[:8], "body": body,
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1714566000000",
                           "SenderId": "AIDAJHIPRHEMV73VRJEBU", "ApproximateFirstReceiveTimestamp": "1714566000012"},
            "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": QUEUE_ARN,
            "awsRegion": "us-east-1"}


def notification(key, body):
    """S3's event notification for the object, as tools/stand-in/src/s3/notification.rs writes it."""
    return compact({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2024-05-01T13:05:02.118Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AROAEXAMPLECOPYJOB:audit-log-copy"},
        "requestParameters": {"sourceIPAddress": "192.0.2.10"},
        "responseElements": {"x-amz-request-id": "D4E24FF69EF5D921", "x-amz-id-2": "GNzVWVSJZ9/JhBuUw9ySkthaRqdJaL0HW5Xq7T8T8/KSXfVXfsNVF6KhIwBOPkqE"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "cloudtrail-lake-forwarder",
               "bucket": {"name": BUCKET, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                          "arn": f"arn:aws:s3:::{BUCKET}"},
               "object": {"key": quote_plus(key, safe="/-_.~"), "size": len(body),
                          "eTag": hashlib.md5(body).hexdigest(), "sequencer": "00663240BE1F2A3B4C"}},
    }]})


def write(name, preset, records):
    with open(f"events/{name}.json", "w") as out:
        json.dump({"Records": records}, out, indent=2, ensure_ascii=False)
        out.write("\n")
    with open(f"events/{name}.preset", "w") as out:
        out.write(preset + "\n")
    with open(f"events/{name}.answer.json", "w") as out:
        json.dump({"batchItemFailures": []}, out, indent=2)
        out.write("\n")


write("sqs-okta", "okta", [message("okta", n, fixture("okta", case)) for n, case in enumerate(OKTA)])
for preset, (key, body) in FILES.items():
    path = os.path.join("events", "s3", BUCKET, *key.split("/"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as out:
        out.write(body)
    write(f"sqs-s3-{preset}", preset, [message(preset, 0, notification(key, body))])

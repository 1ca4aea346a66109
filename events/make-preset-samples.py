#!/usr/bin/env python3
"""Writes the preset samples of events/ (sqs-PRESET.json, its .preset and its .answer.json)
from the fixtures in tests/fixtures/, so the samples show the records the tests check.

Okta's messages are EventBridge events, as its log stream delivers them. The other presets'
sources write files to S3 (tests/presets.rs runs them that way); here each record is the body
of one message, as a relay would send it, so the local run and the cargo lambda loop run each
preset without an S3 stand-in. A record the preset must reject is added to two samples.

Run from the repository root: python3 events/make-preset-samples.py.
"""
import hashlib, json

SAMPLES = {
    "okta": ["user-session-start", "sign-on-denied", "system-null-ip"],
    "entra": ["add-user-by-user", "failed-add-member-to-role", "timeout-without-initiator"],
    "azure-activity": ["vm-write-start", "role-assignment-denied", "resource-health-no-caller"],
    "gcp-audit": ["instance-insert", "permission-denied", "principal-subject-no-email"],
    "cloudtrail": ["assumed-role-put-bucket-policy", "aws-service-assume-role", "third-party-offset-and-odd-id"],
}


def rejected(preset):
    """A record the preset rejects, with what it shows; None for the samples without one."""
    if preset == "azure-activity":
        record = json.loads(open("tests/fixtures/azure-activity/vm-write-start.json").read())
        record["time"] = "05/01/2024 08:30:12"  # no zone: never guessed
        return json.dumps(record, separators=(",", ":"))
    if preset == "gcp-audit":  # a LogEntry that is not an audit log
        return json.dumps({"insertId": "t1", "logName": "projects/example-prod/logs/syslog",
                           "textPayload": "kernel: eth0 up", "timestamp": "2024-05-01T12:00:00Z"},
                          separators=(",", ":"))
    return None


def body(preset, case):
    text = open(f"tests/fixtures/{preset}/{case}.json").read().strip()
    if preset == "okta":
        return text
    members = json.loads(text)
    for container in ("Records", "records"):
        if container in members:
            [record] = members[container]
            return json.dumps(record, separators=(",", ":"), ensure_ascii=False)
    return text


def message(preset, n, text):
    digest = hashlib.sha256(f"{preset}-{n}".encode()).hexdigest()
    message_id = f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-8{digest[17:20]}-{digest[20:32]}"
    return {"messageId": message_id, "receiptHandle": "AQEB" + digest[:8], "body": text,
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1714566000000",
                           "SenderId": "123456789012", "ApproximateFirstReceiveTimestamp": "1714566000001"},
            "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:audit-events", "awsRegion": "us-east-1"}


for preset, cases in SAMPLES.items():
    bodies = [body(preset, case) for case in cases]
    bad = rejected(preset)
    if bad is not None:
        bodies.append(bad)
    records = [message(preset, n, text) for n, text in enumerate(bodies)]
    name = f"events/sqs-{preset}"
    with open(f"{name}.json", "w") as out:
        json.dump({"Records": records}, out, indent=2, ensure_ascii=False)
        out.write("\n")
    with open(f"{name}.preset", "w") as out:
        out.write(preset + "\n")
    failures = [{"itemIdentifier": records[-1]["messageId"]}] if bad is not None else []
    with open(f"{name}.answer.json", "w") as out:
        json.dump({"batchItemFailures": failures}, out, indent=2)
        out.write("\n")

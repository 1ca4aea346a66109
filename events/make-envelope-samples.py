#!/usr/bin/env python3
"""Writes the envelope samples of events/ (gzip and KPL data cannot be written by hand).

Run from the repository root: python3 events/make-envelope-samples.py. gzip's header carries
no time here (mtime=0), so the output is the same on every run.
"""
import base64, gzip, hashlib, json

SEQ = "4965738209457012345678901234567890123456789012345678{:04d}"
ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/audit-events"


def schema_event(uid, name, principal):
    return json.dumps({"version": "1.0", "userIdentity": {"type": "ApplicationUser", "principalId": principal},
                       "eventSource": "orders.example.com", "eventName": name, "eventTime": "2026-11-26T09:30:00Z",
                       "UID": uid, "recipientAccountId": "123456789012"}, separators=(",", ":"))


def kinesis(n, data):
    seq = SEQ.format(n)
    return {"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "tenant-7", "sequenceNumber": seq,
                        "data": base64.b64encode(data).decode(), "approximateArrivalTimestamp": 1764149400.123},
            "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": "shardId-000000000000:" + seq,
            "eventName": "aws:kinesis:record", "invokeIdentityArn": "arn:aws:iam::123456789012:role/cloudtrail-lake-forwarder",
            "awsRegion": "us-east-1", "eventSourceARN": ARN}


def varint(value):
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def field(number, payload):
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def kpl(records):
    protobuf = field(1, b"tenant-7")
    for data in records:
        protobuf += field(3, varint(1 << 3) + varint(0) + field(3, data))
    return bytes([0xF3, 0x89, 0x9A, 0xC2]) + protobuf + hashlib.md5(protobuf).digest()


def cloudwatch(message):
    return gzip.compress(json.dumps(message).encode(), mtime=0)


def write(name, event, answer):
    with open(f"events/{name}.json", "w") as f:
        json.dump(event, f, indent=2)
        f.write("\n")
    with open(f"events/{name}.answer.json", "w") as f:
        json.dump(answer, f, indent=2)
        f.write("\n")


data_message = {
    "messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/orders/audit",
    "logStream": "2026/11/26/[$LATEST]0123456789abcdef", "subscriptionFilters": ["to-audit-stream"],
    "logEvents": [
        {"id": "38129476185029618573420658123456789012345678901234567801", "timestamp": 1764149400000,
         "message": schema_event("cw-1", "OrderShipped", "svc-shipping")},
        {"id": "38129476185029618573420658123456789012345678901234567802", "timestamp": 1764149401000,
         "message": schema_event("cw-2", "OrderDelivered", "svc-shipping")},
    ],
}
control_message = {
    "messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
    "subscriptionFilters": [], "logEvents": [{"id": "", "timestamp": 1764149399000,
                                              "message": "CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."}],
}
write("kinesis-cloudwatch-logs",
      {"Records": [kinesis(1, cloudwatch(control_message)), kinesis(2, cloudwatch(data_message))]},
      {"batchItemFailures": []})
write("kinesis-kpl",
      {"Records": [kinesis(3, kpl([schema_event("kpl-1", "OrderPacked", "svc-warehouse").encode(),
                                  schema_event("kpl-2", "OrderPicked", "svc-warehouse").encode()]))]},
      {"batchItemFailures": []})

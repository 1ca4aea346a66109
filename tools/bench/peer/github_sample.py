"""The Python peer of the files benchmark: one GitHub audit-log file in S3 forwarded to
CloudTrail Lake the way AWS's sample (aws-samples/aws-cloudtrail-lake-github-audit-log) does it,
measured for CPU time, peak memory and wall time.

The sample is two Lambda functions: `s3-reader` reads the whole object into memory
(`get()["Body"].read()` into a `BytesIO`, after reading its size), iterates the gzip lines with
`gzip.GzipFile`, `json.loads` each into a list and sends the list as one SQS message;
`cloudtrail-ingest` maps every event of the message into a list, turns each into `eventData`
text with an id made of the file's name and a counter, and calls `put_audit_events` once with
them all, ignoring `failed`. This peer does the same work in one process, with three changes so
that it can finish a file of any size: no SQS hop between the halves (a message holds at most
1 MiB), no 1 MB limit on the file (the sample skips larger files), and `put_audit_events` in
requests of 100 events (the service's limit), sent one after the other. The sample's action
allow-list is off: every event is forwarded, as the forwarder does. The mapping is the sample's:
`eventName` from `action` ("Unknown" without one), `principalId` from `actor` or else `business`,
`details` of org, repo and location ("none" when absent), `UID` from `_document_id`, `eventTime`
from `@timestamp` in whole UTC seconds, `created_at` dropped, everything else kept as
`requestParameters`, `version` "0", `userIdentity.type` "user", `eventSource`
"github.audit.streaming". The sample asks STS for `recipientAccountId`; the peer is given it.

Run by `tools/bench/src/bin/files` against its stand-ins (S3 and CloudTrail Data on 127.0.0.1,
dummy credentials from the environment). It prints one JSON line: events, requests, events the
service reported failed, CPU (user + system, from `resource.getrusage`) of the start (interpreter,
`import boto3`, clients) and of the work, the work's wall time, and the peak RSS
(`ru_maxrss`, KiB on Linux).
"""

import argparse
import gzip
import io
import json
import resource
import time
from datetime import datetime, timezone

import boto3
from botocore.config import Config

BATCH = 100


def cpu_seconds():
    """The process's user + system time since it started."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--channel-arn", required=True)
    parser.add_argument("--account-id", required=True)
    parser.add_argument("--s3-endpoint", required=True)
    parser.add_argument("--cloudtrail-endpoint", required=True)
    return parser.parse_args()


def read_lines(s3, bucket, key):
    """The sample's reader: the size first, then the whole object in memory, then its lines."""
    s3.head_object(Bucket=bucket, Key=key)["ContentLength"]
    buffer = io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    return [json.loads(line) for line in gzip.GzipFile(fileobj=buffer)]


def audit_event(line, account_id):
    """One GitHub line as the sample maps it; `line` is consumed (its mapped fields removed)."""
    principal = line.pop("actor") if "actor" in line else line.pop("business")
    details = {
        "GitHubOrganization": line.pop("org", "none"),
        "Repository": line.pop("repo", "none"),
        "Location": line.pop("actor_location", "none"),
    }
    name = line.pop("action", "Unknown")
    uid = line.pop("_document_id")
    seconds = int(line.pop("@timestamp") / 1000)
    line.pop("created_at", None)
    return {
        "version": "0",
        "userIdentity": {"type": "user", "principalId": principal, "details": details},
        "eventSource": "github.audit.streaming",
        "eventName": name,
        "eventTime": datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "UID": uid,
        "requestParameters": line,
        "recipientAccountId": account_id,
    }


def file_id(key):
    """The sample's id prefix: the file name's first part, from keys like
    2022/08/13/04/18/8e9d30f7-4352-43da-b197-83f8b7694ddc.json.log.gz."""
    return key.split(".")[0].split("/")[5]


def main():
    args = arguments()
    s3 = boto3.client(
        "s3", endpoint_url=args.s3_endpoint, config=Config(s3={"addressing_style": "path"})
    )
    cloudtrail = boto3.client("cloudtrail-data", endpoint_url=args.cloudtrail_endpoint)
    work_cpu = cpu_seconds()
    started = time.monotonic()

    lines = read_lines(s3, args.bucket, args.key)
    events = [audit_event(line, args.account_id) for line in lines]
    prefix = file_id(args.key)
    entries = [
        {"eventData": json.dumps(event), "id": f"{prefix}_{counter}"}
        for counter, event in enumerate(events, start=1)
    ]
    requests = failed = 0
    for first in range(0, len(entries), BATCH):
        answer = cloudtrail.put_audit_events(
            auditEvents=entries[first : first + BATCH], channelArn=args.channel_arn
        )
        requests += 1
        failed += len(answer["failed"])

    wall = time.monotonic() - started
    done_cpu = cpu_seconds()
    print(
        json.dumps(
            {
                "events": len(entries),
                "requests": requests,
                "failed": failed,
                "start_cpu_s": work_cpu,
                "work_cpu_s": done_cpu - work_cpu,
                "work_wall_s": wall,
                "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            }
        )
    )


if __name__ == "__main__":
    main()

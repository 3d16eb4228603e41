"""IAM answered in memory, two ways, both counting every call.

``FakeIAM`` is a tiny stand-in for a boto3 IAM client (the methods the filters call, returning
what botocore would return). It is what the timings use: it costs next to nothing, so the
figures are about the filters, not the replay machinery (placebo reads a JSON file per call
and botocore would validate and parse every response).

``boto3_factory`` wraps the same answers in a real boto3 Session: botocore builds a client on
every ``session.client("iam")`` and runs its parameter validation and event hooks, and a
``before-call`` handler answers instead of HTTP. It cross-checks the call counts, and shows
what a client per call costs.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from benchmarks.synthetic import Account

META = {"ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0}}


class FakeIAM:
    """The IAM calls the filters and ``remove-keys`` make, answered from an ``Account``."""

    def __init__(self, account: Account, report_age: timedelta = timedelta(hours=2)):
        self.account = account
        self.report_age = report_age
        self.generated = False
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()

    def reset(self, report_age: timedelta | None = None) -> None:
        self.calls = Counter()
        self.generated = False
        if report_age is not None:
            self.report_age = report_age

    def _count(self, operation: str) -> None:
        # The access-key filter calls from two threads.
        with self._lock:
            self.calls[operation] += 1

    def get_credential_report(self, **_: Any) -> dict:
        self._count("GetCredentialReport")
        age = timedelta(minutes=1) if self.generated else self.report_age
        return {
            "Content": self.account.csv,
            "ReportFormat": "text/csv",
            "GeneratedTime": datetime.now(self.account.now.tzinfo) - age,
            **META,
        }

    def generate_credential_report(self, **_: Any) -> dict:
        self._count("GenerateCredentialReport")
        self.generated = True
        return {"State": "COMPLETE", "Description": "", **META}

    def list_access_keys(self, UserName: str, **_: Any) -> dict:  # noqa: N803 (boto3's name)
        self._count("ListAccessKeys")
        if UserName not in self.account.keys:
            raise ClientError(
                {"Error": {"Code": "NoSuchEntity", "Message": UserName}}, "ListAccessKeys"
            )
        return {
            "AccessKeyMetadata": self.account.list_access_keys(UserName),
            "IsTruncated": False,
            **META,
        }

    def update_access_key(self, **_: Any) -> dict:
        self._count("UpdateAccessKey")
        return dict(META)

    def delete_access_key(self, **_: Any) -> dict:
        self._count("DeleteAccessKey")
        return dict(META)

    def total(self) -> int:
        return sum(self.calls.values())


class _FakeSession:
    def __init__(self, iam: FakeIAM):
        self.iam = iam

    def client(self, service_name: str, *args: Any, **kwargs: Any) -> FakeIAM:
        if service_name != "iam":
            raise AssertionError(f"unexpected client {service_name}")
        return self.iam


def fake_factory(iam: FakeIAM) -> Callable[..., Any]:
    """A c7n session factory (a plain function: c7n sets attributes on it)."""
    session = _FakeSession(iam)
    return lambda region=None, assume=None: session


_OPERATIONS = {
    "GetCredentialReport": lambda iam, params: iam.get_credential_report(),
    "GenerateCredentialReport": lambda iam, params: iam.generate_credential_report(),
    "ListAccessKeys": lambda iam, params: iam.list_access_keys(UserName=params["UserName"]),
    "UpdateAccessKey": lambda iam, params: iam.update_access_key(**params),
    "DeleteAccessKey": lambda iam, params: iam.delete_access_key(**params),
}


def boto3_factory(iam: FakeIAM) -> tuple[Callable[..., Any], Counter]:
    """A factory whose session is a real boto3 Session answered by ``iam`` in memory.

    Returns the factory and a Counter of the operations botocore saw (from
    ``provide-client-params``), to check against ``iam.calls``.
    """
    session = boto3.Session(
        region_name="us-east-1", aws_access_key_id="bench", aws_secret_access_key="bench"
    )
    seen: Counter = Counter()

    def record(params, model, context, **kwargs):
        seen[model.name] += 1
        # Keep the caller's parameters for the answer; before-call only sees them serialized.
        context["bench_params"] = dict(params)

    def answer(model, context, **kwargs):
        params = context.get("bench_params", {})
        try:
            parsed = _OPERATIONS[model.name](iam, params)
        except ClientError as e:
            return AWSResponse(None, 400, {}, None), e.response
        return AWSResponse(None, 200, {}, None), parsed

    session.events.register("provide-client-params.iam", record)
    session.events.register("before-call.iam", answer)
    return (lambda region=None, assume=None: session), seen

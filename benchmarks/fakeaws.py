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
        # (operation, UserName or AccessKeyId) of every per-user and per-key call, in order.
        self.targets: list[tuple[str, str]] = []
        self._keys = {k.key_id: (u, k) for u, keys in account.keys.items() for k in keys}
        self._user_index = {name: i for i, name in enumerate(account.users)}

    def reset(self, report_age: timedelta | None = None) -> None:
        self.calls = Counter()
        self.targets = []
        self.generated = False
        if report_age is not None:
            self.report_age = report_age

    def _count(self, operation: str, target: str | None = None) -> None:
        # The access-key filter calls from two threads.
        with self._lock:
            self.calls[operation] += 1
            if target is not None:
                self.targets.append((operation, target))

    def _no_such_entity(self, what: str, operation: str) -> ClientError:
        return ClientError({"Error": {"Code": "NoSuchEntity", "Message": what}}, operation)

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

    # boto3's parameter names below (N803).

    def list_access_keys(self, UserName: str, **_: Any) -> dict:  # noqa: N803
        self._count("ListAccessKeys", UserName)
        if UserName not in self.account.keys:
            raise self._no_such_entity(UserName, "ListAccessKeys")
        return {
            "AccessKeyMetadata": self.account.list_access_keys(UserName),
            "IsTruncated": False,
            **META,
        }

    def get_access_key_last_used(self, AccessKeyId: str, **_: Any) -> dict:  # noqa: N803
        """The key's last use from the account's truth: what the report's columns say."""
        self._count("GetAccessKeyLastUsed", AccessKeyId)
        if AccessKeyId not in self._keys:
            raise self._no_such_entity(AccessKeyId, "GetAccessKeyLastUsed")
        user, key = self._keys[AccessKeyId]
        if key.used is None:
            # AWS: no LastUsedDate for a key never used (since tracking began).
            last_used = {"ServiceName": "N/A", "Region": "N/A"}
        else:
            service, region = self.account.last_used_where[AccessKeyId]
            last_used = {"LastUsedDate": key.used, "ServiceName": service, "Region": region}
        return {"UserName": user, "AccessKeyLastUsed": last_used, **META}

    def get_user(self, UserName: str, **_: Any) -> dict:  # noqa: N803
        self._count("GetUser", UserName)
        if UserName not in self._user_index:
            raise self._no_such_entity(UserName, "GetUser")
        return {"User": self.account.resource(self._user_index[UserName]), **META}

    def update_access_key(self, AccessKeyId: str = "", **_: Any) -> dict:  # noqa: N803
        self._count("UpdateAccessKey", AccessKeyId)
        return dict(META)

    def delete_access_key(self, AccessKeyId: str = "", **_: Any) -> dict:  # noqa: N803
        self._count("DeleteAccessKey", AccessKeyId)
        return dict(META)

    def targets_of(self, operation: str) -> list[str]:
        return [target for op, target in self.targets if op == operation]

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
    "GetAccessKeyLastUsed": lambda iam, params: iam.get_access_key_last_used(**params),
    "GetUser": lambda iam, params: iam.get_user(**params),
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

"""Property: whatever changed between the report and the live API, a remediation policy
disables exactly the keys a reference model finds stale on the live data, among the users
the report flags, and never lists or touches anything of any other user.

Each example is an account as the report saw it and as the live API shows it now (keys
used, disabled, deleted or rotated since, twins made in the same second, users deleted
since), served in memory to a real boto3 session and run through a whole policy. The
reference model is written here from the rule's statement, not from ``rule.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import boto3
import pytest
import time_machine
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from c7n.config import Config
from c7n.loader import PolicyLoader
from c7n.utils import reset_session_cache
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.placebo_fixtures import report_csv, report_row

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Key:
    key_id: str
    created: datetime
    used: datetime | None
    active: bool = True


# --- the reference model: the rule's text, on one key's dates ---


def stale(active: bool, created: datetime, used: datetime | None, days: int) -> bool:
    """An active key is stale when its last use, or (never used) its creation, is more
    than ``days`` ago."""
    if not active:
        return False
    since = used if used is not None else created
    return NOW - since > timedelta(days=days)


# --- generated accounts ---

AGES = st.one_of(
    st.integers(1, 600).map(float),
    st.sampled_from([89.999, 90.0, 90.001, 150.0, 300.0]),
)
CHANGES = ["unchanged", "used-since", "first-used", "disabled", "deleted", "rotated"]


@st.composite
def users(draw) -> dict:
    """user -> (report keys, live keys or None when the user was deleted since)."""
    account, serial = {}, iter(range(10_000))
    for index in range(draw(st.integers(1, 5))):
        report: list[Key] = []
        count = draw(st.integers(0, 2))
        twins = count == 2 and draw(st.booleans())
        for _ in range(count):
            created = NOW - draw(AGES) * DAY if not (twins and report) else report[0].created
            created = created.replace(microsecond=0)
            age = (NOW - created) / DAY
            used = draw(st.none() | st.floats(0, age).map(lambda d: NOW - d * DAY))
            used = used.replace(microsecond=0) if used is not None else None
            report.append(Key(f"AKIA{next(serial):016d}", created, used, draw(st.booleans())))
        if draw(st.integers(0, 9)) == 0:
            account[f"user{index}"] = (report, None)
            continue
        live = []
        for key in report:
            change = draw(st.sampled_from(CHANGES))
            if change == "deleted":
                continue
            if change == "rotated":
                live.append(Key(f"AKIA{next(serial):016d}", NOW - DAY / 24, None))
                continue
            if change in ("used-since", "first-used") and key.active:
                key = Key(key.key_id, key.created, NOW - DAY / 48, key.active)
            elif change == "disabled":
                key = Key(key.key_id, key.created, key.used, False)
            live.append(key)
        account[f"user{index}"] = (report, live)
    return account


# --- an IAM endpoint in memory, answering a real boto3 session ---


class LiveIAM:
    def __init__(self, account: dict):
        self.account = account
        rows = [
            report_row(
                user, [{"created": k.created, "used": k.used, "active": k.active} for k in keys]
            )
            for user, (keys, _) in account.items()
        ]
        self.report = report_csv(rows)
        self.calls: list[tuple[str, dict]] = []

    def answer(self, operation: str, params: dict) -> dict:
        self.calls.append((operation, params))
        if operation == "GetCredentialReport":
            return {"Content": self.report, "GeneratedTime": NOW - DAY / 12}
        if operation == "UpdateAccessKey":
            return {}
        live = self.account.get(params.get("UserName"), ([], None))[1]
        if operation == "GetUser":
            if live is None:
                raise _error("NoSuchEntity", operation)
            name = params["UserName"]
            return {"User": {"UserName": name, "UserId": "AIDA" + name, "Path": "/", "Tags": []}}
        if operation == "ListAccessKeys":
            if live is None:
                raise _error("NoSuchEntity", operation)
            return {
                "AccessKeyMetadata": [
                    {
                        "UserName": params["UserName"],
                        "AccessKeyId": k.key_id,
                        "Status": "Active" if k.active else "Inactive",
                        "CreateDate": k.created,
                    }
                    for k in live
                ]
            }
        if operation == "GetAccessKeyLastUsed":
            key = next(
                k
                for _, (_, keys) in self.account.items()
                for k in keys or []
                if k.key_id == params["AccessKeyId"]
            )
            detail = {"ServiceName": "N/A", "Region": "N/A"}
            if key.used is not None:
                detail = {"LastUsedDate": key.used, "ServiceName": "s3", "Region": "us-east-1"}
            return {"AccessKeyLastUsed": detail}
        raise AssertionError(f"unexpected call {operation}")


class Endpoint:
    """One boto3 session for every example (making one loads botocore's data: slow),
    answered by the example's ``LiveIAM``."""

    def __init__(self):
        self.iam: LiveIAM | None = None
        self.session = boto3.Session(
            region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        self.session.events.register("provide-client-params.iam", self._keep)
        self.session.events.register("before-call.iam", self._respond)

    @staticmethod
    def _keep(params, context, **kwargs):
        context["live_params"] = dict(params)

    def _respond(self, model, context, **kwargs):
        try:
            parsed = self.iam.answer(model.name, context.get("live_params", {}))
        except ClientError as e:
            return AWSResponse(None, 400, {}, None), e.response
        return AWSResponse(None, 200, {}, None), parsed

    def factory(self, iam: LiveIAM):
        self.iam = iam
        return lambda region=None, assume=None: self.session


ENDPOINT = Endpoint()


def _error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, operation)


def run(account: dict, days: int, tmp: str) -> LiveIAM:
    iam = LiveIAM(account)
    config = Config.empty(
        account_id="123456789012", region="us-east-1", output_dir=tmp, cache="", cache_period=0
    )
    policy = {
        "name": "disable",
        "resource": "iam-user",
        "source": "credential-report",
        "filters": [{"type": "access-key-unused", "days": days}],
        "actions": [{"type": "remove-keys", "matched": True, "disable": True}],
    }
    reset_session_cache()
    collection = PolicyLoader(config).load_data(
        {"policies": [policy]},
        file_uri="memory://p",
        session_factory=ENDPOINT.factory(iam),
        validate=False,
    )
    with time_machine.travel(NOW, tick=False):
        list(collection)[0].run()
    reset_session_cache()
    return iam


@pytest.mark.slow
@settings(max_examples=150, deadline=None, database=None, print_blob=True)
@given(users(), st.integers(1, 400))
def test_disables_exactly_the_live_stale_keys_of_flagged_users(tmp_path_factory, account, days):
    iam = run(account, days, str(tmp_path_factory.mktemp("out")))

    flagged = {
        user
        for user, (keys, _) in account.items()
        if any(stale(k.active, k.created, k.used, days) for k in keys)
    }
    expected = {
        (user, k.key_id)
        for user in flagged
        for k in account[user][1] or []
        if stale(k.active, k.created, k.used, days)
    }
    disabled = {(p["UserName"], p["AccessKeyId"]) for op, p in iam.calls if op == "UpdateAccessKey"}
    assert disabled == expected, json.dumps(sorted(disabled))
    assert all(p["Status"] == "Inactive" for op, p in iam.calls if op == "UpdateAccessKey")
    # Only flagged users are read live, once each, and only their active keys' last use.
    listed = [p["UserName"] for op, p in iam.calls if op == "ListAccessKeys"]
    assert sorted(listed) == sorted(flagged)
    read = sorted(p["AccessKeyId"] for op, p in iam.calls if op == "GetAccessKeyLastUsed")
    assert read == sorted(k.key_id for user in flagged for k in account[user][1] or [] if k.active)
    assert {op for op, _ in iam.calls} <= {
        "GetCredentialReport",
        "ListAccessKeys",
        "GetAccessKeyLastUsed",
        "GetUser",
        "UpdateAccessKey",
    }

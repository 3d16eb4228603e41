"""What the key lifecycle's end-to-end tests share: records on a local IAM endpoint, the
faults real IAM has and moto has not, and the plugin's Lambda handler run as Lambda runs it.

- ``records``, ``backdate_record``: read the retirement records (tags) of every user, and
  rewrite one's time as if it had been written days ago (anyone allowed ``iam:TagUser``
  could; ``docs/keyage-tag-guard-scp.json`` reserves that to Custodian);
- ``key_changes``, ``outcomes``, ``retired_entries``: what a run changed, what its lifecycle
  action returned per key, and the records it listed;
- ``IamEdges``: a WSGI layer between ``LocalIAM``'s recorder and moto that answers as AWS
  does where moto does not: a change that takes effect and whose response is lost (a 500 on
  every attempt, as a dropped connection looks after botocore's retries), and IAM's tag
  limits (moto accepts any tag);
- ``lambda_handler``: ``c7n_keyage.handler.run`` on a ``config.json``, as a Lambda function
  runs it (the JSON schema is not checked there).
"""

from __future__ import annotations

import io
import json
import pathlib
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import yaml
from moto.iam.models import iam_backends

from tests.support.localiam import DEFAULT_ACCOUNT_ID, Call, Fault, KeySpec, LocalIAM
from tests.support.localiam import _parse_call as parse_call  # the recorder's own request parser
from tests.support.stock_cli import Run, environment

ROOT = pathlib.Path(__file__).resolve().parents[2]
LIFECYCLE, RESTORE_FILE = "access-key-lifecycle.yml", "access-key-lifecycle-restore.yml"
RETIRE_NAME = "iam-access-key-lifecycle-retire-90"
DELETE_NAME = "iam-access-key-lifecycle-delete-30"
RESTORE_DAY_NAME = "iam-access-key-lifecycle-restore-last-day"
# c7n names an action's results file after its class: action-<class name, lower case>.
RETIRE_RESULTS, RESTORE_RESULTS, DELETE_RESULTS = "retirekeys", "restorekeys", "deleteretiredkeys"
PREFIX = "c7n-keyage:retired:"
KEY_CALLS = ("TagUser", "UntagUser", "UpdateAccessKey", "DeleteAccessKey", "CreateAccessKey")
TIME = "%Y-%m-%dT%H:%M:%SZ"


def sample(file: str, name: str, **changes: Any) -> dict:
    """One policy of a shipped sample file, with ``changes`` to its top-level keys."""
    policies = yaml.safe_load((ROOT / "policies" / file).read_text())["policies"]
    (policy,) = [p for p in policies if p["name"] == name]
    return dict(policy, **changes)


def records(local: LocalIAM, account: str | None = None) -> dict[str, dict[str, str]]:
    """``{user: {key id: record value}}`` of every user with a retirement record."""
    iam = local.client("iam", account)
    found = {}
    for page in iam.get_paginator("list_users").paginate():
        for user in page["Users"]:
            tags = iam.list_user_tags(UserName=user["UserName"])["Tags"]
            mine = {t["Key"].removeprefix(PREFIX): t["Value"] for t in tags if _ours(t["Key"])}
            if mine:
                found[user["UserName"]] = mine
    return found


def _ours(key: str) -> bool:
    return key.startswith(PREFIX)


def backdate_record(local: LocalIAM, user: str, key_id: str, days: float) -> str:
    """Rewrite the time of ``key_id``'s record to ``days`` ago, keeping the rest of its
    value; return the new value."""
    iam = local.client()
    (value,) = [
        t["Value"] for t in iam.list_user_tags(UserName=user)["Tags"] if t["Key"] == PREFIX + key_id
    ]
    when = datetime.now(timezone.utc) - timedelta(days=days)
    new = when.strftime(TIME) + " " + value.split(" ", 1)[1]
    iam.tag_user(UserName=user, Tags=[{"Key": PREFIX + key_id, "Value": new}])
    return new


def key_changes(run: Run) -> list[tuple[str, str, str]]:
    """``(action[:status], user, key id)`` of every call that changed a key or a record, in
    order; a record is named by the key ID in its tag key."""
    changes = []
    for call in run.operations(*KEY_CALLS):
        key = call.params.get("AccessKeyId", "")
        if call.action == "TagUser":
            key = call.params["Tags.member.1.Key"].removeprefix(PREFIX)
        elif call.action == "UntagUser":
            key = call.params["TagKeys.member.1"].removeprefix(PREFIX)
        status = call.params.get("Status", "")
        changes.append(
            (f"{call.action}{':' + status if status else ''}", call.params["UserName"], key)
        )
    return changes


def outcomes(run: Run, policy: str, action: str, *parts: str) -> dict[tuple[str, str], str]:
    """``{(user, key id): outcome}`` from the ``action-<action>`` file c7n wrote."""
    results = run.action_results(policy, action, *parts) or []
    return {(r["UserName"], r["AccessKeyId"]): r["outcome"] for r in results}


def retired_entries(run: Run, policy: str, *parts: str) -> dict[tuple[str, str], dict]:
    """``{(user, key id): entry}`` of the ``c7n:retired-keys`` a run wrote."""
    return {
        (r["UserName"], e["access_key_id"]): e
        for r in run.resources(policy, *parts)
        for e in r.get("c7n:retired-keys", ())
    }


def day(tmp: pathlib.Path, n: int) -> pathlib.Path:
    """The working directory (so the HOME, and c7n's cache) of the runs of day ``n``: a daily
    run does not find the cache of a run made days before."""
    path = tmp / f"day-{n}"
    path.mkdir(exist_ok=True)
    return path


def add_key(local: LocalIAM, user: str, spec: KeySpec) -> str:
    """A new key for ``user`` (default account), dated as ``spec`` says; its ID."""
    key_id = local.client().create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    now = datetime.now(timezone.utc).replace(microsecond=0)
    (model,) = [
        k
        for k in iam_backends[DEFAULT_ACCOUNT_ID]["global"].users[user].access_keys
        if k.access_key_id == key_id
    ]
    model.create_date = (now - timedelta(days=spec.created_days_ago)).replace(tzinfo=None)
    if spec.last_used_days_ago is not None:
        local.use_key(user, key_id, when=now - timedelta(days=spec.last_used_days_ago))
    return key_id


# --- what moto does not do ---

# IAM's tag limits (moto checks none of them): keys up to 128 characters, values up to 256,
# both made of letters, digits, white space and _ . : / = + - @; 50 tags per user.
_TAG_TEXT = re.compile(r"[\w\s.:/=+\-@]*")
_TAG_KEY, _TAG_VALUE, _TAGS_PER_USER = 128, 256, 50


def tag_problem(tags: dict[str, str], existing: Iterable[str]) -> tuple[str, str] | None:
    """``(error code, message)`` IAM answers a ``TagUser`` of ``tags`` with, or None."""
    for key, value in tags.items():
        if len(key) > _TAG_KEY or not _TAG_TEXT.fullmatch(key):
            return "InvalidInput", f"tag key {key!r} breaks IAM's limits"
        if len(value) > _TAG_VALUE or not _TAG_TEXT.fullmatch(value):
            return "InvalidInput", f"tag value {value!r} breaks IAM's limits"
    if len(set(existing) | set(tags)) > _TAGS_PER_USER:
        return "LimitExceeded", f"more than {_TAGS_PER_USER} tags"
    return None


def _tags(params: dict[str, str]) -> dict[str, str]:
    found, n = {}, 1
    while f"Tags.member.{n}.Key" in params:
        found[params[f"Tags.member.{n}.Key"]] = params.get(f"Tags.member.{n}.Value", "")
        n += 1
    return found


@dataclass
class Lost:
    """Requests of ``action`` whose parameters include ``params``: moto makes the change,
    the caller gets a 500 (``ServiceFailure``) instead of moto's answer."""

    action: str
    params: dict[str, str]
    seen: int = 0

    def matches(self, call: Call) -> bool:
        return call.action == self.action and all(
            call.params.get(k) == v for k, v in self.params.items()
        )


@dataclass
class IamEdges:
    """WSGI middleware in front of moto (behind ``LocalIAM``'s recorder, which logs every
    request first): lost responses and IAM's tag limits. ``install`` puts it in place."""

    app: Callable[..., Any]
    lost: list[Lost] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def install(cls, local: LocalIAM) -> IamEdges:
        # LocalIAM has no public hook for a fault that lets the change through: stand
        # between its recorder and moto's app.
        recorder = local._recorder
        edges = cls(recorder.app)
        recorder.app = edges
        return edges

    def lose(self, action: str, **params: str) -> Lost:
        rule = Lost(action, dict(params))
        with self._lock:
            self.lost.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.lost.clear()

    def __call__(self, environ: dict, start_response: Callable[..., Any]) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        call = parse_call(environ, body)
        if call.action == "TagUser":
            existing = _existing_tags(call.params.get("UserName", ""))
            if problem := tag_problem(_tags(call.params), existing):
                code, message = problem
                status = 409 if code == "LimitExceeded" else 400
                return _error(start_response, Fault(call.action, code, status, {}, None, message))
        if self._lost(call) is None:
            return self.app(environ, start_response)
        answered = self.app(environ, lambda *args, **kwargs: None)
        b"".join(answered)  # moto has done the work; its answer is dropped
        fault = Fault(call.action, "ServiceFailure", 500, {}, None, "response lost (injected)")
        return _error(start_response, fault)

    def _lost(self, call: Call) -> Lost | None:
        with self._lock:
            for rule in self.lost:
                if rule.matches(call):
                    rule.seen += 1
                    return rule
        return None


def _existing_tags(user: str) -> list[str]:
    # The default account's: the lifecycle's end-to-end tests tag users there.
    backend = iam_backends[DEFAULT_ACCOUNT_ID]["global"]
    if user not in backend.users:
        return []
    return [t["Key"] for t in backend.list_user_tags(user)]


def _error(start_response: Callable[..., Any], fault: Fault) -> list[bytes]:
    start_response(
        f"{fault.status} Error", [("Content-Type", "text/xml"), ("x-amzn-ErrorType", fault.code)]
    )
    return [fault.body()]


# --- the Lambda handler ---

SCHEDULED_EVENT = {
    "version": "0",
    "id": "5d7c4f3e-0000-4000-8000-000000000002",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": DEFAULT_ACCOUNT_ID,
    "time": "2026-11-01T12:00:00Z",
    "region": "us-east-1",
    "resources": [f"arn:aws:events:us-east-1:{DEFAULT_ACCOUNT_ID}:rule/custodian-keyage"],
    "detail": {},
}
_INVOKE = "import json, sys\nfrom c7n_keyage.handler import run\nrun(json.loads(sys.argv[1]))\n"


def lambda_policy(policy: dict, output: pathlib.Path) -> dict:
    """``policy`` as a daily Lambda with the plugin's handler, its output kept in ``output``."""
    mode = {
        "type": "periodic",
        "schedule": "rate(1 day)",
        "role": "arn:aws:iam::{account_id}:role/custodian-keyage",
        "packages": ["c7n_keyage"],
        "handler": "c7n_keyage.handler.run",
        "execution-options": {"output_dir": str(output)},
    }
    return dict(policy, mode=mode)


def lambda_handler(
    local: LocalIAM, policy: dict, tmp: pathlib.Path
) -> tuple[subprocess.CompletedProcess, list[Call]]:
    """Run the plugin's Lambda handler once on ``policy`` (one function holds one policy),
    from a task directory holding the ``config.json`` c7n's packaging writes; the process
    and the calls the endpoint received."""
    task = tmp / "task"
    task.mkdir(parents=True, exist_ok=True)
    config = {"execution-options": {"account_id": DEFAULT_ACCOUNT_ID, "region": "us-east-1"}}
    config["policies"] = [lambda_policy(policy, tmp / "lambda-output")]
    (task / "config.json").write_text(json.dumps(config))
    local.clear_calls()
    result = subprocess.run(
        [sys.executable, "-c", _INVOKE, json.dumps(SCHEDULED_EVENT)],
        cwd=task,
        env=environment(local, tmp),
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result, local.calls

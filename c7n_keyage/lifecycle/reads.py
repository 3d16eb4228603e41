"""The lifecycle's reads from the live IAM API: a user's records and their keys' states.

Per user: one ``ListUserTags`` (IAM allows 50 tags per user: one page); only when the user
carries a ``c7n-keyage:retired:`` tag, one ``ListAccessKeys`` and one
``GetAccessKeyLastUsed`` per recorded key that still exists (at most two), through the
one reader of a user's keys (``aws.read_user_keys``). ``key_status``: one key's status,
for ``retire-keys`` to look at a key whose disabling gave no answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from c7n.query import RetryPageIterator

from c7n_keyage.aws import error_code, read_user_keys
from c7n_keyage.lifecycle.plan import MISSING, KeyState
from c7n_keyage.lifecycle.record import Problem, Record, parse_records

PERMISSIONS = ("iam:ListUserTags", "iam:ListAccessKeys", "iam:GetAccessKeyLastUsed")


@dataclass
class UserRecords:
    """A user's retirement records, the tags refused as records, and the recorded keys'
    live states (a key not in ``states`` is gone)."""

    records: list[Record] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    states: dict[str, KeyState] = field(default_factory=dict)
    # Recorded keys whose last use could not be read, with the error.
    unknown: dict[str, ClientError] = field(default_factory=dict)
    tags: list[dict] = field(default_factory=list)  # all of the user's tags


def list_tags(client: Any, user: str) -> list[dict]:
    # boto3's paginator with c7n's retrying page iterator, as c7n's own iam.py pages.
    paginator = client.get_paginator("list_user_tags")
    paginator.PAGE_ITERATOR_CLS = RetryPageIterator
    return paginator.paginate(UserName=user).build_full_result().get("Tags", [])


def read_records(
    client: Any, user: str, retry: Callable[..., Any], now: datetime
) -> UserRecords | None:
    """The user's records and the live state of each recorded key; None if the user is
    gone. Access denied and other errors of the tag or key listing are raised."""
    try:
        tags = list_tags(client, user)
    except ClientError as e:
        if error_code(e) == "NoSuchEntity":
            return None
        raise
    records, problems = parse_records(tags, now)
    found = UserRecords(records, problems, tags=tags)
    if not records:
        return found
    recorded = {r.key_id for r in records}
    keys = read_user_keys(client, user, retry, lambda entry: entry["AccessKeyId"] in recorded)
    if keys is None:
        return None
    for entry in keys.listed:
        key_id = entry["AccessKeyId"]
        if key_id in keys.unknown:
            found.states[key_id] = KeyState(entry["Status"], last_used_known=False)
            found.unknown[key_id] = keys.unknown[key_id]
        elif key_id in recorded:
            found.states[key_id] = KeyState(entry["Status"], keys.last_use(key_id))
    return found


def key_status(client: Any, user: str, key_id: str, retry: Callable[..., Any]) -> str:
    """The key's status now: ``Active``, ``Inactive``, or ``missing`` when it (or its user)
    is gone. One ``ListAccessKeys``; its errors are raised."""
    keys = read_user_keys(client, user, retry, lambda entry: False)
    listed = keys.listed if keys is not None else []
    return next((k["Status"] for k in listed if k["AccessKeyId"] == key_id), MISSING)

"""Read a user's keys from the live IAM API: the one place the acting path calls AWS.

Per flagged user: one ``ListAccessKeys``, then one ``GetAccessKeyLastUsed`` per ACTIVE key
(IAM allows two keys per user, so at most three calls). Inactive keys are never acted on,
so their last use is not read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from c7n_keyage.fetch import DENIED, error_code
from c7n_keyage.verify import LiveKey, live_key

PERMISSIONS = ("iam:ListAccessKeys", "iam:GetAccessKeyLastUsed")


@dataclass
class LiveKeys:
    """What the live API said of one user's keys."""

    listed: list[dict] = field(default_factory=list)  # ListAccessKeys, whole
    keys: list[LiveKey] = field(default_factory=list)  # each with its last use if active
    # Active keys whose last use could not be read: their state is unknown.
    unknown: list[tuple[dict, ClientError]] = field(default_factory=list)


def read_live_keys(client: Any, user: str, retry: Callable[..., Any]) -> LiveKeys | None:
    """The user's keys now; None when the user no longer exists.

    ``retry`` is c7n's throttling retry (``manager.retry``). Errors other than a missing
    user are raised from ``ListAccessKeys``; from ``GetAccessKeyLastUsed`` they leave that
    key unknown, unless access is denied, which no other key would escape either.
    """
    try:
        listed = retry(client.list_access_keys, UserName=user)["AccessKeyMetadata"]
    except ClientError as e:
        if error_code(e) == "NoSuchEntity":
            return None
        raise
    found = LiveKeys(listed)
    for entry in listed:
        if entry.get("Status") != "Active":
            found.keys.append(live_key(entry))
            continue
        try:
            used = retry(client.get_access_key_last_used, AccessKeyId=entry["AccessKeyId"])
        except ClientError as e:
            if is_denied(e):
                raise
            found.unknown.append((entry, e))
            continue
        found.keys.append(live_key(entry, used.get("AccessKeyLastUsed")))
    return found


def is_denied(error: ClientError) -> bool:
    return error_code(error) in DENIED

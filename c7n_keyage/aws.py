"""The plugin's reads of a user from the live IAM API, and the one rule for their errors.

Both features read users one by one: the stale-key filter confirms a flagged user's keys,
the lifecycle reads a user's retirement records and the keys they name. Here, once:

- what an error means (``error_code``, ``is_denied``, ``TRANSIENT``);
- reading a user's keys (``read_user_keys``: ``ListAccessKeys``, then
  ``GetAccessKeyLastUsed`` for the keys asked about);
- reading each user at most once per run and the denial rule (``read_each``): a user whose
  read is denied is named in one ERROR line and left alone, the others are still read; only
  when every read is denied does the policy stop, because the role then lacks the
  permission for everyone (an SCP or a permissions boundary denies single users).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from c7n.exceptions import PolicyExecutionError

from c7n_keyage.dates import utc
from c7n_keyage.names import LOGGER

log = logging.getLogger(LOGGER)

# Errors worth waiting out; botocore retries some of them first, then hands them to us.
TRANSIENT = frozenset({"Throttling", "ThrottlingException", "LimitExceeded", "ServiceFailure"})
DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
KEY_PERMISSIONS = ("iam:ListAccessKeys", "iam:GetAccessKeyLastUsed")


def error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def is_denied(error: ClientError) -> bool:
    return error_code(error) in DENIED


@dataclass
class UserKeys:
    """What the live API said of one user's keys."""

    listed: list[dict]  # ListAccessKeys' AccessKeyMetadata, whole
    # Key ID -> GetAccessKeyLastUsed's AccessKeyLastUsed, for each key asked about.
    last_used: dict[str, dict] = field(default_factory=dict)
    # Key ID -> why its last use could not be read: its state is unknown.
    unknown: dict[str, ClientError] = field(default_factory=dict)

    def last_use(self, key_id: str) -> datetime | None:
        """When the key asked about was last used, in UTC; None if never (KeyError for a
        key whose last use was not read)."""
        used = self.last_used[key_id].get("LastUsedDate")
        return utc(used) if used is not None else None


def read_user_keys(
    client: Any, user: str, retry: Callable[..., Any], wanted: Callable[[dict], bool]
) -> UserKeys | None:
    """The user's keys now, with the last use of each listed key ``wanted`` selects.

    None when the user no longer exists. ``retry`` is c7n's throttling retry
    (``manager.retry``). Errors of ``ListAccessKeys`` are raised; of
    ``GetAccessKeyLastUsed``, access denied is raised (no other key would escape it
    either) and any other error leaves that key unknown, never "never used".
    """
    try:
        listed = retry(client.list_access_keys, UserName=user)["AccessKeyMetadata"]
    except ClientError as e:
        if error_code(e) == "NoSuchEntity":
            return None
        raise
    found = UserKeys(listed)
    for entry in listed:
        if not wanted(entry):
            continue
        key_id = entry["AccessKeyId"]
        try:
            used = retry(client.get_access_key_last_used, AccessKeyId=key_id)
        except ClientError as e:
            if is_denied(e):
                raise
            found.unknown[key_id] = e
            continue
        found.last_used[key_id] = used.get("AccessKeyLastUsed") or {}
    return found


@dataclass(frozen=True)
class Reading:
    """What a feature reads of each user, for its messages.

    ``what`` names it ("keys"); ``needs`` the permissions; ``left`` and ``others`` end the
    ERROR line that names denied users ("their keys are unknown and left alone", "judged").
    """

    policy: str
    what: str
    needs: tuple[str, ...]
    left: str
    others: str


def read_each(
    users: Iterable[str], read: Callable[[str], Any], known: dict[str, Any], reading: Reading
) -> dict[str, Any]:
    """``read(user)`` for each user, at most once per run: ``known`` holds the run's reads.

    Returns the users that could be read, with what was read. A user gone since (``read``
    returned None) or unreadable is logged and left out; denied users are named together,
    and the policy stops if no user could be read at all.
    """
    found, denied, answered = {}, {}, False
    for user in users:
        if user not in known:
            known[user] = _attempt(read, user, reading)
        result = known[user]
        if isinstance(result, ClientError) and is_denied(result):
            denied[user] = result
            continue
        answered = True  # the API answered for this user: the role may read
        if result is not None and not isinstance(result, ClientError):
            found[user] = result
    if denied:
        _report_denied(reading, denied, answered)
    return found


def _attempt(read: Callable[[str], Any], user: str, reading: Reading) -> Any:
    try:
        result = read(user)
    except ClientError as e:
        if not is_denied(e):
            log.warning(
                "policy:%s user %s: %s could not be read (%s); their state is unknown, so nothing "
                "will act on them",
                reading.policy,
                user,
                reading.what,
                e,
            )
        return e
    if result is None:
        log.warning("policy:%s user %s no longer exists; skipped", reading.policy, user)
    return result


def _report_denied(reading: Reading, denied: dict[str, ClientError], answered: bool) -> None:
    needs = " and ".join(reading.needs)
    if not answered:
        user, error = next(iter(denied.items()))
        raise PolicyExecutionError(
            f"policy:{reading.policy} access denied reading user {user}'s {reading.what}: "
            f"the role running this policy needs {needs} ({error})"
        ) from error
    log.error(
        "policy:%s access denied reading the %s of %d user(s): %s; the role running this "
        "policy needs %s on them (an SCP or a permissions boundary may deny it): %s; the "
        "other users' were %s",
        reading.policy,
        reading.what,
        len(denied),
        ", ".join(sorted(denied)),
        needs,
        reading.left,
        reading.others,
    )

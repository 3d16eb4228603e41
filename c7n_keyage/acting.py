"""The acting path: the report screens, the live API confirms, then the annotations.

For each user the report flagged, and no other: read the keys live (``live.py``, the calls),
judge every active key on its live dates (``verify.py``, pure), log why each key the report
flagged is left alone, and write what ``remove-keys`` with ``matched: true`` reads: the keys
stale by the live data, each by its ``AccessKeyId`` (``findings.py``), merged with the
policy's other filters by ``scope.record``.

A user whose keys cannot be read is never acted on: deleted since the report (a warning),
another error (a warning), or access denied to that user alone, as an SCP or a permissions
boundary on a break-glass user does (one ERROR line naming the permission and every such
user). Only when access is denied for every flagged user does the policy stop: the role
then lacks the permission for everyone.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from c7n.exceptions import PolicyExecutionError
from c7n.utils import local_session

from c7n_keyage import live, scope
from c7n_keyage.findings import access_entry, verified_key
from c7n_keyage.scope import ACCESS_KEYS
from c7n_keyage.verify import verify

log = logging.getLogger("custodian.keyage")


def confirm(flt: Any, flagged: list, now: datetime) -> list[dict]:
    """Keep the flagged users with a key stale by the live data, annotated from it.

    ``flagged`` is ``[(resource, (report row, [(key, reasons)]))]``: the report's verdicts.
    """
    client = local_session(flt.manager.session_factory).client("iam")
    days, rotation_days = flt.days()
    policy = flt.policy_name()
    # One read per user and run: the policy's other filters judge the same live keys.
    known = scope.live_reads(flt.manager)
    kept, denied, answered = [], {}, False
    for resource, (row, keys) in flagged:
        user = resource["UserName"]
        if user not in known:
            known[user] = _read(client, user, flt.manager.retry, policy)
        found = known[user]
        if isinstance(found, ClientError) and live.is_denied(found):
            denied[user] = found
            continue
        answered = True  # the API answered for this user: the role may read keys
        if not isinstance(found, live.LiveKeys):
            continue
        verdict = verify(row.keys, [key for key, _ in keys], found.keys, now, days, rotation_days)
        for key, why in verdict.cleared:
            log.info(
                "policy:%s user %s: key slot %d (created %s), stale by the report, is not "
                "stale by the live API: %s; left alone",
                policy,
                user,
                key.slot,
                key.last_rotated.isoformat() if key.last_rotated else "unknown",
                why,
            )
        for entry, error in found.unknown:
            log.warning(
                "policy:%s user %s: last use of key %s could not be read (%s); its state is "
                "unknown, so nothing will act on it",
                policy,
                user,
                entry["AccessKeyId"],
                error,
            )
        # The listing is current: remove-keys acts on it instead of listing again.
        resource[ACCESS_KEYS] = found.listed
        if verdict.stale:
            scope.record(
                flt,
                resource,
                [access_entry(stale.live.listed) for stale in verdict.stale],
                [verified_key(stale, now) for stale in verdict.stale],
            )
            kept.append(resource)
    if denied:
        _report_denied(policy, denied, answered)
    return kept


def _read(client: Any, user: str, retry: Any, policy: str) -> live.LiveKeys | ClientError | None:
    """The user's live keys; None when the user is gone; the error when they cannot be read
    (a warning says so, unless access was denied: the caller names those users together)."""
    try:
        found = live.read_live_keys(client, user, retry)
    except ClientError as e:
        if not live.is_denied(e):
            log.warning(
                "policy:%s user %s: keys could not be listed (%s); their state is unknown, "
                "so nothing will act on them",
                policy,
                user,
                e,
            )
        return e
    if found is None:
        log.warning(
            "policy:%s user %s was deleted since the credential report; skipped", policy, user
        )
    return found


def _report_denied(policy: str, denied: dict[str, ClientError], answered: bool) -> None:
    needs = " and ".join(live.PERMISSIONS)
    if not answered:
        # The API answered for no user: the role lacks the permission, not one user's SCP.
        user, error = next(iter(denied.items()))
        raise PolicyExecutionError(
            f"policy:{policy} access denied reading user {user}'s keys: the role "
            f"running this policy needs {needs} ({error})"
        ) from error
    log.error(
        "policy:%s access denied reading the keys of %d user(s): %s; the role running this "
        "policy needs %s on them (an SCP or a permissions boundary may deny it): their keys "
        "are unknown and left alone; the other users' were judged",
        policy,
        len(denied),
        ", ".join(sorted(denied)),
        needs,
    )

"""The report screens, the live API confirms: the path every key action goes through.

For each user the report flagged, and no other: read the keys live (``aws.read_user_keys``:
``ListAccessKeys``, then ``GetAccessKeyLastUsed`` per ACTIVE key: at most three calls, as
IAM allows two keys per user), judge every active key on its live dates (``verify.py``,
pure), log why each key the report flagged is left alone, and write what ``remove-keys``
with ``matched: true`` reads: the keys stale by the live data, each by its ``AccessKeyId``
(``findings.py``), merged with the policy's other filters (``policy_run.record``).

A user whose keys cannot be read is never acted on: gone since the report, another error,
or access denied (``aws.read_each``'s one rule: a user an SCP or a permissions boundary
shields is named and skipped; the policy stops only if every user is denied).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from c7n.utils import local_session

from c7n_keyage import aws, policy_run
from c7n_keyage.names import ACCESS_KEYS, LOGGER
from c7n_keyage.stale.findings import access_entry, verified_key
from c7n_keyage.stale.verify import LiveKey, Verdict, live_key, verify

log = logging.getLogger(LOGGER)


def _active(entry: dict) -> bool:
    # Inactive keys are never acted on, so their last use is not read.
    return entry.get("Status") == "Active"


def live_keys(found: aws.UserKeys) -> list[LiveKey]:
    """The listed keys whose state is known, each with its live last use if active."""
    return [
        live_key(entry, found.last_used.get(entry["AccessKeyId"]))
        for entry in found.listed
        if entry["AccessKeyId"] not in found.unknown
    ]


def confirm(flt: Any, flagged: list, now: datetime) -> list[dict]:
    """Keep the flagged users with a key stale by the live data, annotated from it.

    ``flagged`` is ``[(resource, (report row, [(key, reasons)]))]``: the report's verdicts.
    """
    client = local_session(flt.manager.session_factory).client("iam")
    days, rotation_days = flt.days()
    policy = flt.policy_name()
    reading = aws.Reading(
        policy, "keys", aws.KEY_PERMISSIONS, "their keys are unknown and left alone", "judged"
    )
    # One read per user and run: the policy's other filters judge the same live keys.
    read = aws.read_each(
        [resource["UserName"] for resource, _ in flagged],
        lambda user: aws.read_user_keys(client, user, flt.manager.retry, _active),
        policy_run.live_reads(flt.manager),
        reading,
    )
    kept = []
    for resource, (row, keys) in flagged:
        found = read.get(resource["UserName"])
        if found is None:
            continue
        live = live_keys(found)
        verdict = verify(row.keys, [key for key, _ in keys], live, now, days, rotation_days)
        _explain(policy, resource["UserName"], verdict, found)
        # The listing is current: remove-keys acts on it instead of listing again.
        resource[ACCESS_KEYS] = found.listed
        if verdict.stale:
            policy_run.record(
                flt,
                resource,
                [access_entry(stale.live.listed) for stale in verdict.stale],
                [verified_key(stale, now) for stale in verdict.stale],
            )
            kept.append(resource)
    return kept


def _explain(policy: str, user: str, verdict: Verdict, found: aws.UserKeys) -> None:
    """Log why each key the report flagged is left alone, and each key of unknown state."""
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
    for key_id, error in found.unknown.items():
        log.warning(
            "policy:%s user %s: last use of key %s could not be read (%s); its state is "
            "unknown, so nothing will act on it",
            policy,
            user,
            key_id,
            error,
        )

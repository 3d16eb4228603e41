"""The acting path: the report screens, the live API confirms, then the annotations.

For each user the report flagged, and no other: read the keys live (``live.py``, the calls),
judge every active key on its live dates (``verify.py``, pure), log why each key the report
flagged is left alone, and write what ``remove-keys`` with ``matched: true`` reads: the keys
stale by the live data, each by its ``AccessKeyId`` (``findings.py``).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from c7n.exceptions import PolicyExecutionError
from c7n.utils import local_session

from c7n_keyage import live
from c7n_keyage.findings import MATCHED_KEYS, UNUSED_KEYS, access_entry, verified_key
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
    kept = []
    for resource, (row, keys) in flagged:
        user = resource["UserName"]
        found = _read(flt, client, user)
        if found is None:
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
            resource[UNUSED_KEYS] = [verified_key(stale, now) for stale in verdict.stale]
            matched = [access_entry(stale.live.listed) for stale in verdict.stale]
            flt.merge_annotation(resource, MATCHED_KEYS, matched)
            kept.append(resource)
    return kept


def _read(flt: Any, client: Any, user: str) -> live.LiveKeys | None:
    """The user's live keys; None, logged, when the user is gone or its keys unreadable."""
    policy = flt.policy_name()
    try:
        found = live.read_live_keys(client, user, flt.manager.retry)
    except ClientError as e:
        if live.is_denied(e):
            # Every user would fail alike: stop the policy, naming what the role lacks.
            raise PolicyExecutionError(
                f"policy:{policy} access denied reading user {user}'s keys: the role "
                f"running this policy needs {' and '.join(live.PERMISSIONS)} ({e})"
            ) from e
        log.warning(
            "policy:%s user %s: keys could not be listed (%s); their state is unknown, so "
            "nothing will act on them",
            policy,
            user,
            e,
        )
        return None
    if found is None:
        log.warning(
            "policy:%s user %s was deleted since the credential report; skipped", policy, user
        )
    return found

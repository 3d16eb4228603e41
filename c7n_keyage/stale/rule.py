"""What makes an access key stale: the whole rule, as one pure function.

It reproduces Panther's ``AWS.AccessKey.Unused`` (CIS 1.3, PCI 8.1.4) and adds an optional
rotation check (CIS 1.14, Security Hub IAM.3). It knows nothing of AWS or Custodian: it
takes a parsed key and the run's clock, so every case can be tested as data.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from c7n_keyage.credential_report.parse import UNREADABLE, AccessKey
from c7n_keyage.names import NEVER_USED, UNROTATED, UNUSED


def stale_reasons(
    key: AccessKey, now: datetime, days: int, rotation_days: int | None = None
) -> list[str]:
    """Why ``key`` is stale at ``now``; an empty list means it is not.

    Strictly more than N days: a key used exactly N days ago passes. Dates in the future
    give negative ages, so they count as recent.
    """
    if not key.active:
        return []
    reasons = []
    limit = timedelta(days=days)
    if key.last_used is None:
        # Never used: its creation date gives it the same grace (Panther, CIS 1.12).
        if key.last_rotated is not None and now - key.last_rotated > limit:
            reasons.append(NEVER_USED)
    elif key.last_used is not UNREADABLE and now - key.last_used > limit:
        reasons.append(UNUSED)
    if (
        rotation_days is not None
        and key.last_rotated is not None
        and now - key.last_rotated > timedelta(days=rotation_days)
    ):
        reasons.append(UNROTATED)
    return reasons

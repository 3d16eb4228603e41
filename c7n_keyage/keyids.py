"""Join flagged report keys to ListAccessKeys entries, which carry the key IDs.

The report has no key IDs. Its ``last_rotated`` is the key's creation date to the second,
while ListAccessKeys' ``CreateDate`` may carry microseconds (c7n's exact-date join in
``remove-keys`` then silently matches nothing), so dates are compared to the second.
Slot numbers are never used: slot 1 is not always the older key.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timezone

from c7n_keyage.report import AccessKey


def identify(flagged: Iterable[AccessKey], listed: Sequence[dict]) -> dict[int, dict]:
    """Map each flagged key's slot to its ListAccessKeys entry.

    A key is identified only when exactly one ACTIVE listed key was created in the same
    second: a key deleted, disabled or replaced since the report was made is left alone.
    """
    found = {}
    for key in flagged:
        if key.last_rotated is None:
            continue
        candidates = [
            entry
            for entry in listed
            if entry.get("Status") == "Active"
            and _to_second(entry["CreateDate"]) == key.last_rotated
        ]
        if len(candidates) == 1:
            found[key.slot] = candidates[0]
    return found


def _to_second(created: datetime) -> datetime:
    if created.tzinfo is None:
        created = created.replace(tzinfo=timezone.utc)
    return created.replace(microsecond=0)

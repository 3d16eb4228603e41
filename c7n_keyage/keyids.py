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


def identify(
    flagged: Iterable[AccessKey], listed: Sequence[dict]
) -> tuple[dict[int, dict], set[int]]:
    """Split flagged keys by what ListAccessKeys says of them now.

    Returns ``(found, gone)``: ``found`` maps a slot to the one ACTIVE listed key created
    in the same second; ``gone`` holds the slots of keys with no active key of that
    second (deleted, disabled or replaced since the report was made). A key with no
    creation date, or sharing its second with another active key, is in neither.
    """
    found, gone = {}, set()
    for key in flagged:
        if key.last_rotated is None:
            continue
        active = [
            entry
            for entry in listed
            if entry.get("Status") == "Active"
            and _to_second(entry["CreateDate"]) == key.last_rotated
        ]
        if len(active) == 1:
            found[key.slot] = active[0]
        elif not active:
            gone.add(key.slot)
    return found, gone


def _to_second(created: datetime) -> datetime:
    if created.tzinfo is None:
        created = created.replace(tzinfo=timezone.utc)
    return created.replace(microsecond=0)

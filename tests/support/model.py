"""The rule's text, as a reference for seeded accounts (``tests.support.localiam.KeySpec``).

Written from the README's rule, not from ``c7n_keyage.stale.rule``: an ACTIVE key is stale when it
was used and its last use is more than ``days`` ago (``unused``), or was never used and was
created more than ``days`` ago (``never-used``); with ``rotation-days``, also when it was
created more than that many days ago (``unrotated``). Inactive keys never are. Seeded ages
in the tests keep well away from the limits: a subprocess runs seconds after seeding.
"""

from __future__ import annotations

from tests.support.localiam import KeySpec, UserSpec


def reasons(key: KeySpec, days: int = 90, rotation_days: int | None = None) -> list[str]:
    if not key.active:
        return []
    found = []
    if key.last_used_days_ago is None:
        if key.created_days_ago > days:
            found.append("never-used")
    elif key.last_used_days_ago > days:
        found.append("unused")
    if rotation_days is not None and key.created_days_ago > rotation_days:
        found.append("unrotated")
    return found


def stale_keys(
    users: tuple[UserSpec, ...] | list[UserSpec],
    ids: dict[str, list[str]],
    days: int = 90,
    rotation_days: int | None = None,
) -> dict[str, set[str]]:
    """``{user: {key id, ...}}`` of the stale keys, for users with at least one."""
    found = {}
    for user in users:
        stale = {
            key_id
            for key_id, key in zip(ids[user.name], user.keys, strict=True)
            if reasons(key, days, rotation_days)
        }
        if stale:
            found[user.name] = stale
    return found

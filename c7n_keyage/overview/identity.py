"""Which entries are the same key: by key ID when both know it, by slot and creation time
only when one does not. Pure.

A report-only run reads the credential report, which has no key IDs: its entries name a
key by user, slot and creation time (to the second). A verified run names it by ID, and
its slot is unknown for twins (two keys of one user created in the same second, as one
Terraform apply makes them). So two entries with IDs are the same key only when the IDs are
equal; an entry without an ID joins one with an ID when the user and creation second are
the same and the slots do not differ; and once joined, a held key has an ID and a slot, so
a second entry can only join another twin: each entry pairs with one key, never two.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime

from c7n_keyage.names import REASONS
from c7n_keyage.overview.runs import Run, StaleKey


def same_key(held: StaleKey, key: StaleKey) -> bool:
    if held.access_key_id is not None and key.access_key_id is not None:
        return held.access_key_id == key.access_key_id
    if held.access_key_id is None and key.access_key_id is None:
        return (held.slot, held.created) == (key.slot, key.created) and (
            key.slot is not None or key.created is not None
        )
    slots_agree = held.slot is None or key.slot is None or held.slot == key.slot
    return key.created is not None and held.created == key.created and slots_agree


def _exact(held: StaleKey, key: StaleKey) -> bool:
    if key.access_key_id is not None:
        return held.access_key_id == key.access_key_id
    return held.access_key_id is None and same_key(held, key)


def merged(held: StaleKey, key: StaleKey) -> StaleKey:
    """The later entry's figures, with what either knows of the key, and both reasons."""
    return replace(
        key,
        access_key_id=key.access_key_id or held.access_key_id,
        slot=key.slot or held.slot,
        last_rotated=key.last_rotated or held.last_rotated,
        created=key.created or held.created,
        reasons=tuple(r for r in REASONS if r in key.reasons or r in held.reasons),
        verified=key.verified or held.verified,
        owner=key.owner or held.owner,
        team=key.team or held.team,
    )


@dataclass
class Held:
    """A key in a set: its merged entry, the run that last named it, and when."""

    key: StaleKey
    run: Run
    at: datetime
    notified: bool = False


class KeySet:
    """Keys of one account, each once, found by ``same_key``."""

    def __init__(self) -> None:
        self._by_user: dict[str, list[Held]] = {}

    def find(self, key: StaleKey) -> Held | None:
        """The held key ``key`` is: by ID first, else the first that ``same_key`` allows."""
        loose = None
        for held in self._by_user.get(key.user, ()):
            if _exact(held.key, key):
                return held
            if loose is None and same_key(held.key, key):
                loose = held
        return loose

    def put(self, key: StaleKey, run: Run) -> Held:
        held = self.find(key)
        if held is None:
            held = Held(key, run, run.started)
            self._by_user.setdefault(key.user, []).append(held)
        else:
            held.key, held.run, held.at = merged(held.key, key), run, run.started
        held.notified = held.notified or run.notifies
        return held

    def pop(self, key: StaleKey) -> Held | None:
        return self._remove(key.user, self.find(key))

    def pop_id(self, user: str, key_id: str) -> Held | None:
        """The key of this ID (a lifecycle result names a key by user and ID alone)."""
        held = self._by_user.get(user, ())
        return self._remove(user, next((h for h in held if h.key.access_key_id == key_id), None))

    def _remove(self, user: str, held: Held | None) -> Held | None:
        if held is not None:
            self._by_user[user].remove(held)
        return held

    def __iter__(self) -> Iterator[Held]:
        for held in self._by_user.values():
            yield from held

    def __len__(self) -> int:
        return sum(len(held) for held in self._by_user.values())


def ref(account: str, key: StaleKey) -> str:
    """A key's name across runs and dates, for counting each key once."""
    if key.access_key_id is not None:
        return f"{account}|{key.access_key_id}"
    return f"{account}|{key.user}|{key.slot}|{key.created}"

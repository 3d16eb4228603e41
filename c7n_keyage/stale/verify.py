"""Confirm the report's verdicts on live data before acting: live entries in, verdicts out.

The credential report screens: it is hours old on AWS and of any age elsewhere. Before a
policy acts on keys, each flagged user's keys are read live (``ListAccessKeys``,
``GetAccessKeyLastUsed``) and every ACTIVE key is judged again by the same rule
(``rule.stale_reasons``) on its live creation and last-use dates. Only keys stale by the
live data are acted on, each named by its ``AccessKeyId``; a key the report flagged but
the live data clears is dropped, with the reason. Pure: no AWS, no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from c7n_keyage.credential_report.parse import AccessKey, name_or_none
from c7n_keyage.dates import utc
from c7n_keyage.stale.rule import stale_reasons


@dataclass(frozen=True)
class LiveKey:
    """One listed key and, if it is active, its live last use.

    ``listed`` is the ``ListAccessKeys`` entry, kept whole: ``remove-keys`` reads it.
    """

    listed: dict
    last_used: datetime | None = None
    last_used_service: str | None = None
    last_used_region: str | None = None

    @property
    def key_id(self) -> str:
        return self.listed["AccessKeyId"]

    @property
    def active(self) -> bool:
        return self.listed.get("Status") == "Active"

    @property
    def created(self) -> datetime:
        return utc(self.listed["CreateDate"])


def live_key(listed: dict, last_used: dict | None = None) -> LiveKey:
    """A key from its ``ListAccessKeys`` entry and ``GetAccessKeyLastUsed``'s
    ``AccessKeyLastUsed`` (no ``LastUsedDate``: never used since tracking began)."""
    last_used = last_used or {}
    used = last_used.get("LastUsedDate")
    return LiveKey(
        listed,
        utc(used) if used is not None else None,
        name_or_none(last_used.get("ServiceName")),
        name_or_none(last_used.get("Region")),
    )


@dataclass(frozen=True)
class Stale:
    """A key stale by the live data: its identity, its live values and why."""

    live: LiveKey
    key: AccessKey  # the live values in the rule's terms; slot 0 when it cannot be known
    reasons: list[str]


@dataclass(frozen=True)
class Verdict:
    stale: list[Stale] = field(default_factory=list)
    # (a key the report flagged, why the live data clears it)
    cleared: list[tuple[AccessKey, str]] = field(default_factory=list)


def verify(
    reported: Sequence[AccessKey],
    flagged: Sequence[AccessKey],
    live: Sequence[LiveKey],
    now: datetime,
    days: int,
    rotation_days: int | None = None,
) -> Verdict:
    """Judge every active live key; say why each key the report flagged is not confirmed.

    ``reported`` is the user's report row (all slots), used only to name a live key's
    slot; ``flagged`` the keys of that row the report found stale. Keys are matched to
    report slots by creation second, never by position, and only when exactly one key on
    each side has that second: twin keys made in the same second are never told apart
    by the report, only by their IDs.
    """
    verdict = Verdict()
    for key in live:
        if not key.active:
            continue
        as_judged = AccessKey(
            _slot(key, reported, live),
            True,
            key.created,
            key.last_used,
            key.last_used_service,
            key.last_used_region,
        )
        if reasons := stale_reasons(as_judged, now, days, rotation_days):
            verdict.stale.append(Stale(key, as_judged, reasons))
    confirmed = {_second(s.live.created) for s in verdict.stale}
    for key in flagged:
        if key.last_rotated is None or _second(key.last_rotated) not in confirmed:
            verdict.cleared.append((key, _why_cleared(key, reported, live)))
    return verdict


def _slot(key: LiveKey, reported: Sequence[AccessKey], live: Sequence[LiveKey]) -> int:
    second = _second(key.created)
    slots = [
        k.slot for k in _active(reported) if k.last_rotated and _second(k.last_rotated) == second
    ]
    twins = [k for k in live if _second(k.created) == second]
    return slots[0] if len(slots) == 1 and len(twins) == 1 else 0


def _why_cleared(key: AccessKey, reported: Sequence[AccessKey], live: Sequence[LiveKey]) -> str:
    if key.last_rotated is None:
        return "the report gives no creation date to find it by; no live key is stale"
    second = _second(key.last_rotated)
    same = [k for k in live if _second(k.created) == second]
    if not same:
        return "deleted or replaced since the report"
    if (
        sum(1 for k in _active(reported) if k.last_rotated and _second(k.last_rotated) == second)
        > 1
    ):
        return (
            "it has a twin created in the same second, which the report cannot tell apart; "
            "no live key of that second is stale"
        )
    active = [k for k in same if k.active]
    if not active:
        return "disabled since the report"
    used = max((k.last_used for k in active if k.last_used is not None), default=None)
    if used is None:
        return "not stale by its live dates"
    if key.last_used is None:
        return f"first used since the report (last used {used.isoformat()})"
    return f"used since the report (last used {used.isoformat()})"


def _active(reported: Sequence[AccessKey]) -> list[AccessKey]:
    # Slots are named, and twins told, among the keys the report judged: active ones.
    return [k for k in reported if k.active]


def _second(moment: datetime) -> datetime:
    return utc(moment).replace(microsecond=0)

"""Live verdicts, as data: a user's report row and live keys in, stale keys and reasons out.

NOW is 2026-11-01T12:00Z; days 90. Each case names what changed between the report and
the live API.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from c7n_keyage.credential_report.parse import AccessKey
from c7n_keyage.stale.rule import stale_reasons
from c7n_keyage.stale.verify import LiveKey, live_key, verify

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


def ago(days: float, microsecond: int = 0) -> datetime:
    return (NOW - timedelta(days=days)).replace(microsecond=microsecond)


def reported(slot: int, created: float, used: float | None, active: bool = True) -> AccessKey:
    if not active:
        return AccessKey(slot, False)
    return AccessKey(slot, True, ago(created), None if used is None else ago(used))


def live(key_id: str, created: float, used: float | None, status: str = "Active") -> LiveKey:
    # ListAccessKeys from a local endpoint carries microseconds: still the same second.
    listed = {"AccessKeyId": key_id, "Status": status, "CreateDate": ago(created, 517000)}
    return live_key(listed, {"LastUsedDate": ago(used)} if used is not None else None)


TWIN = (
    "it has a twin created in the same second, which the report cannot tell apart; no live "
    "key of that second is stale"
)
# name: (report row, live keys, [(key id, slot, reasons)], [(report slot, why cleared)]);
# the report flagged FLAGGED[name] (slots), slot 1 when not said.
CASES = {
    "unchanged": (
        [reported(1, 400, 200)],
        [live("K1", 400, 200)],
        [("K1", 1, ["unused"])],
        [],
    ),
    "used-since": (
        [reported(1, 400, 200)],
        [live("K1", 400, 0.5)],
        [],
        [(1, "used since the report (last used 2026-11-01T00:00:00+00:00)")],
    ),
    "first-used-since": (
        [reported(1, 200, None)],
        [live("K1", 200, 1)],
        [],
        [(1, "first used since the report (last used 2026-10-31T12:00:00+00:00)")],
    ),
    "disabled-since": (
        [reported(1, 400, 200)],
        [live("K1", 400, 200, "Inactive")],
        [],
        [(1, "disabled since the report")],
    ),
    "deleted-since": (
        [reported(1, 400, 200)],
        [],
        [],
        [(1, "deleted or replaced since the report")],
    ),
    "rotated-since": (
        [reported(1, 400, 200)],
        [live("K2", 0.1, None)],
        [],
        [(1, "deleted or replaced since the report")],
    ),
    # The report's slot 1 is the newer key; its slot 2 went stale. Slots follow dates.
    "slot-1-newer": (
        [reported(1, 20, 2), reported(2, 300, 150)],
        [live("K1", 20, 2), live("K2", 300, 150)],
        [("K2", 2, ["unused"])],
        [],
    ),
    # A key not flagged by the report (it was fresh) that went stale since: judged too.
    "other-key-stale-now": (
        [reported(1, 300, 150), reported(2, 100, 89.99)],
        [live("K1", 300, 150), live("K2", 100, 90.01)],
        [("K1", 1, ["unused"]), ("K2", 2, ["unused"])],
        [],
    ),
    # Twins: same second, one used yesterday, one never; never told apart by slot.
    "twins-unchanged": (
        [reported(1, 200, 1), reported(2, 200, None)],
        [live("T1", 200, 1), live("T2", 200, None)],
        [("T2", 0, ["never-used"])],
        [],
    ),
    "twin-deleted": (
        [reported(1, 200, 1), reported(2, 200, None)],
        [live("T1", 200, 1)],
        [],
        [(2, TWIN)],
    ),
    "twin-deactivated": (
        [reported(1, 200, 1), reported(2, 200, None)],
        [live("T1", 200, 1), live("T2", 200, None, "Inactive")],
        [],
        [(2, TWIN)],
    ),
    # Inactive in the report, active now and stale: judged on the live data.
    "reactivated": (
        [reported(1, 0, None, active=False)],
        [live("K1", 300, 200)],
        [("K1", 0, ["unused"])],
        [],
    ),
    # Listed first, a key disabled since the report does not hide the stale key after it.
    "disabled-listed-first": (
        [reported(1, 300, 150), reported(2, 400, 200)],
        [live("K1", 300, 150, "Inactive"), live("K2", 400, 200)],
        [("K2", 2, ["unused"])],
        [(1, "disabled since the report")],
    ),
    "report-gives-no-creation-date": (
        [AccessKey(1, True, None, ago(200))],
        [live("K1", 300, 200)],
        [("K1", 0, ["unused"])],
        [(1, "the report gives no creation date to find it by; no live key is stale")],
    ),
}


FLAGGED = {
    "disabled-listed-first": [1, 2],
    "slot-1-newer": [2],
    "other-key-stale-now": [1],
    "twins-unchanged": [2],
    "twin-deleted": [2],
    "twin-deactivated": [2],
    "reactivated": [],
}


@pytest.mark.parametrize("name", CASES)
def test_live_verdicts(name):
    row, keys, stale, cleared = CASES[name]
    flagged = [key for key in row if key.slot in FLAGGED.get(name, [1])]
    verdict = verify(row, flagged, keys, NOW, 90)
    assert [(s.live.key_id, s.key.slot, s.reasons) for s in verdict.stale] == stale
    assert [(key.slot, why) for key, why in verdict.cleared] == cleared


def test_only_flagged_report_keys_are_explained():
    row = [reported(1, 20, 2), reported(2, 300, 150)]
    verdict = verify(row, [row[1]], [live("K1", 20, 2), live("K2", 300, 1)], NOW, 90)
    assert verdict.stale == []
    assert [(key.slot, why) for key, why in verdict.cleared] == [
        (2, "used since the report (last used 2026-10-31T12:00:00+00:00)")
    ]


def test_stale_keys_carry_the_live_values():
    listed = {"AccessKeyId": "K1", "Status": "Active", "CreateDate": ago(400, 517000)}
    used = {"LastUsedDate": ago(200), "ServiceName": "iam", "Region": "eu-west-1"}
    (stale,) = verify([reported(1, 400, 200)], [], [live_key(listed, used)], NOW, 90).stale
    assert stale.key == AccessKey(1, True, ago(400, 517000), ago(200), "iam", "eu-west-1")
    assert stale.live.listed["AccessKeyId"] == "K1"


def test_a_key_stale_by_the_reports_second_may_not_be_by_its_live_microseconds():
    # The clock reads 12:00:00.25. The report says created 2026-08-03T12:00:00, 90 days and
    # 0.25 s ago: stale. Live, it was created at 12:00:00.517: not 90 days ago yet.
    now = NOW + timedelta(seconds=0.25)
    row = [reported(1, 90, None)]
    assert stale_reasons(row[0], now, 90) == ["never-used"]
    verdict = verify(row, row, [live("K1", 90, None)], now, 90)
    assert verdict.stale == []
    assert [(key.slot, why) for key, why in verdict.cleared] == [(1, "not stale by its live dates")]


def test_live_dates_are_utc_whatever_the_machine_zone(zone_elsewhere):
    elsewhere = timezone(timedelta(hours=2))
    listed = {
        "AccessKeyId": "K",
        "Status": "Active",
        "CreateDate": datetime(2026, 1, 1, 14, tzinfo=elsewhere),
    }
    key = live_key(listed, {"LastUsedDate": datetime(2026, 3, 1)})
    assert (key.created.isoformat(), key.last_used.isoformat()) == (
        "2026-01-01T12:00:00+00:00",
        "2026-03-01T00:00:00+00:00",
    )


def test_rotation_days_apply_live():
    verdict = verify([], [], [live("K1", 400, 1)], NOW, 90, rotation_days=365)
    assert [(s.live.key_id, s.reasons) for s in verdict.stale] == [("K1", ["unrotated"])]


@pytest.mark.parametrize(
    "answer, expected",
    [
        ({"ServiceName": "N/A", "Region": "N/A"}, (None, None, None)),
        (
            {"LastUsedDate": datetime(2026, 1, 1), "ServiceName": "s3", "Region": "eu-west-1"},
            (datetime(2026, 1, 1, tzinfo=timezone.utc), "s3", "eu-west-1"),
        ),
        (None, (None, None, None)),
        (
            {"LastUsedDate": datetime(2026, 1, 1, 2, tzinfo=timezone(timedelta(hours=2)))},
            (datetime(2026, 1, 1, tzinfo=timezone.utc), None, None),
        ),
    ],
    ids=["never-used", "used-naive-date", "not-read", "used-date-in-another-offset"],
)
def test_live_key_from_get_access_key_last_used(answer, expected):
    key = live_key({"AccessKeyId": "K", "Status": "Active", "CreateDate": NOW}, answer)
    assert (key.last_used, key.last_used_service, key.last_used_region) == expected

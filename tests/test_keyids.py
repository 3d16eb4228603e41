"""Joining flagged report keys to ListAccessKeys entries, by creation second."""

from __future__ import annotations

from datetime import datetime, timezone

from c7n_keyage.keyids import identify
from c7n_keyage.report import AccessKey

UTC = timezone.utc
OLD = datetime(2025, 1, 5, 12, 0, 0, tzinfo=UTC)
NEW = datetime(2026, 10, 12, 12, 0, 0, tzinfo=UTC)


def listed(key_id: str, created: datetime, status: str = "Active") -> dict:
    return {"UserName": "u", "AccessKeyId": key_id, "Status": status, "CreateDate": created}


def test_sub_second_create_dates_join_to_the_report_second():
    keys = [
        listed("NEW", NEW.replace(microsecond=999999)),
        listed("OLD", OLD.replace(microsecond=1)),
    ]
    # Slot 2 is the older key: the join is by date, never by position.
    found, gone = identify([AccessKey(2, True, OLD)], keys)
    assert {slot: entry["AccessKeyId"] for slot, entry in found.items()} == {2: "OLD"}
    assert gone == set()


def test_naive_create_dates_are_read_as_utc():
    found, _ = identify([AccessKey(1, True, NEW)], [listed("NEW", NEW.replace(tzinfo=None))])
    assert found[1]["AccessKeyId"] == "NEW"


def test_keys_changed_since_the_report_are_gone():
    flagged = [AccessKey(1, True, OLD), AccessKey(2, True, NEW)]
    # OLD was disabled since the report, NEW was deleted and replaced by a newer key.
    keys = [listed("OLD", OLD, "Inactive"), listed("REPLACEMENT", NEW.replace(second=1))]
    assert identify(flagged, keys) == ({}, {1, 2})
    assert identify(flagged, []) == ({}, {1, 2})


def test_ambiguous_and_unknown_dates_are_neither_found_nor_gone():
    twins = [listed("A", OLD.replace(microsecond=1)), listed("B", OLD.replace(microsecond=2))]
    assert identify([AccessKey(1, True, OLD)], twins) == ({}, set())
    assert identify([AccessKey(1, True, None)], [listed("A", OLD)]) == ({}, set())

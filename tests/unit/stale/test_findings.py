"""The annotation entries written for flagged keys."""

from __future__ import annotations

from datetime import datetime, timezone

from c7n_keyage.credential_report.parse import UNREADABLE, AccessKey
from c7n_keyage.stale.findings import access_entry, credential_entry, unused_key, verified_key
from c7n_keyage.stale.verify import Stale, live_key

NOW = datetime(2026, 11, 1, 12, 0, 0, tzinfo=timezone.utc)


def test_unused_key_reports_whole_days_and_none_for_unknowns():
    key = AccessKey(2, True, datetime(2026, 1, 5, 13, tzinfo=timezone.utc), None, None, None)
    assert unused_key(key, ["never-used"], NOW) == {
        "slot": 2,
        "last_rotated": "2026-01-05T13:00:00+00:00",
        "last_used_date": None,
        "last_used_service": None,
        "last_used_region": None,
        "reasons": ["never-used"],
        "days_since_use": None,
        # 299 days and 23 hours: whole days, rounded down.
        "days_since_rotation": 299,
        "verified": False,
    }


def test_future_dates_are_zero_days_and_unreadable_dates_are_none():
    key = AccessKey(1, True, datetime(3000, 1, 1, tzinfo=timezone.utc), UNREADABLE)
    entry = unused_key(key, ["unrotated"], NOW)
    assert (entry["days_since_rotation"], entry["days_since_use"], entry["last_used_date"]) == (
        0,
        None,
        None,
    )


def test_matched_entries_follow_remove_keys_contract():
    listed = {"AccessKeyId": "AKIAEXAMPLE", "UserName": "u", "Status": "Active"}
    assert access_entry(listed) == dict(listed, **{"c7n:match-type": "access"})
    assert "c7n:match-type" not in listed
    key = AccessKey(1, True, NOW, NOW, "s3", "us-east-1")
    assert credential_entry(key) == {
        "active": True,
        "last_rotated": "2026-11-01T12:00:00+00:00",
        "last_used_date": "2026-11-01T12:00:00+00:00",
        "last_used_region": "us-east-1",
        "last_used_service": "s3",
        "c7n:match-type": "credential",
    }


def test_verified_key_names_the_key_and_says_it_was_checked_live():
    listed = {"AccessKeyId": "AKIALIVE", "Status": "Active", "CreateDate": NOW}
    live = live_key(listed, {"LastUsedDate": datetime(2026, 6, 1, tzinfo=timezone.utc)})
    key = AccessKey(0, True, datetime(2025, 1, 1, tzinfo=timezone.utc), live.last_used, "s3")
    assert verified_key(Stale(live, key, ["unused"]), NOW) == {
        # Slot 0: the report cannot tell which slot the key is (twins).
        "slot": None,
        "last_rotated": "2025-01-01T00:00:00+00:00",
        "last_used_date": "2026-06-01T00:00:00+00:00",
        "last_used_service": "s3",
        "last_used_region": None,
        "reasons": ["unused"],
        "days_since_use": 153,
        "days_since_rotation": 669,
        "verified": True,
        "access_key_id": "AKIALIVE",
    }


def test_credential_entry_of_an_unreadable_last_use_has_no_date():
    key = AccessKey(2, True, NOW, UNREADABLE)
    assert credential_entry(key)["last_used_date"] is None

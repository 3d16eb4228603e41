"""The key lifecycle's placebo scenarios (``python -m tests.support.placebo_lifecycle``
writes them).

One account of users with retirement records in every state the issue names: retired long
ago and due, retired recently (within the grace), re-enabled by hand, deleted by hand, used
while retired, records that cannot be trusted, a user with no record, and two records made
today by two policies (an incident restore). Each scenario answers the retired-keys
filter's reads (``ListUserTags`` per user; ``ListAccessKeys`` and one
``GetAccessKeyLastUsed`` per recorded key that exists, for users with records), then the
action's calls.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from c7n_keyage.lifecycle.record import Seen, format_record
from tests.support.placebo_fixtures import (
    FLAGGED_USERS,
    NOW,
    USERS,
    FixtureDir,
    add_users,
    credential_report,
    days_ago,
    error,
    list_access_keys,
    ok,
    report_csv,
    report_row,
    standard,
    with_listed_keys,
)

POLICY = "iam-retire-stale-keys"
# A key of bob-stale's deleted by hand, its record left.
GONE_KEY = "AKIAEXAMPLEBOBGONE01"


def record(key_id: str, when: datetime, saw: float | None, policy: str = POLICY) -> dict:
    """The record of ``key_id``, retired at ``when`` having seen it last used ``saw`` days
    ago (None: never)."""
    key, value = format_record(key_id, when, policy, Seen(None if saw is None else days_ago(saw)))
    return {"Key": key, "Value": value}


def _key(key_id: str, created: float, used: float | None, active: bool) -> dict:
    return {
        "id": key_id,
        "created": days_ago(created),
        "used": None if used is None else days_ago(used),
        "active": active,
    }


# user -> (tags, live keys); each record saw the last use its key has now, but ret-used's.
LIFECYCLE = {
    "ret-due": (
        [record("AKIALIFEDUE000000001", days_ago(40), 200)],
        [_key("AKIALIFEDUE000000001", 400, 200, False)],
    ),
    "ret-recent": (
        [record("AKIALIFERECENT000001", days_ago(10), 150), {"Key": "team", "Value": "data"}],
        [_key("AKIALIFERECENT000001", 400, 150, False)],
    ),
    "ret-reenabled": (
        [record("AKIALIFEREENABLED001", days_ago(40), 200)],
        [_key("AKIALIFEREENABLED001", 400, 1, True)],
    ),
    "ret-gone": (
        [record("AKIALIFEGONE00000001", days_ago(40), None)],
        [_key("AKIALIFEGONE00000002", 5, None, True)],
    ),
    "ret-used": (
        [record("AKIALIFEUSED00000001", days_ago(40), 200)],
        [_key("AKIALIFEUSED00000001", 400, 20, False)],
    ),
    "ret-untrusted": (
        [
            {"Key": "c7n-keyage:retired:AKIALIFEFUTURE000001", "Value": "2999-01-01T00:00:00Z x"},
            {"Key": "c7n-keyage:retired:AKIALIFEGARBAGE00001", "Value": "yesterday x"},
        ],
        [
            _key("AKIALIFEFUTURE000001", 400, 200, False),
            _key("AKIALIFEGARBAGE00001", 400, 200, False),
        ],
    ),
    "ret-none": ([{"Key": "team", "Value": "web"}], [_key("AKIALIFENONE00000001", 9, 1, True)]),
    "ret-today": (
        [
            record("AKIALIFETODAY0000001", NOW - timedelta(hours=2), 100),
            record("AKIALIFETODAY0000002", NOW - timedelta(hours=3), 100, "another-policy"),
        ],
        [
            _key("AKIALIFETODAY0000001", 300, 100, False),
            _key("AKIALIFETODAY0000002", 300, 100, False),
        ],
    ),
}


def list_keys(user: str, keys: list[dict]) -> dict:
    return ok(
        {
            "AccessKeyMetadata": [
                {
                    "UserName": user,
                    "AccessKeyId": k["id"],
                    "Status": "Active" if k["active"] else "Inactive",
                    "CreateDate": k["created"],
                }
                for k in keys
            ],
            "IsTruncated": False,
        }
    )


def last_used(key: dict) -> dict:
    detail = (
        {"LastUsedDate": key["used"], "ServiceName": "s3", "Region": "us-east-1"}
        if key["used"]
        else {"ServiceName": "N/A", "Region": "N/A"}
    )
    return ok({"UserName": "", "AccessKeyLastUsed": detail})


def recorded(user: str) -> list[str]:
    """The key IDs of the user's well-formed records."""
    return [
        t["Key"].rsplit(":", 1)[1]
        for t in LIFECYCLE[user][0]
        if t["Key"].startswith("c7n-keyage:retired:") and t["Value"][:4] == "2026"
    ]


def read_records(fixtures: FixtureDir, user: str, tags=None, keys=None) -> FixtureDir:
    """The retired-keys filter's reads of one user."""
    tags = LIFECYCLE[user][0] if tags is None else tags
    keys = LIFECYCLE[user][1] if keys is None else keys
    fixtures.add("iam", "ListUserTags", ok({"Tags": tags, "IsTruncated": False}))
    ids = recorded(user)
    if ids:
        fixtures.add("iam", "ListAccessKeys", list_keys(user, keys))
        for key in keys:
            if key["id"] in ids:
                fixtures.add("iam", "GetAccessKeyLastUsed", last_used(key))
    return fixtures


def lifecycle_account(name: str) -> FixtureDir:
    fixtures = add_users(FixtureDir(name), list(LIFECYCLE))
    for user in LIFECYCLE:
        read_records(fixtures, user)
    return fixtures


def calls(fixtures: FixtureDir, *operations: str) -> FixtureDir:
    for operation in operations:
        fixtures.add("iam", operation, ok({}))
    return fixtures


def denied(operation: str) -> dict:
    return error(403, "AccessDenied", f"not authorized to perform: iam:{operation}")


def busy() -> dict:
    return error(409, "EntityTemporarilyUnmodifiable", "the entity is being changed")


def lifecycle_fixtures() -> list[FixtureDir]:
    return action_fixtures() + denial_fixtures() + unreadable_fixtures()


def action_fixtures() -> list[FixtureDir]:
    """Retire (and its failures between the two calls), delete, restore."""
    retire = with_listed_keys(standard("test_retire_keys_records_then_disables"))
    for _ in FLAGGED_USERS:
        calls(retire, "TagUser", "UpdateAccessKey").add("iam", "ListUserTags", no_tags())
    return [retire, *retire_failure_fixtures(), *record_action_fixtures()]


def no_tags(*tags: dict) -> dict:
    return ok({"Tags": list(tags), "IsTruncated": False})


def service_failure() -> dict:
    return error(500, "ServiceFailure", "the request failed (its effect is unknown)")


def retire_failure_fixtures() -> list[FixtureDir]:
    """Failures between retire-keys' calls, and records of keys gone."""
    # bob: recording denied (the record is taken back all the same); dave: disabling fails,
    # the key reads Active, the record is taken back; erin: the same, and taking the record
    # back fails too.
    failing = with_listed_keys(standard("test_retire_keys_failures_leave_no_half_state"))
    failing.add("iam", "TagUser", denied("TagUser"))
    calls(failing, "UntagUser").add("iam", "ListUserTags", no_tags())
    calls(failing, "TagUser").add("iam", "UpdateAccessKey", busy())
    failing.add("iam", "ListAccessKeys", list_access_keys("dave-abandoned"))
    calls(failing, "UntagUser").add("iam", "ListUserTags", no_tags())
    calls(failing, "TagUser").add("iam", "UpdateAccessKey", busy())
    failing.add("iam", "ListAccessKeys", list_access_keys("erin-two-keys"))
    failing.add("iam", "UntagUser", denied("UntagUser")).add("iam", "ListUserTags", no_tags())

    # bob: the disabling took effect, its answer lost: the key reads Inactive; bob also holds
    # the record of a key gone. dave: disabling fails and the key cannot be read: the record
    # stays. erin: TagUser's answer is lost: the record is taken back.
    lost = with_listed_keys(standard("test_retire_keys_looks_before_taking_a_record_back"))
    calls(lost, "TagUser").add("iam", "UpdateAccessKey", service_failure())
    bob = [{**k, "active": False} for k in USERS["bob-stale"]]
    lost.add("iam", "ListAccessKeys", list_access_keys("bob-stale", bob))
    gone = record(GONE_KEY, days_ago(5), None)
    calls(lost.add("iam", "ListUserTags", no_tags(gone)), "UntagUser")
    calls(lost, "TagUser").add("iam", "UpdateAccessKey", service_failure())
    lost.add("iam", "ListAccessKeys", service_failure()).add("iam", "ListUserTags", no_tags())
    lost.add("iam", "TagUser", service_failure())
    calls(lost, "UntagUser").add("iam", "ListUserTags", no_tags())
    return [failing, lost]


def record_action_fixtures() -> list[FixtureDir]:
    """Delete, restore, and restores that choose records by policy and by user."""
    delete = lifecycle_account("test_delete_retired_keys_after_grace")
    # ret-due deleted; ret-reenabled and ret-gone: records removed; ret-used kept.
    calls(delete, "DeleteAccessKey", "UntagUser", "UntagUser", "UntagUser")

    restore = lifecycle_account("test_restore_keys")
    calls(restore, *["UpdateAccessKey", "UntagUser"] * 2, "UntagUser", "UntagUser")
    calls(restore, *["UpdateAccessKey", "UntagUser"] * 3)

    incident = lifecycle_account("test_incident_restore_one_policy_last_day")
    calls(incident, "UpdateAccessKey", "UntagUser")

    # Every record, and an or: of another policy's records and a user tagged team=data:
    # ret-recent's record (its user is tagged) and ret-today's second (another-policy's).
    per_record = lifecycle_account("test_restore_chooses_each_record_by_its_own_filters")
    calls(per_record, *["UpdateAccessKey", "UntagUser"] * 2)

    return [delete, restore, incident, per_record]


def denial_fixtures() -> list[FixtureDir]:
    """Reads and writes denied for some users, and the report source."""
    # ListUserTags denied for two users: the others are read and acted on.
    some_denied = add_users(FixtureDir("test_denied_tags_of_some_users"), list(LIFECYCLE))
    for user in LIFECYCLE:
        if user in ("ret-recent", "ret-none"):
            some_denied.add("iam", "ListUserTags", denied("ListUserTags"))
        else:
            read_records(some_denied, user)
    calls(some_denied, "DeleteAccessKey", "UntagUser", "UntagUser", "UntagUser")

    all_denied = add_users(FixtureDir("test_denied_tags_of_every_user"), ["ret-due", "ret-none"])
    all_denied.add("iam", "ListUserTags", denied("ListUserTags"))
    all_denied.add("iam", "ListUserTags", denied("ListUserTags"))

    # Restore: re-enabling ret-due works but removing its record is denied; ret-recent's
    # re-enabling fails; the rest go on.
    untag_denied = lifecycle_account("test_restore_when_untagging_is_denied")
    calls(untag_denied, "UpdateAccessKey").add("iam", "UntagUser", denied("UntagUser"))
    untag_denied.add("iam", "UpdateAccessKey", busy())
    calls(untag_denied, "UntagUser", "UntagUser", "UpdateAccessKey", "UntagUser")
    calls(untag_denied, *["UpdateAccessKey", "UntagUser"] * 2)

    # On the report source: only users with an inactive key in the report are read.
    report = report_csv(
        [
            report_row("ret-due", [{**LIFECYCLE["ret-due"][1][0], "active": False}]),
            report_row("ret-none", LIFECYCLE["ret-none"][1]),
            report_row("no-keys", []),
        ]
    )
    on_report = FixtureDir("test_delete_on_the_report_source")
    on_report.add("iam", "GetCredentialReport", credential_report(report))
    read_records(on_report, "ret-due")
    calls(on_report, "DeleteAccessKey", "UntagUser")
    return [some_denied, all_denied, untag_denied, on_report]


def reads_failing(name: str, answer: dict) -> FixtureDir:
    """ret-due, whose recorded key's last use is answered with ``answer``, and ret-reenabled,
    read as usual (its key is active again: its record is removed)."""
    fixtures = add_users(FixtureDir(name), ["ret-due", "ret-reenabled"])
    fixtures.add("iam", "ListUserTags", ok({"Tags": LIFECYCLE["ret-due"][0], "IsTruncated": False}))
    fixtures.add("iam", "ListAccessKeys", list_keys("ret-due", LIFECYCLE["ret-due"][1]))
    fixtures.add("iam", "GetAccessKeyLastUsed", answer)
    return read_records(fixtures, "ret-reenabled")


def unreadable_fixtures() -> list[FixtureDir]:
    """A recorded key's last use that cannot be read, or is denied; a record that cannot
    be removed."""
    failing = reads_failing(
        "test_a_key_whose_last_use_cannot_be_read_is_never_deleted",
        error(500, "ServiceFailure", "the request failed"),
    )
    calls(failing, "UntagUser")
    some = reads_failing("test_denied_last_use_of_some_users", denied("GetAccessKeyLastUsed"))
    calls(some, "UntagUser")
    every = add_users(FixtureDir("test_denied_last_use_of_every_user"), ["ret-due"])
    every.add("iam", "ListUserTags", ok({"Tags": LIFECYCLE["ret-due"][0], "IsTruncated": False}))
    every.add("iam", "ListAccessKeys", list_keys("ret-due", LIFECYCLE["ret-due"][1]))
    every.add("iam", "GetAccessKeyLastUsed", denied("GetAccessKeyLastUsed"))
    # ret-gone's record cannot be removed (its key is gone).
    stuck = add_users(FixtureDir("test_a_record_that_cannot_be_removed_is_failed"), ["ret-gone"])
    read_records(stuck, "ret-gone").add("iam", "UntagUser", denied("UntagUser"))
    return [failing, some, every, stuck]


def main() -> None:
    from tests.support.placebo_fixtures import write_all

    write_all(lifecycle_fixtures())


if __name__ == "__main__":
    main()

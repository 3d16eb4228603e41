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

from c7n_keyage.lifecycle.record import format_record
from tests.support.placebo_fixtures import (
    FLAGGED_USERS,
    NOW,
    FixtureDir,
    add_users,
    credential_report,
    days_ago,
    error,
    ok,
    report_csv,
    report_row,
    standard,
    with_listed_keys,
)

POLICY = "iam-retire-stale-keys"


def record(key_id: str, when: datetime, policy: str = POLICY) -> dict:
    key, value = format_record(key_id, when, policy)
    return {"Key": key, "Value": value}


def _key(key_id: str, created: float, used: float | None, active: bool) -> dict:
    return {
        "id": key_id,
        "created": days_ago(created),
        "used": None if used is None else days_ago(used),
        "active": active,
    }


# user -> (tags, live keys)
LIFECYCLE = {
    "ret-due": (
        [record("AKIALIFEDUE000000001", days_ago(40))],
        [_key("AKIALIFEDUE000000001", 400, 200, False)],
    ),
    "ret-recent": (
        [record("AKIALIFERECENT000001", days_ago(10)), {"Key": "team", "Value": "data"}],
        [_key("AKIALIFERECENT000001", 400, 150, False)],
    ),
    "ret-reenabled": (
        [record("AKIALIFEREENABLED001", days_ago(40))],
        [_key("AKIALIFEREENABLED001", 400, 1, True)],
    ),
    "ret-gone": (
        [record("AKIALIFEGONE00000001", days_ago(40))],
        [_key("AKIALIFEGONE00000002", 5, None, True)],
    ),
    "ret-used": (
        [record("AKIALIFEUSED00000001", days_ago(40))],
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
            record("AKIALIFETODAY0000001", NOW - timedelta(hours=2)),
            record("AKIALIFETODAY0000002", NOW - timedelta(hours=3), "another-policy"),
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
    return action_fixtures() + denial_fixtures()


def action_fixtures() -> list[FixtureDir]:
    """Retire (and its failures between the two calls), delete, restore."""
    retire = with_listed_keys(standard("test_retire_keys_records_then_disables"))
    calls(retire, *["TagUser", "UpdateAccessKey"] * len(FLAGGED_USERS))
    # bob: recording denied; dave: disabling fails, the record is taken back; erin: disabling
    # fails and taking the record back fails too.
    failing = with_listed_keys(standard("test_retire_keys_failures_leave_no_half_state"))
    failing.add("iam", "TagUser", denied("TagUser"))
    calls(failing, "TagUser").add("iam", "UpdateAccessKey", busy())
    calls(failing, "UntagUser", "TagUser").add("iam", "UpdateAccessKey", busy())
    failing.add("iam", "UntagUser", denied("UntagUser"))

    delete = lifecycle_account("test_delete_retired_keys_after_grace")
    # ret-due deleted; ret-reenabled and ret-gone: records removed; ret-used kept.
    calls(delete, "DeleteAccessKey", "UntagUser", "UntagUser", "UntagUser")

    restore = lifecycle_account("test_restore_keys")
    calls(restore, *["UpdateAccessKey", "UntagUser"] * 2, "UntagUser", "UntagUser")
    calls(restore, *["UpdateAccessKey", "UntagUser"] * 3)

    incident = lifecycle_account("test_incident_restore_one_policy_last_day")
    calls(incident, "UpdateAccessKey", "UntagUser")

    return [retire, failing, delete, restore, incident]


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


def main() -> None:
    from tests.support.placebo_fixtures import write_all

    write_all(lifecycle_fixtures())


if __name__ == "__main__":
    main()

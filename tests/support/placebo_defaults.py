"""Placebo fixtures for ``tests/placebo/stale/test_defaults_and_root.py``: the default
``days``, where the root row sits in the report, a report without one, and a report that
cannot be read.

Written by ``python -m tests.support.placebo_defaults`` into
``tests/data/placebo/<test_name>/`` and committed; ``tests/repo/test_placebo_fixtures.py``
checks they are still what this module writes.
Built from the shared writer in ``placebo_fixtures.py``, at its frozen NOW.
"""

from __future__ import annotations

from datetime import timedelta

from tests.support.placebo_fixtures import (
    FixtureDir,
    add_users,
    credential_report,
    days_ago,
    error,
    ok,
    report_csv,
    report_row,
    write_all,
)

ROOT = "<root_account>"
CREATED = days_ago(400)

# One active key each, around both the default (90) and the value it must not be (120).
DEFAULT_DAYS_USERS = {
    "used-89-days": {"created": CREATED, "used": days_ago(89)},
    "used-exactly-90-days": {"created": CREATED, "used": days_ago(90)},
    "used-90-days-and-1s": {"created": CREATED, "used": days_ago(90) - timedelta(seconds=1)},
    "used-91-days": {"created": CREATED, "used": days_ago(91)},
    "used-119-days": {"created": CREATED, "used": days_ago(119)},
    "used-121-days": {"created": CREATED, "used": days_ago(121)},
    "never-used-created-exactly-90-days": {"created": days_ago(90), "used": None},
    "never-used-created-91-days": {"created": days_ago(91), "used": None},
}
FRESH = {"created": CREATED, "used": days_ago(1)}
STALE = {"created": days_ago(300), "used": days_ago(200)}
# Stale at the default 90 days, fresh at 120: the root key of the "root is stale" report.
ROOT_100_DAYS = {"created": days_ago(500), "used": days_ago(100)}


def account(name: str, rows: list[str]) -> FixtureDir:
    """An ``account`` policy's calls: the alias, then the report."""
    return (
        FixtureDir(name)
        .add("iam", "ListAccountAliases", ok({"AccountAliases": ["example-prod"]}))
        .add("iam", "GetCredentialReport", credential_report(report_csv(rows)))
    )


def users(name: str, rows: dict[str, list[dict | None]]) -> FixtureDir:
    """An ``iam-user`` policy's calls: the users, then a report with one row each."""
    fixtures = add_users(FixtureDir(name), list(rows))
    report = report_csv([report_row(user, keys) for user, keys in rows.items()])
    return fixtures.add("iam", "GetCredentialReport", credential_report(report))


def all_fixtures() -> list[FixtureDir]:
    return [
        users(
            "test_default_days_is_90",
            {user: [key] for user, key in DEFAULT_DAYS_USERS.items()},
        ),
        # The first row's user is stale, root (second) is fresh: the account must not match.
        account(
            "test_account_judges_root_not_the_first_row",
            [
                report_row("stale-first", [STALE]),
                report_row(ROOT, [FRESH]),
                report_row("stale-third", [STALE]),
            ],
        ),
        # The first row's user is fresh, root (second) is stale in its slot 2.
        account(
            "test_account_judges_root_when_it_is_not_first",
            [
                report_row("fresh-first", [FRESH]),
                report_row(ROOT, [None, ROOT_100_DAYS]),
            ],
        ),
        # No root row at all (moto's reports have none), beside stale users.
        account(
            "test_account_without_root_row_matches_nothing",
            [report_row("stale-first", [STALE]), report_row("stale-second", [STALE])],
        ),
        users("test_gc_restored_after_the_user_filter", {"stale": [STALE], "fresh": [FRESH]}),
        add_users(FixtureDir("test_gc_restored_when_the_report_fails"), ["stale"]).add(
            "iam",
            "GetCredentialReport",
            error(403, "AccessDenied", "not authorized to perform: iam:GetCredentialReport"),
        ),
    ]


def main() -> None:
    write_all(all_fixtures())


if __name__ == "__main__":
    main()

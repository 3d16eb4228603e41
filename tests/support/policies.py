"""The policies several tests run on the standard account, and the calls they make there.

The standard account is ``placebo_fixtures.py``'s; the lifecycle's policy name is
``placebo_lifecycle.POLICY``, which its recorded tags carry.
"""

from __future__ import annotations

from tests.support.placebo_lifecycle import POLICY

USER_POLICY = {
    "name": "stale-keys",
    "resource": "iam-user",
    "filters": [{"type": "access-key-unused", "days": 90}],
}
REPORT_CALLS = ["ListUsers"] + ["GetUser"] * 8 + ["GetCredentialReport"]
LIVE_CALLS = (
    ["ListAccessKeys", "GetAccessKeyLastUsed"] * 2
    + ["ListAccessKeys"]
    + ["GetAccessKeyLastUsed"] * 2
)

RETIRE = dict(USER_POLICY, name=POLICY, actions=[{"type": "retire-keys"}])
DELETE = {
    "name": "iam-delete-retired-keys",
    "resource": "iam-user",
    "filters": [{"type": "retired-keys", "days": 30}],
    "actions": [{"type": "delete-retired-keys"}],
}
RESTORE = {
    "name": "iam-restore-retired-keys",
    "resource": "iam-user",
    "filters": [{"type": "retired-keys"}],
    "actions": [{"type": "restore-keys"}],
}


def names(resources):
    return [r["UserName"] for r in resources]


def disable_policy(**action):
    return dict(
        USER_POLICY,
        actions=[dict({"type": "remove-keys", "matched": True}, **action)],
    )


# Filter options both validations refuse (the stock JSON schema and the filter's own
# validate(), which c7n-org, Lambda and --skip-validation rely on): (option, value, message).
BAD_OPTIONS = [
    ("days", 0, "0 is less than the minimum of 1"),
    ("days", -3, "-3 is less than the minimum of 1"),
    ("days", "ninety", "'ninety' is not of type 'integer'"),
    ("days", True, "True is not of type 'integer'"),
    ("rotation-days", 0, "0 is less than the minimum of 1"),
    ("report_timeout", -1, "-1 is less than the minimum of 0"),
    ("report_generate", "yes", "'yes' is not of type 'boolean'"),
    ("dayz", 9, "'dayz' was unexpected"),
    ("days", 1_000_000_000, "1000000000 is greater than the maximum of 36500"),
    ("report_max_age", 1e11, "100000000000.0 is greater than the maximum of 31536000"),
    ("report_max_age", float("inf"), "inf is greater than the maximum of 31536000"),
]


def bad_policy(option: str, value) -> dict:
    """A policy whose filter sets ``option`` to ``value``."""
    return {
        "name": "bad",
        "resource": "iam-user",
        "filters": [{"type": "access-key-unused", option: value}],
    }

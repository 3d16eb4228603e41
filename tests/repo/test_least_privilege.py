"""The shipped IAM policy grants exactly what the sample policies need, and no more."""

from __future__ import annotations

import json

import yaml
from c7n import policy as c7n_policy
from c7n.config import Config

from tests.support.paths import REPO

DOCUMENT = json.loads((REPO / "docs" / "least-privilege-policy.json").read_text())
# c7n's post-finding tags each resource with its finding ID, but does not declare it.
UNDECLARED_BY_C7N = {"iam:TagUser"}


def lifecycle() -> set[str]:
    """What the key lifecycle's filter and actions declare (samples may not use them all)."""
    from c7n.resources.iam import User

    perms = set(User.filter_registry.get("retired-keys").permissions)
    for name in ("retire-keys", "restore-keys", "delete-retired-keys"):
        perms |= set(User.action_registry.get(name).permissions)
    return perms


def granted() -> set[str]:
    return {action for statement in DOCUMENT["Statement"] for action in statement["Action"]}


def needed() -> set[str]:
    perms: set[str] = set()
    for path in sorted((REPO / "policies").glob("*.yml")):
        for loaded in c7n_policy.load(Config.empty(), str(path)):
            perms |= set(loaded.get_permissions())
    return perms


def test_grants_exactly_the_sample_policies_and_the_lifecycles_permissions():
    assert lifecycle() == {
        "iam:ListUserTags",
        "iam:ListAccessKeys",
        "iam:GetAccessKeyLastUsed",
        "iam:TagUser",
        "iam:UntagUser",
        "iam:UpdateAccessKey",
        "iam:DeleteAccessKey",
    }
    assert granted() == needed() | UNDECLARED_BY_C7N | lifecycle()


def test_is_allow_only_and_scopes_user_actions_to_users():
    assert DOCUMENT["Version"] == "2012-10-17"
    assert [s["Effect"] for s in DOCUMENT["Statement"]] == ["Allow"] * len(DOCUMENT["Statement"])
    on_users = [
        statement
        for statement in DOCUMENT["Statement"]
        if any(
            a.endswith(("AccessKey", "AccessKeys", "AccessKeyLastUsed", "TagUser", "GetUser"))
            for a in statement["Action"]
        )
    ]
    assert on_users, "no statement grants the user actions: nothing was checked"
    assert {s["Sid"]: s["Resource"] for s in on_users} == {
        s["Sid"]: "arn:aws:iam::*:user/*" for s in on_users
    }


def test_queue_grant_matches_the_sample_notify_queues():
    (queue_grant,) = [s for s in DOCUMENT["Statement"] if "sqs:SendMessage" in s["Action"]]
    queues = {
        action["transport"]["queue"].rsplit("/", 1)[1]
        for path in (REPO / "policies").glob("*.yml")
        for entry in yaml.safe_load(path.read_text())["policies"]
        for action in entry.get("actions", ())
        if isinstance(action, dict) and action.get("type") == "notify"
    }
    assert {queue_grant["Resource"].rsplit(":", 1)[1]} == queues

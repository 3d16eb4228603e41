"""The shipped c7n-mailer template, rendered by c7n-mailer on messages real policy runs send.

A policy runs on replayed API responses and its ``notify`` action sends the SQS message;
the test decodes that message as c7n-mailer does and renders it with c7n-mailer's own
``get_rendered_jinja`` (template name from the message, ``.j2`` appended, looked up in
``templates_folders``). The reminder pattern (``policies/access-key-unused-reminder.yml``,
cloud-custodian #5334) is run from the sample file: it marks, notifies with this template,
and later disables only what is still stale.
"""

from __future__ import annotations

import pathlib

import pytest
import yaml

from tests.support.mailer import NOTIFY, TEMPLATES, Sections, decode, render
from tests.support.paths import POLICIES
from tests.support.placebo_fixtures import (
    FLAGGED_USERS,
    STANDARD_REPORT,
    USERS,
    FixtureDir,
    K,
    credential_report,
    live_keys,
    live_operations,
    ok,
    user_record,
    with_listed_keys,
)
from tests.support.placebo_replay import Replay

# The calls of an iam-user policy before its actions: the users, then the report.
REPORT_CALLS = ["ListUsers"] + ["GetUser"] * len(USERS) + ["GetCredentialReport"]
REMINDER = POLICIES / "access-key-unused-reminder.yml"

HEADER = [
    "Access key ID",
    "Slot",
    "Created",
    "Last used",
    "Days since use",
    "Age (days)",
    "Why flagged",
    "What happens",
]


def sent_messages(replay: Replay) -> list[dict]:
    """The notify messages, decoded as c7n-mailer's SQS processor does."""
    return [decode(params["MessageBody"]) for params in replay.params("SendMessage")]


@pytest.fixture
def replay_of(replay_from):
    """Write fixtures built here and replay them (``replay_from`` resets c7n's sessions)."""

    def replay(fixtures: FixtureDir) -> Replay:
        fixtures.write()
        return Replay(fixtures.path)

    return replay


def standard_account(root: pathlib.Path, name: str, tags: dict[str, dict] | None = None):
    """The standard account; ``tags`` gives some users tags (GetUser returns them)."""
    fixtures = FixtureDir(name, root=root)
    fixtures.add("iam", "ListUsers", ok({"Users": [user_record(n) for n in USERS]}))
    for user in USERS:
        record = user_record(user)
        if tags and user in tags:
            record["Tags"] = [{"Key": k, "Value": v} for k, v in tags[user].items()]
        fixtures.add("iam", "GetUser", ok({"User": record}))
    fixtures.add("iam", "GetCredentialReport", credential_report(STANDARD_REPORT))
    fixtures.add("iam", "ListAccountAliases", ok({"AccountAliases": ["example-prod"]}))
    return fixtures


def reminder_policy(name: str) -> dict:
    policies = yaml.safe_load(REMINDER.read_text())["policies"]
    return next(p for p in policies if p["name"] == name)


def test_template_is_shipped_in_the_package():
    # setup.py ships templates/*.j2: the installed package must have it where docs say.
    assert (TEMPLATES / "access-key-unused.html.j2").is_file()


def test_renders_a_real_message_without_key_ids(replay_from, frozen, run_policy):
    replay = replay_from("test_notify_sqs_lists_flagged_keys")
    policy = {
        "name": "stale-keys",
        "resource": "iam-user",
        "filters": [{"type": "access-key-unused", "days": 90}],
        "actions": [NOTIFY],
    }
    run_policy(policy, replay)

    # No key listed: notify reads the account alias and sends one message.
    assert replay.operations() == REPORT_CALLS + ["ListAccountAliases", "SendMessage"]
    (message,) = sent_messages(replay)
    mail = Sections(render(message))

    check_rows_without_key_ids(mail)


def check_rows_without_key_ids(mail: Sections) -> None:
    """One table per flagged user, each stale key a row whose ID is not known yet."""
    assert list(mail.sections) == ["User bob-stale", "User dave-abandoned", "User erin-two-keys"]
    unknown = "unknown (resolve-key-ids: true lists it)"
    action = NOTIFY["action_desc"]
    assert mail.sections["User bob-stale"] == [
        HEADER,
        [
            unknown,
            "1",
            "2025-09-27",
            "2026-04-15 via s3 in us-east-1",
            "200",
            "400",
            "not used for 200 days",
            action,
        ],
    ]
    assert mail.sections["User dave-abandoned"] == [
        HEADER,
        [
            unknown,
            "1",
            "2026-04-15",
            "never",
            "never used",
            "200",
            "never used, created 200 days ago",
            action,
        ],
    ]
    # Only erin's slot 2 (the older key) is listed, not the fresh slot 1.
    assert mail.sections["User erin-two-keys"][1:] == [
        [
            unknown,
            "2",
            "2026-01-05",
            "2026-06-04 via s3 in us-east-1",
            "150",
            "300",
            "not used for 150 days",
            action,
        ],
    ]
    assert "Access keys unused for more than 90 days." in mail.paragraphs
    assert "What happens next: Rotate or delete these keys by Friday." in mail.paragraphs


def test_renders_key_ids_and_derives_the_action(tmp_path, frozen, run_policy, replay_of):
    # resolve-key-ids lists the flagged users' keys; no action_desc: the template says
    # what the policy's own actions do.
    fixtures = with_listed_keys(standard_account(tmp_path, "notify_with_ids"), "UpdateAccessKey")
    replay = replay_of(fixtures.add("sqs", "SendMessage", ok({"MessageId": "m-1"})))
    notify = {k: v for k, v in NOTIFY.items() if k != "action_desc"}
    policy = {
        "name": "stale-keys-disable",
        "resource": "iam-user",
        "filters": [{"type": "access-key-unused", "days": 90, "resolve-key-ids": True}],
        "actions": [{"type": "remove-keys", "matched": True, "disable": True}, notify],
    }
    run_policy(policy, replay)

    assert replay.operations() == (
        REPORT_CALLS
        + live_operations(FLAGGED_USERS)
        + ["UpdateAccessKey"] * len(FLAGGED_USERS)
        + ["ListAccountAliases", "SendMessage"]
    )
    (message,) = sent_messages(replay)
    mail = Sections(render(message))
    ids = {user: [row[0] for row in rows[1:]] for user, rows in mail.sections.items()}
    assert ids == {
        "User bob-stale": [K["bob"]["id"]],
        "User dave-abandoned": [K["dave"]["id"]],
        "User erin-two-keys": [K["erin2"]["id"]],
    }
    actions = {row[-1] for rows in mail.sections.values() for row in rows[1:]}
    assert actions == {"This policy will disable these keys."}
    assert "What happens next: This policy will disable these keys." in mail.paragraphs


def test_renders_the_root_user_from_the_account_resource(tmp_path, frozen, run_policy, replay_of):
    fixtures = (
        FixtureDir("notify_root", root=tmp_path)
        .add("iam", "ListAccountAliases", ok({"AccountAliases": ["example-prod"]}))
        .add("iam", "GetCredentialReport", credential_report(STANDARD_REPORT))
        # notify asks for the alias again (placebo's wrap-around used to hide this call).
        .add("iam", "ListAccountAliases", ok({"AccountAliases": ["example-prod"]}))
        .add("sqs", "SendMessage", ok({"MessageId": "m-1"}))
    )
    replay = replay_of(fixtures)
    policy = {
        "name": "root-keys",
        "resource": "account",
        "filters": [{"type": "access-key-unused", "days": 90}],
        "actions": [NOTIFY],
    }
    run_policy(policy, replay)

    assert replay.operations() == [
        "ListAccountAliases",
        "GetCredentialReport",
        "ListAccountAliases",
        "SendMessage",
    ]
    (message,) = sent_messages(replay)
    mail = Sections(render(message))
    assert list(mail.sections) == ["Root user of account 123456789012 (example-prod)"]
    (_, row) = mail.sections["Root user of account 123456789012 (example-prod)"]
    assert row[1:6] == ["1", "2024-05-15", "2026-04-15 via s3 in us-east-1", "200", "900"]
    assert row[6] == "not used for 200 days"


# --- the reminder pattern (#5334): warn at 75 days, disable at 90 ---

MARK = "c7n-keyage-stale-keys"
# Unused for more than 75 days: bob (200), dave (never, 200), erin's slot 2 (150), and
# gina (exactly 90: more than 75).
WARNED = ["bob-stale", "dave-abandoned", "erin-two-keys", "gina-exactly-90"]


def test_reminder_warns_marks_and_lists_key_ids(tmp_path, frozen, run_policy, replay_of):
    fixtures = standard_account(tmp_path, "reminder_warn")
    for user in WARNED:
        live_keys(fixtures, user)
        fixtures.add("iam", "TagUser", ok({}))
    replay = replay_of(fixtures.add("sqs", "SendMessage", ok({"MessageId": "m-1"})))

    run_policy(reminder_policy("iam-access-key-unused-warn-75"), replay)

    assert replay.operations() == (
        REPORT_CALLS
        + live_operations(WARNED)
        + ["TagUser"] * len(WARNED)
        + ["ListAccountAliases", "SendMessage"]
    )
    # Each warned user gets a mark 15 days out: 2026-11-16.
    tagged = replay.params("TagUser")
    assert [p["UserName"] for p in tagged] == WARNED
    assert {p["Tags"][0]["Key"] for p in tagged} == {MARK}
    assert {p["Tags"][0]["Value"] for p in tagged} == {
        "Resource does not meet policy: remove-keys@2026/11/16"
    }
    # Warning only: nothing is disabled or deleted.
    assert not {"UpdateAccessKey", "DeleteAccessKey"} & set(replay.operations())

    (message,) = sent_messages(replay)
    mail = Sections(render(message))
    assert replay.operations().count("ListAccessKeys") == len(WARNED)
    assert list(mail.sections) == [f"User {u}" for u in WARNED]
    (_, gina) = mail.sections["User gina-exactly-90"]
    assert gina[:2] == [K["gina"]["id"], "1"]
    assert gina[6] == "not used for 90 days"
    assert gina[7].startswith("They will be disabled in 15 days")


def test_reminder_skips_users_already_marked(tmp_path, frozen, run_policy, replay_of):
    # Re-marking would push the date back on every daily run: the deadline would never come.
    tags = {"bob-stale": {MARK: "Resource does not meet policy: remove-keys@2026/11/05"}}
    fixtures = standard_account(tmp_path, "reminder_warn_again", tags)
    for user in WARNED[1:]:
        live_keys(fixtures, user)
        fixtures.add("iam", "TagUser", ok({}))
    replay = replay_of(fixtures.add("sqs", "SendMessage", ok({"MessageId": "m-1"})))

    run_policy(reminder_policy("iam-access-key-unused-warn-75"), replay)

    assert replay.operations() == (
        REPORT_CALLS
        + live_operations(WARNED[1:])
        + ["TagUser"] * len(WARNED[1:])
        + ["ListAccountAliases", "SendMessage"]
    )
    assert [p["UserName"] for p in replay.params("TagUser")] == WARNED[1:]
    (message,) = sent_messages(replay)
    assert [r["UserName"] for r in message["resources"]] == WARNED[1:]


@pytest.mark.parametrize(
    "marks, disabled",
    [
        # bob's mark is due, dave's is not yet, erin was never marked: only bob's key goes.
        (
            {
                "bob-stale": "Resource does not meet policy: remove-keys@2026/10/31",
                "dave-abandoned": "Resource does not meet policy: remove-keys@2026/11/10",
            },
            [("bob-stale", K["bob"]["id"])],
        ),
        # gina is marked and due, but used exactly 90 days ago: not MORE than 90, kept.
        ({"gina-exactly-90": "Resource does not meet policy: remove-keys@2026/10/31"}, []),
    ],
)
def test_reminder_disables_only_marked_and_still_stale(
    tmp_path, frozen, run_policy, replay_of, marks, disabled
):
    tags = {user: {MARK: value} for user, value in marks.items()}
    fixtures = standard_account(tmp_path, "reminder_disable", tags)
    for user in FLAGGED_USERS:
        live_keys(fixtures, user)
        fixtures.add("iam", "UpdateAccessKey", ok({}))
    replay = replay_of(fixtures.add("sqs", "SendMessage", ok({"MessageId": "m-1"})))

    run_policy(reminder_policy("iam-access-key-unused-disable-90"), replay)

    # Keys are listed for the users to disable only, and a message sent only if any.
    assert replay.operations() == (
        REPORT_CALLS
        + live_operations([user for user, _ in disabled])
        + ["UpdateAccessKey"] * len(disabled)
        + (["ListAccountAliases", "SendMessage"] if disabled else [])
    )
    assert [(p["UserName"], p["AccessKeyId"]) for p in replay.params("UpdateAccessKey")] == disabled
    assert [p["Status"] for p in replay.params("UpdateAccessKey")] == ["Inactive"] * len(disabled)


def test_reminder_clears_the_mark_once_keys_are_fresh(tmp_path, frozen, run_policy, replay_of):
    marked = "Resource does not meet policy: remove-keys@2026/11/16"
    tags = {"alice-fresh": {MARK: marked}, "bob-stale": {MARK: marked}}
    fixtures = standard_account(tmp_path, "reminder_clear", tags).add("iam", "UntagUser", ok({}))
    replay = replay_of(fixtures)

    run_policy(reminder_policy("iam-access-key-unused-clear-mark"), replay)

    assert replay.operations() == REPORT_CALLS + ["UntagUser"]
    # alice's key is in use again; bob's is still stale and keeps its mark.
    assert replay.params("UntagUser") == [{"UserName": "alice-fresh", "TagKeys": [MARK]}]


def test_sample_notify_policies_name_the_shipped_template():
    # c7n-mailer appends ".j2": a name ending in .j2 is never found (it logs and sends nothing).
    names = {
        action["template"]
        for path in POLICIES.glob("*.yml")
        for policy in yaml.safe_load(path.read_text())["policies"]
        for action in policy.get("actions", ())
        if isinstance(action, dict) and action.get("type") == "notify"
    }
    assert names == {"access-key-unused.html"}
    assert all((TEMPLATES / f"{name}.j2").is_file() for name in names)

"""The shipped c7n-mailer template on the key lifecycle's messages, sent by the stock CLI.

The lifecycle sample's notify policies run with the stock ``custodian`` against the local
endpoint, which serves SQS too: ``notify`` sends to a queue there, and the test renders each
message with c7n-mailer's own function (``tests/support/mailer.py``'s ``render``).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import yaml

from tests.support.localiam import KeySpec, LocalIAM, UserSpec
from tests.support.mailer import NOTIFY, Sections, decode, render
from tests.support.paths import POLICIES
from tests.support.stock_cli import custodian

LIFECYCLE = POLICIES / "access-key-lifecycle.yml"
RECORD_PREFIX = "c7n-keyage:retired:"
RETIRED_HEADER = [
    "Access key ID",
    "Retired (UTC)",
    "By policy",
    "Status now",
    "Used since retired",
    "Deleted",
    "What happens",
]


def lifecycle_policy(name: str) -> dict:
    policies = yaml.safe_load(LIFECYCLE.read_text())["policies"]
    return next(p for p in policies if p["name"] == name)


def queued(local) -> list[dict]:
    """The notify messages in the local mailer queue, decoded as c7n-mailer does."""
    sqs = local.client("sqs")
    url = sqs.get_queue_url(QueueName="cloud-custodian-mailer")["QueueUrl"]
    bodies = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [decode(m["Body"]) for m in bodies]


def local_account(local, users):
    """Seed ``users`` and make the queue the sample policies name (on the local endpoint,
    which serves SQS too: ``notify`` sends there, as it would to the real queue)."""
    ids = local.seed(users)
    local.client("sqs").create_queue(QueueName="cloud-custodian-mailer")
    return ids


LIFECYCLE_USERS = (
    UserSpec("fresh", [KeySpec(30, 1)]),
    UserSpec("stale", [KeySpec(400, 200)]),
    UserSpec("warned", [KeySpec(300, 80)]),  # more than 75 days, not 90: notified only
    UserSpec("used", [KeySpec(300, 150)]),
)


def test_lifecycle_notice_at_75_days_lists_each_key_and_what_comes(tmp_path):
    """The lifecycle sample's notify policy, as shipped, through the stock CLI."""
    with LocalIAM(aws_like_report=False) as local:
        ids = local_account(local, LIFECYCLE_USERS)
        run = custodian(local, lifecycle_policy("iam-access-key-lifecycle-notify-75"), tmp_path)
        (message,) = queued(local)

    run.assert_clean()
    mail = Sections(render(message))
    assert list(mail.sections) == ["User stale", "User warned", "User used"]
    action = " ".join(
        lifecycle_policy("iam-access-key-lifecycle-notify-75")["actions"][0]["action_desc"].split()
    )
    rows = {user: rows[1:] for user, rows in mail.sections.items()}
    assert {user: [(r[0], r[4], r[7]) for r in found] for user, found in rows.items()} == {
        "User stale": [(ids["stale"][0], "200", action)],
        "User warned": [(ids["warned"][0], "80", action)],
        "User used": [(ids["used"][0], "150", action)],
    }
    assert action.startswith("They will be disabled at 90 days unused, and deleted 30 days later")


def test_retirement_notice_names_the_retired_keys(tmp_path):
    """The retirement policy with a notify after retire-keys (no action_desc): the mail says
    what the policy did to each key, by ID."""
    notify = {k: v for k, v in NOTIFY.items() if k != "action_desc"}
    notify["transport"] = {
        "type": "sqs",
        "queue": "https://sqs.us-east-1.amazonaws.com/123456789012/cloud-custodian-mailer",
    }
    policy = lifecycle_policy("iam-access-key-lifecycle-retire-90")
    policy["actions"] = [*policy["actions"], notify]
    with LocalIAM(aws_like_report=False) as local:
        ids = local_account(local, LIFECYCLE_USERS)
        run = custodian(local, policy, tmp_path)
        (message,) = queued(local)

    run.assert_clean()
    mail = Sections(render(message))
    assert list(mail.sections) == ["User stale", "User used"]
    said = (
        "This policy will retire these keys (disable them and record it on the user: one "
        "policy run restores them)."
    )
    assert {u: [(r[0], r[7]) for r in rows[1:]] for u, rows in mail.sections.items()} == {
        "User stale": [(ids["stale"][0], said)],
        "User used": [(ids["used"][0], said)],
    }
    assert f"What happens next: {said}" in mail.paragraphs


DELETION_NOTICE = "Deleted unless used since; nothing else."


def test_deletion_notice_shows_each_retired_key_and_when_it_is_deleted(tmp_path):
    """The deletion policy with a notify: each record, its key's live state, and when the key
    is (or is not) deleted."""
    notify = dict(NOTIFY, action_desc=DELETION_NOTICE)
    notify["transport"] = {
        "type": "sqs",
        "queue": "https://sqs.us-east-1.amazonaws.com/123456789012/cloud-custodian-mailer",
    }
    retire = lifecycle_policy("iam-access-key-lifecycle-retire-90")
    delete = lifecycle_policy("iam-access-key-lifecycle-delete-30")
    delete["actions"] = [*delete["actions"], notify]
    retired_at = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=31)
    when = retired_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    with LocalIAM(aws_like_report=False) as local:
        ids = local_account(local, LIFECYCLE_USERS)
        custodian(local, retire, tmp_path / "day-0").assert_clean()
        iam = local.client()
        for user in ("stale", "used"):
            iam.tag_user(
                UserName=user,
                Tags=[{"Key": RECORD_PREFIX + ids[user][0], "Value": f"{when} {retire['name']}"}],
            )
        local.use_key("used", ids["used"][0], when=retired_at + timedelta(days=2))
        run = custodian(local, delete, tmp_path / "day-31")
        (message,) = queued(local)

    run.assert_clean()
    check_deletion_notice(Sections(render(message)), ids, retired_at, retire["name"])


def check_deletion_notice(mail: Sections, ids: dict, retired_at: datetime, by: str) -> None:
    """Each record, its key's live state, and when the key is (or is not) deleted."""
    when = retired_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert list(mail.sections) == [
        "User stale",
        "User stale / Retired keys",
        "User used",
        "User used / Retired keys",
    ]
    due = (retired_at + timedelta(days=30)).strftime("%Y-%m-%d %H:%M")
    shown = when[:16].replace("T", " ")
    assert mail.sections["User stale / Retired keys"] == [
        RETIRED_HEADER,
        [
            ids["stale"][0],
            shown,
            by,
            "Inactive",
            "no",
            f"from {due} UTC, if still inactive and unused",
            DELETION_NOTICE,
        ],
    ]
    assert mail.sections["User used / Retired keys"][1][:6] == [
        ids["used"][0],
        shown,
        by,
        "Inactive",
        "yes",
        "never: used since its retirement",
    ]
    # No finding table for the users: this policy does not use access-key-unused.
    assert mail.sections["User stale"] == mail.sections["User used"] == []


def test_deletion_warning_a_week_before_gives_each_keys_date(tmp_path):
    """The lifecycle sample's deletion notice, as shipped: each key retired 23 to 24 days
    ago, with the date it will be deleted; keys retired later, or used since, say so."""
    retire = lifecycle_policy("iam-access-key-lifecycle-retire-90")
    notice = lifecycle_policy("iam-access-key-lifecycle-deletion-notice")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    ages = {"stale": 23.5, "used": 23.5, "warned": 10}
    users = (*LIFECYCLE_USERS[:2], UserSpec("warned", [KeySpec(300, 100)]), LIFECYCLE_USERS[3])
    with LocalIAM(aws_like_report=False) as local:
        ids = local_account(local, users)
        custodian(local, retire, tmp_path / "day-0").assert_clean()
        for user, days in ages.items():
            value = (
                f"{(now - timedelta(days=days)).strftime('%Y-%m-%dT%H:%M:%SZ')} {retire['name']}"
            )
            local.client().tag_user(
                UserName=user, Tags=[{"Key": RECORD_PREFIX + ids[user][0], "Value": value}]
            )
        local.use_key("used", ids["used"][0], when=now - timedelta(days=1))
        run = custodian(local, notice, tmp_path / "day-23")
        (message,) = queued(local)

    run.assert_clean()
    mail = Sections(render(message))
    assert list(mail.sections) == [
        "User stale",
        "User stale / Retired keys",
        "User used",
        "User used / Retired keys",
    ]
    due = (now - timedelta(days=23.5) + timedelta(days=30)).strftime("%Y-%m-%d %H:%M")
    action = " ".join(notice["actions"][0]["action_desc"].split())
    (_, stale) = mail.sections["User stale / Retired keys"]
    assert stale == [
        ids["stale"][0],
        (now - timedelta(days=23.5)).strftime("%Y-%m-%d %H:%M"),
        retire["name"],
        "Inactive",
        "no",
        f"from {due} UTC, if still inactive and unused",
        action,
    ]
    (_, used) = mail.sections["User used / Retired keys"]
    assert used[4:6] == ["yes", "never: used since its retirement"]

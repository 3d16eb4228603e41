"""Write API responses in placebo's on-disk format, and the scenarios the tests replay.

The fixtures under ``tests/data/placebo/<test_name>/`` are made by this module
(``python -m tests.placebo_fixtures``) and committed; ``test_placebo_fixtures.py`` checks
they are still what it writes. Responses follow real AWS: ``GetCredentialReport``'s
``Content`` is plain CSV text with all 22 columns, a ``<root_account>`` row and ``N/A``
values (placebo 0.10 would replay recorded bytes as base64 text), and ListAccessKeys'
``CreateDate`` carries microseconds, as a local IAM endpoint returns it.
"""

from __future__ import annotations

import json
import pathlib
import shutil
from datetime import datetime, timedelta, timezone

PLACEBO = pathlib.Path(__file__).parent / "data" / "placebo"
ACCOUNT_ID = "123456789012"
# The clock every placebo test freezes to.
NOW = datetime(2026, 11, 1, 12, 0, 0, tzinfo=timezone.utc)
# Lists the operations whose last response answers every later call (FixtureDir.repeat).
REPEAT_FILE = "placebo-repeat.json"

HEADER = (
    "user,arn,user_creation_time,password_enabled,password_last_used,"
    "password_last_changed,password_next_rotation,mfa_active,"
    "access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,"
    "access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,"
    "cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def iso(value: datetime | None) -> str:
    return "N/A" if value is None else value.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def key_columns(key: dict | None) -> list[str]:
    """The five report columns of one slot; ``key`` has active, created, used (datetimes)."""
    if key is None:
        return ["false", "N/A", "N/A", "N/A", "N/A"]
    used = key.get("used")
    return [
        "true" if key.get("active", True) else "false",
        iso(key["created"]),
        iso(used),
        "us-east-1" if used else "N/A",
        "s3" if used else "N/A",
    ]


def report_row(user: str, keys: list[dict | None], created: datetime | None = None) -> str:
    arn = (
        f"arn:aws:iam::{ACCOUNT_ID}:root"
        if user == "<root_account>"
        else f"arn:aws:iam::{ACCOUNT_ID}:user/{user}"
    )
    slots = (keys + [None, None])[:2]
    fields = [
        user,
        arn,
        iso(created or days_ago(1000)),
        "false",
        "N/A",
        "N/A",
        "N/A",
        "false",
        *key_columns(slots[0]),
        *key_columns(slots[1]),
        "false",
        "N/A",
        "false",
        "N/A",
    ]
    return ",".join(fields)


def report_csv(rows: list[str]) -> str:
    return "\n".join([HEADER, *rows])


# --- the standard account: every case issue #2 asks the policy-level tests to cover ---

K = {
    # one ACTIVE key used yesterday
    "alice": {"id": "AKIAEXAMPLEALICE0001", "created": days_ago(150), "used": days_ago(1)},
    # used 200 days ago: unused
    "bob": {"id": "AKIAEXAMPLEBOB000001", "created": days_ago(400), "used": days_ago(200)},
    # never used, created 10 days ago: inside the grace
    "carol": {"id": "AKIAEXAMPLECAROL0001", "created": days_ago(10), "used": None},
    # never used, created 200 days ago: never-used
    "dave": {"id": "AKIAEXAMPLEDAVE00001", "created": days_ago(200), "used": None},
    # two active keys, slot 1 the NEWER and fresh, slot 2 older and stale
    "erin1": {"id": "AKIAEXAMPLEERIN00001", "created": days_ago(20), "used": days_ago(2)},
    "erin2": {"id": "AKIAEXAMPLEERIN00002", "created": days_ago(300), "used": days_ago(150)},
    # a stale INACTIVE key beside a fresh active one
    "frank1": {
        "id": "AKIAEXAMPLEFRANK0001",
        "created": days_ago(300),
        "used": days_ago(250),
        "active": False,
    },
    "frank2": {"id": "AKIAEXAMPLEFRANK0002", "created": days_ago(5), "used": days_ago(1)},
    # used exactly 90 days ago: not MORE than 90, passes
    "gina": {"id": "AKIAEXAMPLEGINA00001", "created": days_ago(120), "used": days_ago(90)},
    # the root user's key, used 200 days ago
    "root": {"id": "AKIAEXAMPLEROOT00001", "created": days_ago(900), "used": days_ago(200)},
}

USERS = {
    "alice-fresh": [K["alice"]],
    "bob-stale": [K["bob"]],
    "carol-new": [K["carol"]],
    "dave-abandoned": [K["dave"]],
    "erin-two-keys": [K["erin1"], K["erin2"]],
    "frank-rotated": [K["frank1"], K["frank2"]],
    "gina-exactly-90": [K["gina"]],
    # created after the report was generated: in ListUsers, not in the report
    "hank-after-report": [],
}
UNDATED = {"id": "AKIAEXAMPLEIVY000001", "created": None, "used": days_ago(200)}
IN_REPORT = [name for name in USERS if name != "hank-after-report"]
STANDARD_REPORT = report_csv(
    [report_row("<root_account>", [K["root"]])]
    + [report_row(name, USERS[name]) for name in IN_REPORT]
)
FLAGGED_USERS = ["bob-stale", "dave-abandoned", "erin-two-keys"]


# --- placebo's on-disk format ---


def placebo_value(value):
    if isinstance(value, datetime):
        return {
            "__class__": "datetime",
            "year": value.year,
            "month": value.month,
            "day": value.day,
            "hour": value.hour,
            "minute": value.minute,
            "second": value.second,
            "microsecond": value.microsecond,
        }
    if isinstance(value, dict):
        return {k: placebo_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [placebo_value(v) for v in value]
    return value


def ok(data: dict) -> dict:
    meta = {"ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0}}
    return {"status_code": 200, "data": placebo_value({**data, **meta})}


def error(status: int, code: str, message: str) -> dict:
    return {
        "status_code": status,
        "data": {
            "Error": {"Code": code, "Message": message, "Type": "Sender"},
            "ResponseMetadata": {"HTTPStatusCode": status, "RetryAttempts": 0},
        },
    }


class FixtureDir:
    """Numbers each operation's responses as placebo expects: ``iam.GetUser_1.json``..."""

    def __init__(self, name: str, root: pathlib.Path = PLACEBO):
        self.path = root / name
        self.counts: dict[str, int] = {}
        self.files: dict[str, dict] = {}

    def add(self, service: str, operation: str, response: dict) -> FixtureDir:
        base = f"{service}.{operation}"
        self.counts[base] = self.counts.get(base, 0) + 1
        self.files[f"{base}_{self.counts[base]}.json"] = response
        return self

    def repeat(self, service: str, operation: str) -> FixtureDir:
        """Let the last response of ``operation`` answer every later call too.

        Replay (tests/placebo_replay.py) fails a call past the recorded ones unless it is declared
        here: for scenarios that answer the same way for ever ("never ready").
        """
        repeated = set(self.files.get(REPEAT_FILE, [])) | {f"{service}.{operation}"}
        self.files[REPEAT_FILE] = sorted(repeated)
        return self

    def write(self) -> None:
        if self.path.exists():
            shutil.rmtree(self.path)
        self.path.mkdir(parents=True)
        for name, response in self.files.items():
            (self.path / name).write_text(json.dumps(response, indent=2, sort_keys=True) + "\n")


def user_record(name: str) -> dict:
    return {
        "Path": "/",
        "UserName": name,
        "UserId": "AIDA" + name.upper().replace("-", "")[:16].ljust(16, "X"),
        "Arn": f"arn:aws:iam::{ACCOUNT_ID}:user/{name}",
        "CreateDate": days_ago(1000),
    }


def add_users(fixtures: FixtureDir, names: list[str]) -> FixtureDir:
    fixtures.add("iam", "ListUsers", ok({"Users": [user_record(n) for n in names]}))
    for name in names:
        fixtures.add("iam", "GetUser", ok({"User": user_record(name)}))
    return fixtures


def credential_report(content: str, generated: datetime | None = None) -> dict:
    return ok(
        {
            "Content": content,
            "ReportFormat": "text/csv",
            "GeneratedTime": generated or NOW - timedelta(hours=2),
        }
    )


def list_access_keys(user: str, keys: list[dict] | None = None) -> dict:
    """ListAccessKeys as a local endpoint answers it: CreateDate with microseconds."""
    return ok(
        {
            "AccessKeyMetadata": [
                {
                    "UserName": user,
                    "AccessKeyId": key["id"],
                    "Status": "Active" if key.get("active", True) else "Inactive",
                    "CreateDate": key["created"].replace(microsecond=517000),
                }
                for key in (USERS[user] if keys is None else keys)
            ],
            "IsTruncated": False,
        }
    )


def standard(name: str) -> FixtureDir:
    fixtures = add_users(FixtureDir(name), list(USERS))
    return fixtures.add("iam", "GetCredentialReport", credential_report(STANDARD_REPORT))


def with_listed_keys(fixtures: FixtureDir, operation: str | None = None) -> FixtureDir:
    for user in FLAGGED_USERS:
        fixtures.add("iam", "ListAccessKeys", list_access_keys(user))
    for _ in ("bob", "dave", "erin2") if operation else ():
        fixtures.add("iam", operation, ok({}))
    return fixtures


def all_fixtures() -> list[FixtureDir]:
    return [
        standard("test_report_only_flags_stale_keys"),
        with_listed_keys(standard("test_remove_keys_disables_only_flagged"), "UpdateAccessKey"),
        with_listed_keys(standard("test_remove_keys_deletes_only_flagged"), "DeleteAccessKey"),
        with_listed_keys(standard("test_resolve_key_ids")),
        standard("test_notify_sqs_lists_flagged_keys")
        .add("iam", "ListAccountAliases", ok({"AccountAliases": ["example-prod"]}))
        .add("sqs", "SendMessage", ok({"MessageId": "0b2f2c1e-0000-4000-8000-000000000001"})),
        # Since the report: bob's key was disabled, dave's deleted; erin's unchanged.
        standard("test_keys_changed_since_the_report_are_not_flagged")
        .add("iam", "ListAccessKeys", list_access_keys("bob-stale", [dict(K["bob"], active=False)]))
        .add("iam", "ListAccessKeys", list_access_keys("dave-abandoned", []))
        .add("iam", "ListAccessKeys", list_access_keys("erin-two-keys"))
        .add("iam", "UpdateAccessKey", ok({})),
        # A stale key whose creation date the report does not give: reported, never touched.
        add_users(FixtureDir("test_unidentifiable_key_is_reported_not_touched"), ["ivy"])
        .add(
            "iam",
            "GetCredentialReport",
            credential_report(report_csv([report_row("ivy", [UNDATED])])),
        )
        .add(
            "iam", "ListAccessKeys", list_access_keys("ivy", [dict(UNDATED, created=days_ago(300))])
        ),
        add_users(FixtureDir("test_declared_permissions_are_all_used"), list(USERS))
        .add("iam", "GetCredentialReport", error(410, "ReportNotPresent", "no report"))
        .add("iam", "GenerateCredentialReport", ok({"State": "COMPLETE"}))
        .add("iam", "GetCredentialReport", credential_report(STANDARD_REPORT))
        .add("iam", "ListAccessKeys", list_access_keys("bob-stale"))
        .add("iam", "ListAccessKeys", list_access_keys("dave-abandoned"))
        .add("iam", "ListAccessKeys", list_access_keys("erin-two-keys")),
        FixtureDir("test_root_keys_on_account")
        .add("iam", "ListAccountAliases", ok({"AccountAliases": ["example-prod"]}))
        .add("iam", "GetCredentialReport", credential_report(STANDARD_REPORT)),
    ]


def write_all(dirs: list[FixtureDir]) -> None:
    for fixtures in dirs:
        fixtures.write()
        print(fixtures.path.relative_to(PLACEBO.parent.parent.parent))


def main() -> None:
    write_all(all_fixtures())


if __name__ == "__main__":
    main()

"""Write API responses in placebo's on-disk format, and the scenarios the tests replay.

The fixtures under ``tests/data/placebo/<test_name>/`` are made by this module
(``python -m tests.support.placebo_fixtures``) and committed;
``tests/repo/test_placebo_fixtures.py`` checks they are still what it writes. Responses
follow real AWS: ``GetCredentialReport``'s ``Content`` is plain CSV text with all 22
columns, a ``<root_account>`` row and ``N/A`` values (placebo 0.10 would replay recorded
bytes as base64 text), and ListAccessKeys' ``CreateDate`` carries microseconds, as a local
IAM endpoint returns it.
"""

from __future__ import annotations

import json
import pathlib
import shutil
from datetime import datetime, timedelta, timezone

# Lists the operations whose last response answers every later call (FixtureDir.repeat).
from c7n_keyage.testing import REPEAT_FILE, on_disk
from tests.support.paths import DATA

PLACEBO = DATA / "placebo"
ACCOUNT_ID = "123456789012"
# The clock every placebo test freezes to.
NOW = datetime(2026, 11, 1, 12, 0, 0, tzinfo=timezone.utc)

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
# ... and with rotation-days: 100, in listing order.
ROTATED_100 = ["alice-fresh", *FLAGGED_USERS, "gina-exactly-90"]


# --- placebo's on-disk format ---


def ok(data: dict) -> dict:
    meta = {"ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0}}
    return {"status_code": 200, "data": on_disk({**data, **meta})}


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

        Replay (tests/support/placebo_replay.py) fails a call past the recorded ones unless it
        is declared here: for scenarios that answer the same way for ever ("never ready").
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


def last_used(key: dict) -> dict:
    """GetAccessKeyLastUsed as AWS answers it: no LastUsedDate for a key never used."""
    used = key.get("used")
    detail = (
        {"LastUsedDate": used, "ServiceName": "s3", "Region": "us-east-1"}
        if used
        else {"ServiceName": "N/A", "Region": "N/A"}
    )
    return ok({"UserName": "", "AccessKeyLastUsed": detail})


def live_keys(fixtures: FixtureDir, user: str, keys: list[dict] | None = None) -> FixtureDir:
    """The acting path's calls for one user: ListAccessKeys, then each active key's last use."""
    keys = USERS[user] if keys is None else keys
    fixtures.add("iam", "ListAccessKeys", list_access_keys(user, keys))
    for key in keys:
        if key.get("active", True):
            fixtures.add("iam", "GetAccessKeyLastUsed", last_used(key))
    return fixtures


def live_operations(users: list[str]) -> list[str]:
    """The calls ``live_keys`` answers, for each of ``users`` in order."""
    return [
        op
        for user in users
        for op in ["ListAccessKeys"]
        + ["GetAccessKeyLastUsed"] * sum(1 for key in USERS[user] if key.get("active", True))
    ]


def standard(name: str) -> FixtureDir:
    fixtures = add_users(FixtureDir(name), list(USERS))
    return fixtures.add("iam", "GetCredentialReport", credential_report(STANDARD_REPORT))


def with_listed_keys(fixtures: FixtureDir, operation: str | None = None) -> FixtureDir:
    for user in FLAGGED_USERS:
        live_keys(fixtures, user)
    for _ in ("bob", "dave", "erin2") if operation else ():
        fixtures.add("iam", operation, ok({}))
    return fixtures


# --- a report that disagrees with the live API: what changed between the two ---


def _key(key_id: str, created: float, used: float | None, active: bool = True) -> dict:
    return {
        "id": key_id,
        "created": days_ago(created),
        "used": None if used is None else days_ago(used),
        "active": active,
    }


TWIN = days_ago(200)  # two keys made in the same second
# user -> (keys in the report, keys the live API shows, or None: the user was deleted)
DRIFT = {
    "still-stale": ([_key("AKIADRIFTSTILL000001", 400, 200)],) * 2,
    "used-since": (
        [_key("AKIADRIFTUSED0000001", 400, 200)],
        [_key("AKIADRIFTUSED0000001", 400, 0.02)],
    ),
    "first-used-since": (
        [_key("AKIADRIFTFIRST000001", 200, None)],
        [_key("AKIADRIFTFIRST000001", 200, 0.02)],
    ),
    "disabled-since": (
        [_key("AKIADRIFTDISABLED001", 400, 200)],
        [_key("AKIADRIFTDISABLED001", 400, 200, active=False)],
    ),
    "deleted-since": ([_key("AKIADRIFTDELETED0001", 400, 200)], []),
    # Rotated: the stale key deleted, a new one (never used yet) in its place.
    "rotated-since": (
        [_key("AKIADRIFTROTATEDOLD1", 400, 200)],
        [_key("AKIADRIFTROTATEDNEW1", 0.01, None)],
    ),
    "user-deleted-since": ([_key("AKIADRIFTUSERGONE001", 400, 200)], None),
    # Twins: slot 1 used yesterday, slot 2 never used; same creation second.
    "twin-deleted": (
        [
            {"id": "AKIADRIFTTWINDELUSED", "created": TWIN, "used": days_ago(1)},
            {"id": "AKIADRIFTTWINDELNEVR", "created": TWIN, "used": None},
        ],
        [{"id": "AKIADRIFTTWINDELUSED", "created": TWIN, "used": days_ago(1)}],
    ),
    "twin-deactivated": (
        [
            {"id": "AKIADRIFTTWINOFFUSED", "created": TWIN, "used": days_ago(1)},
            {"id": "AKIADRIFTTWINOFFNEVR", "created": TWIN, "used": None},
        ],
        [
            {"id": "AKIADRIFTTWINOFFUSED", "created": TWIN, "used": days_ago(1)},
            {"id": "AKIADRIFTTWINOFFNEVR", "created": TWIN, "used": None, "active": False},
        ],
    ),
    "twins-unchanged": (
        [
            {"id": "AKIADRIFTTWINSUSED01", "created": TWIN, "used": days_ago(1)},
            {"id": "AKIADRIFTTWINSNEVR01", "created": TWIN, "used": None},
        ],
    )
    * 2,
}
# What the live data leaves to disable: (user, key ID).
DRIFT_STALE = [
    ("still-stale", "AKIADRIFTSTILL000001"),
    ("twins-unchanged", "AKIADRIFTTWINSNEVR01"),
]


def drift(name: str) -> FixtureDir:
    fixtures = add_users(FixtureDir(name), list(DRIFT))
    report = report_csv([report_row(user, keys) for user, (keys, _) in DRIFT.items()])
    fixtures.add("iam", "GetCredentialReport", credential_report(report))
    for user, (_, live) in DRIFT.items():
        if live is None:
            fixtures.add("iam", "ListAccessKeys", error(404, "NoSuchEntity", f"{user} gone"))
        else:
            live_keys(fixtures, user, live)
    for _ in DRIFT_STALE:
        fixtures.add("iam", "UpdateAccessKey", ok({}))
    return fixtures


# --- source: credential-report: users from the report, detail for the flagged only ---

EXEMPT_TAG = {"Key": "keyage-exempt", "Value": "break-glass"}


def get_user(name: str, tags: list[dict] | None = None) -> dict:
    return ok({"User": dict(user_record(name), Tags=tags or [])})


def from_report(name: str) -> FixtureDir:
    """A policy on ``source: credential-report``: the report is the only listing."""
    return FixtureDir(name).add("iam", "GetCredentialReport", credential_report(STANDARD_REPORT))


def source_fixtures() -> list[FixtureDir]:
    exemption = from_report("test_source_tag_exemption")
    for user in FLAGGED_USERS:
        exemption.add("iam", "GetUser", get_user(user, [EXEMPT_TAG] if user == "bob-stale" else []))
    remediation = from_report("test_source_remove_keys")
    # bob was deleted since the report: his listing says so; the others are read live.
    remediation.add("iam", "ListAccessKeys", error(404, "NoSuchEntity", "bob-stale is gone"))
    for user in FLAGGED_USERS[1:]:
        live_keys(remediation, user)
    for user in FLAGGED_USERS[1:]:
        remediation.add("iam", "GetUser", get_user(user))
    remediation.add("iam", "UpdateAccessKey", ok({})).add("iam", "UpdateAccessKey", ok({}))
    gone = from_report("test_source_user_deleted_since_the_report")
    gone.add("iam", "GetUser", error(404, "NoSuchEntity", "bob-stale is gone"))
    for user in FLAGGED_USERS[1:]:
        gone.add("iam", "GetUser", get_user(user))
    return [from_report("test_source_report_only"), exemption, remediation, gone]


def all_fixtures() -> list[FixtureDir]:
    return policy_fixtures() + report_sharing_fixtures() + odd_report_fixtures()


def policy_fixtures() -> list[FixtureDir]:
    """Policies on the standard account, and accounts whose report and live API differ."""
    return [
        standard("test_report_only_flags_stale_keys"),
        with_listed_keys(standard("test_remove_keys_disables_only_flagged"), "UpdateAccessKey"),
        with_listed_keys(standard("test_remove_keys_deletes_only_flagged"), "DeleteAccessKey"),
        with_listed_keys(standard("test_resolve_key_ids")),
        standard("test_notify_sqs_lists_flagged_keys")
        .add("iam", "ListAccountAliases", ok({"AccountAliases": ["example-prod"]}))
        .add("sqs", "SendMessage", ok({"MessageId": "0b2f2c1e-0000-4000-8000-000000000001"})),
        drift("test_report_disagrees_with_live_data"),
        # A stale key whose creation date the report does not give: found by its ID live.
        live_keys(
            add_users(FixtureDir("test_undated_report_key_is_confirmed_live"), ["ivy"]).add(
                "iam",
                "GetCredentialReport",
                credential_report(report_csv([report_row("ivy", [UNDATED])])),
            ),
            "ivy",
            [dict(UNDATED, created=days_ago(300))],
        ).add("iam", "UpdateAccessKey", ok({})),
        with_listed_keys(
            add_users(FixtureDir("test_declared_permissions_are_all_used"), list(USERS))
            .add("iam", "GetCredentialReport", error(410, "ReportNotPresent", "no report"))
            .add("iam", "GenerateCredentialReport", ok({"State": "COMPLETE"}))
            .add("iam", "GetCredentialReport", credential_report(STANDARD_REPORT))
        ),
    ]


def report_sharing_fixtures() -> list[FixtureDir]:
    """Several policies, and when they share one fetch of the report."""
    return [
        # Two policies, c7n's cache off: users listed twice, the report fetched twice.
        add_users(standard("test_each_policy_run_fetches_without_a_cache"), list(USERS)).add(
            "iam", "GetCredentialReport", credential_report(STANDARD_REPORT)
        ),
        # Two policies, c7n's memory cache: users listed once, the report fetched once.
        standard("test_report_shared_across_policies_by_the_cache"),
        # Generation asked for, and the report served dated 2015 (an unmodified moto).
        add_users(FixtureDir("test_requested_report_shared"), list(USERS))
        .add("iam", "GetCredentialReport", error(410, "ReportNotPresent", "no report"))
        .add("iam", "GenerateCredentialReport", ok({"State": "STARTED"}))
        .add(
            "iam",
            "GetCredentialReport",
            credential_report(STANDARD_REPORT, datetime(2015, 2, 2, tzinfo=timezone.utc)),
        ),
        # The second policy accepts a report at most an hour old: the cached one is two.
        standard("test_cached_report_refetched_when_too_old")
        .add("iam", "GetCredentialReport", credential_report(STANDARD_REPORT))
        .add("iam", "GenerateCredentialReport", ok({"State": "COMPLETE"}))
        .add("iam", "GetCredentialReport", credential_report(STANDARD_REPORT)),
    ]


def odd_report_fixtures() -> list[FixtureDir]:
    """Another filter reading the report too, dates ahead of the clock, the root row."""
    return [
        # c7n's credential filter reads the report too (its own fetch, its own cache key).
        standard("test_matched_keys_of_an_earlier_filter_are_kept").add(
            "iam", "GetCredentialReport", credential_report(STANDARD_REPORT)
        ),
        # Dates ahead of the clock: counted as recent, and worth a warning.
        add_users(FixtureDir("test_future_dates_in_rows_warn"), ["ahead"]).add(
            "iam",
            "GetCredentialReport",
            credential_report(
                report_csv(
                    [
                        report_row(
                            "ahead",
                            [
                                {"created": days_ago(400), "used": days_ago(-3)},
                                {"created": datetime(3000, 1, 1, tzinfo=timezone.utc)},
                            ],
                        )
                    ]
                )
            ),
        ),
        FixtureDir("test_root_keys_on_account")
        .add("iam", "ListAccountAliases", ok({"AccountAliases": ["example-prod"]}))
        .add("iam", "GetCredentialReport", credential_report(STANDARD_REPORT)),
    ]


# --- the live API failing ---

DENIED = error(
    403,
    "AccessDenied",
    "User: arn:aws:sts::123456789012:assumed-role/custodian/run is not authorized",
)


def live_fixtures() -> list[FixtureDir]:
    # bob's keys cannot be listed; dave's key vanished between list and read; erin is fine.
    errors = standard("test_live_errors_leave_keys_alone")
    errors.add("iam", "ListAccessKeys", error(500, "ServiceFailure", "internal error"))
    errors.add("iam", "ListAccessKeys", list_access_keys("dave-abandoned"))
    errors.add("iam", "GetAccessKeyLastUsed", error(404, "NoSuchEntity", "no such key"))
    live_keys(errors, "erin-two-keys").add("iam", "UpdateAccessKey", ok({}))
    # The role may read no flagged user's keys: every user is tried, then the policy stops.
    list_denied = standard("test_live_list_denied")
    read_denied = standard("test_live_last_used_denied")
    for user in FLAGGED_USERS:
        list_denied.add("iam", "ListAccessKeys", DENIED)
        read_denied.add("iam", "ListAccessKeys", list_access_keys(user))
        read_denied.add("iam", "GetAccessKeyLastUsed", DENIED)
    # An SCP denies IAM on bob and dave: erin's stale key is still disabled.
    one_denied = standard("test_denied_users_leave_the_others_judged")
    one_denied.add("iam", "ListAccessKeys", DENIED).add("iam", "ListAccessKeys", DENIED)
    live_keys(one_denied, "erin-two-keys").add("iam", "UpdateAccessKey", ok({}))
    # erin's first key vanished between her listing and its last use: her other key is
    # still judged, and disabled.
    one_key_unread = standard("test_a_key_whose_last_use_fails_leaves_the_other_judged")
    for user in ("bob-stale", "dave-abandoned"):
        live_keys(one_key_unread, user)
    one_key_unread.add("iam", "ListAccessKeys", list_access_keys("erin-two-keys"))
    one_key_unread.add("iam", "GetAccessKeyLastUsed", error(404, "NoSuchEntity", "no such key"))
    one_key_unread.add("iam", "GetAccessKeyLastUsed", last_used(K["erin2"]))
    for _ in ("bob", "dave", "erin2"):
        one_key_unread.add("iam", "UpdateAccessKey", ok({}))
    return [errors, list_denied, read_denied, one_denied, one_key_unread]


def acting_fixtures() -> list[FixtureDir]:
    # c7n's access-key filter lists every user's keys first; the plugin then reads the
    # flagged users' keys live, and remove-keys acts on what both kept.
    narrowed = standard("test_an_earlier_access_key_filter_narrows_the_keys")
    for user in USERS:
        narrowed.add("iam", "ListAccessKeys", list_access_keys(user))
    # It kept erin's fresh key only: her stale one is not acted on.
    for user in FLAGGED_USERS:
        live_keys(narrowed, user)
    for _ in ("bob", "dave"):
        narrowed.add("iam", "UpdateAccessKey", ok({}))
    # rotation-days 100 also flags alice (used yesterday) and gina (used exactly 90 days
    # ago), whose keys were created 150 and 120 days ago.
    rotation = standard("test_rotation_days_on_the_acting_path")
    for user in ROTATED_100:
        live_keys(rotation, user)
    for _ in ROTATED_100:
        rotation.add("iam", "UpdateAccessKey", ok({}))
    # rotation-days 100 first, then an or: of 90 days unused or a year unrotated: each user
    # is read live once, by the first filter; the or: intersects with it.
    union = standard("test_an_or_of_filters_after_another_intersects")
    for user in ROTATED_100:
        live_keys(union, user)
    for _ in FLAGGED_USERS:
        union.add("iam", "UpdateAccessKey", ok({}))
    # uma: one key unused for 110 days (created 150 days ago), one for 260 (created 400).
    uma = [
        {"id": "AKIAEXAMPLEUMA000001", "created": days_ago(150), "used": days_ago(110)},
        {"id": "AKIAEXAMPLEUMA000002", "created": days_ago(400), "used": days_ago(260)},
    ]
    intersect = add_users(FixtureDir("test_an_or_of_filters_narrows_to_the_first"), ["uma"])
    intersect.add(
        "iam", "GetCredentialReport", credential_report(report_csv([report_row("uma", uma)]))
    )
    live_keys(intersect, "uma", uma).add("iam", "UpdateAccessKey", ok({}))
    # An or: alone, whose first branch flags both of uma's keys and the second one of them.
    unites = add_users(FixtureDir("test_an_or_of_filters_unites_what_each_branch_flagged"), ["uma"])
    unites.add(
        "iam", "GetCredentialReport", credential_report(report_csv([report_row("uma", uma)]))
    )
    live_keys(unites, "uma", uma)
    for _ in uma:
        unites.add("iam", "UpdateAccessKey", ok({}))
    return [narrowed, rotation, union, intersect, unites]


def scope_fixtures() -> list[FixtureDir]:
    # Two report-only policies under c7n's memory cache: users and report read once.
    return [standard("test_no_earlier_findings_on_users_matched_another_way")]


def run_fixtures() -> list[FixtureDir]:
    # One policy run twice: the second run lists, fetches and reads live again.
    twice = with_listed_keys(standard("test_each_run_reads_keys_live_afresh"))
    add_users(twice, list(USERS)).add(
        "iam", "GetCredentialReport", credential_report(STANDARD_REPORT)
    )
    with_listed_keys(twice)
    # Two filters of one policy; the second accepts a report at most an hour old.
    return [
        twice,
        standard("test_a_stricter_filter_of_the_same_run_fetches_again")
        .add("iam", "GetCredentialReport", credential_report(STANDARD_REPORT))
        .add("iam", "GenerateCredentialReport", ok({"State": "COMPLETE"}))
        .add("iam", "GetCredentialReport", credential_report(STANDARD_REPORT)),
    ]


def every_fixture() -> list[FixtureDir]:
    return (
        all_fixtures()
        + source_fixtures()
        + live_fixtures()
        + acting_fixtures()
        + scope_fixtures()
        + run_fixtures()
    )


def write_all(dirs: list[FixtureDir]) -> None:
    for fixtures in dirs:
        fixtures.write()
        print(fixtures.path.relative_to(PLACEBO.parent.parent.parent))


def main() -> None:
    write_all(every_fixture())


if __name__ == "__main__":
    main()

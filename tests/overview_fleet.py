"""Synthetic fleets of accounts, written to disk as c7n-org writes its runs' outputs.

For inputs too large or too long-lived to make with moto (the benchmark's 1,000 accounts,
the README's screenshot over five weeks): ``<root>/<date>/<account name>/<region>/<policy>/``
with ``metadata.json`` and ``resources.json`` in c7n's own shape (c7n/ctx.py's metadata,
serialised with c7n's ``dumps``), each matched user carrying the plugin's own annotation
entries (``findings.unused_key`` / ``verified_key``) for the keys ``rule.stale_reasons`` finds
stale at that run's time. The end-to-end tests check the same reader on real c7n-org runs.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from c7n.utils import dumps
from c7n.version import version as c7n_version

from c7n_keyage.credential_report.parse import AccessKey
from c7n_keyage.stale.findings import access_entry, credential_entry, unused_key, verified_key
from c7n_keyage.stale.rule import stale_reasons
from c7n_keyage.stale.verify import Stale, live_key

REGION = "us-east-1"
DAYS = 90
REPORT_POLICY = {
    "name": "iam-access-key-unused-90",
    "resource": "iam-user",
    "filters": [{"type": "access-key-unused", "days": DAYS}],
}
DISABLE_POLICY = {
    "name": "iam-access-key-unused-disable",
    "resource": "iam-user",
    "filters": [{"type": "access-key-unused", "days": DAYS}],
    "actions": [{"type": "remove-keys", "matched": True, "disable": True}],
}
# The key lifecycle (issue 15): a policy deleting keys retired 30 days ago. Its resources
# carry c7n:retired-keys records (as its filter saw them, before the action), and c7n keeps
# the action's per-key results in action-deleteretiredkeys.
LIFECYCLE_POLICY = {
    "name": "iam-access-key-delete-retired",
    "resource": "iam-user",
    "filters": [{"type": "retired-keys", "days": 30}],
    "actions": [{"type": "delete-retired-keys"}],
}
LIFECYCLE_RESULTS = "action-deleteretiredkeys"


def delete_outcome(record: dict) -> str:
    """What delete-retired-keys does with a record: a key still disabled and unused since
    is deleted, one used since is kept, and a record whose key is active or gone is removed."""
    if record["status"] == "Inactive":
        return "kept" if record["used_since_retired"] else "deleted"
    return "record-removed"


OTHER_POLICY = {
    "name": "iam-user-no-mfa",
    "resource": "iam-user",
    "filters": [{"type": "credential", "key": "mfa_active", "value": False}],
}
_SERVICES = (("s3", "us-east-1"), ("ec2", "eu-west-1"), ("sts", "us-west-2"), ("lambda", None))


@dataclass
class Key:
    user: str
    slot: int
    key_id: str
    created: datetime
    used: datetime | None
    service: str | None
    region: str | None
    disabled_on: datetime | None = None  # by a remove-keys run

    def access_key(self, now: datetime) -> AccessKey:
        active = self.disabled_on is None or self.disabled_on > now
        return AccessKey(self.slot, active, self.created, self.used, self.service, self.region)


@dataclass
class Account:
    account_id: str
    name: str
    keys: list[Key] = field(default_factory=list)
    # Dates from which its remove-keys policy runs too (after the report-only one).
    disable_from: datetime | None = None
    # c7n:retired-keys records by user, written by a lifecycle policy on the last date.
    lifecycle: dict[str, list[dict]] = field(default_factory=dict)


def _key_id(rng: random.Random) -> str:
    return "AKIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))


def add_keys(account: Account, rng: random.Random, count: int, now: datetime, ages=None) -> None:
    """``count`` keys in users of one or two keys; ``ages`` draws (days since creation, days
    since last use or None) at ``now``; by default old enough to be stale at ``now``."""

    def stale_ages() -> tuple[int, int | None]:
        created = rng.randint(200, 1400)
        return created, None if rng.random() < 0.3 else rng.randint(91, created - 1)

    draw = ages or stale_ages
    slot, user = 2, ""
    for _ in range(count):
        if slot == 2 or rng.random() < 0.7:
            user, slot = f"{account.name}-svc-{len(account.keys):04d}", 1
        else:
            slot = 2
        created_ago, used_ago = draw()
        service, region = rng.choice(_SERVICES)
        account.keys.append(
            Key(
                user=user,
                slot=slot,
                key_id=_key_id(rng),
                created=now - timedelta(days=created_ago, seconds=rng.randint(0, 86399)),
                used=None if used_ago is None else now - timedelta(days=used_ago, hours=3),
                service=None if used_ago is None else service,
                region=None if used_ago is None else region,
            )
        )


def _user(account: Account, name: str, created: datetime) -> dict:
    # What c7n's describe source returns for a user (GetUser), as c7n serialises it.
    return {
        "Path": "/",
        "UserName": name,
        "UserId": "AIDA" + uuid.uuid5(uuid.NAMESPACE_DNS, name).hex[:17].upper(),
        "Arn": f"arn:aws:iam::{account.account_id}:user/{name}",
        "CreateDate": created.isoformat(),
        "Tags": [{"Key": "team", "Value": account.name.split("-")[0]}],
    }


def resources_at(account: Account, now: datetime, acting: bool) -> list[dict]:
    """The users the filter matches at ``now``, with its annotations, as resources.json
    holds them; ``acting``: a policy with remove-keys (entries verified, with key IDs)."""
    by_user: dict[str, list[tuple[Key, list[str]]]] = {}
    for key in account.keys:
        if reasons := stale_reasons(key.access_key(now), now, DAYS):
            by_user.setdefault(key.user, []).append((key, reasons))
    resources = []
    for name, flagged in by_user.items():
        user = _user(account, name, min(k.created for k, _ in flagged))
        if acting:
            listed = {
                k.key_id: {
                    "UserName": name,
                    "AccessKeyId": k.key_id,
                    "Status": "Active",
                    "CreateDate": k.created.isoformat(),
                }
                for k, _ in flagged
            }
            stale = [Stale(live_key(listed[k.key_id]), k.access_key(now), r) for k, r in flagged]
            user["c7n:unused-keys"] = [verified_key(s, now) for s in stale]
            user["c7n:matched-keys"] = [access_entry(entry) for entry in listed.values()]
            user["c7n:AccessKeys"] = list(listed.values())
        else:
            user["c7n:unused-keys"] = [unused_key(k.access_key(now), r, now) for k, r in flagged]
            user["c7n:matched-keys"] = [credential_entry(k.access_key(now)) for k, _ in flagged]
        resources.append(user)
    return resources


def write_run(
    directory: Path,
    policy: dict,
    account: Account,
    started: datetime,
    resources: list,
    results: dict[str, list] | None = None,
) -> None:
    """One policy's run in one account, as c7n's ExecutionContext leaves it."""
    directory.mkdir(parents=True, exist_ok=True)
    start = started.timestamp()
    metadata = {
        "policy": policy,
        "version": c7n_version,
        "execution": {
            "id": str(uuid.uuid4()),
            "start": start,
            "end_time": start + 0.4,
            "duration": 0.4,
        },
        "config": {
            "region": REGION,
            "regions": [],
            "cache": f"~/.cache/{account.account_id}-{REGION}.cache",
            "profile": None,
            "account_id": account.account_id,
            "assume_role": f"arn:aws:iam::{account.account_id}:role/custodian-keyage",
            "output_dir": str(directory.parent),
            "cache_period": 15,
            "dryrun": False,
        },
        "sys-stats": {},
        "api-stats": {"iam.GetCredentialReport": 1},
        "metrics": [],
    }
    (directory / "resources.json").write_text(dumps(resources, indent=2))
    (directory / "metadata.json").write_text(dumps(metadata, indent=2))
    (directory / "custodian-run.log").write_text("")
    for name, returned in (results or {}).items():  # as c7n's PullMode writes them
        (directory / name).write_text(dumps(returned))


def write_fleet(
    root: Path, accounts: list[Account], dates: list[datetime], other_policy: bool = False
) -> None:
    """Every account's runs on every date, one directory per date (as a daily c7n-org job
    with ``-s out/$(date +%F)`` leaves them)."""
    for started in dates:
        day = root / started.date().isoformat()
        for account in accounts:
            base = day / account.name / REGION
            at = started
            write_run(
                base / REPORT_POLICY["name"],
                REPORT_POLICY,
                account,
                at,
                resources_at(account, at, False),
            )
            if account.disable_from is not None and started >= account.disable_from:
                at = started + timedelta(seconds=30)
                flagged = resources_at(account, at, True)
                write_run(base / DISABLE_POLICY["name"], DISABLE_POLICY, account, at, flagged)
                disabled = {e["access_key_id"] for u in flagged for e in u["c7n:unused-keys"]}
                for key in account.keys:
                    if key.key_id in disabled:
                        key.disabled_on = at
            if other_policy:
                write_run(base / OTHER_POLICY["name"], OTHER_POLICY, account, at, [])
            if account.lifecycle and started == dates[-1]:
                users = [
                    {**_user(account, name, started - timedelta(days=800)), "c7n:retired-keys": r}
                    for name, r in account.lifecycle.items()
                ]
                results = [
                    {
                        "UserName": name,
                        "AccessKeyId": r["access_key_id"],
                        "outcome": delete_outcome(r),
                        "reason": "synthetic",
                    }
                    for name, rs in account.lifecycle.items()
                    for r in rs
                ]
                write_run(
                    base / LIFECYCLE_POLICY["name"],
                    LIFECYCLE_POLICY,
                    account,
                    at,
                    users,
                    {LIFECYCLE_RESULTS: results},
                )


def scale_fleet(
    accounts: int, stale_keys: int, now: datetime, seed: int = 20261202
) -> list[Account]:
    """``accounts`` accounts with ``stale_keys`` keys each, all stale at ``now``."""
    rng = random.Random(seed)
    fleet = []
    for i in range(accounts):
        account = Account(f"{100000000000 + i:012d}", f"acct-{i:04d}")
        add_keys(account, rng, stale_keys, now)
        fleet.append(account)
    return fleet


# The README's screenshot: twelve accounts over five weekly runs; two start disabling their
# stale keys on the third date, and one has key lifecycle records.
DEMO_DATES = [datetime(2026, 11, 4, 6, tzinfo=timezone.utc) + timedelta(weeks=w) for w in range(5)]
DEMO_ACCOUNTS = (
    # name, keys stale from the start, keys going stale over the five weeks
    ("payments-prod", 9, 2),
    ("payments-dev", 17, 4),
    ("data-lake", 31, 3),
    ("ml-training", 12, 6),
    ("web-prod", 4, 1),
    ("web-staging", 11, 2),
    ("ci-build", 23, 5),
    ("identity", 2, 0),
    ("logging", 0, 0),
    ("sandbox-01", 19, 2),
    ("sandbox-02", 7, 3),
    ("legacy-erp", 26, 1),
)


def demo_fleet(seed: int = 7) -> list[Account]:
    rng = random.Random(seed)
    first = DEMO_DATES[0]
    fleet = []
    for i, (name, old, going) in enumerate(DEMO_ACCOUNTS):
        account = Account(f"{210987654300 + i * 11:012d}", name)
        add_keys(account, rng, old, first)
        # Used (or, never used, created) 60 to 88 days before the first run: stale later.
        add_keys(
            account,
            rng,
            going,
            first,
            lambda: (
                (rng.randint(150, 400), rng.randint(60, 88))
                if rng.random() < 0.6
                else (rng.randint(60, 88), None)
            ),
        )
        fleet.append(account)
    by_name = {a.name: a for a in fleet}
    for name in ("legacy-erp", "sandbox-01"):
        by_name[name].disable_from = DEMO_DATES[2]
    retired = DEMO_DATES[1].isoformat().replace("+00:00", "Z")
    by_name["identity"].lifecycle = {
        f"identity-batch-{n}": [
            {
                "access_key_id": _key_id(rng),
                "retired_at": retired,
                "policy": "iam-access-key-retire",
                "status": status,
                "used_since_retired": status == "Active",
            }
        ]
        for n, status in enumerate(("Inactive", "Inactive", "Inactive", "Active", "missing"))
    }
    return fleet


def truth(fleet: list[Account], dates: list[datetime]) -> dict:
    """What the report must say about a fleet ``write_fleet`` wrote, counted from the fleet's
    own keys and the rule, not from any output: the contract's words, one by one.

    Per date, a key counts if the rule finds it stale at that date's run and no remove-keys
    run of that date disabled it (each date's runs take under a minute here). An account's
    figures are its latest date's; ages are days since last use, or since creation when never
    used; a user counts once per account however many of its keys are stale.
    """
    per_date: dict[str, dict[str, list[tuple[Key, list[str], int]]]] = {}
    for started in dates:
        day = per_date.setdefault(started.date().isoformat(), {})
        for account in fleet:
            day[account.account_id] = [
                (key, reasons, (started - (key.used or key.created)).days)
                for key in account.keys
                if (reasons := stale_reasons(key.access_key(started), started, DAYS))
                and not (key.disabled_on and key.disabled_on <= started + timedelta(minutes=1))
            ]
    latest = per_date[max(per_date)]
    reasons = ("unused", "never-used", "unrotated")
    accounts = {
        account_id: {
            "stale_users": len({key.user for key, _, _ in stale}),
            "stale_keys": len(stale),
            "by_reason": {r: sum(r in why for _, why, _ in stale) for r in reasons},
            "oldest_days": max((age for _, _, age in stale), default=0),
        }
        for account_id, stale in latest.items()
    }
    ages = [age for stale in latest.values() for _, _, age in stale]
    edges = {"0-90": (0, 90), "91-180": (91, 180), "181-365": (181, 365), "366-730": (366, 730)}
    buckets = {label: sum(low <= a <= high for a in ages) for label, (low, high) in edges.items()}
    buckets["731+"] = sum(a >= 731 for a in ages)
    records = [r for a in fleet for rs in a.lifecycle.values() for r in rs]
    return {
        "accounts": accounts,
        "totals": {
            "stale_users": sum(a["stale_users"] for a in accounts.values()),
            "stale_keys": len(ages),
            "by_reason": {r: sum(a["by_reason"][r] for a in accounts.values()) for r in reasons},
            "oldest_days": max(ages, default=0),
        },
        "age_buckets": buckets,
        "runs": {
            day: {account_id: len(stale) for account_id, stale in by_account.items()}
            for day, by_account in per_date.items()
        },
        "disabled": sum(key.disabled_on is not None for a in fleet for key in a.keys),
        "outcomes": {
            "delete-retired-keys": {
                o: sum(delete_outcome(r) == o for r in records)
                for o in (
                    "retired",
                    "restored",
                    "deleted",
                    "record-removed",
                    "kept",
                    "refused",
                    "failed",
                )
            }
        }
        if records
        else {},
        "lifecycle": {
            "retired": sum(r["status"] == "Inactive" for r in records),
            "restored": sum(r["status"] == "Active" for r in records),
            "deleted": sum(r["status"] == "missing" for r in records),
            "used_since_retired": sum(r["used_since_retired"] for r in records),
        },
    }


def as_truth(overview: dict) -> dict:
    """The report's JSON in ``truth``'s shape, to compare the two whole."""
    strip = ("stale_users", "stale_keys", "by_reason", "oldest_days")
    return {
        "accounts": {a["account_id"]: {k: a[k] for k in strip} for a in overview["accounts"]},
        "totals": {k: overview["totals"][k] for k in strip},
        "age_buckets": overview["age_buckets"],
        "runs": {r["date"]: r["accounts"] for r in overview["runs"]},
        "disabled": overview["remediation"]["actions"]["disabled"],
        "lifecycle": overview["remediation"]["lifecycle"],
        "outcomes": overview["remediation"]["outcomes"],
    }

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
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from c7n.utils import dumps
from c7n.version import version as c7n_version

from c7n_keyage.credential_report.parse import AccessKey
from c7n_keyage.overview.combine import run_order
from c7n_keyage.overview.fleet import Fleet
from c7n_keyage.overview.runs import Run, parse_run
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
# The key lifecycle: a policy deleting keys retired 30 days ago. Its resources
# carry c7n:retired-keys records (as its filter saw them, before the action), and c7n keeps
# the action's per-key results in action-deleteretiredkeys.
LIFECYCLE_POLICY = {
    "name": "iam-access-key-delete-retired",
    "resource": "iam-user",
    "filters": [{"type": "retired-keys", "days": 30}],
    "actions": [{"type": "delete-retired-keys"}],
}
LIFECYCLE_RESULTS = "action-deleteretiredkeys"


GRACE = timedelta(days=30)  # LIFECYCLE_POLICY's days


def delete_outcome(record: dict, now: datetime) -> str:
    """What delete-retired-keys does with a record: a key still disabled, retired more than
    the grace ago and unused since is deleted; one used since, or not yet due, is kept; a
    record whose key is active or gone is removed."""
    if record["status"] != "Inactive":
        return "record-removed"
    due = datetime.fromisoformat(record["delete_after"].replace("Z", "+00:00"))
    return "kept" if record["used_since_retired"] or due > now else "deleted"


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
    # The last date its runner ran (it stopped reporting after it); None: every date.
    stops_after: datetime | None = None

    def ran(self, started: datetime) -> bool:
        return self.stops_after is None or started <= self.stops_after


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
        "Tags": [
            {"Key": "team", "Value": account.name.split("-")[0]},
            {"Key": "Owner", "Value": f"{account.name}-leads@example.com"},
        ],
    }


def _verified(account: Account, name: str, flagged: list, now: datetime) -> dict:
    """A user as a policy with remove-keys leaves it: entries verified, with key IDs."""
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
    return {
        "c7n:unused-keys": [verified_key(s, now) for s in stale],
        "c7n:matched-keys": [access_entry(entry) for entry in listed.values()],
        "c7n:AccessKeys": list(listed.values()),
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
            user |= _verified(account, name, flagged, now)
        else:
            user["c7n:unused-keys"] = [unused_key(k.access_key(now), r, now) for k, r in flagged]
            user["c7n:matched-keys"] = [credential_entry(k.access_key(now)) for k, _ in flagged]
        resources.append(user)
    return resources


@dataclass
class Output:
    """One policy's run in one account, as c7n's ExecutionContext leaves it."""

    parts: tuple[str, ...]  # the directories below the output's root
    metadata: dict
    resources: list
    results: dict[str, list] = field(default_factory=dict)  # action-<name>: what it returned


def metadata_of(policy: dict, account: Account, started: datetime, output_dir: str) -> dict:
    start = started.timestamp()
    return {
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
            "output_dir": output_dir,
            "cache_period": 15,
            "dryrun": False,
        },
        "sys-stats": {},
        "api-stats": {"iam.GetCredentialReport": 1},
        "metrics": [],
    }


def write_output(root: Path, output: Output) -> None:
    directory = root.joinpath(*output.parts)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "resources.json").write_text(dumps(output.resources, indent=2))
    (directory / "metadata.json").write_text(dumps(output.metadata, indent=2))
    (directory / "custodian-run.log").write_text("")
    for name, returned in output.results.items():  # as c7n's PullMode writes them
        (directory / name).write_text(dumps(returned))


def write_run(directory, policy, account, started, resources, results=None) -> None:
    """One policy's run in one account, in ``directory``."""
    metadata = metadata_of(policy, account, started, str(directory.parent))
    write_output(directory, Output((), metadata, resources, results or {}))


def _output(base: tuple, policy: dict, account: Account, at: datetime, resources, results=None):
    parts = (*base, policy["name"])
    return Output(parts, metadata_of(policy, account, at, "/".join(base)), resources, results or {})


def _lifecycle_run(base: tuple, account: Account, at: datetime) -> Output:
    users = [
        {**_user(account, name, at - timedelta(days=800)), "c7n:retired-keys": records}
        for name, records in account.lifecycle.items()
    ]
    results = [
        {"UserName": name, "AccessKeyId": r["access_key_id"], "outcome": delete_outcome(r, at),
         "reason": "synthetic"}
        for name, records in account.lifecycle.items()
        for r in records
    ]  # fmt: skip
    return _output(base, LIFECYCLE_POLICY, account, at, users, {LIFECYCLE_RESULTS: results})


def _disable_run(base: tuple, account: Account, at: datetime) -> Output:
    flagged = resources_at(account, at, True)
    disabled = {e["access_key_id"] for u in flagged for e in u["c7n:unused-keys"]}
    for key in account.keys:
        if key.key_id in disabled:
            key.disabled_on = at
    return _output(base, DISABLE_POLICY, account, at, flagged)


def fleet_outputs(accounts: list[Account], dates: list[datetime], other_policy: bool = False):
    """Every account's runs on every date, one directory per date (as a daily c7n-org job
    with ``-s out/$(date +%F)`` leaves them), in the order they run."""
    for started in dates:
        for account in (a for a in accounts if a.ran(started)):
            base = (started.date().isoformat(), account.name, REGION)
            at = started
            yield _output(base, REPORT_POLICY, account, at, resources_at(account, at, False))
            if account.disable_from is not None and started >= account.disable_from:
                at = started + timedelta(seconds=30)
                yield _disable_run(base, account, at)
            if other_policy:
                yield _output(base, OTHER_POLICY, account, at, [])
            if account.lifecycle and started == dates[-1]:  # never one that stops
                yield _lifecycle_run(base, account, at)


def write_fleet(
    root: Path, accounts: list[Account], dates: list[datetime], other_policy: bool = False
) -> None:
    for output in fleet_outputs(accounts, dates, other_policy):
        write_output(root, output)


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


# The identity account's retired keys: (status, retired on, used since): two due for
# deletion, one not yet, one restored, one gone, one used after it was retired.
RETIREMENTS = (
    ("Inactive", DEMO_DATES[0] - timedelta(days=10), False),
    ("Inactive", DEMO_DATES[0] - timedelta(days=10), False),
    ("Inactive", DEMO_DATES[3], False),
    ("Active", DEMO_DATES[1], True),
    ("missing", DEMO_DATES[1], False),
    ("Inactive", DEMO_DATES[1], True),
)


def retirement(key_id: str, status: str, when: datetime, used: bool) -> dict:
    """A c7n:retired-keys record as the lifecycle's filter writes it in a delete policy."""
    return {
        "access_key_id": key_id,
        "retired_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "policy": "iam-access-key-retire",
        "status": status,
        "used_since_retired": used,
        "delete_after": (when + GRACE).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


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
    by_name["identity"].lifecycle = {
        f"identity-batch-{n}": [retirement(_key_id(rng), status, when, used)]
        for n, (status, when, used) in enumerate(RETIREMENTS)
    }
    by_name["sandbox-02"].stops_after = DEMO_DATES[2]
    return fleet


REASONS = ("unused", "never-used", "unrotated")
OUTCOMES = ("retired", "restored", "deleted", "record-removed", "kept", "refused", "failed")


def stale_on(fleet: list[Account], started: datetime) -> dict[str, list[tuple]]:
    """Each account's stale keys at a date's run, (key, reasons, age): the rule finds the key
    stale then, and no remove-keys run of that date (a minute later) disabled it."""
    return {
        account.account_id: [
            (key, reasons, (started - (key.used or key.created)).days)
            for key in account.keys
            if (reasons := stale_reasons(key.access_key(started), started, DAYS))
            and not (key.disabled_on and key.disabled_on <= started + timedelta(minutes=1))
        ]
        for account in fleet
    }


def figures(stale: list[tuple]) -> dict:
    """A user counts once however many of its keys are stale; a key's age is days since its
    last use, or since its creation when never used."""
    return {
        "stale_users": len({key.user for key, _, _ in stale}),
        "stale_keys": len(stale),
        "by_reason": {r: sum(r in why for _, why, _ in stale) for r in REASONS},
        "oldest_days": max((age for _, _, age in stale), default=0),
    }


def age_buckets(ages: list[int]) -> dict[str, int]:
    edges = {"0-90": (0, 90), "91-180": (91, 180), "181-365": (181, 365), "366-730": (366, 730)}
    buckets = {label: sum(low <= a <= high for a in ages) for label, (low, high) in edges.items()}
    buckets["731+"] = sum(a >= 731 for a in ages)
    return buckets


def lifecycle_now(records: list[dict], now: datetime) -> dict[str, int]:
    """Each recorded key after the delete run: deleted when it deleted it, still retired when
    it kept it, else as its record says (Active: restored; missing: deleted)."""
    status = {"deleted": "deleted", "kept": "retired"}
    states = [
        status.get(delete_outcome(r, now))
        or {"Inactive": "retired", "Active": "restored", "missing": "deleted"}[r["status"]]
        for r in records
    ]
    counts = {s: states.count(s) for s in ("retired", "restored", "deleted")}
    return {**counts, "used_since_retired": sum(r["used_since_retired"] for r in records)}


def as_of_each_date(fleet: list[Account], dates: list[datetime]) -> dict[str, dict]:
    """Per date, each account's stale keys at its latest run on or before that date."""
    per_date: dict[str, dict] = {}
    held: dict[str, list[tuple]] = {}
    for started in dates:
        held |= stale_on([a for a in fleet if a.ran(started)], started)
        per_date[started.date().isoformat()] = dict(held)
    return per_date


def truth(fleet: list[Account], dates: list[datetime]) -> dict:
    """What the report must say about a fleet ``write_fleet`` wrote, counted from the fleet's
    own keys and the rule, not from any output: the contract's words, one by one. An account
    that stopped running counts with its last run."""
    per_date = as_of_each_date(fleet, dates)
    latest = per_date[max(per_date)]
    accounts = {account_id: figures(stale) for account_id, stale in latest.items()}
    every = [found for stale in latest.values() for found in stale]
    records = [r for a in fleet for rs in a.lifecycle.values() for r in rs]
    outcomes = {o: sum(delete_outcome(r, dates[-1]) == o for r in records) for o in OUTCOMES}
    return {
        "accounts": accounts,
        "totals": figures(every)
        | {"stale_users": sum(a["stale_users"] for a in accounts.values())},
        "age_buckets": age_buckets([age for _, _, age in every]),
        "runs": {
            day: {account_id: len(stale) for account_id, stale in by_account.items()}
            for day, by_account in per_date.items()
        },
        "disabled": sum(key.disabled_on is not None for a in fleet for key in a.keys),
        "outcomes": {"delete-retired-keys": outcomes} if records else {},
        "lifecycle": lifecycle_now(records, dates[-1]),
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


# Runs made by hand, one scenario at a time: the shapes c7n and the plugin write, with the
# fields a scenario needs and nothing drawn at random.
KEYAGE_FILTERS = [{"type": "access-key-unused", "days": DAYS}]


def entry(slot, created, *, used=None, reasons=("unused",), key_id=None, age=200) -> dict:
    """One c7n:unused-keys entry as the filter writes it: report-only, or verified (with
    the key's ID) when ``key_id`` is given."""
    found = {
        "slot": slot,
        "last_rotated": created,
        "last_used_date": used,
        "last_used_service": "s3" if used else None,
        "last_used_region": "us-east-1" if used else None,
        "reasons": list(reasons),
        "days_since_use": age if used else None,
        "days_since_rotation": age,
        "verified": key_id is not None,
    }
    if key_id is not None:
        found["access_key_id"] = key_id
    return found


def write_hand_run(
    root: Path,
    account_id: str,
    policy: str,
    started: datetime,
    users: dict[str, list[dict]],
    *,
    actions: list | None = None,
    filters: list | None = None,
    records: dict[str, list[dict]] | None = None,
    results: dict[str, list[dict]] | None = None,
) -> Path:
    """One policy's run in one account, at ``<root>/<account>/<policy>-<start>``: users
    with their c7n:unused-keys entries, c7n:retired-keys records, the actions' results."""
    data = {"name": policy, "resource": "iam-user", "filters": filters or KEYAGE_FILTERS}
    if actions:
        data["actions"] = actions
    account = Account(account_id, f"acct-{account_id}")
    resources = []
    for name in sorted(set(users) | set(records or {})):
        user = _user(account, name, started - timedelta(days=900))
        if name in users:
            user["c7n:unused-keys"] = users[name]
        if records and name in records:
            user["c7n:retired-keys"] = records[name]
        resources.append(user)
    directory = root / account_id / f"{policy}-{started:%Y%m%dT%H%M%S}"
    write_run(directory, data, account, started, resources, results)
    return directory


def runs_of(outputs) -> Iterator[Run]:
    """The runs the reader makes of ``fleet_outputs``, without files: the same parse."""
    for output in outputs:
        run = parse_run(
            "/".join(output.parts),
            output.metadata,
            output.resources,
            warn=_fail,
            path_parts=output.parts[:-1],
            results=list(output.results.items()),
        )
        if run is not None:
            yield run


def _fail(message: str) -> None:
    raise AssertionError(f"a synthetic run warned: {message}")


def fold(runs) -> Fleet:
    """A fleet of ``runs``, added in the order they started, as the reader gives them."""
    fleet = Fleet()
    for run in sorted(runs, key=run_order):
        fleet.add(run)
    return fleet

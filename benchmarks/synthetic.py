"""Synthetic IAM accounts: a credential report in AWS's format and the matching key listings.

The report has AWS's 22 columns in AWS's order, a ``<root_account>`` row, ``N/A`` for absent
values, ``no_information`` / ``not_supported`` where AWS writes them, and dates to the second
(``2015-04-16T15:14:00+00:00``); ``Content`` is plain CSV text. A fixed seed draws the same
users in the same order for every N, so the first 100 users of every account are the same.

Each key's truth (active, created, last used) is kept beside the CSV so the benchmark can
check that each filter matched what its rule says before trusting its timing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from tests.support.placebo_fixtures import HEADER  # the report's 22 columns, in AWS's order

ACCOUNT_ID = "123456789012"
SEED = 20261101
DAYS = 90

_PREFIXES = ("svc", "ci", "dev.ops", "app+batch", "data_eng", "ext@partner")
_SERVICES = (("s3", "us-east-1"), ("ec2", "eu-west-1"), ("sts", "us-west-2"), ("iam", "N/A"))


@dataclass(frozen=True)
class Key:
    slot: int
    key_id: str
    active: bool
    created: datetime
    used: datetime | None


@dataclass
class Account:
    """One synthetic account: the report's CSV, the users, and each user's keys."""

    now: datetime
    csv: str
    users: list[str]
    keys: dict[str, list[Key]] = field(default_factory=dict)
    # key ID -> (service, region) of its last use, as the report's columns give them.
    last_used_where: dict[str, tuple[str, str]] = field(default_factory=dict)

    def resource(self, i: int) -> dict:
        """User ``i`` as GetUser gives it (a new dict each call)."""
        name = self.users[i]
        return {
            "Path": "/",
            "UserName": name,
            "UserId": f"AIDA{i:016d}",
            "Arn": f"arn:aws:iam::{ACCOUNT_ID}:user/{name}",
            "CreateDate": self.now - timedelta(days=1500),
            "Tags": [],
        }

    def resources(self) -> list[dict]:
        """The iam-user resources as ListUsers + GetUser would give them, fresh each call."""
        return [self.resource(i) for i in range(len(self.users))]

    def list_access_keys(self, user: str) -> list[dict]:
        """ListAccessKeys' AccessKeyMetadata: CreateDate to the second, as real AWS gives it."""
        return [
            {
                "UserName": user,
                "AccessKeyId": key.key_id,
                "Status": "Active" if key.active else "Inactive",
                "CreateDate": key.created,
            }
            for key in self.keys.get(user, ())
        ]

    # --- what each rule should match, from the truth rather than from the CSV ---

    def stale(self, key: Key) -> bool:
        """The plugin's rule at days 90 (Panther AWS.AccessKey.Unused)."""
        limit = timedelta(days=DAYS)
        since = key.used if key.used is not None else key.created
        return key.active and self.now - since > limit

    def stale_keys(self) -> list[Key]:
        return [k for u in self.users for k in self.keys[u] if self.stale(k)]

    def builtin_keys(self) -> list[Key]:
        """Keys the built-in recipe + remove-keys matched: true acts on: active, used > 90 d."""
        limit = timedelta(days=DAYS)
        return [
            k
            for u in self.expected_builtin()
            for k in self.keys[u]
            if k.active and k.used is not None and self.now - k.used > limit
        ]

    def expected_plugin(self) -> list[str]:
        return [u for u in self.users if any(self.stale(k) for k in self.keys.get(u, ()))]

    def expected_builtin(self) -> list[str]:
        """The two credential filters: an active key, and any key (even inactive) used > 90 d ago.

        Never-used keys never match (a None date fails ``value_type: age``), and the two
        filters match independently per user, not per key (cloud-custodian #5583).
        """
        limit = timedelta(days=DAYS)
        out = []
        for user in self.users:
            keys = self.keys.get(user, ())
            if any(k.active for k in keys) and any(
                k.used is not None and self.now - k.used > limit for k in keys
            ):
                out.append(user)
        return out


def iso(value: datetime | None) -> str:
    return "N/A" if value is None else value.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _age(rng: random.Random, low: float, high: float) -> float:
    """A whole number of days plus a random time of day, kept clear of the 90-day edge.

    A run lasts minutes; nudging ages at least an hour off 90 days keeps the expected
    matches the same whether they are computed at generation time or when a filter runs.
    """
    days = rng.uniform(low, high)
    if abs(days - DAYS) < 0.05:
        days += 0.1
    return days


def _key(
    rng: random.Random, now: datetime, user_age: float, slot: int, index: int, never_used: float
) -> Key:
    created_age = _age(rng, 0, min(user_age, 1800))
    created = (now - timedelta(days=created_age)).replace(microsecond=0)
    active = rng.random() < 0.85
    draw = rng.random()
    if draw < never_used:
        used = None  # never used: N/A
    else:
        draw = rng.random()
        if draw < 0.55:
            used_age = _age(rng, 0, 30)
        elif draw < 0.75:
            used_age = _age(rng, 30, 90)
        else:
            used_age = _age(rng, 90, 1500)
        used_age = min(used_age, created_age)
        used = (now - timedelta(days=used_age)).replace(microsecond=0)
    return Key(slot, f"AKIA{index:012d}{slot}BCH"[:20], active, created, used)


def _key_columns(key: Key | None, rng: random.Random, where: dict) -> list[str]:
    if key is None:
        return ["false", "N/A", "N/A", "N/A", "N/A"]
    if key.used is None:
        region, service = "N/A", "N/A"
    else:
        service, region = _SERVICES[rng.randrange(len(_SERVICES))]
        where[key.key_id] = (service, region)
    return ["true" if key.active else "false", iso(key.created), iso(key.used), region, service]


def make_account(
    n: int, now: datetime | None = None, seed: int = SEED, never_used: float = 0.15
) -> Account:
    """An account of ``n`` IAM users (plus the root row), the same for the same seed.

    ``never_used`` is the share of keys never used; 0 gives a report on which the built-in
    recipe and ``access-key-unused`` flag the same keys.
    """
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    rng = random.Random(seed)
    account = Account(now=now, csv="", users=[])
    lines = [HEADER, _root_row(now)]
    for i in range(n):
        name = f"{_PREFIXES[i % len(_PREFIXES)]}-{i:05d}"
        user_age = _age(rng, 1, 2500)
        draw = rng.random()
        count = 0 if draw < 0.15 else 1 if draw < 0.75 else 2
        keys = [_key(rng, now, user_age, slot, i, never_used) for slot in range(1, count + 1)]
        if count == 2 and rng.random() < 0.3:
            # Slot 1 is not always the older key: a deleted slot 1 is refilled later.
            keys = [Key(1, *_fields(keys[1])), Key(2, *_fields(keys[0]))]
        elif count == 1 and rng.random() < 0.1:
            keys = [Key(2, *_fields(keys[0]))]  # the key sits in slot 2, slot 1 is empty
        slots: list[Key | None] = [None, None]
        for key in keys:
            slots[key.slot - 1] = key
        account.users.append(name)
        account.keys[name] = keys
        where = account.last_used_where
        lines.append(",".join(_user_fields(rng, now, name, user_age, slots, where)))
    account.csv = "\n".join(lines)
    return account


def _fields(key: Key) -> tuple:
    return key.key_id, key.active, key.created, key.used


def _user_fields(rng, now, name, user_age, slots, where) -> list[str]:
    created = (now - timedelta(days=user_age)).replace(microsecond=0)
    password = rng.random() < 0.4
    if not password:
        last_used, changed, next_rotation = "N/A", "N/A", "N/A"
    else:
        draw = rng.random()
        last_used = (
            "no_information"
            if draw < 0.1
            else "N/A"
            if draw < 0.2
            else iso(now - timedelta(days=rng.uniform(0, user_age)))
        )
        changed = iso(now - timedelta(days=rng.uniform(0, user_age)))
        next_rotation = "N/A"
    cert = rng.random() < 0.02
    return [
        name,
        f"arn:aws:iam::{ACCOUNT_ID}:user/{name}",
        iso(created),
        "true" if password else "false",
        last_used,
        changed,
        next_rotation,
        "true" if password and rng.random() < 0.7 else "false",
        *_key_columns(slots[0], rng, where),
        *_key_columns(slots[1], rng, where),
        "true" if cert else "false",
        iso(created) if cert else "N/A",
        "false",
        "N/A",
    ]


def _root_row(now: datetime) -> str:
    created = iso(now - timedelta(days=3000))
    return ",".join(
        [
            "<root_account>",
            f"arn:aws:iam::{ACCOUNT_ID}:root",
            created,
            "not_supported",
            iso(now - timedelta(days=40)),
            "not_supported",
            "not_supported",
            "true",
            "false",
            iso(now - timedelta(days=2000)),
            iso(now - timedelta(days=1900)),
            "us-east-1",
            "s3",
            "false",
            "N/A",
            "N/A",
            "N/A",
            "N/A",
            "false",
            "N/A",
            "false",
            "N/A",
        ]
    )

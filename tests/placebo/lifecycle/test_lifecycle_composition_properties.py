"""Lifecycle policy composition, as a property: random trees, random records, random keys.

Each example seeds users on a local IAM endpoint (moto, in this process) whose keys carry
random retirement records (by one of three policies, of random ages, with or without what
the retirement saw of the key's last use) and random states (Inactive, Active again, gone;
last use unchanged, reported late, used after the retirement, never used), then runs one
policy through c7n's own machinery: a random ``and`` / ``or`` / ``not`` tree of
``retired-keys`` (``days``, ``policy``, ``within-hours``), ``value`` and tag filters, with
``restore-keys`` or ``delete-retired-keys``.

The reference is written from the issue's and the documented text, not from the code: a key
is changed only if its own record satisfies the policy's filters evaluated for that record
(a ``retired-keys`` filter by the record's options, any other filter by its user), and
then as the action promises (restore: an Inactive key is re-enabled; delete: an Inactive
key past the grace whose last use is still what its retirement saw, or, for a record that
does not say, is still never used); a record whose key is gone or Active again is removed.
Whatever validation refuses (a restore or delete without a ``retired-keys`` filter every
matched user passed, ``retired-keys`` under ``not:``, a delete without a grace) is never
run. Failures replay: the suite's hypothesis profile is derandomized.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from c7n.exceptions import PolicyValidationError
from c7n.utils import reset_session_cache
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from moto.iam.models import iam_backends

from c7n_keyage.lifecycle.record import TAG_PREFIX as PREFIX
from c7n_keyage.lifecycle.record import Seen, format_record, format_time
from c7n_keyage.testing import load_policy
from tests.support.localiam import DEFAULT_ACCOUNT_ID, KeySpec, LocalIAM, UserSpec

pytestmark = pytest.mark.slow

RECORDS_FILTER, RESTORE, DELETE = "retired-keys", "restore-keys", "delete-retired-keys"
POLICIES = ["retire-a", "retire-b", "retire-c"]
# Ages and limits stay far apart: no example sits on a boundary.
AGES = [timedelta(days=45), timedelta(days=100), timedelta(days=10)]
AGES += [timedelta(hours=50), timedelta(hours=2)]
DAYS, WITHIN = [0, 1, 30, 60], [96, 24]
STATES = ["Inactive", "Active", "gone"]
# What the key's last use is now, against what its retirement saw.
USES = ["unchanged", "never", "late", "first-use-late", "after"]
GONE_KEY = "AKIAGONEKEY{:09d}"
# What the keys are drawn from, weighted by repetition towards the keys a restore or a
# delete changes (Inactive, retired long ago, last use as the retirement saw it, a record
# that says so), so that random examples restore and delete, not only keep.
DRAWN_AGES = [AGES[0], AGES[1], AGES[0], AGES[1], *AGES[2:]]
DRAWN_STATES = ["Inactive"] * 4 + ["Active", "gone"]
DRAWN_USES = ["unchanged", "never"] * 3 + USES[2:]


# --- the reference ---


@dataclass(frozen=True)
class Retired:
    user: str
    key_id: str
    policy: str
    age: timedelta
    state: str  # Inactive, Active, gone
    use: str  # one of USES
    recorded: bool  # the record says what its retirement saw

    def unchanged_last_use(self) -> bool:
        """The live last use is what the retirement saw; without it, still never used."""
        if not self.recorded:
            return self.use == "never"
        return self.use in ("unchanged", "never")


def block(data) -> tuple[str, list] | None:
    if isinstance(data, dict) and len(data) == 1 and next(iter(data)) in ("and", "or", "not"):
        return next(iter(data.items()))
    return None


def user_filter(data: dict, spec: UserSpec) -> bool:
    if "tag:team" in data:
        team = dict(spec.tags).get("team")
        return team is None if data["tag:team"] == "absent" else team == data["tag:team"]
    if data["key"] == "Path":
        return spec.path == data["value"]
    return re.match(data["value"], spec.name) is not None


def options_accept(data: dict, record: Retired) -> bool:
    """Retired by ``policy``, less than ``within-hours`` ago, more than ``days`` ago."""
    if data.get("policy", record.policy) != record.policy:
        return False
    if "within-hours" in data and record.age >= timedelta(hours=data["within-hours"]):
        return False
    return not data.get("days") or record.age > timedelta(days=data["days"])


def chooses(data, record: Retired, spec: UserSpec) -> bool:
    """The policy's filters evaluated for one record."""
    if found := block(data):
        kind, parts = found
        answers = [chooses(p, record, spec) for p in parts]
        if kind == "or":
            return any(answers)
        return not all(answers) if kind == "not" else all(answers)
    if data.get("type") == RECORDS_FILTER:
        return options_accept(data, record)
    return user_filter(data, spec)


def firm(filters: list, inside: tuple = ()) -> list[dict]:
    """The retired-keys filters every matched user passed: not inside not: or or:."""
    found = []
    for data in filters:
        if kind := (block(data) or (None,))[0]:
            found += firm(data[kind], (*inside, kind))
        elif data.get("type") == RECORDS_FILTER and not {"not", "or"} & set(inside):
            found.append(data)
    return found


def negated(filters: list, inside: bool = False) -> bool:
    for data in filters:
        if found := block(data):
            if negated(found[1], inside or found[0] == "not"):
                return True
        elif data.get("type") == RECORDS_FILTER and inside:
            return True
    return False


def refused(filters: list, action: str) -> bool:
    grace = max((f.get("days") or 0 for f in firm(filters)), default=0)
    return not firm(filters) or negated(filters) or (action == DELETE and grace < 1)


def expected(record: Retired, action: str, grace: int) -> str:
    """What happens to a chosen record: restored, deleted, removed (the record only), kept."""
    if record.state != "Inactive":
        return "removed"
    if action == RESTORE:
        return "restored"
    due = record.age > timedelta(days=grace) and record.unchanged_last_use()
    return "deleted" if due else "kept"


# --- what hypothesis draws ---


@dataclass(frozen=True)
class KeyDraw:
    """One seeded key and its record (``policy`` None: no record)."""

    user: str
    slot: int
    policy: str | None
    age: timedelta
    state: str
    use: str
    recorded: bool


@st.composite
def worlds(draw) -> tuple[list[UserSpec], list[KeyDraw]]:
    specs, keys = [], []
    for n in range(draw(st.integers(2, 3))):
        team = draw(st.sampled_from([None, "red"]))
        spec = UserSpec(
            f"u{n}",
            [KeySpec(400, None)] * draw(st.integers(1, 2)),
            {"team": team} if team else {},
            path=draw(st.sampled_from(["/", "/service/"])),
        )
        specs.append(spec)
        for slot in range(len(spec.keys)):
            keys.append(
                KeyDraw(
                    spec.name,
                    slot,
                    draw(st.sampled_from([*POLICIES, *POLICIES, None])),
                    draw(st.sampled_from(DRAWN_AGES)),
                    draw(st.sampled_from(DRAWN_STATES)),
                    draw(st.sampled_from(DRAWN_USES)),
                    draw(st.sampled_from([True, True, True, False])),
                )
            )
    return specs, keys


def records_filter(days, policy, within) -> dict:
    data = {"type": RECORDS_FILTER}
    data.update({k: v for k, v in (("days", days), ("policy", policy)) if v is not None})
    return data | ({"within-hours": within} if within else {})


RECORDS_LEAF = st.builds(
    records_filter,
    st.sampled_from([None, None, *DAYS]),
    st.sampled_from([None, None, None, *POLICIES]),
    st.sampled_from([None, None, None, *WITHIN]),
)
# The retired-keys filter a delete is written around: a grace, and often no other option.
DELETE_LEAF = st.builds(
    records_filter,
    st.sampled_from([30, 1, 30, 60]),
    st.sampled_from([None, None, *POLICIES]),
    st.sampled_from([None, None, None, 96]),
)
# Those most users pass first: examples where records are chosen are the ones that test.
USER_LEAF = st.sampled_from(
    [
        {"tag:team": "absent"},
        {"type": "value", "key": "UserName", "op": "regex", "value": "u[01]"},
        {"type": "value", "key": "Path", "value": "/"},
        {"tag:team": "red"},
        {"type": "value", "key": "Path", "value": "/service/"},
    ]
)


def trees(leaves, kinds=("and", "or", "not")) -> st.SearchStrategy:
    def blocks(children):
        return st.one_of(
            *(
                st.lists(children, min_size=1, max_size=2 if kind == "not" else 3).map(
                    lambda c, kind=kind: {kind: c}
                )
                for kind in kinds
            )
        )

    return st.recursive(leaves, blocks, max_leaves=3)


ANY_TREE = trees(st.one_of(RECORDS_LEAF, USER_LEAF))
# What a restore or a delete is written with: records chosen by and/or of retired-keys,
# users by any blocks of user filters, and or:/and: blocks mixing both.
RECORD_TREE, USER_TREE = trees(RECORDS_LEAF, ("and", "or")), trees(USER_LEAF)
CLAUSE = st.one_of(
    RECORD_TREE,
    USER_TREE,
    st.lists(st.one_of(RECORD_TREE, USER_TREE), min_size=2, max_size=3).map(lambda c: {"or": c}),
)


@st.composite
def policies(draw) -> dict:
    action = draw(st.sampled_from([DELETE, RESTORE]))
    # One in five: anything at all, much of it refused (hypothesis draws small integers
    # more often than others: a choice among five, not integers(0, 4) == 0).
    if draw(st.sampled_from(["written", "written", "written", "written", "anything"])) != "written":
        filters = draw(st.lists(ANY_TREE, min_size=1, max_size=3))
    else:
        first = draw(DELETE_LEAF if action == DELETE else RECORDS_LEAF)
        filters = draw(st.permutations([first, *draw(st.lists(CLAUSE, max_size=2))]))
    return {
        "name": "under-test",
        "resource": "iam-user",
        "filters": filters,
        "actions": [{"type": action}],
    }


# --- the runs ---


@pytest.fixture(scope="module")
def endpoint():
    with LocalIAM(aws_like_report=False) as local, pytest.MonkeyPatch.context() as env:
        for name, value in local.env().items():
            env.setenv(name, value)
        yield local


def arrange(local: LocalIAM, ids: dict, keys: list[KeyDraw]) -> list[Retired]:
    """Give each drawn key its record, last use and state; the records, as the reference
    sees them."""
    backend = iam_backends[DEFAULT_ACCOUNT_ID]["global"]
    now = datetime.now(timezone.utc).replace(microsecond=0)
    found = []
    for draw in keys:
        key_id = ids[draw.user][draw.slot]
        if draw.policy is None:
            continue
        retired = now - draw.age
        seen, live = uses(draw.use, retired)
        key, value = format_record(key_id, retired, draw.policy, Seen(seen))
        if not draw.recorded:  # the older form, which does not say what was seen
            value = f"{format_time(retired)} {draw.policy}"
        backend.tag_user(draw.user, [{"Key": key, "Value": value}])
        if live is not None:
            local.use_key(draw.user, key_id, when=live)
        if draw.state == "gone":
            backend.delete_access_key(key_id, draw.user)
        else:
            backend.update_access_key(draw.user, key_id, draw.state)
        found.append(
            Retired(draw.user, key_id, draw.policy, draw.age, draw.state, draw.use, draw.recorded)
        )
    return found


def uses(use: str, retired: datetime) -> tuple[datetime | None, datetime | None]:
    """(what the retirement saw, the live last use now) for a kind of use."""
    long_ago, just_before = retired - timedelta(days=200), retired - timedelta(minutes=5)
    return {
        "unchanged": (long_ago, long_ago),
        "never": (None, None),
        "late": (long_ago, just_before),
        "first-use-late": (None, just_before),
        "after": (long_ago, retired + timedelta(hours=1)),
    }[use]


def observe(specs: list[UserSpec]) -> tuple[dict[str, str], set[str]]:
    """Every key's status (a gone key is absent) and the keys with a record, now."""
    backend = iam_backends[DEFAULT_ACCOUNT_ID]["global"]
    status, recorded = {}, set()
    for spec in specs:
        for key in backend.users[spec.name].access_keys:
            status[key.access_key_id] = key.status
        for tag in backend.list_user_tags(spec.name):
            if tag["Key"].startswith(PREFIX):
                recorded.add(tag["Key"].removeprefix(PREFIX))
    return status, recorded


def predicted(record: Retired, data: dict, specs: dict[str, UserSpec]) -> tuple[str, bool]:
    """The key's status and whether its record is there, after the run, per the reference."""
    action = data["actions"][0]["type"]
    grace = max((f.get("days") or 0 for f in firm(data["filters"])), default=0)
    before = (record.state, True)
    if not chooses({"and": data["filters"]}, record, specs[record.user]):
        return before
    return {
        "removed": (record.state, False),
        "restored": ("Active", False),
        "deleted": ("gone", False),
        "kept": before,
    }[expected(record, action, grace)]


def policy(action: str, *filters: dict) -> dict:
    return {
        "name": "under-test",
        "resource": "iam-user",
        "filters": list(filters),
        "actions": [{"type": action}],
    }


def one_user(*keys: tuple, team: str | None = None) -> tuple[list[UserSpec], list[KeyDraw]]:
    """u0 with one key per ``(policy, age, state, use, recorded)``."""
    spec = UserSpec("u0", [KeySpec(400, None)] * len(keys), {"team": team} if team else {})
    return [spec], [KeyDraw("u0", slot, *key) for slot, key in enumerate(keys)]


R30 = {"type": RECORDS_FILTER, "days": 30}
BY = {p: {"type": RECORDS_FILTER, "policy": p} for p in POLICIES}
OLD = AGES[0]


@settings(
    max_examples=int(os.environ.get("KEYAGE_LIFECYCLE_EXAMPLES", "50")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds(), data=policies())
# The first item: retire-c's key went with retire-a's, its user holding both.
@example(
    world=one_user(
        ("retire-a", OLD, "Inactive", "unchanged", True),
        ("retire-c", OLD, "Inactive", "never", True),
    ),
    data=policy(DELETE, R30, {"or": [BY["retire-a"], BY["retire-b"]]}),
)
# An or: of a record's policy and a user filter the user fails: only that policy's records.
@example(
    world=one_user(
        ("retire-a", OLD, "Inactive", "late", True),
        ("retire-c", OLD, "Inactive", "unchanged", False),
    ),
    data=policy(RESTORE, {"type": RECORDS_FILTER}, {"or": [BY["retire-a"], {"tag:team": "red"}]}),
)
# Late uses, and a record that does not say what its retirement saw: kept; never used: gone.
@example(
    world=one_user(
        ("retire-a", OLD, "Inactive", "first-use-late", True),
        ("retire-b", OLD, "Inactive", "never", False),
    ),
    data=policy(DELETE, R30),
)
def test_lifecycle_composition(endpoint, tmp_path, world, data):
    local = endpoint
    local.reset()
    reset_session_cache()
    specs, keys = world
    records = arrange(local, local.seed_in_process(specs), keys)
    before, _ = observe(specs)
    session = boto3.Session(region_name="us-east-1")
    action = data["actions"][0]["type"]
    local.clear_calls()
    try:
        policy = load_policy(
            data, lambda region=None, assume=None: session, output_dir=str(tmp_path)
        )
    except PolicyValidationError as refusal:
        assert refused(data["filters"], action), f"refused what the documentation allows: {refusal}"
        assert local.calls == [], "a refused policy called IAM"
        event("refused")
        return
    assert not refused(data["filters"], action), "accepted what the documentation refuses"
    policy.run()
    status, recorded = observe(specs)

    by_user = {s.name: s for s in specs}
    unrecorded = set(before) - {r.key_id for r in records}
    assert {k: status.get(k, "gone") for k in unrecorded} == {k: before[k] for k in unrecorded}
    for record in records:
        now = (status.get(record.key_id, "gone"), record.key_id in recorded)
        want = predicted(record, data, by_user)
        if now[0] != record.state:
            assert chooses({"and": data["filters"]}, record, by_user[record.user]), (
                f"{record}: its key changed ({now[0]}), but the policy's filters evaluated for "
                "its own record do not choose it"
            )
        assert now == want, f"{record}: {now} after the run, the reference says {want}"
    for outcome in sorted({happened(r, status, recorded) for r in records}):
        event(f"{action}: some key {outcome}")


def happened(record: Retired, status: dict[str, str], recorded: set[str]) -> str:
    """What became of one record's key in a run, for the statistics of the examples."""
    now = status.get(record.key_id, "gone")
    if now != record.state:
        return "deleted" if now == "gone" else "restored"
    return "left as it was" if record.key_id in recorded else "record removed"

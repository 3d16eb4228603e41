"""Policy composition, as a property: random policy trees, random accounts, random drift.

Each example seeds an account on a local IAM endpoint (moto, with AWS's 4-hour report
snapshot), has the report generated, then changes keys behind it (used, disabled, deleted,
rotated: the snapshot drifts from the live state), and runs two policies through c7n's own
machinery with c7n's memory cache, as ``custodian run --cache memory`` does with a file of
two: an earlier report-only policy, then the policy under test. That policy is a random
tree of ``and`` / ``or`` / ``not`` over ``access-key-unused`` (random options), c7n's
``credential`` on user columns (password, MFA), ``value`` on ``Path`` and ``UserName`` and
tag filters, with ``remove-keys`` (disable or delete) or no action.

The reference below is written from the documented text (docs/reference.md: the rule, the
composition rules, what a policy that acts on keys changes), not from the code. Invariants:

- ``validate()`` refuses exactly the compositions the documentation refuses, and a policy it
  accepts never crashes;
- a report-only policy changes nothing, and matches exactly the users its tree matches;
- no key changes unless it is stale by the live data and an ``access-key-unused`` of the
  policy flagged its user in the report;
- the output lists every key changed;
- nothing of the earlier policy's verdict is used, and nothing is silently missed: the keys
  changed are exactly those the tree confirms (an ``and`` intersects the keys its filters
  confirm, an ``or`` unites them, other filters only choose users).

Failures replay: the suite's hypothesis profile is derandomized and prints the example.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import boto3
import pytest
from c7n.cache import InMemoryCache
from c7n.exceptions import PolicyValidationError
from c7n.utils import reset_session_cache
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from c7n_keyage.testing import load_policy
from tests.support.localiam import KeySpec, LocalIAM, UserSpec

# Each example seeds a local IAM endpoint and runs two policies: minutes in all.
pytestmark = pytest.mark.slow

FILTER = "access-key-unused"
ALL = "all"  # the keys a filter that names none leaves to the others

# Ages and limits keep ten days or more apart: no example sits on a boundary. Hypothesis
# leans to the first values: stale ones come first, so most examples have keys to act on.
CREATED = [400, 250, 150, 100, 60, 10]
USED = [160, None, 260, 110, 70, 40, 1]
DAYS = [90, 30, 200]
ROTATION = [None, 120, 300]
DRIFT = ["none", "none", "used", "disabled", "deleted", "rotated"]


# --- the reference: the documented rule and composition rules (docs/reference.md) ---


@dataclass(frozen=True)
class Key:
    key_id: str
    active: bool
    created: int  # days ago
    used: int | None  # days ago; None: never


def stale(key: Key, options: dict) -> bool:
    """An active key used more than ``days`` ago, or never used and created more than
    ``days`` ago; with ``rotation-days``, also one created more than that many days ago."""
    if not key.active:
        return False
    days = options.get("days", 90)
    since = key.used if key.used is not None else key.created
    rotation = options.get("rotation-days")
    return since > days or (rotation is not None and key.created > rotation)


@dataclass
class User:
    spec: UserSpec
    report: list[Key]  # as the snapshot has them
    live: list[Key] = field(default_factory=list)  # after the drift

    def flagged(self, options: dict) -> bool:
        return any(stale(k, options) for k in self.report)

    def live_stale(self, options: dict) -> frozenset[str]:
        return frozenset(k.key_id for k in self.live if stale(k, options))


def block(data: dict) -> str | None:
    if isinstance(data, dict) and len(data) == 1 and next(iter(data)) in ("and", "or", "not"):
        return next(iter(data))
    return None


def only_filters(data: dict) -> bool:
    if block(data) == "or":
        return all(only_filters(d) for d in data["or"])
    return data.get("type") == FILTER


def holds_filter(data: dict) -> bool:
    kind = block(data)
    return any(holds_filter(d) for d in data[kind]) if kind else data.get("type") == FILTER


def refused(filters: list, acting: bool, negated: bool = False) -> bool:
    """In a policy that acts on keys: no access-key-unused under not:, and an or: that
    holds one holds nothing else but such filters (or or: blocks of them)."""
    if not acting:
        return False
    for data in filters:
        kind = block(data)
        if kind is None:
            if data.get("type") == FILTER and negated:
                return True
            continue
        if kind == "or" and holds_filter(data) and not only_filters(data):
            return True
        if refused(data[kind], acting, negated or kind == "not"):
            return True
    return False


def leaf(data: dict, user: User) -> bool:
    spec = user.spec
    tags = dict(spec.tags)
    if data.get("type") == "credential":
        return {"password_enabled": spec.password, "mfa_active": spec.mfa}[data["key"]] == data[
            "value"
        ]
    if "tag:team" in data:
        wanted = data["tag:team"]
        if wanted == "present":
            return "team" in tags
        if wanted == "absent":
            return "team" not in tags
        return tags.get("team") == wanted
    if data.get("key") == "Path":
        return spec.path == data["value"]
    if data.get("key") == "UserName":
        return re.match(data["value"], spec.name) is not None
    raise AssertionError(f"no reference for {data}")


def evaluate(data: dict, user: User, verifying: bool) -> tuple[bool, frozenset | str]:
    """Whether ``user`` passes ``data``, and the keys it confirms (``ALL``: it names none)."""
    kind = block(data)
    if kind is None and data.get("type") == FILTER:
        if not user.flagged(data):
            return False, frozenset()
        if not (verifying or data.get("resolve-key-ids")):
            return True, ALL
        confirmed = user.live_stale(data)
        return bool(confirmed), confirmed
    if kind is None:
        return leaf(data, user), ALL
    results = [evaluate(d, user, verifying) for d in data[kind]]
    if kind == "not":
        return not all(ok for ok, _ in results), ALL
    if kind == "and":
        return conjunction(results)
    passing = [keys for ok, keys in results if ok]
    if not passing:
        return False, frozenset()
    if ALL in passing:
        return True, ALL
    return True, frozenset().union(*passing)


def conjunction(results: list[tuple[bool, frozenset | str]]) -> tuple[bool, frozenset | str]:
    if not all(ok for ok, _ in results):
        return False, frozenset()
    keys: frozenset | str = ALL
    for _, found in results:
        if found != ALL:
            keys = found if keys == ALL else keys & found
    return True, keys


# --- what hypothesis draws ---


@st.composite
def keys(draw) -> KeySpec:
    created = draw(st.sampled_from(CREATED))
    used = draw(st.sampled_from([u for u in USED if u is None or u < created]))
    return KeySpec(created, used, active=draw(st.sampled_from([True, True, True, False])))


@st.composite
def accounts(draw) -> list[UserSpec]:
    count = draw(st.integers(2, 5))
    users = []
    for n in range(count):
        team = draw(st.sampled_from([None, "red", "blue"]))
        users.append(
            UserSpec(
                f"u{n}",
                draw(st.lists(keys(), min_size=0 if n == 0 else 1, max_size=2)),
                {"team": team} if team else {},
                path=draw(st.sampled_from(["/", "/service/"])),
                password=draw(st.booleans()),
                mfa=draw(st.booleans()),
            )
        )
    return users


def access_key_unused(report_only: bool) -> st.SearchStrategy[dict]:
    def build(days, rotation, resolve):
        data = {"type": FILTER, "days": days}
        if rotation:
            data["rotation-days"] = rotation
        if resolve:
            data["resolve-key-ids"] = True
        return data

    return st.builds(
        build,
        st.sampled_from(DAYS),
        st.sampled_from(ROTATION),
        st.booleans() if report_only else st.just(False),
    )


OTHERS = st.sampled_from(
    [
        {"type": "credential", "key": "password_enabled", "value": True},
        {"type": "credential", "key": "password_enabled", "value": False},
        {"type": "credential", "key": "mfa_active", "value": True},
        {"type": "credential", "key": "mfa_active", "value": False},
        {"tag:team": "present"},
        {"tag:team": "absent"},
        {"tag:team": "red"},
        {"type": "value", "key": "Path", "value": "/service/"},
        {"type": "value", "key": "UserName", "op": "regex", "value": "u[024]"},
    ]
)


def trees(report_only: bool) -> st.SearchStrategy[dict]:
    """Any tree of the filters: many a policy that acts on keys must refuse."""
    leaves = st.one_of(access_key_unused(report_only), OTHERS)
    return st.recursive(leaves, blocks, max_leaves=5)


def blocks(children: st.SearchStrategy[dict]) -> st.SearchStrategy[dict]:
    return st.one_of(
        st.lists(children, min_size=1, max_size=3).map(lambda c: {"and": c}),
        st.lists(children, min_size=1, max_size=3).map(lambda c: {"or": c}),
        st.lists(children, min_size=1, max_size=2).map(lambda c: {"not": c}),
    )


def key_clauses(report_only: bool) -> st.SearchStrategy[dict]:
    """What names keys in a policy that acts on them: a filter, an or: of filters, or
    either in an and: beside filters that choose users."""
    one = access_key_unused(report_only)
    union = st.lists(one, min_size=2, max_size=3).map(lambda c: {"or": c})
    clause = st.one_of(one, union)
    beside = st.tuples(clause, st.lists(user_trees(), min_size=1, max_size=1))
    return st.one_of(clause, beside.map(lambda t: {"and": [t[0], *t[1]]}))


def user_trees() -> st.SearchStrategy[dict]:
    """Filters that only choose users, in any blocks."""
    return st.recursive(OTHERS, blocks, max_leaves=3)


@st.composite
def policies(draw) -> dict:
    action = draw(st.sampled_from(["report", "disable", "delete", "disable", "delete"]))
    report_only = action == "report"
    source = draw(st.sampled_from(["describe", "credential-report"]))
    if draw(st.integers(0, 3)) == 0:
        filters = draw(st.lists(trees(report_only), min_size=1, max_size=3))
    else:
        filters = [
            *draw(st.lists(key_clauses(report_only), min_size=1, max_size=3)),
            *draw(st.lists(user_trees(), max_size=1)),
        ]
        filters = draw(st.permutations(filters))
    if source == "credential-report" or not any(holds_filter(f) for f in filters):
        # The report source takes access-key-unused as its first filter.
        filters = [draw(access_key_unused(report_only)), *filters]
    data = {"name": "under-test", "resource": "iam-user", "source": source, "filters": filters}
    if not report_only:
        data["actions"] = [{"type": "remove-keys", "matched": True, "disable": action == "disable"}]
    return data


EARLIER = st.builds(
    lambda days, resolve: {
        "name": "earlier",
        "resource": "iam-user",
        "filters": [{"type": FILTER, "days": days, "resolve-key-ids": resolve}],
    },
    st.sampled_from([30, 45, 120]),
    st.booleans(),
)
DRIFTS = st.lists(st.sampled_from(DRIFT), min_size=10, max_size=10)


# --- the runs ---


@pytest.fixture(scope="module")
def endpoint():
    with LocalIAM() as local, pytest.MonkeyPatch.context() as env:
        for name, value in local.env().items():
            env.setenv(name, value)
        yield local


def drift(local: LocalIAM, specs: list[UserSpec], ids: dict, changes: list[str]) -> dict:
    """Change keys behind the report; return each user's live keys, in the reference's terms."""
    iam = local.client()
    changes = iter(changes * 2)
    live = {}
    for spec in specs:
        keys = []
        for key_id, key in zip(ids[spec.name], spec.keys, strict=True):
            change = next(changes)
            now = Key(key_id, key.active, key.created_days_ago, key.last_used_days_ago)
            if change == "used":
                local.use_key(spec.name, key_id)
                now = Key(key_id, key.active, key.created_days_ago, 0)
            elif change == "disabled":
                iam.update_access_key(UserName=spec.name, AccessKeyId=key_id, Status="Inactive")
                now = Key(key_id, False, key.created_days_ago, key.last_used_days_ago)
            elif change in ("deleted", "rotated"):
                iam.delete_access_key(UserName=spec.name, AccessKeyId=key_id)
                now = None
                if change == "rotated":
                    new = iam.create_access_key(UserName=spec.name)["AccessKey"]["AccessKeyId"]
                    keys.append(Key(new, True, 0, None))
            if now is not None:
                keys.append(now)
        live[spec.name] = keys
    return live


@settings(
    max_examples=int(os.environ.get("KEYAGE_COMPOSITION_EXAMPLES", "80")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=accounts(), data=policies(), earlier=EARLIER, changes=DRIFTS)
# An or: of filters after another filter that named keys: c7n's own merge would unite the
# or:'s keys with the earlier filter's (here both of u0's keys) instead of intersecting.
@example(
    specs=[
        UserSpec("u0", [KeySpec(150, 110), KeySpec(400, 260)]),
        UserSpec("u1", [KeySpec(400, 160)], password=True),
    ],
    data={
        "name": "under-test",
        "resource": "iam-user",
        "source": "describe",
        "filters": [
            {"type": FILTER, "days": 200},
            {"or": [{"type": FILTER, "days": 90}, {"type": FILTER, "days": 30}]},
        ],
        "actions": [{"type": "remove-keys", "matched": True, "disable": True}],
    },
    earlier={"name": "earlier", "resource": "iam-user", "filters": [{"type": FILTER, "days": 30}]},
    changes=["none"] * 10,
)
def test_policy_composition(endpoint, tmp_path, specs, data, earlier, changes):
    local = endpoint
    users = seeded_with_drift(local, specs, changes)
    before = local.key_states()
    session = boto3.Session(region_name="us-east-1")

    def factory(region=None, assume=None):
        return session

    acting = bool(data.get("actions"))
    expect_refused = refused(data["filters"], acting)
    try:
        policy = load_policy(data, factory, cache="memory", output_dir=str(tmp_path))
    except PolicyValidationError as refusal:
        assert expect_refused, f"refused a composition the documentation allows: {refusal}"
        event("refused")
        return
    assert not expect_refused, "accepted a composition the documentation refuses"
    load_policy(earlier, factory, cache="memory", output_dir=str(tmp_path)).run()
    local.clear_calls()
    resources = policy.run()  # a crash fails the example
    after = local.key_states()

    changed = {
        (user, key)
        for user, keys in before.items()
        for key, status in keys.items()
        if key not in after.get(user, {}) or (status, after[user][key]) == ("Active", "Inactive")
    }
    out = {r["UserName"]: r for r in resources or []}
    verdicts = {name: evaluate({"and": data["filters"]}, u, acting) for name, u in users.items()}

    event(f"{'acting' if acting else 'report only'}: {min(len(changed), 3)}+ keys changed")
    if not acting:
        assert changed == set()
        assert set(out) == {name for name, (ok, _) in verdicts.items() if ok}
        return
    check_acting(data, users, verdicts, changed, out, local.calls)


def seeded_with_drift(local, specs, changes) -> dict[str, User]:
    """A fresh account as ``specs`` say, its report generated, then drifted by ``changes``:
    each user's keys as the report saw them and as the live API shows them."""
    local.reset()
    InMemoryCache._InMemoryCache__shared_state.clear()
    reset_session_cache()
    ids = local.seed_in_process(specs)
    local.client().generate_credential_report()  # the snapshot the policies will read
    users = {
        s.name: User(
            s,
            [
                Key(i, k.active, k.created_days_ago, k.last_used_days_ago)
                for i, k in zip(ids[s.name], s.keys, strict=True)
            ],
        )
        for s in specs
    }
    for name, keys in drift(local, specs, ids, changes).items():
        users[name].live = keys
    return users


def check_acting(data, users, verdicts, changed, out, calls) -> None:
    """An acting policy changed exactly the keys the model finds, each flagged stale by one
    of its access-key-unused filters, listed in its output, by the action's own call."""
    akus = [d for d in walk(data["filters"])]
    for user, key in changed:
        assert any(users[user].flagged(f) and key in users[user].live_stale(f) for f in akus), (
            f"{user} {key}: changed, but no access-key-unused of the policy flagged it stale"
        )
        listed = {k.get("access_key_id") for k in out.get(user, {}).get("c7n:unused-keys", [])}
        assert key in listed, f"{user} {key}: changed, but not in the output"
    expected = {
        (name, key) for name, (ok, keys) in verdicts.items() if ok and keys != ALL for key in keys
    }
    assert changed == expected
    written = {(u, k["access_key_id"]) for u, r in out.items() for k in r["c7n:unused-keys"]}
    assert written == expected
    action = data["actions"][0]
    mutating = [c.action for c in calls if c.action in ("UpdateAccessKey", "DeleteAccessKey")]
    assert mutating == ["UpdateAccessKey" if action["disable"] else "DeleteAccessKey"] * len(
        expected
    )


def walk(filters: list) -> list[dict]:
    """Every access-key-unused of the policy, outside not: blocks."""
    found = []
    for data in filters:
        kind = block(data)
        if kind is None:
            if data.get("type") == FILTER:
                found.append(data)
        elif kind != "not":
            found.extend(walk(data[kind]))
    return found

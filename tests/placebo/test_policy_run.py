"""policy_run.py: a policy run starts from clean records, merges its own findings, and ends with
findings that are exactly the keys it will act on."""

from __future__ import annotations

import logging

import pytest
from c7n.exceptions import PolicyExecutionError

from c7n_keyage import policy_run
from c7n_keyage.names import ACCESS_KEYS, MATCHED_KEYS, UNUSED_KEYS


def entry(key_id: str, **more) -> dict:
    return {"AccessKeyId": key_id, "UserName": "u", "c7n:match-type": "access", **more}


def finding(key_id: str | None, *reasons: str, slot: int | None = 1) -> dict:
    found = {"slot": slot, "last_rotated": "2025-01-01T00:00:00+00:00", "reasons": list(reasons)}
    if key_id:
        found["access_key_id"] = key_id
    return found


class Manager:
    """What scope needs of c7n's resource manager: its policy data and filter_resources."""

    def __init__(self, data: dict, keep=lambda r: True):
        self.data = data
        self.keep = keep
        self.seen: list[dict] = []

    def filter_resources(self, resources, event=None):
        self.seen = [dict(r) for r in resources]
        self.event = event
        return [r for r in resources if self.keep(r)]


ACTING = {"name": "p", "actions": [{"type": "remove-keys", "matched": True}]}
REPORT_ONLY = {"name": "p"}


# --- matched keys and findings, merged ---


def test_entries_of_one_key_are_one_whatever_else_they_carry():
    ours = [entry("A", Status="Active"), entry("B")]
    theirs = [entry("A", Status="Active", CreateDate="listed apart"), entry("C")]
    assert policy_run.merge_keys(ours, theirs, "and") == [ours[0]]
    assert policy_run.merge_keys(ours, theirs, "or") == [*theirs, ours[1]]
    # Nothing before: the values themselves.
    assert policy_run.merge_keys(ours, None, "and") == ours
    assert policy_run.merge_keys(ours, None, "or") == ours


def test_report_entries_without_ids_compare_whole():
    a = {"last_rotated": "2025-01-01T00:00:00+00:00", "c7n:match-type": "credential"}
    b = dict(a, last_rotated="2024-01-01T00:00:00+00:00")
    assert policy_run.merge_keys([a, b], [dict(a)], "and") == [a]
    assert policy_run.merge_keys([a], [b], "or") == [b, a]
    assert policy_run.merge_keys([a], [], "and") == []


def test_findings_of_one_key_merge_their_reasons():
    unused = [finding("A", "unused"), finding("B", "never-used", slot=2)]
    unrotated = [finding("A", "unrotated"), finding("C", "unrotated")]
    assert policy_run.merge_findings(unused, unrotated, "and") == [
        finding("A", "unused", "unrotated")
    ]
    assert policy_run.merge_findings(unused, unrotated, "or") == [
        finding("A", "unused", "unrotated"),
        finding("C", "unrotated"),
        finding("B", "never-used", slot=2),
    ]
    assert policy_run.merge_findings(unused, None, "and") == unused
    assert policy_run.merge_findings(unused, None, "or") == unused


def test_unconfirmed_findings_are_told_apart_by_slot_and_creation():
    one, two = finding(None, "unused", slot=1), finding(None, "unused", slot=2)
    assert policy_run.merge_findings([one, two], [finding(None, "unrotated", slot=2)], "and") == [
        finding(None, "unused", "unrotated", slot=2)
    ]
    older = dict(one, last_rotated="2020-01-01T00:00:00+00:00")
    assert policy_run.merge_findings([one], [older], "and") == []


def test_findings_with_key_ids_are_told_apart_by_id_alone():
    # A key deleted and another created in its slot in the same second: two keys.
    first, second = finding("A", "unused"), finding("B", "never-used")
    assert policy_run.merge_findings([first], [second], "and") == []
    assert policy_run.merge_findings([first], [second], "or") == [second, first]


# --- a run: start, finish, and the wrapper ---


def test_a_run_starts_without_what_other_runs_wrote_about_keys():
    record = {
        "UserName": "u",
        MATCHED_KEYS: [entry("A")],
        UNUSED_KEYS: [finding("A", "unused")],
        ACCESS_KEYS: [{"AccessKeyId": "A"}],
        "c7n:MatchedFilters": ["tag:x"],
    }
    manager = Manager(REPORT_ONLY)
    policy_run.start(manager, [record])
    assert record == {"UserName": "u", "c7n:MatchedFilters": ["tag:x"]}


def test_a_policy_that_acts_on_keys_ends_with_exactly_its_matched_keys(caplog):
    caplog.set_level(logging.INFO, logger="custodian.keyage")
    both = {
        "UserName": "both",
        MATCHED_KEYS: [entry("A"), entry("B")],
        UNUSED_KEYS: [finding("A", "unused"), finding("B", "unused"), finding("C", "unused")],
    }
    narrowed = {"UserName": "narrowed", MATCHED_KEYS: [], UNUSED_KEYS: [finding("D", "unused")]}
    kept = policy_run.finish(Manager(ACTING), [narrowed, both])

    assert kept == [both]
    assert [f["access_key_id"] for f in both[UNUSED_KEYS]] == ["A", "B"]
    assert caplog.messages == [
        "policy:p user narrowed: no key is both confirmed stale and matched by the other "
        "filters; nothing to act on"
    ]


def test_a_report_only_policy_ends_as_c7n_left_it():
    record = {"UserName": "u", MATCHED_KEYS: [], UNUSED_KEYS: [finding(None, "unused")]}
    assert policy_run.finish(Manager(REPORT_ONLY), [record]) == [record]
    assert record[UNUSED_KEYS] == [finding(None, "unused")]


def test_bind_wraps_the_managers_filtering_once():
    manager = Manager(ACTING, keep=lambda r: r["UserName"] != "dropped")
    policy_run.bind(manager)
    wrapped = manager.filter_resources
    policy_run.bind(manager)
    assert manager.filter_resources is wrapped
    records = [
        {"UserName": "kept", UNUSED_KEYS: ["old"], MATCHED_KEYS: [entry("A")]},
        {"UserName": "dropped"},
    ]
    # The filters saw clean records; the one left with no matched key is not returned.
    assert manager.filter_resources(records, {"detail": "an event"}) == []
    assert manager.event == {"detail": "an event"}  # c7n's event filters need it
    assert manager.seen == [{"UserName": "kept"}, {"UserName": "dropped"}]
    policy_run.bind(None)  # a filter built without a manager (c7n's schema tools): nothing to do


# --- under c7n's memory cache, through whole policies ---

EARLIER = {
    "name": "earlier-30",
    "resource": "iam-user",
    "filters": [{"type": "access-key-unused", "days": 30}],
}


def by_name(name: str) -> dict:
    return {"type": "value", "key": "UserName", "value": name}


@pytest.mark.parametrize(
    "matched_another_way",
    [
        {"or": [by_name("gina-exactly-90")]},
        {"not": [{"type": "value", "key": "UserName", "op": "ne", "value": "gina-exactly-90"}]},
    ],
    ids=["or-branch", "not-block"],
)
def test_no_earlier_findings_on_users_matched_another_way(
    replay_from, frozen, run_policy, memory_cache, matched_another_way
):
    """gina is stale at 30 days (the earlier policy's findings), not at 90: matched here by
    name alone, she must carry none of them; bob, matched by this policy's filter, his own."""
    replay = replay_from("test_no_earlier_findings_on_users_matched_another_way")
    later = {
        "name": "gina-or-stale-bob",
        "resource": "iam-user",
        "filters": [
            {
                "or": [
                    matched_another_way,
                    {"and": [by_name("bob-stale"), {"type": "access-key-unused", "days": 90}]},
                ]
            }
        ],
    }
    earlier = run_policy(EARLIER, replay, cache=memory_cache)
    resources = run_policy(later, replay, cache=memory_cache).resources

    assert "gina-exactly-90" in [r["UserName"] for r in earlier.resources]
    found = {r["UserName"]: r for r in resources}
    assert sorted(found) == ["bob-stale", "gina-exactly-90"]
    assert UNUSED_KEYS not in found["gina-exactly-90"]
    assert MATCHED_KEYS not in found["gina-exactly-90"]
    assert [k["reasons"] for k in found["bob-stale"][UNUSED_KEYS]] == [["unused"]]
    # One listing and one report for both policies: they did share the records.
    assert replay.operations().count("ListUsers") == 1
    assert replay.operations().count("GetCredentialReport") == 1


def test_a_listed_key_never_equals_a_report_entry():
    listed = entry("A")
    from_report = {"last_rotated": "2025-01-01T00:00:00+00:00", "c7n:match-type": "credential"}
    assert policy_run.merge_keys([listed], [from_report], "and") == []
    assert policy_run.merge_keys([from_report], [listed], "and") == []
    assert policy_run.merge_keys([listed], [from_report], "or") == [from_report, listed]


def test_each_run_reads_keys_live_afresh(replay, frozen, run_policy):
    """The same policy run twice (a warm Lambda, a test): the second run reads users, report
    and keys again; nothing of the first run's reads is used."""
    policy = run_policy(
        {
            "name": "ids",
            "resource": "iam-user",
            "filters": [{"type": "access-key-unused", "resolve-key-ids": True}],
        },
        replay,
    )
    first = list(replay.operations())
    second = policy.run()

    assert replay.operations() == first * 2
    assert [r["UserName"] for r in second] == [r["UserName"] for r in policy.resources]


def test_a_filter_run_on_its_own_keeps_a_run_of_its_own(replay_from, frozen, run_policy):
    """Cloud Custodian's own unit tests call a filter's process() directly, outside
    filter_resources: the filter still has a run to keep its live reads in."""
    from c7n_keyage.testing import load_policy

    replay = replay_from("test_resolve_key_ids")
    policy = load_policy(
        {
            "name": "ids",
            "resource": "iam-user",
            "filters": [{"type": "access-key-unused", "resolve-key-ids": True}],
        },
        replay,
    )
    manager = policy.resource_manager
    users = manager.augment(manager.source.resources({}))
    (flt,) = manager.filters
    flagged = flt.process(users)
    assert [r["UserName"] for r in flagged] == ["bob-stale", "dave-abandoned", "erin-two-keys"]
    assert "ListAccessKeys" in replay.operations()


# --- watched filters: which resources each passed in this run ---


class Leaf:
    """A filter that passes the users it names, noting the event it was given."""

    def __init__(self, *names: str):
        self.names, self.events = set(names), []

    def process(self, resources, event=None):
        self.events.append(event)
        return [r for r in resources if r["UserName"] in self.names]


class Block:
    def __init__(self, *filters):
        self.filters = list(filters)


class Tree(Manager):
    """A manager whose filtering runs the given leaves, in order, on every resource."""

    def __init__(self, filters: list, runs: list):
        super().__init__({"name": "p"})
        self.filters, self.runs = filters, runs

    def get_model(self):
        return type("Model", (), {"id": "UserName"})

    def filter_resources(self, resources, event=None):
        for leaf in self.runs:
            leaf.process(resources, event)
        return resources


def users(*names: str) -> list[dict]:
    return [{"UserName": name} for name in names]


def test_a_watched_filter_deep_in_blocks_notes_what_it_passed():
    # or: [and: [other, wanted], beside]: the wanted filter is at (0, 0, 1).
    other, wanted, beside = Leaf("a", "b"), Leaf("b"), Leaf("c")
    manager = Tree([Block(Block(other, wanted), beside)], runs=[other, wanted, beside])
    policy_run.watch(manager, [(0, 0, 1)])
    manager.filter_resources(users("a", "b", "c"), {"detail": "an event"})
    assert [policy_run.passed(manager, (0, 0, 1), u) for u in users("a", "b", "c")] == [
        False, True, False]  # fmt: skip
    assert wanted.events == [{"detail": "an event"}]  # the filter still gets the event


def test_a_watched_filter_that_never_ran_passed_nothing():
    # c7n stops an and: at the first filter that leaves nothing: the second never runs.
    first, second = Leaf(), Leaf("a")
    manager = Tree([first, second], runs=[first])
    policy_run.watch(manager, [(1,)])
    manager.filter_resources(users("a"))
    assert policy_run.passed(manager, (1,), {"UserName": "a"}) is False


@pytest.mark.parametrize("path", [(2,), (0, 1), (1, 0)])
def test_a_watched_path_the_policy_does_not_have_is_refused(path):
    manager = Tree([Block(Leaf("a")), Leaf("b")], runs=[])
    policy_run.watch(manager, [path])
    with pytest.raises(PolicyExecutionError) as raised:
        manager.filter_resources(users("a"))
    assert str(raised.value) == (
        f"policy:p filter {list(path)} is not where the policy's filters put it: the records "
        "it chooses cannot be told"
    )


def test_a_finisher_runs_as_each_run_ends_on_a_manager_bound_by_nothing_else():
    manager, ended = Tree([], runs=[]), []

    def finisher(manager, resources):
        ended.append([r["UserName"] for r in resources])
        return resources[:1]

    policy_run.on_finish(manager, finisher)
    policy_run.on_finish(manager, finisher)  # once only
    assert manager.filter_resources(users("a", "b")) == [{"UserName": "a"}]
    assert ended == [["a", "b"]]


@pytest.mark.parametrize(
    "config, previewed",
    [({"dryrun": True}, [["a", "b"]]), ({"dryrun": False}, []), ({}, [])],
    ids=["dryrun", "run", "no-dryrun-setting"],
)
def test_an_action_previews_as_filtering_ends_under_dryrun_only(config, previewed):
    manager, seen = Tree([], runs=[]), []
    manager.config = type("Config", (), config)()
    policy_run.preview_on_dry_run(manager, lambda resources: seen.append(users_of(resources)))
    assert manager.filter_resources(users("a", "b")) == users("a", "b")
    assert seen == previewed
    assert policy_run.state(manager).bound is bool(previewed)  # a run is left as c7n made it


def users_of(resources: list[dict]) -> list[str]:
    return [r["UserName"] for r in resources]

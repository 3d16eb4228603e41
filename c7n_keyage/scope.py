"""Each policy run's verdict is its own, and its annotations mean what its filters say.

Two things c7n leaves to chance, fixed here for policies that use ``access-key-unused``:

- c7n's memory cache (``--cache memory``) hands every policy of a run the same resource
  dicts, with what earlier policies wrote still on them: c7n's ``merge_annotation`` would
  intersect or union this policy's matched keys with another policy's, and ``remove-keys``
  would reuse another policy's key listing. So when a policy run starts filtering, every
  record loses the key annotations another run left (``POLICY_ANNOTATIONS``), before any
  filter of the policy, the plugin's or c7n's, reads them.
- c7n merges matched keys through one accumulator per record, by the nearest block's
  operator: an ``or:`` of several ``access-key-unused`` filters after another filter that
  named keys would union with that filter's keys, not intersect. Inside such an ``or:``
  (the only ``or:`` a policy that acts on keys may hold them in: see ``composition``) the
  union is kept apart and intersected with what the record carried when the ``or:`` began.

A policy that acts on keys then ends its filtering with each user's ``c7n:unused-keys``
cut to the keys in its ``c7n:matched-keys`` (so the output lists exactly what will be
changed) and without users left with no matched key.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from c7n_keyage import composition
from c7n_keyage.findings import MATCHED_KEYS, UNUSED_KEYS
from c7n_keyage.rule import NEVER_USED, UNROTATED, UNUSED

REASONS = (UNUSED, NEVER_USED, UNROTATED)

log = logging.getLogger("custodian.keyage")

ACCESS_KEYS = "c7n:AccessKeys"
# The key lifecycle's (lifecycle/filters.py): the records a retired-keys filter matched,
# and the tags it refused as records.
RETIRED_KEYS = "c7n:retired-keys"
REFUSED_RECORDS = "c7n:retired-keys-refused"
# What a policy run writes about keys on a record: never another run's to reuse.
POLICY_ANNOTATIONS = (MATCHED_KEYS, UNUSED_KEYS, ACCESS_KEYS, RETIRED_KEYS, REFUSED_RECORDS)
# On the policy's resource manager: the wrapper is installed, and this run's state.
_BOUND = "_c7n_keyage_scoped"
_RUN = "_c7n_keyage_run"


@dataclass
class _Union:
    """One ``or:`` of ``access-key-unused`` filters in one run, per record (by ``id``)."""

    before: dict[int, tuple[list | None, list | None]]  # (matched, unused) as the or began
    matched: dict[int, list] = field(default_factory=dict)
    unused: dict[int, list] = field(default_factory=dict)


@dataclass
class _Run:
    unions: dict[int, _Union] = field(default_factory=dict)
    live: dict[str, Any] = field(default_factory=dict)  # user -> what the live API said
    records: dict[str, Any] = field(default_factory=dict)  # user -> lifecycle records read


def bind(manager: Any) -> None:
    """Make ``manager`` (a policy's resource manager) scope each run; idempotent.

    Only the managers of policies that use ``access-key-unused`` or ``retired-keys`` are
    bound: every other policy filters exactly as c7n does.
    """
    if manager is None or manager.__dict__.get(_BOUND):
        return
    original = manager.filter_resources

    def filter_resources(resources, event=None):
        start(manager, resources)
        return finish(manager, original(resources, event))

    manager.filter_resources = filter_resources
    manager.__dict__[_BOUND] = True


def start(manager: Any, resources: list[dict]) -> None:
    """A run begins: drop what other runs wrote about keys; forget this manager's last run."""
    for resource in resources:
        for name in POLICY_ANNOTATIONS:
            resource.pop(name, None)
    manager.__dict__[_RUN] = _Run()


def finish(manager: Any, resources: list[dict]) -> list[dict]:
    """A run's filters are done: in a policy that acts on keys, each user's findings are
    its matched keys, and a user left with none is not matched."""
    if not composition.key_actions(manager.data):
        return resources
    kept = []
    policy = manager.data["name"]
    for resource in resources:
        ids = {m.get("AccessKeyId") for m in resource.get(MATCHED_KEYS) or ()} - {None}
        if not ids:
            log.info(
                "policy:%s user %s: no key is both confirmed stale and matched by the other "
                "filters; nothing to act on",
                policy,
                resource.get("UserName", "?"),
            )
            continue
        resource[UNUSED_KEYS] = [
            entry for entry in resource.get(UNUSED_KEYS) or () if entry.get("access_key_id") in ids
        ]
        kept.append(resource)
    return kept


def enter(flt: Any, resources: list[dict]) -> None:
    """``flt`` starts on ``resources``: the first filter of a key union remembers what each
    record carried as the union began."""
    union = key_union(flt)
    if union is None:
        return
    run = _state(flt.manager)
    if id(union) not in run.unions:
        # The lists themselves: every merge below makes new ones, never changes these.
        run.unions[id(union)] = _Union(
            {id(r): (r.get(MATCHED_KEYS), r.get(UNUSED_KEYS)) for r in resources}
        )


def record(flt: Any, resource: dict, matched: list[dict], unused: list[dict]) -> None:
    """Write ``flt``'s matched keys and findings on ``resource``, merged with the others."""
    union = key_union(flt)
    if union is not None:
        state = _state(flt.manager).unions.get(id(union))
        if state is not None:
            key = id(resource)
            state.matched[key] = union_entries(matched, state.matched.get(key))
            state.unused[key] = union_findings(unused, state.unused.get(key))
            # An or: hands each branch the same records: the union began with this one.
            before_matched, before_unused = state.before[key]
            resource[MATCHED_KEYS] = intersect_entries(state.matched[key], before_matched)
            resource[UNUSED_KEYS] = intersect_findings(state.unused[key], before_unused)
            return
    if flt.get_block_operator() == "or":
        resource[MATCHED_KEYS] = union_entries(matched, resource.get(MATCHED_KEYS))
        resource[UNUSED_KEYS] = union_findings(unused, resource.get(UNUSED_KEYS))
    else:
        resource[MATCHED_KEYS] = intersect_entries(matched, resource.get(MATCHED_KEYS))
        resource[UNUSED_KEYS] = intersect_findings(unused, resource.get(UNUSED_KEYS))


def key_union(flt: Any) -> Any | None:
    """The outermost ``or:`` above ``flt`` that holds ``access-key-unused`` filters only."""
    for block in ancestors(flt):
        if block.type == "or" and composition.names_only_keys(block.data):
            return block
    return None


def live_reads(manager: Any) -> dict[str, Any]:
    """What the live API said of each user's keys in this run, for the policy's filters to
    share (``acting.py`` reads and fills it)."""
    return _state(manager).live


def lifecycle_reads(manager: Any) -> dict[str, Any]:
    """The lifecycle records and key states read for each user in this run
    (``lifecycle/filters.py`` fills it, the lifecycle's actions read it)."""
    return _state(manager).records


def _state(manager: Any) -> _Run:
    # A filter run outside filter_resources (c7n's own unit-test style) gets a run of its own.
    return manager.__dict__.setdefault(_RUN, _Run())


# Matched keys: c7n's entries compare as whole dicts; two entries for one listed key are the
# same key, whatever else they carry (c7n's access-key filter and this plugin list apart).
def _same_entry(a: dict, b: dict) -> bool:
    if "AccessKeyId" in a and "AccessKeyId" in b:
        return a["AccessKeyId"] == b["AccessKeyId"]
    return a == b


def intersect_entries(values: list[dict], existing: list[dict] | None) -> list[dict]:
    if existing is None:
        return list(values)
    return [v for v in values if any(_same_entry(v, e) for e in existing)]


def union_entries(values: list[dict], existing: list[dict] | None) -> list[dict]:
    merged = list(existing or ())
    merged.extend(v for v in values if not any(_same_entry(v, e) for e in merged))
    return merged


# Findings (c7n:unused-keys): one per key, by ID once confirmed, else by slot and creation.
def _finding_id(entry: dict) -> str | tuple:
    return entry.get("access_key_id") or (entry.get("slot"), entry.get("last_rotated"))


def _with_reasons(entry: dict, other: dict) -> dict:
    # In the rule's order, whichever filter found them first.
    found = {*entry["reasons"], *other["reasons"]}
    return dict(entry, reasons=[r for r in REASONS if r in found])


def intersect_findings(values: list[dict], existing: list[dict] | None) -> list[dict]:
    if existing is None:
        return list(values)
    by_id = {_finding_id(e): e for e in existing}
    return [_with_reasons(v, by_id[_finding_id(v)]) for v in values if _finding_id(v) in by_id]


def union_findings(values: list[dict], existing: list[dict] | None) -> list[dict]:
    merged = {_finding_id(e): e for e in existing or ()}
    for v in values:
        key = _finding_id(v)
        merged[key] = _with_reasons(merged[key], v) if key in merged else v
    return list(merged.values())


def ancestors(flt: Any) -> list[Any]:
    """The boolean blocks (``and`` / ``or`` / ``not``) that contain ``flt``, outermost first."""

    def path(filters: list, trail: list) -> list | None:
        for other in filters:
            if other is flt:
                return trail
            children = getattr(other, "filters", None)
            if children and (found := path(children, [*trail, other])) is not None:
                return found
        return None

    return path(getattr(flt.manager, "filters", None) or [], []) or []

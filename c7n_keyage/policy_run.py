"""One policy run's state, the one wrapper of c7n's filtering, and the one annotation merge.

c7n leaves two things to chance that this plugin cannot, for the policies that use its
filters (and only those: every other policy filters exactly as c7n does):

- c7n's memory cache (``--cache memory``) hands every policy of a run the same resource
  dicts, with what earlier policies wrote still on them. So when a run starts filtering,
  every record loses the key annotations another run left (``names.POLICY_ANNOTATIONS``),
  before any filter, the plugin's or c7n's, reads them.
- c7n merges matched keys through one accumulator per record, by the nearest block's
  operator: an ``or:`` of several ``access-key-unused`` filters after another filter that
  named keys would union with that filter's keys, not intersect. Inside such an ``or:`` the
  union is kept apart and intersected with what the record carried when the ``or:`` began.

A policy that acts on keys then ends its filtering with each user's ``c7n:unused-keys`` cut
to the keys in its ``c7n:matched-keys`` (the output lists exactly what will be changed) and
without users left with no matched key. A feature that must look past c7n's per-user
answers (the lifecycle chooses records one by one) asks for two things here: the users
that passed given filters of the policy in this run (``watch``, ``passed``), and a step of
its own as filtering ends (``on_finish``). Under ``--dryrun`` the actions then say what they
would do. Everything the plugin keeps on a policy's resource manager is one ``State``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from c7n.exceptions import PolicyExecutionError

from c7n_keyage import composition
from c7n_keyage.names import (
    LOGGER,
    MATCHED_KEYS,
    POLICY_ANNOTATIONS,
    REASONS,
    UNUSED_KEYS,
)

log = logging.getLogger(LOGGER)

# The one attribute the plugin sets on a policy's resource manager.
_STATE = "_c7n_keyage"
# A filter of a policy: its indexes from the policy's filter list down through the blocks.
Path = tuple[int, ...]


@dataclass
class _Union:
    """One ``or:`` of ``access-key-unused`` filters in one run, per record (by ``id``)."""

    before: dict[int, tuple[list | None, list | None]]  # (matched, unused) as the or began
    matched: dict[int, list] = field(default_factory=dict)
    unused: dict[int, list] = field(default_factory=dict)


@dataclass
class Filtering:
    """What one run's filters share while they filter."""

    unions: dict[int, _Union] = field(default_factory=dict)
    live: dict[str, Any] = field(default_factory=dict)  # user -> what the live API said
    records: dict[str, Any] = field(default_factory=dict)  # user -> lifecycle records read
    # The moment the run's filters judge at: the first to ask sets it, the others share it.
    now: datetime | None = None
    # A watched filter's path -> the IDs of the resources it passed in this run.
    passed: dict[Path, set] = field(default_factory=dict)


@dataclass
class State:
    """The plugin's state on one policy's resource manager."""

    # The credential report this policy's run read (credential_report/cache.py).
    report: Any = None
    filtering: Filtering = field(default_factory=Filtering)
    # Said once filtering ends under --dryrun: what each lifecycle action would do.
    previews: list[Callable[[list[dict]], None]] = field(default_factory=list)
    # As filtering ends, after the key findings are cut: each takes (manager, resources) and
    # returns the resources still matched.
    finishers: list[Callable[[Any, list[dict]], list[dict]]] = field(default_factory=list)
    # The filters whose passing resources each run notes, and those already made to note.
    watched: set[Path] = field(default_factory=set)
    noting: set[Path] = field(default_factory=set)
    bound: bool = False


def state(manager: Any) -> State:
    # A filter run outside filter_resources (c7n's own unit-test style) gets a state too.
    return manager.__dict__.setdefault(_STATE, State())


def policy_name(manager: Any) -> str:
    return manager.data["name"] if manager is not None else "?"


def bind(manager: Any) -> None:
    """Make ``manager`` (a policy's resource manager) scope each run; idempotent."""
    if manager is None or state(manager).bound:
        return
    original = manager.filter_resources

    def filter_resources(resources, event=None):
        start(manager, resources)
        matched = finish(manager, original(resources, event))
        for preview in state(manager).previews:
            preview(matched)
        return matched

    manager.filter_resources = filter_resources
    state(manager).bound = True


def preview_on_dry_run(manager: Any, preview: Callable[[list[dict]], None]) -> None:
    """Under ``--dryrun`` c7n runs no action: ``preview`` says, as filtering ends, what the
    action would have done."""
    if manager is None or not getattr(manager.config, "dryrun", False):
        return
    bind(manager)
    if preview not in state(manager).previews:
        state(manager).previews.append(preview)


def on_finish(manager: Any, finisher: Callable[[Any, list[dict]], list[dict]]) -> None:
    """Run ``finisher(manager, resources)`` as each run's filtering ends; idempotent."""
    bind(manager)
    if finisher not in state(manager).finishers:
        state(manager).finishers.append(finisher)


def watch(manager: Any, paths: Iterable[Path]) -> None:
    """Note, in each run, the resources that pass each of the policy's filters at ``paths``
    (``passed`` answers); idempotent."""
    bind(manager)
    state(manager).watched.update(paths)


def passed(manager: Any, path: Path, resource: dict) -> bool:
    """Whether ``resource`` passed the watched filter at ``path`` in this run. False when the
    filter did not see it: c7n stops an ``and:`` at the first filter a resource fails."""
    return _resource_id(manager, resource) in state(manager).filtering.passed.get(path, ())


def moment(manager: Any, clock: Callable[[], datetime]) -> datetime:
    """The moment this run's filters judge at: ``clock()`` for the first to ask."""
    filtering = state(manager).filtering
    if filtering.now is None:
        filtering.now = clock()
    return filtering.now


def _resource_id(manager: Any, resource: dict) -> Any:
    # The resource type's ID field, as c7n's or: and not: blocks tell resources apart.
    return resource.get(manager.get_model().id)


def _note(manager: Any, path: Path) -> None:
    """Make the filter at ``path`` note, on each call, the IDs of the resources it passes."""
    filters = manager.filters  # c7n builds them in the order of the policy's filter list
    try:
        for index in path[:-1]:
            filters = filters[index].filters
        node = filters[path[-1]]
    except (AttributeError, IndexError) as e:
        raise PolicyExecutionError(
            f"policy:{policy_name(manager)} filter {list(path)} is not where the policy's "
            "filters put it: the records it chooses cannot be told"
        ) from e
    process = node.process

    def noted(resources, event=None):  # c7n passes the event positionally, if at all
        found = process(resources, event)
        ids = state(manager).filtering.passed.setdefault(path, set())
        ids.update(_resource_id(manager, r) for r in found)
        return found

    node.process = noted


def start(manager: Any, resources: list[dict]) -> None:
    """A run begins: drop what other runs wrote about keys; forget this manager's last run;
    make the watched filters note what they pass."""
    for resource in resources:
        for name in POLICY_ANNOTATIONS:
            resource.pop(name, None)
    found = state(manager)
    found.filtering = Filtering()
    for path in sorted(found.watched - found.noting):
        _note(manager, path)
        found.noting.add(path)


def finish(manager: Any, resources: list[dict]) -> list[dict]:
    """A run's filters are done: in a policy that acts on keys, each user's findings are
    its matched keys, and a user left with none is not matched; then the finishers."""
    if composition.key_actions(manager.data):
        resources = _cut_to_matched_keys(manager, resources)
    for finisher in state(manager).finishers:
        resources = finisher(manager, resources)
    return resources


def _cut_to_matched_keys(manager: Any, resources: list[dict]) -> list[dict]:
    kept = []
    for resource in resources:
        ids = {m.get("AccessKeyId") for m in resource.get(MATCHED_KEYS) or ()} - {None}
        if not ids:
            log.info(
                "policy:%s user %s: no key is both confirmed stale and matched by the other "
                "filters; nothing to act on",
                policy_name(manager),
                resource.get("UserName", "?"),
            )
            continue
        resource[UNUSED_KEYS] = [
            entry for entry in resource.get(UNUSED_KEYS) or () if entry.get("access_key_id") in ids
        ]
        kept.append(resource)
    return kept


def live_reads(manager: Any) -> dict[str, Any]:
    """What the live API said of each user's keys in this run, for the policy's filters to
    share (``stale/confirm.py`` reads and fills it)."""
    return state(manager).filtering.live


def lifecycle_reads(manager: Any) -> dict[str, Any]:
    """The lifecycle records and key states read for each user in this run
    (``lifecycle/retired_keys.py`` fills it, the lifecycle's actions read it)."""
    return state(manager).filtering.records


# --- the merge of a filter's annotation with what the record carries ---


def merge(
    values: list[dict],
    existing: list[dict] | None,
    operator: str,
    same: Callable[[dict, dict], bool] = lambda a, b: a == b,
    combine: Callable[[dict, dict], dict] | None = None,
) -> list[dict]:
    """A filter's ``values`` merged with the record's ``existing`` annotation, as c7n's
    ``merge_annotation`` does: under ``or`` their union, otherwise their intersection (a
    record without the annotation takes the values). ``same`` tells two entries for one
    key; ``combine`` joins them (the first is kept as it is without it)."""
    if existing is None:
        return list(values)
    if operator == "or":
        merged = list(existing)
        for value in values:
            at = _index(merged, value, same)
            if at is None:
                merged.append(value)
            elif combine is not None:
                merged[at] = combine(merged[at], value)
        return merged
    kept = []
    for value in values:
        at = _index(existing, value, same)
        if at is not None:
            kept.append(combine(value, existing[at]) if combine is not None else value)
    return kept


def _index(entries: list[dict], value: dict, same: Callable[[dict, dict], bool]) -> int | None:
    return next((i for i, entry in enumerate(entries) if same(entry, value)), None)


# Matched keys: c7n's entries compare as whole dicts; two entries for one listed key are the
# same key, whatever else they carry (c7n's access-key filter and this plugin list apart).
def _same_entry(a: dict, b: dict) -> bool:
    if "AccessKeyId" in a and "AccessKeyId" in b:
        return a["AccessKeyId"] == b["AccessKeyId"]
    return a == b


def merge_keys(values: list[dict], existing: list[dict] | None, operator: str) -> list[dict]:
    """``c7n:matched-keys`` entries merged."""
    return merge(values, existing, operator, _same_entry)


# Findings (c7n:unused-keys): one per key, by ID once confirmed, else by slot and creation.
def _finding_id(entry: dict) -> str | tuple:
    return entry.get("access_key_id") or (entry.get("slot"), entry.get("last_rotated"))


def _same_finding(a: dict, b: dict) -> bool:
    return _finding_id(a) == _finding_id(b)


def _with_reasons(entry: dict, other: dict) -> dict:
    # In the rule's order, whichever filter found them first.
    found = {*entry["reasons"], *other["reasons"]}
    return dict(entry, reasons=[r for r in REASONS if r in found])


def merge_findings(values: list[dict], existing: list[dict] | None, operator: str) -> list[dict]:
    """``c7n:unused-keys`` findings merged: one per key, with the reasons of both."""
    return merge(values, existing, operator, _same_finding, _with_reasons)


# --- an or: of access-key-unused filters ---


def enter(flt: Any, resources: list[dict]) -> None:
    """``flt`` starts on ``resources``: the first filter of a key union remembers what each
    record carried as the union began."""
    union = key_union(flt)
    if union is None:
        return
    unions = state(flt.manager).filtering.unions
    if id(union) not in unions:
        # The lists themselves: every merge makes new ones, never changes these.
        unions[id(union)] = _Union(
            {id(r): (r.get(MATCHED_KEYS), r.get(UNUSED_KEYS)) for r in resources}
        )


def record(flt: Any, resource: dict, matched: list[dict], unused: list[dict]) -> None:
    """Write ``flt``'s matched keys and findings on ``resource``, merged with the others."""
    union = key_union(flt)
    found = state(flt.manager).filtering.unions.get(id(union)) if union is not None else None
    if found is None:
        operator = flt.get_block_operator()
        resource[MATCHED_KEYS] = merge_keys(matched, resource.get(MATCHED_KEYS), operator)
        resource[UNUSED_KEYS] = merge_findings(unused, resource.get(UNUSED_KEYS), operator)
        return
    key = id(resource)
    found.matched[key] = merge_keys(matched, found.matched.get(key), "or")
    found.unused[key] = merge_findings(unused, found.unused.get(key), "or")
    # An or: hands each branch the same records: the union began with this one.
    before_matched, before_unused = found.before[key]
    resource[MATCHED_KEYS] = merge_keys(found.matched[key], before_matched, "and")
    resource[UNUSED_KEYS] = merge_findings(found.unused[key], before_unused, "and")


def key_union(flt: Any) -> Any | None:
    """The outermost ``or:`` above ``flt`` that holds ``access-key-unused`` filters only."""
    for block in ancestors(flt):
        if block.type == "or" and composition.names_only_keys(block.data):
            return block
    return None


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

    # Only managers with a filter registry (iam-user, account) run this filter.
    return path(flt.manager.filters, []) or []

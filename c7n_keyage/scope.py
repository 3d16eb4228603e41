"""Keep each policy's verdict its own when c7n hands several policies the same records.

c7n's memory cache (``--cache memory``, and the cache within one ``custodian run``) gives
every policy of a run the same resource dicts, with what earlier policies wrote still on
them. c7n's ``merge_annotation`` then intersects (``and``) or unions (``or``) this
policy's matched keys with another policy's, and ``remove-keys`` reuses another policy's
key listing. So the first time a policy run's ``access-key-unused`` sees a record, it
drops what another policy left there, unless a filter of this same policy that runs
before it writes matched keys (c7n's ``credential`` or ``access-key``): those are this
policy's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from c7n_keyage.findings import MATCHED_KEYS, UNUSED_KEYS

ACCESS_KEYS = "c7n:AccessKeys"
# Where a resource manager remembers, per policy run, the records already claimed.
_CLAIMS = "_c7n_keyage_claims"
# What a policy run writes about keys on a record: never another policy's to reuse.
POLICY_ANNOTATIONS = (MATCHED_KEYS, UNUSED_KEYS, ACCESS_KEYS)


def claim(flt: Any, resources: list[dict]) -> None:
    """Drop other policies' key annotations from records this policy run has not seen."""
    manager = flt.manager
    run = getattr(getattr(manager, "ctx", None), "execution_id", None)
    state = manager.__dict__.get(_CLAIMS)
    if state is None or state[0] != run:
        state = manager.__dict__[_CLAIMS] = (run, set())
    seen = state[1]
    owned_by_earlier = follows_a_matcher(flt)
    for resource in resources:
        if id(resource) in seen:
            continue
        seen.add(id(resource))
        resource.pop(UNUSED_KEYS, None)
        if not owned_by_earlier:
            resource.pop(MATCHED_KEYS, None)
            resource.pop(ACCESS_KEYS, None)


def follows_a_matcher(flt: Any) -> bool:
    """Whether a filter of another kind that writes matched keys runs before ``flt``."""
    for other in in_order(flt.manager.filters):
        if other is flt:
            return False
        if (
            getattr(other, "matched_annotation_key", None) == MATCHED_KEYS
            and type(other).__module__.split(".")[0] != "c7n_keyage"
        ):
            return True
    return False


def in_order(filters: list) -> Iterator[Any]:
    """Filters depth first in the order c7n evaluates them (``iter_filters`` is not)."""
    for flt in filters:
        yield flt
        yield from in_order(getattr(flt, "filters", None) or [])


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

    return path(flt.manager.filters, []) or []

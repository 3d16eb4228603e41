"""Which policies act on keys, and which compositions of filters keep a meaning for them.

A policy "acts on keys" when one of its actions changes the keys named in
``c7n:matched-keys``: c7n's ``remove-keys`` (with ``matched: true``) and the plugin's own key
actions. Such a policy changes a key only if an ``access-key-unused`` filter of it flagged
the key and the live API confirmed it stale. That guarantee holds for the compositions
below and no other, so ``validate()`` refuses the rest, saying why (``problems``):

- ``access-key-unused`` is never inside ``not:`` (a negated filter names no key);
- an ``or:`` that holds an ``access-key-unused`` holds nothing else but such filters (or
  ``or:`` blocks of them): a user matched by another branch carries no confirmed key, and
  c7n's ``remove-keys`` fails on it;
- no c7n ``credential`` filter on ``access_keys.*`` columns: it names keys by their report
  entry, this filter by ``AccessKeyId`` once confirmed, so under ``and`` the two never meet
  (nothing is removed) and under ``or`` a key nobody confirmed would be;
- c7n's ``access-key`` filter only where it narrows (never directly under ``or:``, where it
  would add keys of its own);
- ``remove-keys`` only with ``matched: true`` (without it, every key of a matched user);
- no c7n ``delete`` that deletes access keys: it deletes every key of a matched user,
  fresh ones included, on the report's word.

The key lifecycle's actions have rules of their own (``lifecycle_problems``): one lifecycle
action per policy; ``retire-keys`` only beside ``access-key-unused`` (it retires the keys
that filter confirmed), never with ``remove-keys``, and only in a policy whose name its
records can carry unchanged (``record.name_problem``: what the runbook's restore looks for);
``restore-keys`` and ``delete-retired-keys`` only with a ``retired-keys`` filter that every
matched user passed (not inside ``not:`` or ``or:``), with no ``retired-keys`` inside
``not:`` and no filter on the ``c7n:retired-keys`` annotation (they act on records chosen
one by one, ``lifecycle/select.py``, which neither can do), and ``delete-retired-keys`` only
after a grace of at least a day (that filter's ``days``). In any policy, ``retired-keys
policy:`` names a policy some record can carry (``record.selectable_problem``): another
would match nothing, and an incident restore would silently restore nothing.

Pure: policy data in, answers out; no c7n object is needed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from c7n_keyage.lifecycle.record import name_problem, selectable_problem
from c7n_keyage.names import (
    DELETE,
    FILTER,
    LIFECYCLE_ACTIONS,
    REMOVE_KEYS,
    RESTORE,
    RETIRE,
    RETIRED_FILTER,
)

# Actions that change the keys named in c7n:matched-keys.
KEY_ACTIONS = frozenset({REMOVE_KEYS, RETIRE})
BLOCKS = ("and", "or", "not")


def actions(policy: dict) -> list[dict]:
    """The policy's actions as dicts (c7n also takes an action given as a bare name)."""
    return [a if isinstance(a, dict) else {"type": a} for a in policy.get("actions") or ()]


def key_actions(policy: dict, names: Iterable[str] = KEY_ACTIONS) -> list[dict]:
    """The policy's actions that act on keys."""
    wanted = frozenset(names)
    return [a for a in actions(policy) if a.get("type") in wanted]


@dataclass(frozen=True)
class Node:
    """One filter of a policy with the boolean blocks above it, outermost first."""

    data: dict
    ancestors: tuple[str, ...]  # "and" / "or" / "not"

    @property
    def type(self) -> str:
        return block_type(self.data) or self.data.get("type", "value")


def block_type(data: dict) -> str | None:
    """``and`` / ``or`` / ``not`` for a boolean block, None for a filter."""
    if isinstance(data, dict) and len(data) == 1:
        (name,) = data
        if name in BLOCKS:
            return name
    return None


def nodes(filters: list, ancestors: tuple[str, ...] = ()) -> Iterator[Node]:
    """Every filter and block, depth first in the order c7n evaluates them."""
    for data in filters or ():
        # c7n also takes a filter given as a bare name.
        data = data if isinstance(data, dict) else {"type": data}
        yield Node(data, ancestors)
        if kind := block_type(data):
            yield from nodes(data[kind], (*ancestors, kind))


def names_only_keys(data: dict) -> bool:
    """Whether ``data`` is ``access-key-unused`` or an ``or:`` of such filters only."""
    if block_type(data) == "or":
        return bool(data["or"]) and all(names_only_keys(branch) for branch in data["or"])
    return isinstance(data, dict) and data.get("type") == FILTER


def problems(policy: dict) -> list[str]:
    """Why this policy's composition has no guaranteed meaning for the keys it would change;
    empty when it has one (or when it changes no key)."""
    found = []
    for action in actions(policy):
        if action.get("type") == "remove-keys" and not action.get("matched"):
            found.append(
                "remove-keys needs matched: true: without it remove-keys acts on every key "
                "of a matched user, not only the stale ones"
            )
        elif action.get("type") == "delete" and _deletes_keys(action):
            found.append(
                "c7n's delete action deletes every access key of each matched user, fresh ones "
                "included, on the credential report's word; to delete exactly the keys "
                "confirmed stale, use remove-keys with matched: true and disable: false (and "
                "leave access-keys out of delete's options)"
            )
    found += lifecycle_problems(policy) + record_name_problems(policy)
    if not key_actions(policy):
        return found
    for node in nodes(policy.get("filters") or []):
        if node.type == FILTER and "not" in node.ancestors:
            found.append(
                f"{FILTER} cannot be negated (inside not:) in a policy that acts on keys: "
                "matched keys have no meaning under negation, and the action would act on "
                "keys this filter never flagged"
            )
        elif block_type(node.data) == "or" and not names_only_keys(node.data):
            if any(inner.type == FILTER for inner in nodes(node.data["or"])):
                found.append(
                    f"an or: block that holds {FILTER} may hold nothing but {FILTER} filters "
                    "in a policy that acts on keys: a user matched by another branch has no "
                    "key confirmed stale (c7n's remove-keys fails on it). Put the other "
                    "filters beside the or: block (they then narrow the users), or in a "
                    "policy of their own"
                )
        elif node.type == "credential" and str(node.data.get("key")).startswith("access_keys."):
            found.append(
                f"c7n's credential filter on {node.data['key']} cannot be combined with "
                f"{FILTER} in a policy that acts on keys: it names keys by their report entry "
                "and this filter by AccessKeyId once confirmed live, so under and: they never "
                "meet (nothing would be removed) and under or: a key nobody confirmed would "
                f"be. Use {FILTER}'s own days and rotation-days"
            )
        elif node.type == "access-key" and node.ancestors[-1:] == ("or",):
            found.append(
                f"c7n's access-key filter directly under or: would add keys of its own to the "
                f"ones {FILTER} confirmed; in a policy that acts on keys it may only narrow "
                "them (beside the filter, or in an and: block)"
            )
    return found


def _deletes_keys(action: dict) -> bool:
    # c7n's iam-user delete: without options it deletes everything, keys included.
    options = action.get("options")
    return not options or "access-keys" in options


def retired_filters(policy: dict) -> list[dict]:
    """The ``retired-keys`` filters every matched user passed: not inside ``not:``/``or:``."""
    return [
        node.data
        for node in nodes(policy.get("filters") or [])
        if node.type == RETIRED_FILTER and not {"not", "or"} & set(node.ancestors)
    ]


def grace_days(policy: dict) -> int:
    """``delete-retired-keys``' grace: the largest ``days`` of the policy's ``retired-keys``."""
    return max((f.get("days", 0) for f in retired_filters(policy)), default=0)


def record_name_problems(policy: dict) -> list[str]:
    """Why a ``retired-keys policy:`` of this policy matches no record, whatever was
    retired (in any policy: a report or a notice would list nothing either)."""
    return [
        f"{RETIRED_FILTER} {problem}"
        for node in nodes(policy.get("filters") or [])
        if node.type == RETIRED_FILTER
        and isinstance(node.data.get("policy"), str)
        and (problem := selectable_problem(node.data["policy"]))
    ]


def lifecycle_problems(policy: dict) -> list[str]:
    """Why the policy's lifecycle actions cannot keep their promises; empty when they can."""
    names = [a.get("type") for a in actions(policy) if a.get("type") in LIFECYCLE_ACTIONS]
    if not names:
        return []
    found = []
    if len(names) > 1:
        found.append(
            f"one lifecycle action per policy, not {', '.join(names)}: each acts on the keys "
            "as its filters saw them, so a second one would act on keys the first changed"
        )
    if RETIRE in names:
        found += _retire_problems(policy)
    acting = [n for n in names if n != RETIRE]
    if acting and not retired_filters(policy):
        found.append(
            f"{' and '.join(acting)} needs a {RETIRED_FILTER} filter "
            "in the policy, not inside not: or or: (it acts on the records that filter "
            "matched, and on nothing else)"
        )
        return found
    if acting:
        found += _record_choice_problems(policy, acting)
    if DELETE in names and grace_days(policy) < 1:
        found.append(
            f"delete-retired-keys needs a grace period: set days (1 or more) on the "
            f"{RETIRED_FILTER} filter, e.g. days: 30 deletes keys retired more than 30 days ago "
            "and unused since"
        )
    return found


def _retire_problems(policy: dict) -> list[str]:
    found = []
    if not any(node.type == FILTER for node in nodes(policy.get("filters") or [])):
        found.append(
            f"retire-keys needs an {FILTER} filter in the policy: it retires exactly the "
            f"keys that filter confirmed stale on the live API (c7n:matched-keys)"
        )
    if any(a.get("type") == "remove-keys" for a in actions(policy)):
        found.append(
            "retire-keys and remove-keys cannot share a policy: both act on the same keys, "
            "and a key removed without its record could not be restored"
        )
    if problem := name_problem(str(policy.get("name", ""))):
        found.append(f"retire-keys writes the policy's name in each record, but {problem}")
    return found


# The annotation retired-keys writes; c7n:retired-keys-refused (the untrusted tags) is
# about the user, not about a record, and may be filtered on.
_RECORDS_KEY = re.compile(r"c7n:retired-keys(?!-refused)")


def _record_choice_problems(policy: dict, names: list[str]) -> list[str]:
    """What cannot choose records one by one in a policy that restores or deletes them."""
    acting, found = " and ".join(names), []
    for node in nodes(policy.get("filters") or []):
        if node.type == RETIRED_FILTER and "not" in node.ancestors:
            found.append(
                f"a {RETIRED_FILTER} filter inside not: cannot choose records for {acting}: "
                "c7n negates it user by user (a user holding any record it selects is left "
                "out), so the records it does not select on such a user would be silently "
                f"skipped; choose records with {RETIRED_FILTER}' own days, policy and "
                "within-hours, and negate only filters on the user"
            )
        elif node.type != RETIRED_FILTER and (field := _records_field(node.data)):
            found.append(
                f"a filter on {field} cannot choose records for {acting}: it sees "
                f"a user's records as one list, and {acting} acts on each record the "
                f"{RETIRED_FILTER} filters choose; choose them with {RETIRED_FILTER}' own "
                "days, policy and within-hours"
            )
    return found


def _records_field(data: dict) -> str | None:
    """The field naming ``c7n:retired-keys`` a filter reads (its ``key``, or the one key of
    c7n's ``{field: value}`` shorthand), if any."""
    fields = [data.get("key"), *data] if block_type(data) is None else []
    return next((f for f in fields if isinstance(f, str) and _RECORDS_KEY.search(f)), None)

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

The key lifecycle's own rules (``retire-keys``, ``restore-keys``, ``delete-retired-keys``,
``retired-keys``) are in ``lifecycle/rules.py``.

Pure: policy data in, answers out; no c7n object is needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from c7n_keyage.names import FILTER, REMOVE_KEYS, RETIRE

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
    found = [problem for action in actions(policy) if (problem := _action_problem(action))]
    if not key_actions(policy):
        return found
    return found + [
        problem for node in nodes(policy.get("filters") or []) if (problem := _node_problem(node))
    ]


def _action_problem(action: dict) -> str | None:
    if action.get("type") == REMOVE_KEYS and not action.get("matched"):
        return (
            "remove-keys needs matched: true: without it remove-keys acts on every key "
            "of a matched user, not only the stale ones"
        )
    if action.get("type") == "delete" and _deletes_keys(action):
        return (
            "c7n's delete action deletes every access key of each matched user, fresh ones "
            "included, on the credential report's word; to delete exactly the keys "
            "confirmed stale, use remove-keys with matched: true and disable: false (and "
            "leave access-keys out of delete's options)"
        )
    return None


def _node_problem(node: Node) -> str | None:
    """Why one filter of a policy that acts on keys breaks the guarantee, if it does."""
    if node.type == FILTER and "not" in node.ancestors:
        return (
            f"{FILTER} cannot be negated (inside not:) in a policy that acts on keys: "
            "matched keys have no meaning under negation, and the action would act on "
            "keys this filter never flagged"
        )
    if block_type(node.data) == "or" and not names_only_keys(node.data):
        if any(inner.type == FILTER for inner in nodes(node.data["or"])):
            return (
                f"an or: block that holds {FILTER} may hold nothing but {FILTER} filters "
                "in a policy that acts on keys: a user matched by another branch has no "
                "key confirmed stale (c7n's remove-keys fails on it). Put the other "
                "filters beside the or: block (they then narrow the users), or in a "
                "policy of their own"
            )
        return None
    if node.type == "credential" and str(node.data.get("key")).startswith("access_keys."):
        return (
            f"c7n's credential filter on {node.data['key']} cannot be combined with "
            f"{FILTER} in a policy that acts on keys: it names keys by their report entry "
            "and this filter by AccessKeyId once confirmed live, so under and: they never "
            "meet (nothing would be removed) and under or: a key nobody confirmed would "
            f"be. Use {FILTER}'s own days and rotation-days"
        )
    if node.type == "access-key" and node.ancestors[-1:] == ("or",):
        return (
            f"c7n's access-key filter directly under or: would add keys of its own to the "
            f"ones {FILTER} confirmed; in a policy that acts on keys it may only narrow "
            "them (beside the filter, or in an and: block)"
        )
    return None


def _deletes_keys(action: dict) -> bool:
    # c7n's iam-user delete: without options it deletes everything, keys included.
    options = action.get("options")
    return not options or "access-keys" in options

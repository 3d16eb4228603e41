"""Which policies act on keys, and which compositions of filters have a meaning for them.

A policy "acts on keys" when one of its actions changes access keys named in
``c7n:matched-keys``: c7n's ``remove-keys`` (with ``matched: true``) and the plugin's own
key actions. Such a policy has ``access-key-unused`` confirm its flagged users' keys on the
live API before anything names them. Pure: policy data in, answers out.
"""

from __future__ import annotations

from collections.abc import Iterable

# Actions that change the keys named in c7n:matched-keys.
KEY_ACTIONS = frozenset({"remove-keys"})


def actions(policy: dict) -> list[dict]:
    """The policy's actions as dicts (c7n also takes an action given as a bare name)."""
    return [a if isinstance(a, dict) else {"type": a} for a in policy.get("actions") or ()]


def key_actions(policy: dict, names: Iterable[str] = KEY_ACTIONS) -> list[dict]:
    """The policy's actions that act on keys."""
    wanted = frozenset(names)
    return [a for a in actions(policy) if a.get("type") in wanted]

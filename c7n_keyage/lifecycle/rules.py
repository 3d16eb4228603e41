"""Which policies the key lifecycle's filter and actions can keep their promises in. Pure.

``problems`` says why a policy cannot, one reason each; ``retired-keys`` and the three
actions refuse such a policy in their ``validate()``, wherever it runs (``custodian``,
c7n-org, Lambda, ``--skip-validation``):

- one lifecycle action per policy (each acts on the keys as its filters saw them);
- ``retire-keys`` only beside ``access-key-unused`` (it retires the keys that filter
  confirmed), never with ``remove-keys``, and only in a policy whose name its records can
  carry unchanged (``record.name_problem``: what the runbook's restore looks for);
- ``restore-keys`` and ``delete-retired-keys`` only with a ``retired-keys`` filter that every
  matched user passed (not inside ``not:`` or ``or:``), with no ``retired-keys`` inside
  ``not:`` and no filter on the ``c7n:retired-keys`` annotation: they act on records chosen
  one by one (``select.py``), which neither can do; ``delete-retired-keys`` only after a
  grace of at least a day (that filter's ``days``), and ``delete-after-days`` only in a
  policy that reports or notifies;
- in any policy, ``retired-keys policy:`` names a policy some record can carry
  (``record.selectable_problem``): another would match nothing, and an incident restore
  would silently restore nothing.
"""

from __future__ import annotations

import re

from c7n_keyage.composition import actions, nodes
from c7n_keyage.lifecycle.record import name_problem, selectable_problem
from c7n_keyage.names import (
    DELETE,
    DELETE_AFTER,
    FILTER,
    LIFECYCLE_ACTIONS,
    RECORD_ACTIONS,
    REMOVE_KEYS,
    RESTORE,
    RETIRE,
    RETIRED_FILTER,
)


def lifecycle_actions(policy: dict) -> list[str]:
    """The names of the policy's lifecycle actions, in order."""
    return [a["type"] for a in actions(policy) if a.get("type") in LIFECYCLE_ACTIONS]


def acts_on_records(policy: dict) -> bool:
    """Whether the policy restores or deletes the records its filters choose."""
    return any(name in RECORD_ACTIONS for name in lifecycle_actions(policy))


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


def problems(policy: dict) -> list[str]:
    """Why the policy's lifecycle filter or actions cannot keep their promises; empty when
    they can (or when it has neither)."""
    return _action_problems(policy) + _record_name_problems(policy)


def _record_name_problems(policy: dict) -> list[str]:
    """Why a ``retired-keys policy:`` of this policy matches no record, whatever was
    retired (in any policy: a report or a notice would list nothing either)."""
    return [
        f"{RETIRED_FILTER} {problem}"
        for node in nodes(policy.get("filters") or [])
        if node.type == RETIRED_FILTER
        and isinstance(node.data.get("policy"), str)
        and (problem := selectable_problem(node.data["policy"]))
    ]


def _action_problems(policy: dict) -> list[str]:
    names = lifecycle_actions(policy)
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
    if not acting:
        return found
    if not retired_filters(policy):
        found.append(
            f"{' and '.join(acting)} needs a {RETIRED_FILTER} filter "
            "in the policy, not inside not: or or: (it acts on the records that filter "
            "matched, and on nothing else)"
        )
        return found
    found += _record_choice_problems(policy, acting)
    if DELETE in names and grace_days(policy) < 1:
        found.append(
            f"delete-retired-keys needs a grace period: set days (1 or more) on the "
            f"{RETIRED_FILTER} filter, e.g. days: 30 deletes keys retired more than 30 days ago "
            "and unused since"
        )
    return found + _delete_after_problems(policy, acting)


def _retire_problems(policy: dict) -> list[str]:
    found = []
    if not any(node.type == FILTER for node in nodes(policy.get("filters") or [])):
        found.append(
            f"retire-keys needs an {FILTER} filter in the policy: it retires exactly the "
            f"keys that filter confirmed stale on the live API (c7n:matched-keys)"
        )
    if any(a.get("type") == REMOVE_KEYS for a in actions(policy)):
        found.append(
            "retire-keys and remove-keys cannot share a policy: both act on the same keys, "
            "and a key removed without its record could not be restored"
        )
    if problem := name_problem(str(policy.get("name", ""))):
        found.append(f"retire-keys writes the policy's name in each record, but {problem}")
    return found


def _delete_after_problems(policy: dict, acting: list[str]) -> list[str]:
    """``delete-after-days`` says, in a report, when the deleting policy will delete a key."""
    given = any(
        DELETE_AFTER in node.data
        for node in nodes(policy.get("filters") or [])
        if node.type == RETIRED_FILTER
    )
    if not given:
        return []
    if DELETE in acting:
        return [
            f"{DELETE_AFTER} is for policies that report or notify; in a policy with "
            f"{DELETE} the grace is days, and delete_after follows from it"
        ]
    return [f"{DELETE_AFTER} is for policies that report or notify, not {RESTORE}"]


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
    c7n's ``{field: value}`` shorthand), if any. A block's one key (``and``, ``or``,
    ``not``) names no field."""
    fields = [data.get("key"), *data]
    return next((f for f in fields if isinstance(f, str) and _RECORDS_KEY.search(f)), None)

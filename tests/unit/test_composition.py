"""composition.py: which policies act on keys, and the compositions refused for them, as data.

Each case is a policy's filters and actions, and the reasons validate() must give, in
order, none for a composition whose keys are guaranteed.
"""

from __future__ import annotations

import pytest

from c7n_keyage import composition

AKU = {"type": "access-key-unused"}
ROTATION = {"type": "access-key-unused", "rotation-days": 200}
TAG = {"tag:team": "present"}
PASSWORD = {"type": "credential", "key": "password_enabled", "value": False}
KEY_COLUMN = {"type": "credential", "key": "access_keys.last_used_date", "value": 1}
ACCESS_KEY = {"type": "access-key", "key": "Status", "value": "Active"}
REMOVE = {"type": "remove-keys", "matched": True, "disable": True}
RETIRED = {"type": "retired-keys", "days": 30}
RETIRE, RESTORE, PURGE = (
    {"type": "retire-keys"},
    {"type": "restore-keys"},
    {"type": "delete-retired-keys"},
)

# The reasons, whole: what a user reads when validate() refuses their policy.
NOT = (
    "access-key-unused cannot be negated (inside not:) in a policy that acts on keys: matched "
    "keys have no meaning under negation, and the action would act on keys this filter never "
    "flagged"
)
OR = (
    "an or: block that holds access-key-unused may hold nothing but access-key-unused filters "
    "in a policy that acts on keys: a user matched by another branch has no key confirmed "
    "stale (c7n's remove-keys fails on it). Put the other filters beside the or: block (they "
    "then narrow the users), or in a policy of their own"
)
CREDENTIAL = (
    "c7n's credential filter on access_keys.last_used_date cannot be combined with "
    "access-key-unused in a policy that acts on keys: it names keys by their report entry and "
    "this filter by AccessKeyId once confirmed live, so under and: they never meet (nothing "
    "would be removed) and under or: a key nobody confirmed would be. Use access-key-unused's "
    "own days and rotation-days"
)
ACCESS = (
    "c7n's access-key filter directly under or: would add keys of its own to the ones "
    "access-key-unused confirmed; in a policy that acts on keys it may only narrow them "
    "(beside the filter, or in an and: block)"
)
DELETE = (
    "c7n's delete action deletes every access key of each matched user, fresh ones included, "
    "on the credential report's word; to delete exactly the keys confirmed stale, use "
    "remove-keys with matched: true and disable: false (and leave access-keys out of "
    "delete's options)"
)
MATCHED = (
    "remove-keys needs matched: true: without it remove-keys acts on every key of a matched "
    "user, not only the stale ones"
)

CASES = [
    # (filters, actions, phrases of the reasons, in order)
    ([AKU], [REMOVE], []),
    ([AKU, TAG, PASSWORD], [REMOVE], []),
    ([PASSWORD, AKU], [REMOVE], []),
    ([{"or": [AKU, ROTATION]}], [REMOVE], []),
    ([{"or": [AKU, {"or": [ROTATION, AKU]}]}], [REMOVE], []),
    ([{"and": [{"or": [AKU, ROTATION]}, TAG]}], [REMOVE], []),
    ([AKU, {"or": [TAG, PASSWORD]}], [REMOVE], []),
    ([AKU, {"not": [TAG]}], [REMOVE], []),
    ([ACCESS_KEY, AKU], [REMOVE], []),
    ([AKU, {"and": [ACCESS_KEY]}], [REMOVE], []),
    ([AKU, {"not": [ACCESS_KEY]}], [REMOVE], []),
    ([{"not": [AKU]}], [REMOVE], [NOT]),
    ([{"not": [{"and": [AKU, TAG]}]}], [REMOVE], [NOT]),
    ([{"or": [AKU, TAG]}], [REMOVE], [OR]),
    ([{"or": [{"and": [AKU, TAG]}, ROTATION]}], [REMOVE], [OR]),
    ([{"or": [TAG, {"or": [AKU]}]}], [REMOVE], [OR]),
    ([{"or": [{"not": [AKU]}, TAG]}], [REMOVE], [OR, NOT]),
    ([KEY_COLUMN, AKU], [REMOVE], [CREDENTIAL]),
    ([AKU, {"or": [ACCESS_KEY, TAG]}], [REMOVE], [ACCESS]),
    ([AKU, {"and": [{"or": [ACCESS_KEY, TAG]}]}], [REMOVE], [ACCESS]),
    ([AKU], [{"type": "delete", "options": ["access-keys", "console-access"]}], [DELETE]),
    ([AKU], [{"type": "delete"}], [DELETE]),
    ([AKU], ["delete"], [DELETE]),
    ([AKU], [{"type": "delete", "options": ["console-access"]}], []),
    ([AKU], [{"type": "remove-keys"}], [MATCHED]),
    ([AKU], [{"type": "remove-keys", "matched": False}], [MATCHED]),
    # Retiring acts on keys: the same rules.
    ([AKU], [RETIRE], []),
    ([AKU, TAG], [RETIRE, {"type": "notify"}], []),
    ([{"not": [AKU]}], [RETIRE], [NOT]),
    ([{"or": [AKU, TAG]}], [RETIRE], [OR]),
    # Restoring and deleting do not act on matched keys (lifecycle/rules.py has their rules).
    ([TAG], [RESTORE], []),
    ([{"not": [RETIRED]}], [PURGE], []),
    # Report only: every composition has c7n's own meaning; nothing is refused...
    ([{"not": [AKU]}], [], []),
    ([{"or": [AKU, TAG]}], [{"type": "notify"}], []),
    ([KEY_COLUMN, AKU], [], []),
    # ... but a delete of every key is never left to the report's word.
    ([{"not": [AKU]}], [{"type": "delete"}], [DELETE]),
]


@pytest.mark.parametrize("filters, actions, reasons", CASES)
def test_compositions(filters, actions, reasons):
    policy = {"name": "p", "resource": "iam-user", "filters": filters, "actions": actions}
    assert composition.problems(policy) == reasons


def test_retire_keys_acts_on_keys():
    assert composition.key_actions({"actions": [RETIRE, RESTORE, PURGE]}) == [RETIRE]


def test_only_remove_keys_acts_on_keys_among_c7n_actions():
    policy = {"actions": ["remove-keys", {"type": "notify"}, {"type": "delete"}]}
    assert composition.key_actions(policy) == [{"type": "remove-keys"}]
    assert composition.key_actions({"actions": None}) == []
    assert composition.key_actions(policy, ["notify"]) == [{"type": "notify"}]


def test_nodes_are_in_evaluation_order_with_their_blocks():
    filters = [TAG, {"or": [AKU, {"not": ["mfa-device"]}]}]
    found = [(n.type, n.ancestors) for n in composition.nodes(filters)]
    assert found == [
        ("value", ()),
        ("or", ()),
        ("access-key-unused", ("or",)),
        ("not", ("or",)),
        ("mfa-device", ("or", "not")),
    ]


@pytest.mark.parametrize(
    "data, expected",
    [
        (AKU, True),
        ({"or": [AKU, ROTATION]}, True),
        ({"or": [AKU, {"or": [AKU]}]}, True),
        ({"or": []}, False),
        ({"or": [AKU, TAG]}, False),
        ({"and": [AKU]}, False),
        (TAG, False),
    ],
)
def test_names_only_keys(data, expected):
    assert composition.names_only_keys(data) is expected

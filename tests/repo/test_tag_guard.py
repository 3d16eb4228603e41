"""The shipped permission snippet reserves the lifecycle's tag prefix to the Custodian role.

The lifecycle trusts its records (IAM tags ``c7n-keyage:retired:<AccessKeyId>``): whoever may
write one could get a key re-enabled by a broad restore. ``docs/keyage-tag-guard-scp.json``
denies writing or removing such tags to every principal but the role that runs Custodian.
The snippet is evaluated here as IAM evaluates its condition operators (``StringLike``:
case-sensitive, ``*`` and ``?`` wildcards; ``ForAnyValue``: any key of the request), on the
requests that matter. IAM tag keys on users are case-insensitive (``C7N-KEYAGE:...``
overwrites ``c7n-keyage:...``), so every case variant of the prefix must be caught too.
"""

from __future__ import annotations

import itertools
import json
import re
from datetime import datetime, timezone

import pytest

from c7n_keyage.lifecycle.record import PREFIX, Seen, format_record
from tests.support.paths import REPO

SNIPPET = json.loads((REPO / "docs" / "keyage-tag-guard-scp.json").read_text())
CUSTODIAN_ROLE = "arn:aws:iam::111111111111:role/custodian-keyage"
# The tag key a retirement writes, as the lifecycle formats it.
RECORD, _ = format_record(
    "AKIAEXAMPLE000000001", datetime(2026, 12, 2, 12, tzinfo=timezone.utc), "retire-90", Seen(None)
)


def like(pattern: str, value: str) -> bool:
    """IAM's StringLike / ArnLike: case-sensitive, ``*`` any run, ``?`` one character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.S) is not None


def values(condition: dict, operator: str, key: str) -> list[str]:
    found = condition[operator][key]
    return [found] if isinstance(found, str) else found


def denied(action: str, tag_keys: list[str], principal: str) -> bool:
    """Whether a Deny statement of the snippet matches the request."""
    for statement in SNIPPET["Statement"]:
        assert statement["Effect"] == "Deny"
        if action not in statement["Action"]:
            continue
        condition = statement["Condition"]
        assert set(condition) == {"ForAnyValue:StringLike", "ArnNotLike"}
        patterns = values(condition, "ForAnyValue:StringLike", "aws:TagKeys")
        exempt = values(condition, "ArnNotLike", "aws:PrincipalArn")
        reserved = any(like(p, key) for p in patterns for key in tag_keys)
        if reserved and not any(like(p, principal) for p in exempt):
            return True
    return False


def case_variants(text: str):
    letters = [(c.lower(), c.upper()) if c.isalpha() else (c,) for c in text]
    return {"".join(chars) for chars in itertools.product(*letters)}


def test_names_the_tag_actions_and_the_prefix():
    assert SNIPPET["Version"] == "2012-10-17"
    assert RECORD.startswith(PREFIX) and PREFIX == "c7n-keyage:"
    actions = {a for s in SNIPPET["Statement"] for a in s["Action"]}
    assert {"iam:TagUser", "iam:UntagUser"} <= actions
    patterns = {
        p
        for s in SNIPPET["Statement"]
        for p in values(s["Condition"], "ForAnyValue:StringLike", "aws:TagKeys")
    }
    assert f"{PREFIX}*" in patterns


@pytest.mark.parametrize("action", ["iam:TagUser", "iam:UntagUser", "iam:CreateUser"])
def test_only_the_custodian_role_writes_or_removes_records(action):
    someone = "arn:aws:iam::111111111111:user/security-engineer"
    other_role = "arn:aws:iam::111111111111:role/custodian-keyage-other"
    assert denied(action, [RECORD], someone)
    assert denied(action, [RECORD], other_role)
    assert denied(action, ["team", RECORD], someone)  # one reserved key is enough
    assert not denied(action, [RECORD], CUSTODIAN_ROLE)
    # The same role name in every account of an organisation (c7n-org's accounts file).
    assert not denied(action, [RECORD], CUSTODIAN_ROLE.replace("111111111111", "222222222222"))


@pytest.mark.parametrize(
    "key",
    [
        "team",
        "keyage-exempt",
        "keyage-exempt-until",
        "c7n-keyage-stale-keys",  # the reminder sample's mark: not a record
        "c7n-keyage",
    ],
)
def test_other_tags_stay_free(key):
    someone = "arn:aws:iam::111111111111:user/security-engineer"
    assert not denied("iam:TagUser", [key], someone)
    assert not denied("iam:UntagUser", [key], someone)


def test_every_case_variant_of_the_prefix_is_reserved():
    someone = "arn:aws:iam::111111111111:user/security-engineer"
    variants = case_variants(PREFIX)
    assert len(variants) == 2**8
    for variant in variants:
        assert denied("iam:TagUser", [variant + RECORD[len(PREFIX) :]], someone), variant

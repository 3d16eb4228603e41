"""The filter's own option check agrees with jsonschema on its schema."""

from __future__ import annotations

import pytest
from jsonschema import Draft7Validator

from c7n_keyage.filters import AccountAccessKeyUnused, UserAccessKeyUnused
from c7n_keyage.options import option_problems

VALUES = [0, 1, 90, -1, 2.5, 0.0, True, False, "90", None, [], {}]
OPTIONS = sorted(set(UserAccessKeyUnused.schema["properties"]) - {"type"}) + ["dayz"]


@pytest.mark.parametrize("cls", [UserAccessKeyUnused, AccountAccessKeyUnused])
@pytest.mark.parametrize("option", OPTIONS)
def test_same_verdict_as_jsonschema(cls, option):
    validator = Draft7Validator(cls.schema)
    for value in VALUES:
        data = {"type": "access-key-unused", option: value}
        ours = option_problems(cls.schema, data)
        assert bool(ours) == (not validator.is_valid(data)), (option, value, ours)
        assert all(problem.startswith(f"{option}: ") for problem in ours)


def test_messages_name_the_option_and_the_value():
    schema = UserAccessKeyUnused.schema
    assert option_problems(schema, {"type": "access-key-unused", "days": 0}) == [
        "days: 0 is less than the minimum of 1"
    ]
    assert option_problems(schema, {"type": "access-key-unused", "days": True}) == [
        "days: True is not of type 'integer'"
    ]
    assert option_problems(schema, {"type": "credential"}) == [
        "type: 'credential' is not one of ['access-key-unused']"
    ]

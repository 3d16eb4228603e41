"""The filter's own option check agrees with jsonschema on its schema."""

from __future__ import annotations

import pytest
from jsonschema import Draft7Validator

from c7n_keyage.options import _seconds, option_problems
from c7n_keyage.stale.access_key_unused import AccountAccessKeyUnused, UserAccessKeyUnused

NAN, INF = float("nan"), float("inf")
VALUES = [0, 1, 90, 90.0, -1, 2.5, 0.0, True, False, "90", None, [], {}]
# No value may make a run unbounded or overflow a date.
UNBOUNDED = [NAN, INF, -INF, 1e11, 10**400, 36501, 3601, 601, 31536001, 1_000_000_000]
MAXIMA = {
    "days": 36500,
    "rotation-days": 36500,
    "report_delay": 600,
    "report_timeout": 3600,
    "report_max_age": 31536000,
}
OPTIONS = sorted(set(UserAccessKeyUnused.schema["properties"]) - {"type"}) + ["dayz"]


@pytest.mark.parametrize("cls", [UserAccessKeyUnused, AccountAccessKeyUnused])
@pytest.mark.parametrize("option", OPTIONS)
def test_same_verdict_as_jsonschema(cls, option):
    validator = Draft7Validator(cls.schema)
    for value in VALUES + UNBOUNDED:
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


@pytest.mark.parametrize("cls", [UserAccessKeyUnused, AccountAccessKeyUnused])
@pytest.mark.parametrize("option", sorted(MAXIMA))
def test_every_number_is_finite_and_bounded(cls, option):
    schema, validator = cls.schema, Draft7Validator(cls.schema)
    spec = schema["properties"][option]
    assert spec["maximum"] == MAXIMA[option]
    for value in [NAN, INF, -INF, MAXIMA[option] + 1, 10**400]:
        data = {"type": "access-key-unused", option: value}
        assert not validator.is_valid(data), (option, value)
        (problem,) = option_problems(schema, data)
        assert problem.startswith(f"{option}: "), problem
    data = {"type": "access-key-unused", option: MAXIMA[option]}
    assert validator.is_valid(data) and option_problems(schema, data) == []


def test_non_finite_messages():
    schema = UserAccessKeyUnused.schema
    assert option_problems(schema, {"type": "access-key-unused", "report_timeout": NAN}) == [
        "report_timeout: nan is not a number"
    ]
    assert option_problems(schema, {"type": "access-key-unused", "report_max_age": 1e11}) == [
        "report_max_age: 100000000000.0 is greater than the maximum of 31536000"
    ]


# A seconds option made by ``_seconds(title, default=10, maximum=600)``: value -> valid.
SECONDS = [
    (0, True),
    (0.5, True),
    (10, True),
    (600, True),
    (600.0, True),
    (-1, False),
    (-0.5, False),
    (600.5, False),
    (601, False),
    (NAN, False),
    (INF, False),
    (True, False),
    ("10", False),
    (None, False),
]


def test_a_seconds_option_is_a_bounded_finite_number():
    # The schema is built when options.py is imported: this calls the builder itself.
    spec = _seconds("Seconds to wait.", 10, 600)
    assert (spec["title"], spec["default"], spec["not"]["title"]) == (
        "Seconds to wait.",
        10,
        "not a number (NaN)",
    )
    schema = {"type": "object", "properties": {"wait": spec}}
    validator = Draft7Validator(schema)
    for value, valid in SECONDS:
        assert validator.is_valid({"wait": value}) is valid, value
        assert (option_problems(schema, {"wait": value}) == []) is valid, value

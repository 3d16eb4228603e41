"""An unknown option is refused naming it and the nearest valid one.

c7n-org, the Lambda handler and ``--skip-validation`` do not check the JSON schema, so a
misspelt option there is caught by the plugin's own ``validate()`` or not at all. The
message keeps jsonschema's wording (``'x' was unexpected``) and adds the option meant.
"""

from __future__ import annotations

import pytest

from c7n_keyage.options import REPORT_OPTIONS, RULE_OPTIONS, option_problems

FILTER = {"properties": {"type": {"enum": ["f"]}, **RULE_OPTIONS, **REPORT_OPTIONS}}
LIFECYCLE_FILTER = {
    "properties": {
        "type": {"enum": ["retired-keys"]},
        "days": {"type": "integer"},
        "policy": {"type": "string"},
        "within-hours": {"type": "integer"},
        "delete-after-days": {"type": "integer"},
    }
}
ACTION = {"properties": {"type": {"enum": ["restore-keys"]}}}

# id, schema, the option given, the message expected
TABLE = [
    ("underscore", FILTER, "rotation_days", "did you mean 'rotation-days'?"),
    ("letter", FILTER, "dayz", "did you mean 'days'?"),
    ("case", FILTER, "Days", "did you mean 'days'?"),
    ("dash", FILTER, "report-delay", "did you mean 'report_delay'?"),
    ("missing-letter", FILTER, "report_timout", "did you mean 'report_timeout'?"),
    ("hours", LIFECYCLE_FILTER, "within_hours", "did you mean 'within-hours'?"),
    ("after", LIFECYCLE_FILTER, "delete_after_days", "did you mean 'delete-after-days'?"),
    (
        "far",
        LIFECYCLE_FILTER,
        "grace",
        "the options are days, delete-after-days, policy, within-hours",
    ),
    ("action", ACTION, "policy", "it takes no options"),
    ("action-near-type", ACTION, "typ", "did you mean 'type'?"),
]


@pytest.mark.parametrize(
    "schema, option, expected", [t[1:] for t in TABLE], ids=[t[0] for t in TABLE]
)
def test_an_unknown_option_is_named_with_the_nearest_valid_one(schema, option, expected):
    (problem,) = option_problems(schema, {option: 1})
    assert problem == f"{option}: {option!r} was unexpected; {expected}"


def test_each_unknown_option_is_refused_and_the_known_ones_still_checked():
    problems = option_problems(FILTER, {"rotation_days": 30, "dayz": 1, "days": 0})
    assert problems == [
        "rotation_days: 'rotation_days' was unexpected; did you mean 'rotation-days'?",
        "dayz: 'dayz' was unexpected; did you mean 'days'?",
        "days: 0 is less than the minimum of 1",
    ]


def test_an_option_that_is_not_a_string_is_named_too():
    (problem,) = option_problems(ACTION, {90: True})
    assert problem == "90: 90 was unexpected; it takes no options"

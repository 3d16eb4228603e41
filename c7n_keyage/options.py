"""The filter's options, and a check of them against their schema without jsonschema.

``custodian validate`` checks the JSON schema, but c7n-org, the Lambda handler and
``--skip-validation`` do not, so the filter checks its options again. jsonschema is not
in Lambda's runtime (and its compiled dependency cannot ship in ``mode.packages``), and
the schema here uses only flat ``type``/``minimum``/``maximum`` properties, so this reads
those. Messages follow jsonschema's wording, so both paths say the same thing.

Every number has a stated maximum and must be finite: no value makes a run unbounded
(``report_timeout: .nan`` would poll for ever) or overflows a date (``days: 1e9``). An
unknown option is refused with the nearest valid one (``rotation_days`` -> ``rotation-days``):
where the schema is skipped, a misspelt option would otherwise be silently ignored.
"""

from __future__ import annotations

import difflib
import math

# Older than IAM itself (2010): beyond this the option means nothing.
MAX_DAYS = 36500


def _seconds(title: str, default: float, maximum: float) -> dict:
    return {
        "title": title,
        "default": default,
        "type": "number",
        "minimum": 0,
        "maximum": maximum,
        # JSON schema has no "finite": NaN passes every comparison, so refuse it as the
        # one number that passes this (every number >= 0 fails it).
        "not": {"title": "not a number (NaN)", "exclusiveMaximum": 0},
    }


REPORT_OPTIONS = {
    # Same names, meaning and defaults as c7n's ``credential`` filter.
    "report_generate": {
        "title": "Generate a report if none is present.",
        "default": True,
        "type": "boolean",
    },
    "report_delay": _seconds("Seconds to wait between polls while a report is made.", 10, 600),
    "report_max_age": _seconds("Number of seconds to consider a report valid.", 86400, 31536000),
    "report_timeout": _seconds(
        "Most seconds to wait in all for a report before failing the policy.", 300, 3600
    ),
}
RULE_OPTIONS = {
    "days": {
        "title": "Flag an active key unused (never used: created) more than this many days ago.",
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_DAYS,
        "default": 90,
    },
    "rotation-days": {
        "title": "Also flag an active key created more than this many days ago, used or not.",
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_DAYS,
    },
}

_TYPES = {
    # bool is an int in Python, never in JSON schema; 90.0 is an integer in JSON schema.
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
}


def option_problems(schema: dict, data: dict) -> list[str]:
    """One message per bad option, each starting with the option's name."""
    properties = schema["properties"]
    problems = [unknown(name, properties) for name in data if name not in properties]
    for name, value in data.items():
        spec = properties.get(name, {})
        if "enum" in spec:
            if value not in spec["enum"]:
                problems.append(f"{name}: {value!r} is not one of {spec['enum']!r}")
        elif "type" in spec and not _TYPES[spec["type"]](value):
            problems.append(f"{name}: {value!r} is not of type {spec['type']!r}")
        elif isinstance(value, float) and math.isnan(value):
            problems.append(f"{name}: {value!r} is not a number")
        elif "minimum" in spec and value < spec["minimum"]:
            problems.append(f"{name}: {value!r} is less than the minimum of {spec['minimum']!r}")
        elif "maximum" in spec and value > spec["maximum"]:
            problems.append(f"{name}: {value!r} is greater than the maximum of {spec['maximum']!r}")
    return problems


def unknown(name: object, properties: dict) -> str:
    """An unknown option refused as jsonschema words it, with the nearest valid option."""
    refused = f"{name}: {name!r} was unexpected"
    if close := difflib.get_close_matches(str(name), list(properties), n=1):
        return f"{refused}; did you mean {close[0]!r}?"
    if options := sorted(set(properties) - {"type"}):
        return f"{refused}; the options are {', '.join(options)}"
    return f"{refused}; it takes no options"

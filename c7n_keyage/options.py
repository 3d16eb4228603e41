"""Check a filter's options against its own JSON schema, without jsonschema.

``custodian validate`` checks the schema, but c7n-org, the Lambda handler and
``--skip-validation`` do not, so the filter checks its options again. jsonschema is not
in Lambda's runtime (and its compiled dependency cannot ship in ``mode.packages``), and
the schema here uses only flat ``type``/``minimum`` properties, so this reads those.
Messages follow jsonschema's wording, so both paths say the same thing.
"""

from __future__ import annotations

_TYPES = {
    # bool is an int in Python, never in JSON schema.
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
}


def option_problems(schema: dict, data: dict) -> list[str]:
    """One message per bad option, each starting with the option's name."""
    properties = schema["properties"]
    problems = [f"{name}: {name!r} was unexpected" for name in data if name not in properties]
    for name, value in data.items():
        spec = properties.get(name, {})
        if "enum" in spec:
            if value not in spec["enum"]:
                problems.append(f"{name}: {value!r} is not one of {spec['enum']!r}")
        elif "type" in spec and not _TYPES[spec["type"]](value):
            problems.append(f"{name}: {value!r} is not of type {spec['type']!r}")
        elif "minimum" in spec and value < spec["minimum"]:
            problems.append(f"{name}: {value!r} is less than the minimum of {spec['minimum']!r}")
    return problems

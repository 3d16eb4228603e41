"""Valid-looking policies that used to act on the wrong keys or never end, run for real.

Each probe runs the stock ``custodian`` CLI against a local IAM endpoint (see
``test_custodian_run.py``); a probe fails if any key but the stale ones changes, if a run does not
end promptly, or if a bad option ends in a traceback instead of a message naming it.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest
import yaml

from tests.support.localiam import KeySpec, LocalIAM, UserSpec
from tests.support.stock_cli import environment

CUSTODIAN = pathlib.Path(sys.executable).parent / "custodian"
MUTATING = {"UpdateAccessKey", "DeleteAccessKey", "CreateAccessKey"}

REPORT = {
    "name": "report",
    "resource": "iam-user",
    "filters": [{"type": "access-key-unused", "days": 90}],
}
DISABLE = dict(
    REPORT,
    name="disable",
    actions=[{"type": "remove-keys", "matched": True, "disable": True}],
)


def custodian(local: LocalIAM, command: str, policy: dict, tmp: pathlib.Path, *options: str):
    path = tmp / f"{policy['name']}.yml"
    path.write_text(yaml.safe_dump({"policies": [policy]}))
    args = [str(CUSTODIAN), command, *options, str(path)]
    if command == "run":
        args[2:2] = ["-s", str(tmp / "out")]
    local.clear_calls()
    # c7n's default cache, private to the test: a second run takes users and report from it.
    env = environment(local, tmp)
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)


def found(tmp: pathlib.Path, name: str) -> dict[str, list]:
    resources = json.loads((tmp / "out" / name / "resources.json").read_text())
    return {r["UserName"]: r["c7n:unused-keys"] for r in resources}


@pytest.mark.parametrize("change", ["deleted", "deactivated"])
def test_twin_of_a_changed_key_is_never_disabled(tmp_path, change):
    """Two keys made in the same second: one used yesterday, one never used. The report
    flags the never-used one; its owner then deletes or deactivates it. Nothing may be
    disabled: the twin left is in use."""
    with LocalIAM() as local:
        (used, never) = local.seed([UserSpec("twins", [KeySpec(200, 1), KeySpec(200, None)])])[
            "twins"
        ]
        report = custodian(local, "run", REPORT, tmp_path)
        assert report.returncode == 0, report.stderr
        assert [k["slot"] for k in found(tmp_path, "report")["twins"]] == [2]
        iam = local.client()
        if change == "deleted":
            iam.delete_access_key(UserName="twins", AccessKeyId=never)
        else:
            iam.update_access_key(UserName="twins", AccessKeyId=never, Status="Inactive")
        disable = custodian(local, "run", DISABLE, tmp_path)
        calls = local.calls
        after = local.key_states()

    assert disable.returncode == 0, disable.stderr
    assert [c for c in calls if c.action in MUTATING] == []
    assert after["twins"][used] == "Active"
    assert "it has a twin created in the same second" in disable.stderr


def test_twins_unchanged_disable_only_the_stale_one_by_id(tmp_path):
    with LocalIAM() as local:
        (used, never) = local.seed([UserSpec("twins", [KeySpec(200, 1), KeySpec(200, None)])])[
            "twins"
        ]
        disable = custodian(local, "run", DISABLE, tmp_path)
        calls = local.calls
        after = local.key_states()

    assert disable.returncode == 0, disable.stderr
    assert [(c.action, c.params["AccessKeyId"]) for c in calls if c.action in MUTATING] == [
        ("UpdateAccessKey", never)
    ]
    assert after["twins"] == {used: "Active", never: "Inactive"}
    # The report cannot say which slot it is; its ID is what was acted on.
    (entry,) = found(tmp_path, "disable")["twins"]
    assert (entry["slot"], entry["access_key_id"]) == (None, never)


COMMAS = [
    UserSpec("svc,stale", [KeySpec(400, 200)]),
    UserSpec("ops,admin", [KeySpec(400, 200)]),
    UserSpec("ops", [KeySpec(300, 150)]),
    UserSpec("ops-fresh", [KeySpec(300, 1)]),
]


@pytest.mark.parametrize("aws_like", [True, False], ids=["aws-like-report", "unmodified-moto"])
def test_names_with_commas_are_judged_as_themselves(tmp_path, aws_like):
    """moto (like AWS, by all accounts) writes such names unquoted in the report."""
    with LocalIAM(aws_like_report=aws_like) as local:
        ids = local.seed(COMMAS)
        disable = custodian(local, "run", DISABLE, tmp_path)
        calls = local.calls

    assert disable.returncode == 0, disable.stderr
    assert "not in the credential report" not in disable.stderr
    assert sorted(found(tmp_path, "disable")) == ["ops", "ops,admin", "svc,stale"]
    assert sorted(
        c.params["AccessKeyId"] for c in calls if c.action == "UpdateAccessKey"
    ) == sorted(ids["ops"] + ids["ops,admin"] + ids["svc,stale"])


@pytest.mark.parametrize(
    "filters",
    [
        [{"not": [{"type": "access-key-unused"}]}],
        [
            {"type": "credential", "key": "access_keys.active", "value": True},
            {"not": [{"type": "access-key-unused"}]},
        ],
    ],
    ids=["alone", "beside-credential"],
)
@pytest.mark.parametrize("command", ["validate", "run"])
def test_negation_in_a_policy_that_removes_keys_is_refused(tmp_path, filters, command):
    policy = dict(DISABLE, filters=filters)
    with LocalIAM() as local:
        ids = local.seed([UserSpec("in-use", [KeySpec(30, 1)])])
        result = custodian(local, command, policy, tmp_path)
        calls = local.calls
        after = local.key_states()

    assert "matched keys have no meaning under negation" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert [c for c in calls if c.action in MUTATING] == []
    assert after["in-use"] == {ids["in-use"][0]: "Active"}


@pytest.mark.parametrize(
    "option, value",
    [
        ("report_timeout", float("nan")),
        ("report_delay", float("nan")),
        ("report_max_age", float("inf")),
        ("report_max_age", 1e11),
        ("days", 1_000_000_000),
    ],
)
def test_unbounded_options_are_refused_by_name_even_unvalidated(tmp_path, option, value):
    """``--skip-validation`` skips the schema, as c7n-org and Lambda do: validate() still
    refuses the value, naming the option, before any call; nothing hangs. (c7n's CLI
    prints a PolicyValidationError raised there with its traceback; the last line is the
    message.)"""
    policy = dict(REPORT, filters=[{"type": "access-key-unused", option: value}])
    with LocalIAM() as local:
        local.seed([UserSpec("someone", [KeySpec(400, 200)])])
        result = custodian(local, "run", policy, tmp_path, "--skip-validation")
        calls = local.calls

    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("c7n.exceptions.PolicyValidationError: policy:report filter ")
    assert f"filter access-key-unused: {option}: " in last, last
    assert [c.action for c in calls if c.service == "iam"] == []

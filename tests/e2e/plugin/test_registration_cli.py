"""The filter under the stock tools: installed by ``pip install .``, no wrapper, no env var."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import sysconfig

import pytest
import yaml
from c7n.exceptions import PolicyValidationError

import c7n_keyage
from tests.support.paths import POLICIES
from tests.support.policies import BAD_OPTIONS, bad_policy

BIN = pathlib.Path(sys.executable).parent
SAMPLES = sorted(POLICIES.glob("*.yml"))


def cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_pip_install_put_the_startup_hook_in_site_packages():
    pth = pathlib.Path(sysconfig.get_paths()["purelib"]) / "c7n_keyage.pth"
    assert pth.read_text().strip() == "import c7n_keyage"
    assert pathlib.Path(c7n_keyage.__file__).parent.parent == pth.parent


def test_startup_hook_imports_neither_c7n_nor_boto3():
    # A fresh interpreter: the .pth has imported c7n_keyage, and nothing heavy with it.
    code = (
        "import sys; heavy = ('c7n_keyage', 'c7n', 'boto3', 'botocore');"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['c7n_keyage', 'c7n_keyage.plugin', 'c7n_keyage.plugin.hook']"


def test_loading_iam_registers_the_filter_in_a_fresh_interpreter():
    code = (
        "from c7n.resources import load_resources; load_resources(('aws.iam-user', 'aws.account'));"
        "from c7n.resources.iam import User; from c7n.resources.account import Account;"
        "print(User.filter_registry.get('access-key-unused').__name__,"
        " Account.filter_registry.get('access-key-unused').__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["UserAccessKeyUnused", "AccountAccessKeyUnused"]


def test_stock_schema_shows_the_docs():
    out = cli("custodian", "schema", "aws.iam-user.filters.access-key-unused")
    assert out.returncode == 0, out.stderr
    assert "Find IAM users with ACTIVE access keys" in out.stdout
    assert "- type: access-key-unused" in out.stdout
    assert "rotation-days" in out.stdout and "report_timeout" in out.stdout
    root = cli("custodian", "schema", "aws.account.filters.access-key-unused")
    assert root.returncode == 0, root.stderr
    assert "root user" in root.stdout and "resolve-key-ids" not in root.stdout


LIFECYCLE_SAMPLES = {
    "access-key-lifecycle.yml",
    "access-key-lifecycle-restore.yml",
    "access-key-lifecycle-exemptions.yml",
}


def test_stock_validate_accepts_every_sample_policy():
    assert len(SAMPLES) >= 14
    assert LIFECYCLE_SAMPLES <= {path.name for path in SAMPLES}
    out = cli("custodian", "validate", *map(str, SAMPLES))
    assert out.returncode == 0, out.stderr
    assert out.stderr.count("Configuration valid") == len(SAMPLES)


# NaN passes every comparison: jsonschema and the filter word its refusal differently.
NOT_A_NUMBER = [
    ("report_timeout", "nan should not be valid", "report_timeout: nan is not a number"),
    ("report_delay", "nan should not be valid", "report_delay: nan is not a number"),
    ("report_max_age", "nan should not be valid", "report_max_age: nan is not a number"),
    ("days", "nan is not of type 'integer'", "days: nan is not of type 'integer'"),
]


def bad_policy_file(tmp_path: pathlib.Path, option: str, value) -> pathlib.Path:
    policy = tmp_path / "bad.yml"
    policy.write_text(yaml.safe_dump({"policies": [bad_policy(option, value)]}))
    return policy


@pytest.mark.parametrize("option, stock, ours", NOT_A_NUMBER)
def test_not_a_number_is_refused_by_both_validations(
    tmp_path, replay_from, run_policy, option, stock, ours
):
    out = cli("custodian", "validate", str(bad_policy_file(tmp_path, option, float("nan"))))
    assert out.returncode != 0
    assert stock in out.stderr and f"['properties']['{option}']" in out.stderr
    replay = replay_from("test_report_only_flags_stale_keys")
    with pytest.raises(PolicyValidationError, match=f"policy:bad filter access-key-unused: {ours}"):
        run_policy(bad_policy(option, float("nan")), replay, validate=False)
    assert replay.calls == []


@pytest.mark.parametrize("option, value, message", BAD_OPTIONS)
def test_stock_validate_rejects_bad_options(tmp_path, option, value, message):
    out = cli("custodian", "validate", str(bad_policy_file(tmp_path, option, value)))
    assert out.returncode != 0
    assert message in out.stderr
    assert option in out.stderr


LIFECYCLE = {
    "filters": {"retired-keys": "RetiredKeys"},
    "actions": {
        "retire-keys": "RetireKeys",
        "restore-keys": "RestoreKeys",
        "delete-retired-keys": "DeleteRetiredKeys",
    },
}


REGISTERED = """
import json, sys
from c7n.resources import load_resources
load_resources(("aws.iam-user", "aws.account"))
from c7n.resources.iam import User
from c7n.resources.account import Account
wanted = json.loads(sys.argv[1])
registries = {"filters": User.filter_registry, "actions": User.action_registry}
print(json.dumps({k: {n: getattr(registries[k].get(n), "__name__", None) for n in names}
                  for k, names in wanted.items()}))
print(json.dumps([n for n in wanted["actions"] if Account.action_registry.get(n)]
                 + [n for n in wanted["filters"] if Account.filter_registry.get(n)]))
print(User.action_registry.get("remove-keys").__module__,
      User.filter_registry.get("credential").__module__)
"""


def test_lifecycle_is_registered_on_iam_user_only_beside_c7ns_own():
    import json

    out = subprocess.run(
        [sys.executable, "-c", REGISTERED, json.dumps(LIFECYCLE)],
        capture_output=True,
        text=True,
        check=True,
    )
    registered, on_account, own = out.stdout.splitlines()
    assert json.loads(registered) == LIFECYCLE
    assert json.loads(on_account) == []
    # c7n's own key action and credential filter are still c7n's.
    assert own.split() == ["c7n.resources.iam", "c7n.resources.iam"]


@pytest.mark.parametrize(
    "path, phrases",
    [
        (
            "aws.iam-user.actions.retire-keys",
            ["Retire the stale keys", "- type: retire-keys", "TagUser"],
        ),
        (
            "aws.iam-user.actions.restore-keys",
            ["Re-enable the retired keys", "- type: restore-keys"],
        ),
        (
            "aws.iam-user.actions.delete-retired-keys",
            ["Delete the retired keys", "- type: delete-retired-keys"],
        ),
        (
            "aws.iam-user.filters.retired-keys",
            ["Find IAM users with access keys retired", "within-hours", "- type: retired-keys"],
        ),
    ],
    ids=["retire", "restore", "delete", "filter"],
)
def test_stock_schema_shows_the_lifecycles_docs(path, phrases):
    out = cli("custodian", "schema", path)
    assert out.returncode == 0, out.stderr
    for phrase in phrases:
        assert phrase in out.stdout, phrase


def test_stock_validate_refuses_a_lifecycle_policy_saying_why(tmp_path):
    policy = tmp_path / "retire.yml"
    policy.write_text(
        yaml.safe_dump(
            {
                "policies": [
                    {
                        "name": "retire-without-the-filter",
                        "resource": "iam-user",
                        "filters": [{"tag:team": "present"}],
                        "actions": [{"type": "retire-keys"}],
                    }
                ]
            }
        )
    )
    out = cli("custodian", "validate", str(policy))
    assert out.returncode != 0
    assert "retire-keys needs an access-key-unused filter in the policy" in out.stderr

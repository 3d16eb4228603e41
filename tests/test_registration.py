"""The filter under the stock tools: installed by ``pip install .``, no wrapper, no env var."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import sysconfig

import pytest
from c7n.exceptions import PolicyValidationError

import c7n_keyage
from c7n_keyage.plugin import hook

BIN = pathlib.Path(sys.executable).parent
REPO = pathlib.Path(__file__).parent.parent
POLICIES = sorted((REPO / "policies").glob("*.yml"))


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


def test_import_registers_idempotently():
    from c7n.resources.account import Account
    from c7n.resources.iam import User

    from c7n_keyage.stale.access_key_unused import AccountAccessKeyUnused, UserAccessKeyUnused

    hook.install()
    hook.install()
    assert sum(getattr(f, "c7n_keyage", False) for f in sys.meta_path) == 1
    assert User.filter_registry.get("access-key-unused") is UserAccessKeyUnused
    assert Account.filter_registry.get("access-key-unused") is AccountAccessKeyUnused
    assert UserAccessKeyUnused.type == "access-key-unused"


def test_hook_wraps_only_its_targets():
    finder = next(f for f in sys.meta_path if getattr(f, "c7n_keyage", False))
    assert finder.find_spec("json") is None
    spec = finder.find_spec("c7n.resources.iam", sys.modules["c7n.resources"].__path__)
    assert type(spec.loader).__name__ == "_Loader"
    assert spec.loader.get_filename("c7n.resources.iam").endswith("iam.py")


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
    assert len(POLICIES) >= 14
    assert LIFECYCLE_SAMPLES <= {path.name for path in POLICIES}
    out = cli("custodian", "validate", *map(str, POLICIES))
    assert out.returncode == 0, out.stderr
    assert out.stderr.count("Configuration valid") == len(POLICIES)


BAD = [
    ("days", 0, "0 is less than the minimum of 1"),
    ("days", -3, "-3 is less than the minimum of 1"),
    ("days", "ninety", "'ninety' is not of type 'integer'"),
    ("days", True, "True is not of type 'integer'"),
    ("rotation-days", 0, "0 is less than the minimum of 1"),
    ("report_timeout", -1, "-1 is less than the minimum of 0"),
    ("report_generate", "yes", "'yes' is not of type 'boolean'"),
    ("dayz", 9, "'dayz' was unexpected"),
    ("days", 1_000_000_000, "1000000000 is greater than the maximum of 36500"),
    ("report_max_age", 1e11, "100000000000.0 is greater than the maximum of 31536000"),
    ("report_max_age", float("inf"), "inf is greater than the maximum of 31536000"),
]
# NaN passes every comparison: jsonschema and the filter word its refusal differently.
NOT_A_NUMBER = [
    ("report_timeout", "nan should not be valid", "report_timeout: nan is not a number"),
    ("report_delay", "nan should not be valid", "report_delay: nan is not a number"),
    ("report_max_age", "nan should not be valid", "report_max_age: nan is not a number"),
    ("days", "nan is not of type 'integer'", "days: nan is not of type 'integer'"),
]


def bad_policy_file(tmp_path: pathlib.Path, option: str, value) -> pathlib.Path:
    import yaml

    policy = tmp_path / "bad.yml"
    policy.write_text(
        yaml.safe_dump(
            {
                "policies": [
                    {
                        "name": "bad",
                        "resource": "iam-user",
                        "filters": [{"type": "access-key-unused", option: value}],
                    }
                ]
            }
        )
    )
    return policy


@pytest.mark.parametrize("option, stock, ours", NOT_A_NUMBER)
def test_not_a_number_is_refused_by_both_validations(
    tmp_path, replay_from, run_policy, option, stock, ours
):
    out = cli("custodian", "validate", str(bad_policy_file(tmp_path, option, float("nan"))))
    assert out.returncode != 0
    assert stock in out.stderr and f"['properties']['{option}']" in out.stderr
    replay = replay_from("test_report_only_flags_stale_keys")
    policy = {
        "name": "bad",
        "resource": "iam-user",
        "filters": [{"type": "access-key-unused", option: float("nan")}],
    }
    with pytest.raises(PolicyValidationError, match=f"policy:bad filter access-key-unused: {ours}"):
        run_policy(policy, replay, validate=False)
    assert replay.calls == []


@pytest.mark.parametrize("option, value, message", BAD)
def test_stock_validate_rejects_bad_options(tmp_path, option, value, message):
    out = cli("custodian", "validate", str(bad_policy_file(tmp_path, option, value)))
    assert out.returncode != 0
    assert message in out.stderr
    assert option in out.stderr


@pytest.mark.parametrize("option, value, message", BAD)
def test_filter_validate_rejects_bad_options_without_the_schema(
    option, value, message, replay_from, run_policy
):
    # c7n-org, Lambda and --skip-validation skip the JSON schema: validate() still refuses.
    replay = replay_from("test_report_only_flags_stale_keys")
    policy = {
        "name": "bad",
        "resource": "iam-user",
        "filters": [{"type": "access-key-unused", option: value}],
    }
    with pytest.raises(PolicyValidationError) as raised:
        run_policy(policy, replay, validate=False)
    assert message in str(raised.value) and "policy:bad" in str(raised.value)
    assert replay.calls == []


def test_editable_install_step_writes_the_hook(tmp_path, monkeypatch):
    monkeypatch.setattr(sysconfig, "get_paths", lambda: {"purelib": str(tmp_path)})
    assert hook.main(["install"]) == 0
    assert (tmp_path / "c7n_keyage.pth").read_text() == "import c7n_keyage\n"
    assert hook.main([]) == 2


def test_policies_without_the_filter_filter_exactly_as_c7n_does(replay_from, frozen, run_policy):
    """Only a policy that uses access-key-unused has its run scoped (scope.bind); a policy
    of c7n's filters alone keeps c7n's own filter_resources and annotations."""
    from c7n.query import QueryResourceManager

    replay = replay_from("test_report_only_flags_stale_keys")
    ours = run_policy(
        {"name": "ours", "resource": "iam-user", "filters": [{"type": "access-key-unused"}]},
        replay,
    ).resource_manager
    theirs = run_policy(
        {"name": "theirs", "resource": "iam-user", "filters": [{"tag:team": "absent"}]},
        replay_from("test_report_only_flags_stale_keys"),
    ).resource_manager

    assert "filter_resources" in vars(ours)
    assert "filter_resources" not in vars(theirs)
    assert type(theirs).filter_resources is QueryResourceManager.filter_resources


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
    import yaml

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

"""The periodic Lambda: the archive ``custodian run`` would upload carries the plugin and
its handler, and that handler, run from the unpacked archive alone, finds stale keys.

``custodian run`` provisions a Lambda policy with ``c7n.mu.PolicyLambda(policy)``; its
``get_archive()`` is the zip uploaded and ``get_config()`` the function configuration. The
handler then runs as Lambda would run it (``tests/support/lambda_runner.py``).
"""

from __future__ import annotations

import json
import pathlib
import zipfile

import pytest
from c7n.mu import PolicyLambda

import c7n_keyage
from tests.support.lambda_runner import HANDLER, build, invoke, lambda_policy
from tests.support.localiam import DEMO_ACCOUNT, LocalIAM

# From the demo account: fresh, stale, never used, two keys with slot 1 the newer.
DEMO_USERS = {"alice-fresh", "bob-stale", "dave-abandoned", "erin-two-keys"}
USERS = [user for user in DEMO_ACCOUNT if user.name in DEMO_USERS]


@pytest.fixture(params=[None, "credential-report"], ids=["describe", "credential-report"])
def archive(request, tmp_path):
    """The zip and function configuration ``custodian run`` would publish."""
    policy = lambda_policy(tmp_path / "lambda-output", request.param)
    return build(policy, tmp_path), PolicyLambda(policy).get_config()


def test_archive_carries_the_plugin_and_its_handler(archive):
    path, config = archive
    assert config["Handler"] == HANDLER
    assert config["Runtime"] == "python3.11"

    names = set(zipfile.ZipFile(path).namelist())
    package = pathlib.Path(c7n_keyage.__file__).parent
    modules = {f"c7n_keyage/{p.relative_to(package).as_posix()}" for p in package.rglob("*.py")}
    assert {
        "c7n_keyage/__init__.py",
        "c7n_keyage/handler.py",
        "c7n_keyage/stale/access_key_unused.py",
    } <= modules
    assert modules <= names
    # The mailer template travels too (packages are added as whole directories).
    assert "c7n_keyage/templates/access-key-unused.html.j2" in names
    assert "c7n/handler.py" in names and "c7n/resources/iam.py" in names
    # The .pth hook is not in the archive: Lambda would not read it anyway.
    assert not any(name.endswith(".pth") for name in names)

    packaged = json.loads(zipfile.ZipFile(path).read("config.json"))
    (policy,) = packaged["policies"]
    assert policy["mode"]["handler"] == HANDLER
    assert policy["mode"]["packages"] == ["c7n_keyage"]
    assert policy["filters"][0]["type"] == "access-key-unused"


@pytest.mark.parametrize("aws_like", [True, False], ids=["aws-like-report", "unmodified-moto"])
def test_handler_from_the_unpacked_archive_finds_stale_keys(archive, tmp_path, aws_like):
    path, config = archive
    task = tmp_path / "task"
    source = json.loads(zipfile.ZipFile(path).read("config.json"))["policies"][0].get("source")

    with LocalIAM(aws_like_report=aws_like) as local:
        local.seed(USERS)
        result, calls = invoke(path, tmp_path, local)
        actions = [c.action for c in calls]

    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["result"] is True
    # Nothing registered the filter before the handler imported the plugin from the zip.
    assert seen["hooked_before_import"] is False
    for module in ("c7n", "c7n_keyage", "filter_module"):
        assert pathlib.Path(seen[module]).is_relative_to(task), module

    resources = json.loads(
        (tmp_path / "lambda-output" / "iam-access-key-unused-daily" / "resources.json").read_text()
    )
    found = [
        (r["UserName"], k["slot"], k["reasons"]) for r in resources for k in r["c7n:unused-keys"]
    ]
    assert found == [
        ("bob-stale", 1, ["unused"]),
        ("dave-abandoned", 1, ["never-used"]),
        ("erin-two-keys", 2, ["unused"]),
    ]
    # Lambda has no cache: each invocation fetched the report itself (a warm container's
    # second invocation does not reuse the first one's). The first is generated at its
    # request and used as served, with no wait.
    assert actions.count("GetCallerIdentity") == 1  # c7n keeps the account ID
    reports = [a for a in actions if "CredentialReport" in a]
    first = ["GetCredentialReport", "GenerateCredentialReport", "GetCredentialReport"]
    # The AWS-like snapshot is fresh for the second; moto's is dated 2015: asked again.
    second = ["GetCredentialReport"] if aws_like else first
    assert reports == first + second
    assert "ListAccessKeys" not in actions
    # The report is the listing on that source: nothing per user.
    per_user = ["ListUsers"] + ["GetUser"] * len(USERS)
    assert [a for a in actions if "User" in a] == ([] if source else per_user * 2)

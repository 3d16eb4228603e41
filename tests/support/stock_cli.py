"""Run the stock ``custodian`` and ``c7n-org`` CLIs as users do, against a ``LocalIAM``.

Each run is a subprocess of the console scripts beside this interpreter (they see the
plugin through its installed start-up hook), with the environment ``LocalIAM.env`` gives
and a ``HOME`` of the test's own: c7n's default cache (a 15-minute sqlite file under
``~/.cache``) is then private to the test and starts empty, and the cache period stays at
its default unless a test passes another cache option, saying why.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field

import yaml

from tests.support.localiam import Call, LocalIAM

BIN = pathlib.Path(sys.executable).parent
CUSTODIAN = BIN / "custodian"
C7N_ORG = BIN / "c7n-org"
MUTATING = frozenset({"UpdateAccessKey", "DeleteAccessKey", "CreateAccessKey"})


@dataclass
class Run:
    returncode: int
    log: str
    outputs: dict[tuple[str, ...], list[dict]]  # (..., policy) -> its resources.json
    calls: list[Call]
    # (..., policy, action name) -> what the action returned (c7n's action-<name> file)
    results: dict[tuple[str, ...], list] = field(default_factory=dict)

    def resources(self, policy: str, *parts: str) -> list[dict]:
        """What this run wrote for ``policy`` (under ``parts``: c7n-org's account/region)."""
        return self.outputs.get((*parts, policy), [])

    def action_results(self, policy: str, action: str, *parts: str) -> list | None:
        """What ``action`` of ``policy`` returned, as c7n wrote it; None if no file."""
        return self.results.get((*parts, policy, action))

    def users(self, policy: str, *parts: str) -> dict[str, dict]:
        return {r["UserName"]: r for r in self.resources(policy, *parts)}

    def findings(self, policy: str, *parts: str) -> set[tuple[str, str]]:
        """``(user, access key id)`` of every finding ``policy`` wrote (confirmed live)."""
        return {
            (r["UserName"], k["access_key_id"])
            for r in self.resources(policy, *parts)
            for k in r.get("c7n:unused-keys", ())
        }

    def operations(self, *names: str) -> list[Call]:
        return [call for call in self.calls if call.action in names]

    def count(self) -> Counter:
        return Counter(call.action for call in self.calls if call.service == "iam")

    def changed(self) -> list[tuple[str, str, str]]:
        """``(action, user, key id)`` of every call that changed a key, in order."""
        return [
            (c.action, c.params.get("UserName", ""), c.params.get("AccessKeyId", ""))
            for c in self.calls
            if c.action in MUTATING
        ]

    def assert_clean(self) -> None:
        """Exit 0 and nothing logged at ERROR: no fault aborted any part of the run."""
        assert self.returncode == 0, self.log
        assert ":ERROR " not in self.log and "Traceback" not in self.log, self.log


def _clear(out: pathlib.Path) -> None:
    """Remove earlier runs' resources.json and action results: a policy (or an action) that
    did not run shows no output."""
    for pattern in ("resources.json", "action-*"):
        for path in out.rglob(pattern):
            path.unlink()


def _outputs(out: pathlib.Path) -> dict[tuple[str, ...], list[dict]]:
    return {
        path.parent.relative_to(out).parts: json.loads(path.read_text())
        for path in out.rglob("resources.json")
    }


def _results(out: pathlib.Path) -> dict[tuple[str, ...], list]:
    return {
        (*path.parent.relative_to(out).parts, path.name[len("action-") :]): json.loads(
            path.read_text()
        )
        for path in out.rglob("action-*")
    }


def pytest_file(directory: pathlib.Path, name: str) -> subprocess.CompletedProcess:
    """Run a test file of a user's own with pytest, in ``directory``, as they would."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", name],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=300,
    )


def environment(local: LocalIAM, tmp: pathlib.Path) -> dict[str, str]:
    env = local.env()
    env["HOME"] = str(tmp / "home")
    return env


def write(policies: list[dict] | dict, path: pathlib.Path) -> pathlib.Path:
    policies = [policies] if isinstance(policies, dict) else policies
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"policies": policies}, sort_keys=False))
    return path


def custodian(
    local: LocalIAM,
    policies: list[dict] | dict,
    tmp: pathlib.Path,
    *options: str,
    command: str = "run",
    name: str = "policies.yml",
) -> Run:
    """``custodian run -s <tmp>/out [options] <file>`` (or another command) on ``policies``."""
    path = write(policies, tmp / name)
    out = tmp / "out"
    args = [str(CUSTODIAN), command]
    if command == "run":
        args += ["-s", str(out)]
    _clear(out)
    local.clear_calls()
    result = subprocess.run(
        [*args, *options, str(path)],
        env=environment(local, tmp),
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Run(result.returncode, result.stderr, _outputs(out), local.calls, _results(out))


def c7n_org(
    local: LocalIAM,
    accounts: dict[str, str],
    policies: list[dict] | dict,
    tmp: pathlib.Path,
    *options: str,
) -> Run:
    """``c7n-org run`` over ``accounts`` (name -> id, each reached through its own role on
    the local server), one region, a pool of two workers, c7n-org's default cache."""
    config = {
        "accounts": [
            {"name": name, "account_id": account, "role": f"arn:aws:iam::{account}:role/x"}
            for name, account in accounts.items()
        ]
    }
    (tmp / "accounts.yml").write_text(yaml.safe_dump(config))
    path = write(policies, tmp / "org-policies.yml")
    out = tmp / "out"
    env = environment(local, tmp)
    env["C7N_ORG_PARALLEL"] = "2"
    _clear(out)
    local.clear_calls()
    result = subprocess.run(
        [str(C7N_ORG), "run", "-c", str(tmp / "accounts.yml"), "-u", str(path)]
        + ["-s", str(out), "-r", "us-east-1", *options],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Run(result.returncode, result.stderr, _outputs(out), local.calls, _results(out))

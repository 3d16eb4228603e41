"""The demo: find and disable stale IAM access keys, with no AWS account.

``python -m demo`` (``make demo``) starts a local IAM endpoint on 127.0.0.1, seeds an account
whose keys show every case the rule tells apart, and runs the STOCK ``custodian run`` CLI on
two sample policies from ``policies/``: the report, then the remediation (``remove-keys``,
``matched: true``, ``disable: true``). It prints what was found and which keys were disabled,
then stops the endpoint.

The policies run as shipped except ``report_delay: 0`` (the local endpoint makes the report at
once, so there is nothing to wait for) and, on the report, ``resolve-key-ids: true``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import yaml

from demo.localiam import DEMO_ACCOUNT, LocalIAM

POLICIES = Path(__file__).resolve().parent.parent / "policies"
REPORT_POLICY = "access-key-unused-report.yml"
DISABLE_POLICY = "access-key-unused-disable.yml"
# The console script installed beside this interpreter: the one users run.
CUSTODIAN = Path(sys.executable).parent / "custodian"


class CustodianFailed(Exception):
    """``custodian run`` exited non-zero, logged an error or wrote no resources."""


def demo_policy(sample: str, workdir: Path, options: dict) -> tuple[str, Path]:
    """Write a copy of a sample policy with filter ``options`` set; return its name and path."""
    data = yaml.safe_load((POLICIES / sample).read_text())
    (policy,) = data["policies"]
    for spec in policy["filters"]:
        if isinstance(spec, dict) and spec.get("type") == "access-key-unused":
            spec.update(options)
    path = workdir / sample
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return policy["name"], path


def custodian_run(name: str, path: Path, workdir: Path, env: dict[str, str]) -> list[dict]:
    """Run the stock CLI on one policy file; return the resources it matched."""
    out = workdir / "out"
    # --cache-period 0: the account changes between runs, so never reuse listed users.
    command = [str(CUSTODIAN), "run", "--cache-period", "0", "-s", str(out), str(path)]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    resources = out / name / "resources.json"
    if result.returncode != 0 or ":ERROR " in result.stderr or not resources.exists():
        raise CustodianFailed(
            f"custodian run {path.name} failed (exit code {result.returncode}):\n"
            + result.stderr[-4000:]
        )
    return json.loads(resources.read_text())


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return "\n".join(
        "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in cells
    )


def found_rows(resources: list[dict]) -> list[tuple]:
    """One row per flagged key: user, key id, slot, last used, days, reasons."""
    rows = []
    for user in resources:
        for key in user["c7n:unused-keys"]:
            used = key["last_used_date"]
            # Days since last use or, for a key never used, since it was created.
            days = key["days_since_use"] if used else key["days_since_rotation"]
            rows.append(
                (
                    user["UserName"],
                    key.get("access_key_id", "-"),
                    key["slot"],
                    used[:10] if used else "never",
                    days,
                    ",".join(key["reasons"]),
                )
            )
    return rows


def seeded_rows(key_ids: dict[str, list[str]], states: dict[str, dict[str, str]]) -> list[tuple]:
    """One row per seeded key: user, key id, slot, status, created, last used (days ago)."""
    return [
        (user.name, key_id, slot, states[user.name][key_id], spec.created_days_ago,
         "never" if spec.last_used_days_ago is None else spec.last_used_days_ago)
        for user in DEMO_ACCOUNT
        for slot, (spec, key_id) in enumerate(zip(user.keys, key_ids[user.name], strict=True), 1)
    ]  # fmt: skip


DISABLED = "<- disabled"


def change(before: str, after: str) -> str:
    if before == after:
        return ""
    return DISABLED if (before, after) == ("Active", "Inactive") else "<- changed"


def main() -> int:
    with LocalIAM() as local, tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        seeded = seeded_rows(local.seed(DEMO_ACCOUNT), local.key_states())
        print(f"Local IAM endpoint on {local.endpoint_url}, seeded with:\n")
        header = ("user", "key id", "slot", "status", "created (days ago)", "last used (days ago)")
        print(table(header, seeded))

        env = local.env()
        report = demo_policy(REPORT_POLICY, workdir, {"report_delay": 0, "resolve-key-ids": True})
        disable = demo_policy(DISABLE_POLICY, workdir, {"report_delay": 0})
        try:
            print(f"\nReport: custodian run {REPORT_POLICY} (days: 90)\n")
            rows = found_rows(custodian_run(*report, workdir, env))
            print(table(("user", "key id", "slot", "last used", "days", "reason"), rows))
            print(f"\nRemediation: custodian run {DISABLE_POLICY}")
            print("(remove-keys with matched: true, disable: true)\n")
            custodian_run(*disable, workdir, env)
        except CustodianFailed as error:
            print(f"\ndemo: {error}", file=sys.stderr)
            return 1

        after = local.key_states()
        changes = []
        for user, key_id, slot, before, *_ in seeded:
            now = after.get(user, {}).get(key_id, "deleted")
            changes.append((user, key_id, slot, before, now, change(before, now)))
        print(table(("user", "key id", "slot", "before", "after", ""), changes))
        disabled = sum(1 for *_, note in changes if note == DISABLED)
        others = sum(1 for *_, note in changes if note and note != DISABLED)
        print(f"\n{disabled} key(s) disabled, {others} other key(s) changed.")
    print("Local IAM endpoint stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

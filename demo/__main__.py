"""The demo: find and disable stale IAM access keys, with no AWS account.

``python -m demo`` (``make demo``) starts a local IAM endpoint on 127.0.0.1, seeds an account
whose keys show every case the rule tells apart, and runs the STOCK ``custodian run`` CLI on
two sample policies from ``policies/``: the report, then the remediation (``remove-keys``,
``matched: true``, ``disable: true``). Between the two, one key the report found stale is
used again: the report (a snapshot, as on AWS) still says it is stale, and the remediation
keeps it because the live API says otherwise. It prints what was found, which keys were
disabled and why the others were kept.

Then the key lifecycle, on the same account seeded afresh: the retirement policy of
``policies/access-key-lifecycle.yml`` disables the stale keys and records each on its user
(a ``c7n-keyage:retired:<AccessKeyId>`` tag), and the incident restore of
``policies/access-key-lifecycle-restore.yml`` re-enables them all in one step and removes
the records. It prints the keys and records after each, then stops the endpoint.

The policies run as shipped except ``resolve-key-ids: true`` on the report.

``python -m demo serve`` (``make serve``) starts the same seeded endpoint and keeps it running
until Ctrl-C (SIGINT) or SIGTERM: it prints the environment to export in another shell and a
``custodian run`` line, to run the sample policies, or your own, against it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import yaml

from tests.support.localiam import DEMO_ACCOUNT, KeySpec, LocalIAM, UserSpec

POLICIES = Path(__file__).resolve().parent.parent / "policies"
REPORT_POLICY = "access-key-unused-report.yml"
DISABLE_POLICY = "access-key-unused-disable.yml"
LIFECYCLE_POLICY = "access-key-lifecycle.yml"
RETIRE = "iam-access-key-lifecycle-retire-90"
RESTORE_POLICY = "access-key-lifecycle-restore.yml"
RESTORE = "iam-access-key-lifecycle-restore-last-day"
RECORD_PREFIX = "c7n-keyage:retired:"
# The console script installed beside this interpreter: the one users run.
CUSTODIAN = Path(sys.executable).parent / "custodian"


# Stale in the report; used again before the remediation runs.
BACK_IN_USE = UserSpec("gus-back-in-use", (KeySpec(created_days_ago=400, last_used_days_ago=200),))
STORY = (*DEMO_ACCOUNT, BACK_IN_USE)
# What the filter logs for a key the live API clears.
KEPT = re.compile(r"user (\S+): key slot (\d+) \(created [^)]*\), stale by the report, is not "
                  r"stale by the live API: (.*); left alone")  # fmt: skip


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


def custodian_run(
    name: str, path: Path, workdir: Path, env: dict[str, str], *options: str
) -> tuple[list[dict], str]:
    """Run the stock CLI on one policy file; return the resources it matched and its log."""
    out = workdir / "out"
    # --cache-period 0: the account changes between runs, so never reuse listed users.
    command = [str(CUSTODIAN), "run", "--cache-period", "0", "-s", str(out), *options, str(path)]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    resources = out / name / "resources.json"
    if result.returncode != 0 or ":ERROR " in result.stderr or not resources.exists():
        raise CustodianFailed(
            f"custodian run {path.name} failed (exit code {result.returncode}):\n"
            + result.stderr[-4000:]
        )
    return json.loads(resources.read_text()), result.stderr


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
        for user in STORY
        for slot, (spec, key_id) in enumerate(zip(user.keys, key_ids[user.name], strict=True), 1)
    ]  # fmt: skip


DISABLED = "<- disabled"


def change(before: str, after: str) -> str:
    if before == after:
        return ""
    return DISABLED if (before, after) == ("Active", "Inactive") else "<- changed"


def retirement_records(local: LocalIAM) -> dict[tuple[str, str], str]:
    """``{(user, key id): record value}`` of every retirement record, read through the API."""
    iam = local.client("iam")
    found = {}
    for user in local.key_states():
        for tag in iam.list_user_tags(UserName=user)["Tags"]:
            if tag["Key"].startswith(RECORD_PREFIX):
                found[(user, tag["Key"][len(RECORD_PREFIX) :])] = tag["Value"]
    return found


def lifecycle_rows(
    seeded: list[tuple], before: dict, after: dict, records: dict[tuple[str, str], str]
) -> list[tuple]:
    """One row per key: user, key id, slot, before, after, its record (or -)."""
    rows = []
    for user, key_id, slot, *_ in seeded:
        was, now = before[user][key_id], after.get(user, {}).get(key_id, "deleted")
        rows.append((user, key_id, slot, was, now, records.get((user, key_id), "-")))
    return rows


def run_lifecycle(local: LocalIAM, workdir: Path) -> None:
    """Seed the account afresh; retire its stale keys, then restore them in one step."""
    local.reset()
    ids = local.seed(STORY)
    seeded = seeded_rows(ids, local.key_states())
    env = local.env()
    header = ("user", "key id", "slot", "before", "after", "record (tag value)")
    before = local.key_states()
    print("\nKey lifecycle, on the same account seeded afresh.")
    print(f"\nRetire: custodian run -p {RETIRE} {LIFECYCLE_POLICY}")
    print("(retire-keys: disable each stale key, then record it on its user as the tag")
    print(f"{RECORD_PREFIX}<key id> = <UTC time> <policy> last-used=<the last use it saw>)\n")
    custodian_run(RETIRE, POLICIES / LIFECYCLE_POLICY, workdir, env, "-p", RETIRE)
    retired = local.key_states()
    print(table(header, lifecycle_rows(seeded, before, retired, retirement_records(local))))
    print(f"\nRestore, in one step: custodian run -p {RESTORE} {RESTORE_POLICY}")
    print("(restore-keys: re-enable every key that policy retired in the last day, then")
    print("remove its record)\n")
    custodian_run(RESTORE, POLICIES / RESTORE_POLICY, workdir, env, "-p", RESTORE)
    after = local.key_states()
    print(table(header, lifecycle_rows(seeded, retired, after, retirement_records(local))))
    changed = sum(1 for user, key_id, *_ in seeded if after[user][key_id] != before[user][key_id])
    print(f"\n{changed} key(s) not as seeded, {len(retirement_records(local))} record(s) left.\n")


def run_demo() -> int:
    """The full demo: seed, report, remediate, show what changed; then retire and restore;
    stop."""
    with LocalIAM() as local, tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        ids = local.seed(STORY)
        seeded = seeded_rows(ids, local.key_states())
        print(f"Local IAM endpoint on {local.endpoint_url}, seeded with:\n")
        header = ("user", "key id", "slot", "status", "created (days ago)", "last used (days ago)")
        print(table(header, seeded))
        try:
            log = run_report_and_remediation(local, ids, workdir)
            show_remediation(local, seeded, log)
            run_lifecycle(local, workdir)
        except CustodianFailed as error:
            print(f"\ndemo: {error}", file=sys.stderr)
            return 1
    print("Local IAM endpoint stopped.")
    return 0


def run_report_and_remediation(local: LocalIAM, ids: dict[str, list[str]], workdir: Path) -> str:
    """Report the stale keys; use one of them again; then disable the stale keys, each
    checked live first. Returns the remediation run's log."""
    env = local.env()
    report = demo_policy(REPORT_POLICY, workdir, {"resolve-key-ids": True})
    disable = demo_policy(DISABLE_POLICY, workdir, {})
    print(f"\nReport: custodian run {REPORT_POLICY} (days: 90)\n")
    rows = found_rows(custodian_run(*report, workdir, env)[0])
    print(table(("user", "key id", "slot", "last used", "days", "reason"), rows))
    (key_id,) = ids[BACK_IN_USE.name]
    local.use_key(BACK_IN_USE.name, key_id)
    print(
        f"\nMeanwhile {BACK_IN_USE.name}'s key {key_id} is used again. The credential "
        "report,\na snapshot kept for up to 4 hours as on AWS, still says 200 days."
    )
    print(f"\nRemediation: custodian run {DISABLE_POLICY}")
    print("(remove-keys with matched: true, disable: true; each flagged key is")
    print("checked on the live API first)\n")
    _, log = custodian_run(*disable, workdir, env)
    return log


def show_remediation(local: LocalIAM, seeded: list[tuple], log: str) -> None:
    """Each key before and after the remediation, and the stale keys it kept, with why."""
    after = local.key_states()
    changes = []
    for user, key_id, slot, before, *_ in seeded:
        now = after.get(user, {}).get(key_id, "deleted")
        changes.append((user, key_id, slot, before, now, change(before, now)))
    print(table(("user", "key id", "slot", "before", "after", ""), changes))
    disabled = sum(1 for *_, note in changes if note == DISABLED)
    others = sum(1 for *_, note in changes if note and note != DISABLED)
    print(f"\n{disabled} key(s) disabled, {others} other key(s) changed.")
    kept = [match.groups() for match in KEPT.finditer(log)]
    print("\nKept although the report found them stale (the live API says why):\n")
    print(table(("user", "slot", "reason"), kept))


class _Stop(Exception):
    """SIGINT or SIGTERM arrived: stop serving."""


def _stop(signum: int, frame: object) -> None:
    # Stopping takes a moment (reset, close the socket, join the thread): a second signal
    # must not cut it short and leave the server thread or the port behind.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise _Stop(signum)


def _shell_path(path: Path) -> str:
    """``path`` as typed in a shell here: relative below the current directory."""
    here = Path.cwd()
    return shlex.quote(str(path.relative_to(here) if path.is_relative_to(here) else path))


def custodian_command() -> str:
    """The ``custodian`` beside this interpreter, as a shell here would call it."""
    found = shutil.which("custodian")
    if found and Path(found).resolve() == CUSTODIAN.resolve():
        return "custodian"
    return _shell_path(CUSTODIAN)


def serve_instructions(local: LocalIAM) -> list[str]:
    """What to paste into another shell: the environment, then a ``custodian run`` line.

    The variables are those ``LocalIAM.env()`` sets (endpoint, fake credentials, region, no
    config files, no instance metadata, no proxy for 127.0.0.1), with the values it gives
    them here; those it removes (profiles, session tokens, ...) are unset if set here.
    """
    env = local.env()
    names = [n for n in local.env(base={}) if n.startswith("AWS_") or n.upper() == "NO_PROXY"]
    removed = sorted(name for name in os.environ if name not in env)
    policy = _shell_path(POLICIES / REPORT_POLICY)
    lines = [
        f"# Local IAM endpoint on {local.endpoint_url}, seeded with the demo account",
        f"# ({len(DEMO_ACCOUNT)} users, credential report ready). Nothing here reaches AWS.",
        "# In another shell, in this directory:",
    ]
    if removed:
        lines.append("unset " + " ".join(removed))
    lines += [f"export {name}={shlex.quote(env[name])}" for name in names]
    lines += [
        "# then run a sample policy, or your own (-s: where custodian writes its output):",
        f"{custodian_command()} run --cache-period 0 -s out {policy}",
        "# Ctrl-C here stops the endpoint.",
    ]
    return lines


def serve(port: int = 0) -> int:
    """Serve the seeded account on 127.0.0.1:``port`` (0: any free port) until a signal.

    Returns 0 once stopped by SIGINT or SIGTERM, with the server thread joined and the port
    closed; 1 if the port cannot be bound.
    """
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with contextlib.ExitStack() as stack:
            try:
                local = stack.enter_context(LocalIAM(port))
            except OSError as error:
                print(f"demo serve: cannot serve on 127.0.0.1:{port}: {error}", file=sys.stderr)
                return 1
            local.seed(DEMO_ACCOUNT)
            # As in an account that has one: the first run does not wait report_delay for it.
            local.client("iam").generate_credential_report()
            print("\n".join(serve_instructions(local)), flush=True)
            while True:  # a signal raises _Stop here; leaving the stack stops the endpoint
                time.sleep(1)
    except _Stop:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("Local IAM endpoint stopped.", flush=True)
    return 0


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port (0 to 65535)")
    return value


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(
        prog="python -m demo",
        usage="%(prog)s [-h] [serve [--port N]]",
        description="Find and disable stale IAM access keys on a local IAM endpoint, with "
        "the stock custodian CLI. Nothing talks to real AWS.",
        epilog="With no command: the full demo (make demo): seed the account, run the "
        "report and the remediation sample policies, show what changed; then retire the "
        "stale keys of a fresh account and restore them in one step; stop.",
    )
    commands = main_parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")
    serve_parser = commands.add_parser(
        "serve",
        help="serve the seeded account until Ctrl-C, to run your own policies against it",
        description="Start the local IAM endpoint seeded with the demo account and keep it "
        "running until Ctrl-C (or SIGTERM). Prints the environment to export in another "
        "shell and a custodian run line for the sample report policy.",
    )
    serve_parser.add_argument(
        "--port",
        type=_port,
        default=0,
        metavar="N",
        help="port on 127.0.0.1 (default: 0, any free port; the one taken is printed)",
    )
    return main_parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "serve":
        return serve(args.port)
    return run_demo()


if __name__ == "__main__":
    sys.exit(main())

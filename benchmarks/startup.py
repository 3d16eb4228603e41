"""Start-up cost of the plugin's ``.pth`` hook, measured between two otherwise equal venvs.

``python -S`` would drop every ``.pth`` file, and renaming the project's own ``.pth`` would
change the environment other processes use. So two throwaway venvs are made in a temp dir
from the same base interpreter, without pip. Both see the project's site-packages through a
path-only ``.pth`` (so the same c7n, boto3 and c7n_keyage) and get copies of its other
``.pth`` files; only "with" also gets ``c7n_keyage.pth``. A path-only ``.pth`` adds a directory
to ``sys.path`` without running the ``.pth`` files inside it, so the one file is the only
difference. Runs alternate between the two venvs.
"""

from __future__ import annotations

import os
import pathlib
import resource
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import venv
from dataclasses import dataclass

PTH = "c7n_keyage.pth"
REPO = pathlib.Path(__file__).resolve().parent.parent
# The stock ``custodian`` console script, run by each venv's interpreter.
CUSTODIAN = "import sys; from c7n.cli import main; sys.argv[0] = 'custodian'; sys.exit(main())"
# Built-in filters only: valid with or without the plugin.
BUILTIN_POLICIES = """\
policies:
  - name: iam-credential-recipe
    resource: iam-user
    filters:
      - type: credential
        key: access_keys.active
        value: true
      - type: credential
        key: access_keys.last_used_date
        value_type: age
        value: 90
        op: gt
  - name: iam-access-key-route
    resource: iam-user
    filters:
      - type: access-key
        key: Status
        value: Active
    actions:
      - type: remove-keys
        matched: true
        disable: true
  - name: root-credential
    resource: account
    filters:
      - type: credential
        key: access_keys.active
        value: true
"""


@dataclass
class StartupResult:
    # (wall, cpu) seconds per run
    bare_without: list[tuple[float, float]]
    bare_with: list[tuple[float, float]]
    import_us: list[int]
    validate_import_us: list[int]
    validate_builtin_without: list[tuple[float, float]]
    validate_builtin_with: list[tuple[float, float]]
    validate_plugin_with: list[tuple[float, float]]
    plugin_policies: list[str]
    method_checked: list[str]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.pop("VIRTUAL_ENV", None)
    return env


def _make_venv(root: pathlib.Path, name: str, with_plugin: bool) -> pathlib.Path:
    project_site = pathlib.Path(sysconfig.get_paths()["purelib"])
    if not (project_site / PTH).is_file():
        raise SystemExit(f"{PTH} is not installed in {project_site}: run `make install`")
    home = root / name
    venv.EnvBuilder(with_pip=False, symlinks=True).create(home)
    python = home / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
        env=_env(),
        cwd=root,
    ).stdout.strip()
    site_dir = pathlib.Path(site)
    # "00-" sorts first: the path is on sys.path before any .pth that imports from it.
    (site_dir / "00-project-site.pth").write_text(f"{project_site}\n")
    for pth in sorted(project_site.glob("*.pth")):
        if pth.name != PTH or with_plugin:
            shutil.copy(pth, site_dir / pth.name)
    return python


def _timed(args: list[str], cwd: pathlib.Path) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + sys) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, env=_env(), cwd=cwd)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{args[-1]!r} failed: {done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def _alternate(pairs: list[tuple[list[float], list[str]]], cwd, repeats: int, warm: int = 2):
    for _ in range(warm):
        for _, args in pairs:
            _timed(args, cwd)
    for _ in range(repeats):
        for samples, args in pairs:
            samples.append(_timed(args, cwd))


def _import_time_us(python: pathlib.Path, args: list[str], cwd: pathlib.Path) -> int:
    """Microseconds ``-X importtime`` puts on the plugin's own modules in one run.

    The sum of the ``self`` times of every ``c7n_keyage`` module: what the plugin adds, since
    what it imports from c7n is already loaded when it registers.
    """
    done = subprocess.run(
        [str(python), "-X", "importtime", *args],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=cwd,
        check=True,
    )
    total, seen = 0, False
    for line in done.stderr.splitlines():
        # "import time: self [us] | cumulative | imported package"
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2].split(".")[0] == "c7n_keyage":
            total += int(parts[0])
            seen = True
    if not seen:
        raise RuntimeError("c7n_keyage was not imported in the 'with' venv")
    return total


def _check_method(without: pathlib.Path, with_: pathlib.Path, cwd) -> list[str]:
    """The two venvs differ as intended: the filter is registered in one only."""
    probe = (
        "import c7n.resources.iam as m, sys; "
        "print('access-key-unused' in m.User.filter_registry.keys(), "
        "'c7n_keyage' in sys.modules)"
    )
    facts = []
    for python, expected in ((without, "False False"), (with_, "True True")):
        out = subprocess.run(
            [str(python), "-c", probe],
            capture_output=True,
            text=True,
            env=_env(),
            cwd=cwd,
            check=True,
        ).stdout.strip()
        if out != expected:
            raise RuntimeError(f"{python}: registered/imported = {out}, expected {expected}")
        facts.append(out)
    return facts


def measure_startup(bare_repeats: int = 30, validate_repeats: int = 31) -> StartupResult:
    plugin_policies = sorted(str(p) for p in (REPO / "policies").glob("*.yml"))
    with tempfile.TemporaryDirectory(prefix="c7n-keyage-startup-") as tmp:
        root = pathlib.Path(tmp)
        without = _make_venv(root, "without", with_plugin=False)
        with_ = _make_venv(root, "with", with_plugin=True)
        checked = _check_method(without, with_, root)
        builtin = root / "builtin-only.yml"
        builtin.write_text(BUILTIN_POLICIES)

        result = StartupResult([], [], [], [], [], [], [], plugin_policies, checked)
        _alternate(
            [
                (result.bare_without, [str(without), "-c", "pass"]),
                (result.bare_with, [str(with_), "-c", "pass"]),
            ],
            root,
            bare_repeats,
            warm=3,
        )
        result.import_us = [
            _import_time_us(with_, ["-c", "pass"], root) for _ in range(bare_repeats // 3)
        ]
        validate = ["-c", CUSTODIAN, "validate"]
        result.validate_import_us = [
            _import_time_us(with_, [*validate, str(builtin)], root) for _ in range(5)
        ]
        _alternate(
            [
                (result.validate_builtin_without, [str(without), *validate, str(builtin)]),
                (result.validate_builtin_with, [str(with_), *validate, str(builtin)]),
                (result.validate_plugin_with, [str(with_), *validate, *plugin_policies]),
            ],
            root,
            validate_repeats,
        )
    return result


def python_version() -> str:
    return sys.version.split()[0]

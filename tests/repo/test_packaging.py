"""The sdist and the wheel as users get them, installed where nothing else brings the plugin.

``python -m build`` makes both (the wheel from the sdist, so a file missing from the sdist
fails the build here), ``twine check --strict`` passes them, and each one, installed into a
fresh virtualenv, loads its start-up hook in a fresh interpreter there: the filter is
registered when c7n loads its IAM module, with no ``import c7n_keyage`` by hand.

The fresh virtualenvs see this environment's other packages (c7n, boto3, setuptools, pip...)
through a path-only ``.pth``, as benchmarks/startup.py does, and get the artifact with
``--no-deps``: no download, so the test is quick and works offline, and it runs against
whichever c7n this environment has (make test runs it with the latest and with the oldest).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile

import pytest

import c7n_keyage
from tests.support.paths import REPO

# Builds the sdist and the wheel and installs each into a fresh virtualenv.
pytestmark = pytest.mark.slow

ROOT = REPO
VERSION = c7n_keyage.__version__
PTH = "c7n_keyage.pth"
TEMPLATE = "c7n_keyage/templates/access-key-unused.html.j2"
LICENSE = (ROOT / "LICENSE").read_text()
# The oldest c7n, pinned for CI in .ci/constraints-c7n-<version>.txt.
(CONSTRAINTS,) = (ROOT / ".ci").glob("constraints-c7n-*.txt")
OLDEST_C7N = re.search(r"^c7n==(\S+)$", CONSTRAINTS.read_text(), re.M).group(1)
# Left out of the copy that is built: environments, build output, VCS.
NOT_SOURCES = {".git", "build", "dist", "out", ".hypothesis", ".pytest_cache"}
REPORT_POLICY = ROOT / "policies" / "access-key-unused-report.yml"

# Run in a fresh interpreter of the bare venv, from a directory with no sources in it.
CHECK = """
import importlib.metadata, json, pathlib, sys, sysconfig
at_start_up = sorted(m for m in sys.modules if m.split(".")[0] in ("c7n_keyage", "c7n"))
import c7n.resources.iam
from c7n.resources.iam import User
import c7n_keyage
site = pathlib.Path(sysconfig.get_paths()["purelib"])
dist = importlib.metadata.distribution("c7n-keyage")
licences = [f for f in dist.files if f.name == "LICENSE"]
package = pathlib.Path(c7n_keyage.__file__).parent
print(json.dumps({
    "at_start_up": at_start_up,
    "filter": getattr(User.filter_registry.get("access-key-unused"), "__name__", None),
    "package_in_venv": package.parent == site,
    "pth": (site / "c7n_keyage.pth").read_text(),
    "template": (package / "templates" / "access-key-unused.html.j2").is_file(),
    "version": c7n_keyage.__version__,
    "metadata_version": dist.version,
    "dist_in_venv": pathlib.Path(dist.locate_file("")) == site,
    "licence": [dist.locate_file(f).read_text() for f in licences],
    "c7n": importlib.metadata.version("c7n"),
}))
"""
# One run of the report policy as c7n-org writes it: the console script's input.
RUN_METADATA = {
    "policy": {
        "name": "stale-keys",
        "resource": "iam-user",
        "filters": [{"type": "access-key-unused"}],
    },
    "execution": {"start": 1796191200.0},
    "config": {"account_id": "111111111111", "region": "us-east-1", "dryrun": False},
}
RUN_RESOURCES = [
    {
        "UserName": "alice",
        "c7n:unused-keys": [
            {
                "slot": 1,
                "last_rotated": "2025-10-28T14:29:00+00:00",
                "last_used_date": None,
                "reasons": ["never-used"],
                "days_since_use": None,
                "days_since_rotation": 400,
            }
        ],
    }
]
# The stock ``custodian`` console script, run by the bare venv's interpreter.
CUSTODIAN = "import sys; from c7n.cli import main; sys.argv[0] = 'custodian'; sys.exit(main())"


def _env() -> dict[str, str]:
    """This environment, minus what would point a child interpreter at another one."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.pop("VIRTUAL_ENV", None)
    return env


def run(args: list, cwd: pathlib.Path) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, env=_env(), timeout=300
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _not_sources(directory: str, names: list[str]) -> set[str]:
    skipped = {n for n in names if n == "__pycache__" or n.endswith(".egg-info")}
    if pathlib.Path(directory) == ROOT:
        skipped |= {n for n in names if n in NOT_SOURCES or n.startswith(".venv")}
    return skipped


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, pathlib.Path]:
    """``python -m build`` of a copy of the sources: the sdist, the wheel, the copy."""
    tmp = tmp_path_factory.mktemp("build")
    # A copy: the sdist step writes c7n_keyage.egg-info into the tree it builds, and make
    # test runs the suite in two environments at once.
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=_not_sources, symlinks=True)
    out = tmp / "dist"
    # The standard front end, with --no-isolation: it builds with this environment's
    # setuptools and wheel (after checking them against pyproject.toml's build requires)
    # instead of downloading them into a throwaway one, so it works offline. The Makefile
    # keeps them at their latest release in .venv, which is what an isolated build fetches,
    # and pinned (setuptools 65.5) in the oldest environment. With neither --sdist nor
    # --wheel, build makes the sdist, then the wheel from the unpacked sdist.
    run([sys.executable, "-m", "build", "--no-isolation", "--outdir", out, source], cwd=tmp)
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return {"sdist": sdist, "wheel": wheel, "source": source}


@pytest.fixture(scope="module")
def deps(tmp_path_factory) -> pathlib.Path:
    """This environment's site-packages without c7n-keyage: links to all the rest."""
    site = pathlib.Path(sysconfig.get_paths()["purelib"])
    deps = tmp_path_factory.mktemp("deps")
    for entry in site.iterdir():
        if entry.name.startswith(("c7n_keyage", "__editable__")) or entry.suffix == ".pth":
            continue
        (deps / entry.name).symlink_to(entry)
    return deps


def bare_venv(home: pathlib.Path, deps: pathlib.Path) -> pathlib.Path:
    """A new venv (no pip of its own) that sees ``deps`` after its own site-packages."""
    venv.EnvBuilder(with_pip=False, symlinks=True).create(home)
    python = home / "bin" / "python"
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = pathlib.Path(run([python, "-c", code], cwd=home).stdout.strip())
    # A path-only .pth puts the directory on sys.path; .pth files inside it are not run.
    (site / "00-deps.pth").write_text(f"{deps}\n")
    return python


def test_version_is_single_sourced():
    assert c7n_keyage.__version__ == importlib.metadata.version("c7n-keyage")


def test_setup_reads_the_version_without_importing_the_package(built, deps, tmp_path):
    # A venv with no c7n_keyage.pth; setup.py run in the sources, whence the package could
    # be imported: importing it would run the start-up hook inside the build.
    python = bare_venv(tmp_path / "venv", deps)
    code = (
        "import runpy, sys\n"
        "sys.argv = ['setup.py', '--version']\n"
        "runpy.run_path('setup.py', run_name='__main__')\n"
        "print(sorted(m for m in sys.modules if m.startswith('c7n_keyage')))\n"
    )
    out = run([python, "-c", code], cwd=built["source"]).stdout.split()
    assert out == [VERSION, "[]"]


def test_both_build_and_pass_twine_check_strict(built):
    assert built["wheel"].name == f"c7n_keyage-{VERSION}-py3-none-any.whl"
    # setuptools >= 69.3 normalises the sdist's name; older ones keep the project's dash.
    assert built["sdist"].name in {f"c7n_keyage-{VERSION}.tar.gz", f"c7n-keyage-{VERSION}.tar.gz"}
    done = run(
        [sys.executable, "-m", "twine", "check", "--strict", built["sdist"], built["wheel"]],
        cwd=built["source"],
    )
    assert done.stdout.count("PASSED") == 2, done.stdout


def test_sdist_carries_the_hook_the_licence_and_the_template(built):
    with tarfile.open(built["sdist"]) as sdist:
        names = sdist.getnames()
        top = names[0].split("/")[0]
        members = {name.split("/", 1)[1] for name in names if "/" in name}
        read = {m: sdist.extractfile(f"{top}/{m}").read().decode() for m in (PTH, "LICENSE")}
    assert {
        PTH,
        "LICENSE",
        "CHANGELOG.md",
        "README.md",
        "MANIFEST.in",
        "setup.py",
        "pyproject.toml",
        "c7n_keyage/__init__.py",
        TEMPLATE,
    } <= members
    assert read == {PTH: "import c7n_keyage\n", "LICENSE": LICENSE}
    # The whole Apache License 2.0, terms and appendix.
    assert LICENSE.split()[:5] == ["Apache", "License", "Version", "2.0,", "January"]
    assert "END OF TERMS AND CONDITIONS" in LICENSE and "APPENDIX" in LICENSE
    assert not any(m.startswith("tests/") for m in members)


def test_wheel_carries_the_hook_at_its_root_the_licence_and_the_template(built):
    dist_info = f"c7n_keyage-{VERSION}.dist-info"
    with zipfile.ZipFile(built["wheel"]) as wheel:
        names = set(wheel.namelist())
        # Metadata 2.4 (setuptools >= 77) puts it under licenses/; older ones at the top.
        (licence,) = names & {f"{dist_info}/LICENSE", f"{dist_info}/licenses/LICENSE"}
        assert wheel.read(licence).decode() == LICENSE
        assert wheel.read(PTH).decode() == "import c7n_keyage\n"
        metadata = wheel.read(f"{dist_info}/METADATA").decode()
    assert TEMPLATE in names
    # The report's subpackage, and its console script.
    assert {f"c7n_keyage/overview/{m}.py" for m in ("cli", "inputs", "aggregate", "page")} <= names
    with zipfile.ZipFile(built["wheel"]) as wheel:
        entry_points = wheel.read(f"{dist_info}/entry_points.txt").decode()
    assert "[console_scripts]\nc7n-keyage = c7n_keyage.overview.cli:main" in entry_points
    assert "\nLicense: Apache-2.0\n" in metadata
    assert "\nLicense-File: LICENSE\n" in metadata
    assert f"\nRequires-Dist: c7n>={OLDEST_C7N}\n" in metadata
    assert f"\nVersion: {VERSION}\n" in metadata


@pytest.mark.parametrize("kind", ["sdist", "wheel"])
def test_installs_into_a_bare_venv_and_the_hook_loads(kind, built, deps, tmp_path):
    python = bare_venv(tmp_path / "venv", deps)
    # pip (from deps) installs into the bare venv. --no-deps: they are on the path already;
    # --no-index: nothing is downloaded. For the sdist pip builds a wheel first:
    # --no-build-isolation makes it use setuptools from deps rather than fetch it.
    install = ["-m", "pip", "install", "--quiet", "--no-deps", "--no-index"]
    run([python, *install, "--no-build-isolation", built[kind]], cwd=tmp_path)

    found = json.loads(run([python, "-c", CHECK], cwd=tmp_path).stdout)

    # The .pth imported the package at start-up, and c7n not yet (the hook waits for it).
    assert found["at_start_up"] == ["c7n_keyage", "c7n_keyage.plugin", "c7n_keyage.plugin.hook"]
    assert found["filter"] == "UserAccessKeyUnused"
    assert found["package_in_venv"] and found["dist_in_venv"]
    assert found["pth"] == "import c7n_keyage\n"
    assert found["template"]
    assert found["version"] == found["metadata_version"] == VERSION
    assert found["licence"] == [LICENSE]
    assert found["c7n"] == importlib.metadata.version("c7n")
    # And the stock CLI there accepts a sample policy that uses the filter.
    validate = run([python, "-c", CUSTODIAN, "validate", REPORT_POLICY], cwd=tmp_path)
    assert "Configuration valid" in validate.stderr
    # The console script the package installs runs from there, on a run's real output shape.
    script = python.parent / "c7n-keyage"
    assert "s3://bucket/prefix" in run([script, "report", "--help"], cwd=tmp_path).stdout
    one_run = tmp_path / "out" / "dev" / "us-east-1" / "stale-keys"
    one_run.mkdir(parents=True)
    (one_run / "metadata.json").write_text(json.dumps(RUN_METADATA))
    (one_run / "resources.json").write_text(json.dumps(RUN_RESOURCES))
    run([script, "report", "out", "--json", "o.json", "--html", "o.html"], cwd=tmp_path)
    overview = json.loads((tmp_path / "o.json").read_text())
    assert overview["accounts"][0]["account_name"] == "dev"
    assert overview["totals"]["stale_keys"] == 1
    assert (tmp_path / "o.html").read_text().startswith("<!DOCTYPE html>")


def test_a_module_deleted_since_an_earlier_build_is_not_shipped(tmp_path):
    """``pip install .`` builds in the tree, where an earlier build's ``build/lib`` stays:
    a module deleted since must not come back with the next wheel."""
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=_not_sources, symlinks=True)
    stale = source / "build" / "lib" / "c7n_keyage"
    stale.mkdir(parents=True)
    (stale / "deleted_since.py").write_text("raise ImportError('a module deleted since')\n")
    out = tmp_path / "wheels"
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    run([*pip_wheel, "--wheel-dir", out, source], cwd=tmp_path)
    (wheel,) = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as built_wheel:
        shipped = {n for n in built_wheel.namelist() if re.fullmatch(r"c7n_keyage/\w+\.py", n)}
    assert shipped == {f"c7n_keyage/{p.name}" for p in (ROOT / "c7n_keyage").glob("*.py")}

"""Packaging for c7n-keyage.

``pip install .`` also installs ``c7n_keyage.pth`` into site-packages: c7n has no plugin
entry point, and that one line is what makes the stock ``custodian`` and ``c7n-org`` see
the filter (see ``c7n_keyage/hook.py``).
"""

import ast
import pathlib
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = pathlib.Path(__file__).parent
PTH = "c7n_keyage.pth"


def read_version() -> str:
    """``__version__`` from c7n_keyage/__init__.py, read without importing the package.

    Importing it would run its start-up hook inside the build.
    """
    source = (HERE / "c7n_keyage" / "__init__.py").read_text(encoding="utf-8")
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "__version__":
            return ast.literal_eval(node.value)
    raise RuntimeError("no __version__ in c7n_keyage/__init__.py")


class BuildWithStartupHook(build_py):
    """Copy the .pth file to the root of the build, hence of the wheel and site-packages.

    The package's build directory is emptied first: ``pip install .`` builds in the tree,
    and setuptools would otherwise ship a module deleted since an earlier build.
    """

    def run(self):
        shutil.rmtree(pathlib.Path(self.build_lib) / "c7n_keyage", ignore_errors=True)
        super().run()
        self.copy_file(str(HERE / PTH), str(pathlib.Path(self.build_lib) / PTH), preserve_mode=0)

    def get_outputs(self, include_bytecode=1):
        return super().get_outputs(include_bytecode) + [str(pathlib.Path(self.build_lib) / PTH)]


setup(
    name="c7n-keyage",
    version=read_version(),
    description="Cloud Custodian filter for stale IAM access keys (unused, never used, unrotated)",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    # In the wheel's .dist-info; MANIFEST.in puts it (and the .pth) in the sdist.
    license_files=["LICENSE"],
    packages=find_packages(include=["c7n_keyage", "c7n_keyage.*"]),
    package_data={"c7n_keyage": ["templates/*.j2"]},
    cmdclass={"build_py": BuildWithStartupHook},
    # `c7n-keyage report`: the overview across accounts, from run outputs (c7n_keyage/overview).
    entry_points={"console_scripts": ["c7n-keyage = c7n_keyage.overview.cli:main"]},
    python_requires=">=3.11",
    # c7n pins boto3, jsonschema and dateutil exactly: never pin against it.
    # 0.9.40 (July 2024) is the oldest c7n the suite runs against (make test; the exact
    # versions are in .ci/constraints-c7n-0.9.40.txt): raise it only with that file.
    install_requires=["c7n>=0.9.40", "boto3"],
    extras_require={
        # Users' own placebo tests (c7n_keyage.testing): pip install 'c7n-keyage[testing]'.
        "testing": ["placebo>=0.10", "pytest>=8"],
        "test": [
            "pytest>=8",
            "placebo>=0.10",
            "moto[server]>=5.2",
            "time-machine>=2.10",
            "hypothesis>=6",
            "ruff>=0.8",
            "c7n-org>=0.6.39",
            "c7n-mailer>=0.6.39",
            # tests/repo/test_packaging.py builds both artifacts without build isolation.
            "build>=1",
            "twine>=6.1",
            "setuptools>=61",
            "wheel",
        ],
    },
    classifiers=[
        "Development Status :: 4 - Beta",
        "Environment :: Plugins",
        "Intended Audience :: System Administrators",
        "Operating System :: OS Independent",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Topic :: Security",
        "Topic :: System :: Systems Administration",
    ],
    keywords="cloud-custodian c7n aws iam access-keys cis compliance",
)

"""Register the filter when c7n loads its IAM and account resources, at no start-up cost.

c7n has no plugin entry point: a stock ``custodian`` or ``c7n-org`` sees a third-party
filter only if something imports it in that interpreter. ``pip install`` puts a
``c7n_keyage.pth`` in site-packages that imports this package at start-up; this module
(stdlib only, nothing else imported) then waits on ``sys.meta_path`` until c7n imports
``c7n.resources.iam`` or ``c7n.resources.account``, and registers right after. Lambda does
not read ``.pth`` files; ``c7n_keyage.handler`` imports the package there.
"""

import sys

TARGETS = ("c7n.query", "c7n.resources.iam", "c7n.resources.account")


class _Loader:
    """Wraps the real loader; registers once the module has run."""

    def __init__(self, loader):
        self._loader = loader

    def __getattr__(self, name):
        return getattr(self._loader, name)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        _register(module)


class _Finder:
    """Finds nothing itself: asks the other finders and wraps the loader of a target."""

    c7n_keyage = True

    def find_spec(self, name, path=None, target=None):
        if name not in TARGETS:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _Loader(spec.loader)
                return spec
        return None

    def invalidate_caches(self):
        pass


def _register(module):
    from c7n_keyage.plugin.registration import register_module

    register_module(module)


def install():
    """Idempotent: add the finder once, and register on targets already imported."""
    if not any(getattr(f, "c7n_keyage", False) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
    for name in TARGETS:
        module = sys.modules.get(name)
        if module is not None:
            _register(module)


def main(argv=None):
    """``python -m c7n_keyage.plugin.hook install``: add the start-up hook to this environment.

    ``pip install .`` ships it; an editable install (``pip install -e .``) does not place
    top-level files in site-packages, so a contributor runs this once instead.
    """
    import pathlib
    import sysconfig

    args = sys.argv[1:] if argv is None else argv
    if args != ["install"]:
        print("usage: python -m c7n_keyage.plugin.hook install", file=sys.stderr)
        return 2
    target = pathlib.Path(sysconfig.get_paths()["purelib"]) / "c7n_keyage.pth"
    target.write_text("import c7n_keyage\n")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

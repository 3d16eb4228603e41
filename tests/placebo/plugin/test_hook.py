"""The start-up hook and the registration, in process: whichever of c7n and the plugin is
imported first, every element ends up on c7n's registries, once.

Lambda reads no ``.pth``: there ``c7n_keyage.handler`` imports the plugin after c7n has
loaded its modules, and ``hook.install`` registers on the modules already imported. A
stock CLI imports the plugin first (the ``.pth``), and the hook registers as c7n imports
each target. Nothing here needs the package installed.
"""

from __future__ import annotations

import importlib.util
import sys
import sysconfig

import pytest
from c7n import query
from c7n.resources.account import Account
from c7n.resources.iam import User

from c7n_keyage.credential_report.source import CredentialReportSource
from c7n_keyage.lifecycle import actions
from c7n_keyage.lifecycle.retired_keys import RetiredKeys
from c7n_keyage.names import DELETE, FILTER, RESTORE, RETIRE, RETIRED_FILTER, SOURCE
from c7n_keyage.plugin import hook
from c7n_keyage.stale.access_key_unused import AccountAccessKeyUnused, UserAccessKeyUnused

# What the plugin puts on c7n's registries: (registry, name, class).
ELEMENTS = [
    (lambda: query.sources, SOURCE, CredentialReportSource),
    (lambda: User.filter_registry, FILTER, UserAccessKeyUnused),
    (lambda: User.filter_registry, RETIRED_FILTER, RetiredKeys),
    (lambda: User.action_registry, RETIRE, actions.RetireKeys),
    (lambda: User.action_registry, RESTORE, actions.RestoreKeys),
    (lambda: User.action_registry, DELETE, actions.DeleteRetiredKeys),
    (lambda: Account.filter_registry, FILTER, AccountAccessKeyUnused),
]


def registered() -> list[bool]:
    found = [registry().get(name) is cls for registry, name, cls in ELEMENTS]
    return found + [User.source_mapping.get(SOURCE) is CredentialReportSource]


@pytest.fixture
def unregistered(monkeypatch):
    """c7n's registries without the plugin, as when c7n is imported first; registered again
    after the test, whatever it did."""
    for registry, name, _ in ELEMENTS:
        registry().unregister(name)
    monkeypatch.setattr(
        User, "source_mapping", {k: v for k, v in User.source_mapping.items() if k != SOURCE}
    )
    assert not any(registered())
    yield
    monkeypatch.undo()
    hook.install()


def test_install_registers_on_the_modules_c7n_imported_first(unregistered):
    """As in Lambda: c7n's query, iam and account modules are loaded, then the plugin."""
    hook.install()
    assert all(registered())
    mapping = User.source_mapping
    hook.install()
    assert all(registered()) and User.source_mapping is mapping


def test_the_hook_registers_as_c7n_imports_a_target():
    """As under the stock CLIs: the plugin first, then c7n imports c7n.query (a fresh copy
    of it here: the module c7n imports gets the source on its registry)."""
    finder = next(f for f in sys.meta_path if getattr(f, "c7n_keyage", False))
    spec = finder.find_spec("c7n.query", sys.modules["c7n"].__path__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.sources.get(SOURCE) is CredentialReportSource
    assert module.__name__ == "c7n.query" and module is not query


def test_import_registers_idempotently():
    hook.install()
    hook.install()
    assert sum(getattr(f, "c7n_keyage", False) for f in sys.meta_path) == 1
    assert all(registered())
    assert UserAccessKeyUnused.type == FILTER


def test_hook_wraps_only_its_targets():
    finder = next(f for f in sys.meta_path if getattr(f, "c7n_keyage", False))
    assert finder.find_spec("json") is None
    assert finder.find_spec("c7n.resources.ec2", sys.modules["c7n.resources"].__path__) is None
    spec = finder.find_spec("c7n.resources.iam", sys.modules["c7n.resources"].__path__)
    assert type(spec.loader).__name__ == "_Loader"
    assert spec.loader.get_filename("c7n.resources.iam").endswith("iam.py")
    assert finder.find_spec("c7n.resources.nothing", sys.modules["c7n.resources"].__path__) is None


def test_editable_install_step_writes_the_hook(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sysconfig, "get_paths", lambda: {"purelib": str(tmp_path)})
    assert hook.main(["install"]) == 0
    assert (tmp_path / "c7n_keyage.pth").read_text() == "import c7n_keyage\n"
    assert capsys.readouterr().out == f"wrote {tmp_path / 'c7n_keyage.pth'}\n"
    assert hook.main([]) == 2
    assert hook.main(["install", "again"]) == 2
    assert "usage: python -m c7n_keyage.plugin.hook install" in capsys.readouterr().err


def test_install_puts_the_finder_first_when_it_is_missing(monkeypatch):
    """First on sys.meta_path: it must see c7n's imports before the finder that loads them."""
    others = [f for f in sys.meta_path if not getattr(f, "c7n_keyage", False)]
    monkeypatch.setattr(sys, "meta_path", list(others))
    hook.install()
    assert getattr(sys.meta_path[0], "c7n_keyage", False) and sys.meta_path[1:] == others


def test_what_is_registered_is_not_registered_again(monkeypatch):
    """c7n notifies its registry's subscribers on each registration: once is enough."""
    calls = []
    for registry, _, _ in ELEMENTS:
        monkeypatch.setattr(registry(), "register", lambda *args, **kwargs: calls.append(args))
    hook.install()
    assert calls == [] and all(registered())


class _LegacyFinder:
    """A finder whose loader predates exec_module (or that has no loader at all)."""

    def __init__(self, loader):
        self.loader = loader

    def find_spec(self, name, path=None, target=None):
        return importlib.util.spec_from_loader(name, self.loader)


@pytest.mark.parametrize("loader", [object(), None], ids=["legacy", "none"])
def test_a_loader_without_exec_module_is_left_as_it_is(monkeypatch, loader):
    finder = next(f for f in sys.meta_path if getattr(f, "c7n_keyage", False))
    monkeypatch.setattr(sys, "meta_path", [finder, _LegacyFinder(loader)])
    spec = finder.find_spec("c7n.query", sys.modules["c7n"].__path__)
    assert spec.name == "c7n.query" and spec.loader is loader


def test_the_install_step_reads_the_command_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sysconfig, "get_paths", lambda: {"purelib": str(tmp_path)})
    monkeypatch.setattr(sys, "argv", ["hook.py", "install"])
    assert hook.main() == 0
    monkeypatch.setattr(sys, "argv", ["hook.py"])
    assert hook.main() == 2
    assert capsys.readouterr().err == "usage: python -m c7n_keyage.plugin.hook install\n"

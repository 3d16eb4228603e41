# Everything runs in project virtualenvs, made on first use from setup.py: .venv has the
# latest c7n; .venv-c7n-0.9.40 has the oldest c7n supported, pinned by its constraints file.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

OLDEST_C7N  := 0.9.40
CONSTRAINTS := .ci/constraints-c7n-$(OLDEST_C7N).txt
OLD_VENV    := .venv-c7n-$(OLDEST_C7N)
OLD_PY      := $(OLD_VENV)/bin/python
OLD_STAMP   := $(OLD_VENV)/.installed
OLD_LOG     := $(OLD_VENV)/pytest.log

# make mutation: mutmut over the core and the shell, in a venv with the dependencies but not the package.
MUT_VENV  := .venv-mutation
MUT_PY    := $(MUT_VENV)/bin/python
MUT_STAMP := $(MUT_VENV)/.installed
MUTMUT    := mutmut==3.8.1

.PHONY: demo first-run-notice serve check test lint bench bench-overview reliability mutation install install-oldest clean

# Printed before each test run: what that run tests against.
export VERSIONS := from importlib.metadata import version as v; import sys; \
  print("== pytest with", ", ".join(f"{n} {v(n)}" for n in ("c7n", "c7n-org", "c7n-mailer", "boto3")), "in", sys.prefix)

# setuptools and wheel upgraded too: tests/repo/test_packaging.py builds with them, and here they
# stand for what `python -m build` fetches for a user (the oldest venv keeps pinned ones).
$(STAMP): setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(PY) -m pip install --quiet ".[test]"
	touch $(STAMP)

$(OLD_STAMP): setup.py $(CONSTRAINTS)
	$(PYTHON) -m venv $(OLD_VENV)
	$(OLD_PY) -m pip install --quiet --upgrade pip
	$(OLD_PY) -m pip install --quiet --constraint $(CONSTRAINTS) ".[test]"
	touch $(OLD_STAMP)

# The test dependencies and mutmut, then the package uninstalled (its .pth with it): the tests
# must import the mutated copy under mutants/, never an installed one (tools/mutation.py checks).
$(MUT_STAMP): setup.py
	$(PYTHON) -m venv $(MUT_VENV)
	$(MUT_PY) -m pip install --quiet --upgrade pip
	$(MUT_PY) -m pip install --quiet ".[test]" "$(MUTMUT)"
	$(MUT_PY) -m pip uninstall --quiet --yes c7n-keyage
	touch $(MUT_STAMP)

# Reinstall the package itself (not its dependencies) so the stock CLIs, which import
# the installed copy through the .pth hook, run the code in this checkout.
install: $(STAMP)
	$(PY) -m pip install --quiet --no-deps --force-reinstall .

install-oldest: $(OLD_STAMP)
	$(OLD_PY) -m pip install --quiet --no-deps --force-reinstall .

demo: first-run-notice install
	$(PY) -m demo

# Said before anything is installed, so a first `make demo` or `make test` is not taken for a hang.
first-run-notice:
	@[ -f $(STAMP) ] || echo "== First run: creating the project's virtualenvs and installing c7n, moto and the test tools (a few minutes); later runs start at once."

# The seeded local endpoint, until Ctrl-C: run your own policies against it.
serve: install
	$(PY) -m demo serve

lint: $(STAMP)
	$(VENV)/bin/ruff check c7n_keyage tests demo benchmarks tools setup.py
	$(VENV)/bin/ruff format --check c7n_keyage tests demo benchmarks tools setup.py

# Everyday work: lint, then the fast tier in the latest c7n's venv only (about a minute): every
# test but those marked slow (tests/e2e/, packaging, property tests, a local IAM endpoint).
check: first-run-notice install lint
	@$(PY) -c "$$VERSIONS"
	$(PY) -m pytest -m "not slow"

# Lint once, then the whole suite in both venvs at once (2 cores: about the time of one):
# the latest c7n's run prints as it goes, the oldest's is logged and printed after it. Either
# failing fails the target; pytest exits 5 when no test ran, and that is a failure here too.
# A background job ignores Ctrl-C in a non-interactive shell: the trap stops it.
test: first-run-notice install install-oldest lint
	@$(OLD_PY) -c "$$VERSIONS" > $(OLD_LOG); \
	$(OLD_PY) -m pytest >> $(OLD_LOG) 2>&1 & oldest=$$!; \
	trap 'kill $$oldest 2>/dev/null; exit 130' INT TERM HUP; \
	$(PY) -c "$$VERSIONS"; $(PY) -m pytest; latest=$$?; \
	wait $$oldest; oldest=$$?; trap - INT TERM HUP; cat $(OLD_LOG); rc=0; \
	for run in "latest $$latest" "oldest $$oldest"; do set -- $$run; \
	  if [ $$2 -eq 5 ]; then echo "== $$1 c7n: no tests ran"; rc=1; \
	  elif [ $$2 -ne 0 ]; then echo "== $$1 c7n: FAILED (pytest exit code $$2)"; rc=1; fi; \
	done; exit $$rc

bench: install
	$(PY) -m benchmarks.run

# c7n-keyage report over a year of daily runs of 1,000 accounts x 100 stale keys (about 40
# minutes): the first build and the daily update, in docs/performance.md.
bench-overview: install
	$(PY) -m benchmarks.overview

# Rewrites docs/reliability.md from a real run of the fault, corpus, property and e2e tests.
reliability: install
	$(PY) -m tools.reliability

# Mutation testing of the core and the shell (about 25 minutes): writes docs/mutation.json and the
# mutation section of docs/reliability.md; fails on any survivor tools/mutation.py does not explain.
mutation: $(MUT_STAMP)
	$(MUT_PY) -m tools.mutation

clean:
	rm -rf $(VENV) $(OLD_VENV) $(MUT_VENV) mutants build dist *.egg-info

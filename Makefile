# Everything runs in a project virtualenv, made on first use from setup.py.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench reliability install clean

$(STAMP): setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet ".[test]"
	touch $(STAMP)

# Reinstall the package itself (not its dependencies) so the stock CLIs, which import
# the installed copy through the .pth hook, run the code in this checkout.
install: $(STAMP)
	$(PY) -m pip install --quiet --no-deps --force-reinstall .

demo: install
	$(PY) -m demo

lint: $(STAMP)
	$(VENV)/bin/ruff check c7n_keyage tests demo benchmarks tools setup.py
	$(VENV)/bin/ruff format --check c7n_keyage tests demo benchmarks tools setup.py

# pytest exits 5 when no test ran: that is a failure here, not a pass.
test: install lint
	$(PY) -m pytest; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests ran"; exit 1; fi; exit $$rc

bench: install
	$(PY) -m benchmarks.run

# Rewrites docs/reliability.md from a real run of the fault, corpus, property and e2e tests.
reliability: install
	$(PY) -m tools.reliability

clean:
	rm -rf $(VENV) build *.egg-info

"""``c7n-keyage report``: the organisation's stale keys on one page, from run outputs.

Each step is its own module, so that the numbers are made once and the JSON, the page, the
CSV and the gate are views of them (docs/fleet-page.md says what each figure means):

- ``inputs``: find the runs in output directories and S3 prefixes, read their files (capped);
- ``runs``: one run's ``metadata.json`` and ``resources.json`` -> a ``Run`` (pure);
- ``identity``: which entries are the same key; ``combine``: one account's state from its
  policies' latest runs (pure);
- ``fleet``: runs folded in, date after date; ``remediation``: what actions did (pure);
- ``history``: the fleet saved between daily reports (``--history``);
- ``aggregate``: the fleet -> the overview's numbers; ``steps``: each key's next step (pure);
- ``page`` (with ``charts`` and ``assets``), ``spreadsheet``, ``gate``: the views (pure);
- ``accounts_file``: names from a c7n-org accounts file; ``cli``: the console script.

Nothing here is imported by the filter path, and nothing here imports it, nor c7n: loading
the plugin in ``custodian`` or Lambda never pays for the report (tests/unit/overview/
test_imports.py, tests/e2e/overview/test_what_custodian_loads.py).
"""

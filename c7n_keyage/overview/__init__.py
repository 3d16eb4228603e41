"""``c7n-keyage report``: the organisation's stale keys on one page, from run outputs.

Three steps, each its own module, so that the numbers are computed once and the JSON and the
HTML are two views of them:

- ``read``: find the runs in output directories and S3 prefixes and load their files;
- ``records``: one run's ``metadata.json`` and ``resources.json`` -> a ``Run`` (pure);
- ``aggregate``: runs -> the numbers (pure: no clock, no files);
- ``render``: the numbers -> one self-contained HTML page (pure);
- ``cli``: the ``c7n-keyage`` console script.

Nothing here is imported by the filter path, and nothing here imports it: loading the plugin
in ``custodian`` or Lambda never pays for the report (tests/test_overview_imports.py).
"""

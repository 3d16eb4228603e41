"""The IAM credential report: fetched, parsed, held per run, and served as a resource source.

``parse.py`` is pure (CSV in, keys out); ``fetch.py`` waits for AWS within a budget;
``cache.py`` holds one report per policy run and shares it through c7n's cache;
``reader.py`` is the base of every filter that reads it; ``source.py`` is
``source: credential-report``.
"""

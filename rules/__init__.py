"""The built-in peak-season rule pack: one rule per module, id = module name.

Modules starting with an underscore are helpers, not rules:

- ``_capacity``: forecasts (Kapacity's ``baseline_rps``/``flas_rps`` facts, else the
  inventory's own forecasts), the peak need of a system (FLAS rate for FLAS systems),
  autoscaling ceiling and running capacity.
- ``_perf``: the latest performance test or drill of a kind from perftest's facts or
  inventory ``drill`` assets, whichever is newer, in one shape; the system's SLO.

Every rule has fixtures in ``tests/rules/cases_<category>.py`` and a generated page in
``docs/rules/`` (``readiness rules docs``; ``--check`` in CI).
"""

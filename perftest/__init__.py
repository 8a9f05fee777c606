"""perftest: load, spike, overload and failover tests run with k6, judged against SLOs.

Public surface (import from here only):

- :class:`TestSpec` and friends describe one run; :func:`run_test` runs and judges it;
- :func:`load_plan` / :func:`specs_from_plan` turn a system's YAML test plan into specs;
- :func:`list_runs`, :func:`trends` read stored results;
- :class:`PerftestFactSource` offers results as facts to the readiness rules;
- :class:`RunningTarget` / :func:`serve` is the local capacity-limited target service.
"""

from perftest.errors import (
    HostNotAllowed,
    K6NotFound,
    PerftestError,
    PlanError,
    TargetUnreachable,
    UsageError,
)
from perftest.facts import PerftestFactSource
from perftest.plans import Plan, load_plan, resolve_targets, specs_from_plan
from perftest.runner import VERDICTS, RunResult, run_test
from perftest.settings import PerftestSettings
from perftest.spec import (
    SLO,
    Endpoint,
    FailoverSettings,
    OverloadSettings,
    SpikeSettings,
    TestSpec,
    TestType,
)
from perftest.store import list_runs, trends
from perftest.target import RunningTarget, serve

__all__ = [
    "SLO",
    "VERDICTS",
    "Endpoint",
    "FailoverSettings",
    "HostNotAllowed",
    "K6NotFound",
    "OverloadSettings",
    "PerftestError",
    "PerftestFactSource",
    "Plan",
    "PerftestSettings",
    "PlanError",
    "RunResult",
    "RunningTarget",
    "SpikeSettings",
    "TargetUnreachable",
    "TestSpec",
    "TestType",
    "UsageError",
    "list_runs",
    "load_plan",
    "resolve_targets",
    "specs_from_plan",
    "run_test",
    "serve",
    "trends",
]

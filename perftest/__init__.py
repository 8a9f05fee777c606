"""perftest: load, spike, overload and failover tests run with k6, judged against SLOs.

Public surface (import from here only):

- :class:`TestSpec` and friends describe one run; :func:`run_test` runs and judges it;
- :func:`load_plan` / :func:`specs_from_plan` turn a system's YAML test plan into specs;
- :func:`list_runs`, :func:`trends` read stored results;
- :class:`PerftestFactSource` offers results as facts to the readiness rules;
- :class:`RunningTarget` / :func:`serve` is the local capacity-limited target service.

Names load lazily, so ``python -m perftest.target`` starts in milliseconds
(a failover command restarting the target measures the service, not imports).
"""

from storage import lazy_surface

_EXPORTS = {
    "HostNotAllowed": "perftest.errors",
    "K6NotFound": "perftest.errors",
    "PerftestError": "perftest.errors",
    "PlanError": "perftest.errors",
    "TargetUnreachable": "perftest.errors",
    "UsageError": "perftest.errors",
    "PerftestFactSource": "perftest.facts",
    "Plan": "perftest.plans",
    "load_plan": "perftest.plans",
    "resolve_targets": "perftest.plans",
    "specs_from_plan": "perftest.plans",
    "VERDICTS": "perftest.runner",
    "RunResult": "perftest.runner",
    "run_test": "perftest.runner",
    "PerftestSettings": "perftest.settings",
    "SLO": "perftest.spec",
    "Endpoint": "perftest.spec",
    "FailoverSettings": "perftest.spec",
    "OverloadSettings": "perftest.spec",
    "SpikeSettings": "perftest.spec",
    "TestSpec": "perftest.spec",
    "TestType": "perftest.spec",
    "list_runs": "perftest.store",
    "trends": "perftest.store",
    "RunningTarget": "perftest.target",
    "serve": "perftest.target",
}

__all__ = sorted(_EXPORTS)


lazy_surface(__name__, _EXPORTS)

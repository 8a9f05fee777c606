"""Performance-test evidence the performance and resilience rules share.

Two places hold it: the ``perftest`` fact source (runs made with the
``perftest`` tool: per test type the latest judged run, see docs/perftest.md)
and inventory ``drill`` assets (tests run elsewhere and recorded by the team).
:func:`latest_test` reads both and returns the more recent, normalised to one
shape, so a rule needs no branch per source.
"""

from __future__ import annotations

from dataclasses import dataclass

from readiness.rulekit import Facts, Outcome, RuleMeta, failed, graded, no_data

PERFTEST = "perftest"


@dataclass(frozen=True)
class TestEvidence:
    """One performance test or drill, whichever source recorded it."""

    kind: str  # load, spike, overload, failover, ddos, restore
    source: str  # perftest or inventory
    ref: str  # perftest run id or the drill's asset id
    passed: bool
    age_days: float | None
    rps: float | None = None  # rate held within SLO (load, spike), or run at
    breaking_point_rps: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    error_rate: float | None = None
    ramp_seconds: float | None = None
    time_to_recovery_s: float | None = None
    slos_met: bool | None = None  # perftest judged the run against its plan's SLOs

    def evidence(self) -> dict:
        data = {"test": self.kind, "source": self.source, "ref": self.ref, "passed": self.passed,
                "age_days": self.age_days}
        for key in ("rps", "breaking_point_rps", "p95_ms", "p99_ms", "error_rate", "ramp_seconds",
                    "time_to_recovery_s", "slos_met"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


def latest_test(facts: Facts, kind: str) -> TestEvidence | None:
    """The most recent judged test of ``kind`` from perftest or the inventory, or None."""
    candidates = [t for t in (_from_perftest(facts, kind), _from_drills(facts, kind)) if t is not None]
    if not candidates:
        return None
    return min(candidates, key=lambda t: (t.age_days is None, t.age_days if t.age_days is not None else 0.0,
                                          t.source != PERFTEST))


def _from_perftest(facts: Facts, kind: str) -> TestEvidence | None:
    run = ((facts.source(PERFTEST) or {}).get("tests") or {}).get(kind)
    if not run:
        return None
    passed = run.get("verdict") == "pass"
    rps = run.get("sustained_rps")
    if kind == "spike" and rps is None and passed:
        rps = run.get("peak_rps")
    return TestEvidence(
        kind=kind, source=PERFTEST, ref=f"run {run.get('run_id')}", passed=passed, age_days=run.get("age_days"),
        rps=rps, breaking_point_rps=run.get("breaking_point_rps"), p95_ms=run.get("p95_ms"),
        p99_ms=run.get("p99_ms"), error_rate=run.get("error_rate"), time_to_recovery_s=run.get("time_to_recovery_s"),
        slos_met=run.get("slos_met"),
        # a passing perftest spike reached the FLAS rate within two minutes: perftest judges that itself
        ramp_seconds=run.get("ramp_seconds"))


def _from_drills(facts: Facts, kind: str) -> TestEvidence | None:
    drills = [d for d in facts.assets("drills") if d.get("kind") == kind]
    if not drills:
        return None
    drill = min(drills, key=lambda d: (d.get("age_days") is None, d.get("age_days") or 0, d.get("id", "")))
    return TestEvidence(
        kind=kind, source="inventory", ref=drill.get("id", "?"), passed=drill.get("outcome", "passed") == "passed",
        age_days=drill.get("age_days"), rps=drill.get("rps"), breaking_point_rps=drill.get("breaking_point_rps"),
        p95_ms=drill.get("p95_ms"), p99_ms=drill.get("p99_ms"), error_rate=drill.get("error_rate"),
        ramp_seconds=drill.get("ramp_seconds"), time_to_recovery_s=drill.get("time_to_recovery_s"))


def fresh(test: TestEvidence, max_age_days: float) -> bool:
    return test.age_days is not None and test.age_days <= max_age_days


def recent_passing_test(facts: Facts, kind: str, max_age_days: float, *, label: str,
                        missing: str | None = None) -> tuple[TestEvidence | None, Outcome | None]:
    """The latest test of ``kind`` and, when it is missing, failed or older than
    ``max_age_days``, the failure to report (named by ``label``, e.g. "load test")."""
    test = latest_test(facts, kind)
    if test is None:
        return None, failed(missing or f"no {label} recorded")
    if not test.passed:
        return test, failed(f"the latest {label} ({test.ref}) failed", test.evidence())
    if not fresh(test, max_age_days):
        return test, failed(f"the latest {label} ({test.ref}) is {test.age_days} days old "
                            f"(at most {max_age_days})", test.evidence())
    return test, None


def rate_against_forecast(meta: RuleMeta, test: TestEvidence, evidence: list[dict], forecast_rps: float | None,
                          *, forecast: str, origin: str, verb: str) -> Outcome:
    """The rate a test ``verb`` ("held", "reached") over the ``forecast`` ("Baseline", "FLAS"),
    graded by the rule's bands."""
    if forecast_rps is None:
        return no_data(f"no {forecast} forecast to compare the {test.kind} test with")
    if test.rps is None:
        return failed(f"the {test.kind} test {test.ref} does not record the rate it {verb}", evidence)
    ratio = test.rps / forecast_rps
    evidence.append({f"{forecast.lower()}_rps": round(forecast_rps, 2), "forecast_from": origin,
                     "ratio": round(ratio, 3)})
    return graded(meta.credit_for(ratio), f"{test.kind} test {test.ref} {verb} {test.rps:.0f} rps, "
                  f"{ratio:.2f}x the {forecast} forecast {forecast_rps:.0f} rps", evidence)


def system_slo(facts: Facts) -> dict | None:
    """The strictest SLO the system declares: latency (ms at a percentile) and error rate."""
    slos = facts.assets("slos")
    latency = [s for s in slos if s.get("latency_ms") is not None]
    errors = [s["error_rate"] for s in slos if s.get("error_rate") is not None]
    if not latency and not errors:
        return None
    slo: dict = {}
    if latency:
        strictest = min(latency, key=lambda s: s["latency_ms"])
        slo["latency_ms"] = strictest["latency_ms"]
        slo["latency_percentile"] = strictest.get("latency_percentile") or 99
    if errors:
        slo["error_rate"] = min(errors)
    return slo


def measured_latency(test: TestEvidence, percentile: float) -> float | None:
    """The test's latency at the SLO's percentile (p95 or p99; p99 for anything above 95)."""
    if percentile <= 95:
        return test.p95_ms if test.p95_ms is not None else test.p99_ms
    return test.p99_ms

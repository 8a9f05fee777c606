"""Test plans: validation naming file, line and field; required tests; target rates."""

from __future__ import annotations

import textwrap

import pytest

from perftest.errors import PlanError
from perftest.plans import load_plan, resolve_targets, specs_from_plan
from perftest.spec import TestType

GOOD = """\
system: checkout-api
traffic_class: FLAS
safety_factor: 1.25
slo: {p95_ms: 300, p99_ms: 800, error_rate: 0.01}
targets: {baseline_rps: 40, flas_rps: 100}
endpoints:
  - name: authorize
    url: http://127.0.0.1:8080/authorize
    method: post
    body: '{"amount": 1}'
    headers: {Content-Type: application/json}
tests:
  load: {duration_s: 120}
  spike: {ramp_s: 90, hold_s: 60}
"""


def _write(tmp_path, text: str, name: str = "plan.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_a_flas_plan_requires_load_spike_and_overload_at_its_scaled_targets(tmp_path):
    plan = load_plan(_write(tmp_path, GOOD))
    specs = specs_from_plan(plan, resolve_targets(plan))
    assert [s.test_type for s in specs] == [TestType.LOAD, TestType.SPIKE, TestType.OVERLOAD]
    load, spike, overload = specs
    assert load.rps == 50 and load.duration_s == 120  # Baseline capacity x safety factor
    assert spike.peak_rps() == 125 and spike.profile()[0].from_rps == 40  # Baseline -> FLAS x factor
    assert spike.spike.ramp_s == 90
    assert overload.rps == 125  # the forecast the breaking point must reach
    assert all(s.system_id == "checkout-api" and s.endpoints[0].method == "POST" for s in specs)


def test_a_baseline_plan_requires_load_and_overload_and_failover_when_configured(tmp_path):
    text = GOOD.replace("traffic_class: FLAS", "traffic_class: Baseline") + (
        "  failover: {command: 'systemctl restart db', duration_s: 60, trigger_after_s: 20}\n"
    )
    plan = load_plan(_write(tmp_path, text))
    assert plan.required_tests() == [TestType.LOAD, TestType.OVERLOAD, TestType.FAILOVER]
    failover = specs_from_plan(plan, resolve_targets(plan))[-1]
    assert failover.failover.command == "systemctl restart db" and failover.rps == 40


def test_the_catalog_traffic_class_applies_when_the_plan_gives_none(tmp_path):
    plan = load_plan(_write(tmp_path, GOOD.replace("traffic_class: FLAS\n", "")))
    assert plan.required_tests("FLAS") == [TestType.LOAD, TestType.SPIKE, TestType.OVERLOAD]
    assert plan.required_tests(None) == [TestType.LOAD, TestType.OVERLOAD]


def test_invalid_plan_lists_every_problem_with_line_and_field(tmp_path):
    path = _write(tmp_path, """\
        system: checkout api
        safety_factor: 0.5
        slo:
          p95_ms: 300
          eror_rate: 0.1
        endpoints:
          - url: ftp://x
            method: FETCH
        tests:
          spike:
            ramp_s: 300
        """)
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    places = dict(caught.value.problems)
    assert set(places) == {
        "line 1: system", "line 2: safety_factor", "line 5: slo.eror_rate",
        "line 7: endpoints.0.url", "line 8: endpoints.0.method", "line 11: tests.spike.ramp_s",
    }
    assert "unknown field" in places["line 5: slo.eror_rate"]
    assert "less than or equal to 120" in places["line 11: tests.spike.ramp_s"]
    assert str(path) in str(caught.value)


def test_yaml_syntax_errors_name_the_line(tmp_path):
    with pytest.raises(PlanError, match=r"plan.yaml: line \d+: is not valid YAML"):
        load_plan(_write(tmp_path, "system: a\nendpoints:\n  - url: [unclosed\n"))


def test_missing_file_is_a_plan_error(tmp_path):
    with pytest.raises(PlanError, match="cannot be read"):
        load_plan(tmp_path / "absent.yaml")


def test_without_targets_and_without_kapacity_the_plan_says_what_to_add(tmp_path):
    plan = load_plan(_write(tmp_path, GOOD.replace("targets: {baseline_rps: 40, flas_rps: 100}\n", "")))
    with pytest.raises(PlanError, match="targets.baseline_rps"):
        resolve_targets(plan, engine=None)


def test_spike_needs_a_flas_target(tmp_path):
    plan = load_plan(_write(tmp_path, GOOD.replace("flas_rps: 100", "")))
    with pytest.raises(PlanError, match="flas_rps"):
        specs_from_plan(plan, resolve_targets(plan))


def test_without_plan_targets_kapacity_capacity_is_used_when_offered(tmp_path, monkeypatch, engine):
    import kapacity

    calls = []

    def capacity_targets(eng, system_id):
        calls.append(system_id)
        return {"baseline_rps": 30.0, "flas_rps": 90.0, "reference": "forecast 7"}

    monkeypatch.setattr(kapacity, "capacity_targets", capacity_targets, raising=False)
    plan = load_plan(_write(tmp_path, GOOD.replace("targets: {baseline_rps: 40, flas_rps: 100}\n", "")))
    targets = resolve_targets(plan, engine)
    assert calls == ["checkout-api"]
    assert (targets.baseline_rps, targets.flas_rps, targets.source) == (30.0, 90.0, "kapacity:forecast 7")
    load = specs_from_plan(plan, targets, only=[TestType.LOAD])[0]
    assert load.rps == 37.5


def test_without_plan_targets_or_a_kapacity_run_the_inventory_forecast_is_used(tmp_path, engine):
    """The one capacity policy: Kapacity when it has run, else the inventory's forecasts."""
    import yaml

    import readiness
    from tests.flashsales.helpers import catalog_doc

    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump(catalog_doc(), sort_keys=False))
    readiness.import_catalog_file(engine, tmp_path / "catalog.yaml")
    readiness.store_facts(engine, readiness.CollectedFacts("inventory", {"CHK": {"compute": [
        {"id": "api", "forecast_baseline_rps": 20.0, "forecast_flas_rps": 60.0}]}}))
    no_targets = GOOD.replace("targets: {baseline_rps: 40, flas_rps: 100}\n", "")
    targets = resolve_targets(load_plan(_write(tmp_path, no_targets.replace("checkout-api", "CHK"))), engine)
    assert (targets.baseline_rps, targets.flas_rps, targets.source) == (20.0, 60.0, "inventory")
    with pytest.raises(PlanError, match="no forecast for system 'PAY'"):
        resolve_targets(load_plan(_write(tmp_path, no_targets.replace("checkout-api", "PAY"), "pay.yaml")), engine)

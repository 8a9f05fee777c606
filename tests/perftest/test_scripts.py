"""Generated k6 scripts: open-model executors, SLO thresholds, p99 stats, the allow-list in k6."""

from __future__ import annotations

import json
import re

import pytest
from pydantic import ValidationError

from perftest.scripts import SUMMARY_TREND_STATS, blocked_ranges, render_script, thresholds, vus_for
from perftest.settings import PerftestSettings
from perftest.spec import SLO, Endpoint, FailoverSettings, OverloadSettings, SpikeSettings, TestSpec

EP = [Endpoint(url="http://127.0.0.1:9/work")]


def _options(text: str) -> dict:
    match = re.search(r"export const options = (\{.*?\n\});", text, re.S)
    return json.loads(match.group(1))


def _render(spec: TestSpec) -> dict:
    return _options(render_script(spec, PerftestSettings(), allowed_ips=["127.0.0.1"]))


def test_load_uses_constant_arrival_rate_at_the_target_rate():
    scenario = _render(TestSpec(test_type="load", endpoints=EP, rps=120, duration_s=30))["scenarios"]["main"]
    assert scenario["executor"] == "constant-arrival-rate"
    assert scenario["rate"] == 120 and scenario["timeUnit"] == "1s" and scenario["duration"] == "30000ms"


def test_spike_ramps_from_baseline_to_flas_holds_and_returns():
    spec = TestSpec(test_type="spike", endpoints=EP, rps=200, duration_s=60,
                    spike=SpikeSettings(baseline_rps=40, warmup_s=10, ramp_s=90, cooldown_s=5))
    scenario = _render(spec)["scenarios"]["main"]
    assert scenario["executor"] == "ramping-arrival-rate"
    assert scenario["startRate"] == 40
    assert scenario["stages"] == [
        {"target": 40, "duration": "10000ms"},
        {"target": 200, "duration": "90000ms"},
        {"target": 200, "duration": "60000ms"},
        {"target": 40, "duration": "90000ms"},
        {"target": 40, "duration": "5000ms"},
    ]


def test_spike_ramp_longer_than_two_minutes_is_refused():
    with pytest.raises(ValidationError, match="ramp_s"):
        SpikeSettings(ramp_s=121)


def test_overload_is_a_stepped_ramp_well_past_the_forecast():
    spec = TestSpec(test_type="overload", endpoints=EP, rps=100,
                    overload=OverloadSettings(step_s=5, start_factor=0.5, max_factor=2.0, step_factor=0.5))
    stages = _render(spec)["scenarios"]["main"]["stages"]
    assert spec.overload_rates() == [50, 100, 150, 200]
    assert stages == [
        {"target": 50, "duration": "5000ms"},
        {"target": 100, "duration": "0s"}, {"target": 100, "duration": "5000ms"},
        {"target": 150, "duration": "0s"}, {"target": 150, "duration": "5000ms"},
        {"target": 200, "duration": "0s"}, {"target": 200, "duration": "5000ms"},
    ]


def test_thresholds_express_the_slos_and_summary_includes_p99():
    spec = TestSpec(test_type="load", endpoints=EP, rps=10, slo=SLO(p95_ms=250, p99_ms=600, error_rate=0.005))
    options = _render(spec)
    assert options["thresholds"] == {
        "http_req_duration": ["p(95)<250", "p(99)<600"],
        "http_req_failed": ["rate<0.005"],
    }
    assert "p(99)" in options["summaryTrendStats"] and options["summaryTrendStats"] == SUMMARY_TREND_STATS
    assert thresholds(TestSpec(test_type="load", endpoints=EP, rps=1, slo=SLO(error_rate=0)))["http_req_failed"] == ["rate<=0"]


def test_script_writes_handle_summary_json_and_tags_phases():
    text = render_script(TestSpec(test_type="load", endpoints=EP, rps=10), PerftestSettings(), allowed_ips=["127.0.0.1"])
    assert "export function handleSummary(data)" in text
    assert "__ENV.PERFTEST_SUMMARY" in text
    assert "exec.vu.metrics.tags['phase']" in text


def test_same_spec_renders_the_same_script():
    spec = TestSpec(test_type="overload", endpoints=EP, rps=77)
    a = render_script(spec, PerftestSettings(), allowed_ips=["127.0.0.1"])
    b = render_script(spec, PerftestSettings(), allowed_ips=["127.0.0.1"])
    assert a == b


def test_vus_cover_the_peak_rate_for_the_whole_request_timeout_within_the_cap():
    settings = PerftestSettings(request_timeout_s=5, max_vus=2000)
    assert vus_for(TestSpec(test_type="load", endpoints=EP, rps=100), settings) == (510, 510)
    assert vus_for(TestSpec(test_type="load", endpoints=EP, rps=1000), settings) == (2000, 2000)


def test_blocked_ranges_cover_everything_but_the_allowed_addresses():
    import ipaddress

    ranges = [ipaddress.ip_network(r) for r in blocked_ranges(["127.0.0.1", "::1"])]
    def blocked(ip):
        addr = ipaddress.ip_address(ip)
        return any(addr in n for n in ranges if n.version == addr.version)
    assert not blocked("127.0.0.1") and not blocked("::1")
    for ip in ("127.0.0.2", "10.0.0.1", "8.8.8.8", "255.255.255.255", "0.0.0.0", "2001:db8::1", "::2"):
        assert blocked(ip), ip


def test_failover_spec_needs_a_command_and_a_trigger_inside_the_run():
    with pytest.raises(ValidationError, match="failover-command"):
        TestSpec(test_type="failover", endpoints=EP, rps=10)
    with pytest.raises(ValidationError, match="trigger_after_s"):
        TestSpec(test_type="failover", endpoints=EP, rps=10, duration_s=5,
                 failover=FailoverSettings(command="true", trigger_after_s=10))


def test_endpoint_urls_must_be_http():
    with pytest.raises(ValidationError, match="http"):
        Endpoint(url="ftp://127.0.0.1/x")

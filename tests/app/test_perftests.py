"""The Performance tests page and the System page's test section on a real stored k6 run
(the full demo holds one load test of SYS-0001)."""

from __future__ import annotations

from tests.app.conftest import no_exceptions, open_app, texts


def test_a_stored_run_shows_on_both_pages(app_env, full_demo):
    app_env(full_demo[0])
    at = open_app("views/perftests.py")
    no_exceptions(at)
    assert {m.label: m.value for m in at.metric}["Runs"] == "1"
    assert "Latest verdict per system and test type" in texts(at)
    at = open_app("views/system.py", query={"id": "SYS-0001"})
    no_exceptions(at)
    assert "load" in texts(at) and "target 20 req/s" in texts(at)

"""`readiness collect sources`: fact sources other packages register through entry points."""

from __future__ import annotations

from typer.testing import CliRunner

from readiness.cli import app
from readiness.facts import registered_sources

runner = CliRunner()


def test_kapacity_and_perftest_register_their_fact_sources():
    assert {"kapacity", "perftest"} <= set(registered_sources())


def test_an_unknown_source_is_a_usage_error_listing_the_registered_ones(engine, sqlite_url):
    result = runner.invoke(app, ["collect", "sources", "nope", "--db", sqlite_url])
    assert result.exit_code == 2
    assert "unknown fact source 'nope'" in result.output and "kapacity" in result.output


def test_a_source_with_nothing_to_offer_fails_with_its_reason(engine, sqlite_url):
    result = runner.invoke(app, ["collect", "sources", "kapacity", "--db", sqlite_url])
    assert result.exit_code == 1
    assert "no complete kapacity run yet" in result.output

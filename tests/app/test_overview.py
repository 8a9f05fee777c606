"""The Overview's chase list names what to chase with the right numbers, computed here
independently from readiness' public reads."""

from __future__ import annotations

import re
from collections import Counter, defaultdict

import pytest

import readiness
from storage import get_engine
from tests.app.conftest import no_exceptions, open_app


@pytest.fixture
def overview(app_env, demo_db):
    app_env(demo_db)
    at = open_app("views/overview.py")
    no_exceptions(at)
    engine = get_engine(demo_db)
    return at, engine, readiness.latest_run_id(engine)


def _table(at, column: str, prefix: str):
    """The chase table whose first column ``column`` holds links starting with ``prefix``."""
    return next(d.value for d in at.dataframe
                if column in d.value.columns and d.value[column].astype(str).str.startswith(prefix).all())


def _expected_capped(engine, run_id) -> dict[str, set[str]]:
    """Systems missing a blocker rule: a blocker rule's result in a blocking status."""
    blockers = {r.meta.id for r in readiness.load_rules().rules if r.meta.blocker}
    blocking = tuple(str(s) for s in readiness.BLOCKING_STATUSES)
    capped: dict[str, set[str]] = defaultdict(set)
    for result in readiness.results(engine, run_id=run_id, statuses=blocking):
        if result.rule_id in blockers:
            capped[result.system_id].add(result.rule_id)
    return capped


def test_the_chase_list_names_every_blocker_capped_system(overview):
    at, engine, run_id = overview
    expected = _expected_capped(engine, run_id)
    assert expected, "the demo should have blocker-capped systems"
    systems = len(readiness.active_system_ids(engine))
    capped = next(m for m in at.metric if m.label == "Capped by blockers")
    assert (capped.value, capped.proto.delta) == (str(len(expected)), f"of {systems} systems")
    table = _table(at, "system_id", "/system?id=")
    shown = {link.removeprefix("/system?id="): set(rules.split(", "))
             for link, rules in zip(table["system_id"], table["blockers"], strict=True)}
    assert shown == expected
    assert any(t.label.startswith(f"Capped by blockers ({len(expected)})") for t in at.tabs)
    assert list(table["points_outstanding"]) == sorted(table["points_outstanding"], reverse=True)


def test_the_chase_list_ranks_the_rules_failing_on_most_systems_with_their_points(overview):
    at, engine, run_id = overview
    losing = {str(s) for s in readiness.LOSING_STATUSES}
    failing, points = Counter(), Counter()
    for result in readiness.results(engine, run_id=run_id):
        if result.counted and result.status in losing:
            failing[result.rule_id] += 1
            points[result.rule_id] += result.weight - result.earned
    table = _table(at, "rule_id", "/rules?rule=")
    top = [link.removeprefix("/rules?rule=") for link in table["rule_id"]]
    assert failing[top[0]] == max(failing.values())
    for rule_id, systems, held in zip(top, table["systems"], table["points"], strict=True):
        assert systems == failing[rule_id]
        assert held == pytest.approx(points[rule_id], abs=0.05)
    assert list(table["systems"]) == sorted(table["systems"], reverse=True)


def test_teams_furthest_behind_come_first_ties_broken_by_points_outstanding(overview):
    at, engine, run_id = overview
    table = _table(at, "key", "/units?level=team&")
    teams = {row["key"]: row for row in readiness.scores(engine, "team", run_id=run_id)}
    keys = [link.split("key=")[-1] for link in table["key"]]
    ranked = sorted(teams.values(), key=lambda t: (t["score"], -t["points_outstanding"], t["key"]))
    assert keys == [t["key"] for t in ranked][:len(keys)]


def test_milestones_list_rules_with_a_due_date_and_the_systems_not_meeting_them(overview):
    at, engine, run_id = overview
    waiting = {str(s) for s in readiness.NOT_YET_MET_STATUSES}
    due = {r.meta.id for r in readiness.load_rules().rules if r.meta.due}
    open_ = Counter(r.rule_id for r in readiness.results(engine, run_id=run_id)
                    if r.rule_id in due and r.status in waiting)
    table = next(d.value for d in at.dataframe if "days_left" in d.value.columns)
    shown = {link.removeprefix("/rules?rule="): n for link, n in zip(table["rule_id"], table["systems"], strict=True)}
    assert shown and shown == dict(open_)
    assert list(table["due"]) == sorted(table["due"])


def _changed(engine, since: int, run_id: int) -> dict[tuple[str, str], tuple]:
    """Results whose status or points differ between two runs, computed from readiness.results."""
    before = {(r.system_id, r.rule_id): (r.status, round(r.earned, 4), r.basis) for r in readiness.results(engine, run_id=since)}
    after = {(r.system_id, r.rule_id): (r.status, round(r.earned, 4), r.basis) for r in readiness.results(engine, run_id=run_id)}
    return {k: (before.get(k), after.get(k)) for k in before.keys() | after.keys() if before.get(k) != after.get(k)}


def _split_counts(at) -> dict[str, int]:
    labels = {"Team work": "team", "Data refreshes": "data", "Rule changes": "rule", "Time passing": "time"}
    return {labels[m.label]: int(m.value.split()[0].replace(",", "")) for m in at.metric if m.label in labels}


def test_changes_since_last_week_compare_with_the_run_current_a_week_ago(overview):
    at, engine, run_id = overview
    from datetime import datetime, timedelta

    week_ago = datetime.now() - timedelta(days=7)
    runs = [r for r in readiness.list_runs(engine) if r.status == "complete" and r.id != run_id]
    expected = max(r.id for r in runs if r.started_at <= week_ago)
    caption = next(c.value for c in at.caption if c.value.startswith(f"Run {run_id} of "))
    assert f"compared with run {expected} of " in caption and re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", caption)
    counts = _split_counts(at)
    assert sum(counts.values()) == len(_changed(engine, expected, run_id))


def test_the_latest_runs_review_and_waiver_changes_count_as_team_work_not_data(overview):
    """The demo's last run follows the governance seed: what moved there is team work."""
    at, engine, run_id = overview
    previous = max(r.id for r in readiness.list_runs(engine) if r.status == "complete" and r.id != run_id)
    at.segmented_control(key="changes_period").set_value("since a chosen run").run()
    at.selectbox(key="changes_run").set_value(previous).run()
    no_exceptions(at)
    counts = _split_counts(at)
    changed = _changed(engine, previous, run_id)
    assert counts["team"] > 0 and counts["data"] == 0
    assert sum(counts.values()) == len(changed)
    waived = sum(1 for before, after in changed.values() if after and after[0] == "waived")
    assert counts["team"] >= waived


def test_a_week_of_demo_history_is_a_data_refresh(overview):
    """Between two weekly demo runs only collected facts changed: no team work is claimed."""
    at, engine, run_id = overview
    ids = sorted(r.id for r in readiness.list_runs(engine) if r.status == "complete")
    older, newer = ids[-3], ids[-2]  # two history weeks, before the governance seed
    assert newer != run_id
    # compare the latest with a run: the selector lists every earlier run with its date
    at.segmented_control(key="changes_period").set_value("since a chosen run").run()
    options = at.selectbox(key="changes_run").options
    assert any(o.startswith(f"run {older} · ") and o.endswith(" UTC") for o in options)
    assert readiness.result_changes(engine, older, newer)["changes"]
    assert {c["cause"] for c in readiness.result_changes(engine, older, newer)["changes"]} <= {"data", "time", "rule"}

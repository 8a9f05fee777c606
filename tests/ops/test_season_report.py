"""`readiness season report` on an organisation built by hand through the public commands: the
season's milestone scores, the waivers it used, Kapacity's forecast against the traffic the peak
window actually saw, and perftest's breaking points against that peak (Markdown and HTML)."""

from __future__ import annotations

import csv
import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import kapacity
from kapacity.cli import app as kapacity_app
from perftest.analysis import BreakingPoint, Summary
from perftest.runner import RunResult
from perftest.spec import Endpoint, TestSpec
from perftest.store import save_run
from readiness import get_season, import_inventory_file, run_evaluation, season_scores
from readiness.cli import app
from readiness.reports import results
from storage import get_engine
from tests.identity.helpers import token_env
from tests.readiness.helpers import catalog_doc, compute, write_inventory, write_yaml

runner = CliRunner()
SEASON = ["peak-2027", "--name", "Peak <2027> | Black Friday", "--starts-on", "2027-11-26",
          "--ends-on", "2027-11-28", "--target-date", "2027-11-19", "--target-score", "90",
          "--milestone", "capacity=-2w"]
WEEK_1, WEEK_2 = datetime(2026, 11, 24, 9), datetime(2026, 12, 1, 9)
HISTORY_FROM, PEAK_FROM, PEAK_TO = datetime(2027, 11, 5), datetime(2027, 11, 26), datetime(2027, 11, 29)
# The peak window's busiest hours, written into the histories below (requests per hour).
API_PEAK, WEB_PEAK, SCORER_PEAK = (datetime(2027, 11, 27, 14), 36_000), (datetime(2027, 11, 27, 15), 18_000), \
    (datetime(2027, 11, 26, 20), 72_000)
EXPIRES = (date.today() + timedelta(days=60)).isoformat()  # waivers run on the real clock
BASE, DAYTIME = 7_200, 1_800  # an ordinary hour: 2 requests per second, 2.5 from 10:00 to 20:00


def cli(url: str, *args: str):
    """The readiness CLI; a write ``--as PERSON`` presents that person's token (not a demo database)."""
    env = token_env(url, args[args.index("--as") + 1]) if "--as" in args else None
    return runner.invoke(app, [*args, "--db", url], env=env)


def write_history(path: Path, until: datetime, peak: tuple[datetime, int] | None) -> None:
    """Hourly counts from HISTORY_FROM to ``until``: a daily shape around BASE, plus one busy hour."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["timestamp", "value"])
        moment = HISTORY_FROM
        while moment < until:
            value = BASE + (DAYTIME if 10 <= moment.hour < 20 else 0)
            if peak is not None and moment == peak[0]:
                value = peak[1]
            out.writerow([moment.strftime("%Y-%m-%dT%H:%M:%S"), value])
            moment += timedelta(hours=1)


def write_histories(folder: Path, until: datetime, *, with_peak: bool) -> Path:
    write_history(folder / "SYS-1" / "api.csv", until, API_PEAK if with_peak else None)
    write_history(folder / "SYS-1" / "web.csv", until, WEB_PEAK if with_peak else None)
    write_history(folder / "SYS-2.csv", until, SCORER_PEAK if with_peak else None)
    return folder


def store_breaking_point(engine, system_id: str, sustained: float, started: datetime) -> None:
    spec = TestSpec(test_type="overload", endpoints=[Endpoint(url="http://127.0.0.1:9/")], rps=sustained,
                    system_id=system_id)
    summary = Summary(requests=500, achieved_rps=sustained, error_rate=0.0, p50_ms=10, p90_ms=20, p95_ms=30,
                      p99_ms=60, max_ms=90, avg_ms=12, iterations=500, dropped_iterations=0,
                      test_run_duration_s=10, thresholds={})
    save_run(engine, RunResult(
        spec=spec, verdict="pass", reasons=[], k6_version="1.1.0", k6_exit_code=0, k6_outcome="passed",
        killed=False, started_at=started, finished_at=started + timedelta(seconds=10), script_sha256="abc",
        summary=summary, phases=[], breaking=BreakingPoint(sustained, sustained * 1.1, "errors above 1%")))


@pytest.fixture
def season_org(sqlite_url, tmp_path):
    """A catalog imported by its command, a season created by the readiness team, two weekly evaluations,
    one approved waiver, Kapacity forecasts made before the peak window, overload breaking points."""
    url = sqlite_url
    systems = catalog_doc()["systems"]
    systems[0]["services"] = [{"name": "api"}, {"name": "web"}]
    catalog = write_yaml(tmp_path / "catalog.yaml", catalog_doc(systems, readiness_team=["rita"], admins=["ann"]))
    assert cli(url, "import", "--catalog", str(catalog)).exit_code == 0
    created = cli(url, "season", "create", *SEASON, "--as", "rita")
    assert created.exit_code == 0, created.output
    engine = get_engine(url)
    import_inventory_file(engine, write_inventory(tmp_path / "w1.json", [
        compute("SYS-1", "api", replicas=1, zones=["a"]), compute("SYS-2", "scorer", health_checks={})]), now=WEEK_1)
    run_evaluation(engine, now=WEEK_1)
    import_inventory_file(engine, write_inventory(tmp_path / "w2.json", [
        compute("SYS-1", "api"), compute("SYS-2", "scorer")]), now=WEEK_2)
    run_evaluation(engine, now=WEEK_2)
    requested = cli(url, "waiver", "request", "SYS-1", "dashboards", "--as", "cy",
                    "--reason", "Zone <b>c</b> | arrives in January", "--expires", EXPIRES, "--format", "json")
    assert requested.exit_code == 0, requested.output
    waiver_id = json.loads(requested.stdout)["id"]
    assert cli(url, "waiver", "approve", str(waiver_id), "--as", "ada").exit_code == 0
    before = write_histories(tmp_path / "before-peak", PEAK_FROM, with_peak=False)
    forecast = runner.invoke(kapacity_app, ["run", "--histories", str(before), "--horizon", "3d", "--db", url,
                                            "--format", "json", "--quiet"])
    assert forecast.exit_code == 0, forecast.output
    store_breaking_point(engine, "SYS-1", 11.0, datetime(2027, 11, 10))
    store_breaking_point(engine, "SYS-2", 50.0, datetime(2027, 11, 12))
    actual = write_histories(tmp_path / "after-peak", PEAK_TO + timedelta(days=1), with_peak=True)
    return url, engine, actual


def table(markdown: str, heading: str) -> list[dict]:
    """The rows of the Markdown table under ``## heading``, as dicts by column heading."""
    block = markdown.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in block.splitlines() if line.startswith("|")]
    split = lambda line: [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]  # noqa: E731
    head = split(lines[0])
    return [dict(zip(head, split(line), strict=True)) for line in lines[2:]]


def forecast_in_window(engine, system_id: str, service: str | None) -> tuple[float, float]:
    """Peak and p99 peak (req/s) of the stored forecast inside the peak window, read independently."""
    frame = kapacity.forecast_points(engine, system_id, service)
    times = frame["timestamp"].map(lambda t: datetime.fromisoformat(t))
    inside = (times >= PEAK_FROM) & (times < PEAK_TO)
    assert inside.any()
    return float(frame["forecast"][inside].max()) / 3600, float(frame["p99"][inside].max()) / 3600


def test_the_report_compares_forecast_and_breaking_points_with_the_actual_peak(season_org):
    url, engine, actual = season_org
    done = cli(url, "season", "report", "peak-2027", "--histories", str(actual))
    assert done.exit_code == 0, done.output
    report = done.stdout
    rows = {r["System / service"]: r for r in table(report, "Forecast peak against the actual peak")}
    assert set(rows) == {"SYS-1", "SYS-1 / api", "SYS-1 / web", "SYS-2"}
    expected_actual = {"SYS-1": (API_PEAK[1] + BASE + DAYTIME) / 3600,  # web in its busy hours "SYS-1 / api": API_PEAK[1] / 3600,
                       "SYS-1 / web": WEB_PEAK[1] / 3600, "SYS-2": SCORER_PEAK[1] / 3600}
    at = {"SYS-1": API_PEAK[0], "SYS-1 / api": API_PEAK[0], "SYS-1 / web": WEB_PEAK[0], "SYS-2": SCORER_PEAK[0]}
    for label, rate in expected_actual.items():
        system_id, _, service = label.partition(" / ")
        peak, p99 = forecast_in_window(engine, system_id, service or None)
        row = rows[label]
        assert float(row["Actual peak"]) == pytest.approx(rate, abs=0.01)
        assert row["Actual peak at"] == f"{at[label]:%Y-%m-%d %H:%M}"
        assert float(row["Forecast peak"]) == pytest.approx(peak, abs=0.01)
        assert float(row["p99 peak"]) == pytest.approx(p99, abs=0.01)
        share = abs(peak - rate) / rate * 100
        assert row["Forecast error"] == f"{share:.0f}% {'over' if peak > rate else 'under'}"
        assert row["Within p99"] == "yes" if rate <= p99 else row["Within p99"].startswith("no:")
        assert row["Forecast covers"] == "2027-11-26 to 2027-11-28"
    # an ordinary week forecasts about 2.5 req/s: far below the busy hour that came
    assert float(rows["SYS-1 / api"]["Forecast peak"]) < 5 and "under" in rows["SYS-1 / api"]["Forecast error"]

    broke = {r["System"].split(" ")[0]: r for r in table(report, "Breaking points against the actual peak")}
    assert broke["SYS-1"]["Breaking point"] == "11" and broke["SYS-1"]["Actual peak"] == "12.5"
    assert broke["SYS-1"]["Verdict"] == "the actual peak reached the breaking point"
    assert broke["SYS-1"]["Breaking point / actual"] == f"{11 / 12.5:.2f}x"
    assert broke["SYS-2"]["Actual peak"] == "20" and broke["SYS-2"]["Breaking point / actual"] == "2.50x"
    assert broke["SYS-2"]["Verdict"].startswith("held")


def test_the_report_gives_the_final_and_milestone_scores_and_the_waivers_used(season_org):
    url, engine, actual = season_org
    report = cli(url, "season", "report", "peak-2027").stdout
    points = season_scores(engine, get_season(engine, "peak-2027"))
    final = points[-1]
    assert f"| Final score | {final['score']:.1f} (run {final['run_id']}, 2026-12-01) |" in report
    milestones = {r["Due"]: r for r in table(report, "Milestones")}
    assert "2027-11-05" in milestones  # capacity moved to 2 weeks before the target
    capacity = milestones["2027-11-05"]
    assert "capacity_plan_signoff" in capacity["Due that day"]
    due = set(capacity["Due that day"].split(", "))
    applied = [r for r in results(engine, run_id=final["run_id"]) if r.rule_id in due and r.status != "not_applicable"]
    met = sum(r.status in ("pass", "waived") for r in applied)
    assert capacity["Results met"] == f"{met} of {len(applied)}" and len(applied) > 0
    assert capacity["Verdict"] == ("all met" if met == len(applied) else f"{len(applied) - met} not met")
    target = milestones["2027-11-19"]
    assert target["Score"] == f"{final['score']:.1f}" and target["Run"] == str(final["run_id"])
    assert target["Verdict"] == ("target met" if final["score"] >= 90 else
                                 f"{90 - final['score']:.1f} points short of the target")
    waivers = table(report, "Waivers used")
    assert [(w["System"], w["Rule"], w["Requested by"], w["Approved by"], w["Until"]) for w in waivers] == [
        ("SYS-1", "dashboards", "cy", "ada", f"through {EXPIRES}")]
    assert waivers[0]["Reason"] == r"Zone &lt;b&gt;c&lt;/b&gt; \| arrives in January"  # no markup, no broken table


def test_sections_without_data_say_what_to_load(sqlite_url, tmp_path):
    url = sqlite_url
    catalog = write_yaml(tmp_path / "catalog.yaml", catalog_doc(readiness_team=["rita"]))
    assert cli(url, "import", "--catalog", str(catalog)).exit_code == 0
    assert cli(url, "season", "create", *SEASON, "--as", "rita").exit_code == 0
    report = cli(url, "season", "report", "peak-2027").stdout
    assert "no evaluation run under this season: run `readiness evaluate`" in report
    assert "No waiver was in force during the season." in report
    assert "No stored Kapacity forecast reaches into the peak window" in report
    assert "No breaking point was measured" in report
    assert "None" not in report and "nan" not in report


def test_without_the_peak_history_the_report_says_how_to_load_it(season_org):
    url, engine, actual = season_org
    report = cli(url, "season", "report", "peak-2027").stdout
    assert "The peak window's history is not loaded yet" in report
    assert "readiness season report peak-2027 --histories FOLDER" in report
    broke = {r["System"].split(" ")[0]: r for r in table(report, "Breaking points against the actual peak")}
    assert broke["SYS-1"]["Actual peak"] == "not loaded"
    missing = cli(url, "season", "report", "peak-2027", "--histories", str(actual.parent / "nowhere")).stdout
    assert f"({actual.parent / 'nowhere'} is not a folder)" in missing
    before_peak = cli(url, "season", "report", "peak-2027", "--histories", str(actual.parent / "before-peak")).stdout
    assert f"(the history in {actual.parent / 'before-peak'} does not reach it)" in before_peak
    assert "History that ends before the peak window (not compared): SYS-1, SYS-1/api, SYS-1/web, SYS-2." in before_peak


def test_html_report_escapes_user_text_and_writes_the_file(season_org, tmp_path):
    url, engine, actual = season_org
    out = tmp_path / "report.html"
    done = cli(url, "season", "report", "peak-2027", "--format", "html", "--out", str(out), "--histories", str(actual))
    assert done.exit_code == 0, done.output
    assert done.stdout == "" and str(out) in done.stderr
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "Peak &lt;2027&gt; | Black Friday" in page and "<2027>" not in page
    assert "Zone &lt;b&gt;c&lt;/b&gt; | arrives in January" in page and "<b>c</b>" not in page
    assert "<h2>Forecast peak against the actual peak</h2>" in page
    assert page.count("<tr>") >= 4 + 1 + 4 + 2  # summary, waiver, forecasts, breaking points


def test_an_unknown_season_or_format_is_an_error(season_org):
    url, _, _ = season_org
    missing = cli(url, "season", "report", "peak-1999")
    assert missing.exit_code == 1 and "no season 'peak-1999'" in missing.stderr
    assert cli(url, "season", "report", "peak-2027", "--format", "pdf").exit_code == 2


def test_breaking_points_before_the_window_ends_only(season_org):
    url, engine, actual = season_org
    store_breaking_point(engine, "SYS-2", 999.0, datetime(2028, 1, 5))  # after the peak: not what held it
    report = cli(url, "season", "report", "peak-2027", "--histories", str(actual)).stdout
    broke = {r["System"].split(" ")[0]: r for r in table(report, "Breaking points against the actual peak")}
    assert broke["SYS-2"]["Breaking point"] == "50"
    assert np.isclose(float(broke["SYS-2"]["Breaking point / actual"].rstrip("x")), 2.5)


def test_each_milestone_takes_the_last_run_on_or_before_its_day(sqlite_url, tmp_path):
    url = sqlite_url
    catalog = write_yaml(tmp_path / "catalog.yaml", catalog_doc(readiness_team=["rita"]))
    assert cli(url, "import", "--catalog", str(catalog)).exit_code == 0
    assert cli(url, "season", "create", "peak-2026", "--name", "Peak 2026", "--starts-on", "2026-12-02",
               "--ends-on", "2026-12-31", "--target-date", "2026-11-28", "--milestone", "capacity=-2w",
               "--as", "rita").exit_code == 0
    engine = get_engine(url)
    for moment, inventory in ((WEEK_1, [compute("SYS-1", "api", replicas=1, zones=["a"])]),
                              (WEEK_2, [compute("SYS-1", "api"), compute("SYS-2", "scorer")])):
        import_inventory_file(engine, write_inventory(tmp_path / f"{moment:%d}.json", inventory), now=moment)
        run_evaluation(engine, now=moment)
    first, second = season_scores(engine, get_season(engine, "peak-2026"))
    assert first["score"] != second["score"]
    report = cli(url, "season", "report", "peak-2026").stdout
    milestones = {r["Due"]: r for r in table(report, "Milestones")}
    assert (milestones["2026-11-14"]["Score"], milestones["2026-11-14"]["Run"]) == ("no run by then", "")
    target = milestones["2026-11-28"]  # between the two runs: the first one counts
    assert (target["Run"], target["Score"]) == (str(first["run_id"]), f"{first['score']:.1f}")
    assert f"| Final score | {second['score']:.1f} (run {second['run_id']}, 2026-12-01) |" in report


def test_a_finer_history_is_summed_to_the_forecasts_resolution_and_breaking_points_see_its_busiest_interval(
        season_org, tmp_path):
    url, engine, _ = season_org
    folder = tmp_path / "quarter-hours"
    folder.mkdir()
    busy = {datetime(2027, 11, 26, 20, 0): 9_000, datetime(2027, 11, 26, 20, 15): 36_000,
            datetime(2027, 11, 26, 20, 30): 9_000, datetime(2027, 11, 26, 20, 45): 9_000}
    with (folder / "SYS-2.csv").open("w", newline="") as handle:  # SYS-2 only, every 15 minutes
        out = csv.writer(handle)
        out.writerow(["timestamp", "value"])
        moment = HISTORY_FROM
        while moment < PEAK_TO:
            out.writerow([moment.strftime("%Y-%m-%dT%H:%M:%S"), busy.get(moment, BASE // 4)])
            moment += timedelta(minutes=15)
    report = cli(url, "season", "report", "peak-2027", "--histories", str(folder)).stdout
    rows = {r["System / service"]: r for r in table(report, "Forecast peak against the actual peak")}
    assert (rows["SYS-2"]["Actual peak"], rows["SYS-2"]["Actual peak at"]) == ("17.5", "2027-11-26 20:00")  # 63,000/h
    assert rows["SYS-1"]["Actual peak"] == "not loaded" and rows["SYS-1 / api"]["Actual peak"] == "not loaded"
    broke = {r["System"].split(" ")[0]: r for r in table(report, "Breaking points against the actual peak")}
    assert (broke["SYS-2"]["Actual peak"], broke["SYS-2"]["Actual peak at"]) == ("40", "2027-11-26 20:15")
    assert broke["SYS-2"]["Breaking point / actual"] == "1.25x"
    assert broke["SYS-1"]["Actual peak"] == "not loaded"

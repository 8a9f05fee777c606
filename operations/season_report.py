"""The season report: after the peak, how the season went, in Markdown or HTML.

Assembled here because it reads four contexts: the season's runs and scores
(``readiness``), the waivers in force during it (``governance``), Kapacity's stored
forecasts against the traffic the peak window actually saw (``kapacity``), and
perftest's breaking points against that actual peak (``perftest``). The core asks
for it through the ``peak_readiness.season_report`` entry point
(``readiness season report KEY``); the app calls :func:`season_report` directly.

Definitions (also in docs/season.md):

- a milestone is a date on which scheduled rules fall due in the season (the
  season's own milestones or the rules' defaults), plus the target date; the score
  *at* a milestone is the season's score in the latest run under the season that
  started on or before the end of that day;
- a waiver was used in the season when it was approved and in force at some
  moment between the start of the season (its creation or its first run, the
  earlier) and the end of its peak window;
- the forecast for the peak window is, per series (system total or service), the
  newest complete Kapacity run made before the window started whose points reach
  into it (else the newest that does); its peak is the highest point forecast and
  its p99 peak the highest 99th percentile inside the window;
- the actual peak is the busiest interval of the window in the history files
  (the folder ``kapacity run`` reads), summed to the forecast's resolution for the
  comparison with the forecast, at the history's own resolution for the breaking
  points; rates are requests per second.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

import governance
import kapacity
import perftest
import readiness
from storage import utcnow

FORMATS = ("markdown", "html")
MET = frozenset({"pass", "waived"})
EPOCH = datetime(1970, 1, 1)


@dataclass
class Section:
    """One part of the report: a heading, words, and a table (or, with no rows, why there are none)."""

    title: str
    intro: str = ""
    columns: list[tuple[str, str]] = field(default_factory=list)  # (row key, heading)
    rows: list[dict] = field(default_factory=list)
    empty: str = ""  # said in words when there are no rows
    notes: list[str] = field(default_factory=list)


@dataclass
class SeasonReport:
    season: dict
    generated_at: datetime
    summary: list[tuple[str, str]]
    sections: list[Section]


def season_report(engine, key: str, *, fmt: str = "markdown", histories: Path | None = None,
                  rules_dirs: Iterable[Path] = (), now: datetime | None = None) -> str:
    """The report of season ``key`` rendered as ``markdown`` or ``html`` (the entry point the CLI calls)."""
    if fmt not in FORMATS:
        raise readiness.InputError(f"report format {fmt!r}: accepted: {', '.join(FORMATS)}")
    report = build_report(engine, key, histories=histories, rules_dirs=rules_dirs, now=now)
    return render_html(report) if fmt == "html" else render_markdown(report)


def build_report(engine, key: str, *, histories: Path | None = None, rules_dirs: Iterable[Path] = (),
                 now: datetime | None = None) -> SeasonReport:
    season = readiness.get_season(engine, key)
    now = now or utcnow()
    points = readiness.season_scores(engine, season)
    systems = [s for s in readiness.active_systems(engine) if readiness.in_scope(season, s)]
    actual = _actual_history(season, systems, histories)
    sections = [_milestones(engine, season, points, list(rules_dirs), {s.system_id for s in systems}),
                _waivers(engine, season, points, now),
                _forecast_against_actual(engine, season, systems, actual),
                _breaking_points(engine, season, systems, actual)]
    return SeasonReport(readiness.season_record(season), now, _summary(season, points), sections)


# ------------------------------------------------------------------ scores


def _summary(season, points: list[dict]) -> list[tuple[str, str]]:
    window = f"{_day(season.starts_on)} to {_day(season.ends_on)}"
    rows = [("Peak window", window), ("Target", f"{season.target_score:g} by {_day(season.target_date)}")]
    if season.freeze_on:
        rows.append(("Change freeze from", _day(season.freeze_on)))
    if not points:
        rows.append(("Final score", "no evaluation run under this season: run `readiness evaluate`"))
        return rows
    final = points[-1]
    rows.append(("Final score", f"{final['score']:.1f} (run {final['run_id']}, {final['at']:%Y-%m-%d})"))
    reached = next((p for p in points if p["score"] >= season.target_score), None)
    rows.append(("Target reached", f"on {reached['at']:%Y-%m-%d} (run {reached['run_id']})" if reached
                 else "not reached in any run of the season"))
    rows.append(("Runs in the season", str(len(points))))
    rows.append(("Status", f"closed on {season.closed_at:%Y-%m-%d}" if season.closed_at else "open"))
    return rows


def _milestones(engine, season, points: list[dict], rules_dirs: list[Path], in_scope: set[str]) -> Section:
    metas = [rule.meta for rule in readiness.load_rules(rules_dirs).rules]
    due = readiness.due_dates(season, metas)
    by_day: dict[date, list[str]] = {}
    for rule_id, day in due.items():
        by_day.setdefault(day, []).append(rule_id)
    by_day.setdefault(season.target_date, [])
    rows = []
    for day in sorted(by_day):
        rules = sorted(by_day[day])
        point = next((p for p in reversed(points) if p["at"] < datetime.combine(day + timedelta(days=1),
                                                                                 datetime.min.time())), None)
        what = ", ".join(rules) if rules else "the season's target"
        if day == season.target_date and rules:
            what += "; the season's target"
        row = {"due": _day(day), "what": what, "run": "", "score": "", "rules_met": "", "verdict": ""}
        if point is None:
            row["score"] = "no run by then"
        else:
            row.update(run=str(point["run_id"]), score=f"{point['score']:.1f}")
            if rules:
                met, judged = _met(engine, point["run_id"], set(rules), in_scope)
                row["rules_met"] = f"{met} of {judged}" if judged else "not applicable to any system"
            if day == season.target_date:
                row["verdict"] = "target met" if point["score"] >= season.target_score else \
                    f"{season.target_score - point['score']:.1f} points short of the target"
            elif rules and judged:
                row["verdict"] = "all met" if met == judged else f"{judged - met} not met"
        rows.append(row)
    return Section(
        "Milestones",
        "The season's score in the last run on or before each due date, and how many results of the rules due "
        "that day were met (passed or waived) over the systems in the season's scope.",
        [("due", "Due"), ("what", "Due that day"), ("run", "Run"), ("score", "Score"),
         ("rules_met", "Results met"), ("verdict", "Verdict")], rows)


def _met(engine, run_id: int, rules: set[str], in_scope: set[str]) -> tuple[int, int]:
    """Results of ``rules`` on systems in scope that were met, of those that applied (warnings included)."""
    applied = sorted(str(s) for s in readiness.JUDGED_STATUSES | {"warning", "error"})
    judged = [r for rule_id in sorted(rules)
              for r in readiness.rule_results(engine, run_id, rule_id, statuses=applied, limit=1_000_000)
              if r["system_id"] in in_scope]
    return sum(r["status"] in MET for r in judged), len(judged)


# ------------------------------------------------------------------ waivers


def _season_start(engine, season, points: list[dict]) -> datetime:
    history = readiness.season_history(engine, season.key)
    moments = [h["at"] for h in history[:1]] + [p["at"] for p in points[:1]]
    return min(moments) if moments else datetime.combine(season.starts_on, datetime.min.time())


def _waivers(engine, season, points: list[dict], now: datetime) -> Section:
    start = _season_start(engine, season, points)
    end = datetime.combine(season.ends_on + timedelta(days=1), datetime.min.time())
    rows = []
    for waiver in reversed(governance.list_waivers(engine, now=now)):
        if not waiver["approved_at"]:
            continue
        approved = datetime.fromisoformat(waiver["approved_at"])
        until = min(m for m in (datetime.fromisoformat(waiver["expires_at"]),
                                datetime.fromisoformat(waiver["revoked_at"]) if waiver["revoked_at"] else None)
                    if m is not None)
        if approved >= end or until <= start:
            continue
        ended = f"revoked on {_day(until.date())} by {waiver['revoked_by']}" if waiver["revoked_at"] and \
            datetime.fromisoformat(waiver["revoked_at"]) == until else f"through {waiver['expires']}"
        rows.append({"system": waiver["system_id"], "rule": waiver["rule_id"], "reason": waiver["reason"],
                     "requested_by": waiver["requested_by"], "approved_by": waiver["approved_by"] or "",
                     "from": _day(approved.date()), "until": ended})
    return Section(
        "Waivers used",
        f"Waivers approved and in force at some time between the start of the season ({start:%Y-%m-%d}) and the "
        f"end of its peak window ({_day(season.ends_on)}).",
        [("system", "System"), ("rule", "Rule"), ("reason", "Reason"), ("requested_by", "Requested by"),
         ("approved_by", "Approved by"), ("from", "In force from"), ("until", "Until")], rows,
        empty="No waiver was in force during the season.")


# ------------------------------------------------------------------ actual peak


@dataclass
class _Actual:
    """The peak window's history of one series (per-interval counts on a regular grid)."""

    start: int  # epoch seconds of the first interval in the window
    step: int
    values: np.ndarray

    def peak(self, resolution: int | None = None, origin: int = 0) -> tuple[float, int] | None:
        """(requests per second, epoch of the interval) of the busiest interval, at ``resolution``
        seconds (summed on a grid aligned to ``origin``) when it is a multiple of the history's step."""
        values, start, step = self.values, self.start, self.step
        if resolution and resolution > step and resolution % step == 0:
            buckets = (start + step * np.arange(len(values)) - origin) // resolution
            keep = ~np.isnan(values)
            if not keep.any():
                return None
            sums = np.bincount((buckets - buckets.min())[keep], weights=values[keep])
            best = int(np.argmax(sums))
            return float(sums[best]) / resolution, int((buckets.min() + best) * resolution + origin)
        if np.isnan(values).all():
            return None
        best = int(np.nanargmax(values))
        return float(values[best]) / step, start + best * step


@dataclass
class _History:
    folder: Path | None
    series: dict[tuple[str, str | None], _Actual] = field(default_factory=dict)
    short: list[str] = field(default_factory=list)  # series whose history does not reach the window
    problems: list[str] = field(default_factory=list)


def _window(season) -> tuple[int, int]:
    start = datetime.combine(season.starts_on, datetime.min.time())
    end = datetime.combine(season.ends_on + timedelta(days=1), datetime.min.time())
    return _epoch(start), _epoch(end)


def _actual_history(season, systems, folder: Path | None) -> _History:
    out = _History(folder)
    if folder is None or not Path(folder).is_dir():
        return out
    source = kapacity.DirectorySource(Path(folder))
    lo, hi = _window(season)
    for system in systems:
        names = sorted({str(s.get("name")) for s in system.services if s.get("name")})
        try:
            fetched = source.fetch(system.system_id, names)
        except kapacity.KapacityError as exc:
            out.problems.append(str(exc))
            continue
        out.problems += fetched.problems
        parts = [(None, fetched.total)] + sorted(fetched.services.items())
        for service, series in parts:
            if series is None:
                continue
            times = series.start + series.step * np.arange(series.n)
            inside = (times >= lo) & (times < hi)
            label = system.system_id if service is None else f"{system.system_id}/{service}"
            if not inside.any():
                out.short.append(label)
                continue
            first = int(np.argmax(inside))
            out.series[(system.system_id, service)] = _Actual(int(times[first]), series.step,
                                                              np.asarray(series.values[inside], dtype=float))
    return out


def _not_loaded(season, history: _History) -> str:
    where = ("no history was given" if history.folder is None else
             f"{history.folder} is not a folder" if not Path(history.folder).is_dir() else
             f"the history in {history.folder} does not reach it")
    return (f"The peak window's history is not loaded yet ({where}): put the traffic of "
            f"{_day(season.starts_on)} to {_day(season.ends_on)} in the folder `kapacity run` reads and run "
            f"`readiness season report {season.key} --histories FOLDER` (or set KAPACITY_HISTORY_DIR).")


# ------------------------------------------------------------------ forecast against actual


def _forecast_runs(engine, season) -> list[dict]:
    """Complete Kapacity runs, those made before the peak window first, newest first in each group."""
    runs = [r for r in kapacity.list_runs(engine, limit=500) if r["status"] == "complete"]
    begins = datetime.combine(season.starts_on, datetime.min.time())
    before = [r for r in runs if r["started_at"] < begins]
    return before + [r for r in runs if r["started_at"] >= begins]


def _window_forecast(engine, row: dict, lo: int, hi: int) -> dict | None:
    """The forecast's peak and p99 peak (req/s) inside the window, and the days it covers; None outside."""
    step = row["resolution_seconds"]
    start = _epoch(row["start"])
    times = start + step * np.arange(row["intervals"])
    inside = (times >= lo) & (times < hi)
    if not inside.any():
        return None
    frame = kapacity.forecast_points(engine, row["system_id"], row["service"], run_id=row["run_id"])
    if frame.empty:
        return None
    forecast = frame["forecast"].to_numpy(dtype=float)[inside]
    p99 = frame["p99"].to_numpy(dtype=float)[inside] if "p99" in frame else forecast
    covered = times[inside]
    return {"run_id": row["run_id"], "step": step, "origin": start,
            "peak": float(np.nanmax(forecast)) / step, "p99": float(np.nanmax(p99)) / step,
            "from": _from_epoch(int(covered[0])).date(), "to": _from_epoch(int(covered[-1])).date()}


def _forecast_against_actual(engine, season, systems, history: _History) -> Section:
    lo, hi = _window(season)
    in_scope = {s.system_id for s in systems}
    forecasts: dict[tuple[str, str | None], dict] = {}
    for run in _forecast_runs(engine, season):
        for row in kapacity.system_capacity(engine, run_id=run["run_id"], services=True):
            series = (row["system_id"], row["service"])
            if row["system_id"] in in_scope and series not in forecasts:
                found = _window_forecast(engine, row, lo, hi)
                if found is not None:
                    forecasts[series] = found
    section = Section(
        "Forecast peak against the actual peak",
        "Kapacity's forecast for the peak window (made before it started, where one was) against the busiest "
        "interval the window actually saw, both at the forecast's resolution, in requests per second.",
        [("series", "System / service"), ("forecast_run", "Forecast run"), ("covers", "Forecast covers"),
         ("forecast_peak", "Forecast peak"), ("p99_peak", "p99 peak"), ("actual_peak", "Actual peak"),
         ("actual_at", "Actual peak at"), ("error", "Forecast error"), ("within_p99", "Within p99")])
    if not forecasts:
        section.empty = ("No stored Kapacity forecast reaches into the peak window "
                         f"({_day(season.starts_on)} to {_day(season.ends_on)}): run `kapacity run` with a horizon "
                         "that reaches it before the peak.")
        return section
    if not history.series:
        section.empty = _not_loaded(season, history)
        section.notes = _history_notes(history)
        return section
    for (system_id, service), fc in sorted(forecasts.items(), key=lambda i: (i[0][0], i[0][1] or "")):
        label = system_id if service is None else f"{system_id} / {service}"
        row = {"series": label, "forecast_run": str(fc["run_id"]), "covers": _span(fc["from"], fc["to"]),
               "forecast_peak": _rate(fc["peak"]), "p99_peak": _rate(fc["p99"])}
        actual = history.series.get((system_id, service))
        peak = actual.peak(fc["step"], fc["origin"]) if actual is not None else None
        if peak is None:
            row.update(actual_peak="not loaded", actual_at="", error="", within_p99="")
        else:
            rate, at = peak
            row.update(actual_peak=_rate(rate), actual_at=f"{_from_epoch(at):%Y-%m-%d %H:%M}",
                       error=_error(fc["peak"], rate),
                       within_p99="yes" if rate <= fc["p99"] + 1e-9 else
                       f"no: {_pct((rate - fc['p99']) / fc['p99'])} above" if fc["p99"] > 0 else "no")
        section.rows.append(row)
    section.notes = _history_notes(history)
    return section


def _history_notes(history: _History) -> list[str]:
    notes = []
    if history.short:
        notes.append(f"History that ends before the peak window (not compared): {', '.join(sorted(history.short))}.")
    notes += [f"History problem: {p}" for p in history.problems[:20]]
    return notes


# ------------------------------------------------------------------ breaking points


def _breaking_points(engine, season, systems, history: _History) -> Section:
    ends = datetime.combine(season.ends_on + timedelta(days=1), datetime.min.time())
    section = Section(
        "Breaking points against the actual peak",
        "Each system's latest breaking point measured by perftest's overload test before the end of the peak "
        "window, against the busiest interval of the window at the history's own resolution (requests per "
        "second).",
        [("system", "System"), ("breaking_point", "Breaking point"), ("measured", "Measured on"),
         ("actual_peak", "Actual peak"), ("actual_at", "Actual peak at"), ("margin", "Breaking point / actual"),
         ("verdict", "Verdict")])
    names = {s.system_id: s.name for s in systems}
    latest: dict[str, object] = {}
    for run in perftest.list_runs(engine, test_type="overload"):
        if run.system_id in names and run.breaking_point_rps is not None and run.started_at < ends:
            latest.setdefault(run.system_id, run)
    if not latest:
        section.empty = ("No breaking point was measured for the systems of this season: run perftest's overload "
                         "test (`perftest run --type overload --system SYSTEM_ID ...`).")
        return section
    for system_id, run in sorted(latest.items()):
        broke = float(run.breaking_point_rps)
        row = {"system": f"{system_id} · {names[system_id]}", "breaking_point": _rate(broke),
               "measured": f"{run.started_at:%Y-%m-%d}"}
        actual = history.series.get((system_id, None))
        peak = actual.peak() if actual is not None else None
        if peak is None:
            row.update(actual_peak="not loaded", actual_at="", margin="", verdict="")
        else:
            rate, at = peak
            row.update(actual_peak=_rate(rate), actual_at=f"{_from_epoch(at):%Y-%m-%d %H:%M}",
                       margin=f"{broke / rate:.2f}x" if rate > 0 else "",
                       verdict="held: the peak stayed below the breaking point" if rate < broke else
                       "the actual peak reached the breaking point")
        section.rows.append(row)
    if not history.series:
        section.notes.append(_not_loaded(season, history))
    return section


# ------------------------------------------------------------------ rendering


def render_markdown(report: SeasonReport) -> str:
    season = report.season
    lines = [f"# Season report: {_md(season['name'])} ({_md(season['key'])})", "",
             f"Generated {report.generated_at:%Y-%m-%d %H:%M} UTC.", ""]
    lines += ["| | |", "|---|---|"] + [f"| {_md(label)} | {_md(value)} |" for label, value in report.summary]
    for section in report.sections:
        lines += ["", f"## {_md(section.title)}", ""]
        if section.intro:
            lines += [_md(section.intro), ""]
        if section.rows:
            lines.append("| " + " | ".join(_md(h) for _, h in section.columns) + " |")
            lines.append("|" + "---|" * len(section.columns))
            lines += ["| " + " | ".join(_md(row.get(k, "")) for k, _ in section.columns) + " |"
                      for row in section.rows]
        else:
            lines.append(_md(section.empty))
        if section.notes:
            lines.append("")
            lines += [f"- {_md(note)}" for note in section.notes]
    return "\n".join(lines) + "\n"


def _md(value) -> str:
    """Table-safe Markdown text: no line breaks, pipes and HTML escaped (user text cannot inject markup)."""
    text = " ".join(str(value).split())
    return html.escape(text, quote=False).replace("|", "\\|")


_CSS = ("body{font-family:system-ui,sans-serif;margin:2rem;color:#1f2328}table{border-collapse:collapse;"
        "margin:.5rem 0 1rem}th,td{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left;"
        "vertical-align:top}th{background:#f6f8fa}.empty{color:#57606a;font-style:italic}")


def render_html(report: SeasonReport) -> str:
    season = report.season
    esc = lambda value: html.escape(str(value))  # noqa: E731
    title = f"Season report: {esc(season['name'])} ({esc(season['key'])})"
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">', f"<title>{title}</title>",
             f"<style>{_CSS}</style></head><body>", f"<h1>{title}</h1>",
             f"<p>Generated {report.generated_at:%Y-%m-%d %H:%M} UTC.</p>", "<table>"]
    parts += [f"<tr><th>{esc(label)}</th><td>{esc(value)}</td></tr>" for label, value in report.summary]
    parts.append("</table>")
    for section in report.sections:
        parts.append(f"<h2>{esc(section.title)}</h2>")
        if section.intro:
            parts.append(f"<p>{esc(section.intro)}</p>")
        if section.rows:
            parts.append("<table><thead><tr>" + "".join(f"<th>{esc(h)}</th>" for _, h in section.columns)
                         + "</tr></thead><tbody>")
            parts += ["<tr>" + "".join(f"<td>{esc(row.get(k, ''))}</td>" for k, _ in section.columns) + "</tr>"
                      for row in section.rows]
            parts.append("</tbody></table>")
        else:
            parts.append(f'<p class="empty">{esc(section.empty)}</p>')
        if section.notes:
            parts.append("<ul>" + "".join(f"<li>{esc(note)}</li>" for note in section.notes) + "</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# ------------------------------------------------------------------ small helpers


def _epoch(moment: datetime) -> int:
    return int((moment - EPOCH).total_seconds())


def _from_epoch(seconds: int) -> datetime:
    return EPOCH + timedelta(seconds=int(seconds))


def _day(day: date) -> str:
    return day.isoformat()


def _span(first: date, last: date) -> str:
    return _day(first) if first == last else f"{_day(first)} to {_day(last)}"


def _rate(value: float) -> str:
    if value is None or not math.isfinite(value):
        return ""
    return f"{value:,.0f}" if value >= 100 else f"{value:,.2f}".rstrip("0").rstrip(".")


def _pct(share: float) -> str:
    return f"{share * 100:.0f}%"


def _error(forecast: float, actual: float) -> str:
    """How far the forecast peak was from the actual one, as a share of the actual."""
    if actual <= 0:
        return ""
    share = (forecast - actual) / actual
    if abs(share) < 0.005:
        return "exact"
    return f"{_pct(abs(share))} {'over' if share > 0 else 'under'}"

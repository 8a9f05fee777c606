"""Data access for the pages: public functions of the bounded contexts, cached.

Pages import from here only. Every function takes the database URL (so the
cache key names the database) and, where results depend on it, the run id
(so a new evaluation run is picked up at once, without waiting for the TTL).
The engine is a cached resource; query results are cached data with a TTL.
Nothing here writes: writes go through the service modules' own functions,
called by the pages with the logged-in user as the actor.
"""

from __future__ import annotations

import importlib
import re
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from types import ModuleType

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

import flashsales
import kapacity
import perftest
import readiness
from app.settings import AppSettings, load_settings
from governance import audit_log, list_reviews, list_waivers
from storage import get_engine

TTL = load_settings().cache_ttl  # catalog, reviews, requests: may change at any moment
RUN_TTL = 3600  # what belongs to one complete run never changes: keep it an hour
LEVEL_ORDER = ("company", "domain", "group", "team", "system")


def settings() -> AppSettings:
    """Read from the environment each time (cheap), so a changed setting applies on the next run."""
    return load_settings()


def db_url() -> str:
    return settings().database_url


@st.cache_resource(show_spinner=False)
def engine(url: str) -> Engine:
    """One engine per database, its schema brought to the latest revision once per process."""
    return readiness.open_database(get_engine(url))


@st.cache_resource(show_spinner=False)
def ruleset() -> readiness.RuleSet:
    """The rule pack as loaded by ``readiness evaluate`` (built-in and installed packs)."""
    return readiness.load_rules()


def optional_module(name: str) -> ModuleType | None:
    """A sibling context's package, or None while it is not installed or not importable."""
    try:
        return importlib.import_module(name)
    except Exception:  # noqa: BLE001 - a half-built package must not take the dashboard down
        return None


def has_api(module: ModuleType | None, *names: str) -> bool:
    return module is not None and all(callable(getattr(module, n, None)) for n in names)


# ------------------------------------------------------------------ readiness


@st.cache_data(ttl=10, show_spinner=False)
def schema_ready(url: str) -> bool:
    return readiness.schema_ready(engine(url))


@st.cache_data(ttl=5, show_spinner=False)
def latest_run(url: str) -> int | None:
    """The newest complete run; re-read every few seconds so new runs show at once."""
    if not schema_ready(url):
        return None
    run_id = readiness.latest_run_id(engine(url))
    if run_id is not None:
        _same_database(url, run_id)
    return run_id


@st.cache_resource(show_spinner=False)
def _run_stamps() -> dict:
    return {}


def _same_database(url: str, run_id: int) -> None:
    """Run-keyed results are kept an hour; if the database behind the URL was rebuilt (the
    same run id now started at another time), forget everything cached."""
    stamp = readiness.run_started(engine(url), run_id)
    seen = _run_stamps()
    if seen.get((url, run_id), stamp) != stamp:
        seen.clear()
        st.cache_data.clear()
    seen[(url, run_id)] = stamp


@st.cache_data(ttl=RUN_TTL, show_spinner=False)
def unit_scores(url: str, run_id: int, level: str, parent: str | None = None) -> pd.DataFrame:
    """Scores of every unit at a level in a run, worst first (precomputed snapshots)."""
    rows = readiness.scores(engine(url), level, run_id=run_id, parent=parent)
    frame = pd.DataFrame(rows, columns=["level", "key", "name", "parent", "score", "points_possible",
                                        "points_outstanding", "systems", "failing_rules", "confidence",
                                        "run_id"])
    frame["automated"] = [c.get("automated", 0.0) if isinstance(c, dict) else 0.0 for c in frame["confidence"]]
    return frame.drop(columns=["confidence"])


@st.cache_data(ttl=RUN_TTL, show_spinner=False)
def company(url: str, run_id: int) -> dict | None:
    rows = readiness.scores(engine(url), "company", run_id=run_id)
    return rows[0] if rows else None


@st.cache_data(ttl=RUN_TTL, show_spinner=False)
def score_history(url: str, run_id: int, level: str = "company", key: str = "company") -> pd.DataFrame:
    """A unit's score per run, oldest first (``run_id`` only keys the cache)."""
    rows = readiness.history(engine(url), level, key)
    return pd.DataFrame(rows, columns=["run_id", "at", "score", "points_outstanding"])


@st.cache_data(ttl=TTL, show_spinner=False)
def progress(url: str, run_id: int) -> dict | None:
    return readiness.progress(engine(url))


@st.cache_data(ttl=RUN_TTL, show_spinner=False)
def previous_run(url: str, run_id: int) -> int | None:
    runs = score_history(url, run_id)["run_id"].tolist()
    earlier = [r for r in runs if r < run_id]
    return earlier[-1] if earlier else None


@st.cache_data(ttl=RUN_TTL, show_spinner=False)
def movers(url: str, run_id: int, since_run: int, limit: int = 15) -> pd.DataFrame:
    """Units whose score moved most between two runs, from the stored snapshots."""
    levels = LEVEL_ORDER[1:]
    columns = ["level", "key", "name", "score"]
    now = pd.DataFrame(readiness.score_rows(engine(url), run_id, levels)).reindex(columns=columns)
    before = pd.DataFrame(readiness.score_rows(engine(url), since_run, levels)).reindex(columns=columns)
    merged = now.merge(before[["level", "key", "score"]].rename(columns={"score": "before"}), on=["level", "key"])
    merged = merged.rename(columns={"score": "after"})
    merged["after"], merged["before"] = merged["after"].round(2), merged["before"].round(2)
    merged["delta"] = (merged["after"] - merged["before"]).round(2)
    merged = merged[merged["delta"].abs() >= 0.01]
    return (merged.assign(size=merged["delta"].abs())
            .sort_values(["size", "level", "key"], ascending=[False, True, True])
            .head(limit).drop(columns=["size"]).reset_index(drop=True))


@st.cache_data(ttl=TTL, show_spinner=False)
def systems(url: str) -> pd.DataFrame:
    """Systems in service with their team, domain, tier and traffic class."""
    return pd.DataFrame(readiness.system_catalog(engine(url)),
                        columns=["system_id", "name", "tier", "traffic_class", "public", "purchase_flow", "team",
                                 "domain"])


@st.cache_data(ttl=TTL, show_spinner=False)
def org(url: str) -> pd.DataFrame:
    """Domains, groups and teams in service with their parents."""
    rows = [{"level": u.level, "key": u.key, "name": u.name, "parent": u.parent_key,
             "parent_level": getattr(u, "parent_level", None) or {"group": "domain", "team": "group"}.get(u.level)}
            for u in readiness.org_units(engine(url))]
    return pd.DataFrame(rows, columns=["level", "key", "name", "parent", "parent_level"])


def ancestors(url: str, level: str, key: str) -> list[tuple[str, str, str]]:
    """(level, key, name) from the domain down to the unit itself."""
    units = org(url)
    index = {(r.level, r.key): r for r in units.itertuples()}
    chain = []
    current = index.get((level, key))
    while current is not None and len(chain) < 20:
        chain.append((current.level, current.key, current.name))
        current = index.get((current.parent_level, current.parent)) if current.parent else None
    return list(reversed(chain))


def teams_under(url: str, level: str, key: str) -> set[str]:
    """Keys of the teams inside a domain or group (sub-groups included), or the team itself."""
    if level == "team":
        return {key}
    units = org(url)
    children: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for r in units.itertuples():
        if r.parent:
            children[(r.parent_level, r.parent)].append((r.level, r.key))
    teams, todo, seen = set(), [(level, key)], set()
    while todo:
        unit = todo.pop()
        if unit in seen:
            continue
        seen.add(unit)
        for child in children.get(unit, []):
            if child[0] == "team":
                teams.add(child[1])
            else:
                todo.append(child)
    return teams


@st.cache_data(ttl=RUN_TTL, show_spinner=False)
def system_scores(url: str, run_id: int) -> pd.DataFrame:
    """Every system's score in a run joined with its catalog entry, worst first."""
    scored = pd.DataFrame(readiness.score_rows(engine(url), run_id, ("system",)),
                          columns=["level", "key", "name", "parent_key", "score", "points_possible",
                                   "points_outstanding", "failing_rules"])
    scored = scored.rename(columns={"key": "system_id", "parent_key": "team_key"}).drop(columns=["level"])
    scored["score"] = scored["score"].round(2)
    scored["points_outstanding"] = scored["points_outstanding"].round(2)
    catalog = systems(url)[["system_id", "tier", "traffic_class", "team", "domain", "purchase_flow"]]
    merged = scored.merge(catalog, on="system_id", how="left")
    return merged.sort_values(["score", "points_outstanding", "system_id"],
                              ascending=[True, False, True]).reset_index(drop=True)


def worst_systems(url: str, run_id: int, level: str, key: str, limit: int | None = None) -> pd.DataFrame:
    frame = system_scores(url, run_id)
    if level != "company":
        frame = frame[frame["domain"] == key] if level == "domain" else \
            frame[frame["team"].isin(teams_under(url, level, key))]
    return frame.head(limit) if limit else frame


def rule_meta(rule_id: str) -> readiness.RuleMeta | None:
    rule = ruleset().by_id().get(rule_id)
    return rule.meta if rule else None


def due_text(meta) -> str | None:
    """When a scheduled rule is due, in words ("6 weeks before the target"); None when it is not scheduled."""
    return readiness.describe_offset(meta.due) if meta.due is not None else None


@st.cache_data(ttl=TTL, show_spinner=False)
def rule_catalog() -> pd.DataFrame:
    rows = [{"rule_id": r.meta.id, "title": r.meta.title, "category": r.meta.category,
             "severity": r.meta.severity, "kind": r.meta.kind, "blocker": r.meta.blocker,
             "waivable": r.meta.waivable, "points": r.meta.points, "version": r.meta.version,
             "due": due_text(r.meta)}
            for r in ruleset().rules]
    return pd.DataFrame(rows, columns=["rule_id", "title", "category", "severity", "kind", "blocker",
                                       "waivable", "points", "version", "due"])


@st.cache_data(ttl=RUN_TTL, show_spinner=False)
def category_heatmap(url: str, run_id: int, domain: str | None = None) -> pd.DataFrame:
    """Score (share of points earned) per unit and rule category: domains, or a domain's groups.

    Computed in the database per (unit, rule) and summed here per category
    (categories are rule metadata, not stored with results).
    """
    rows = readiness.rule_points(engine(url), run_id, domain=domain)
    frame = pd.DataFrame(rows, columns=["unit", "rule_id", "possible", "earned", "results", "short"])
    categories = {r.meta.id: r.meta.category for r in ruleset().rules}
    frame["category"] = frame["rule_id"].map(categories).fillna("other")
    if domain:  # teams -> their top-level group inside the domain
        units = org(url)
        parents = {(r.level, r.key): (r.parent_level, r.parent) for r in units.itertuples()}
        def top_group(team: str) -> str:
            unit = ("team", team)
            for _ in range(50):  # climb sub-groups to the group right under the domain
                parent_level, parent = parents.get(unit, (None, None))
                if parent_level != "group" or not parent:
                    break
                unit = ("group", parent)
            return unit[1]
        frame["unit"] = frame["unit"].map(top_group)
    grouped = frame.groupby(["unit", "category"], as_index=False)[["possible", "earned", "results", "short"]].sum()
    grouped["score"] = (100 * grouped["earned"] / grouped["possible"].where(grouped["possible"] > 0)).round(1)
    grouped["outstanding"] = (grouped["possible"] - grouped["earned"]).round(1)
    names = org(url).drop_duplicates("key").set_index("key")["name"].to_dict()
    grouped["name"] = grouped["unit"].map(names).fillna(grouped["unit"])
    return grouped


@st.cache_data(ttl=RUN_TTL, show_spinner=False)
def explain(url: str, run_id: int, system_id: str) -> dict:
    return readiness.explain(engine(url), system_id, ruleset(), run_id=run_id)


@st.cache_data(ttl=RUN_TTL, show_spinner=False)
def results_of(url: str, run_id: int, system_id: str) -> pd.DataFrame:
    frame = pd.DataFrame(readiness.system_results(engine(url), run_id, system_id),
                         columns=["rule_id", "status", "credit", "weight", "earned", "counted", "message",
                                  "evidence", "basis", "rule_version"])
    catalog = rule_catalog()[["rule_id", "title", "category", "severity", "blocker"]]
    frame = frame.merge(catalog, on="rule_id", how="left")
    frame["points_lost"] = (frame["weight"] - frame["earned"]).round(2)
    return frame


@st.cache_data(ttl=RUN_TTL, show_spinner=False)
def rule_stats(url: str, run_id: int) -> pd.DataFrame:
    """Per rule: systems per status and the pass rate over results that count."""
    counts = pd.DataFrame(readiness.rule_status_counts(engine(url), run_id), columns=["rule_id", "status", "systems"])
    table = counts.pivot_table(index="rule_id", columns="status", values="systems", fill_value=0, aggfunc="sum")
    for status in readiness.Status:
        if status.value not in table.columns:
            table[status.value] = 0
    judged = table[_values(readiness.JUDGED_STATUSES)].sum(axis=1)
    met = table[_values(readiness.JUDGED_STATUSES & readiness.MET_STATUSES)].sum(axis=1)  # pass, waived
    table["applicable"] = judged
    table["pass_rate"] = (met / judged.where(judged > 0)).round(3)
    return table.reset_index()


def _values(statuses: frozenset) -> list[str]:
    """A status set as column names, in a stable order."""
    return sorted(status.value for status in statuses)


@st.cache_data(ttl=RUN_TTL, show_spinner=False)
def failing_systems(url: str, run_id: int, rule_id: str) -> pd.DataFrame:
    frame = pd.DataFrame(readiness.rule_results(engine(url), run_id, rule_id),
                         columns=["system_id", "status", "message", "points_lost", "evidence"])
    names = systems(url).set_index("system_id")["name"].to_dict()
    frame.insert(1, "name", frame["system_id"].map(names))
    return frame


@st.cache_data(ttl=TTL, show_spinner=False)
def people(url: str) -> dict[str, list[str]]:
    return {user: sorted(roles) for user, roles in readiness.people(engine(url)).items()}


def rule_doc(rule_id: str) -> str | None:
    """The generated Markdown page of a rule (``readiness rules docs``), without its comment and
    top heading (the page shows the title itself), when present."""
    for folder in (settings().docs_dir, Path(__file__).resolve().parents[1] / "docs" / "rules"):
        path = Path(folder) / f"{rule_id}.md"
        if path.is_file():
            text = re.sub(r"<!--.*?-->", "", path.read_text(encoding="utf-8"), flags=re.S).strip()
            text = re.sub(r"\A# [^\n]*\n", "", text).strip()
            return re.sub(r"^(#{1,4}) ", lambda m: "#" * (len(m.group(1)) + 2) + " ", text, flags=re.M)
    return None


# ------------------------------------------------------------------ perftest


@st.cache_data(ttl=TTL, show_spinner=False)
def perf_runs(url: str, system_id: str | None = None, limit: int = 500) -> pd.DataFrame:
    columns = ["run_id", "system_id", "test_type", "verdict", "reasons", "started_at", "target_rps", "peak_rps",
               "achieved_rps", "p95_ms", "p99_ms", "error_rate", "dropped_share", "breaking_point_rps",
               "broke_at_rps", "time_to_recovery_s", "slo", "k6_version", "script_sha256"]
    rows = perftest.list_runs(engine(url), system_id=system_id, limit=limit)
    frame = pd.DataFrame([r.as_dict() for r in rows], columns=columns)
    frame["started_at"] = pd.to_datetime(frame["started_at"])
    return frame


def today() -> date:
    return date.today()


# ------------------------------------------------------------------ governance (reviews, waivers, audit)


@st.cache_data(ttl=TTL, show_spinner=False)
def reviews(url: str, system_id: str | None = None, state: str | None = None) -> list[dict]:
    return list_reviews(engine(url), system_id=system_id, state=state)


@st.cache_data(ttl=TTL, show_spinner=False)
def waivers(url: str, system_id: str | None = None, state: str | None = None) -> list[dict]:
    return list_waivers(engine(url), system_id=system_id, state=state)


@st.cache_data(ttl=TTL, show_spinner=False)
def audit(url: str, system_id: str | None = None, limit: int = 200) -> list[dict]:
    return audit_log(engine(url), system_id=system_id, limit=limit)


def forget_governance() -> None:
    """Drop cached reviews, waivers and audit entries after a write."""
    for cached in (reviews, waivers, audit):
        cached.clear()


# ------------------------------------------------------------------ kapacity

@st.cache_data(ttl=5, show_spinner=False)
def kapacity_run(url: str) -> int | None:
    """The newest complete Kapacity run, or None (no run yet)."""
    return kapacity.latest_run_id(engine(url))


@st.cache_data(ttl=RUN_TTL, show_spinner=False)
def capacity_table(url: str, kap_run: int, services: bool = False) -> pd.DataFrame:
    """Forecast Baseline/FLAS capacity per system (and service), with week-over-week growth."""
    rows = kapacity.system_capacity(engine(url), run_id=kap_run, services=services)
    for row in rows:
        growth = row.pop("growth", None) or {}
        for period in ("wow", "mom", "yoy"):
            figures = growth.get(period) or {}
            row[f"{period}_volume"] = figures.get("volume")
            row[f"{period}_peak"] = figures.get("daily_peak")
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=["system_id", "service", "baseline_rps", "flas_rps", "peak_forecast_rps",
                                     "spike_ratio", "traffic_class", "model", "wow_volume", "wow_peak"])
    return frame


def _to_times(values: pd.Series) -> pd.Series:
    """Timestamps as written by Kapacity (naive, or with offsets) to naive UTC for charts."""
    parsed = pd.to_datetime(values, utc=True, format="ISO8601")
    return parsed.dt.tz_localize(None)


@st.cache_data(ttl=RUN_TTL, show_spinner=False)
def forecast(url: str, kap_run: int, system_id: str, service: str | None = None) -> pd.DataFrame:
    """A stored forecast in requests per second: timestamp, forecast, p90, p99."""
    frame = kapacity.forecast_points(engine(url), system_id, service, run_id=kap_run)
    if frame.empty:
        return frame
    rows = capacity_table(url, kap_run, services=service is not None)
    match = rows[(rows["system_id"] == system_id) & (rows["service"].isna() if service is None
                                                     else rows["service"] == service)]
    step = float(match.iloc[0]["resolution_seconds"]) if not match.empty else 60.0
    out = pd.DataFrame({"timestamp": _to_times(frame["timestamp"])})
    for column in frame.columns[1:]:
        out[column] = frame[column].astype(float) / step
    return out


@st.cache_data(ttl=TTL, show_spinner=False)
def traffic_history(url: str, system_id: str, service: str | None = None, days: int = 14) -> pd.DataFrame:
    """Recent history in requests per second from Kapacity's history directory, when configured."""
    import os

    folder = os.environ.get("KAPACITY_HISTORY_DIR")
    empty = pd.DataFrame(columns=["timestamp", "value"])
    if not folder or not Path(folder).is_dir():
        return empty
    try:
        history = kapacity.DirectorySource(Path(folder)).fetch(system_id, [service] if service else [])
    except Exception:  # noqa: BLE001 - a missing or broken file only hides the history line
        return empty
    series = history.services.get(service) if service else history.total
    if series is None:
        return empty
    keep = min(series.n, days * series.per_day)
    times = series.times()[-keep:]
    stamps = pd.to_datetime(times, unit="s")
    return pd.DataFrame({"timestamp": stamps, "value": series.values[-keep:] / series.step})


@st.cache_data(ttl=TTL, show_spinner=False)
def sale_events(url: str) -> pd.DataFrame:
    """Announced flash sales going ahead (approved or needing no change), for forecast charts."""
    columns = ["name", "merchant_name", "starts_at", "ends_at", "multiplier", "systems"]
    rows = [{"name": e.name, "merchant_name": e.merchant_name, "starts_at": e.starts_at.replace(tzinfo=None),
             "ends_at": e.ends_at.replace(tzinfo=None), "multiplier": e.multiplier, "systems": ",".join(e.system_ids)}
            for e in flashsales.known_events(engine(url))]
    return pd.DataFrame(rows, columns=columns)


# ------------------------------------------------------------------ flashsales

def _plain(value):
    """Dataclasses (views) to dicts, so cached results are plain data."""
    from dataclasses import asdict, is_dataclass

    return asdict(value) if is_dataclass(value) else value


@st.cache_data(ttl=TTL, show_spinner=False)
def sale_requests(url: str) -> pd.DataFrame:
    columns = ["id", "status", "merchant_id", "merchant_name", "category", "reporter", "key_account_manager",
               "solution_engineer", "countries", "starts_at", "ends_at", "utc_offset", "expected_peak_rpm",
               "expected_multiplier", "notes", "submitted_by", "submitted_at", "proposed_limit_rpm",
               "granted_limit_rpm", "reserved_rps"]
    rows = [_plain(r) for r in flashsales.list_requests(engine(url))]
    return pd.DataFrame(rows, columns=columns)


@st.cache_data(ttl=TTL, show_spinner=False)
def sale_request(url: str, request_id: int) -> dict:
    return _plain(flashsales.get_request(engine(url), request_id))


@st.cache_data(ttl=TTL, show_spinner=False)
def sale_categories(url: str) -> list[dict]:
    return flashsales.list_categories(engine(url))


@st.cache_data(ttl=TTL, show_spinner=False)
def sale_merchants(url: str) -> list[dict]:
    return flashsales.list_merchants(engine(url))


@st.cache_data(ttl=TTL, show_spinner=False)
def sale_platform(url: str) -> dict:
    return flashsales.purchase_flow_capacity(engine(url)).as_dict()


@st.cache_data(ttl=60, show_spinner=False)
def sale_overrides(url: str, at: datetime) -> list[dict]:
    """Merchant overrides in force at ``at`` (the minute), as the rate-limit export has them."""
    return [_plain(o) for o in flashsales.effective_limits(engine(url), at).overrides]


@st.cache_data(ttl=TTL, show_spinner=False)
def sale_unmanaged(url: str, at: datetime) -> dict:
    return _plain(flashsales.unmanaged_report(engine(url), at=at, settings=flashsales.load_settings()))


@st.cache_data(ttl=TTL, show_spinner=False)
def ratelimit_team(url: str) -> set[str]:
    return set(flashsales.ratelimit_team(engine(url), flashsales.load_settings()))


def forget_flashsales() -> None:
    for cached in (sale_requests, sale_request, sale_merchants, sale_platform, sale_unmanaged, sale_overrides):
        cached.clear()


# ------------------------------------------------------------------ warming


def warm(*calls: tuple) -> None:
    """Compute several cached results at once (database reads overlap), so a page that needs
    them all waits for the slowest, not the sum. Each call is ``(function, *args)``."""
    from concurrent.futures import ThreadPoolExecutor

    from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

    ctx = get_script_run_ctx()

    def run(call: tuple):
        if ctx is not None:
            add_script_run_ctx(ctx=ctx)
        function, *args = call
        return function(*args)

    with ThreadPoolExecutor(max_workers=min(4, len(calls)), thread_name_prefix="peak-warm") as pool:
        for future in [pool.submit(run, call) for call in calls]:
            future.result()


# ------------------------------------------------------------------ seasons


def forget_seasons() -> None:
    """After a season write: the season lists, progress and report are read again."""
    for cached in (seasons, season_detail, season_report, progress):
        cached.clear()


@st.cache_data(ttl=TTL, show_spinner=False)
def seasons(url: str) -> list[dict]:
    """Every season, latest peak first, with ``current`` set on the current one."""
    engine_ = engine(url)
    current = readiness.current_season(engine_)
    return [{**readiness.season_record(s), "current": current is not None and s.key == current.key}
            for s in readiness.list_seasons(engine_)]


@st.cache_data(ttl=TTL, show_spinner=False)
def season_detail(url: str, key: str) -> dict:
    """A season's progress, score per run (its burn-up), due date per scheduled rule and change history."""
    engine_ = engine(url)
    season = readiness.get_season(engine_, key)
    metas = {rule.meta.id: rule.meta for rule in ruleset().rules}
    due = readiness.due_dates(season, metas.values())
    milestones = pd.DataFrame([{"due": day, "rule_id": rule_id, "title": metas[rule_id].title,
                                "category": metas[rule_id].category} for rule_id, day in due.items()],
                              columns=["due", "rule_id", "title", "category"]).sort_values(["due", "rule_id"])
    points = pd.DataFrame(readiness.season_scores(engine_, season), columns=["run_id", "at", "score"])
    return {"progress": readiness.progress(engine_, season=key), "scores": points, "milestones": milestones,
            "history": readiness.season_history(engine_, key)}


def history_dir() -> Path | None:
    """The folder of traffic histories Kapacity reads (``KAPACITY_HISTORY_DIR``), for the season report."""
    import os

    folder = os.environ.get("KAPACITY_HISTORY_DIR")
    return Path(folder) if folder else None


@st.cache_data(ttl=TTL, show_spinner=False)
def season_report(url: str, key: str) -> dict[str, str]:
    """The season report (``readiness season report``), built once, as ``markdown`` and ``html``."""
    import operations

    report = operations.build_report(engine(url), key, histories=history_dir())
    return {"markdown": operations.render_markdown(report), "html": operations.render_html(report)}


# ------------------------------------------------------------------ changes over a period, capacity context


def now() -> datetime:
    """The moment pages draw as "now" (naive UTC, like every stored time)."""
    return pd.Timestamp.now(tz="UTC").tz_localize(None).to_pydatetime()


@st.cache_data(ttl=RUN_TTL, show_spinner=False)
def runs(url: str, run_id: int) -> pd.DataFrame:
    """Complete evaluation runs up to ``run_id``, newest first: run_id, at (``run_id`` keys the cache)."""
    rows = [{"run_id": r.id, "at": r.started_at} for r in readiness.list_runs(engine(url), limit=500)
            if r.status == "complete" and r.id <= run_id]
    return pd.DataFrame(rows, columns=["run_id", "at"])


@st.cache_data(ttl=RUN_TTL, show_spinner=False)
def result_changes(url: str, since_run: int, run_id: int) -> dict:
    """Results that changed between two runs, each with its cause (team, data, rule, time)."""
    return readiness.result_changes(engine(url), since_run, run_id)


def season(url: str) -> dict | None:
    """The current season as plain data (None when there is none): read from ``seasons``, so a
    season write on the Season page (``forget_seasons``) reaches the Capacity page at once."""
    current = next((s for s in seasons(url) if s["current"]), None)
    return {key: value for key, value in current.items() if key != "current"} if current else None


@st.cache_data(ttl=RUN_TTL, show_spinner=False)
def peak_projection(url: str, kap_run: int, system_id: str, service: str | None = None) -> dict | None:
    """Kapacity's peak projection of a series when stored: from the run's capacity rows, else
    (the system total) from Kapacity's facts as the last readiness evaluation collected them.
    The dict has at least ``peak_rps`` and ``window`` (``starts_on``, ``ends_on``) when
    projected, or ``missing`` (why there is none)."""
    rows = capacity_table(url, kap_run, services=service is not None)
    if "projection" in rows.columns:
        match = rows[(rows["system_id"] == system_id) & (rows["service"].isna() if service is None
                                                         else rows["service"] == service)]
        if not match.empty and isinstance(match.iloc[0]["projection"], dict):
            return match.iloc[0]["projection"]
    if service is not None:
        return None
    stored = readiness.latest_facts(engine(url), [system_id]).get(system_id, {}).get("kapacity")
    facts = stored.data if stored is not None else {}
    if facts.get("basis") == "peak projection" and isinstance(facts.get("projection"), dict):
        return {**facts["projection"], "baseline_rps": facts.get("baseline_rps"), "flas_rps": facts.get("flas_rps"),
                "window": {"starts_on": facts.get("forecast_from"), "ends_on": facts.get("forecast_to")}}
    if facts.get("projection_missing"):
        return {"missing": facts["projection_missing"]}
    return None


@st.cache_data(ttl=TTL, show_spinner=False)
def breaking_point(url: str, system_id: str) -> dict | None:
    """The newest breaking point perftest measured for a system: rps, at, run_id, test_type."""
    frame = perf_runs(url, system_id)
    frame = frame[pd.to_numeric(frame["breaking_point_rps"], errors="coerce").notna()]
    if frame.empty:
        return None
    row = frame.sort_values("started_at").iloc[-1]
    return {"rps": float(row["breaking_point_rps"]), "at": row["started_at"], "run_id": int(row["run_id"]),
            "test_type": row["test_type"]}

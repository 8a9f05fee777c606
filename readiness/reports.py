"""Read models over stored runs: scores per level, explanations, changes, progress.

Everything here reads stored runs and snapshots, never re-evaluates, so any
number shown can be traced to the run (rule versions, fact hashes) behind it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.engine import Engine

from readiness.catalog import active_systems
from readiness.errors import NotFound
from readiness.models import (
    EvaluationRun,
    Group,
    RuleResult,
    RuleSummary,
    ScoreSnapshot,
    Season,
    System,
    Team,
    holds_for,
    of_run,
)
from readiness.quickreads import LEVELS, scores  # noqa: F401  scores: one read for the CLI and the app
from readiness.rulebook import RuleSet
from readiness.scoring import TIER_WEIGHTS
from readiness.seasons import current_season, get_season, in_scope
from storage import session_scope


def latest_run_id(engine: Engine) -> int | None:
    with session_scope(engine) as session:
        return session.execute(select(func.max(EvaluationRun.id)).where(
            EvaluationRun.status == "complete")).scalar()


def _run_or_latest(engine: Engine, run_id: int | None) -> int:
    run_id = run_id or latest_run_id(engine)
    if run_id is None:
        raise NotFound("no evaluation run yet: run `readiness evaluate` (or `readiness demo`)")
    return run_id


def get_run(engine: Engine, run_id: int | None = None) -> EvaluationRun:
    run_id = _run_or_latest(engine, run_id)
    with session_scope(engine) as session:
        run = session.get(EvaluationRun, run_id)
        if run is None:
            raise NotFound(f"no run {run_id}")
        return run


def run_current_at(engine: Engine, moment: datetime) -> EvaluationRun | None:
    """The latest complete run that started at or before ``moment`` (the one a reader saw then)."""
    with session_scope(engine) as session:
        return session.execute(select(EvaluationRun).where(
            EvaluationRun.status == "complete", EvaluationRun.started_at <= moment)
            .order_by(EvaluationRun.started_at.desc(), EvaluationRun.id.desc()).limit(1)).scalar()


def list_runs(engine: Engine, limit: int = 50) -> list[EvaluationRun]:
    with session_scope(engine) as session:
        return list(session.exec(select(EvaluationRun).order_by(EvaluationRun.id.desc()).limit(limit)).scalars())


def results(engine: Engine, *, run_id: int | None = None, system_id: str | None = None,
            statuses: tuple[str, ...] = ()) -> list[RuleResult]:
    run_id = _run_or_latest(engine, run_id)
    with session_scope(engine) as session:
        query = of_run(select(RuleResult), run_id)
        if system_id:
            query = query.where(RuleResult.system_id == system_id)
        if statuses:
            query = query.where(RuleResult.status.in_(statuses))
        return list(session.exec(query.order_by(RuleResult.system_id, RuleResult.rule_id)).scalars())


@dataclass
class Finding:
    rule_id: str
    title: str
    category: str
    severity: str
    status: str
    points_lost: float
    message: str
    evidence: list[dict]
    remediation: str
    link: str
    blocker: bool
    stale: list[dict]  # for a result judged on old facts: source, last seen, stale since, how to refresh


def explain(engine: Engine, system_id: str, ruleset: RuleSet, *, run_id: int | None = None) -> dict:
    """What a system scored, and for every rule not fully met: why and how to fix it."""
    run_id = _run_or_latest(engine, run_id)
    with session_scope(engine) as session:
        system = session.get(System, system_id)
        if system is None:
            raise NotFound(f"unknown system {system_id!r}")
        snapshot = session.exec(select(ScoreSnapshot).where(
            holds_for(ScoreSnapshot, run_id), ScoreSnapshot.level == "system",
            ScoreSnapshot.key == system_id)).scalar_one_or_none()
    rules = ruleset.by_id()
    findings = []
    counts: dict[str, int] = {}
    for result in results(engine, run_id=run_id, system_id=system_id):
        counts[result.status] = counts.get(result.status, 0) + 1
        if result.status in ("pass", "not_applicable") or (result.status == "waived"):
            continue
        meta = rules[result.rule_id].meta if result.rule_id in rules else None
        findings.append(Finding(
            rule_id=result.rule_id, title=meta.title if meta else result.rule_id,
            category=meta.category if meta else "?", severity=meta.severity if meta else "?",
            status=result.status, points_lost=round(result.weight - result.earned, 2),
            message=result.message, evidence=result.evidence,
            remediation=meta.remediation if meta else "fix the rule module (see message)",
            link=meta.link if meta else "", blocker=bool(meta and meta.blocker),
            stale=[item for item in result.evidence if "stale_since" in item]))
    findings.sort(key=lambda f: (not f.blocker, -f.points_lost, f.rule_id))
    return {"system_id": system_id, "name": system.name, "tier": system.tier,
            "traffic_class": system.traffic_class, "retired": system.retired, "run_id": run_id,
            "score": round(snapshot.score, 2) if snapshot else None,
            "points_outstanding": round(snapshot.points_outstanding, 2) if snapshot else None,
            "status_counts": counts, "findings": [asdict(f) for f in findings]}


def changes(engine: Engine, since_run: int, *, run_id: int | None = None) -> dict:
    """Results and scores that changed between two runs."""
    run_id = _run_or_latest(engine, run_id)
    before = {(r.system_id, r.rule_id): r.status for r in results(engine, run_id=since_run)}
    after = {(r.system_id, r.rule_id): r.status for r in results(engine, run_id=run_id)}
    changed = [{"system_id": s, "rule_id": r, "before": before.get((s, r)), "after": after.get((s, r))}
               for (s, r) in sorted(before.keys() | after.keys()) if before.get((s, r)) != after.get((s, r))]
    movers = []
    old_scores = {(u["level"], u["key"]): u["score"] for level in LEVELS[:-1]
                  for u in scores(engine, level, run_id=since_run)}
    for level in LEVELS[:-1]:
        for unit in scores(engine, level, run_id=run_id):
            old = old_scores.get((level, unit["key"]))
            if old is not None and abs(unit["score"] - old) >= 0.01:
                movers.append({"level": level, "key": unit["key"], "name": unit["name"],
                               "before": old, "after": unit["score"], "delta": round(unit["score"] - old, 2)})
    movers.sort(key=lambda m: -abs(m["delta"]))
    return {"from_run": since_run, "to_run": run_id, "results_changed": changed, "movers": movers}


def history(engine: Engine, level: str = "company", key: str = "company", limit: int = 200) -> list[dict]:
    """Score of one unit across runs, oldest first."""
    with session_scope(engine) as session:
        rows = session.execute(
            select(EvaluationRun.id, EvaluationRun.started_at, ScoreSnapshot.score, ScoreSnapshot.points_outstanding)
            .join(ScoreSnapshot, holds_for(ScoreSnapshot, EvaluationRun.id))
            .where(ScoreSnapshot.level == level, ScoreSnapshot.key == key, EvaluationRun.status == "complete")
            .order_by(EvaluationRun.id.desc()).limit(limit)).all()
    return [{"run_id": r[0], "at": r[1], "score": round(r[2], 2), "points_outstanding": round(r[3], 2)}
            for r in reversed(rows)]


def upsert_peak_event(engine: Engine, *, key: str, name: str, starts_on: date, ends_on: date,
                      target_date: date, target_score: float = 100.0) -> None:
    """Store a season as-is, without a role check (for fixtures); users go through ``readiness.seasons``."""
    with session_scope(engine) as session:
        season = session.get(Season, key) or Season(key=key, name=name, starts_on=starts_on, ends_on=ends_on,
                                                    target_date=target_date)
        season.name, season.starts_on, season.ends_on = name, starts_on, ends_on
        season.target_date, season.target_score = target_date, target_score
        session.add(season)


current_peak_event = current_season  # the name governance, metrics and digests know it by


def progress(engine: Engine, *, season: str | None = None, today: date | None = None,
             window_days: int = 28) -> dict | None:
    """A season's score against its target, with a projected date of reaching it.

    The season is ``season`` (a key) or the current one; its score per run is the
    criticality-weighted mean of the systems in its scope (the company score when
    the scope is everything), over the runs evaluated under it. The projection is
    a least-squares line through the runs of the last ``window_days``; no date
    when the trend is flat or down. None when there is no season or no run yet.
    """
    event = get_season(engine, season) if season else current_season(engine, today)
    points = season_scores(engine, event) if event is not None else []
    if event is None or not points:
        return None
    today = today or points[-1]["at"].date()
    recent = [p for p in points if p["at"] >= points[-1]["at"] - timedelta(days=window_days)]
    projected = _projected_date(recent, event.target_score)
    latest = points[-1]["score"]
    return {"season": event.key, "event": event.name, "target_date": event.target_date.isoformat(),
            "target_score": event.target_score, "scope": dict(event.scope or {}), "runs": len(points),
            "score": latest, "gap": round(max(0.0, event.target_score - latest), 2),
            "days_left": (event.target_date - today).days,
            "projected_date": projected.isoformat() if projected else None,
            "on_track": bool(latest >= event.target_score or (projected and projected <= event.target_date))}


def season_scores(engine: Engine, season: Season, limit: int = 500) -> list[dict]:
    """The season's score per run evaluated under it, oldest first: the company score when its
    scope is everything, else the criticality-weighted mean of the systems in scope."""
    if not any((season.scope or {}).values()):
        runs = _season_runs(engine, season.key)
        return [p for p in history(engine, limit=limit) if p["run_id"] in runs]
    weights = {s.system_id: TIER_WEIGHTS[s.tier] for s in active_systems(engine) if in_scope(season, s)}
    runs = _season_runs(engine, season.key)
    snap, run = ScoreSnapshot.__table__.c, EvaluationRun.__table__.c
    query = (select(run.id, snap.key, snap.score)
             .select_from(EvaluationRun.__table__.join(ScoreSnapshot.__table__, holds_for(snap, run.id)))
             .where(snap.level == "system", run.id.in_(list(runs)), snap.key.in_(list(weights))))
    totals: dict[int, list[float]] = {}
    with engine.connect() as connection:
        for run_id, system_id, score in connection.execute(query):
            cell = totals.setdefault(run_id, [0.0, 0.0])
            cell[0] += weights[system_id] * score
            cell[1] += weights[system_id]
    return [{"run_id": run_id, "at": runs[run_id], "score": round(total / weight, 2)}
            for run_id, (total, weight) in sorted(totals.items()) if weight]


def _season_runs(engine: Engine, key: str) -> dict[int, datetime]:
    run = EvaluationRun.__table__.c
    with engine.connect() as connection:
        return dict(connection.execute(select(run.id, run.started_at).where(
            run.peak_event == key, run.status == "complete").order_by(run.id)).all())


def _projected_date(points: list[dict], target: float) -> date | None:
    if points and points[-1]["score"] >= target:
        return points[-1]["at"].date()
    if len(points) < 2:
        return None
    t0 = points[0]["at"]
    xs = [(p["at"] - t0).total_seconds() / 86400 for p in points]
    ys = [p["score"] for p in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mean_x) ** 2 for x in xs)
    if var == 0:
        return None
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / var
    if slope <= 1e-9:
        return None
    intercept = mean_y - slope * mean_x
    days = (target - intercept) / slope
    return (t0 + timedelta(days=days)).date() if days < 3650 else None


SUMMARY_FIELDS = ("domain", "rule_id", "status", "counted", "results", "possible", "earned", "short")


def rule_summary(engine: Engine, run_id: int | None = None) -> list[dict]:
    """Results of a run per domain, rule and status, with their points (latest run by default).

    Rows: ``{"domain", "rule_id", "status", "counted", "results", "possible", "earned", "short"}``;
    ``short`` counts counted results that earned less than their weight. Written
    at evaluation; runs stored before that table existed are summed from their results.
    """
    run_id = _run_or_latest(engine, run_id)
    summary = RuleSummary.__table__.c
    stored = (select(summary.domain_key, summary.rule_id, summary.status, summary.counted, summary.results,
                     summary.points_possible, summary.points_earned, summary.short)
              .where(summary.run_id == run_id).order_by(summary.domain_key, summary.rule_id, summary.status))
    with engine.connect() as connection:
        rows = connection.execute(stored).all() or connection.execute(_summary_from_results(run_id)).all()
    return [dict(zip(SUMMARY_FIELDS, row, strict=True)) for row in rows]


def _summary_from_results(run_id: int):
    result = RuleResult.__table__.c
    return (select(Group.domain_key, result.rule_id, result.status, result.counted, func.count(),
                   func.sum(result.weight), func.sum(result.earned),
                   func.sum(case(((result.counted == True) & (result.earned < result.weight), 1),  # noqa: E712
                                 else_=0)))
            .join(System, System.system_id == result.system_id)
            .join(Team, Team.key == System.team_key)
            .join(Group, Group.key == Team.group_key)
            .where(result.run_id == run_id)
            .group_by(Group.domain_key, result.rule_id, result.status, result.counted)
            .order_by(Group.domain_key, result.rule_id, result.status))

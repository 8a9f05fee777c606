"""Read k6's results and judge them.

Two sources: the ``handleSummary`` JSON (cumulative figures and threshold
outcomes, exactly what k6 judged) and the compressed ``--out json`` stream
(one ``http_req_duration`` point per request, stamped with the request's end
time and tagged with the profile phase it started in), from which the
windowed figures come: per phase, per second, and the breaking point.
"""

from __future__ import annotations

import gzip
import json
import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from perftest.spec import SLO, SPIKE_MAX_RAMP_S, TestSpec


@dataclass
class Summary:
    """Cumulative figures for a run, from handleSummary."""

    requests: int
    achieved_rps: float
    error_rate: float
    p50_ms: float | None
    p90_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    avg_ms: float | None
    iterations: int
    dropped_iterations: int
    test_run_duration_s: float
    thresholds: dict[str, bool]

    @property
    def dropped_share(self) -> float:
        planned = self.iterations + self.dropped_iterations
        return self.dropped_iterations / planned if planned else 0.0

    def as_dict(self) -> dict:
        return asdict(self) | {"dropped_share": round(self.dropped_share, 6)}


def parse_summary(path: Path) -> Summary:
    data = json.loads(Path(path).read_text())
    metrics = data.get("metrics", {})
    duration_ms = float(data.get("state", {}).get("testRunDurationMs") or 0.0)

    def values(name: str) -> dict:
        return metrics.get(name, {}).get("values", {})

    latency = values("http_req_duration")
    reqs = values("http_reqs")
    failed = values("http_req_failed")
    thresholds: dict[str, bool] = {}
    for name, metric in metrics.items():
        for expr, outcome in (metric.get("thresholds") or {}).items():
            thresholds[f"{name}:{expr}"] = bool(outcome.get("ok"))
    return Summary(
        requests=int(reqs.get("count", 0)),
        achieved_rps=float(reqs.get("rate", 0.0)),
        error_rate=float(failed.get("rate", 0.0)),
        p50_ms=latency.get("med"),
        p90_ms=latency.get("p(90)"),
        p95_ms=latency.get("p(95)"),
        p99_ms=latency.get("p(99)"),
        max_ms=latency.get("max"),
        avg_ms=latency.get("avg"),
        iterations=int(values("iterations").get("count", 0)),
        dropped_iterations=int(values("dropped_iterations").get("count", 0)),
        test_run_duration_s=duration_ms / 1000,
        thresholds=thresholds,
    )


@dataclass
class Requests:
    """Per-request samples from ``--out json``: times in seconds since the first request."""

    origin: float | None  # epoch seconds of the first request start
    start_s: np.ndarray
    end_s: np.ndarray
    duration_ms: np.ndarray
    ok: np.ndarray
    phase: list[str]
    dropped_s: np.ndarray

    def __len__(self) -> int:
        return len(self.start_s)


def _parse_time(text: str) -> datetime:
    # RFC 3339 with nanoseconds; Python takes microseconds.
    head, _, rest = text.partition(".")
    frac = ""
    tz = "+00:00"
    if rest:
        digits = "".join(ch for ch in rest if ch.isdigit())
        frac = "." + digits[:6]
        suffix = rest[len(digits):]
        tz = "+00:00" if suffix in ("Z", "") else suffix
    elif head.endswith("Z"):
        head = head[:-1]
    return datetime.fromisoformat(head + frac + tz)


def parse_points(path: Path) -> Requests:
    """Stream the (gzip) JSON lines output; keep one record per request and each drop."""
    ends: list[float] = []
    durs: list[float] = []
    oks: list[bool] = []
    phases: list[str] = []
    drops: list[float] = []
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as handle:
        for line in handle:
            if '"Point"' not in line:
                continue
            if '"http_req_duration"' in line:
                point = json.loads(line)
                data = point["data"]
                tags = data.get("tags") or {}
                ends.append(_parse_time(data["time"]).timestamp())
                durs.append(float(data["value"]))
                oks.append(tags.get("expected_response") == "true")
                phases.append(tags.get("phase", ""))
            elif '"dropped_iterations"' in line:
                point = json.loads(line)
                drops.append(_parse_time(point["data"]["time"]).timestamp())
    end = np.asarray(ends, dtype=float)
    dur = np.asarray(durs, dtype=float)
    start = end - dur / 1000.0
    origin = float(start.min()) if len(start) else (min(drops) if drops else 0.0)
    return Requests(
        origin=origin if (len(start) or drops) else None,
        start_s=start - origin,
        end_s=end - origin,
        duration_ms=dur,
        ok=np.asarray(oks, dtype=bool),
        phase=phases,
        dropped_s=np.asarray(drops, dtype=float) - origin,
    )


@dataclass
class Window:
    """Figures for one stretch of a run (a profile phase or a fixed time window)."""

    label: str
    start_s: float
    end_s: float
    target_rps: float | None
    requests: int
    achieved_rps: float
    error_rate: float
    p95_ms: float | None
    p99_ms: float | None
    dropped: int
    within_slo: bool
    breaches: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def _pct(values: np.ndarray, q: float) -> float | None:
    if len(values) == 0:
        return None
    return float(np.percentile(values, q, method="linear"))


def judge_window(
    label: str,
    start_s: float,
    end_s: float,
    mask: np.ndarray,
    reqs: Requests,
    slo: SLO,
    *,
    target_rps: float | None,
    dropped: int,
    min_rate_share: float = 0.9,
) -> Window:
    durations = reqs.duration_ms[mask]
    n = int(mask.sum())
    span = max(end_s - start_s, 1e-9)
    errors = float((~reqs.ok[mask]).mean()) if n else 0.0
    p95, p99 = _pct(durations, 95), _pct(durations, 99)
    breaches: list[str] = []
    if n == 0:
        breaches.append("no requests completed")
    if p95 is not None and p95 > slo.p95_ms:
        breaches.append(f"p95 {p95:.0f} ms > {slo.p95_ms:g} ms")
    if p99 is not None and p99 > slo.p99_ms:
        breaches.append(f"p99 {p99:.0f} ms > {slo.p99_ms:g} ms")
    if errors > slo.error_rate:
        breaches.append(f"error rate {errors:.3f} > {slo.error_rate:g}")
    if target_rps and (n + dropped) and n < min_rate_share * (n + dropped):
        breaches.append(f"{dropped} iterations dropped (requests took too long to start new ones)")
    return Window(
        label=label,
        start_s=round(start_s, 3),
        end_s=round(end_s, 3),
        target_rps=target_rps,
        requests=n,
        achieved_rps=round(n / span, 3),
        error_rate=round(errors, 6),
        p95_ms=None if p95 is None else round(p95, 3),
        p99_ms=None if p99 is None else round(p99, 3),
        dropped=dropped,
        within_slo=not breaches,
        breaches=breaches,
    )


def phase_windows(spec: TestSpec, reqs: Requests) -> list[Window]:
    """One window per profile phase (requests grouped by their ``phase`` tag)."""
    by_phase: dict[str, list[int]] = defaultdict(list)
    for i, name in enumerate(reqs.phase):
        by_phase[name].append(i)
    windows = []
    for p in spec.profile():
        mask = np.zeros(len(reqs), dtype=bool)
        mask[by_phase.get(p.name, [])] = True
        dropped = int(((reqs.dropped_s >= p.start_s) & (reqs.dropped_s < p.end_s)).sum())
        target = (p.from_rps + p.to_rps) / 2
        windows.append(
            judge_window(p.name, p.start_s, p.end_s, mask, reqs, spec.slo, target_rps=target, dropped=dropped)
        )
    return windows


def time_windows(spec: TestSpec, reqs: Requests, width_s: float = 1.0) -> list[Window]:
    """Fixed windows by request start time (for the spike ramp and the failover timeline)."""
    if len(reqs) == 0:
        return []
    total = max(spec.planned_duration_s(), float(reqs.start_s.max()) + 1e-6)
    count = int(math.ceil(total / width_s))
    out = []
    for k in range(count):
        lo, hi = k * width_s, (k + 1) * width_s
        mask = (reqs.start_s >= lo) & (reqs.start_s < hi)
        dropped = int(((reqs.dropped_s >= lo) & (reqs.dropped_s < hi)).sum())
        out.append(
            judge_window(f"t{k}", lo, hi, mask, reqs, spec.slo, target_rps=_target_at(spec, lo + width_s / 2), dropped=dropped)
        )
    return out


def _target_at(spec: TestSpec, t: float) -> float | None:
    for p in spec.profile():
        if p.start_s <= t < p.end_s:
            frac = (t - p.start_s) / p.duration_s if p.duration_s else 0
            return p.from_rps + (p.to_rps - p.from_rps) * frac
    return None


@dataclass
class BreakingPoint:
    sustained_rps: float | None
    broke_at_rps: float | None
    reason: str

    def as_dict(self) -> dict:
        return asdict(self)


def breaking_point(windows: list[Window]) -> BreakingPoint:
    """Highest step rate sustained within SLO before the service broke for good.

    The break is the first breaching step that the next step confirms (it
    breaches too, or it is the last step): a saturated service stays broken
    as load rises, while a lone bad step followed by a good one is a blip
    (a GC pause, a noisy neighbour) and does not end the ramp.
    """
    sustained: float | None = None
    for i, w in enumerate(windows):
        if not w.within_slo:
            following = windows[i + 1] if i + 1 < len(windows) else None
            if following is None or not following.within_slo:
                return BreakingPoint(
                    sustained_rps=sustained,
                    broke_at_rps=w.target_rps,
                    reason=f"at {w.target_rps:g} rps: " + "; ".join(w.breaches),
                )
            continue
        sustained = w.target_rps
    top = windows[-1].target_rps if windows else None
    return BreakingPoint(
        sustained_rps=sustained,
        broke_at_rps=None,
        reason=f"did not break up to {top:g} rps" if top else "no steps ran",
    )


def peak_reached_after_s(spec: TestSpec, windows: list[Window], share: float = 0.95) -> float | None:
    """Seconds from the start of the spike ramp until the FLAS rate was being started."""
    ramp = next(p for p in spec.profile() if p.name == "ramp_up")
    peak = next(p for p in spec.profile() if p.name == "peak")
    for w in windows:
        if w.start_s >= ramp.start_s and w.end_s <= peak.end_s and w.requests + w.dropped >= share * peak.to_rps * (w.end_s - w.start_s):
            # Iterations started (completed or dropped) reached the FLAS rate in this window.
            return round(w.end_s - ramp.start_s, 3)
    return None


@dataclass
class FailoverResult:
    trigger_s: float
    disrupted: bool
    first_bad_s: float | None
    recovered_s: float | None
    time_to_recovery_s: float | None
    failed_requests: int
    requests_during: int
    p95_during_ms: float | None
    p99_during_ms: float | None
    max_during_ms: float | None
    recovered: bool

    def as_dict(self) -> dict:
        return asdict(self)


def failover_analysis(reqs: Requests, *, trigger_s: float, slo: SLO, settle_s: float) -> FailoverResult:
    """Time to recovery: from the trigger until requests succeed within SLO again, for good.

    A request is bad if it failed or took longer than the p99 SLO. Recovery is
    the start of the first good request after the last bad one, provided at
    least ``settle_s`` of clean traffic followed (else the run ended unrecovered).
    """
    after = reqs.start_s >= trigger_s
    bad = (~reqs.ok) | (reqs.duration_ms > slo.p99_ms)
    idx_after = np.flatnonzero(after)
    bad_after = np.flatnonzero(after & bad)
    last_start = float(reqs.start_s.max()) if len(reqs) else trigger_s
    if len(bad_after) == 0:
        return FailoverResult(
            trigger_s=round(trigger_s, 3), disrupted=False, first_bad_s=None, recovered_s=round(trigger_s, 3),
            time_to_recovery_s=0.0, failed_requests=0, requests_during=0, p95_during_ms=None,
            p99_during_ms=None, max_during_ms=None, recovered=True,
        )
    first_bad = float(reqs.start_s[bad_after].min())
    last_bad = float(reqs.start_s[bad_after].max())
    good_later = idx_after[(reqs.start_s[idx_after] > last_bad) & ~bad[idx_after]]
    recovered_s = float(reqs.start_s[good_later].min()) if len(good_later) else None
    recovered = recovered_s is not None and last_start - recovered_s >= settle_s - 1e-9
    window_end = recovered_s if recovered_s is not None else last_start + 1e-9
    during = after & (reqs.start_s < window_end)
    d = reqs.duration_ms[during]
    return FailoverResult(
        trigger_s=round(trigger_s, 3),
        disrupted=True,
        first_bad_s=round(first_bad, 3),
        recovered_s=None if recovered_s is None else round(recovered_s, 3),
        time_to_recovery_s=round(recovered_s - trigger_s, 3) if recovered else None,
        failed_requests=int((~reqs.ok[during]).sum()),
        requests_during=int(during.sum()),
        p95_during_ms=_round(_pct(d, 95)),
        p99_during_ms=_round(_pct(d, 99)),
        max_during_ms=_round(float(d.max()) if len(d) else None),
        recovered=recovered,
    )


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 3)


__all__ = [
    "BreakingPoint",
    "FailoverResult",
    "Requests",
    "SPIKE_MAX_RAMP_S",
    "Summary",
    "Window",
    "breaking_point",
    "failover_analysis",
    "parse_points",
    "parse_summary",
    "peak_reached_after_s",
    "phase_windows",
    "time_windows",
]

"""Test plans: one YAML file per system, kept by its owners in their repository.

A plan names the system, its endpoints, SLOs, target rates (or takes them
from Kapacity), a safety factor and per-test settings. Which tests are
required follows the traffic class: FLAS systems need load, spike and
overload; Baseline systems load and overload; a plan that configures
``tests.failover`` (databases and their clients) also requires failover.
See docs/perftest.md for the format.

Validation reports every problem at once, each naming the file, line and
field, and what would be accepted.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

import kapacity
import readiness
from perftest.errors import PlanError
from perftest.spec import (
    SLO,
    SPIKE_MAX_RAMP_S,
    Endpoint,
    FailoverSettings,
    OverloadSettings,
    SpikeSettings,
    TestSpec,
    TestType,
)
from storage import YamlError, load_document, out_of_bounds, read_text

REQUIRED_BY_CLASS: dict[str, tuple[TestType, ...]] = {
    "FLAS": (TestType.LOAD, TestType.SPIKE, TestType.OVERLOAD),
    "Baseline": (TestType.LOAD, TestType.OVERLOAD),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TargetsIn(_Strict):
    baseline_rps: float = Field(gt=0, description="Baseline capacity: regular traffic at its forecast peak")
    flas_rps: float | None = Field(None, gt=0, description="FLAS capacity: flash-sale surge rate")


class LoadIn(_Strict):
    duration_s: float = Field(300.0, gt=0)


class SpikeIn(_Strict):
    warmup_s: float = Field(30.0, ge=1)
    ramp_s: float = Field(60.0, gt=0, le=SPIKE_MAX_RAMP_S)
    hold_s: float = Field(120.0, gt=0)
    cooldown_s: float = Field(30.0, ge=0)


class FailoverIn(_Strict):
    command: str = Field(min_length=1)
    duration_s: float = Field(120.0, gt=0)
    trigger_after_s: float = Field(30.0, ge=1)
    command_timeout_s: float = Field(120.0, gt=0)
    max_recovery_s: float = Field(30.0, gt=0)
    max_errors: int | None = Field(None, ge=0)
    settle_s: float = Field(2.0, gt=0)

    @model_validator(mode="after")
    def _order(self) -> FailoverIn:
        if self.trigger_after_s >= self.duration_s:
            raise ValueError("trigger_after_s must be shorter than duration_s")
        return self


class TestsIn(_Strict):
    required: list[TestType] | None = None
    load: LoadIn = Field(default_factory=LoadIn)
    spike: SpikeIn = Field(default_factory=SpikeIn)
    overload: OverloadSettings = Field(default_factory=OverloadSettings)
    failover: FailoverIn | None = None


class PlanIn(_Strict):
    version: Literal[1] = 1
    system: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
    traffic_class: Literal["FLAS", "Baseline"] | None = None
    safety_factor: float = Field(1.2, ge=1.0, le=10.0)
    slo: SLO = Field(default_factory=SLO)
    targets: TargetsIn | None = None
    endpoints: list[Endpoint] = Field(min_length=1)
    script: str | None = Field(None, description="k6 module (relative to the plan) whose default export is one iteration")
    tests: TestsIn = Field(default_factory=TestsIn)

    @model_validator(mode="after")
    def _checks(self) -> PlanIn:
        names = [e.name for e in self.endpoints]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"endpoint names must be unique; repeated: {', '.join(dupes)}")
        required = self.tests.required or []
        if TestType.FAILOVER in required and self.tests.failover is None:
            raise ValueError("tests.required lists failover but tests.failover is not configured")
        return self


@dataclass(frozen=True)
class Targets:
    baseline_rps: float
    flas_rps: float | None
    source: str  # "plan" or "kapacity:<reference>"


@dataclass(frozen=True)
class Plan:
    path: Path
    sha256: str
    doc: PlanIn

    @property
    def system_id(self) -> str:
        return self.doc.system

    def traffic_class(self, catalog_class: str | None = None) -> str:
        return self.doc.traffic_class or catalog_class or "Baseline"

    def required_tests(self, catalog_class: str | None = None) -> list[TestType]:
        if self.doc.tests.required:
            return list(dict.fromkeys(self.doc.tests.required))
        tests = list(REQUIRED_BY_CLASS[self.traffic_class(catalog_class)])
        if self.doc.tests.failover is not None:
            tests.append(TestType.FAILOVER)
        return tests


def load_plan(path: Path | str) -> Plan:
    """Read and validate a plan; raise :class:`PlanError` listing every problem."""
    path = Path(path)
    try:
        text = read_text(path)
        document = load_document(text, origin=str(path))
    except OSError as exc:
        raise PlanError(str(path), [("file", f"cannot be read ({exc.strerror or exc})")]) from exc
    except YamlError as exc:  # invalid, not UTF-8, or beyond the limits (an alias bomb)
        place = f"line {exc.line}" if exc.line else "file"
        problem = exc.problem.replace("invalid YAML:", "is not valid YAML:", 1)
        raise PlanError(str(path), [(place, problem)]) from exc
    raw, root = document.data, document.node
    if not isinstance(raw, dict):
        raise PlanError(str(path), [("file", "must be a YAML mapping with system, endpoints, slo, ...")])
    out_of_range = out_of_bounds(raw)
    if out_of_range:
        raise PlanError(str(path), [(_place(root, field), problem) for field, problem in out_of_range])
    try:
        doc = PlanIn.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-after"))]
            field = ".".join(str(p) for p in loc) or "plan"
            line = _line_of(root, loc)
            place = f"line {line}: {field}" if line else field
            problems.append((place, _message(err)))
        raise PlanError(str(path), problems) from exc
    if doc.script is not None and not (path.parent / doc.script).is_file():
        raise PlanError(str(path), [(f"line {_line_of(root, ['script'])}: script", f"{doc.script} not found beside the plan")])
    return Plan(path=path, sha256=hashlib.sha256(text.encode()).hexdigest(), doc=doc)


def _place(root: yaml.Node | None, field: str) -> str:
    """``line N: a.b[2]`` for a dotted field path from :func:`storage.out_of_bounds`."""
    loc = [int(part) if part.isdigit() else part for part in re.split(r"\.|\[|\]\.?", field) if part]
    line = _line_of(root, loc)
    return f"line {line}: {field}" if line else field


def _message(err: dict) -> str:
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        return "unknown field (check the spelling; see docs/perftest.md for the plan format)"
    if err["type"] == "missing":
        return "is required"
    if "input" in err and err["type"] != "value_error" and not isinstance(err["input"], dict | list):
        return f"{msg} (got {err['input']!r})"
    return msg


def _line_of(node: Any, loc: list) -> int | None:
    """1-based line of the YAML node at ``loc`` (or of its nearest existing parent)."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == str(key):
                    child = v if not isinstance(v, yaml.ScalarNode) else v
                    line = k.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            child = node.value[key]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


def resolve_targets(plan: Plan, engine=None) -> Targets:
    """Target rates: from the plan if it sets them, else from Kapacity's capacity for the system."""
    if plan.doc.targets is not None:
        t = plan.doc.targets
        return Targets(t.baseline_rps, t.flas_rps, "plan")
    found = _forecast_targets(plan.system_id, engine)
    if found is None:
        raise PlanError(
            str(plan.path),
            [("targets", f"missing, and there is no forecast for system {plan.system_id!r} (Kapacity has "
                         "not run for it and the inventory records no forecast_baseline_rps); "
                         "set targets.baseline_rps (and flas_rps for FLAS systems) in the plan")],
        )
    return found


def _forecast_targets(system_id: str, engine) -> Targets | None:
    """The system's Baseline and FLAS rates by the one capacity policy: Kapacity's newest run
    (read directly: fresher than its collected facts), else the inventory's forecasts.
    None without a database or a forecast."""
    if engine is None:
        return None
    found = kapacity.capacity_targets(engine, system_id)
    if found and found.get("baseline_rps"):
        return Targets(float(found["baseline_rps"]), found.get("flas_rps"),
                       f"kapacity:{found.get('reference') or 'latest'}")
    figures = readiness.stored_capacity_figures(engine, [system_id])[system_id]
    if not figures.baseline_rps:
        return None
    return Targets(float(figures.baseline_rps), figures.flas_rps, figures.forecast_source)


def specs_from_plan(
    plan: Plan,
    targets: Targets,
    *,
    catalog_class: str | None = None,
    only: list[TestType] | None = None,
) -> list[TestSpec]:
    """One spec per required test (or per test in ``only``), in a stable order."""
    doc = plan.doc
    factor = doc.safety_factor
    tclass = plan.traffic_class(catalog_class)
    wanted = only or plan.required_tests(catalog_class)
    script = (plan.path.parent / doc.script).resolve() if doc.script else None
    base = {"endpoints": doc.endpoints, "slo": doc.slo, "system_id": doc.system, "script": script}
    flas = targets.flas_rps
    specs: list[TestSpec] = []
    problems: list[tuple[str, str]] = []
    for test in wanted:
        if test is TestType.LOAD:
            specs.append(TestSpec(test_type=test, rps=targets.baseline_rps * factor, duration_s=doc.tests.load.duration_s, **base))
        elif test is TestType.SPIKE:
            if flas is None:
                problems.append(("targets.flas_rps", "is required for a spike test (FLAS capacity)"))
                continue
            s = doc.tests.spike
            specs.append(TestSpec(
                test_type=test, rps=flas * factor, duration_s=s.hold_s,
                spike=SpikeSettings(baseline_rps=targets.baseline_rps, warmup_s=s.warmup_s, ramp_s=s.ramp_s, cooldown_s=s.cooldown_s),
                **base,
            ))
        elif test is TestType.OVERLOAD:
            peak = flas if (tclass == "FLAS" and flas) else targets.baseline_rps
            specs.append(TestSpec(test_type=test, rps=peak * factor, overload=doc.tests.overload, **base))
        elif test is TestType.FAILOVER:
            f = doc.tests.failover
            if f is None:
                problems.append(("tests.failover", "is required for a failover test (command, limits)"))
                continue
            specs.append(TestSpec(
                test_type=test, rps=targets.baseline_rps, duration_s=f.duration_s,
                failover=FailoverSettings(
                    command=f.command, trigger_after_s=f.trigger_after_s, command_timeout_s=f.command_timeout_s,
                    max_recovery_s=f.max_recovery_s, max_errors=f.max_errors, settle_s=f.settle_s,
                ),
                **base,
            ))
    if problems:
        raise PlanError(str(plan.path), problems)
    return specs

"""Export a run's results for other tools: JSON, CSV, SARIF 2.1.0, JUnit XML."""

from __future__ import annotations

import csv
import io
import json
from xml.etree import ElementTree as ET

from sqlalchemy.engine import Engine

from clikit import csv_safe  # spreadsheet formula prefixes escaped, as in every CLI's CSV
from readiness.reports import get_run, results
from readiness.rulebook import RuleSet
from readiness.rulekit import Status
from readiness.scoring import LOSING_STATUSES

FORMATS = ("json", "csv", "sarif", "junit")
_SARIF_LEVEL = {"fail": "error", "no_data": "warning", "expired": "error", "stale": "warning",
                "pending_review": "note", "error": "error", "warning": "warning"}


def export_run(engine: Engine, ruleset: RuleSet, fmt: str, *, run_id: int | None = None) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; accepted: {', '.join(FORMATS)}")
    run = get_run(engine, run_id)
    rows = [{"run_id": run.id, "system_id": r.system_id, "rule_id": r.rule_id, "rule_version": r.rule_version,
             "status": r.status, "credit": r.credit, "weight": r.weight, "earned": r.earned,
             "basis": r.basis, "message": r.message, "evidence": r.evidence}
            for r in results(engine, run_id=run.id)]
    return {"json": _json, "csv": _csv, "sarif": _sarif, "junit": _junit}[fmt](rows, ruleset, run)


def _json(rows, ruleset, run) -> str:
    return json.dumps({"run": {"id": run.id, "started_at": run.started_at.isoformat(),
                               "inputs_hash": run.inputs_hash, "rule_versions": run.rule_versions,
                               "company_score": run.company_score},
                       "results": rows}, indent=2, default=str)


def _csv(rows, ruleset, run) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0].keys()) if rows else ["run_id"], lineterminator="\n")
    writer.writeheader()
    for row in rows:
        row = {**row, "evidence": json.dumps(row["evidence"], sort_keys=True)}
        writer.writerow({k: csv_safe(v) if isinstance(v, str) else v for k, v in row.items()})
    return out.getvalue()


def _sarif(rows, ruleset, run) -> str:
    metas = ruleset.by_id()
    used = sorted({r["rule_id"] for r in rows})
    rules = []
    for rule_id in used:
        meta = metas[rule_id].meta if rule_id in metas else None
        rules.append({"id": rule_id, "name": rule_id,
                      "shortDescription": {"text": meta.title if meta else rule_id},
                      "fullDescription": {"text": meta.rationale if meta else "rule failed to load"},
                      "help": {"text": meta.remediation if meta else ""},
                      **({"helpUri": meta.link} if meta and meta.link else {}),
                      "properties": {"category": meta.category if meta else "", "severity": meta.severity if meta else ""}})
    findings = [{"ruleId": r["rule_id"], "level": _SARIF_LEVEL.get(r["status"], "note"),
                 "message": {"text": f"{r['system_id']}: {r['message']}"},
                 "locations": [{"logicalLocations": [{"name": r["system_id"], "kind": "module"}]}],
                 "properties": {"status": r["status"], "credit": r["credit"], "evidence": r["evidence"]}}
                for r in rows if r["status"] in _SARIF_LEVEL]
    return json.dumps({"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
                       "runs": [{"tool": {"driver": {"name": "peak-readiness", "rules": rules}},
                                 "automationDetails": {"id": f"readiness/run-{run.id}"},
                                 "results": findings}]}, indent=2, default=str)


def _junit(rows, ruleset, run) -> str:
    suites = ET.Element("testsuites", name=f"readiness run {run.id}")
    by_system: dict[str, list[dict]] = {}
    for row in rows:
        by_system.setdefault(row["system_id"], []).append(row)
    for system_id, system_rows in by_system.items():
        failures = [r for r in system_rows if r["status"] in LOSING_STATUSES - {Status.ERROR}]
        errors = [r for r in system_rows if r["status"] == Status.ERROR]
        skipped = [r for r in system_rows if r["status"] in ("not_applicable", "waived", "warning")]
        suite = ET.SubElement(suites, "testsuite", name=system_id, tests=str(len(system_rows)),
                              failures=str(len(failures)), errors=str(len(errors)), skipped=str(len(skipped)))
        for row in system_rows:
            case = ET.SubElement(suite, "testcase", classname=system_id, name=row["rule_id"])
            if row in failures:
                ET.SubElement(case, "failure", message=row["message"][:500], type=row["status"])
            elif row in errors:
                ET.SubElement(case, "error", message=row["message"][:500])
            elif row in skipped:
                ET.SubElement(case, "skipped", message=f"{row['status']}: {row['message'][:400]}")
    return ET.tostring(suites, encoding="unicode")

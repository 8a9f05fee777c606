"""Backstage import speed: read, map and upsert a generated Backstage catalog.

A catalog of N components (default 10,000) in 180 teams under 20 departments,
each component providing one API and consuming another, with 3,000 users, split
over one file per team behind a root Location. Prints the seconds to read and
map (``read_backstage``), to import into a fresh SQLite database, and to
re-import unchanged. Target: 10,000 components imported in under 30 s.
Usage: python benchmarks/backstage_import.py [COMPONENTS...]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

TEAMS, DEPARTMENTS, USERS = 180, 20, 3000
TARGET_SECONDS = {10_000: 30.0}
ENVELOPE = "apiVersion: backstage.io/v1alpha1\n"


def write_catalog(folder: Path, components: int) -> Path:
    org = []
    for d in range(DEPARTMENTS):
        org.append(f"kind: Domain\nmetadata: {{name: domain-{d}}}\nspec: {{owner: dept-{d}}}\n")
        org.append(f"kind: Group\nmetadata: {{name: dept-{d}}}\nspec: {{type: department, children: []}}\n")
        org.append(f"kind: System\nmetadata: {{name: system-{d}}}\nspec: {{owner: dept-{d}, domain: domain-{d}}}\n")
    for t in range(TEAMS):
        org.append(f"kind: Group\nmetadata: {{name: team-{t}}}\n"
                   f"spec: {{type: team, parent: dept-{t % DEPARTMENTS}, children: []}}\n")
    org += [f"kind: User\nmetadata: {{name: user-{u}}}\nspec: {{memberOf: [team-{u % TEAMS}]}}\n"
            for u in range(USERS)]
    (folder / "org.yaml").write_text("---\n".join(ENVELOPE + doc for doc in org), encoding="utf-8")
    per_team: dict[int, list[str]] = {}
    for c in range(components):
        per_team.setdefault(c % TEAMS, []).extend([
            f"kind: Component\nmetadata: {{name: component-{c}, tags: [peak-tier-high]}}\n"
            f"spec: {{type: service, lifecycle: production, owner: team-{c % TEAMS}, "
            f"system: system-{c % DEPARTMENTS}, providesApis: [api-{c}], consumesApis: [api-{(c + 7) % components}], "
            f"dependsOn: ['component:component-{(c + 1) % components}']}}\n",
            f"kind: API\nmetadata: {{name: api-{c}}}\n"
            f"spec: {{type: openapi, lifecycle: production, owner: team-{c % TEAMS}, definition: x}}\n"])
    (folder / "teams").mkdir()
    for team, docs in per_team.items():
        (folder / "teams" / f"team-{team}.yaml").write_text("---\n".join(ENVELOPE + d for d in docs), encoding="utf-8")
    root = folder / "catalog-info.yaml"
    root.write_text(ENVELOPE + "kind: Location\nmetadata: {name: root}\n"
                    "spec: {targets: [./org.yaml, ./teams/*.yaml]}\n", encoding="utf-8")
    return root


def measure(components: int) -> dict:
    from readiness import import_backstage, read_backstage
    from readiness.service import open_database
    from storage import get_engine

    with tempfile.TemporaryDirectory() as tmp:
        root = write_catalog(Path(tmp), components)
        started = time.perf_counter()
        catalog = read_backstage([root])
        read = time.perf_counter() - started
        engine = open_database(get_engine(f"sqlite:///{Path(tmp) / 'bench.db'}"))
        started = time.perf_counter()
        report = import_backstage(engine, [root])
        first = time.perf_counter() - started
        started = time.perf_counter()
        import_backstage(engine, [root])
        again = time.perf_counter() - started
    assert not catalog.problems and report.imported.systems == components
    return {"components": components, "entities": sum(catalog.entities.values()), "read_s": round(read, 2),
            "import_s": round(first, 2), "reimport_s": round(again, 2)}


def main(argv: list[str]) -> int:
    failed = False
    for components in [int(a) for a in argv] or [10_000]:
        figures = measure(components)
        target = TARGET_SECONDS.get(components)
        verdict = "" if target is None else (" ok" if figures["import_s"] < target else f" SLOWER than {target} s")
        failed |= verdict.startswith(" SLOWER")
        print(" ".join(f"{k}={v}" for k, v in figures.items()) + verdict)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

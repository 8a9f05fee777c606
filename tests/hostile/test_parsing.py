"""Hostile files through the public commands: alias bombs, numbers out of range, conflicting or
duplicate records, bytes that are not UTF-8. Each is refused with an error naming the file and
line (or record) and field, and nothing stored changes."""

from __future__ import annotations

import io
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest
from typer.testing import CliRunner

from perftest.cli import app as perftest_app
from readiness.cli import main
from storage import get_engine, migrate
from tests.hostile.stored import row_counts
from tests.readiness.helpers import catalog_doc, compute, write_inventory, write_yaml

runner = CliRunner()


@dataclass
class Outcome:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def readiness(*args) -> Outcome:
    """`readiness ARGS` as a user runs it: through ``main``, which turns errors into messages and exit codes."""
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.object(sys, "argv", ["readiness", *map(str, args)]), redirect_stdout(out), redirect_stderr(err):
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    return Outcome(code, out.getvalue(), err.getvalue())


def alias_bomb(levels: int, width: int = 9) -> str:
    """A "billion laughs" YAML fragment: each level lists the previous one ``width`` times."""
    lines = [f"x0: &x0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, levels):
        lines.append(f"x{level}: &x{level} [{', '.join([f'*x{level - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


@pytest.fixture
def db(tmp_path) -> str:
    """A database holding a catalog and one inventory import: the state a refusal must keep."""
    url = f"sqlite:///{tmp_path / 'peak.db'}"
    migrate(get_engine(url))
    assert readiness("import", "--catalog", write_yaml(tmp_path / "catalog.yaml", catalog_doc()), "--db", url).exit_code == 0
    inventory = write_inventory(tmp_path / "inventory.json", [compute("SYS-1", "web"), compute("SYS-2", "score")])
    assert readiness("import", "--inventory", inventory, "--db", url).exit_code == 0
    return url


def refused(url: str, *args, problems: list[str], recorded: tuple[str, ...] = ()) -> None:
    """The command fails (exit 1) listing each problem, and every table keeps its rows
    (but the ``recorded`` ones: a collector records its failed attempt, for `readiness sources`)."""
    before = row_counts(url)
    result = readiness(*args, "--db", url)
    assert result.exit_code == 1, result.output
    for problem in problems:
        assert problem in result.stderr, result.stderr
    after = row_counts(url)
    assert {k: v for k, v in after.items() if k not in recorded} == {k: v for k, v in before.items() if k not in recorded}


# ---------------------------------------------------------------- inventory


def test_inventory_alias_bomb_is_refused_naming_the_anchor_that_expands(db, tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb(6) + "assets:\n  - {id: web, type: compute, tags: {SystemID: SYS-1}, extra: *x5}\n")
    assert path.stat().st_size < 600
    refused(db, "import", "--inventory", path,
            problems=[f"{path}:6: aliases expand the document to more than 100,000 nodes"])


def test_inventory_recursive_alias_is_refused(db, tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text("assets:\n  - &a {id: web, type: compute, tags: {SystemID: SYS-1}, self: [*a]}\n")
    refused(db, "import", "--inventory", path, problems=[f"{path}:2: a recursive alias"])


@pytest.mark.parametrize(("name", "text", "problem"), [
    ("huge.yaml", "assets:\n  - {id: web, type: compute, tags: {SystemID: SYS-1}, replicas: 10000000000000000000000000}\n",
     "huge.yaml:2: assets[0] (id web): field replicas: a 26-digit number is out of range"),
    ("inf.yaml", "assets:\n  - {id: web, type: compute, tags: {SystemID: SYS-1}, rps_per_replica: .inf}\n",
     "inf.yaml:2: assets[0] (id web): field rps_per_replica: inf is not a finite number"),
    ("nan.json", '{"assets": [{"id": "web", "type": "compute", "tags": {"SystemID": "SYS-1"}, "client": {"x": NaN}}]}',
     "nan.json: assets[0] (id web): field client.x: nan is not a finite number"),
    ("big.json", '{"assets": [{"id": "db", "type": "database", "tags": {"SystemID": "SYS-1"}, "storage_used_gb": 1e300}]}',
     "big.json: assets[0] (id db): field storage_used_gb: 1e+300 is out of range"),
])
def test_inventory_numbers_out_of_bounds_are_named_by_file_record_and_field(db, tmp_path, name, text, problem):
    path = tmp_path / name
    path.write_text(text)
    refused(db, "import", "--inventory", path, problems=[str(tmp_path / problem)])


def test_inventory_two_assets_with_one_id_in_one_system_are_refused_naming_both(db, tmp_path):
    path = write_inventory(tmp_path / "dup.json", [compute("SYS-1", "web"), compute("SYS-2", "web"),
                                                     {"id": "web", "type": "log_group", "tags": {"SystemID": "SYS-1"}}])
    refused(db, "import", "--inventory", path,
            problems=[f"{path}: assets[2] (id web): field id: duplicate asset id 'web' in system 'SYS-1', also assets[0]"])


def test_inventory_one_id_in_two_systems_is_accepted(db, tmp_path):
    path = write_inventory(tmp_path / "two.json", [compute("SYS-1", "web"), compute("SYS-2", "web")])
    assert readiness("import", "--inventory", path, "--db", db).exit_code == 0


def test_inventory_that_is_not_utf8_names_file_and_line(db, tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"assets:\n  - {id: web, type: compute, tags: {SystemID: SYS-1}, note: caf\xe9}\n")
    refused(db, "import", "--inventory", path, problems=[f"{path}:2: not UTF-8 text (byte 0xe9"])


# ---------------------------------------------------------------- catalog


def test_catalog_alias_bomb_is_refused(db, tmp_path):
    path = tmp_path / "catalog.yaml"
    path.write_text(alias_bomb(7) + "company: *x6\n")
    refused(db, "import", "--catalog", path, problems=[f"{path}:6: aliases expand the document"])


def test_catalog_anchors_and_merge_keys_within_the_budget_still_import(db, tmp_path):
    merged = tmp_path / "merged.yaml"
    merged.write_text(
        "domains: [{key: pay, name: Payments}, {key: risk, name: Risk}]\n"
        "groups: [{key: pay-core, name: Core, domain: pay}, {key: risk-ml, name: ML, domain: risk}]\n"
        "teams: [{key: checkout, name: Checkout, group: pay-core}, {key: fraud, name: Fraud, group: risk-ml}]\n"
        "systems:\n"
        "  - &base {id: SYS-1, name: checkout-api, team: checkout, tier: critical}\n"
        "  - {<<: *base, id: SYS-2, name: fraud-scoring, team: fraud}\n"
        "  - {<<: *base, id: SYS-3, name: receipts, tier: low}\n")
    result = readiness("import", "--catalog", merged, "--db", db)
    assert result.exit_code == 0, result.output
    assert "3 systems (0 new, 0 retired)" in result.stdout


def _csv(path: Path, *rows: str) -> Path:
    path.write_text("system_id,name,domain,group,team,tier,dependencies\n" + "".join(r + "\n" for r in rows))
    return path


def test_csv_group_given_two_domains_is_refused_naming_both_rows(db, tmp_path):
    path = _csv(tmp_path / "systems.csv",
                "SYS-1,checkout-api,pay,pay-core,checkout,critical,",
                "SYS-2,fraud-scoring,risk,pay-core,fraud,high,",
                "SYS-3,receipts,pay,pay-core,checkout,low,")
    refused(db, "import", "--catalog", path,
            problems=[f"{path}:3: record 'SYS-2': field domain: group 'pay-core' is in domain 'risk' here "
                      "but in domain 'pay' on line 2"])


def test_csv_team_given_two_groups_is_refused_naming_both_rows(db, tmp_path):
    path = _csv(tmp_path / "systems.csv",
                "SYS-1,checkout-api,pay,pay-core,checkout,critical,",
                "SYS-2,fraud-scoring,risk,risk-ml,checkout,high,")
    refused(db, "import", "--catalog", path,
            problems=[f"{path}:3: record 'SYS-2': field group: team 'checkout' is in group 'risk-ml' here "
                      "but in group 'pay-core' on line 2"])


def test_csv_that_is_not_utf8_names_file_and_line(db, tmp_path):
    path = tmp_path / "systems.csv"
    path.write_bytes(b"system_id,name,domain,group,team,tier\nSYS-1,caf\xe9,pay,pay-core,checkout,high\n")
    refused(db, "import", "--catalog", path, problems=[f"{path}:2: not UTF-8 text (byte 0xe9"])


def test_csv_reports_every_problem_at_once(db, tmp_path):
    path = _csv(tmp_path / "systems.csv",
                "SYS-1,checkout-api,pay,pay-core,checkout,critical,SYS-404:sync",
                "SYS-2,fraud-scoring,risk,risk-ml,fraud,urgent,",
                "SYS-2,receipts,pay,pay-core,checkout,low,")
    refused(db, "import", "--catalog", path, problems=[
        f"{path}:3: record 'SYS-2': field tier: Input should be",
        f"{path}:4: record 'SYS-2': field system_id: duplicate system id 'SYS-2', also on line 3",
        f"{path}:2: record 'SYS-1': field dependencies[0]: unknown system 'SYS-404'",
    ])


def test_yaml_catalog_reports_every_problem_at_once(db, tmp_path):
    """A wrong field and an unknown dependency together: both listed, the first import attempt says all."""
    doc = catalog_doc()
    doc["systems"][1]["tier"] = "urgent"
    doc["systems"][2]["dependencies"] = [{"system": "SYS-404"}, {"system": "SYS-2"}]
    path = write_yaml(tmp_path / "catalog.yaml", doc)
    refused(db, "import", "--catalog", path, problems=[
        f"{path}: systems.1.tier (record SYS-2): Input should be",
        f"{path}: systems[2] (record SYS-3): field dependencies[0].system: unknown system 'SYS-404'",
    ])
    # SYS-2 is invalid, so SYS-3's dependency on it is not called unknown: its own problem is listed
    assert "unknown system 'SYS-2'" not in readiness("import", "--catalog", path, "--db", db).stderr


# ---------------------------------------------------------------- Kubernetes manifests


def test_kubernetes_alias_bomb_is_refused_by_file_and_line_and_stores_nothing(db, tmp_path):
    folder = tmp_path / "manifests"
    folder.mkdir()
    path = folder / "bomb.yaml"
    path.write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
                    "  name: web\n  labels: {app.kubernetes.io/part-of: checkout-api}\n" + alias_bomb(6)
                    + "spec:\n  template:\n    spec:\n      containers: [{name: c, env: *x5}]\n")
    refused(db, "collect", "kubernetes", folder, problems=[f"{path}:11: aliases expand the document"],
            recorded=("readiness_source_status",))


def test_kubernetes_replicas_out_of_range_is_named(db, tmp_path):
    path = tmp_path / "web.yaml"
    path.write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
                    "  labels: {app.kubernetes.io/part-of: checkout-api}\nspec:\n  replicas: 10000000000000000000000000\n")
    refused(db, "collect", "kubernetes", path, problems=[f"{path}:1: document 0 (Deployment web): field spec.replicas"],
            recorded=("readiness_source_status",))


# ---------------------------------------------------------------- perftest plans


def test_perftest_plan_alias_bomb_is_refused_and_stores_no_run(db, tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text(alias_bomb(6) + "system: SYS-1\nendpoints: [{url: 'http://127.0.0.1:1/'}]\nnotes: *x5\n")
    before = row_counts(db)
    result = runner.invoke(perftest_app, ["run", "--plan", str(path), "--system", "SYS-1", "--db", db])
    assert result.exit_code == 2, result.output
    assert f"{path}: line 6: aliases expand the document" in result.stderr
    assert row_counts(db) == before


def test_perftest_plan_infinite_rate_is_named_by_line(db, tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text("system: SYS-1\ntargets: {baseline_rps: 10, flas_rps: .inf}\nendpoints: [{url: 'http://127.0.0.1:1/'}]\n")
    before = row_counts(db)
    result = runner.invoke(perftest_app, ["run", "--plan", str(path), "--system", "SYS-1", "--db", db])
    assert result.exit_code == 2, result.output
    assert f"{path}: line 2: targets.flas_rps: inf is not a finite number" in result.stderr
    assert row_counts(db) == before

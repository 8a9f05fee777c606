"""Rule modules that misbehave cannot fool `readiness evaluate --fail-under`.

Each case adds one hostile module to the pack of the 60-system demo and runs
the gate at a threshold the demo meets without it: the run must complete and
store the module's error results, say so in the summary, and fail the gate
(exit 3), because an errored rule earns no credit in the gate's figure.
"""

from __future__ import annotations

import json

import pytest

from tests.hostile.support import company_score, readiness, results_of, runs, write_rule

PASSES = "return passed('fine')"
# The time limit is set by the option or by the setting (PEAK_RULE_TIMEOUT); without one,
# these would hang until the test's own timeout.
OPTION = (["--rule-timeout", "0.05"], {})
SETTING = ([], {"PEAK_RULE_TIMEOUT": "0.05"})
HOSTILE_MODULES = [
    pytest.param("import sys\nsys.exit(0)", PASSES, "called sys.exit(0) while imported", ([], {}),
                 id="sys-exit-at-import"),
    pytest.param("", "import sys\nsys.exit(0)", "rule called sys.exit(0)", ([], {}), id="sys-exit-in-evaluate"),
    pytest.param("raise RuntimeError('registry unreachable')", PASSES,
                 "failed to import: RuntimeError: registry unreachable", ([], {}), id="raise-at-import"),
    pytest.param("", "raise KeyError('replicas')", "rule raised KeyError: 'replicas'", ([], {}),
                 id="raise-in-evaluate"),
    pytest.param("while True:\n    pass", PASSES, "ran longer than the 0.05 s rule time limit", SETTING,
                 id="loop-at-import"),
    pytest.param("", "while True:\n    pass", "rule ran longer than the 0.05 s rule time limit", OPTION,
                 id="loop-in-evaluate"),
    pytest.param("class Weird:\n    def __str__(self):\n        raise SystemExit(0)", "return passed('ok', {'x': Weird()})",
                 "rule returned a result that cannot be stored", ([], {}), id="evidence-that-exits-when-stored"),
    pytest.param("", "import time\nwhile True:\n    try:\n        time.sleep(10)\n    except Exception:\n        pass",
                 "rule ran longer than the 0.05 s rule time limit", SETTING, id="sleep-swallowing-exceptions"),
]


@pytest.fixture(scope="module")
def clean_score(demo_db) -> float:
    """The demo's company score with the built-in pack alone."""
    return company_score(demo_db)


@pytest.mark.parametrize(("at_import", "body", "message", "limit"), HOSTILE_MODULES)
def test_a_hostile_rule_module_gives_error_results_and_fails_the_gate(demo_copy, tmp_path, clean_score,
                                                                      at_import, body, message, limit):
    rules = tmp_path / "rules"
    write_rule(rules, "hostile_rule", body, at_import=at_import)
    previous = runs(demo_copy)[0]
    threshold = clean_score - 0.5  # met by the pack without the hostile module
    options, env = limit

    result = readiness("evaluate", "--rules-dir", str(rules), "--fail-under", str(threshold), *options,
                       db=demo_copy, env=env, timeout=120)

    assert result.returncode == 3, (result.stdout, result.stderr)
    assert "60 error results" in result.stdout and "counting the errors as failures" in result.stdout
    assert "counting 60 error results as failures is below --fail-under" in result.stderr
    latest = runs(demo_copy)[0]
    assert (latest["id"], latest["status"], latest["errors"]) == (previous["id"] + 1, "complete", 60)
    assert latest["company_score"] >= threshold  # the errors alone fail the gate
    errored = results_of(demo_copy, "hostile_rule", rules, env)
    assert len(errored) == 60 and all(r["status"] == "error" and message in r["message"] for r in errored)


def test_errors_pass_lets_the_gate_judge_the_company_score_alone(demo_copy, tmp_path, clean_score):
    rules = tmp_path / "rules"
    write_rule(rules, "hostile_rule", "raise KeyError('replicas')")
    threshold = str(clean_score - 0.5)
    strict = readiness("evaluate", "--rules-dir", str(rules), "--fail-under", threshold, "--format", "json",
                       db=demo_copy)
    lenient = readiness("evaluate", "--rules-dir", str(rules), "--fail-under", threshold, "--errors-pass",
                        "--format", "json", db=demo_copy)
    assert (strict.returncode, lenient.returncode) == (3, 0), (strict.stderr, lenient.stderr)
    summary = json.loads(lenient.stdout)
    assert summary["errors"] == 60 and summary["gate_score"] < float(threshold) <= summary["company_score"]


MUTATIONS = [
    pytest.param('facts.compute()[0]["replicas"] = 999', id="set-a-field"),
    pytest.param('facts.source("inventory")["compute"].append({"id": "ghost", "replicas": 999})', id="append-an-asset"),
    pytest.param('facts.compute()[0]["zones"] += ["z"]\nfacts.compute()[0]["replicas"] = 999', id="extend-a-list"),
]
READER = '''
seen = [asset.get("replicas") for asset in facts.compute()]
zones = [list(asset.get("zones") or []) for asset in facts.compute()]
if 999 in seen or any("z" in z for z in zones):
    return failed(f"saw a changed asset: {seen} {zones}")
return passed(f"replicas {seen}")
'''


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_a_rule_that_changes_an_asset_cannot_change_what_later_rules_see(demo_copy, tmp_path, mutation):
    rules = tmp_path / "rules"
    write_rule(rules, "aa_mutator", f"if facts.compute():\n    {mutation}\nreturn passed('changed nothing')"
               .replace("\nfacts.compute()", "\n    facts.compute()"))
    write_rule(rules, "zz_reader", READER)  # runs after the mutator (rules run in id order)

    result = readiness("evaluate", "--rules-dir", str(rules), "--format", "json", db=demo_copy)

    assert result.returncode == 0, result.stderr
    reader = results_of(demo_copy, "zz_reader", rules)
    assert len(reader) == 60 and {r["status"] for r in reader} == {"pass"}, reader[:3]
    mutator = [r for r in results_of(demo_copy, "aa_mutator", rules) if r["status"] != "pass"]
    assert mutator and all(r["status"] == "error" and "facts are read-only" in r["message"] for r in mutator)

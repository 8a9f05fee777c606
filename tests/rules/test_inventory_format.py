"""The inventory fields the pack reads: the documented example parses, dated assets get their age."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from readiness.errors import InputError
from readiness.inventory import ASSET_TYPES, load_inventory

REPO = Path(__file__).resolve().parents[2]


def test_the_documented_example_parses_and_shows_every_asset_type_but_dashboards(tmp_path):
    text = (REPO / "docs" / "inventory.md").read_text()
    example = re.search(r"## Example\n\n```yaml\n(.*?)```", text, re.S).group(1)
    (tmp_path / "inv.yaml").write_text(example)
    facts = load_inventory(tmp_path / "inv.yaml").by_system["SYS-0001"]
    assert set(facts) == {key for _, key in ASSET_TYPES.values()} - {"dashboards", "functions"}
    assert facts["drills"][0]["age_days"] == 56  # 2 October to 27 November
    assert facts["runbooks"][0]["updated_on"] == "2026-09-01"


def test_every_asset_type_is_documented():
    text = (REPO / "docs" / "inventory.md").read_text()
    for kind, (model, key) in ASSET_TYPES.items():
        assert f"### `{kind}` -> `{key}`" in text
        for field in model.model_fields:
            if field not in ("id", "tags", "type"):
                assert f"`{field}`" in text, f"{kind}.{field} is not documented"


def _write(tmp_path, assets, **top):
    path = tmp_path / "inv.json"
    path.write_text(json.dumps({**top, "assets": assets}))
    return path


def test_drill_age_counts_to_the_export_date(tmp_path):
    path = _write(tmp_path, [{"id": "d", "type": "drill", "tags": {"SystemID": "S"}, "kind": "ddos",
                              "performed_on": "2027-01-01"}], generated_at="2027-03-02T10:00:00")
    drill = load_inventory(path).by_system["S"]["drills"][0]
    assert (drill["performed_on"], drill["age_days"]) == ("2027-01-01", 60)


@pytest.mark.parametrize(("assets", "top", "problem"), [
    ([{"id": "d", "type": "drill", "tags": {"SystemID": "S"}, "kind": "load", "performed_on": "last week"}], {},
     "assets[0] (id d): field performed_on"),
    ([{"id": "d", "type": "drill", "tags": {"SystemID": "S"}, "kind": "chaos", "performed_on": "2027-01-01"}], {},
     "assets[0] (id d): field kind"),
    ([], {"generated_at": "yesterday"}, "field generated_at: 'yesterday' is not an ISO 8601 date or time"),
    ([{"id": "f", "type": "feature_flag", "tags": {"SystemID": "S"}, "kill_switch": "maybe"}], {},
     "assets[0] (id f): field kill_switch"),
])
def test_bad_values_name_the_asset_and_field(tmp_path, assets, top, problem):
    with pytest.raises(InputError) as error:
        load_inventory(_write(tmp_path, assets, **top))
    assert problem in str(error.value)

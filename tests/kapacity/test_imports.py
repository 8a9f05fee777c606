"""What importing Kapacity costs: forecasting and the run's workers load no database layer."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["kapacity", "kapacity.runner", "kapacity.cli"])
def test_forecasting_and_the_run_workers_import_no_database_layer(module):
    # the storage package's surface is lazy (storage.lazy_surface): its database modules must stay unloaded
    code = (f"import sys, {module}; "
            "print(sorted(m for m in ('sqlalchemy', 'sqlmodel', 'storage.engine', 'storage.migrate') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_database_backed_names_load_on_first_use():
    code = "import kapacity; print(kapacity.capacity_targets.__module__, kapacity.KapacityFactSource.__module__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["kapacity.store", "kapacity.facts"]

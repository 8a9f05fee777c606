"""Safe parsing: what the YAML limits cost on a large catalog, and how fast a bomb is refused.

Prints the median time to read and validate the demo catalog (10,000 systems by
default; the file is generated beforehand in another process) through
``readiness.catalog.load_catalog_file``, which reads YAML through ``storage.safeyaml``,
and the time to refuse a 600-byte "billion laughs" inventory through
``readiness.import_inventory_file`` (it used to take 12.6 s and 1.7 GB).
Usage: python benchmarks/safe_parsing.py [SYSTEMS]
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CATALOG_TARGET_S = 2.0  # the 10,000-system catalog read before the limits: about 1.2 s on the 2-core CI machine
BOMB_TARGET_S = 0.1


def bomb_text() -> str:
    lines = ["x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 9)}]" for i in range(1, 9)]
    return "\n".join(lines) + "\nassets:\n  - {id: a, type: compute, tags: {SystemID: S}, extra: *x8}\n"


def main(systems: int) -> int:
    from readiness import InputError, import_inventory_file
    from readiness.catalog import load_catalog_file
    from readiness.service import open_database
    from storage import get_engine

    folder = Path(tempfile.mkdtemp())
    subprocess.run([sys.executable, "-c", "import sys; from datetime import datetime; from pathlib import Path; "
                    "from readiness.demo import generate; "
                    f"generate(Path(sys.argv[1]), systems={systems}, seed=11, now=datetime(2026, 9, 1))",
                    str(folder / "files")], check=True)
    catalog = folder / "files" / "catalog.yaml"
    times = []
    for _ in range(5):
        started = time.perf_counter()
        load_catalog_file(catalog)
        times.append(time.perf_counter() - started)
    catalog_s = statistics.median(times)

    bomb = folder / "bomb.yaml"
    bomb.write_text(bomb_text())
    engine = open_database(get_engine(f"sqlite:///{folder / 'bench.db'}"))
    started = time.perf_counter()
    try:
        import_inventory_file(engine, bomb)
        refused = False
    except InputError:
        refused = True
    bomb_s = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    ok = catalog_s <= CATALOG_TARGET_S and refused and bomb_s <= BOMB_TARGET_S
    print(f"catalog of {systems} systems ({catalog.stat().st_size / 1e6:.1f} MB): median {catalog_s:.2f} s "
          f"(target {CATALOG_TARGET_S} s)")
    print(f"{bomb.stat().st_size}-byte alias bomb: {'refused' if refused else 'ACCEPTED'} in {bomb_s * 1000:.1f} ms "
          f"(target {BOMB_TARGET_S * 1000:.0f} ms); peak memory {peak_mb:.0f} MB")
    print("ok" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000))

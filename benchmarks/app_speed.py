"""Dashboard speed: every page rendered by Streamlit's AppTest on demo organisations of 450 and
10,000 systems. Targets: under 1 s per page at 450 systems, under 3 s at 10,000.

For each page it prints two figures, medians over --repeat sessions:
- cold: the first view after a new evaluation run (every cached query and chart recomputed);
- warm: a later view (query results and charts reused, as for every user after the first).

The demo databases are built once into --dir (default var/bench/, gitignored) and reused;
the 10,000-system one takes a while to build (its nine weekly runs hold 5 million results).
Pass --db SIZE=URL to time an existing database instead.

    python benchmarks/app_speed.py [--sizes 450,10000] [--repeat 3] [--db 10000=sqlite:///...]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PAGES = ["views/overview.py", "views/units.py", "views/system.py", "views/rules.py", "views/reviews.py",
         "views/capacity.py", "views/perftests.py", "views/flashsales.py"]
TARGETS = {450: 1.0, 10_000: 3.0}


def build_demo(size: int, folder: Path) -> str:
    """The demo organisation of ``size`` systems as ``make demo-data`` builds it, once."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"app-demo-{size}.db"
    url = f"sqlite:///{path}"
    if path.exists():
        return url
    print(f"building the {size}-system demo in {path} (once; reused by later runs) ...", file=sys.stderr)
    partial = folder / f"app-demo-{size}.building.db"
    partial.unlink(missing_ok=True)
    partial_url = f"sqlite:///{partial}"
    started = time.perf_counter()
    env = dict(os.environ, PEAK_DATABASE_URL=partial_url)
    files = folder / f"app-demo-{size}-files"  # kept: merchant histories and the like are read later
    files.mkdir(exist_ok=True)
    subprocess.run([sys.executable, "-m", "readiness.cli", "demo", "--db", partial_url, "--systems", str(size)],
                   check=True, cwd=files, env=env, stdout=subprocess.DEVNULL)
    for package in ("perftest", "flashsales", "kapacity"):
        if (REPO / package / "demo.py").exists():
            subprocess.run([sys.executable, "-m", f"{package}.demo", "--db", partial_url], cwd=files, env=env,
                           check=True, stdout=subprocess.DEVNULL)
    from governance import seed_demo_governance
    from storage import get_engine

    seed_demo_governance(get_engine(partial_url))  # no-op when the demo already seeded it
    get_engine(partial_url).dispose()
    partial.replace(path)
    print(f"  built in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return url


def time_pages(url: str, repeat: int, user: str, pages: list[str]) -> dict[str, tuple[float, float, int]]:
    """Per page: median cold and warm seconds, and how many runs raised."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ["PEAK_DATABASE_URL"] = url
    os.environ["PEAK_APP_USERS_FILE"] = str(Path(tempfile.gettempdir()) / "peak-bench-users.yaml")
    figures: dict[str, tuple[float, float, int]] = {}
    for page in pages:
        cold, warm, failures = [], [], 0
        for _ in range(repeat):
            st.cache_data.clear()  # a new run: every cached query and chart is recomputed
            at = AppTest.from_file(str(REPO / "app" / "main.py"), default_timeout=120)
            at.session_state["authentication_status"] = True
            at.session_state["username"] = user
            at.session_state["name"] = user
            at.run()
            st.cache_data.clear()
            at.switch_page(page)
            started = time.perf_counter()
            at.run()
            cold.append(time.perf_counter() - started)
            started = time.perf_counter()
            at.run()
            warm.append(time.perf_counter() - started)
            failures += len(at.exception)
        figures[page] = (statistics.median(cold), statistics.median(warm), failures)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="450,10000", help="organisation sizes, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="sessions per page (medians are printed)")
    parser.add_argument("--dir", type=Path, default=REPO / "var" / "bench", help="where demo databases are kept")
    parser.add_argument("--db", action="append", default=[], metavar="SIZE=URL", help="use this database for SIZE")
    parser.add_argument("--user", default="viewer", help="log in as this user")
    parser.add_argument("--pages", default="", help="only these pages (comma-separated names, e.g. overview,rules)")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    given = dict(item.split("=", 1) for item in args.db)
    rows = []
    for size in [int(s) for s in args.sizes.split(",") if s.strip()]:
        url = given.get(str(size)) or build_demo(size, args.dir)
        target = TARGETS.get(size, 3.0)
        wanted = [p for p in PAGES if not args.pages or p.removeprefix("views/").removesuffix(".py")
                  in args.pages.split(",")]
        for page, (cold, warm, failures) in time_pages(url, args.repeat, args.user, wanted).items():
            rows.append((size, page.removeprefix("views/").removesuffix(".py"), cold, warm, target, failures))
    print(f"{'systems':>8} {'page':<12} {'cold s':>7} {'warm s':>7} {'target':>7}  verdict")
    for size, page, cold, warm, target, failures in rows:
        verdict = "ERROR" if failures else ("ok" if cold < target else "warm ok, cold over" if warm < target
                                             else "over")
        print(f"{size:>8} {page:<12} {cold:>7.2f} {warm:>7.2f} {target:>7.1f}  {verdict}")
    worst = {size: max(r[2] for r in rows if r[0] == size) for size in {r[0] for r in rows}}
    print("slowest cold page per size: " + ", ".join(f"{s}: {w:.2f} s" for s, w in sorted(worst.items())))
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end")
    return 1 if any(r[5] for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())

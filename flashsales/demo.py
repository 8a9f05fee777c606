"""Demo data for flash sales: categories with limits, merchants with traffic history, roles.

Run after ``readiness demo`` (``make demo`` does): ``python -m flashsales.demo --db URL``.
History files are written under ``<out>/flashsales/history/`` (``timestamp,value``,
5-minute counts over two weeks, fixed dates, seeded per merchant: the same bytes
every run). Running it twice leaves the same state. It also writes
``<out>/flashsales/request-example.json``, a request starting tomorrow, to try
``flashsales submit --file`` at once.
"""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from flashsales.catalogue import set_category, upsert_merchant
from flashsales.roles import catalog_people, grant_role
from storage import database_url, get_engine, migrate

HISTORY_START = datetime(2026, 10, 5)  # a Monday; wall-clock time at +01:00
HISTORY_DAYS = 14
STEP_MINUTES = 5
OFFSET = "+01:00"

CATEGORIES = {  # key: (name, requests per minute per merchant)
    "fashion": ("Fashion and apparel", 600),
    "electronics": ("Consumer electronics", 900),
    "ticketing": ("Event ticketing", 300),
    "travel": ("Travel", 450),
    "groceries": ("Groceries", 240),
    "gaming": ("Games and digital goods", 1200),
}


@dataclass(frozen=True)
class DemoMerchant:
    merchant_id: str
    name: str
    category: str
    normal_rpm: float  # an ordinary day's busiest minute
    spike_ratio: float  # one past surge, at this multiple of the normal level
    peak_hour: int


MERCHANTS = (
    DemoMerchant("M-1001", "Nordic Threads", "fashion", 220, 3.5, 20),
    DemoMerchant("M-1002", "Urban Sole", "fashion", 140, 2.0, 19),
    DemoMerchant("M-2001", "Voltmart", "electronics", 400, 2.5, 21),
    DemoMerchant("M-2002", "PixelHub", "electronics", 180, 1.6, 20),
    DemoMerchant("M-3001", "StageDoor Tickets", "ticketing", 90, 12.0, 10),
    DemoMerchant("M-4001", "Fjord Travel", "travel", 120, 1.8, 13),
    DemoMerchant("M-5001", "FreshBasket", "groceries", 160, 1.5, 17),
    DemoMerchant("M-6001", "Respawn Games", "gaming", 300, 6.0, 18),
)


def history_rows(merchant: DemoMerchant) -> list[tuple[str, int]]:
    """Two weeks of 5-minute request counts: a daily cycle, quieter weekends, one surge."""
    rng = np.random.default_rng(zlib.crc32(merchant.merchant_id.encode()))
    per_day = 24 * 60 // STEP_MINUTES
    minutes = np.arange(HISTORY_DAYS * per_day) * STEP_MINUTES
    hours = (minutes % 1440) / 60.0
    distance = np.minimum(np.abs(hours - merchant.peak_hour), 24 - np.abs(hours - merchant.peak_hour))
    daily = 0.12 + 0.88 * np.exp(-(distance / 3.5) ** 2)
    weekday = (minutes // 1440) % 7
    weekly = np.where(weekday >= 5, 0.8, 1.0)
    noise = rng.normal(1.0, 0.04, minutes.size).clip(0.85, 1.15)
    rpm = merchant.normal_rpm * daily * weekly * noise
    surge_day = int(rng.integers(2, HISTORY_DAYS - 1))
    start = surge_day * per_day + merchant.peak_hour * 60 // STEP_MINUTES
    rpm[start:start + 6] = merchant.normal_rpm * merchant.spike_ratio * np.array([0.6, 1.0, 0.9, 0.7, 0.5, 0.3])
    counts = np.rint(rpm * STEP_MINUTES).astype(int)
    stamps = [(HISTORY_START + timedelta(minutes=int(m))).strftime("%Y-%m-%dT%H:%M:%S") + OFFSET for m in minutes]
    return list(zip(stamps, counts.tolist(), strict=True))


def write_history(folder: Path, merchant: DemoMerchant) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{merchant.merchant_id}.csv"
    text = "timestamp,value\n" + "".join(f"{t},{v}\n" for t, v in history_rows(merchant))
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def example_request(now: datetime) -> dict:
    start = (now + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)  # 10:00 at +01:00
    return {
        "merchant_id": "M-1001", "merchant_name": "Nordic Threads", "merchant_category": "fashion",
        "reporter": "bd.jonas", "key_account_manager": "kam.ella", "solution_engineer": "se.omar",
        "countries": ["SE", "NO", "DK", "FI"],
        "starts_at": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:00") + OFFSET,
        "ends_at": (start + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:00") + OFFSET,
        "expected_multiplier": 8, "notes": "Winter collection drop, announced by newsletter at 10:00.",
    }


def run(engine, out: Path, *, now: datetime | None = None) -> dict:
    """Load the demo data (idempotent); returns what it did."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    folder = out / "flashsales"
    for key, (name, rpm) in CATEGORIES.items():
        set_category(engine, key, rate_limit_rpm=rpm, name=name, now=now)  # as the system
    for merchant in MERCHANTS:
        path = write_history(folder / "history", merchant)
        upsert_merchant(engine, merchant.merchant_id, name=merchant.name, category=merchant.category,
                        history_path=path.resolve(), now=now)
    team = _grant_demo_team(engine, now)
    example = folder / "request-example.json"
    example.write_text(json.dumps(example_request(now), indent=2) + "\n")
    return {"categories": len(CATEGORIES), "merchants": len(MERCHANTS), "ratelimit_team": team,
            "history": str(folder / "history"), "example": str(example)}


def _grant_demo_team(engine, now: datetime) -> list[str]:
    """Two catalog users (alphabetically first without a central role) form the rate-limit team."""
    people = catalog_people(engine)
    admins = sorted(u for u, roles in people.items() if "admin" in roles)
    candidates = sorted(u for u, roles in people.items() if not roles & {"admin", "readiness_team"})
    team = candidates[:2] if candidates else ["ratelimit.anna", "ratelimit.omar"]
    for user in team:
        grant_role(engine, user, actor=admins[0] if admins else "demo", now=now)
    return team


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flashsales.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="Database URL (default: PEAK_DATABASE_URL or sqlite:///peak.db).")
    parser.add_argument("--out", default="demo", type=Path, help="Folder for the demo files (default: demo).")
    args = parser.parse_args(argv)
    engine = get_engine(database_url(args.db))
    migrate(engine)
    done = run(engine, args.out)
    print(f"flashsales demo: {done['categories']} categories, {done['merchants']} merchants with history in "
          f"{done['history']}; rate-limit team: {', '.join(done['ratelimit_team'])}; try "
          f"`flashsales submit --file {done['example']}`", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

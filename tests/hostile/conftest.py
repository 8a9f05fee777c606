"""The hostile-input corpus: each case through the public commands, asserting the named
error or the guarded outcome and that nothing stored changed."""

from __future__ import annotations

import pytest

from tests.hostile.support import copy_db


@pytest.fixture
def demo_copy(demo_db, tmp_path) -> str:
    """A private copy of the 60-system demo with its run history (tests may write to it)."""
    return copy_db(demo_db, tmp_path)

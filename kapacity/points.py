"""The stored-forecast point codec: the bytes of ``kapacity_forecast.points``.

Rows are the forecast, then one per quantile level, as little-endian float32,
compressed with zlib level 1 (deterministic: the same forecast gives the same
bytes). The forecast workers encode (:mod:`kapacity.runner`) and the read
functions decode (:mod:`kapacity.store`). It is a module of its own, not part of
``store``, so the workers stay free of the database layer: importing ``store``
(SQLModel, SQLAlchemy) would cost each worker about 40 MB and seconds of start-up.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from kapacity.forecast import Forecast


def encode_points(forecast: Forecast, levels: Sequence[float]) -> bytes:
    """forecast and quantile rows as little-endian float32, zlib level 1 (deterministic)."""
    rows = np.stack([forecast.mean, *[forecast.quantiles[q] for q in levels]]).astype("<f4")
    return zlib.compress(rows.tobytes(), 1)


def decode_points(blob: bytes, intervals: int) -> np.ndarray:
    """Back to a (rows, intervals) float array; row 0 is the forecast, then the quantiles."""
    if not blob:
        return np.zeros((0, intervals))
    return np.frombuffer(zlib.decompress(blob), dtype="<f4").reshape(-1, intervals).astype(float)


def points_rows(levels: Sequence[float]) -> list[str]:
    """Names of the encoded rows, stored with them: ``forecast``, then ``q0.9``, ``q0.99``..."""
    return ["forecast", *[f"q{q}" for q in levels]]

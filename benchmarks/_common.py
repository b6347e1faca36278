"""What the fit benchmarks share: RAF data from raflab itself, and an optional BLAS thread cap."""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from raflab.raf.config import RAFConfig
from raflab.raf.data import sample_raf


def raf_data(d: int, n: int, eps: float, seed: int):
    """(X, y) of one RAF instance with exactly n samples."""
    sample = sample_raf(RAFConfig(d=d, alpha=n / d, eps=eps), np.random.default_rng(seed))
    return sample.X, sample.y


def cap_blas_threads(n_threads: int | None):
    """Apply the cap (None: none); return the number of BLAS threads in use, for the report."""
    if n_threads is not None:
        threadpool_limits(n_threads, user_api="blas")
    return max((p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"), default="?")

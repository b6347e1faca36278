"""One way to seed: a Generator per (base seed, experiment keys), never a global seed."""

from __future__ import annotations

import numpy as np


def point_rng(seed: int, *keys: float) -> np.random.Generator:
    """Independent, reproducible stream for one seed at one parameter point.

    Float keys (alpha, eps, ...) are quantized to 1e-9 so that 0.1 typed twice is the same point.
    The same (seed, keys) always gives the same data, whatever else is in the sweep: a lam path
    shares its data, and a resumed sweep redraws exactly what it lost.
    """
    ints = [int(seed)] + [int(round(float(k) * 1e9)) % (2**63) for k in keys]
    return np.random.default_rng(np.random.SeedSequence(ints))

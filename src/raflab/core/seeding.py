"""One way to seed: a Generator per (base seed, experiment keys), never a global seed."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def point_rng(seed: int, *keys: float) -> np.random.Generator:
    """Independent, reproducible stream for one seed at one parameter point.

    Float keys (alpha, eps, ...) are quantized to 1e-9 so that 0.1 typed twice is the same point.
    The same (seed, keys) always gives the same data, whatever else is in the sweep: a lam path
    shares its data, and a resumed sweep redraws exactly what it lost.
    """
    return np.random.default_rng(seed_tree(seed, *keys))


def integer_rng(seed: int, *ids: int) -> np.random.Generator:
    """The stream ``SeedSequence([seed, *ids])`` of integer keys (a task or part number), unquantized:
    :func:`point_rng` of the same keys read as parameter values would scale them by 1e9.

    >>> a = integer_rng(0, 7).integers(1 << 30)
    >>> bool(a == np.random.default_rng(np.random.SeedSequence([0, 7])).integers(1 << 30))
    True
    """
    return np.random.default_rng(np.random.SeedSequence([int(seed), *(int(k) for k in ids)]))


def seed_tree(seed: int, *keys: float) -> np.random.SeedSequence:
    """The seed sequence of (seed, keys), quantized as :func:`point_rng` does: the root from which a
    run spawns its independent streams (``seed_tree(...).spawn(k)``)."""
    ints = [int(seed)] + [int(round(float(k) * 1e9)) % (2**63) for k in keys]
    return np.random.SeedSequence(ints)


def stream_seeds(seed: int, names: Sequence[str], *keys: float) -> dict[str, int]:
    """One independent 63-bit integer per named stream, all derived from one (seed, keys): what a torch
    ``Generator.manual_seed`` or ``torch.manual_seed`` takes. One integer never seeds two streams:
    ``stream_seeds(s, ("weights", "batches"))`` gives the weights and the batch order seeds that differ."""
    children = seed_tree(seed, *keys).spawn(len(names))
    return {name: int(child.generate_state(2, np.uint32).view(np.uint64)[0] >> np.uint64(1))
            for name, child in zip(names, children)}


def torch_generator(seed: int, device: str = "cpu"):
    """A ``torch.Generator`` on ``device`` seeded with ``seed`` (an integer from :func:`stream_seeds`)."""
    import torch

    g = torch.Generator(device=device)
    g.manual_seed(int(seed))
    return g

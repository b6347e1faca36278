"""Memory experiments: training points by name, the diffusion phases (memorized / spurious /
generalized fractions of samples) against K, and the sample records of one denoiser.

Each function runs the models of :mod:`raflab.memory.diffusion` and :mod:`raflab.memory.diffusion_models`
over a grid and returns records; the command line (:mod:`raflab.memory.cli`) only parses, calls and prints.
"""

from __future__ import annotations

import time
from typing import Callable

import torch

from raflab.core.images import load_images
from raflab.core.memory import FLOAT64, require_memory
from raflab.core.seeding import point_rng
from raflab.memory.diffusion import (
    ExactDenoiser,
    max_noise_level,
    pairwise_l2,
    phase_fractions,
    sample,
    schedule_for,
)
from raflab.memory.diffusion_models import TrainConfig, default_width, train_score_model
from raflab.memory.toy_data import gaussian_mixture, ring_points

POINT_DATASETS = ("ring", "mixture")
DATASETS = POINT_DATASETS + ("digits", "mnist", "fashion-mnist", "cifar10")


#: dimension of each data set's points (memory estimates before anything is loaded)
DIMENSION = {"ring": 2, "mixture": 2, "digits": 64, "mnist": 784, "fashion-mnist": 784, "cifar10": 3072}


def require_phase_memory(data: str, K: int, samples: int) -> None:
    """Refuse sampling and classifying against K training points whose arrays (the points, the
    samples x K distances and the exact score's chunk x K weights; float64) cannot fit in memory."""
    dim = DIMENSION.get(data, 3072)
    require_memory(FLOAT64 * (3 * K * dim + 3 * samples * dim + 3 * min(samples, 8192) * K + samples * K),
                   f"{samples:,} samples against K={K:,} training points ({data})")


def training_points(data: str, K: int, seed: int = 0, data_dir=None):
    """``(train (K, d) float32 tensor, image_shape or None)`` for a data set name.

    ``ring`` and ``mixture`` are drawn afresh (``point_rng(seed, K)``); image sets are a random
    subset of K images (without replacement), scaled to [-1, 1] and flattened.
    """
    K = int(K)
    if K < 1:
        raise ValueError(f"K must be >= 1, got {K}")
    if data not in DATASETS:
        raise ValueError(f"unknown data set {data!r}; choose one of {', '.join(DATASETS)}")
    rng = point_rng(seed, K)
    if data == "ring":
        return torch.as_tensor(ring_points(K, rng), dtype=torch.float32), None
    if data == "mixture":
        return torch.as_tensor(gaussian_mixture(K, rng), dtype=torch.float32), None
    images, _ = load_images(data, data_dir)
    if K > len(images):
        raise ValueError(f"K={K} exceeds the {len(images)} images of {data}")
    chosen = images[rng.choice(len(images), size=K, replace=False)]
    return torch.as_tensor(2 * chosen.reshape(K, -1) - 1), tuple(images.shape[1:])


def _generator(seed: int, *keys, device="cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(int(point_rng(seed, *keys).integers(2**62)))


def generate(denoiser, train: torch.Tensor, n_samples: int, schedule, seed: int = 0, sample_steps: int = 100,
             method: str = "ddim", device: str = "cpu") -> torch.Tensor:
    """``n_samples`` samples from ``denoiser`` (seeded by ``(seed, K)``), on ``device``."""
    gen = _generator(seed, train.shape[0], 1, device=device)
    return sample(denoiser, schedule, n_samples, gen, steps=sample_steps, method=method, dim=train.shape[1],
                  device=device)


def diffusion_phases(data: str, Ks, steps: int = 2000, samples: int = 1000, exact: bool = False,
                     schedule="ve", sampler: str = "ddim", sample_steps: int = 100, seed: int = 0,
                     device: str = "cpu", data_dir=None, net: str = "auto", width: int | None = None,
                     ratio: float = 1 / 3, quiet: bool = True, distance: Callable = pairwise_l2) -> list[dict]:
    """Memorized / spurious / generalized fractions of generated samples against K.

    For each K: draw K training points, train a denoiser with the same ``steps`` (or use the exact
    empirical denoiser when ``exact``), draw ``samples`` samples and classify them
    (:func:`classify_samples`).

    Returns
    -------
    list of records with keys ``data, K, memorized_fraction, spurious_fraction,
    generalized_fraction, steps, samples, exact, loss, seconds``.
    """
    if samples < 2:
        raise ValueError(f"samples must be >= 2 (spurious needs other samples), got {samples}")
    records = []
    for K in Ks:
        train, shape = training_points(data, K, seed, data_dir)
        sched = schedule_for(schedule, train)
        t0 = time.perf_counter()
        if exact:
            denoiser, loss, used_steps = ExactDenoiser(train.to(device)), float("nan"), 0
        else:
            kind = net if net != "auto" else ("unet" if shape is not None else "mlp")
            cfg = TrainConfig(net=kind, steps=steps, width=width or default_width(kind), seed=seed,
                              sigma_max=max_noise_level(sched))
            denoiser, rec = train_score_model(train, cfg, device=device, quiet=quiet, image_shape=shape)
            loss, used_steps = rec["loss"], rec["steps"]
        x = generate(denoiser, train, samples, sched, seed, sample_steps, sampler, device)
        fractions = phase_fractions(x, train.to(device), distance, ratio)
        records.append({"data": data, "K": int(train.shape[0]), **fractions, "steps": used_steps,
                        "samples": int(samples), "exact": bool(exact), "loss": loss,
                        "seconds": time.perf_counter() - t0})
    return records

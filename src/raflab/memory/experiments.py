"""Memory experiments on data sets (torch): each runs the models of this package over a grid (and over
seeds) and returns records; the command line (:mod:`raflab.memory.cli`) only parses, calls and prints.

Training points by name; the dense AM's attractors by kind against K (a mean over data sets,
:mod:`raflab.core.summary`); the diffusion phases (memorized / spurious / generalized fractions) against
K, one training run and the samples of one denoiser. The NumPy-only Hopfield tables are in
:mod:`raflab.memory.hopfield_experiments`.
"""

from __future__ import annotations

import time
from typing import Callable

import pandas as pd
import torch

from raflab.core.checks import one_of
from raflab.core.device import resolve_device
from raflab.core.images import load_images
from raflab.core.memory import FLOAT64, require_memory
from raflab.core.progress import track_rows
from raflab.core.seeding import point_rng, stream_seeds, torch_generator
from raflab.core.summary import summarize
from raflab.memory.associative import KINDS, SIMILARITIES, attractor_counts, require_attractor_memory
from raflab.memory.diffusion import (
    SAMPLERS,
    SCHEDULES,
    ExactDenoiser,
    VESchedule,
    classify_samples,
    default_sigma_max,
    max_noise_level,
    pairwise_l2,
    phase_fractions,
    sample,
    schedule_for,
)
from raflab.memory.diffusion_models import (
    NET_CHOICES,
    TrainConfig,
    default_width,
    load_score_model,
    resolve_net,
    train_score_model,
)
from raflab.memory.hopfield_experiments import check_Ks
from raflab.memory.toy_data import gaussian_mixture, ring_points


# ----------------------------------------------------------------------------------------------
# Dense AM attractors on the data sets


def check_attractor_run(beta: float, starts: int, seeds: int) -> None:
    """A clear error for an inverse temperature <= 0 or fewer than one start or data set."""
    if not beta > 0:
        raise ValueError(f"beta must be > 0 (got {beta:g})")
    if starts < 1 or seeds < 1:
        raise ValueError(f"starts and seeds must be >= 1 (got {starts}, {seeds})")


def attractors_against_K(data: str, Ks, beta: float = 20.0, starts: int = 512, seeds: int = 1,
                         similarity: str = "distance", seed: int = 0, device: str = "auto", data_dir=None,
                         progress: bool = False) -> pd.DataFrame:
    """Attractors of the dense AM by kind (stored / spurious / mean) against K, over ``seeds`` data sets.

    Data set ``s`` at K is ``training_points(data, K, seed + s)``, its starts drawn from
    ``point_rng(seed + s, K, beta, 1)``. One record per K: the mean over data sets of the counts
    ``n_<kind>``, the fractions of starts ``fraction_<kind>``, ``unconverged`` and ``saddles``, with
    ``<metric>_stderr`` for the counts and fractions and ``n_seeds`` (:func:`raflab.core.summary.summarize`).
    """
    one_of(data, DATASETS, "data set")
    Ks = check_Ks(Ks)
    check_attractor_run(beta, starts, seeds)
    one_of(similarity, SIMILARITIES, "similarity")
    require_attractor_memory(max(Ks), DIMENSION.get(data, 3072), starts)
    rows = []
    for k in track_rows(Ks, f"attractors ({data}, {starts} starts x {seeds} data set(s) per K)", enabled=progress,
                        unit="K"):
        for s in range(seeds):
            points, _ = training_points(data, k, seed + s, data_dir)
            counts = attractor_counts(points.double().numpy(), beta, n_starts=starts,
                                      rng=point_rng(seed + s, k, beta, 1), similarity=similarity, device=device)
            rows.append({"data": data, "K": k, "beta": beta, "starts": starts, "seed": seed + s, **counts})
    per_kind = [f"n_{kind}" for kind in KINDS] + [f"fraction_{kind}" for kind in KINDS]
    return summarize(pd.DataFrame(rows), ["data", "K", "beta", "starts"], per_kind + ["unconverged", "saddles"],
                     stderr_of=per_kind)


# ----------------------------------------------------------------------------------------------
# Diffusion: training points by name, and the fractions against K

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
    one_of(data, DATASETS, "data set")
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


def generate(denoiser, train: torch.Tensor, n_samples: int, schedule, seed: int = 0, sample_steps: int = 100,
             method: str = "ddim", device: str = "cpu") -> torch.Tensor:
    """``n_samples`` samples from ``denoiser`` on ``device``; their noise is the ``sampling`` stream of
    ``(seed, K)`` (:func:`raflab.core.seeding.stream_seeds`)."""
    gen = torch_generator(stream_seeds(seed, ("sampling",), train.shape[0])["sampling"], device)
    return sample(denoiser, schedule, n_samples, gen, steps=sample_steps, method=method, dim=train.shape[1],
                  device=device)


def diffusion_phases(data: str, Ks, steps: int = 2000, samples: int = 1000, exact: bool = False,
                     schedule="ve", sampler: str = "ddim", sample_steps: int = 100, seed: int = 0,
                     device: str = "cpu", data_dir=None, net: str = "auto", width: int | None = None,
                     ratio: float = 1 / 3, quiet: bool = True, distance: Callable = pairwise_l2) -> list[dict]:
    """Memorized / spurious / generalized fractions of generated samples against K.

    For each K: draw K training points, train a denoiser with the same ``steps`` (or use the exact
    empirical denoiser when ``exact``), draw ``samples`` samples and classify them
    (:func:`raflab.memory.diffusion.classify_samples`). Every argument is checked before any work.

    Returns
    -------
    list of records with keys ``data, K, memorized_fraction, spurious_fraction,
    generalized_fraction, steps, samples, exact, loss, seconds``.
    """
    one_of(data, DATASETS, "data set")
    Ks = check_Ks(Ks)
    _check_counts(steps=steps, sample_steps=sample_steps)
    if samples < 2:
        raise ValueError(f"samples must be >= 2 (spurious needs other samples), got {samples}")
    one_of(sampler, SAMPLERS, "sampler")
    one_of(net, NET_CHOICES, "network")
    if width is not None and width < 1:
        raise ValueError(f"width must be >= 1, got {width}")
    if isinstance(schedule, str):
        one_of(schedule, SCHEDULES, "schedule")
    require_phase_memory(data, max(Ks), samples)
    device = resolve_device(device)
    if data not in POINT_DATASETS:  # fail on a bad data_dir before any training
        training_points(data, 1, seed, data_dir)
    records = []
    for K in Ks:
        train, shape = training_points(data, K, seed, data_dir)
        sched = schedule_for(schedule, train)
        t0 = time.perf_counter()
        if exact:
            denoiser, loss, used_steps = ExactDenoiser(train.to(device)), float("nan"), 0
        else:
            kind = resolve_net(net, images=shape is not None)
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


def _check_counts(**counts) -> None:
    for name, value in counts.items():
        if value < 1:
            raise ValueError(f"{name.replace('_', '-')} must be >= 1, got {value}")


def train_denoiser(data: str = "ring", K: int = 100, steps: int = 2000, checkpoint=None, net: str = "auto",
                   width: int | None = None, sigma_max: float | None = None, seed: int = 0, device: str = "cpu",
                   data_dir=None, quiet: bool = True) -> dict:
    """Train one denoiser on K points of ``data`` (resumed from ``checkpoint`` when it exists): the record
    of :func:`raflab.memory.diffusion_models.train_score_model` with the data set and the checkpoint."""
    kind = resolve_net(net, images=one_of(data, DATASETS, "data set") not in POINT_DATASETS)
    if sigma_max is not None and not sigma_max > 0:
        raise ValueError(f"sigma-max must be > 0, got {sigma_max:g}")
    cfg = TrainConfig(net=kind, steps=steps, width=default_width(kind) if width is None else width, seed=seed,
                      sigma_max=sigma_max)
    device = resolve_device(device)
    points, shape = training_points(data, K, seed, data_dir)
    _, record = train_score_model(points, cfg, device=device, checkpoint=checkpoint, quiet=quiet, image_shape=shape,
                                  meta={"data": data, "K": K, "seed": seed})
    return {"data": data, **record, "checkpoint": None if checkpoint is None else str(checkpoint)}


def sample_denoiser(checkpoint=None, data: str = "ring", K: int = 100, samples: int = 1000, schedule="ve",
                    sampler: str = "ddim", sample_steps: int = 100, seed: int = 0, device: str = "cpu",
                    data_dir=None):
    """Samples of a trained denoiser (``checkpoint``) or, without one, of the exact empirical score on K
    points of ``data``, classified memorized / spurious / generalized.

    ``schedule``: a schedule object or ``"ve"`` / ``"vp"`` (:func:`raflab.memory.diffusion.schedule_from_options`);
    with a checkpoint, ``"ve"`` starts where the network's training noise range ends.

    Returns
    -------
    (record, samples, training points, labels, image_shape): the record has data, K, the three
    fractions, steps (0 for the exact score), samples and exact.
    """
    exact = checkpoint is None
    _check_counts(samples=samples, sample_steps=sample_steps)
    one_of(sampler, SAMPLERS, "sampler")
    if isinstance(schedule, str):
        one_of(schedule, SCHEDULES, "schedule")
    if exact:
        one_of(data, DATASETS, "data set")
        if K < 1:
            raise ValueError(f"K must be >= 1, got {K}")
        require_phase_memory(data, K, samples)
    device = resolve_device(device)
    if exact:
        points, shape = training_points(data, K, seed, data_dir)
        points = points.to(device)
        denoiser, steps, data_name = ExactDenoiser(points), 0, data
    else:
        denoiser, points, state = load_score_model(checkpoint, device)
        shape, steps, data_name = state["image_shape"], state["step"], state["meta"].get("data", "?")
        if schedule == "ve":  # start where the network's training noise range ends
            schedule = VESchedule(sigma_max=state["config"]["sigma_max"] or default_sigma_max(points))
    x = generate(denoiser, points, samples, schedule_for(schedule, points), seed, sample_steps, sampler, device)
    labels = classify_samples(x, points)
    record = {"data": data_name, "K": int(points.shape[0]),
              **{f"{k}_fraction": float(labels[k].float().mean()) for k in ("memorized", "spurious", "generalized")},
              "steps": steps, "samples": samples, "exact": exact}
    return record, x, points, labels, shape

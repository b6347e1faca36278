"""Memory experiments: each runs the models of this package over a grid (and over seeds) and returns
records; the command line (:mod:`raflab.memory.cli`) only parses, calls and prints.

Hopfield: the capacity record, the AGS theory line beside simulations, the dense associative memory
capacities, the ring toy's radius beside the dense AM's fixed point, and the attractors by kind against K
(a mean over data sets, :mod:`raflab.core.summary`). Diffusion: training points by name, the
memorized / spurious / generalized fractions against K, one training run and the samples of one denoiser.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
import pandas as pd
import torch

from raflab.core.checks import one_of
from raflab.core.device import resolve_device
from raflab.core.images import load_images
from raflab.core.memory import FLOAT64, require_memory
from raflab.core.progress import track_rows
from raflab.core.seeding import point_rng, stream_seeds, torch_generator
from raflab.core.summary import summarize
from raflab.memory.associative import (
    KINDS,
    SIMILARITIES,
    DenseAM,
    attractor_counts,
    require_attractor_memory,
)
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
from raflab.memory.hopfield_theory import (
    capacity_alpha_c,
    dense_am_capacity_exponential,
    dense_am_capacity_polynomial,
    retrieval_overlap,
    ring_energy,
    ring_radius,
)
from raflab.memory.toy_data import gaussian_mixture, ring_points


def check_Ks(Ks) -> list[int]:
    """The numbers of memories / training points: integers >= 1."""
    values = np.atleast_1d(np.asarray(Ks, dtype=float))
    if values.size == 0 or np.any(values < 1) or np.any(values != np.round(values)):
        raise ValueError(f"K must be integers >= 1 (got {values.tolist()})")
    return [int(v) for v in values]


# ----------------------------------------------------------------------------------------------
# Hopfield


def capacity_records(xtol: float = 1e-7) -> list[dict]:
    """alpha_c of the T = 0 Hopfield model (:func:`raflab.memory.hopfield_theory.capacity_alpha_c`) as a record."""
    if not xtol > 0:
        raise ValueError(f"xtol must be > 0 (got {xtol:g})")
    c = capacity_alpha_c(xtol=xtol)
    return [{"alpha_c": c["alpha_c"], "overlap_c": c["overlap_c"], "alpha_lo": c["bracket"][0],
             "alpha_hi": c["bracket"][1], "method": "continuation + bisection"}]


def hopfield_theory_line(alphas, points: int = 400) -> tuple[pd.DataFrame, float]:
    """The AGS retrieval overlap on a fine grid covering ``alphas`` (and at least [0.01, 0.2]), and alpha_c:
    what :func:`raflab.memory.plots.plot_hopfield_overlap` draws beside simulations."""
    alphas = np.asarray(alphas, dtype=float)
    line = pd.DataFrame(retrieval_overlap(np.linspace(min(0.01, alphas.min()), max(0.2, alphas.max()), points)))
    return line, capacity_alpha_c()["alpha_c"]


def dense_capacity_records(Ns, degrees, rhos, error_rate: float = 0.01) -> list[dict]:
    """Dense associative memory capacities: K for F(x) = x^degree (three criteria) at each N, and
    exp(a N) for F = exp at each cue corruption rho (both criteria)."""
    Ns, degrees, rhos = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (Ns, degrees, rhos))
    if np.any(Ns < 2):
        raise ValueError(f"n must be >= 2 (got {Ns.tolist()})")
    if np.any(degrees < 2) or np.any(degrees != np.round(degrees)):
        raise ValueError(f"degree must be integers >= 2 (got {degrees.tolist()})")
    rows = []
    for d in degrees.astype(int):
        for N in Ns:
            rows.append({"separation": f"x^{d}", "N": int(N), "rho": 0.0,
                         **{f"K_{c}": float(dense_am_capacity_polynomial(N, d, c, error_rate))
                            for c in ("pattern", "all", "error_rate")}})
    for r in rhos:
        a_all = float(dense_am_capacity_exponential(r, "all"))
        a_typ = float(dense_am_capacity_exponential(r, "typical"))
        for N in Ns:
            rows.append({"separation": "exp", "N": int(N), "rho": float(r), "K_pattern": float(np.exp(a_typ * N)),
                         "K_all": float(np.exp(a_all * N)), "K_error_rate": np.nan,
                         "exponent_all": a_all, "exponent_typical": a_typ})
    return rows


def ring_records(betas, K: int = 4096) -> pd.DataFrame:
    """R*(beta), the minimum of the K -> infinity ring energy, beside the dense AM's fixed point on K
    equally spaced memories from (0.5, 0.2) (``K = 0``: theory only)."""
    betas = np.atleast_1d(np.asarray(betas, dtype=float))
    R = ring_radius(betas)  # checks beta > 0
    if K < 0:
        raise ValueError(f"K must be >= 1 (or 0 for theory only), got {K}")
    require_memory(FLOAT64 * 8 * K, f"the ring of K={K:,} memories")
    df = pd.DataFrame({"beta": betas, "R_star": R, "R_large_beta": 1.0 - 1.0 / (4.0 * betas),
                       "energy_min": ring_energy(R, betas)})
    if K > 0:
        theta = 2.0 * np.pi * np.arange(K) / K
        X = np.stack([np.cos(theta), np.sin(theta)], axis=1)
        found = []
        for b in betas:
            x, ok, _ = DenseAM(float(b), device="cpu").fit(X).run([[0.5, 0.2]], tol=1e-13)
            found.append(float(np.linalg.norm(x[0])) if ok[0] else np.nan)
        df["K"] = K
        df["R_dense_am"] = found
    return df


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
    if not beta > 0:
        raise ValueError(f"beta must be > 0 (got {beta:g})")
    if starts < 1 or seeds < 1:
        raise ValueError(f"starts and seeds must be >= 1 (got {starts}, {seeds})")
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

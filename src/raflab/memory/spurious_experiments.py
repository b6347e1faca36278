"""Spurious states as attractors, against K and over seeds (issue 21, part 6): the diffusion samples
labelled spurious checked as fixed points of the probability-flow map, their basins beside the training
points' basins, and the dense AM's attractors with the generalized kind. Mechanics:
:mod:`raflab.memory.spurious`; the command line (``raflab diffusion attractors``, ``raflab hopfield
generalized``) only parses, calls and prints.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import torch

from raflab.core.checks import one_of
from raflab.core.device import resolve_device
from raflab.core.progress import track_rows
from raflab.core.seeding import point_rng, stream_seeds, torch_generator
from raflab.core.summary import summarize
from raflab.memory.associative import _greedy_clusters
from raflab.memory.diffusion import classify_samples, max_noise_level, schedule_for
from raflab.memory.diffusion_models import TrainConfig, default_width, resolve_net, train_score_model
from raflab.memory.experiments import check_attractor_run, generate, training_points
from raflab.memory.hopfield_experiments import check_Ks
from raflab.memory.spurious import (
    KINDS_WITH_MANIFOLD,
    MANIFOLD_DATASETS,
    attractor_counts_with_manifold,
    basin_radius,
    check_attractors,
    manifold_for,
    return_basin,
    sigma_to_t,
)

#: per-seed metrics of :func:`spurious_attractors_against_K` (each gets a mean, a stderr and a 95 % interval)
DIFFUSION_METRICS = ("memorized_fraction", "spurious_fraction", "generalized_fraction", "checked",
                     "fixed_fraction", "fixed_memorized_fraction", "on_manifold_fraction", "confirmed_fraction",
                     "distinct_confirmed", "distinct_fixed", "basin_fixed", "basin_fixed_relative",
                     "residual_median", "manifold_distance_median", "basin_spurious", "basin_train",
                     "basin_spurious_relative", "basin_train_relative")


def _data_scale(train: torch.Tensor) -> float:
    """RMS distance of the training points to their mean (1 for the ring)."""
    spread = float(((train - train.mean(0)) ** 2).sum(1).mean().sqrt()) if len(train) > 1 else 0.0
    return spread if spread > 0 else 1.0


def _distinct(check: pd.DataFrame, column: str, samples, train, ratio: float) -> torch.Tensor:
    """The distinct fixed points x* of the checked samples where ``column`` holds (many samples end on
    the same attractor: greedy clusters of radius ratio x the smallest distance to a training point)."""
    if not len(check):
        return samples[:0]
    keep = check["fixed"] & ~check["memorized"] if column == "fixed_not_memorized" else check[column]
    pts = check.attrs["fixed_points"][torch.tensor(keep.to_numpy(dtype=bool))]
    if not len(pts):
        return pts
    reps, _ = _greedy_clusters(pts.double().cpu().numpy(), float(basin_radius(pts, train, ratio).min()))
    return torch.as_tensor(reps).to(samples)


def spurious_one(denoiser, schedule, train: torch.Tensor, manifold, samples: torch.Tensor, seed: int,
                 sigma0: float, max_checked: int = 200, basin_points: int = 10, trials: int = 20,
                 sigma_grid=None, ratio: float = 1 / 3) -> dict:
    """One denoiser's samples: labels, the attractor check of (up to ``max_checked``) spurious samples
    and the return basins of (up to ``basin_points``) distinct confirmed spurious attractors
    (``basin_spurious``), of distinct fixed points that are not training points whether on the manifold
    or not (``basin_fixed``: the paper's spurious states on the ring lie between data points, on the
    circle) and of training points (``basin_train``).

    Basins are critical noise levels (``return_basin``, probability 0.9) on ``sigma_grid``; the
    ``_relative`` values divide each by the distance that separates the point from its nearest other
    memory (``radius / ratio``), which is 1 / (2 Phi^-1(0.9)) = 0.39 for an isolated pair.
    """
    labels = classify_samples(samples, train, ratio=ratio)
    rec = {f"{k}_fraction": float(labels[k].float().mean()) for k in ("memorized", "spurious", "generalized")}
    spurious = samples[labels["spurious"]][:max_checked]
    check = check_attractors(denoiser, schedule, spurious, train, manifold, sigma0, ratio=ratio)
    rec["checked"] = len(check)
    for key, col in (("fixed_fraction", "fixed"), ("fixed_memorized_fraction", "memorized"),
                     ("on_manifold_fraction", "on_manifold"), ("confirmed_fraction", "confirmed")):
        rec[key] = float(check[col].mean()) if len(check) else math.nan
    rec["residual_median"] = float(check["residual"].median()) if len(check) else math.nan
    rec["manifold_distance_median"] = float(check["manifold_distance"].median()) if len(check) else math.nan
    t_grid = [sigma_to_t(schedule, s) for s in sigma_grid]
    gen = torch_generator(stream_seeds(seed, ("basins",), len(train))["basins"], samples.device)
    confirmed = _distinct(check, "confirmed", samples, train, ratio)
    fixed_new = _distinct(check, "fixed_not_memorized", samples, train, ratio)
    rec["distinct_confirmed"], rec["distinct_fixed"] = len(confirmed), len(fixed_new)
    for name, pts, others in (("spurious", confirmed[:basin_points], train), ("fixed", fixed_new[:basin_points], train),
                              ("train", train[:basin_points], train)):
        if len(pts) == 0 or (name == "train" and len(train) < 2):
            rec[f"basin_{name}"] = rec[f"basin_{name}_relative"] = math.nan
            continue
        radius = basin_radius(pts, others, ratio)
        out = return_basin(denoiser, schedule, pts, radius, gen, t_grid, trials=trials)
        crit = out["critical_sigma"].to(radius)
        rec[f"basin_{name}"] = float(crit.median())
        rec[f"basin_{name}_relative"] = float((crit / (radius / ratio)).median())
    return rec


def spurious_attractors_against_K(data: str, Ks, seeds: int = 3, seed: int = 0, steps: int = 2000,
                                  samples: int = 500, net: str = "auto", width: int | None = None,
                                  sigma0: float = 0.02, sample_steps: int = 100, max_checked: int = 200,
                                  basin_points: int = 10, trials: int = 20, device: str = "cpu", data_dir=None,
                                  progress: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train a denoiser per (K, seed) (data set ``seed + s``), sample, and check the spurious labels.

    ``sigma0`` (the flow map's noise level) and the basin grid (12 levels log-spaced from 0.01 to 1)
    are in units of the data scale (RMS distance of the training points to their mean). Returns
    ``(summary, per_seed)``: one row per K with, for each of :data:`DIFFUSION_METRICS`, the mean,
    ``_stderr``, ``_ci95_low`` / ``_ci95_high`` (:func:`raflab.core.summary.summarize`), and the per-seed
    records.
    """
    one_of(data, MANIFOLD_DATASETS, "data set with a known manifold")
    Ks = check_Ks(Ks)
    if seeds < 1 or steps < 1 or samples < 2 or sample_steps < 1 or max_checked < 1 or basin_points < 1 or trials < 1:
        raise ValueError("seeds, steps, sample-steps, max-checked, basin-points and trials must be >= 1 and "
                         f"samples >= 2 (got {seeds}, {steps}, {sample_steps}, {max_checked}, {basin_points}, "
                         f"{trials}, {samples})")
    if not 0 < sigma0 < 1:
        raise ValueError(f"sigma0 must be in (0, 1) (units of the data scale), got {sigma0:g}")
    kind = resolve_net(net, images=data != "ring")
    device = resolve_device(device)
    rows = []
    grid = [(K, s) for K in Ks for s in range(seeds)]
    for K, s in track_rows(grid, f"spurious attractors ({data}, {seeds} seed(s) per K)", enabled=progress,
                           unit="runs"):
        t0 = time.perf_counter()
        train, shape = training_points(data, K, seed + s, data_dir)
        sched = schedule_for("ve", train)
        cfg = TrainConfig(net=kind, steps=steps, width=width or default_width(kind), seed=seed + s,
                          sigma_max=max_noise_level(sched))
        denoiser, rec = train_score_model(train, cfg, device=device, image_shape=shape)
        x = generate(denoiser, train, samples, sched, seed + s, sample_steps, "ddim", device)
        scale = _data_scale(train)
        sigma_grid = scale * np.logspace(-2, 0, 12)
        out = spurious_one(denoiser, sched, train.to(device), manifold_for(data, K, seed + s, data_dir), x, seed + s,
                           sigma0 * scale, max_checked, basin_points, trials, sigma_grid)
        rows.append({"data": data, "K": K, "seed": seed + s, "steps": steps, "samples": samples, **out,
                     "loss": rec["loss"], "seconds": time.perf_counter() - t0})
    per_seed = pd.DataFrame(rows)
    metrics = list(DIFFUSION_METRICS)
    summary = summarize(per_seed, ["data", "K", "steps", "samples"], metrics, ci95_of=metrics)
    return summary, per_seed


def generalized_attractors_against_K(data: str, Ks, beta: float = 20.0, starts: int = 256, seeds: int = 3,
                                     seed: int = 0, device: str = "auto", data_dir=None,
                                     progress: bool = False) -> pd.DataFrame:
    """The dense AM's attractors by kind (stored / spurious / generalized / mean) against K, over
    ``seeds`` data sets (``training_points(data, K, seed + s)``, starts from ``point_rng(seed + s, K, beta,
    1)``, as :func:`raflab.memory.experiments.attractors_against_K`), with 95 % intervals."""
    one_of(data, MANIFOLD_DATASETS, "data set with a known manifold")
    Ks = check_Ks(Ks)
    check_attractor_run(beta, starts, seeds)
    rows = []
    grid = [(K, s) for K in Ks for s in range(seeds)]
    for K, s in track_rows(grid, f"dense AM attractors with the manifold ({data})", enabled=progress, unit="runs"):
        points, _ = training_points(data, K, seed + s, data_dir)
        counts = attractor_counts_with_manifold(points.double().numpy(), beta, manifold_for(data, K, seed + s, data_dir),
                                                starts, point_rng(seed + s, K, beta, 1), device=device)
        rows.append({"data": data, "K": K, "beta": beta, "starts": starts, "seed": seed + s, **counts})
    metrics = [f"{m}_{k}" for m in ("n", "fraction") for k in KINDS_WITH_MANIFOLD] + ["curvature_nonstored"]
    return summarize(pd.DataFrame(rows), ["data", "K", "beta", "starts"], metrics + ["unconverged", "saddles"],
                     stderr_of=metrics, ci95_of=metrics)

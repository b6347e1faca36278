"""Spurious states as attractors (issue 21, part 6): is a sample labelled spurious a fixed point of the
sampler that is neither a training point nor on the data manifold, and how large is its basin?

:func:`raflab.memory.diffusion.classify_samples` labels a sample *spurious* by a proxy (another sample
is much closer than any training point). Here each such sample ``x`` is tested directly:

1. **Fixed point.** ``Phi(x)`` is the probability-flow map from noise level ``sigma0``: treat ``x`` as
   the noise-free point at time ``t0`` (``x_t0 = a_t0 x``, ``s_t0 / a_t0 = sigma0``) and integrate the
   deterministic probability-flow ODE (DDIM, ``steps`` steps) back to ``t_min``. Fixed points of
   ``Phi`` are the points the sampler keeps returning to. ``Phi`` is iterated ``iterations`` times
   from ``x``, giving ``x*``; the **residual** is ``|Phi(x*) - x*| / d1(x*)`` (``d1``: distance to the
   nearest training point, the scale that separates ``x*`` from a memory), the **displacement** is
   ``|x* - x| / d1(x)``. ``x`` is confirmed a fixed point when residual <= ``fixed_tol`` (default
   0.01) and displacement <= ``ratio`` (1/3: the sample stays where it was, in the same sense as the
   ratio test).
2. **Not a training point**: ``x*`` fails the nearest-neighbour ratio test (``d1 / d2 >= ratio``).
3. **Not on the data manifold**: ``manifold_distance(x*) > manifold_tol``. The manifold is a
   :class:`Manifold`: the unit circle for the ring (distance ``| |x| - 1 |``), and for images the
   held-out images of the data set (distance to the nearest held-out image, tolerance the 95th
   percentile of the distance of a held-out image to its nearest other held-out image: "as close to a
   real image as 95 % of real images are to their nearest other").

A sample passing all three is a **confirmed spurious attractor**. Its basin is measured as for training
points (:func:`return_basin`): noise it to time t (``trials`` draws per t), run DDIM back, count a
return when the end point is within ``ratio`` x (its distance to the nearest *other* attractor or
training point) of it; the critical noise level is the largest grid value up to which the return
probability stays >= ``prob``.

The dense associative memory's counterpart (:func:`label_with_manifold`): an attractor that is neither
stored nor the mean is **generalized** when it lies on the manifold, **spurious** otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
import torch

from raflab.core.checks import one_of
from raflab.core.images import load_images
from raflab.core.seeding import point_rng
from raflab.memory.diffusion import _two_nearest, pairwise_l2, sample

#: data sets with a known manifold: the ring (exact) and scikit-learn's digits (held-out images)
MANIFOLD_DATASETS = ("ring", "digits")
#: the ring's manifold tolerance: | |x| - 1 | <= 0.05 (5 % of the radius) counts as on the circle
RING_TOLERANCE = 0.05
#: the dense AM's kinds with the manifold: generalized = on the manifold, neither stored nor the mean
KINDS_WITH_MANIFOLD = ("stored", "spurious", "generalized", "mean")


@dataclass
class Manifold:
    """A data manifold: ``distance(x) -> (n,)`` tensor and the tolerance under which a point is on it."""

    name: str
    distance: Callable
    tolerance: float

    def on(self, x: torch.Tensor) -> torch.Tensor:
        return self.distance(x) <= self.tolerance


def ring_manifold(tolerance: float = RING_TOLERANCE) -> Manifold:
    """The unit circle: distance ``| |x| - 1 |``."""
    if not tolerance > 0:
        raise ValueError(f"manifold tolerance must be > 0, got {tolerance:g}")
    return Manifold("unit circle", lambda x: (torch.linalg.vector_norm(torch.as_tensor(x), dim=1) - 1).abs(),
                    float(tolerance))


def held_out_points(data: str, K: int, seed: int = 0, data_dir=None) -> torch.Tensor:
    """The images of ``data`` not among the K training images of
    :func:`raflab.memory.experiments.training_points` (same seed, same draw), scaled to [-1, 1] and
    flattened."""
    images, _ = load_images(data, data_dir)
    if not 1 <= K < len(images):
        raise ValueError(f"K must be in [1, {len(images) - 1}] to leave held-out images of {data}, got {K}")
    chosen = point_rng(seed, int(K)).choice(len(images), size=int(K), replace=False)  # as training_points
    rest = np.setdiff1d(np.arange(len(images)), chosen)
    return torch.as_tensor(2 * images[rest].reshape(len(rest), -1) - 1)


def held_out_manifold(held_out: torch.Tensor, quantile: float = 0.95) -> Manifold:
    """Distance to the nearest held-out point; tolerance the ``quantile`` of the held-out points' own
    nearest-other-held-out distances."""
    held_out = torch.as_tensor(held_out, dtype=torch.float64)
    if len(held_out) < 2:
        raise ValueError("a held-out manifold needs at least two held-out points")
    own = _two_nearest(held_out, held_out, pairwise_l2, exclude_self=True)[0]
    tol = float(torch.quantile(own, quantile))
    return Manifold(f"{len(held_out)} held-out points",
                    lambda x: _two_nearest(torch.as_tensor(x).to(held_out), held_out, pairwise_l2)[0], tol)


def manifold_for(data: str, K: int, seed: int = 0, data_dir=None) -> Manifold:
    """The ring's circle or the digits' held-out images (for the training set of (data, K, seed))."""
    one_of(data, MANIFOLD_DATASETS, "data set with a known manifold")
    return ring_manifold() if data == "ring" else held_out_manifold(held_out_points(data, K, seed, data_dir))


# ----------------------------------------------------------------------------------------------
# Diffusion: fixed points of the probability-flow map


def sigma_to_t(schedule, sigma0: float) -> float:
    """The time at which ``s_t / a_t = sigma0`` (bisection on the monotone schedule)."""
    lo, hi = (0.0 if schedule.kind == "ve" else schedule.t_min), 1.0
    ratio = lambda t: float((lambda a, s: s / a)(*schedule.alpha_sigma(torch.tensor([t], dtype=torch.float64))))  # noqa: E731
    if not ratio(lo) < sigma0 < ratio(hi):
        raise ValueError(f"sigma0 must be inside the schedule's noise range ({ratio(lo):.3g}, {ratio(hi):.3g}), "
                         f"got {sigma0:g}")
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if ratio(mid) < sigma0 else (lo, mid)
    return 0.5 * (lo + hi)


def flow_map(denoiser, schedule, x: torch.Tensor, t0: float, steps: int = 20) -> torch.Tensor:
    """``Phi(x)``: ``x`` placed noise-free at time ``t0`` (``a_t0 x``), then DDIM back to ``t_min``."""
    a0 = float(schedule.alpha_sigma(torch.tensor([t0], dtype=torch.float64))[0])
    return sample(denoiser, schedule, len(x), torch.Generator(device=x.device), steps=steps, method="ddim",
                  t_start=t0, x_start=a0 * x, device=x.device, dtype=x.dtype)


def check_attractors(denoiser, schedule, points: torch.Tensor, train: torch.Tensor, manifold: Manifold | None,
                     sigma0: float, steps: int = 20, iterations: int = 10, fixed_tol: float = 0.01,
                     ratio: float = 1 / 3) -> pd.DataFrame:
    """For each of ``points``: iterate the flow map, then test fixed point / training point / manifold.

    Returns a DataFrame, one row per point: ``residual``, ``displacement`` (both relative to the
    distance to the nearest training point, see the module docstring), ``fixed`` (residual <=
    fixed_tol and displacement <= ratio), ``memorized`` (x* passes the ratio test), ``manifold_distance``
    and ``on_manifold`` (NaN / False without a manifold), ``confirmed`` (fixed, not memorized, off the
    manifold) and ``d_train`` (of x*).
    """
    if not 0 < ratio < 1:
        raise ValueError(f"ratio must be in (0, 1), got {ratio:g}")
    if not fixed_tol > 0 or iterations < 1 or steps < 1:
        raise ValueError(f"need fixed_tol > 0, iterations >= 1 and steps >= 1 (got {fixed_tol:g}, {iterations}, {steps})")
    points = torch.as_tensor(points)
    train = torch.as_tensor(train).to(points)
    if len(points) == 0:
        return pd.DataFrame(columns=["residual", "displacement", "fixed", "memorized", "manifold_distance",
                                     "on_manifold", "confirmed", "d_train"])
    t0 = sigma_to_t(schedule, sigma0)
    x = points.clone()
    for _ in range(iterations):
        x = flow_map(denoiser, schedule, x, t0, steps)
    moved = flow_map(denoiser, schedule, x, t0, steps)
    d1, d2, _ = _two_nearest(x, train, pairwise_l2)
    d1_start = _two_nearest(points, train, pairwise_l2)[0]
    residual = torch.linalg.vector_norm(moved - x, dim=1) / d1.clamp_min(1e-300)
    displacement = torch.linalg.vector_norm(x - points, dim=1) / d1_start.clamp_min(1e-300)
    fixed = (residual <= fixed_tol) & (displacement <= ratio)
    memorized = d1 < ratio * d2
    if manifold is None:
        mdist, on = torch.full_like(d1, math.nan), torch.zeros_like(fixed)
    else:
        mdist = manifold.distance(x).to(d1)
        on = mdist <= manifold.tolerance
    out = {"residual": residual, "displacement": displacement, "fixed": fixed, "memorized": memorized,
           "manifold_distance": mdist, "on_manifold": on, "confirmed": fixed & ~memorized & ~on, "d_train": d1}
    frame = pd.DataFrame({k: v.detach().cpu().numpy() for k, v in out.items()})
    frame.attrs["fixed_points"] = x
    return frame


def return_basin(denoiser, schedule, points: torch.Tensor, radius: torch.Tensor, generator: torch.Generator,
                 t_grid, trials: int = 20, steps: int = 30, prob: float = 0.9) -> dict:
    """Return probability of each point after noising to each t of ``t_grid`` and DDIM back, a return
    being an end point within ``radius[i]`` of point i; the critical t (and ``sigma = s_t / a_t``) is the
    largest grid value up to which the probability stays >= ``prob`` (0 when it fails at the first).

    For a training point with ``radius = ratio x`` (distance to its nearest other training point) this
    is :func:`raflab.memory.diffusion.basin_size`'s recovery up to the ratio test's exact form.
    """
    if not 0 < prob <= 1:
        raise ValueError(f"prob must be in (0, 1], got {prob:g}")
    if trials < 1:
        raise ValueError(f"trials must be >= 1, got {trials}")
    points = torch.as_tensor(points)
    radius = torch.as_tensor(radius).to(points)
    t_grid = torch.as_tensor(t_grid, dtype=torch.float64)
    n = len(points)
    repeated = points.repeat_interleave(trials, 0)
    recovery = torch.empty(n, len(t_grid))
    for j, t in enumerate(t_grid):
        a, s = (float(v) for v in schedule.alpha_sigma(t.reshape(1)))
        x_t = a * repeated + s * torch.randn(repeated.shape, generator=generator, device=points.device,
                                             dtype=points.dtype)
        out = sample(denoiser, schedule, len(x_t), generator, steps=steps, method="ddim", t_start=float(t),
                     x_start=x_t, device=points.device, dtype=points.dtype)
        back = torch.linalg.vector_norm(out - repeated, dim=1) <= radius.repeat_interleave(trials)
        recovery[:, j] = back.float().reshape(n, trials).mean(1).cpu()
    run = torch.cumprod((recovery >= prob).int(), dim=1).sum(1)
    crit_t = torch.where(run > 0, t_grid[(run - 1).clamp_min(0)], torch.zeros((), dtype=torch.float64))
    a_c, s_c = schedule.alpha_sigma(crit_t)
    return {"t_grid": t_grid, "recovery": recovery, "critical_t": crit_t,
            "critical_sigma": torch.where(run > 0, s_c / a_c, torch.zeros((), dtype=torch.float64))}


def basin_radius(points: torch.Tensor, others: torch.Tensor, ratio: float = 1 / 3) -> torch.Tensor:
    """``ratio`` x the distance of each point to the nearest of ``others`` that is not itself."""
    points, others = torch.as_tensor(points), torch.as_tensor(others).to(points)
    d = pairwise_l2(points, others)
    d = torch.where(d > 0, d, torch.full_like(d, torch.inf))
    return ratio * d.min(1).values


# ----------------------------------------------------------------------------------------------
# Dense associative memory: the generalized label


def label_with_manifold(kinds, points, manifold: Manifold) -> np.ndarray:
    """Relabel the dense AM's ``spurious`` attractors that lie on ``manifold`` as ``generalized``
    (stored and mean keep their labels)."""
    kinds = np.asarray(kinds, dtype=object).copy()
    pts = torch.as_tensor(np.array(points, dtype=float).reshape(len(kinds), -1))
    if len(kinds):
        on = manifold.on(pts).cpu().numpy()
        kinds[(kinds == "spurious") & on] = "generalized"
    return kinds.astype(str)


def attractor_counts_with_manifold(patterns, beta: float, manifold: Manifold, n_starts: int = 512,
                                   rng: np.random.Generator | None = None, similarity: str = "distance",
                                   device: str = "auto", **kwargs) -> dict:
    """:func:`raflab.memory.associative.attractor_counts` with the generalized kind: counts ``n_<kind>``
    and fractions of starts ``fraction_<kind>`` for stored / spurious / generalized / mean, plus
    n_starts, unconverged, saddles and ``curvature_nonstored``: the mean curvature (in units of the
    stability bound, :meth:`DenseAM.curvature`) of the attractors that are not stored and not the mean
    (NaN when there are none): well below 1 for isolated wells, near 1 for a flat continuum."""
    from raflab.memory.associative import DenseAM

    att = DenseAM(beta, similarity=similarity, device=device).fit(patterns).attractors(n_starts=n_starts, rng=rng,
                                                                                        **kwargs)
    d = np.asarray(patterns).shape[1]
    coords = np.stack(att["x"].to_numpy()) if "x" in att.columns else att[[f"x{i}" for i in range(d)]].to_numpy()
    kinds = label_with_manifold(att["kind"].to_numpy(), coords.reshape(len(att), d), manifold)
    total = max(1, int(att["count"].sum()))
    out = {}
    for kind in KINDS_WITH_MANIFOLD:
        sel = kinds == kind
        out[f"n_{kind}"] = int(sel.sum())
        out[f"fraction_{kind}"] = float(att["count"].to_numpy()[sel].sum() / total)
    mixtures = (kinds == "spurious") | (kinds == "generalized")
    out["curvature_nonstored"] = float(att["curvature"].to_numpy()[mixtures].mean()) if mixtures.any() else math.nan
    out.update(n_starts=att.attrs["n_starts"], unconverged=att.attrs["unconverged"], saddles=att.attrs["saddles"])
    return out

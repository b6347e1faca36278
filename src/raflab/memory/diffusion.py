"""Diffusion models as associative memories, the closed forms: schedules, the exact empirical
denoiser, the reverse samplers, and the memorized / spurious / generalized classification of samples
(issue 7). Trained denoiser networks: :mod:`raflab.memory.diffusion_models`; the experiments (training
points by name, the fractions against K): :mod:`raflab.memory.experiments`.

Corruption ``x_t = a_t x_0 + s_t z``: variance exploding (``a_t = 1``, ``s_t = sigma_t``) or
variance preserving / DDPM (``a_t = sqrt(alpha_bar_t)``, ``s_t^2 = 1 - alpha_bar_t``). For the
empirical distribution of K training points the optimal (MMSE) denoiser is the dense-associative-
memory update

    D*(x, t) = sum_mu softmax_mu(-|x - a_t xi_mu|^2 / (2 s_t^2)) xi_mu,
    score(x, t) = (a_t D*(x, t) - x) / s_t^2,

which :func:`exact_denoiser` evaluates with a streaming logsumexp over chunks of K (memory is
O(queries x chunk), not O(queries x K)). ``x / a_t`` is the VE variable with noise level
``sigma = s_t / a_t``: a network is trained once as a VE denoiser (EDM preconditioning, Karras et al.
2022) and serves both schedules.

Example
-------
>>> import numpy as np, torch
>>> from raflab.memory.toy_data import ring_points
>>> train = torch.as_tensor(ring_points(9, np.random.default_rng(0)))
>>> x = sample(ExactDenoiser(train), VESchedule(), 200, torch.Generator().manual_seed(0), dim=2)
>>> classify_samples(x, train)["memorized"].float().mean() >= 0.99
tensor(True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch

from raflab.core.checks import one_of

#: the noise schedules and the reverse samplers, by the names a user types
SCHEDULES = ("ve", "vp")
SAMPLERS = ("ddim", "em")

# ----------------------------------------------------------------------------------------------
# Schedules


@dataclass(frozen=True)
class VESchedule:
    """Variance exploding: ``a_t = 1``, ``s_t = sigma_min (sigma_max / sigma_min)^t`` for t in [0, 1]."""

    sigma_min: float = 1e-5
    sigma_max: float = 3.0
    kind: str = "ve"

    def __post_init__(self):
        if not 0 < self.sigma_min < self.sigma_max:
            raise ValueError(f"need 0 < sigma_min < sigma_max, got {self.sigma_min:g}, {self.sigma_max:g}")

    def alpha_sigma(self, t: torch.Tensor):
        return torch.ones_like(t), self.sigma_min * (self.sigma_max / self.sigma_min) ** t

    def drift_diffusion(self, t: torch.Tensor):
        """``f(t)`` and ``g(t)^2`` of the forward SDE ``dx = f x dt + g dW``."""
        _, s = self.alpha_sigma(t)
        return torch.zeros_like(t), 2 * s**2 * math.log(self.sigma_max / self.sigma_min)


@dataclass(frozen=True)
class VPSchedule:
    """Variance preserving (continuous DDPM): ``beta(t) = beta_min + (beta_max - beta_min) t``,
    ``alpha_bar_t = exp(-int_0^t beta)``; ``t_min`` is where sampling stops."""

    beta_min: float = 0.1
    beta_max: float = 20.0
    t_min: float = 1e-9
    kind: str = "vp"

    def __post_init__(self):
        if not 0 < self.beta_min <= self.beta_max:
            raise ValueError(f"need 0 < beta_min <= beta_max, got {self.beta_min:g}, {self.beta_max:g}")
        if not 0 < self.t_min < 1:
            raise ValueError(f"t_min must be in (0, 1), got {self.t_min:g}")

    def alpha_sigma(self, t: torch.Tensor):
        log_alpha_bar = -(self.beta_min * t + 0.5 * (self.beta_max - self.beta_min) * t**2)
        # expm1 keeps s_t accurate at small t, where 1 - alpha_bar would cancel
        return torch.exp(0.5 * log_alpha_bar), torch.sqrt(-torch.expm1(log_alpha_bar))

    def drift_diffusion(self, t: torch.Tensor):
        beta = self.beta_min + (self.beta_max - self.beta_min) * t
        return -0.5 * beta, beta


def make_schedule(kind: str = "ve", **params):
    """``ve`` or ``vp`` with its parameters (``sigma_min, sigma_max`` or ``beta_min, beta_max``)."""
    one_of(kind, SCHEDULES, "schedule")
    return VESchedule(**params) if kind == "ve" else VPSchedule(**params)


def schedule_from_options(kind: str = "ve", sigma_max: float | None = None, beta_max: float = 20.0):
    """The schedule of the command-line options: ``ve`` with ``sigma_max`` (or the string ``"ve"`` when
    ``sigma_max`` is None: it follows each training set, :func:`schedule_for`), or ``vp`` with ``beta_max``."""
    one_of(kind, SCHEDULES, "schedule")
    if kind == "ve":
        if sigma_max is None:
            return "ve"
        if not sigma_max > 0:
            raise ValueError(f"sigma-max must be > 0, got {sigma_max:g}")
        return VESchedule(sigma_max=sigma_max)
    if not beta_max > 0:
        raise ValueError(f"beta-max must be > 0, got {beta_max:g}")
    return VPSchedule(beta_max=beta_max)


def _t_min(schedule) -> float:
    return 0.0 if schedule.kind == "ve" else schedule.t_min


# ----------------------------------------------------------------------------------------------
# Exact empirical denoiser and score


def exact_denoiser(x: torch.Tensor, train: torch.Tensor, alpha, sigma, chunk: int = 8192,
                   query_batch: int = 2048, return_log_density: bool = False):
    """Posterior mean ``E[x_0 | x_t = x]`` over the K training points (the DenseAM update).

    Parameters
    ----------
    x : tensor (n, d)
        Noisy queries.
    train : tensor (K, d)
        Training points xi_mu (same device and dtype as ``x``).
    alpha, sigma : float or tensor (n,)
        ``a_t`` and ``s_t`` of each query (> 0).
    chunk, query_batch : int
        K is streamed in chunks and the queries in batches, so memory stays O(query_batch x chunk).
    return_log_density : bool
        Also return ``log p_t(x) = log (1/K) sum_mu N(x; a xi_mu, s^2 I)``.
    """
    n, d = x.shape
    K = train.shape[0]
    alpha = torch.as_tensor(alpha, dtype=x.dtype, device=x.device).expand(n)
    sigma = torch.as_tensor(sigma, dtype=x.dtype, device=x.device).expand(n)
    sq_norms = (train * train).sum(1)
    out, logp = torch.empty_like(x), torch.empty(n, dtype=x.dtype, device=x.device)
    for q in range(0, n, query_batch):
        xq, a, s2 = x[q:q + query_batch], alpha[q:q + query_batch, None], sigma[q:q + query_batch, None] ** 2
        # logits_mu = (a x.xi - a^2 |xi|^2 / 2) / s^2: -|x - a xi|^2/(2 s^2) without the mu-independent |x|^2
        running_max = torch.full((xq.shape[0], 1), -torch.inf, dtype=x.dtype, device=x.device)
        running_sum = torch.zeros_like(running_max)
        running_mean = torch.zeros_like(xq)
        for k in range(0, K, chunk):
            xi = train[k:k + chunk]
            logits = (a * (xq @ xi.T) - 0.5 * a**2 * sq_norms[k:k + chunk]) / s2
            new_max = torch.maximum(running_max, logits.amax(1, keepdim=True))
            rescale = torch.exp(running_max - new_max)
            weights = torch.exp(logits - new_max)
            running_sum = running_sum * rescale + weights.sum(1, keepdim=True)
            running_mean = running_mean * rescale + weights @ xi
            running_max = new_max
        out[q:q + query_batch] = running_mean / running_sum
        if return_log_density:
            lse = (running_max + torch.log(running_sum))[:, 0]
            s2v = s2[:, 0]
            logp[q:q + query_batch] = (lse - 0.5 * (xq * xq).sum(1) / s2v - math.log(K)
                                       - 0.5 * d * torch.log(2 * math.pi * s2v))
    return (out, logp) if return_log_density else out


def exact_score(x: torch.Tensor, train: torch.Tensor, alpha, sigma, **kwargs) -> torch.Tensor:
    """``grad_x log p_t(x) = (a D*(x) - x) / s^2`` for the empirical p_t."""
    alpha = torch.as_tensor(alpha, dtype=x.dtype, device=x.device).reshape(-1, 1)
    sigma = torch.as_tensor(sigma, dtype=x.dtype, device=x.device).reshape(-1, 1)
    return (alpha * exact_denoiser(x, train, alpha[:, 0], sigma[:, 0], **kwargs) - x) / sigma**2


class ExactDenoiser:
    """The exact empirical denoiser as a callable ``(x, alpha, sigma) -> D``, for the samplers.

    Computed in ``dtype`` (float64 by default): at the end of sampling s_t ~ 1e-5 and float32 logits
    ``x.xi / s^2`` would carry errors of order one, mixing neighbouring memories.
    """

    def __init__(self, train: torch.Tensor, chunk: int = 8192, dtype=torch.float64):
        self.train, self.chunk, self.dtype = torch.as_tensor(train), chunk, dtype

    def __call__(self, x, alpha, sigma):
        xd = x.to(self.dtype)
        return exact_denoiser(xd, self.train.to(xd), alpha, sigma, chunk=self.chunk).to(x.dtype)


# ----------------------------------------------------------------------------------------------
# Reverse samplers


def sample(denoiser: Callable, schedule, n: int, generator: torch.Generator, steps: int = 200,
           method: str = "ddim", dim: int | None = None, t_start: float = 1.0, x_start=None,
           device: str | torch.device = "cpu", dtype=torch.float32, batch: int = 4096) -> torch.Tensor:
    """Draw ``n`` samples by integrating the reverse process from ``t_start`` down to ``t_min``.

    Parameters
    ----------
    denoiser : callable ``(x, alpha, sigma) -> D`` (an :class:`ExactDenoiser` or a
        :class:`raflab.memory.diffusion_models.ScoreModel`).
    schedule : VESchedule | VPSchedule
    n : int
        Number of samples.
    generator : torch.Generator
        All noise comes from it (on ``device``).
    steps : int
        Number of steps of the time grid (uniform in t).
    method : str
        ``ddim`` (deterministic DDIM = probability-flow ODE, first order in the noise level) or
        ``em`` (Euler-Maruyama on the reverse SDE ``dx = [f x - g^2 score] dt + g dW``).
    dim : int
        Data dimension (inferred from ``x_start`` when given).
    t_start, x_start : float, tensor (n, d), optional
        Start at time ``t_start`` from ``x_start`` (default: pure noise ``N(0, s_1^2 I)`` at t = 1).

    The last step returns the denoiser output at ``t_min``, the usual final denoising step.
    """
    one_of(method, SAMPLERS, "sampler")
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if n < 1:
        raise ValueError(f"number of samples must be >= 1, got {n}")
    t_grid = torch.linspace(t_start, _t_min(schedule), steps + 1, dtype=torch.float64)
    chunks = []
    for b in range(0, n, batch):
        m = min(batch, n - b)
        if x_start is None:
            a1, s1 = schedule.alpha_sigma(t_grid[:1])
            x = float(s1) * torch.randn(m, dim, generator=generator, device=device, dtype=dtype)
        else:
            x = torch.as_tensor(x_start[b:b + m], device=device, dtype=dtype).clone()
        chunks.append(_integrate(denoiser, schedule, x, t_grid, method, generator))
    return torch.cat(chunks)


@torch.no_grad()
def _integrate(denoiser, schedule, x, t_grid, method, generator):
    for t, t_next in zip(t_grid[:-1], t_grid[1:]):
        a, s = (float(v) for v in schedule.alpha_sigma(t))
        a_next, s_next = (float(v) for v in schedule.alpha_sigma(t_next))
        D = denoiser(x, a, s)
        if method == "ddim":
            # x_t = a D + s eps_hat  ->  x_next = a_next D + s_next eps_hat
            x = a_next * D + (s_next / s) * (x - a * D)
        else:
            f, g2 = (float(v) for v in schedule.drift_diffusion(t))
            h = float(t - t_next)
            score = (a * D - x) / s**2
            noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
            x = x - (f * x - g2 * score) * h + math.sqrt(g2 * h) * noise
    a, s = (float(v) for v in schedule.alpha_sigma(t_grid[-1:]))
    return denoiser(x, a, max(s, 1e-12))


def default_sigma_max(train: torch.Tensor) -> float:
    """Largest noise level: 3 x the data's root total variance (3 for the unit ring, ~17 for digits),
    so that ``N(0, sigma_max^2 I)`` covers the data and sampling can start from pure noise."""
    train = torch.as_tensor(train, dtype=torch.float64)
    spread = float(((train - train.mean(0)) ** 2).sum(1).mean().sqrt()) if len(train) > 1 else 0.0
    return max(3.0, 3.0 * spread)


def schedule_for(schedule, train: torch.Tensor):
    """A schedule object: given, or ``ve`` (sigma_max from :func:`default_sigma_max`) or ``vp``."""
    if not isinstance(schedule, str):
        return schedule
    return VESchedule(sigma_max=default_sigma_max(train)) if schedule == "ve" else make_schedule(schedule)


def max_noise_level(schedule) -> float:
    """``s_1 / a_1``: the VE-equivalent noise level where sampling starts (train up to it)."""
    a, s = schedule.alpha_sigma(torch.ones(1, dtype=torch.float64))
    return float(s / a)


# ----------------------------------------------------------------------------------------------
# Classification of samples


def pairwise_l2(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Euclidean (pixel L2) distances, ``(len(a), len(b))``; the default pluggable distance."""
    return torch.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist" if a.shape[1] <= 8 else
                       "use_mm_for_euclid_dist_if_necessary").clamp_min(0)


def _two_nearest(queries, refs, distance, exclude_self=False, batch=2048):
    """Distances to the nearest and second-nearest reference (excluding the query itself)."""
    d1, d2, arg = [], [], []
    for b in range(0, len(queries), batch):
        D = distance(queries[b:b + batch], refs)
        if exclude_self:
            rows = torch.arange(D.shape[0], device=D.device)
            D[rows, rows + b] = torch.inf
        k = min(2, D.shape[1])
        vals, idx = D.topk(k, dim=1, largest=False)
        d1.append(vals[:, 0])
        d2.append(vals[:, 1] if k == 2 else torch.full_like(vals[:, 0], torch.inf))
        arg.append(idx[:, 0])
    return torch.cat(d1), torch.cat(d2), torch.cat(arg)


def classify_samples(samples: torch.Tensor, train: torch.Tensor, distance: Callable = pairwise_l2,
                     ratio: float = 1 / 3) -> dict:
    """Label each generated sample memorized, spurious or generalized.

    - memorized: nearest-neighbour ratio test against the training set,
      ``d_train1 / d_train2 < ratio`` (scale free; with K = 1 the second distance is infinite);
    - spurious: not memorized, and another generated sample is much closer than any training point,
      ``d_synth < ratio * d_train1`` (the sampler keeps returning to the same new point);
    - generalized: everything else.

    Parameters
    ----------
    samples : tensor (n, d)
    train : tensor (K, d)
    distance : callable ``(A, B) -> (len(A), len(B))`` distances (default pixel L2)
    ratio : float in (0, 1)

    Returns
    -------
    dict of tensors: ``memorized``, ``spurious``, ``generalized`` (bool, (n,)), ``d_train``,
    ``d_train2``, ``d_synth`` and ``nearest`` (index of the nearest training point).
    """
    if not 0 < ratio < 1:
        raise ValueError(f"ratio must be in (0, 1), got {ratio:g}")
    samples = torch.as_tensor(samples)
    train = torch.as_tensor(train).to(samples)
    d_train, d_train2, nearest = _two_nearest(samples, train, distance)
    d_synth = _two_nearest(samples, samples, distance, exclude_self=True)[0] if len(samples) > 1 \
        else torch.full_like(d_train, torch.inf)
    memorized = d_train < ratio * d_train2
    spurious = ~memorized & (d_synth < ratio * d_train)
    return {"memorized": memorized, "spurious": spurious, "generalized": ~memorized & ~spurious,
            "d_train": d_train, "d_train2": d_train2, "d_synth": d_synth, "nearest": nearest}


def phase_fractions(samples, train, distance: Callable = pairwise_l2, ratio: float = 1 / 3) -> dict:
    """``memorized_fraction``, ``spurious_fraction``, ``generalized_fraction`` of a set of samples."""
    labels = classify_samples(samples, train, distance, ratio)
    return {f"{k}_fraction": float(labels[k].float().mean()) for k in ("memorized", "spurious", "generalized")}


# ----------------------------------------------------------------------------------------------
# Basin size


def basin_size(denoiser: Callable, schedule, points: torch.Tensor, train: torch.Tensor, generator: torch.Generator,
               t_grid=None, trials: int = 20, steps: int = 50, prob: float = 0.9, ratio: float = 1 / 3,
               distance: Callable = pairwise_l2) -> dict:
    """Critical noise level of each point: the largest t from which it is recovered with prob >= ``prob``.

    Each point is noised to ``x_t = a_t x + s_t z`` (``trials`` times per t), denoised by DDIM from t
    with ``steps`` steps, and counts as recovered when the result is memorized (ratio test) and its
    nearest training point is the one nearest to the original point (the point itself when
    ``points`` are training points).

    Returns
    -------
    dict: ``t_grid`` (tensor), ``recovery`` (len(points), len(t_grid)) probabilities,
    ``critical_t`` and ``critical_sigma`` (s_t / a_t) per point (0 when never recovered at the
    smallest t).
    """
    if not 0 < prob <= 1:
        raise ValueError(f"prob must be in (0, 1], got {prob:g}")
    t_grid = torch.linspace(0.05, 1.0, 20, dtype=torch.float64) if t_grid is None else torch.as_tensor(t_grid, dtype=torch.float64)
    points = torch.as_tensor(points).to(train)
    target = _two_nearest(points, train, distance)[2]
    n, d = points.shape
    repeated = points.repeat_interleave(trials, 0)
    recovery = torch.empty(n, len(t_grid))
    for j, t in enumerate(t_grid):
        a, s = (float(v) for v in schedule.alpha_sigma(t.reshape(1)))
        x_t = a * repeated + s * torch.randn(repeated.shape, generator=generator, device=repeated.device, dtype=repeated.dtype)
        out = sample(denoiser, schedule, len(x_t), generator, steps=steps, method="ddim", t_start=float(t),
                     x_start=x_t, device=repeated.device, dtype=repeated.dtype)
        d1, d2, nearest = _two_nearest(out, train, distance)
        ok = (d1 < ratio * d2) & (nearest == target.repeat_interleave(trials))
        recovery[:, j] = ok.float().reshape(n, trials).mean(1).cpu()
    good = recovery >= prob
    # the largest t such that every smaller t on the grid also recovers
    run = torch.cumprod(good.int(), dim=1)
    count = run.sum(1)
    crit_t = torch.where(count > 0, t_grid[(count - 1).clamp_min(0)], torch.zeros(()))
    a_c, s_c = schedule.alpha_sigma(crit_t)
    return {"t_grid": t_grid, "recovery": recovery, "critical_t": crit_t,
            "critical_sigma": torch.where(count > 0, s_c / a_c, torch.zeros(()))}

"""Diffusion models as associative memories: exact empirical denoiser, samplers, trained networks,
and the memorized / spurious / generalized classification of samples (issue 7).

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
>>> x = sample(ExactDenoiser(train), VESchedule(), 200, torch.Generator().manual_seed(0))
>>> classify_samples(x, train)["memorized"].mean() >= 0.99
tensor(True)
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from raflab.core.checkpoints import load_checkpoint

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
    if kind == "ve":
        return VESchedule(**params)
    if kind == "vp":
        return VPSchedule(**params)
    raise ValueError(f"unknown schedule {kind!r}; choose ve or vp")


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
    denoiser : callable ``(x, alpha, sigma) -> D`` (an :class:`ExactDenoiser` or a :class:`ScoreModel`).
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
    if method not in ("ddim", "em"):
        raise ValueError(f"unknown sampler {method!r}; choose ddim or em")
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


# ----------------------------------------------------------------------------------------------
# Trained denoiser networks


def _fourier_embedding(c_noise: torch.Tensor, dim: int) -> torch.Tensor:
    freqs = torch.exp(-math.log(1e3) * torch.arange(dim // 2, device=c_noise.device, dtype=c_noise.dtype) / (dim // 2))
    angles = 100 * c_noise[:, None] * freqs
    return torch.cat([angles.cos(), angles.sin()], 1)


class TimeMLP(nn.Module):
    """MLP ``F(x, c_noise)`` for low-dimensional data: the time embedding is added to every layer."""

    def __init__(self, dim: int, width: int = 128, depth: int = 3, emb_dim: int = 64):
        super().__init__()
        self.emb_dim = emb_dim
        self.emb = nn.Sequential(nn.Linear(emb_dim, width), nn.SiLU(), nn.Linear(width, width))
        self.inp = nn.Linear(dim, width)
        self.hidden = nn.ModuleList(nn.Linear(width, width) for _ in range(depth - 1))
        self.out = nn.Linear(width, dim)

    def forward(self, x, c_noise):
        e = self.emb(_fourier_embedding(c_noise, self.emb_dim))
        h = torch.nn.functional.silu(self.inp(x) + e)
        for layer in self.hidden:
            h = torch.nn.functional.silu(layer(h) + e)
        return self.out(h)


class _ResBlock(nn.Module):
    def __init__(self, c_in, c_out, emb_dim):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(min(8, c_in), c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb = nn.Linear(emb_dim, c_out)
        self.norm2, self.conv2 = nn.GroupNorm(min(8, c_out), c_out), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x, e):
        h = self.conv1(torch.nn.functional.silu(self.norm1(x))) + self.emb(e)[:, :, None, None]
        return self.skip(x) + self.conv2(torch.nn.functional.silu(self.norm2(h)))


class SmallUNet(nn.Module):
    """A two-level convolutional U-Net ``F(x, c_noise)`` on flattened images of ``shape = (C, H, W)``.

    Each level halves the resolution (average pooling) while it stays even; nearest upsampling and
    skip concatenation on the way back.
    """

    def __init__(self, shape: tuple[int, int, int], base: int = 32, levels: int = 2, emb_dim: int = 64):
        super().__init__()
        C, H, W = shape
        self.shape, self.emb_dim = tuple(shape), emb_dim
        self.levels = 0
        while self.levels < levels and H % 2 == 0 and W % 2 == 0 and H > 2:
            self.levels, H, W = self.levels + 1, H // 2, W // 2
        self.emb = nn.Sequential(nn.Linear(emb_dim, 4 * base), nn.SiLU(), nn.Linear(4 * base, emb_dim))
        self.inp = nn.Conv2d(C, base, 3, padding=1)
        chans = [base * 2**i for i in range(self.levels + 1)]
        self.down = nn.ModuleList(_ResBlock(chans[i], chans[i + 1], emb_dim) for i in range(self.levels))
        self.mid = _ResBlock(chans[-1], chans[-1], emb_dim)
        self.up = nn.ModuleList(_ResBlock(chans[i + 1] + chans[i + 1], chans[i], emb_dim)
                                for i in reversed(range(self.levels)))
        self.out = nn.Sequential(nn.GroupNorm(min(8, base), base), nn.SiLU(), nn.Conv2d(base, C, 3, padding=1))

    def forward(self, x, c_noise):
        e = self.emb(_fourier_embedding(c_noise, self.emb_dim))
        h = self.inp(x.reshape(-1, *self.shape))
        skips = []
        for block in self.down:
            h = block(h, e)
            skips.append(h)
            h = torch.nn.functional.avg_pool2d(h, 2)
        h = self.mid(h, e)
        for block in self.up:
            h = torch.nn.functional.interpolate(h, scale_factor=2, mode="nearest")
            h = block(torch.cat([h, skips.pop()], 1), e)
        return self.out(h).reshape(x.shape[0], -1)


class ScoreModel(nn.Module):
    """A network wrapped as a VE denoiser with EDM preconditioning; callable ``(x, alpha, sigma) -> D``.

    ``D(y, sigma) = c_skip y + c_out F(c_in y, log(sigma)/4)`` with ``y = x / alpha`` and
    ``sigma = s / alpha``, so one trained network serves the VE and the VP schedules.
    """

    def __init__(self, net: nn.Module, sigma_data: float):
        super().__init__()
        self.net, self.sigma_data = net, float(sigma_data)

    def denoise_ve(self, y, sigma):
        sigma = torch.as_tensor(sigma, dtype=y.dtype, device=y.device).expand(y.shape[0]).reshape(-1, 1)
        sd2 = self.sigma_data**2
        c_skip = sd2 / (sigma**2 + sd2)
        c_out = sigma * self.sigma_data / torch.sqrt(sigma**2 + sd2)
        c_in = 1 / torch.sqrt(sigma**2 + sd2)
        return c_skip * y + c_out * self.net(c_in * y, torch.log(sigma[:, 0]) / 4)

    def forward(self, x, alpha, sigma):
        return self.denoise_ve(x / alpha, torch.as_tensor(sigma, dtype=x.dtype, device=x.device) / alpha)


@dataclass
class TrainConfig:
    """Everything that defines a training run (stored in checkpoints; a resume must match it)."""

    net: str = "mlp"                # mlp | unet
    width: int = 128                # MLP width or U-Net base channels
    depth: int = 3
    steps: int = 2000               # the same budget for every K
    batch_size: int = 128
    lr: float = 2e-3
    ema_decay: float = 0.999
    sigma_min: float = 1e-3         # training noise levels, log-uniform in [sigma_min, sigma_max]
    sigma_max: float | None = None  # None: default_sigma_max(train)
    seed: int = 0

    def __post_init__(self):
        if self.net not in ("mlp", "unet"):
            raise ValueError(f"unknown network {self.net!r}; choose mlp or unet")
        for name in ("width", "depth", "steps", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr:g}")
        if not 0 <= self.ema_decay < 1:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay:g}")
        if not 0 < self.sigma_min < (self.sigma_max or np.inf):
            raise ValueError(f"need 0 < sigma_min < sigma_max, got {self.sigma_min}, {self.sigma_max}")


def default_sigma_max(train: torch.Tensor) -> float:
    """Largest noise level: 3 x the data's root total variance (3 for the unit ring, ~17 for digits),
    so that ``N(0, sigma_max^2 I)`` covers the data and sampling can start from pure noise."""
    train = torch.as_tensor(train, dtype=torch.float64)
    spread = float(((train - train.mean(0)) ** 2).sum(1).mean().sqrt()) if len(train) > 1 else 0.0
    return max(3.0, 3.0 * spread)


def default_width(net: str) -> int:
    """128 hidden units for the MLP, 16 base channels for the U-Net (CPU-sized)."""
    return 128 if net == "mlp" else 16


def build_model(cfg: TrainConfig, dim: int, sigma_data: float, image_shape=None) -> ScoreModel:
    if cfg.net == "unet":
        if image_shape is None:
            raise ValueError("the U-Net needs image data (use --net mlp for points)")
        return ScoreModel(SmallUNet(tuple(image_shape), base=cfg.width), sigma_data)
    return ScoreModel(TimeMLP(dim, width=cfg.width, depth=cfg.depth), sigma_data)


def train_score_model(train: torch.Tensor, cfg: TrainConfig, device: str = "cpu", checkpoint: str | Path | None = None,
                      checkpoint_every: int = 1000, quiet: bool = True, image_shape=None,
                      stop_at: int | None = None, meta: dict | None = None):
    """Train a denoiser on the K points ``train`` (n, d) by denoising score matching.

    Noise levels are log-uniform in ``[sigma_min, sigma_max]``; the loss is the EDM-weighted
    squared error ``|D(x0 + sigma z) - x0|^2 / c_out^2``; Adam, gradient clipping at 1 and an EMA of
    the weights (the EMA model is the one returned). All randomness comes from one torch Generator
    seeded from ``cfg.seed``; its state, the optimizer and the EMA are checkpointed, so a run resumed
    from a checkpoint equals an uninterrupted one.

    Parameters
    ----------
    checkpoint : path, optional
        Resume from it when it exists (its config must match), and write it every
        ``checkpoint_every`` steps and at the end.
    stop_at : int, optional
        Stop (and checkpoint) after this many steps, as if interrupted.
    meta : dict, optional
        Extra information stored with the checkpoint (data set name, K, seed).

    Returns
    -------
    (ScoreModel, dict)
        The EMA model (eval mode) and a record: steps, final loss (mean of the last 100 steps),
        seconds, steps_per_s.
    """
    from raflab.core.progress import rows_progress

    train = torch.as_tensor(train, dtype=torch.float32)
    if train.ndim != 2 or train.shape[0] < 1:
        raise ValueError(f"training points must be a (K, d) array with K >= 1, got shape {tuple(train.shape)}")
    K, dim = train.shape
    train = train.to(device)
    sigma_data = float(train.std()) if K * dim > 1 else 0.5
    sigma_data = sigma_data if sigma_data > 1e-3 else 0.5
    init_seed, stream_seed = (int(v) for v in np.random.SeedSequence([cfg.seed, K]).generate_state(2))
    # torch's layer constructors draw from the global generator: draw them inside a forked (and
    # restored) global state, so the initialization is a function of (seed, K) and nothing leaks out
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(init_seed)
        model = build_model(cfg, dim, sigma_data, image_shape)
    model = model.to(device)
    ema = copy.deepcopy(model).requires_grad_(False)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, foreach=True)
    gen = torch.Generator(device=device).manual_seed(stream_seed)
    step, losses = 0, []
    if checkpoint is not None and Path(checkpoint).exists():
        state = load_checkpoint(checkpoint, what="raflab diffusion train", required=_CHECKPOINT_KEYS,
                                map_location=device)
        saved = TrainConfig(**state["config"])
        if {k: v for k, v in asdict(saved).items() if k != "steps"} != {k: v for k, v in asdict(cfg).items() if k != "steps"} \
                or state["train_points"].shape != train.shape:
            raise ValueError(f"checkpoint {checkpoint} was written for another configuration or data; "
                             f"use a new --checkpoint path")
        model.load_state_dict(state["model"])
        ema.load_state_dict(state["ema"])
        opt.load_state_dict(state["optimizer"])
        gen.set_state(state["generator"].cpu() if device == "cpu" else state["generator"])
        step, losses = state["step"], list(state["losses"])

    def save():
        if checkpoint is None:
            return
        Path(checkpoint).parent.mkdir(parents=True, exist_ok=True)
        torch.save({"config": asdict(cfg), "model": model.state_dict(), "ema": ema.state_dict(),
                    "optimizer": opt.state_dict(), "generator": gen.get_state(), "step": step,
                    "losses": losses[-1000:], "train_points": train.cpu(), "sigma_data": sigma_data,
                    "image_shape": image_shape, "meta": meta or {}}, checkpoint)

    ema_params, model_params = list(ema.parameters()), list(model.parameters())
    end = cfg.steps if stop_at is None else min(cfg.steps, stop_at)
    log_ratio = math.log((cfg.sigma_max or default_sigma_max(train)) / cfg.sigma_min)
    t0, start = time.perf_counter(), step
    model.train()
    # the one progress bar (raflab.core.progress): steps, rate, ETA and the loss; nothing when quiet or
    # when stderr is not a terminal
    with rows_progress(f"train K={K}", cfg.steps, enabled=not quiet, unit="steps") as advance:
        advance(step)  # a resumed run starts where its checkpoint stopped
        shown = step
        while step < end:
            idx = torch.randint(0, K, (cfg.batch_size,), generator=gen, device=device)
            x0 = train[idx]
            sigma = cfg.sigma_min * torch.exp(log_ratio * torch.rand(cfg.batch_size, generator=gen, device=device))
            noise = torch.randn(x0.shape, generator=gen, device=device)
            D = model.denoise_ve(x0 + sigma[:, None] * noise, sigma)
            sd2 = sigma_data**2
            weight = (sigma**2 + sd2) / (sigma * sigma_data) ** 2
            loss = (weight[:, None] * (D - x0) ** 2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            decay = min(cfg.ema_decay, (1 + step) / (10 + step))
            with torch.no_grad():
                torch._foreach_lerp_(ema_params, model_params, 1 - decay)
            losses.append(loss.item())
            if step % 50 == 0 or step == end:
                advance(step - shown, status=f"loss {np.mean(losses[-100:]):.4f}")
                shown = step
            if checkpoint is not None and step % checkpoint_every == 0:
                save()
    seconds = time.perf_counter() - t0
    save()
    ema.eval()
    record = {"K": K, "steps": step, "loss": float(np.mean(losses[-100:])) if losses else float("nan"),
              "seconds": seconds, "steps_per_s": (step - start) / seconds if step > start else float("nan")}
    return ema, record


#: what a denoiser checkpoint holds (written by train_score_model's save)
_CHECKPOINT_KEYS = ("config", "model", "ema", "optimizer", "generator", "step", "losses", "train_points",
                    "sigma_data", "image_shape", "meta")


def load_score_model(checkpoint: str | Path, device: str = "cpu"):
    """``(ScoreModel (EMA, eval), train_points, state)`` from a checkpoint written by training."""
    if not Path(checkpoint).exists():
        raise ValueError(f"checkpoint {checkpoint} does not exist (train first: raflab diffusion train)")
    state = load_checkpoint(checkpoint, what="raflab diffusion train", required=_CHECKPOINT_KEYS,
                            map_location=device)
    cfg = TrainConfig(**state["config"])
    train = state["train_points"].to(device)
    model = build_model(cfg, train.shape[1], state["sigma_data"], state["image_shape"]).to(device)
    model.load_state_dict(state["ema"])
    return model.eval().requires_grad_(False), train, state


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


# ----------------------------------------------------------------------------------------------
# Experiments: training points by name, and the fractions against K

POINT_DATASETS = ("ring", "mixture")
DATASETS = POINT_DATASETS + ("digits", "mnist", "fashion-mnist", "cifar10")


#: dimension of each data set's points (memory estimates before anything is loaded)
DIMENSION = {"ring": 2, "mixture": 2, "digits": 64, "mnist": 784, "fashion-mnist": 784, "cifar10": 3072}


def require_phase_memory(data: str, K: int, samples: int) -> None:
    """Refuse sampling and classifying against K training points whose arrays (the points, the
    samples x K distances and the exact score's chunk x K weights; float64) cannot fit in memory."""
    from raflab.core.memory import FLOAT64, require_memory

    dim = DIMENSION.get(data, 3072)
    require_memory(FLOAT64 * (3 * K * dim + 3 * samples * dim + 3 * min(samples, 8192) * K + samples * K),
                   f"{samples:,} samples against K={K:,} training points ({data})")


def training_points(data: str, K: int, seed: int = 0, data_dir=None):
    """``(train (K, d) float32 tensor, image_shape or None)`` for a data set name.

    ``ring`` and ``mixture`` are drawn afresh (``point_rng(seed, K)``); image sets are a random
    subset of K images (without replacement), scaled to [-1, 1] and flattened.
    """
    from raflab.core.seeding import point_rng

    K = int(K)
    if K < 1:
        raise ValueError(f"K must be >= 1, got {K}")
    if data not in DATASETS:
        raise ValueError(f"unknown data set {data!r}; choose one of {', '.join(DATASETS)}")
    rng = point_rng(seed, K)
    if data == "ring":
        from raflab.memory.toy_data import ring_points

        return torch.as_tensor(ring_points(K, rng), dtype=torch.float32), None
    if data == "mixture":
        from raflab.memory.toy_data import gaussian_mixture

        return torch.as_tensor(gaussian_mixture(K, rng), dtype=torch.float32), None
    from raflab.core.images import load_images

    images, _ = load_images(data, data_dir)
    if K > len(images):
        raise ValueError(f"K={K} exceeds the {len(images)} images of {data}")
    chosen = images[rng.choice(len(images), size=K, replace=False)]
    return torch.as_tensor(2 * chosen.reshape(K, -1) - 1), tuple(images.shape[1:])


def schedule_for(schedule, train: torch.Tensor):
    """A schedule object: given, or ``ve`` (sigma_max from :func:`default_sigma_max`) or ``vp``."""
    if not isinstance(schedule, str):
        return schedule
    return VESchedule(sigma_max=default_sigma_max(train)) if schedule == "ve" else make_schedule(schedule)


def max_noise_level(schedule) -> float:
    """``s_1 / a_1``: the VE-equivalent noise level where sampling starts (train up to it)."""
    a, s = schedule.alpha_sigma(torch.ones(1, dtype=torch.float64))
    return float(s / a)


def _generator(seed: int, *keys, device="cpu") -> torch.Generator:
    from raflab.core.seeding import point_rng

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

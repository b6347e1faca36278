"""Trained denoiser networks for diffusion: a time-conditioned MLP (points) and a small U-Net (images),
wrapped as VE denoisers with EDM preconditioning (Karras et al. 2022), their training by denoising
score matching (resumable from checkpoints) and their loading.

A network is trained once as a VE denoiser and serves both schedules of :mod:`raflab.memory.diffusion`
(``x / a_t`` is the VE variable with noise level ``sigma = s_t / a_t``).
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from raflab.core.checkpoints import load_checkpoint
from raflab.core.checks import one_of
from raflab.core.progress import rows_progress
from raflab.core.seeding import stream_seeds, torch_generator
from raflab.memory.diffusion import default_sigma_max

#: the denoiser networks; ``auto`` picks the MLP for points and the U-Net for images
NETS = ("mlp", "unet")
NET_CHOICES = ("auto",) + NETS

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
        one_of(self.net, NETS, "network")
        for name in ("width", "depth", "steps", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr:g}")
        if not 0 <= self.ema_decay < 1:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay:g}")
        if not 0 < self.sigma_min < (self.sigma_max or np.inf):
            raise ValueError(f"need 0 < sigma_min < sigma_max, got {self.sigma_min}, {self.sigma_max}")


def resolve_net(net: str, images: bool) -> str:
    """``mlp`` or ``unet``: ``net`` itself, or for ``auto`` the U-Net on images and the MLP on points."""
    one_of(net, NET_CHOICES, "network")
    return net if net != "auto" else ("unet" if images else "mlp")


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
    the weights (the EMA model is the one returned). The initial weights and the batches (training points,
    noise levels, noise) have their own seeds, ``stream_seeds(cfg.seed, ("init", "batches"), K)``; the batch
    generator's state, the optimizer and the EMA are checkpointed, so a run resumed from a checkpoint equals
    an uninterrupted one.

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
    train = torch.as_tensor(train, dtype=torch.float32)
    if train.ndim != 2 or train.shape[0] < 1:
        raise ValueError(f"training points must be a (K, d) array with K >= 1, got shape {tuple(train.shape)}")
    K, dim = train.shape
    train = train.to(device)
    sigma_data = float(train.std()) if K * dim > 1 else 0.5
    sigma_data = sigma_data if sigma_data > 1e-3 else 0.5
    seeds = stream_seeds(cfg.seed, ("init", "batches"), K)
    # torch's layer constructors draw from the global generator: draw them inside a forked (and
    # restored) global state, so the initialization is a function of (seed, K) and nothing leaks out
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seeds["init"])
        model = build_model(cfg, dim, sigma_data, image_shape)
    model = model.to(device)
    ema = copy.deepcopy(model).requires_grad_(False)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, foreach=True)
    gen = torch_generator(seeds["batches"], device)
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


"""Exact in-context memorization error of nonlinear attention, and Monte Carlo over seeds.

For one draw, ``E(gamma) = (gamma^2 / n) y^T Q^2 y`` with ``Q = (M^T M / n + gamma I_n)^{-1}`` and
``M = X K``: one eigendecomposition of ``M^T M / n`` serves every gamma.

Example
-------
>>> import numpy as np
>>> from raflab.attention.tokens import make_tokens
>>> X, y, *_ = make_tokens(40, 30, 0.0, 0.0, 1.0, np.random.default_rng(0))
>>> memorization_errors(X, y, [0.1, 1.0]).shape
(2,)
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from raflab.attention.theory import activation, theory_grid
from raflab.attention.tokens import make_tokens
from raflab.core.device import resolve_device
from raflab.core.memory import FLOAT64, require_memory
from raflab.core.progress import track_rows
from raflab.core.seeding import point_rng
from raflab.core.summary import summarize

#: the measured errors of a Monte Carlo record (each with its ``_stderr`` over seeds)
METRICS = ("memorization_error_attention", "memorization_error_ridge")


def attention_kernel(X, f, wK, wQ):
    """K = f(X^T (I + w_K w_Q^T) X / sqrt p) / sqrt p, diagonal kept (numpy or torch input)."""
    p = X.shape[0]
    G = X.T @ X + (X.T @ wK)[:, None] * (wQ @ X)[None, :]
    return f(G / p**0.5) / p**0.5


def memorization_errors(M, y, gammas, device: str = "cpu"):
    """Exact E(gamma) for features ``M`` (p x n) and labels y, many gammas from one eigh."""
    gammas = np.atleast_1d(np.asarray(gammas, float))
    if np.any(gammas <= 0):
        raise ValueError("gamma must be > 0")
    n = M.shape[1]
    if device == "cuda":
        import torch

        Mt = torch.as_tensor(M, dtype=torch.float64, device="cuda")
        ev, U = torch.linalg.eigh(Mt.T @ Mt / n)
        proj = (U.T @ torch.as_tensor(y, dtype=torch.float64, device="cuda")).cpu().numpy()
        ev = ev.cpu().numpy()
    else:
        ev, U = np.linalg.eigh(M.T @ M / n)
        proj = U.T @ y
    ev = np.clip(ev, 0.0, None)  # round-off can make null eigenvalues slightly negative
    g = gammas[:, None]
    return (g**2 * proj[None, :] ** 2 / (ev[None, :] + g) ** 2).sum(1) / n


def one_draw(p, n, gammas, f="tanh", snr=0.0, align=0.0, w_norm=1.0, rng=None, device="cpu"):
    """(E_attention(gammas), E_ridge(gammas)) on one draw of tokens."""
    act = activation(f)
    X, y, _, wK, wQ = make_tokens(p, n, snr, align, w_norm, rng)
    if device == "cuda":
        import torch

        Xt = torch.as_tensor(X, dtype=torch.float64, device="cuda")
        wKt = torch.as_tensor(wK, dtype=torch.float64, device="cuda")
        wQt = torch.as_tensor(wQ, dtype=torch.float64, device="cuda")
        name = act.name
        ft = {"tanh": torch.tanh, "erf": torch.erf, "linear": lambda t: t}.get(name)
        if ft is None:
            K = torch.as_tensor(attention_kernel(X, act.f, wK, wQ), device="cuda")
        else:
            K = attention_kernel(Xt, ft, wKt, wQt)
        M = (Xt @ K).cpu().numpy()
    else:
        M = X @ attention_kernel(X, act.f, wK, wQ)
    return memorization_errors(M, y, gammas, device), memorization_errors(X, y, gammas, "cpu")


def require_simulation_memory(p: int, n: int) -> None:
    """Refuse a draw whose arrays (tokens p x n, the n x n kernel and its eigenvectors, M p x n;
    float64) cannot fit in memory."""
    require_memory(FLOAT64 * (2 * p * n + 4 * n * n), f"attention Monte Carlo at p={p}, n={n}")


def simulate(p, n, gammas, f="tanh", snr=0.0, align=0.0, seeds=10, seed=0, device="cpu", w_norm=1.0):
    """Monte Carlo over seeds -> pandas DataFrame, one record per gamma: the mean of each of
    :data:`METRICS`, its ``_stderr`` and ``n_seeds`` (:func:`raflab.core.summary.summarize`)."""
    if p < 2 or n < 2:
        raise ValueError("p and n must be >= 2")
    if seeds < 2:
        raise ValueError("seeds must be >= 2 for a standard error")
    require_simulation_memory(p, n)
    dev = resolve_device(device)
    gammas = np.atleast_1d(np.asarray(gammas, float))
    name = activation(f).name
    rows = []
    for s in range(seeds):
        a, r = one_draw(p, n, gammas, f, snr, align, w_norm, point_rng(seed + s, p, n, snr, align), dev)
        rows += [{"point": j, "c": p / n, "gamma": g, "f": name, "snr": snr, "align": align, "p": p, "n": n,
                  "seed": seed + s, METRICS[0]: a[j], METRICS[1]: r[j]} for j, g in enumerate(gammas)]
    df = summarize(pd.DataFrame(rows), ["point", "c", "gamma", "f", "snr", "align", "p", "n"], METRICS)
    return df.drop(columns="point")


def check_simulation(c, n: int, seeds: int) -> None:
    """The sizes of a Monte Carlo over the ratios ``c`` with ``n`` tokens, before any work: n and seeds,
    and the memory of the largest draw."""
    if n < 2:
        raise ValueError(f"n must be >= 2 (got {n})")
    if seeds < 2:
        raise ValueError(f"seeds must be >= 2 for a standard error (got {seeds})")
    require_simulation_memory(max(2, round(float(np.max(c)) * n)), n)


def simulate_grid(c, gamma, f="tanh", snr=0.0, align=0.0, n: int = 1000, seeds: int = 10, seed: int = 0,
                  device: str = "cpu", progress: bool = False) -> pd.DataFrame:
    """:func:`simulate` at every (c, snr, align) of the given values (p = max(2, round(c n))), all ``gamma``."""
    check_simulation(c, n, seeds)
    points = list(itertools.product(np.atleast_1d(c), np.atleast_1d(snr), np.atleast_1d(align)))
    frames = [simulate(max(2, round(ci * n)), n, gamma, f, si, ai, seeds, seed, device)
              for ci, si, ai in track_rows(points, f"attention Monte Carlo (n={n}, {seeds} seeds)", enabled=progress,
                                           unit="points")]
    return pd.concat(frames, ignore_index=True)


def compare(c, gamma, f="tanh", snr=0.0, align=0.0, n: int = 1000, seeds: int = 10, seed: int = 0,
            device: str = "cpu", progress: bool = False):
    """Theory at the simulated p (:func:`raflab.attention.theory.theory_grid`) beside the Monte Carlo
    (:func:`simulate_grid`). Returns (merged records, theory records, Monte Carlo records); the merged
    columns carry ``_theory`` and ``_mc`` suffixes."""
    check_simulation(c, n, seeds)
    th = pd.DataFrame(theory_grid(c, gamma, f, snr, align, n))
    mc = simulate_grid(c, gamma, f, snr, align, n, seeds, seed, device, progress)
    merged = th.merge(mc.drop(columns=["f"]), on=["c", "gamma", "snr", "align"], suffixes=("_theory", "_mc"))
    return merged, th, mc

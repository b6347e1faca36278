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

import numpy as np
import pandas as pd

from raflab.attention.theory import activation
from raflab.attention.tokens import make_tokens
from raflab.core.device import resolve_device
from raflab.core.seeding import point_rng


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
    from raflab.core.memory import FLOAT64, require_memory

    require_memory(FLOAT64 * (2 * p * n + 4 * n * n), f"attention Monte Carlo at p={p}, n={n}")


def simulate(p, n, gammas, f="tanh", snr=0.0, align=0.0, seeds=10, seed=0, device="cpu", w_norm=1.0):
    """Monte Carlo over seeds -> pandas DataFrame with means and standard errors per gamma."""
    if p < 2 or n < 2:
        raise ValueError("p and n must be >= 2")
    if seeds < 2:
        raise ValueError("seeds must be >= 2 for a standard error")
    require_simulation_memory(p, n)
    dev = resolve_device(device)
    gammas = np.atleast_1d(np.asarray(gammas, float))
    att, rr = [], []
    for s in range(seeds):
        a, r = one_draw(p, n, gammas, f, snr, align, w_norm, point_rng(seed + s, p, n, snr, align), dev)
        att.append(a)
        rr.append(r)
    att, rr = np.array(att), np.array(rr)
    name = activation(f).name
    return pd.DataFrame(
        dict(
            c=p / n, gamma=gammas, f=name, snr=snr, align=align, p=p, n=n, seeds=seeds,
            memorization_error_attention=att.mean(0),
            memorization_error_attention_stderr=att.std(0, ddof=1) / np.sqrt(seeds),
            memorization_error_ridge=rr.mean(0),
            memorization_error_ridge_stderr=rr.std(0, ddof=1) / np.sqrt(seeds),
        )
    )

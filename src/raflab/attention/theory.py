"""Deterministic equivalent of the in-context memorization error of nonlinear attention.

Derived, Monte-Carlo validated (see ``docs/attention.md`` and ``/work/shared/attention_model.md``):
not the literal formula of Liao et al. (arXiv 2506.18656) but a derivation with the same 9x9
structure, checked against exact Monte Carlo in ``tests/attention/test_theory.py``.

Example
-------
>>> round(float(ridge_memorization_error(1.0, 1.0, 0.0)), 6)  # 1/sqrt(5)
0.447214
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.special import erf as _erf

from raflab.core.checks import one_of
from raflab.core.fixed_point import solve_fixed_point, warn_unconverged

_NAMED = {
    "tanh": np.tanh,
    "erf": _erf,
    "linear": lambda t: t,
    # centring constant of relu for N(0,1): E max(xi, 0) = 1/sqrt(2 pi)
    "relu_centered": lambda t: np.maximum(t, 0.0) - 1.0 / np.sqrt(2.0 * np.pi),
}
#: the activations known by name (any callable is accepted too)
ACTIVATIONS = tuple(_NAMED)


@dataclass(frozen=True)
class Activation:
    """A centred activation with its Gaussian moments a1 = E[xi f(xi)], nu = E[f(xi)^2]."""

    name: str
    f: Callable
    a1: float
    nu: float


def _gauss_hermite(order: int = 200):
    # probabilists' Hermite nodes: weights integrate against N(0, 1) after normalization
    x, w = np.polynomial.hermite_e.hermegauss(order)
    return x, w / np.sqrt(2.0 * np.pi)


def activation(f, order: int = 200) -> Activation:
    """Resolve ``f`` (a name in tanh, relu_centered, erf, linear, or a callable) and its moments.

    A callable with ``E f(xi) != 0`` is centred by subtracting ``E f(xi)`` (with a warning), since the
    mean part of K is a rank-one term the theory does not model.

    >>> round(activation("tanh").a1, 4)
    0.6057
    """
    if isinstance(f, str):
        name, fun = one_of(f, ACTIVATIONS, "f", also="or pass a callable"), _NAMED[f]
    elif callable(f):
        name, fun = getattr(f, "__name__", "callable"), f
    else:
        raise ValueError(f"f must be a name or a callable, got {f!r}")
    if name == "relu_centered" and fun is _NAMED["relu_centered"]:
        # the kink spoils Gauss-Hermite (~1e-3); the moments are known exactly
        return Activation(name, fun, 0.5, 0.5 - 1.0 / (2.0 * np.pi))
    x, w = _gauss_hermite(order)
    mean = float(w @ fun(x))
    if abs(mean) > 1e-8:
        warnings.warn(f"f={name} is not centred (E f = {mean:.3g}); subtracting E f", UserWarning, stacklevel=2)
        raw = fun

        def fun(t, _raw=raw, _m=mean):
            return _raw(t) - _m

    fx = fun(x)
    a1 = float(w @ (x * fx))
    if abs(a1) < 1e-10:
        warnings.warn(f"f={name} has a1 = E[xi f(xi)] = 0: attention then carries no signal (the model assumes "
                      "a1 != 0; the errors are still computed)", UserWarning, stacklevel=2)
    return Activation(name, fun, a1, float(w @ fx**2))


def tau_p(act: Activation, p: int) -> float:
    """Diagonal of the true kernel, ``f(sqrt p) / sqrt p`` (|x|^2 ~ p); kept since it moves E at finite p."""
    return float(act.f(np.sqrt(p)) / np.sqrt(p))


def tau_limit(act: Activation, rtol: float = 1e-6) -> float:
    """The p -> infinity limit of :func:`tau_p`: lim f(t) / t as t -> +inf, the slope of f at +inf
    (1 for relu_centered, 0 for tanh and erf, a for t -> a t).

    Computed from f(t) / t at t = 1e4, 1e5, ..., 1e16: the last three successive changes must be
    below ``rtol`` max(1, |limit|) (for f(t) = s t + O(t^q), q < 1, the change per decade is
    ~t^(q-1)). Raises ValueError when the ratio does not settle (f grows faster than linearly,
    oscillates, sublinear tail too slow to be a limit at any usable p) or is not finite: pass a
    finite p then.

    >>> tau_limit(activation("relu_centered")), abs(tau_limit(activation("tanh"))) < 1e-15
    (1.0, True)
    """
    t = 10.0 ** np.arange(4, 17)
    with np.errstate(all="ignore"):
        r = np.asarray(act.f(t), dtype=float) / t
    if r.shape != t.shape or not np.all(np.isfinite(r)):
        first = t[np.argmin(np.isfinite(r))] if r.shape == t.shape else t[0]
        raise ValueError(f"f={act.name}: f(t)/t is not finite at t = {first:.0e} (f overflows or is undefined "
                         "there), so the p -> infinity diagonal tau = lim f(sqrt p)/sqrt p does not exist; "
                         "pass a finite p (command line: --n, p = c n)")
    limit = float(r[-1])
    changes = np.abs(np.diff(r[-4:]))
    if np.any(changes > rtol * max(1.0, abs(limit))):
        shown = ", ".join(f"{v:.4g}" for v in r[::3])
        raise ValueError(f"f={act.name}: f(t)/t does not settle as t -> infinity (at t = 1e4, 1e7, 1e10, 1e13, "
                         f"1e16: {shown}; f grows faster than linearly, oscillates or nears its slope too "
                         "slowly), so the p -> infinity diagonal tau = lim f(sqrt p)/sqrt p does not exist; "
                         "pass a finite p (command line: --n, p = c n)")
    return limit


def _check(c, gamma):
    c = np.asarray(c, float)
    gamma = np.asarray(gamma, float)
    if np.any(c <= 0):
        raise ValueError("c must be > 0")
    if np.any(gamma <= 0):
        raise ValueError("gamma must be > 0")
    return c, gamma


def ridge_memorization_error(c, gamma, rho):
    """Marchenko-Pastur closed form of the linear-ridge memorization error E_RR.

    >>> round(float(ridge_memorization_error(0.5, 1e-8, 1.0)), 4)  # (1 - c)_+ / (1 + rho)
    0.25
    """
    c, gamma = _check(c, gamma)
    rho = np.asarray(rho, float)
    g1 = gamma + c - 1.0
    delta = (-g1 + np.sqrt(g1**2 + 4.0 * gamma)) / (2.0 * gamma)
    pre = gamma**2 * delta**2 / (1.0 - c * delta**2 / (1.0 + delta) ** 2)
    return pre * (1.0 + 2.0 * delta + (1.0 + rho) * delta**2) / (1.0 + (1.0 + rho) * delta) ** 2


def _mp_nodes(c: float, n_nodes: int = 400):
    """Nodes and weights of the law F of C0 = Z^T Z / n (n x n, ratio c): atom (1-c)_+ at 0 plus
    density sqrt((l+ - l)(l - l-)) / (2 pi l); substituting l = 1 + c + 2 sqrt(c) cos(theta) removes the
    square-root edges so the midpoint rule converges fast."""
    theta = (np.arange(n_nodes) + 0.5) * np.pi / n_nodes
    h = 2.0 * np.sqrt(c)
    lam = 1.0 + c + h * np.cos(theta)
    w = h**2 * np.sin(theta) ** 2 / (2.0 * np.pi * lam) * (np.pi / n_nodes)
    lam = np.concatenate([[0.0], lam])
    w = np.concatenate([[max(1.0 - c, 0.0)], w])
    return lam, w


def _blocks(state, lam, kappa, b, s2, gamma):
    A, B, C, D = (state[:, k : k + 1] for k in range(4))
    l = kappa * lam + b
    g_sD = gamma + s2 * D
    one_sA = 1.0 + s2 * A * lam
    lm = l - s2 * C
    lp = l + s2 * B
    det = g_sD * one_sA + lam * lm * lp
    return A, g_sD, one_sA, lm, lp, det


@dataclass
class BulkSolution:
    T: np.ndarray  # (P, 6): T1..T6
    converged: np.ndarray
    residual: np.ndarray


def solve_bulk(c, gamma, kappa, b, s2, n_nodes: int = 400, tol: float = 1e-12) -> BulkSolution:
    """The 4-scalar noise-bulk system (A, B, C, D) and the traces T1..T6, vectorized over points."""
    c, gamma, kappa, b, s2 = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, float)) for v in (c, gamma, kappa, b, s2)))
    P = c.size
    nodes = [_mp_nodes(float(ci), n_nodes) for ci in c.ravel()]
    lam = np.stack([nd[0] for nd in nodes])
    wts = np.stack([nd[1] for nd in nodes])
    par = [v.ravel()[:, None] for v in (kappa, b, s2, gamma)]

    def update(state, idx):
        L, Wt = lam[idx], wts[idx]
        k, bb, s, g = (v[idx] for v in par)
        _, g_sD, one_sA, lm, lp, det = _blocks(state, L, k, bb, s, g)
        return np.stack(
            [
                (Wt * one_sA / det).sum(1),
                (Wt * L * (-lm) / det).sum(1),
                (Wt * L * lp / det).sum(1),
                (Wt * L * g_sD / det).sum(1),
            ],
            axis=1,
        )

    init = np.tile([1.0, 0.0, 0.0, 0.0], (P, 1)) / np.array([1.0, 1.0, 1.0, 1.0])
    init[:, 0] = 1.0 / (gamma.ravel() + 1.0)
    res = solve_fixed_point(update, init, tol=tol, max_iter=20000, damping=0.5)
    warn_unconverged(res, "attention bulk system")
    k, bb, s, g = par
    A, g_sD, one_sA, lm, lp, det = _blocks(res.state, lam, k, bb, s, g)
    G22 = g_sD / det
    T = np.stack(
        [
            res.state[:, 0],
            (wts * lm / det).sum(1),
            res.state[:, 2],
            (wts * (g_sD * s * A + lm * lp) / det).sum(1),
            1.0 - (wts * G22).sum(1),
            (wts * lam * (1.0 - G22)).sum(1),
        ],
        axis=1,
    )
    return BulkSolution(T, res.converged, res.residual)


def _basis_coords(snr: float, align: float, w_norm: float):
    if snr < 0:
        raise ValueError(f"snr must be >= 0, got {snr}")
    if not -1.0 <= align <= 1.0:
        raise ValueError(f"align must be in [-1, 1], got {align}")
    m = np.array([np.sqrt(snr), 0.0, 0.0])
    w = np.array([w_norm * align, w_norm * np.sqrt(max(1.0 - align**2, 0.0)), 0.0])
    return m, w, w.copy()


def _h_attention(T, kappa, m, alpha, beta, c):
    """h_A = T1 - g^T B (I_9 + H B)^{-1} g, batched: ``T`` (P, 6), ``kappa`` and ``c`` (P,), and the
    coordinates ``m``, ``alpha``, ``beta`` of mu, w_K, w_Q either (3,) (one structure for every point) or
    (P, 3) (one per point). Returns (P,)."""
    T = np.atleast_2d(np.asarray(T, float))
    P = T.shape[0]
    kappa, c = (np.broadcast_to(np.asarray(v, float), (P,)) for v in (kappa, c))
    m, alpha, beta = (np.broadcast_to(np.asarray(v, float), (P, 3)) for v in (m, alpha, beta))
    I3 = np.eye(3)
    Gam = I3 + m[:, :, None] * m[:, None, :]
    W3 = I3 + alpha[:, :, None] * beta[:, None, :]
    W3t = np.swapaxes(W3, 1, 2)
    k = kappa[:, None, None]
    Z3 = np.zeros((P, 3, 3))
    Bm = np.block(
        [
            [k**2 * W3t @ (c[:, None, None] * Gam + Gam @ Gam) @ W3, k * W3t, k * W3t @ Gam],
            [k * W3, Z3, Z3],
            [k * Gam @ W3, Z3, np.broadcast_to(I3, (P, 3, 3))],
        ]
    )
    T1, T2, T3, T4, T5, T6 = T.T
    Tm = np.stack([np.stack([T1, T3, T2], -1), np.stack([T3, T6, T5], -1), np.stack([T2, T5, T4], -1)], 1)
    H = np.einsum("pij,pkl->pikjl", Tm, Gam).reshape(P, 9, 9)  # kron(Tm, Gam) per point
    g = np.einsum("pi,pk->pik", np.stack([T1, T3, T2], -1), m).reshape(P, 9)
    sol = np.linalg.solve(np.eye(9) + H @ Bm, g[:, :, None])[:, :, 0]
    return T1 - np.einsum("pi,pij,pj->p", g, Bm, sol)


def _kernel_constants(act: Activation, c, tau):
    """(kappa, b, s^2) of the Gaussian-equivalent kernel K0 = kappa C0 + b I + s W_n at ratio(s) c."""
    return act.a1 / c, tau - act.a1, (act.nu - act.a1**2) / c


def feature_scale(c, f="relu_centered", n=None):
    """The p -> infinity ratio ``|X K|_F^2 / |X|_F^2`` of the attention features to the tokens, from the
    Gaussian-equivalent kernel K0 = kappa C0 + b I + s W_n (C0 = Z^T Z/n, whose spectral moments are
    m1 = c, m2 = c + c^2, m3 = c + 3c^2 + c^3; the spikes and the signal are low rank and drop out):
    ``[kappa^2 m3 + 2 kappa b m2 + (b^2 + s^2) m1] / c``. ``n``: the diagonal tau_p at p = round(c n).

    Scale-matched comparisons put the attention penalty at ``gamma * feature_scale``: the same as
    rescaling X K to the Frobenius norm of X (E(M/s, gamma) = E(M, gamma s^2) exactly).

    >>> round(float(feature_scale(1.0)), 4)  # centred ReLU at c = 1: X K has 2.59x the energy of X
    2.5908
    """
    act = activation(f)
    c = np.asarray(_check(c, 1.0)[0], float)
    tau = tau_limit(act) if n is None else np.vectorize(lambda ci: tau_p(act, max(2, round(ci * n))))(c)
    return _energy_ratio(c, *_kernel_constants(act, c, tau))


def _energy_ratio(c, kappa, b, s2):
    m1, m2, m3 = c, c + c**2, c + 3 * c**2 + c**3
    return (kappa**2 * m3 + 2 * kappa * b * m2 + (b**2 + s2) * m1) / c


def memorization_error_grid(c, gamma, snr, align, f="relu_centered", n=None, w_norm=1.0, rel_step=1e-4,
                            match_scale=False):
    """E_attention and E_ridge on the full grid c x gamma x snr x align, reusing one noise-bulk solve per
    (c, gamma) for every (snr, align) (the bulk does not depend on the signal or the alignment).

    ``n``: evaluate at the finite size p = max(2, round(c n)) of a simulation (diagonal tau_p); ``None``:
    the p -> infinity limit. Returns a dict of arrays of shape (len c, len gamma, len snr, len align):
    ``attention``, ``ridge`` and ``gap`` = attention - ridge; and ``converged`` (len c, len gamma).
    ``match_scale``: attention at the penalty gamma * :func:`feature_scale` (features rescaled to the
    tokens' Frobenius norm), ridge at gamma.

    >>> out = memorization_error_grid([1.0], [1.0], [1.0], [1.0])
    >>> round(float(out["gap"][0, 0, 0, 0]), 4)  # aligned ReLU at c = gamma = rho = 1: attention wins
    -0.009
    """
    act = activation(f)
    c, gamma = (np.atleast_1d(v).astype(float) for v in _check(np.atleast_1d(c), np.atleast_1d(gamma)))
    snr, align = np.atleast_1d(np.asarray(snr, float)), np.atleast_1d(np.asarray(align, float))
    coords = [_basis_coords(float(s), float(a), w_norm) for s in snr for a in align]
    m, alpha, beta = (np.array([cd[i] for cd in coords]) for i in range(3))
    S = len(coords)
    cc, gg = (v.ravel() for v in np.meshgrid(c, gamma, indexing="ij"))
    if n is None:
        tau = np.full(cc.size, tau_limit(act))
    else:
        tau = np.array([tau_p(act, max(2, round(ci * n))) for ci in cc])
    kappa, b, s2 = _kernel_constants(act, cc, tau)
    if match_scale:
        gg = gg * _energy_ratio(cc, kappa, b, s2)
    hs, conv = [], np.ones(cc.size, bool)
    for sign in (+1, -1):
        sol = solve_bulk(cc, gg * (1 + sign * rel_step), kappa, b, s2)
        conv &= sol.converged
        rep = lambda v: np.repeat(v, S, axis=0)  # noqa: E731 - every point x every structure
        tile = lambda v: np.tile(v, (cc.size, 1))  # noqa: E731
        hs.append(_h_attention(rep(sol.T), rep(kappa), tile(m), tile(alpha), tile(beta), rep(cc)).reshape(cc.size, S))
    e_att = -(gg[:, None] ** 2) * (hs[0] - hs[1]) / (2 * rel_step * gg[:, None])
    shape = (c.size, gamma.size, snr.size, align.size)
    e_att = e_att.reshape(shape)
    e_rr = ridge_memorization_error(c[:, None, None, None], gamma[None, :, None, None], snr[None, None, :, None])
    e_rr = np.broadcast_to(e_rr, shape)
    return dict(attention=e_att, ridge=e_rr, gap=e_att - e_rr, converged=conv.reshape(c.size, gamma.size))


def attention_theory(c, gamma, f="tanh", snr=0.0, align=0.0, p=None, w_norm=1.0, rel_step=1e-4):
    """Theory records for attention and ridge over a grid of (c, gamma).

    ``snr`` is rho = |mu|^2. ``p`` sets the finite-p diagonal tau_p = f(sqrt p)/sqrt p (``None``: its
    p -> infinity limit, the slope of f at +infinity, :func:`tau_limit`: 1 for relu_centered, 0 for
    tanh/erf). E_A = -gamma^2 dh_A/dgamma by a central difference with relative step
    ``rel_step`` (truncation error ~1e-8 relative; the check against the Richardson estimate is in
    the tests).

    >>> r = attention_theory([1.0], [0.1], "tanh")[0]
    >>> r["memorization_error_attention"] > r["memorization_error_ridge"]
    True
    """
    act = activation(f)
    cc, gg = np.meshgrid(*_check(np.atleast_1d(c), np.atleast_1d(gamma)), indexing="ij")
    cc, gg = cc.ravel(), gg.ravel()
    tau = tau_p(act, p) if p is not None else tau_limit(act)
    kappa, b, s2 = _kernel_constants(act, cc, tau)
    m, alpha, beta = _basis_coords(snr, align, w_norm)
    hs, conv, resid = [], np.ones(cc.size, bool), np.zeros(cc.size)
    for sign in (+1, -1):
        sol = solve_bulk(cc, gg * (1 + sign * rel_step), kappa, b, s2)
        hs.append(_h_attention(sol.T, kappa, m, alpha, beta, cc))
        conv &= sol.converged
        resid = np.maximum(resid, sol.residual)
    dh = (hs[0] - hs[1]) / (2 * rel_step * gg)
    e_att = -(gg**2) * dh
    e_rr = ridge_memorization_error(cc, gg, snr)
    return [
        dict(
            c=float(cc[i]), gamma=float(gg[i]), f=act.name, snr=float(snr), align=float(align),
            memorization_error_attention=float(e_att[i]), memorization_error_ridge=float(e_rr[i]),
            converged=bool(conv[i]), residual=float(resid[i]),
        )
        for i in range(cc.size)
    ]


def theory_grid(c, gamma, f="tanh", snr=0.0, align=0.0, n=None) -> list[dict]:
    """:func:`attention_theory` records over every (c, snr, align) of the given values (each a number or
    a sequence), at all ``gamma``; with ``n``, at the finite size p = max(2, round(c n)) of a simulation."""
    rows = []
    for ci, si, ai in itertools.product(np.atleast_1d(c), np.atleast_1d(snr), np.atleast_1d(align)):
        p = None if n is None else max(2, round(ci * n))
        rows += attention_theory([ci], np.atleast_1d(gamma), f, si, ai, p=p)
    return rows

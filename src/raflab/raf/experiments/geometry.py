"""Kernel geometry: how mu_1 and mu_star of a kernel split capacity between the rule and the facts.

In the proportional regime a dot-product kernel enters the theory only through
mu1^2 = k'(0) (a linear student on x: the part that can learn the rule) and
mu_star^2 = k(1) - k(0) - k'(0) (a private direction per training sample: the part that stores
facts) (:class:`raflab.raf.theory.priors.KernelPrior`). So every kernel is a point of the
(mu1, mu_star) plane, and :func:`kernel_geometry` maps the errors of kernel ridge and kernel hinge
over that plane at fixed (alpha, eps, lam).

Two exact facts organize the plane:

* **Homogeneity.** The kernel prior at (mu1, mu_star, lam) has the same fixed point as the one at
  (1, mu_star / mu1, lam / mu1^2): V = mu1^2 / (lam + mu1^2 V^) + mu_star^2 / lam and its m, q are
  invariant under that rescaling. Points on one ray mu_star / mu1 = r are one erm_theory call over a
  vector of lam / mu1^2 (how :func:`kernel_geometry` vectorizes the plane).
* **Kernel ridge = linear ridge at an effective penalty.** With square loss the private part can
  be minimized out: the predictor on new inputs is linear ridge regression with
  lam_eff = (lam + mu_star^2) / mu1^2. Linear ridge is generalization-optimal at
  lam_lin* = pi / (2 (1 - eps)^2) - 1 (any alpha), so kernel ridge is at
  lam* = max(0, mu1^2 lam_lin* - mu_star^2) (:func:`ridge_optimal_lam`). A kernel with
  mu_star^2 / mu1^2 > lam_lin* is over-regularized by its own geometry: even lam -> 0+ is worse
  than the linear optimum; every other kernel reaches that same optimum.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from raflab.core.checks import one_of
from raflab.raf.config import check_raf_params
from raflab.raf.kernel_functions import Kernel, KernelLinearization, _inner, get_kernel
from raflab.raf.learner_spec import parse_kernel
from raflab.raf.theory.erm import erm_theory

__all__ = ["MomentKernel", "NAMED_KERNELS", "GEOMETRY_LOSSES", "named_kernel_points", "kernel_geometry",
           "linear_ridge_optimal_lam", "ridge_optimal_lam"]

#: the kernels marked on the plane, as ``--kernel`` option text (RBF: K = exp(-gamma |x - x'|^2 / d))
NAMED_KERNELS = ("linear", "arccos", "activation:sign", "polynomial:degree=2", "polynomial:degree=3",
                 "rbf:gamma=0.1", "rbf:gamma=0.5", "rbf:gamma=1", "rbf:gamma=2")
GEOMETRY_LOSSES = ("square", "hinge")
ERRORS = ("gen_error", "rule_train_error", "fact_memorization_error", "train_loss")


class MomentKernel(Kernel):
    """The kernel of a point (mu1, mu_star) of the plane: k0 + mu1^2 x.x'/d + mu_star^2 [x = x'].

    It is the proportional-regime linearization itself (El Karoui): on the training set its matrix
    is mu1^2 X X^T / d + mu_star^2 I, between new inputs and the training set mu1^2 X Y^T / d (a new
    input shares no private direction with a training sample). Its theory is exactly that of every
    real kernel with the same (mu1, mu_star).

    Examples
    --------
    >>> MomentKernel(0.5, 0.3).moments()
    GaussianMoments(mu0=0.0, mu1=0.5, mu_star=0.3)
    """

    params = ("mu1", "mu_star")

    def __init__(self, mu1: float, mu_star: float):
        for name, value in (("mu1", mu1), ("mu_star", mu_star)):
            if not (np.isscalar(value) and np.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be finite and >= 0 (got {value!r})")
        if mu1 == 0 and mu_star == 0:
            raise ValueError("mu1 = mu_star = 0 is the zero kernel: it learns and stores nothing")
        self.mu1, self.mu_star = float(mu1), float(mu_star)
        self.name = f"moments:mu1={self.mu1:g},mu_star={self.mu_star:g}"

    def matrix(self, X, Y=None) -> np.ndarray:
        K = self.mu1**2 * _inner(X, Y)[2]
        if Y is None:
            K[np.diag_indices_from(K)] += self.mu_star**2
        return K

    def linearization(self) -> KernelLinearization:
        return KernelLinearization(0.0, self.mu1**2, self.mu_star**2)


def named_kernel_points(kernels=NAMED_KERNELS) -> pd.DataFrame:
    """(mu1, mu_star) of each kernel (option text such as ``rbf:gamma=0.5``), from
    :meth:`raflab.raf.kernel_functions.Kernel.moments`, with the ratio mu_star / mu1."""
    rows = []
    for text in kernels:
        name, params = parse_kernel(text)
        m = get_kernel(name, **params).moments()
        rows.append({"kernel": text, "mu1": m.mu1, "mu_star": m.mu_star,
                     "ratio": m.mu_star / m.mu1 if m.mu1 > 0 else np.inf})
    return pd.DataFrame(rows, columns=["kernel", "mu1", "mu_star", "ratio"])


def linear_ridge_optimal_lam(eps):
    """pi / (2 (1 - eps)^2) - 1: the generalization-optimal penalty of linear ridge, at every alpha."""
    eps = np.asarray(eps, dtype=float)
    return np.pi / (2.0 * (1.0 - eps) ** 2) - 1.0


def ridge_optimal_lam(eps, mu1, mu_star):
    """Generalization-optimal lam of kernel ridge at (mu1, mu_star): max(0, mu1^2 lam_lin* - mu_star^2).

    0 means lam -> 0+ is best and still over-regularized (mu_star^2 > mu1^2 lam_lin*).

    Examples
    --------
    >>> round(float(ridge_optimal_lam(0.2, 1.0, 0.0)), 4)  # the linear kernel: pi / 1.28 - 1
    1.4544
    """
    mu1, mu_star = np.asarray(mu1, dtype=float), np.asarray(mu_star, dtype=float)
    return np.maximum(0.0, mu1**2 * linear_ridge_optimal_lam(eps) - mu_star**2)


def _check_plane(mu1, mu_star) -> tuple[np.ndarray, np.ndarray]:
    mu1, mu_star = (np.atleast_1d(np.asarray(v, dtype=float)).ravel() for v in (mu1, mu_star))
    if mu1.shape != mu_star.shape:
        raise ValueError(f"mu1 and mu_star must have the same length (got {mu1.size} and {mu_star.size})")
    if not (np.all(np.isfinite(mu1)) and np.all(mu1 > 0)):
        raise ValueError("mu1 must be finite and > 0 (mu1 = 0 learns no rule: its generalization error is 1/2)")
    if not (np.all(np.isfinite(mu_star)) and np.all(mu_star >= 0)):
        raise ValueError("mu_star must be finite and >= 0")
    return mu1, mu_star


def _solve_points(loss, alpha, eps, lam, mu1, mu_star, tol) -> pd.DataFrame:
    """Theory records at the points (mu1_i, mu_star_i, lam_i): one call per ray mu_star / mu1
    (homogeneity, module docstring), vectorized over lam / mu1^2 along the ray."""
    ratio = np.round(mu_star / mu1, 12)
    lam_scaled = lam / mu1**2
    out = pd.DataFrame(index=range(mu1.size), columns=[*ERRORS, "m", "q", "V", "converged"], dtype=object)
    for r in np.unique(ratio):
        idx = np.flatnonzero(ratio == r)
        lams, back = np.unique(lam_scaled[idx], return_inverse=True)
        df = erm_theory(loss, alpha, eps, lams, model="kernel", kernel=MomentKernel(1.0, float(r)), tol=tol)
        df = df.sort_values("lam").reset_index(drop=True)
        out.iloc[idx] = df.loc[back, out.columns].to_numpy()
    return out.astype({c: float for c in out.columns if c != "converged"} | {"converged": bool})


def kernel_geometry(alpha: float, eps: float, lam: float, mu1, mu_star, *, losses=GEOMETRY_LOSSES,
                    kernels=NAMED_KERNELS, tol: float = 1e-10) -> pd.DataFrame:
    """Errors of kernel ERM over the (mu1, mu_star) plane at one (alpha, eps, lam), and at the kernels.

    Parameters
    ----------
    alpha, eps, lam : float
        n / d > 0, fact fraction in [0, 1), ridge penalty >= 0 (0: the lam -> 0+ limit).
    mu1, mu_star : 1-d array-like
        The plane's axes (mu1 > 0, mu_star >= 0): every pair is a point.
    losses : sequence of {'square', 'hinge', 'logistic'}
        Square is kernel ridge, hinge the kernel SVM (without intercept).
    kernels : sequence of kernel option text
        Kernels placed on the plane at their own (mu1, mu_star) (:func:`named_kernel_points`).

    Returns
    -------
    pandas.DataFrame
        One record per (loss, point): ``where`` ('plane' or 'kernel'), ``kernel`` (its text; empty on
        the plane), loss, alpha, eps, lam, mu1, mu_star, ratio = mu_star / mu1, the theory errors and
        overlaps, ``converged``, and kernel ridge's ``ridge_optimal_lam`` at the point with
        ``ridge_optimal_gen_error`` and ``ridge_optimal_fact_memorization_error`` there.

    Examples
    --------
    >>> df = kernel_geometry(2.0, 0.2, 0.1, [0.5, 1.0], [0.0, 0.5], losses=("square",), kernels=("arccos",))
    >>> list(df["where"]), bool(df["converged"].all())
    (['plane', 'plane', 'plane', 'plane', 'kernel'], True)
    """
    alpha, eps, lam = (float(v) for v in (alpha, eps, lam))
    check_raf_params(alpha=alpha, eps=eps, lam=lam)
    if eps >= 1:
        raise ValueError(f"eps must be < 1 for the kernel geometry (got {eps:g}): at eps = 1 there is no rule")
    losses = (losses,) if isinstance(losses, str) else tuple(losses)
    for loss in losses:
        one_of(loss, ("square", "hinge", "logistic"), "loss")
    m1_axis, ms_axis = (np.atleast_1d(np.asarray(v, dtype=float)).ravel() for v in (mu1, mu_star))
    M1, MS = np.meshgrid(m1_axis, ms_axis, indexing="ij")
    points = pd.DataFrame({"where": "plane", "kernel": "", "mu1": M1.ravel(), "mu_star": MS.ravel()})
    named = named_kernel_points(kernels).drop(columns="ratio").assign(where="kernel")
    points = pd.concat([points, named[points.columns]], ignore_index=True)
    m1, ms = _check_plane(points["mu1"], points["mu_star"])
    best_lam = ridge_optimal_lam(eps, m1, ms)
    best = _solve_points("square", alpha, eps, best_lam, m1, ms, tol)
    frames = []
    for loss in losses:
        errors = _solve_points(loss, alpha, eps, np.full(m1.size, lam), m1, ms, tol)
        frames.append(pd.concat([
            points.assign(loss=loss, alpha=alpha, eps=eps, lam=lam, ratio=ms / m1), errors,
            pd.DataFrame({"ridge_optimal_lam": best_lam, "ridge_optimal_gen_error": best["gen_error"],
                          "ridge_optimal_fact_memorization_error": best["fact_memorization_error"]}),
        ], axis=1))
    return pd.concat(frames, ignore_index=True)

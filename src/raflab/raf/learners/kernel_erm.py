"""Kernel ERM fits, by reduction to :class:`raflab.raf.learners.erm.LinearERM`.

Objective over the RKHS H of a kernel K (no intercept):
    J(f) = sum_mu loss(y_mu, f(x_mu)) + (lam / 2) |f|_H^2.
By the representer theorem only f on the training points matters. With the eigendecomposition
K = U S U^T of the training kernel matrix (rank r after dropping the null eigenvalues) the points
z_mu = sqrt(r) sqrt(S) U^T e_mu give LinearERM's scores z.w / sqrt(r) = (U sqrt(S) w)_mu = f(x_mu)
and |w|^2 = |f|_H^2 for f = sum_mu a_mu K(., x_mu), a = U S^{-1/2} w. So LinearERM on Z (n, r)
minimizes J exactly, with every loss and its lam -> 0+ limits (min-RKHS-norm interpolator,
hard-margin kernel SVM) and its optimality certificates.

scikit-learn twins (on the precomputed K): KernelRidge(alpha=lam) minimizes 2 J for square loss;
SVC(C=1/lam) minimizes J / lam for hinge loss, but with a free intercept (see the tests).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy import linalg
from sklearn.base import BaseEstimator

from raflab.raf.kernel_functions import Kernel, get_kernel
from raflab.raf.learners.erm import LinearERM, check_fit_args

__all__ = ["KernelERM", "kernel_features"]


def kernel_features(K) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features Z (n, r) with Z Z^T / r = K, from the eigendecomposition K = U S U^T.

    Eigenvalues at or below n * eps * max(S) in absolute value are rounding noise of zero (the
    ``numpy.linalg.matrix_rank`` rule) and are dropped; r is the number kept.

    Returns
    -------
    Z : ndarray (n, r)
        U sqrt(S) sqrt(r).
    U : ndarray (n, r)
    S : ndarray (r,)

    Raises
    ------
    ValueError
        If K has an eigenvalue below -1e-8 max(S): it is not positive semi-definite, so no RKHS.

    Examples
    --------
    >>> A = np.random.default_rng(0).standard_normal((5, 3))
    >>> Z, U, S = kernel_features(A @ A.T)
    >>> Z.shape, bool(np.allclose(Z @ Z.T / 3, A @ A.T))
    ((5, 3), True)
    """
    K = np.asarray(K, dtype=float)
    S, U = linalg.eigh(K, driver="evd", check_finite=False)
    top = max(float(np.max(np.abs(S), initial=0.0)), np.finfo(float).tiny)
    if S.size and S[0] < -1e-8 * top:
        raise ValueError(f"the kernel matrix is not positive semi-definite (eigenvalue {S[0]:.3g}, "
                         f"largest {top:.3g})")
    kept = S > K.shape[0] * np.finfo(float).eps * top
    if not kept.any():
        raise ValueError("the kernel matrix is zero: every function of the RKHS vanishes on the data")
    S, U = S[kept], U[:, kept]
    return U * (np.sqrt(S) * np.sqrt(S.size)), U, S


class KernelERM(BaseEstimator):
    """Kernel empirical risk minimizer, a scikit-learn estimator (``BaseEstimator``: get/set_params,
    repr, clone; ``__init__`` only stores the parameters, ``fit`` checks them).

    Minimizes J(f) = sum_mu loss(y_mu, f(x_mu)) + (lam / 2) |f|_H^2 over the RKHS of the kernel,
    without intercept, exactly: the fit is :class:`LinearERM` on kernel features (module docstring),
    with its certificates.

    Parameters
    ----------
    kernel : str, Kernel or callable, default 'arccos'
        Any kernel of :func:`raflab.raf.kernel_functions.get_kernel`: a name (``linear``, ``polynomial``,
        ``rbf``, ``arccos``, ``activation:tanh``, ...), a kernel object, or a callable activation.
    loss : {'square', 'hinge', 'logistic'}, default 'square'
    lam : float >= 0, default 1.0
        ``lam = 0`` is the lam -> 0+ limit, as in :class:`LinearERM`: the min-RKHS-norm interpolator
        (square loss; least squares in the range of K if K is singular), the hard-margin kernel SVM
        (hinge; raises :class:`raflab.raf.learners.erm.NotSeparableError` when it does not exist).
    tol, max_iter
        Passed to :class:`LinearERM`.
    **kernel_params
        The kernel's parameters (``degree``, ``coef0``, ``gamma``), for a kernel given by name.

    Attributes
    ----------
    kernel_ : Kernel
        The kernel object used.
    X_fit_ : ndarray (n, d)
        Training inputs (needed to evaluate f elsewhere).
    dual_coef_ : ndarray (n,)
        a with f(x) = sum_mu a_mu K(x, x_mu).
    train_scores_ : ndarray (n,)
        f on the training inputs.
    rank_ : int
        Number of eigenvalues of K kept.
    objective_, n_iter_, converged_, kkt_violation_, separable_
        As in :class:`LinearERM` (``objective_`` is J(f); ``separable_``: by a function of the RKHS).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 30)); y = np.where(X[:, 0] >= 0, 1.0, -1.0)
    >>> est = KernelERM(kernel="polynomial", loss="hinge", lam=0.1, degree=2).fit(X, y)
    >>> bool(est.converged_), bool(np.allclose(est.decision_function(X), est.train_scores_))
    (True, True)
    """

    def __init__(self, kernel: str | Kernel | Callable = "arccos", loss: str = "square", lam: float = 1.0,
                 tol: float = 1e-9, max_iter: int = 20000, **kernel_params):
        self.kernel = kernel
        self.loss = loss
        self.lam = lam
        self.tol = tol
        self.max_iter = max_iter
        self._kernel_param_names = tuple(kernel_params)
        for key, value in kernel_params.items():
            setattr(self, key, value)

    def get_params(self, deep: bool = True) -> dict:
        """``BaseEstimator``'s parameters and the kernel's (``**kernel_params``, given by name)."""
        return {**super().get_params(deep), **{key: getattr(self, key) for key in self._kernel_param_names}}

    def set_params(self, **params) -> "KernelERM":
        """``BaseEstimator.set_params``; a parameter of the (possibly new) kernel may also be set
        when it was not given before."""
        own = super().get_params(deep=False)
        kernel = params.get("kernel", self.kernel)
        takes = getattr(type(get_kernel(kernel)), "params", ()) if isinstance(kernel, str) else ()
        for key, value in params.items():
            if key in own:
                continue
            if key not in self._kernel_param_names and key not in takes:
                raise ValueError(f"invalid parameter {key!r} for KernelERM with kernel {kernel!r}")
            if key not in self._kernel_param_names:
                self._kernel_param_names += (key,)
            setattr(self, key, value)
        return super().set_params(**{key: value for key, value in params.items() if key in own})

    def fit(self, X, y) -> "KernelERM":
        """Fit on inputs X (n, d) and labels y (n,) in {-1, +1}; returns self."""
        # every check before the O(n^2 d + n^3) work
        kernel = get_kernel(self.kernel, **{key: getattr(self, key) for key in self._kernel_param_names})
        _, lam, X, y = check_fit_args(self.loss, self.lam, self.tol, self.max_iter, X, y)

        Z, U, S = kernel_features(kernel.matrix(X))
        linear = LinearERM(loss=self.loss, lam=lam, tol=self.tol, max_iter=self.max_iter).fit(Z, y)
        w = linear.coef_
        self.kernel_, self.X_fit_, self.rank_ = kernel, X, int(S.size)
        self.dual_coef_ = U @ (w / np.sqrt(S))
        self.train_scores_ = U @ (np.sqrt(S) * w)
        for attr in ("objective_", "n_iter_", "converged_", "kkt_violation_", "separable_"):
            setattr(self, attr, getattr(linear, attr))
        return self

    def decision_function(self, X) -> np.ndarray:
        """f(x) = sum_mu a_mu K(x, x_mu) for the rows of X, shape (n,)."""
        if not hasattr(self, "dual_coef_"):
            raise AttributeError("this KernelERM is not fitted yet: call fit(X, y) first")
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.X_fit_.shape[1]:
            raise ValueError(f"X must be (n, {self.X_fit_.shape[1]}) (got {X.shape})")
        return self.kernel_.matrix(X, self.X_fit_) @ self.dual_coef_

    def predict(self, X) -> np.ndarray:
        """Labels in {-1.0, +1.0}: the sign of f, with f = 0 exactly giving +1."""
        return np.where(self.decision_function(X) >= 0, 1.0, -1.0)

"""Linear ERM fits at finite size: score z = w.x / sqrt(d), objective
J(w) = sum_mu loss(y_mu, z_mu) + (lam / 2) |w|^2.

* square loss: :func:`ridge_path`, one thin SVD for a whole lam path; lam = 0 is the min-norm
  interpolator (n < d) or least squares (n > d);
* hinge loss: the dual box QP  min_a a^T Q a / (2 lam) - sum(a), 0 <= a <= 1, Q = (y y^T) * (Z Z^T),
  solved to machine precision by L-BFGS-B rounds polished by an exact active-set solve (KKT
  certificate); lam = 0 is the max-margin classifier (a >= 0, no upper bound), after an exact
  linear-programming test of separability;
* logistic loss: trust-region Newton-CG with Hessian-vector products (liblinear's method);
  lam = 0 is the max-margin direction on separable data (the lam -> 0+ limit of the direction),
  the unregularized maximum-likelihood fit otherwise.

scikit-learn twins (on Z = X / sqrt(d), fit_intercept=False): Ridge(alpha=lam) for square loss,
LinearSVC(loss="hinge", C=1/lam) and LogisticRegression(C=1/lam), which minimize J / lam.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg, optimize
from scipy.special import expit

from raflab.losses import get_loss
from raflab.theory.fixed_point import ConvergenceWarning


class NotSeparableError(ValueError):
    """No hyperplane through the origin separates the labels: max-margin does not exist."""


def _scaled(X):
    X = np.asarray(X, dtype=float)
    return X / np.sqrt(X.shape[1])


def objective(loss, X, y, coef, lam: float) -> float:
    """J(w) = sum loss(y, X w / sqrt d) + lam |w|^2 / 2."""
    z = _scaled(X) @ coef
    return float(np.sum(get_loss(loss).value(np.asarray(y, float), z)) + 0.5 * lam * coef @ coef)


def ridge_path(X, y, lams) -> np.ndarray:
    """Square-loss solutions for every lam from one thin SVD of X / sqrt(d).

    w(lam) = V diag(s / (s^2 + lam)) U^T y. At lam = 0, singular values below a relative cutoff
    count as zero (pseudo-inverse: min-norm interpolator or least squares).

    Returns
    -------
    ndarray of shape (len(lams), d)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((40, 10)), rng.choice([-1.0, 1.0], 40)
    >>> ridge_path(X, y, [0.0, 1.0]).shape
    (2, 10)
    """
    lams = np.atleast_1d(np.asarray(lams, dtype=float))
    if np.any(lams < 0) or not np.all(np.isfinite(lams)):
        raise ValueError(f"lam must be >= 0 (got {lams[~(lams >= 0)][0] if np.any(~(lams >= 0)) else lams})")
    U, s, Vt = linalg.svd(_scaled(X), full_matrices=False, check_finite=False)
    Uty = U.T @ np.asarray(y, dtype=float)
    cutoff = s.max(initial=0.0) * max(X.shape) * np.finfo(float).eps
    with np.errstate(divide="ignore", invalid="ignore"):
        shrink = np.where(s[None, :] > cutoff, s[None, :] / (s[None, :] ** 2 + lams[:, None]), 0.0)
    return (shrink * Uty[None, :]) @ Vt


def is_linearly_separable(X, y, tol: float = 1e-9) -> bool:
    """Exact test by linear programming (HiGHS): is there w with y_i w.x_i > 0 for every i?

    Solves max t s.t. y_i z_i.w >= t, |w|_inf <= 1: always feasible and bounded (a zero-objective
    feasibility LP is not: HiGHS may then answer "unknown" instead of "infeasible"); the data are
    separable iff the optimal t is positive.
    """
    Zy = np.asarray(y, float)[:, None] * _scaled(X)
    n, d = Zy.shape
    c = np.zeros(d + 1)
    c[-1] = -1.0
    A = np.hstack([-Zy, np.ones((n, 1))])
    res = optimize.linprog(c, A_ub=A, b_ub=np.zeros(n), bounds=[(-1.0, 1.0)] * d + [(None, 1.0)],
                           method="highs")
    if res.status != 0:
        raise RuntimeError(f"separability test failed: {res.message}")
    return -res.fun > tol


def _box_qp(A, upper: float, tol: float, max_iter: int):
    """min_a |A^T a|^2 / 2 - sum(a) over 0 <= a <= upper (upper may be inf).

    With A = (y * Z) / sqrt(lam) this is the hinge dual, G = A A^T; A (n x d) is used in factored
    form, so a gradient costs two n x d products and never the n x n Gram matrix.

    Rounds of bounded quasi-Newton (L-BFGS-B), each followed by an exact polish: guess which
    bounds bind from a - gradient, solve the equality-constrained problem on the free set, repeat
    a few times (primal-dual active set). Started cold, the active-set method cycles or diverges on
    these problems; from an L-BFGS-B point it lands on the exact solution (KKT ~ 1e-14) in one to
    three solves. A polish is accepted only with its KKT certificate, so the worst case is plain
    L-BFGS-B.
    """
    n = A.shape[0]
    bounds = [(0.0, upper if np.isfinite(upper) else None)] * n

    def fun(v):
        u = A.T @ v
        return 0.5 * u @ u - v.sum(), A @ u - 1.0

    a, total, rounds, budget = np.zeros(n), 0, 0, 30
    while total < 50 * max_iter:
        res = optimize.minimize(fun, a, jac=True, method="L-BFGS-B", bounds=bounds,
                                options={"maxiter": budget, "ftol": 0.0, "gtol": 0.0})
        a, total, rounds = res.x, total + res.nit, rounds + 1
        polished, certified = _active_set_polish(A, a, upper, tol)
        if certified:
            return polished, total + rounds, True
        # An uncertified active-set point, projected on the box, is often still a far better
        # start for the next round than where L-BFGS-B stopped.
        if polished is not None and fun(polished)[0] < fun(a)[0]:
            a = polished
        if _kkt_violation(a, fun(a)[1], upper) < tol:
            return a, total, True
        budget *= 2
    return a, total, False


def _active_set_polish(A, a, upper, tol, max_solves: int = 5):
    grad = A @ (A.T @ a) - 1.0
    for _ in range(max_solves):
        at_upper, at_lower = a - grad > upper, a - grad < 0
        free = ~(at_upper | at_lower)
        new = np.where(at_upper, upper, 0.0) if np.isfinite(upper) else np.zeros_like(a)
        A_free = A[free]
        rhs = 1.0 - A_free @ (A[at_upper].T @ new[at_upper]) if at_upper.any() else np.ones(free.sum())
        try:
            new[free] = linalg.solve(A_free @ A_free.T, rhs, assume_a="pos", check_finite=False)
        except (linalg.LinAlgError, ValueError):
            break
        a, grad = new, A @ (A.T @ new) - 1.0
        if _kkt_violation(a, grad, upper) < tol:
            return a, True
    return np.clip(a, 0.0, upper), False


def _kkt_violation(a, grad, upper) -> float:
    """Largest violation of the box-QP optimality conditions: the projected gradient, and the
    bounds themselves (an active-set solve can land outside the box)."""
    proj = np.where(a <= 0, np.minimum(grad, 0.0), np.where(a >= upper, np.maximum(grad, 0.0), grad))
    outside = np.maximum(-a, a - upper)
    return float(max(np.max(np.abs(proj), initial=0.0), np.max(outside, initial=0.0)))


class LinearERM:
    """Linear empirical risk minimizer of the RAF model, with scikit-learn's estimator conventions.

    Parameters
    ----------
    loss : {'square', 'hinge', 'logistic'}
    lam : float, default 1.0
        Ridge penalty on (lam / 2) |w|^2, with scores w.x / sqrt(d). ``lam = 0`` is the lam -> 0+
        limit: min-norm interpolator / least squares (square), max-margin classifier (hinge; raises
        :class:`NotSeparableError` when none exists), max-margin direction or maximum likelihood
        (logistic, see ``separable_``).
    tol : float, default 1e-9
        Optimality tolerance (KKT violation for hinge, gradient norm relative to the data for
        logistic).
    max_iter : int, default 200

    Attributes
    ----------
    coef_ : ndarray (d,)
    objective_ : float
        J(coef_) (for logistic at lam = 0 on separable data, J of the max-margin vector).
    n_iter_ : int
    converged_ : bool
    separable_ : bool or None
        For margin losses at lam = 0: whether the data are linearly separable.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 20)); y = np.sign(X[:, 0])
    >>> clf = LinearERM(loss="hinge", lam=0.1).fit(X, y)
    >>> float(np.mean(clf.predict(X) == y)) > 0.9
    True
    """

    def __init__(self, loss: str = "square", lam: float = 1.0, tol: float = 1e-9, max_iter: int = 200):
        self.loss = loss
        self.lam = lam
        self.tol = tol
        self.max_iter = max_iter

    def _validate(self, X, y):
        get_loss(self.loss)
        if not (np.isfinite(self.lam) and self.lam >= 0):
            raise ValueError(f"lam must be >= 0 (got {self.lam})")
        X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0]:
            raise ValueError(f"X must be (n, d) and y (n,) with the same n (got {X.shape} and {y.shape})")
        if not np.all(np.isin(y, (-1.0, 1.0))):
            raise ValueError("labels y must be -1 or +1")
        return X, y

    def fit(self, X, y):
        X, y = self._validate(X, y)
        self.separable_ = None
        if self.loss == "square":
            self.coef_ = ridge_path(X, y, [self.lam])[0]
            self.n_iter_, self.converged_ = 1, True
        elif self.loss == "hinge":
            self._fit_hinge(X, y)
        else:
            self._fit_logistic(X, y)
        self.objective_ = objective(self.loss, X, y, self.coef_, self.lam)
        if not self.converged_:
            warnings.warn(f"LinearERM({self.loss}, lam={self.lam}) stopped before reaching tol={self.tol} "
                          f"after {self.n_iter_} iterations", ConvergenceWarning, stacklevel=2)
        return self

    def _max_margin(self, X, y):
        if not is_linearly_separable(X, y):
            raise NotSeparableError(f"data are not linearly separable: the max-margin classifier ({self.loss}, "
                                    "lam=0) does not exist; use lam > 0")
        self.separable_ = True
        Zy = y[:, None] * _scaled(X)
        a, self.n_iter_, self.converged_ = _box_qp(Zy, np.inf, self.tol, self.max_iter)
        self.coef_ = Zy.T @ a

    def _fit_hinge(self, X, y):
        if self.lam == 0:
            return self._max_margin(X, y)
        Zy = y[:, None] * _scaled(X)
        a, self.n_iter_, self.converged_ = _box_qp(Zy / np.sqrt(self.lam), 1.0, self.tol, self.max_iter)
        self.coef_ = Zy.T @ a / self.lam

    def _fit_logistic(self, X, y):
        Z = _scaled(X)
        if self.lam == 0:
            if is_linearly_separable(X, y):
                return self._max_margin(X, y)
            self.separable_ = False
        lam = self.lam
        Zy = y[:, None] * Z

        def fun(w):
            m = Zy @ w
            return np.sum(np.logaddexp(0.0, -m)) + 0.5 * lam * w @ w, -Zy.T @ expit(-m) + lam * w

        def hessp(w, v):
            s = expit(Zy @ w)
            return Zy.T @ (s * (1 - s) * (Zy @ v)) + lam * v

        scale = max(1.0, np.abs(Zy).sum(axis=0).max())
        res = optimize.minimize(fun, np.zeros(Z.shape[1]), jac=True, hessp=hessp, method="trust-ncg",
                                options={"gtol": self.tol * scale, "maxiter": self.max_iter})
        self.coef_, self.n_iter_ = res.x, res.nit
        self.converged_ = bool(np.linalg.norm(fun(res.x)[1]) <= self.tol * scale * 10)

    def decision_function(self, X):
        """Scores X w / sqrt(d)."""
        return _scaled(X) @ self.coef_

    def predict(self, X):
        """Labels in {-1, +1}; a score of exactly 0 gives +1."""
        return np.where(self.decision_function(X) >= 0, 1.0, -1.0)

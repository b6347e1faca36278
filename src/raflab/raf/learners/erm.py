"""Linear ERM fits at finite size.

Score z = w.x / sqrt(d), objective J(w) = sum_mu loss(y_mu, z_mu) + (lam / 2) |w|^2.

* square loss: :func:`ridge_path`, one thin SVD for a whole lam path; lam = 0 is the min-norm
  interpolator (n < d) or least squares (n > d);
* hinge loss: the dual box QP  min_a a^T Q a / (2 lam) - sum(a), 0 <= a <= 1, Q = (y y^T) * (Z Z^T),
  Z = X / sqrt(d): spectral projected gradient (projected L-BFGS on the hard cases) finds the
  active set, exact active-set solves finish to a KKT certificate (violation ~ 1e-14), all our
  own code with our own stopping test; lam = 0 is the max-margin classifier (a >= 0, no upper
  bound);
* logistic loss: Newton-CG with Hessian-vector products and a backtracking line search; lam = 0
  is the max-margin direction on separable data (the lam -> 0+ limit of w / |w|) and the
  unregularized maximum-likelihood fit otherwise.

At lam = 0 the margin losses first settle separability with a certificate either way: a w that
classifies every sample correctly, or weights p >= 0 with Z^T (y p) = 0 (Gordan's alternative: no
hyperplane through the origin separates). Both come out of a few unregularized logistic Newton
steps; a linear program (HiGHS) decides the rare cases where neither appears.

scikit-learn twins (on Z, fit_intercept=False): Ridge(alpha=lam) minimizes 2 J for square loss;
LinearSVC(loss="hinge", C=1/lam) and LogisticRegression(C=1/lam) minimize J / lam.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg, optimize
from scipy.special import expit
from sklearn.base import BaseEstimator

from raflab.core.fixed_point import ConvergenceWarning
from raflab.raf.learners.box_qp import box_qp as _box_qp
from raflab.raf.losses import get_loss

__all__ = ["LinearERM", "NotSeparableError", "objective", "ridge_path", "is_linearly_separable"]


class NotSeparableError(ValueError):
    """No hyperplane through the origin separates the labels: the max-margin classifier does not exist."""


def _scores(X, coef) -> np.ndarray:
    """x_mu.w / sqrt(d), without copying X."""
    X = np.asarray(X, dtype=float)
    return X @ np.asarray(coef, dtype=float) / np.sqrt(X.shape[1])


def _signed(X, y, scale: float = 1.0) -> np.ndarray:
    """Rows y_mu x_mu * scale / sqrt(d), in one pass over X."""
    return X * (y * (scale / np.sqrt(X.shape[1])))[:, None]


def objective(loss, X, y, coef, lam: float) -> float:
    """J(w) = sum_mu loss(y_mu, x_mu.w / sqrt(d)) + (lam / 2) |w|^2 on raw inputs X (n, d)."""
    coef = np.asarray(coef, dtype=float)
    z = _scores(X, coef)
    return float(np.sum(get_loss(loss).value(np.asarray(y, dtype=float), z)) + 0.5 * lam * (coef @ coef))


def ridge_path(X, y, lams) -> np.ndarray:
    """Square-loss solutions for every lam of a path, from one spectral decomposition of Z = X / sqrt(d).

    w(lam) = V diag(s / (s^2 + lam)) U^T y with the thin SVD Z = U diag(s) V^T. At lam = 0 this is
    the pseudo-inverse solution (the min-norm interpolator for n < d, least squares for n > d),
    singular values below max(n, d) * eps * s_max counting as zero, as in numpy's ``pinv``.

    The decomposition comes from the eigendecomposition of the smaller Gram matrix (Z^T Z or
    Z Z^T), 3-4x faster than the SVD, whenever that is accurate: it squares the condition
    number, so it is used only when (s_min^2 + min lam) >= 1e-6 s_max^2 (relative error ~ 1e-10).
    Rank-deficient or near-singular designs at lam ~ 0 go through the SVD itself.

    Parameters
    ----------
    X : array (n, d)
    y : array (n,)
    lams : float or sequence of floats >= 0

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
    X, y = _check_Xy(X, y)
    lams = np.atleast_1d(np.asarray(lams, dtype=float)).ravel()
    if not np.all(np.isfinite(lams) & (lams >= 0)):
        raise ValueError(f"lam must be finite and >= 0 (got {lams})")
    Z = X / np.sqrt(X.shape[1])
    wide = Z.shape[0] < Z.shape[1]
    s2, V = linalg.eigh(Z @ Z.T if wide else Z.T @ Z, driver="evd", check_finite=False)
    if s2[0] + lams.min() >= 1e-6 * s2[-1]:
        # rows: (Z Z^T + lam)^-1 y (then w = Z^T of it) or (Z^T Z + lam)^-1 Z^T y
        coefs = ((V.T @ (y if wide else Z.T @ y)) / (s2 + lams[:, None])) @ V.T
        return coefs @ Z if wide else coefs
    try:
        U, s, Vt = linalg.svd(Z, full_matrices=False, check_finite=False)
    except linalg.LinAlgError:  # the divide-and-conquer driver occasionally fails to converge
        U, s, Vt = linalg.svd(Z, full_matrices=False, check_finite=False, lapack_driver="gesvd")
    kept = s > max(X.shape) * np.finfo(float).eps * s.max(initial=0.0)
    with np.errstate(divide="ignore", invalid="ignore"):  # both branches of np.where are evaluated
        shrink = np.where(lams[:, None] > 0, s / (s**2 + lams[:, None]), np.where(kept, 1.0 / s, 0.0))
    return (shrink * (U.T @ y)) @ Vt


def is_linearly_separable(X, y) -> bool:
    """Whether some w has y_mu x_mu.w > 0 for every sample (exact: see :func:`_separability`)."""
    X, y = _check_Xy(X, y)
    return _separability(_signed(X, y))[0]


# ---------------------------------------------------------------------------------------------
# Validation


def _check_Xy(X, y):
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0] or X.shape[0] == 0:
        raise ValueError(f"X must be (n, d) and y (n,) with the same n >= 1 (got X {X.shape}, y {y.shape})")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError("X and y must be finite")
    return X, y


# ---------------------------------------------------------------------------------------------
# Hinge: the dual box QP


def check_fit_args(loss, lam, tol, max_iter, X, y):
    """The checks every ERM fit makes before any work: (loss name, lam, X, y) or a one-line ValueError."""
    loss = get_loss(loss).name  # ValueError naming the choices
    lam_value = float(lam)
    if not (np.isfinite(lam_value) and lam_value >= 0):
        raise ValueError(f"lam must be finite and >= 0 (got {lam})")
    if not (tol > 0 and max_iter >= 1):
        raise ValueError(f"tol must be > 0 and max_iter >= 1 (got {tol}, {max_iter})")
    X, y = _check_Xy(X, y)
    if not np.all((y == 1) | (y == -1)):
        raise ValueError(f"labels y must be -1 or +1 (got values {np.unique(y)[:5]})")
    return loss, lam_value, X, y


def _newton_direction(Zy, D, lam, b, rtol, max_cg):
    """Conjugate gradients on (Zy^T D Zy + lam I) s = b. Also returns Zy s, accumulated from the
    products CG computes anyway, so the line search costs no extra pass over the data."""
    s, Zs, r = np.zeros_like(b), np.zeros(Zy.shape[0]), b.copy()
    p, rr, stop = r.copy(), r @ r, (rtol * np.linalg.norm(b)) ** 2
    for _ in range(max_cg):
        Zp = Zy @ p
        Hp = Zy.T @ (D * Zp) + lam * p
        pHp = p @ Hp
        if pHp <= 0:  # flat direction (lam = 0 on separable data): keep what we have
            break
        step = rr / pHp
        s += step * p
        Zs += step * Zp
        r -= step * Hp
        rr, rr_old = r @ r, rr
        if rr <= stop:
            break
        p = r + (rr / rr_old) * p
    if not s.any():  # no CG step at all: fall back to steepest descent
        s, Zs = b.copy(), Zy @ b
    return s, Zs


def _separated(Zy, w) -> bool:
    """All margins positive, by more than their rounding error."""
    m = Zy @ w
    return bool(np.min(m) > 1e-9 * np.max(np.abs(m)))


def _logistic_newton(Zy, lam: float, tol: float, max_iter: int, stop_when_separated: bool = False):
    """Newton-CG with Armijo backtracking on J(w) = sum log(1 + exp(-Zy w)) + lam |w|^2 / 2, from 0.

    Stops at |grad J| <= tol |grad J(0)|, or (``stop_when_separated``) as soon as an iterate
    classifies every sample correctly. Inexact Newton: CG stops at a residual
    min(0.5, sqrt(|grad| / |grad0|)) |grad|, loose far away and tight near the end (superlinear),
    but never below half the target gradient tol |grad0|.
    Returns (w, iterations, relative gradient, status) with status 'converged', 'separated' or
    'stopped'.
    """
    n, d = Zy.shape
    w, m = np.zeros(d), np.zeros(n)
    f, ww = n * np.log(2.0), 0.0
    g0 = None
    for it in range(max_iter + 1):
        if stop_when_separated and it > 0 and np.min(m) > 0 and _separated(Zy, w):
            return w, it, np.nan, "separated"
        p = expit(-m)
        g = lam * w - Zy.T @ p
        gnorm = float(np.linalg.norm(g))
        g0 = gnorm if g0 is None else g0
        if gnorm <= tol * g0 or g0 == 0:
            return w, it, gnorm / g0 if g0 else 0.0, "converged"
        if it == max_iter:
            break
        # no need to solve beyond what reaches tol: the new gradient is about the CG residual
        rtol = max(min(0.5, np.sqrt(gnorm / g0)), 0.5 * tol * g0 / gnorm)
        s, dm = _newton_direction(Zy, p * (1.0 - p), lam, -g, rtol, max_cg=max(d, 10))
        gs, ws, ss, t = g @ s, w @ s, s @ s, 1.0
        # Near the optimum the decrease falls below the rounding error of f: accept within it,
        # or Armijo would shrink the Newton step to nothing and crawl.
        noise = 1e-14 * max(f, 1.0)
        while True:
            mt = m + t * dm
            ft = np.sum(np.logaddexp(0.0, -mt)) + 0.5 * lam * (ww + 2 * t * ws + t * t * ss)
            if ft <= f + 1e-4 * t * gs + noise:
                break
            t *= 0.5
            if t < 1e-10:  # no decrease left to find at double precision
                return w, it, gnorm / g0, "stopped"
        w, m, f = w + t * s, mt, ft
        ww = w @ w
    return w, max_iter, gnorm / g0, "stopped"


def _gordan_certificate(Zy, p) -> bool:
    """Is p > 0 (logistic weights at the unregularized MLE, where Zy^T p = 0 up to rounding) a
    proof that no hyperplane separates? Project p exactly onto the null space of Zy^T and check it
    stays positive: then q >= 0, q != 0 with Zy^T q = 0 exists, and y_mu z_mu.w > 0 for all mu is
    impossible (sum_mu q_mu y_mu z_mu.w = 0)."""
    q = p / p.sum()
    try:
        q = q - Zy @ linalg.cho_solve(linalg.cho_factor(Zy.T @ Zy, check_finite=False), Zy.T @ q)
    except linalg.LinAlgError:
        return False
    # Rank-deficient Zy (n < d, repeated points) can pass the factorization with a useless solve.
    in_null_space = np.linalg.norm(Zy.T @ q) <= 1e-10 * np.linalg.norm(Zy) * np.linalg.norm(q)
    return bool(in_null_space and np.min(q) > 1e-9 * np.max(q))


def _separability_lp(Zy) -> bool:
    """Exact test by linear programming (HiGHS): max t s.t. Zy w >= t, |w|_inf <= 1, t <= 1.

    Always feasible and bounded (a zero-objective feasibility LP is not: HiGHS may then answer
    "unknown" instead of "infeasible"); separable iff the optimum is positive. Slow for large d
    (about a minute at d = 1000, n = 2000), hence only the last resort of :func:`_separability`.
    """
    n, d = Zy.shape
    c = np.zeros(d + 1)
    c[-1] = -1.0
    res = optimize.linprog(c, A_ub=np.hstack([-Zy, np.ones((n, 1))]), b_ub=np.zeros(n),
                           bounds=[(-1.0, 1.0)] * d + [(None, 1.0)], method="highs")
    if res.status != 0:
        raise RuntimeError(f"separability test failed: {res.message}")
    return bool(-res.fun > 1e-9)


def _separability(Zy, tol: float = 1e-10, max_newton: int = 50):
    """Decide separability with a certificate: (separable, newton) where ``newton`` is the output
    of the unregularized logistic Newton run, the maximum-likelihood fit when not separable.

    Newton either reaches an iterate with every margin positive (separable), or converges to the
    maximum-likelihood fit, whose weights give Gordan's certificate (not separable). Near Gardner's
    capacity neither may show up within ``max_newton`` steps: the linear program decides then.
    """
    newton = _logistic_newton(Zy, 0.0, tol, max_newton, stop_when_separated=True)
    if newton[3] == "separated":
        return True, newton
    if newton[3] == "converged" and _gordan_certificate(Zy, expit(-(Zy @ newton[0]))):
        return False, newton
    return _separability_lp(Zy), newton


# ---------------------------------------------------------------------------------------------
# Estimator


class LinearERM(BaseEstimator):
    """Linear empirical risk minimizer of the RAF model, a scikit-learn estimator (``BaseEstimator``:
    get/set_params, repr, clone; ``__init__`` only stores the parameters, ``fit`` checks them).

    Minimizes J(w) = sum_mu loss(y_mu, x_mu.w / sqrt(d)) + (lam / 2) |w|^2 exactly (to a KKT or
    gradient certificate), rather than to a loose default tolerance.

    Parameters
    ----------
    loss : {'square', 'hinge', 'logistic'}, default 'square'
    lam : float >= 0, default 1.0
        Ridge penalty. ``lam = 0`` is the lam -> 0+ limit:

        * square: min-norm interpolator (n < d) or least squares (n > d);
        * hinge: the max-margin classifier (min |w|^2 s.t. y z >= 1); raises
          :class:`NotSeparableError` when the data are not linearly separable;
        * logistic: on separable data the max-margin classifier again (w / |w| of the logistic fit
          tends to the max-margin direction as lam -> 0+; ``coef_`` is the max-margin vector, whose
          margins are >= 1, since the logistic norm itself diverges), ``separable_ = True``; on
          non-separable data the unregularized maximum-likelihood fit, ``separable_ = False``.
    tol : float, default 1e-9
        Optimality tolerance: largest violation of the dual KKT conditions, in units of the margin
        (hinge), or |grad J| / |grad J(0)| (logistic).
    max_iter : int, default 20000
        Most iterations: projected gradient / quasi-Newton steps plus active-set solves (hinge;
        typically 10-100, hard cases, lam ~ 1e-3 above capacity, several thousand, a few seconds
        at d = 200) or Newton iterations (logistic, typically < 20).

    Attributes
    ----------
    coef_ : ndarray of shape (d,)
    objective_ : float
        J(coef_) at ``lam`` (at lam = 0 on separable data, J of the max-margin vector).
    n_iter_ : int
    converged_ : bool
        Whether the tolerance was met; a :class:`ConvergenceWarning` is issued when not.
    kkt_violation_ : float
        The optimality measure that ``tol`` bounds (0 for the closed-form square loss).
    separable_ : bool or None
        Margin losses at lam = 0: whether the data are linearly separable (else None).

    Notes
    -----
    Hinge: dual box QP, spectral projected gradient (projected L-BFGS on hard cases) then exact
    active-set solves (see :mod:`raflab.raf.learners.box_qp`); cost O(n d) per iteration plus one Cholesky factorization
    of the margin-support Gram block per solve.
    Logistic: Newton-CG with Hessian-vector products. Separability at lam = 0 is decided with a
    certificate (see ``_separability``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 20)); y = np.where(X[:, 0] >= 0, 1.0, -1.0)
    >>> clf = LinearERM(loss="hinge", lam=0.1).fit(X, y)
    >>> bool(clf.converged_), float(np.mean(clf.predict(X) == y)) > 0.9
    (True, True)
    """

    def __init__(self, loss: str = "square", lam: float = 1.0, tol: float = 1e-9, max_iter: int = 20000):
        self.loss = loss
        self.lam = lam
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, X, y) -> "LinearERM":
        """Fit on inputs X (n, d) and labels y (n,) in {-1, +1}; returns self."""
        loss, lam, X, y = check_fit_args(self.loss, self.lam, self.tol, self.max_iter, X, y)
        self.separable_, self.kkt_violation_ = None, 0.0
        if loss == "square":
            self.coef_, self.n_iter_, self.converged_ = ridge_path(X, y, [lam])[0], 1, True
        else:
            if lam > 0 and loss == "hinge":
                A = _signed(X, y, 1.0 / np.sqrt(lam))
                a, self.n_iter_, self.kkt_violation_ = _box_qp(A, 1.0, self.tol, self.max_iter)
                self.coef_ = A.T @ a / np.sqrt(lam)
            elif lam > 0:
                self.coef_, self.n_iter_, self.kkt_violation_, _ = _logistic_newton(
                    _signed(X, y), lam, self.tol, self.max_iter)
            else:
                self._fit_lam0(_signed(X, y), loss)
            self.converged_ = bool(self.kkt_violation_ <= self.tol)
        self.objective_ = objective(loss, X, y, self.coef_, lam)
        if not self.converged_:
            warnings.warn(f"LinearERM(loss={loss!r}, lam={lam:g}) stopped after {self.n_iter_} iterations "
                          f"with optimality violation {self.kkt_violation_:.2e} > tol={self.tol:g}",
                          ConvergenceWarning, stacklevel=2)
        return self

    def _fit_lam0(self, Zy, loss):
        self.separable_, newton = _separability(Zy, self.tol)
        if self.separable_:
            a, self.n_iter_, self.kkt_violation_ = _box_qp(Zy, np.inf, self.tol, self.max_iter)
            self.coef_ = Zy.T @ a
        elif loss == "hinge":
            raise NotSeparableError("data are not linearly separable: the max-margin classifier (hinge, lam=0) "
                                    "does not exist; use lam > 0")
        elif newton[3] == "converged":
            self.coef_, self.n_iter_, self.kkt_violation_, _ = newton
        else:
            self.coef_, self.n_iter_, self.kkt_violation_, _ = _logistic_newton(Zy, 0.0, self.tol, self.max_iter)

    def decision_function(self, X) -> np.ndarray:
        """Scores X w / sqrt(d), shape (n,)."""
        if not hasattr(self, "coef_"):
            raise AttributeError("this LinearERM is not fitted yet: call fit(X, y) first")
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.coef_.shape[0]:
            raise ValueError(f"X must be (n, {self.coef_.shape[0]}) (got {X.shape})")
        return _scores(X, self.coef_)

    def predict(self, X) -> np.ndarray:
        """Labels in {-1.0, +1.0}: the sign of the score, with a score of exactly 0 giving +1."""
        return np.where(self.decision_function(X) >= 0, 1.0, -1.0)

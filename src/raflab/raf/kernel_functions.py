"""Dot-product kernels and their linearization in the proportional regime.

Inputs are the rows of X (n, d), Gaussian-like with |x|^2 / d ~ 1, and kernels see them through
t = x.x' / d. In the proportional regime (n ~ d -> infinity) the off-diagonal t are O(d^{-1/2}),
so a kernel k(t) behaves like its first two Taylor terms off the diagonal and like k(1) on it
(El Karoui 2010, "The spectrum of kernel random matrices"):

    K ~ k0 1 1^T + k1 X X^T / d + k_star I,   k0 = k(0), k1 = k'(0), k_star = k(1) - k(0) - k'(0),

with an operator-norm error that is small relative to |K| (O(d^{-1/2}) up to logs, the fluctuation
of the norms |x|^2 / d included). The Gaussian-equivalence theory only needs mu0 = sqrt(k0),
mu1 = sqrt(k1) and mu_star = sqrt(k_star) (:meth:`Kernel.moments`), the same constants as random
features sigma(F x / sqrt d) in their infinite-width limit (:class:`ActivationKernel`).

Kernels: ``linear``, ``polynomial``, ``rbf``, ``arccos`` (order 1, the ReLU random-features
kernel) and ``activation`` (any activation of :mod:`raflab.raf.activations`, or a callable); get one
with :func:`get_kernel`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from math import comb
from typing import Callable

import numpy as np
from numpy.polynomial.legendre import leggauss

from raflab.core.checks import choices_text, one_of
from raflab.raf.activations import ACTIVATIONS, GaussianMoments, gaussian_moments, get_activation

__all__ = ["KERNELS", "ActivationKernel", "ArcCosKernel", "Kernel", "KernelLinearization", "LinearKernel",
           "PolynomialKernel", "RBFKernel", "get_kernel"]


@dataclass(frozen=True)
class KernelLinearization:
    """El Karoui's proportional-regime constants of a kernel: K ~ k0 11^T + k1 X X^T / d + k_star I."""

    k0: float
    k1: float
    k_star: float

    def matrix(self, X) -> np.ndarray:
        """The linearized kernel matrix k0 11^T + k1 X X^T / d + k_star I of the rows of X."""
        X = _check_X(X, "X")
        return self.k0 + self.k1 * (X @ X.T) / X.shape[1] + self.k_star * np.eye(X.shape[0])


# ---------------------------------------------------------------------------------------------
# Input handling


def _check_X(X, what: str) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] == 0:
        raise ValueError(f"{what} must be a 2-d array (n, d) with d >= 1 (got shape {X.shape})")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{what} must be finite")
    return X


def _inner(X, Y):
    """(X, Y, t = X Y^T / d, |x|^2 / d, |y|^2 / d) with the inputs checked; Y = None means X.

    For Y = None the product X X^T is exactly symmetric (BLAS syrk); kernels that go through
    vectorized transcendental functions restore that with :func:`_symmetric`.
    """
    X = _check_X(X, "X")
    if Y is None:
        Y = X
    else:
        Y = _check_X(Y, "Y")
        if Y.shape[1] != X.shape[1]:
            raise ValueError(f"X and Y must have the same number of columns (got {X.shape[1]} and {Y.shape[1]})")
    d = X.shape[1]
    t = X @ Y.T
    t /= d
    ax = np.einsum("ij,ij->i", X, X) / d
    ay = ax if Y is X else np.einsum("ij,ij->i", Y, Y) / d
    return X, Y, t, ax, ay


def _symmetric(K: np.ndarray, same: bool) -> np.ndarray:
    """K of X alone (``same``) made exactly symmetric: SIMD transcendental functions (exp, arccos)
    may round an entry and its mirror image differently, by an ulp."""
    if same:
        K += K.T  # numpy buffers the overlapping operand
        K *= 0.5
    return K


def _cosines(X, Y):
    """Cosines of the angles between the rows of X and Y, and the norms |x| / sqrt d, |y| / sqrt d.

    A zero row has no angle: its cosines are set to 0 (uncorrelated), the value that makes the
    sign and arc-cosine kernels right for it.
    """
    X, Y, c, ax, ay = _inner(X, Y)
    nx = np.sqrt(ax)
    ny = nx if Y is X else np.sqrt(ay)
    # one outer product (not two broadcast divisions) keeps the matrix of X exactly symmetric
    c /= np.multiply.outer(np.where(nx > 0, nx, 1.0), np.where(ny > 0, ny, 1.0))
    np.clip(c, -1.0, 1.0, out=c)  # rounding can push |c| a hair above 1 (nan in arccos/arcsin)
    if Y is X:
        np.fill_diagonal(c, np.where(nx > 0, 1.0, 0.0))  # exact, where arcsin has infinite slope
    return c, nx, ny


def _angles(X, Y, chunk: int = 4096) -> np.ndarray:
    """Angles between the rows of X and Y, accurate also for nearly (anti)parallel rows.

    arccos(c) turns the rounding of c (~1e-16) into an angle error ~1e-8 at c ~ +-1; there the
    angle comes from the chord instead, th = 2 arcsin(|u - v| / 2) for unit vectors u, v (only for
    the few pairs with |c| > 1 - 1e-8, where the arccos error would exceed ~1e-12).
    """
    same = Y is None
    X = _check_X(X, "X")
    Y = X if same else Y
    c, nx, ny = _cosines(X, Y)
    Y = _check_X(Y, "Y")
    near = np.abs(c) > 1.0 - 1e-8
    if same:
        np.fill_diagonal(near, False)  # already exact
    theta = np.arccos(c, out=c)
    i, j = np.nonzero(near)
    root_d = np.sqrt(X.shape[1])
    for start in range(0, i.size, chunk):  # pairs in chunks: all rows may be (nearly) equal
        a, b = i[start:start + chunk], j[start:start + chunk]
        u, v = X[a] / (nx[a, None] * root_d), Y[b] / (ny[b, None] * root_d)
        parallel = theta[a, b] < np.pi / 2
        chord = np.linalg.norm(u - np.where(parallel, 1.0, -1.0)[:, None] * v, axis=1)
        half = 2.0 * np.arcsin(np.minimum(chord / 2.0, 1.0))
        theta[a, b] = np.where(parallel, half, np.pi - half)
    return theta


# ---------------------------------------------------------------------------------------------
# Kernels


class Kernel:
    """Base class of the dot-product kernels: a ``name``, :meth:`matrix` and :meth:`linearization`.

    Subclasses set ``name`` and ``params`` (the names of their constructor arguments) and define
    :meth:`matrix` and :meth:`linearization`; :meth:`moments` follows from the linearization.
    """

    name: str = "kernel"
    params: tuple[str, ...] = ()

    def matrix(self, X, Y=None) -> np.ndarray:
        """Kernel matrix (n, m) between the rows of X (n, d) and of Y (m, d); Y = None means X."""
        raise NotImplementedError

    def linearization(self) -> KernelLinearization:
        """(k0, k1, k_star) = (k(0), k'(0), k(1) - k(0) - k'(0)) of the kernel as a function of t."""
        raise NotImplementedError

    def moments(self) -> GaussianMoments:
        """Gaussian-equivalence constants mu0 = sqrt(k0), mu1 = sqrt(k1), mu_star = sqrt(k_star).

        Raises
        ------
        ValueError
            If k0, k1 or k_star is negative (beyond rounding) or not finite: the kernel is then
            not positive definite in the proportional regime, and has no Gaussian equivalent.
        """
        lin = self.linearization()
        values = np.array([lin.k0, lin.k1, lin.k_star], dtype=float)
        if not np.all(np.isfinite(values)):
            raise ValueError(f"kernel {self.name}: linearization (k0, k1, k_star) = {tuple(values)} is not finite")
        # rounding-level negatives (k_star of a kernel that is linear in t, say) count as 0
        if np.any(values < -1e-12 * np.sum(np.abs(values))):
            raise ValueError(f"kernel {self.name}: linearization (k0, k1, k_star) = {tuple(values)} has a "
                             "negative entry; the kernel is not positive definite in the proportional regime")
        mu0, mu1, mu_star = np.sqrt(np.maximum(values, 0.0))
        return GaussianMoments(float(mu0), float(mu1), float(mu_star))

    def get_params(self) -> dict:
        return {p: getattr(self, p) for p in self.params}

    def __call__(self, X, Y=None) -> np.ndarray:
        return self.matrix(X, Y)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


class LinearKernel(Kernel):
    """k(t) = t = x.x' / d: the linear learner on x itself.

    Examples
    --------
    >>> LinearKernel().linearization()
    KernelLinearization(k0=0.0, k1=1.0, k_star=0.0)
    """

    name = "linear"

    def matrix(self, X, Y=None) -> np.ndarray:
        return _inner(X, Y)[2]

    def linearization(self) -> KernelLinearization:
        return KernelLinearization(0.0, 1.0, 0.0)


class PolynomialKernel(Kernel):
    """k(t) = (coef0 + t)^degree with t = x.x' / d.

    Parameters
    ----------
    degree : int >= 1, default 2
    coef0 : float >= 0, default 1.0
        A negative coef0 gives k(t) a negative Taylor coefficient, so K is not positive
        semi-definite for all d (Schoenberg): it is refused.

    Examples
    --------
    >>> lin = PolynomialKernel(degree=2, coef0=1.0).linearization()
    >>> lin.k0, lin.k1, lin.k_star  # 1, 2, (1 + 1)^2 - 1 - 2
    (1.0, 2.0, 1.0)
    """

    name = "polynomial"
    params = ("degree", "coef0")

    def __init__(self, degree: int = 2, coef0: float = 1.0):
        if isinstance(degree, bool) or not np.isscalar(degree) or not float(degree).is_integer() or degree < 1:
            raise ValueError(f"degree must be an integer >= 1 (got {degree!r})")
        if not (np.isscalar(coef0) and np.isfinite(coef0) and coef0 >= 0):
            raise ValueError(f"coef0 must be finite and >= 0 (got {coef0!r}): a negative one is not positive definite")
        self.degree, self.coef0 = int(degree), float(coef0)

    def matrix(self, X, Y=None) -> np.ndarray:
        t = _inner(X, Y)[2]
        t += self.coef0
        return t ** self.degree

    def linearization(self) -> KernelLinearization:
        p, c = self.degree, self.coef0
        # k(1) - k(0) - k'(0) summed term by term (j >= 2 of the binomial expansion): exactly >= 0
        k_star = sum(comb(p, j) * c ** (p - j) for j in range(2, p + 1))
        return KernelLinearization(c**p, p * c ** (p - 1), float(k_star))


class RBFKernel(Kernel):
    """K = exp(-gamma |x - x'|^2 / d).

    Not a dot-product kernel, but one at |x|^2 / d = 1, where |x - x'|^2 / d = 2 (1 - t):
    k(t) = exp(-2 gamma (1 - t)), which gives the linearization k0 = exp(-2 gamma),
    k1 = 2 gamma exp(-2 gamma), k_star = 1 - exp(-2 gamma) (1 + 2 gamma). (The fluctuations of
    |x|^2 / d are an O(d^{-1/2}) correction, as for every kernel here.)

    Parameters
    ----------
    gamma : float > 0, default 1.0

    Examples
    --------
    >>> X = np.random.default_rng(0).standard_normal((3, 50))
    >>> np.allclose(np.diag(RBFKernel(gamma=0.5).matrix(X)), 1.0)
    True
    """

    name = "rbf"
    params = ("gamma",)

    def __init__(self, gamma: float = 1.0):
        if not (np.isscalar(gamma) and np.isfinite(gamma) and gamma > 0):
            raise ValueError(f"gamma must be finite and > 0 (got {gamma!r})")
        self.gamma = float(gamma)

    def matrix(self, X, Y=None) -> np.ndarray:
        X, Y, t, ax, ay = _inner(X, Y)
        # |x - x'|^2 / d = |x|^2/d + |x'|^2/d - 2 t, in place; clipped at 0 against rounding
        t *= -2.0
        t += np.add.outer(ax, ay)
        np.maximum(t, 0.0, out=t)
        t *= -self.gamma
        return _symmetric(np.exp(t, out=t), Y is X)

    def linearization(self) -> KernelLinearization:
        x = 2.0 * self.gamma
        e = np.exp(-x)
        # 1 - e^{-x} (1 + x) without cancelling the leading 1 (>= 0 down to x ~ 1e-15)
        return KernelLinearization(float(e), float(x * e), float(-np.expm1(-x) - x * e))


def _arccos1(X, Y) -> np.ndarray:
    """E_f[relu(f.x / sqrt d) relu(f.x' / sqrt d)] = (|x||x'| / d) (sin th + (pi - th) cos th) / (2 pi)."""
    c, nx, ny = _cosines(X, Y)
    s = np.multiply(c, c)
    np.subtract(1.0, s, out=s)
    np.sqrt(s, out=s)                  # sin th
    th = np.arccos(c)
    np.subtract(np.pi, th, out=th)     # pi - th
    th *= c
    th += s
    th *= np.multiply.outer(nx, ny)
    th /= 2 * np.pi
    return _symmetric(th, Y is None)


class ArcCosKernel(Kernel):
    """Arc-cosine kernel of order 1 (Cho & Saul 2009): the kernel of ReLU random features.

    K(x, x') = E_f[relu(f.x / sqrt d) relu(f.x' / sqrt d)], f ~ N(0, I_d),
             = (|x| |x'| / d) (sin th + (pi - th) cos th) / (2 pi),   th = angle(x, x'),
    exactly, with the true norms. At unit norms k(c) = (sqrt(1 - c^2) + (pi - arccos c) c) / (2 pi),
    so k0 = 1/(2 pi), k1 = 1/4, k(1) = 1/2: the Gaussian moments of ReLU.

    Examples
    --------
    >>> lin = ArcCosKernel().linearization()
    >>> round(lin.k0 * 2 * np.pi, 12), lin.k1, round(lin.k0 + lin.k1 + lin.k_star, 12)
    (1.0, 0.25, 0.5)
    """

    name = "arccos"

    def matrix(self, X, Y=None) -> np.ndarray:
        return _arccos1(X, Y)

    def linearization(self) -> KernelLinearization:
        return KernelLinearization(1 / (2 * np.pi), 0.25, 0.25 - 1 / (2 * np.pi))


# --- activation kernels ------------------------------------------------------------------------

#: Hermite series: at most this many terms; stop once the unexplained part of E sigma^2 is below
#: _SERIES_RTOL E sigma^2 (tanh: 95 terms); the remainder is lumped into the last power.
_SERIES_MAX_TERMS = 400
_SERIES_RTOL = 1e-12
#: Composite Gauss-Legendre rule for the Hermite coefficients: |g| <= 12 (Gaussian mass outside
#: ~2e-33, so even sigma ~ exp(g^2 / 8) loses < 1e-15), 1200 pieces of width 0.02, 10 nodes each:
#: exact to rounding for smooth sigma up to the last term, whose oscillations it resolves.
_GL_TAIL, _GL_PIECES, _GL_NODES = 12.0, 1200, 10
#: Off-diagonal cosines are O(d^{-1/2}): there a few terms reach rounding level, and only the
#: entries with |c| above this get the whole series.
_SERIES_SPLIT = 0.5


def _hermite_series(sigma: Callable, moments: GaussianMoments) -> np.ndarray:
    """Coefficients p_k of k(c) = E[sigma(u) sigma(v)] = sum_k p_k c^k, (u, v) unit Gaussians with
    correlation c: p_k = a_k^2 / k!, a_k = E[sigma(g) He_k(g)] (Mehler's formula).

    p_0 = mu0^2 and p_1 = mu1^2 are taken from :func:`gaussian_moments` (adaptive quadrature), so
    the kernel and its linearization agree exactly; the others come from one composite
    Gauss-Legendre rule with normalized Hermite polynomials h_k = He_k / sqrt(k!) (stable forward
    recursion). The series is cut after the first K terms that explain E sigma^2 to _SERIES_RTOL,
    and the rest, E sigma^2 - sum_{k<K} p_k, is put on c^K: k(1) = E sigma^2 holds exactly, and
    |c| < 1 loses at most that rest times |c|^K. For smooth sigma the rest is at rounding level;
    for an activation with a kink or a jump the coefficients decay only algebraically, and the
    series is then exact off the diagonal (|c| ~ d^{-1/2}) but off by up to the rest (reported as
    ``series_rest``) for nearly parallel inputs.
    """
    x, w = leggauss(_GL_NODES)
    edges = np.linspace(-_GL_TAIL, _GL_TAIL, _GL_PIECES + 1)
    half, mid = 0.5 * np.diff(edges), 0.5 * (edges[1:] + edges[:-1])
    g = (mid[:, None] + half[:, None] * x).ravel()
    weight = (half[:, None] * w).ravel() * np.exp(-0.5 * g * g) / np.sqrt(2 * np.pi)
    f = weight * np.broadcast_to(np.asarray(sigma(g), dtype=float), g.shape)
    a = np.empty(_SERIES_MAX_TERMS)
    h_prev, h = np.zeros_like(g), np.ones_like(g)
    for k in range(_SERIES_MAX_TERMS):
        a[k] = f @ h
        h_prev, h = h, (g * h - np.sqrt(k) * h_prev) / np.sqrt(k + 1)
    p = a * a
    p[0], p[1] = moments.mu0**2, moments.mu1**2
    second = moments.mu0**2 + moments.mu1**2 + moments.mu_star**2
    rest = second - np.cumsum(p)  # rest[k] = E sigma^2 - sum_{j <= k} p_j
    done = np.flatnonzero(rest[1:] <= _SERIES_RTOL * second)
    K = int(done[0]) + 2 if done.size else _SERIES_MAX_TERMS
    # a rounding-level negative rest would break positive definiteness (all p_k >= 0): drop it
    return np.append(p[:K], max(float(rest[K - 1]), 0.0))


@lru_cache(maxsize=None)
def _named_series(name: str) -> np.ndarray:
    return _hermite_series(ACTIVATIONS[name], gaussian_moments(name))


def _horner(coef: np.ndarray, c: np.ndarray) -> np.ndarray:
    out = np.full_like(c, coef[-1])
    for p in coef[-2::-1]:
        out *= c
        out += p
    return out


def _power_series(coef: np.ndarray, c: np.ndarray) -> np.ndarray:
    """sum_k coef_k c^k, with as few terms as rounding allows where |c| <= _SERIES_SPLIT."""
    big = np.abs(c) > _SERIES_SPLIT
    cmax = float(np.max(np.abs(c), where=~big, initial=0.0))
    # terms k >= K add at most (sum_{j >= K} coef_j) cmax^K: stop when that is below rounding
    suffix = np.cumsum(coef[::-1])[::-1]
    with np.errstate(under="ignore"):
        small = suffix * cmax ** np.arange(coef.size) <= 1e-17 * suffix[0]
    K = int(np.argmax(small)) if small.any() else coef.size
    out = _horner(coef[:max(K, 1)], c)
    if big.any():
        out[big] = _horner(coef, c[big])
    return out


def _sign_kernel(X, Y) -> np.ndarray:
    # (2/pi) arcsin(cos th) = 1 - 2 th / pi, from angles accurate at th ~ 0 and ~ pi as well
    theta = _angles(X, Y)
    theta *= -2 / np.pi
    theta += 1.0
    return _symmetric(theta, Y is None)


def _erf_kernel(X, Y) -> np.ndarray:
    X, Y, t, ax, ay = _inner(X, Y)
    t *= 2.0
    t /= np.sqrt(np.multiply.outer(1.0 + 2.0 * ax, 1.0 + 2.0 * ay))
    np.clip(t, -1.0, 1.0, out=t)  # |.| < 1 in exact arithmetic (Cauchy-Schwarz)
    t = np.arcsin(t, out=t)
    t *= 2 / np.pi
    return _symmetric(t, Y is X)


# exact kernels with the true input norms, where a closed form exists
_CLOSED_FORM_KERNELS = {
    "relu": _arccos1,
    "sign": _sign_kernel,
    "erf": _erf_kernel,
    "linear": lambda X, Y: _inner(X, Y)[2],
}


class ActivationKernel(Kernel):
    """Kernel of random features sigma(F x / sqrt d) in their infinite-width limit.

    K(x, x') = E_f[sigma(f.x / sqrt d) sigma(f.x' / sqrt d)], f ~ N(0, I_d): the limit p -> inf of
    Phi Phi^T / p for phi(x) = sigma(F x / sqrt d), F (p, d) i.i.d. N(0, 1)
    (:mod:`raflab.raf.learners.random_features`).

    Exact closed forms with the true input norms for relu (= ``arccos``), sign
    ((2/pi) arcsin cos th), erf ((2/pi) arcsin(2 t / sqrt((1 + 2|x|^2/d)(1 + 2|x'|^2/d))),
    t = x.x'/d) and linear (t). For tanh and callables the unit-variance form
    k(c) = sum_k a_k^2 c^k / k!, a_k = E[sigma(g) He_k(g)] (Hermite series, computed once), at the
    cosine c of the angle between x and x': the fluctuations of |x|^2 / d around 1 are dropped
    there, an O(d^{-1/2}) effect. See :func:`_hermite_series` for its accuracy (rounding level for
    smooth sigma such as tanh).

    The linearization is that of :func:`raflab.raf.activations.gaussian_moments`:
    k0 = mu0^2, k1 = mu1^2, k_star = mu_star^2.

    Parameters
    ----------
    activation : str or callable, default 'relu'
        A name of :data:`raflab.raf.activations.ACTIVATIONS` or a vectorized callable.

    Raises
    ------
    ValueError
        For an unknown name, or a callable whose Gaussian moments diverge.

    Examples
    --------
    >>> k = ActivationKernel("tanh")
    >>> X = np.random.default_rng(0).standard_normal((4, 100))
    >>> lin = k.linearization()
    >>> K = k.matrix(X)  # the diagonal is E tanh(g)^2 = k0 + k1 + k_star
    >>> K.shape, bool(np.allclose(np.diag(K), lin.k0 + lin.k1 + lin.k_star))
    ((4, 4), True)
    """

    params = ("activation",)

    def __init__(self, activation: str | Callable = "relu"):
        self._sigma = get_activation(activation)  # ValueError for an unknown name
        self.activation = activation
        self._gm = gaussian_moments(activation)  # ValueError when the moments diverge
        self._series = None
        self._label = activation if isinstance(activation, str) else getattr(activation, "__name__", "callable")
        self.name = f"activation:{self._label}"

    @property
    def series_rest(self) -> float:
        """Part of E sigma^2 the Hermite series leaves to its last power (0 for closed forms)."""
        if isinstance(self.activation, str) and self.activation in _CLOSED_FORM_KERNELS:
            return 0.0
        return float(self._coefficients()[-1])

    def _coefficients(self) -> np.ndarray:
        if self._series is None:
            self._series = (_named_series(self.activation) if isinstance(self.activation, str)
                            else _hermite_series(self._sigma, self._gm))
        return self._series

    def matrix(self, X, Y=None) -> np.ndarray:
        if isinstance(self.activation, str) and self.activation in _CLOSED_FORM_KERNELS:
            return _CLOSED_FORM_KERNELS[self.activation](X, Y)
        c = _cosines(X, Y)[0]
        return _symmetric(_power_series(self._coefficients(), c), Y is None)

    def linearization(self) -> KernelLinearization:
        m = self._gm
        return KernelLinearization(float(m.mu0**2), float(m.mu1**2), float(m.mu_star**2))

    def __repr__(self) -> str:
        return f"ActivationKernel(activation={self._label!r})"


# ---------------------------------------------------------------------------------------------
# Registry


KERNELS: dict[str, type] = {
    "linear": LinearKernel,
    "polynomial": PolynomialKernel,
    "rbf": RBFKernel,
    "arccos": ArcCosKernel,
    "activation": ActivationKernel,
}


def _is_kernel_object(obj) -> bool:
    return isinstance(obj, Kernel) or all(callable(getattr(obj, m, None))
                                          for m in ("matrix", "linearization", "moments"))


def get_kernel(kernel: str | Kernel | Callable = "arccos", **params) -> Kernel:
    """A kernel from a name and its parameters, a kernel object, or a callable activation.

    Parameters
    ----------
    kernel : str, Kernel or callable
        A name of :data:`KERNELS` (``linear``, ``polynomial``, ``rbf``, ``arccos``, ``activation``),
        ``"activation:<name>"`` for an activation of :mod:`raflab.raf.activations` (``activation:tanh``),
        a kernel object (returned as is), or a callable activation (its :class:`ActivationKernel`).
    **params
        The kernel's parameters (``degree``, ``coef0`` of polynomial, ``gamma`` of rbf,
        ``activation`` of activation); names only.

    Raises
    ------
    ValueError
        For an unknown name, a parameter the kernel does not take, or a bad parameter value.

    Examples
    --------
    >>> get_kernel("polynomial", degree=3)
    PolynomialKernel(degree=3, coef0=1.0)
    >>> get_kernel("activation:tanh").name
    'activation:tanh'
    """
    if isinstance(kernel, type) and issubclass(kernel, Kernel):  # a kernel class: instantiate it
        return get_kernel(kernel.name, **params) if kernel.name in KERNELS else kernel(**params)
    if _is_kernel_object(kernel) or callable(kernel):
        if params:
            raise ValueError(f"kernel parameters {sorted(params)} apply to kernel names only, not to {kernel!r}")
        return kernel if _is_kernel_object(kernel) else ActivationKernel(kernel)
    if not isinstance(kernel, str):
        raise ValueError(f"kernel must be a name, a kernel object or a callable activation (got {kernel!r})")
    name, _, activation = kernel.partition(":")
    if activation:
        if name != "activation":
            raise ValueError(f"unknown kernel {kernel!r}; only 'activation:<name>' takes a suffix")
        if "activation" in params:
            raise ValueError(f"kernel {kernel!r} already names its activation")
        params = {**params, "activation": activation}
    cls = KERNELS[one_of(name, KERNELS, "kernel", also=f"or 'activation:<name>' ({choices_text(ACTIVATIONS)}), "
                                                  "a kernel object or a callable activation")]
    unknown = sorted(set(params) - set(cls.params))
    if unknown:
        raise ValueError(f"kernel {name!r} takes no parameter(s) {unknown}; "
                         f"its parameters are {list(cls.params) or 'none'}")
    return cls(**params)

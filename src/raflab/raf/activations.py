"""Activations of random features and their Gaussian moments (the Gaussian-equivalence constants).

sigma(F x / sqrt d) behaves like mu0 + mu1 F x / sqrt d + mu_star xi in the proportional regime, with
mu0 = E sigma(g), mu1 = E g sigma(g), mu_star^2 = E sigma(g)^2 - mu0^2 - mu1^2, g ~ N(0, 1).
Closed forms where they exist; adaptive quadrature over the real line for any other callable.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import integrate
from scipy.special import erf

from raflab.core.checks import one_of

ACTIVATIONS: dict[str, Callable] = {
    "relu": lambda x: np.maximum(x, 0.0),
    "tanh": np.tanh,
    "erf": erf,
    "sign": lambda x: np.where(x >= 0, 1.0, -1.0),
    "linear": lambda x: np.asarray(x, dtype=float),
}

# (mu0, mu1, E sigma^2) in closed form
_CLOSED_FORMS = {
    "relu": (1 / np.sqrt(2 * np.pi), 0.5, 0.5),
    "erf": (0.0, 2 / np.sqrt(3 * np.pi), 2 / np.pi * np.arcsin(2 / 3)),
    "sign": (0.0, np.sqrt(2 / np.pi), 1.0),
    "linear": (0.0, 1.0, 1.0),
}


@dataclass(frozen=True)
class GaussianMoments:
    mu0: float
    mu1: float
    mu_star: float


def get_activation(activation: str | Callable) -> Callable:
    """The activation function for a name (relu, tanh, erf, sign, linear) or a callable."""
    if callable(activation):
        return activation
    return ACTIVATIONS[one_of(activation, ACTIVATIONS, "activation", also="or pass a callable")]


#: integrate over |g| <= _CUTOFF (Gaussian mass beyond: e^-800); comparing with |g| <= _CUTOFF / 2
#: tells a moment that converges from one that grows with the range (diverges)
_CUTOFF = 40.0


def _gaussian_mean(f: Callable, what: str, name: str) -> float:
    def density(g):
        with np.errstate(over="ignore", under="ignore"):
            return f(g) * np.exp(-0.5 * g * g) / np.sqrt(2 * np.pi)

    def integral(cut):
        with warnings.catch_warnings():
            warnings.simplefilter("error", integrate.IntegrationWarning)
            return sum(integrate.quad(density, a, b, limit=400)[0] for a, b in ((-cut, 0.0), (0.0, cut)))

    try:
        value, half = integral(_CUTOFF), integral(_CUTOFF / 2)
    except (integrate.IntegrationWarning, OverflowError, FloatingPointError, ZeroDivisionError) as exc:
        raise ValueError(f"activation {name}: the Gaussian moment {what} diverges or cannot be "
                         f"integrated ({str(exc).splitlines()[0]})") from None
    if not (np.isfinite(value) and np.isfinite(half)) or abs(value - half) > 1e-8 * (1.0 + abs(value)):
        raise ValueError(f"activation {name}: the Gaussian moment {what} diverges")
    return float(value)


def _check_vectorized(sigma: Callable, name: str) -> None:
    """A user activation must map a numpy array to a finite array of the same shape."""
    probe = np.linspace(-3.0, 3.0, 7)
    try:
        with np.errstate(all="ignore"):
            out = np.asarray(sigma(probe), dtype=float)
    except Exception as exc:  # any failure of user code is reported, not raised as a traceback
        raise ValueError(f"activation {name} cannot be applied to a numpy array ({type(exc).__name__}: {exc})") from None
    if out.shape != probe.shape or not np.all(np.isfinite(out)):
        raise ValueError(f"activation {name} must map a numpy array to a finite array of the same shape")


def gaussian_moments(activation: str | Callable) -> GaussianMoments:
    """mu0, mu1, mu_star of an activation under g ~ N(0, 1).

    Raises
    ------
    ValueError
        For an unknown name, or a callable whose moments diverge (e.g. exp(x^2)).

    Examples
    --------
    >>> m = gaussian_moments("relu")
    >>> round(m.mu1, 3), round(m.mu_star, 4)
    (0.5, 0.3167)
    """
    name = activation if isinstance(activation, str) else getattr(activation, "__name__", "callable")
    sigma = get_activation(activation)
    if isinstance(activation, str) and activation in _CLOSED_FORMS:
        mu0, mu1, second = _CLOSED_FORMS[activation]
    else:
        _check_vectorized(sigma, name)
        with np.errstate(invalid="raise"):
            mu0 = _gaussian_mean(sigma, "E sigma(g)", name)
            mu1 = _gaussian_mean(lambda g: g * sigma(g), "E g sigma(g)", name)
            second = _gaussian_mean(lambda g: sigma(g) ** 2, "E sigma(g)^2", name)
    return GaussianMoments(mu0, mu1, float(np.sqrt(max(second - mu0**2 - mu1**2, 0.0))))

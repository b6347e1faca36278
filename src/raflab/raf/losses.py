"""Losses shared by the finite-size learners and the exact theory.

Each loss knows its value and derivatives in the score z (for the fits) and its proximal map
z(y=+1, omega; V) = argmin_z (z - omega)^2 / (2V) + loss(+1, z) (for the theory). Only y = +1 is
needed: every loss here satisfies loss(-y, -z) = loss(y, z), hence z(-y, -omega) = -z(y, omega).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from raflab.core.checks import one_of


class Loss:
    """Base class. Subclasses define the per-sample loss of a label y in {-1, +1} and score z."""

    name: str = ""

    def value(self, y, z):
        raise NotImplementedError

    def dz(self, y, z):
        """d loss / d z."""
        raise NotImplementedError

    def dz2(self, y, z):
        """d^2 loss / d z^2 (where it exists; hinge returns 0)."""
        raise NotImplementedError

    def proximal(self, omega, V):
        """Proximal point for label +1 and its derivative: (z, dz/domega)."""
        raise NotImplementedError

    def kinks(self, V):
        """Values of omega where the proximal map of label +1 is not smooth (list of arrays)."""
        return []

    def zero_crossing(self, V):
        """omega at which z(+1, omega) = 0: the sample is misclassified iff omega lies below it."""
        raise NotImplementedError

    def interpolation_projection(self, omega):
        """lam -> 0+ limit of the proximal map in the interpolating phase: (z, dz/domega).

        There V ~ V_tilde / lam diverges and the proximal step becomes the projection of omega on
        the set of zero-loss scores: z >= 1 for margin losses (max-margin), z = 1 for square loss
        (min-norm interpolator).
        """
        omega = np.asarray(omega, dtype=float)
        return np.maximum(omega, 1.0), (omega > 1.0).astype(float)

    def interpolation_kinks(self):
        return [1.0]

    def proximal_pieces(self, V):
        """The proximal map of label +1 as affine pieces, or None where it is not piecewise affine.

        A list of tuples ``(upper, c, d, l0, l1, l2)`` in increasing omega, one per piece: on
        (previous upper, upper) z(+1, omega) = c + d omega and loss(+1, z) = l0 + l1 omega + l2 omega^2;
        the last upper is +inf. Entries are arrays broadcast against V (or scalars). Used by the
        closed-form channel (:mod:`raflab.raf.theory.closed_form`).
        """
        return None

    def interpolation_pieces(self, V):
        """:meth:`proximal_pieces` of the lam -> 0+ projection (:meth:`interpolation_projection`),
        where the losses are all zero; V is the rescaled V_tilde (it does not enter z)."""
        one, zero = np.ones_like(V), np.zeros_like(V)
        return [(one, one, zero, zero, zero, zero), (np.full_like(V, np.inf), zero, one, zero, zero, zero)]

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class SquareLoss(Loss):
    """(y - z)^2 / 2."""

    name = "square"

    def value(self, y, z):
        return 0.5 * (y - z) ** 2

    def dz(self, y, z):
        return z - y

    def dz2(self, y, z):
        return np.ones_like(np.asarray(z, dtype=float))

    def proximal(self, omega, V):
        return (omega + V) / (1.0 + V), np.broadcast_to(1.0 / (1.0 + V), np.shape(omega))

    def zero_crossing(self, V):
        return -V

    def interpolation_projection(self, omega):
        omega = np.asarray(omega, dtype=float)
        return np.ones_like(omega), np.zeros_like(omega)

    def interpolation_kinks(self):
        return []

    def proximal_pieces(self, V):
        # z = (omega + V)/(1 + V) everywhere; 1 - z = (1 - omega)/(1 + V)
        k = 0.5 / (1.0 + V) ** 2
        return [(np.full_like(V, np.inf), V / (1.0 + V), 1.0 / (1.0 + V), k, -2.0 * k, k)]

    def interpolation_pieces(self, V):
        one, zero = np.ones_like(V), np.zeros_like(V)
        return [(np.full_like(V, np.inf), one, zero, zero, zero, zero)]


class HingeLoss(Loss):
    """max(0, 1 - y z)."""

    name = "hinge"

    def value(self, y, z):
        return np.maximum(0.0, 1.0 - y * z)

    def dz(self, y, z):
        return np.where(y * z < 1.0, -y, 0.0)

    def dz2(self, y, z):
        return np.zeros_like(np.asarray(z, dtype=float))

    def proximal(self, omega, V):
        # Three regimes: pushed by the full slope (omega < 1 - V), stuck on the margin, untouched.
        z = np.where(omega < 1.0 - V, omega + V, np.where(omega <= 1.0, 1.0, omega))
        slope = np.where((omega >= 1.0 - V) & (omega <= 1.0), 0.0, 1.0)
        return z, slope

    def kinks(self, V):
        return [1.0 - V, np.ones_like(V)]

    def proximal_pieces(self, V):
        # pushed by the full slope (z = omega + V, loss 1 - V - omega), on the margin, untouched
        one, zero = np.ones_like(V), np.zeros_like(V)
        return [(1.0 - V, V, one, 1.0 - V, -one, zero), (one, one, zero, zero, zero, zero),
                (np.full_like(V, np.inf), zero, one, zero, zero, zero)]

    def zero_crossing(self, V):
        return -V


class LogisticLoss(Loss):
    """log(1 + exp(-y z))."""

    name = "logistic"

    def value(self, y, z):
        return np.logaddexp(0.0, -y * z)

    def dz(self, y, z):
        return -y * expit(-y * z)

    def dz2(self, y, z):
        s = expit(z)
        return s * (1.0 - s)

    def proximal(self, omega, V, tol: float = 1e-13, max_iter: int = 200):
        # Solve g(z) = z - omega - V sigmoid(-z) = 0. g is increasing with g' in [1, 1 + V/4] and the
        # root lies in (omega, omega + V). Newton alone can bounce between the ends of that bracket
        # when V is large (g' varies by a factor 1 + V/4 across it), so the bracket shrinks with the
        # sign of g at every step and a Newton step that leaves it becomes a bisection step.
        omega = np.asarray(omega, dtype=float)
        V = np.broadcast_to(V, omega.shape)
        lo, hi = omega.copy(), omega + V
        z = omega + 0.5 * V * expit(-omega)
        step_before = V.copy()
        for _ in range(max_iter):
            sig = expit(-z)
            g = z - omega - V * sig
            lo = np.where(g < 0, z, lo)
            hi = np.where(g > 0, z, hi)
            slope = 1.0 + V * sig * (1.0 - sig)
            newton = z - g / slope
            # Newton only while it stays in the bracket and at least halves the step (rtsafe)
            use_newton = (newton > lo) & (newton < hi) & (np.abs(2.0 * g) <= np.abs(step_before * slope))
            z_new = np.where(use_newton, newton, 0.5 * (lo + hi))
            step_before = np.abs(z_new - z)
            done = np.max(np.abs(z_new - z) / (1.0 + np.abs(z)), initial=0.0) < tol
            z = z_new
            if done:
                break
        sig = expit(-z)
        return z, 1.0 / (1.0 + V * sig * (1.0 - sig))

    def zero_crossing(self, V):
        return -0.5 * V


LOSSES: dict[str, type[Loss]] = {"square": SquareLoss, "hinge": HingeLoss, "logistic": LogisticLoss}


def get_loss(name: str | Loss) -> Loss:
    """Return the loss object for a name ('square', 'hinge', 'logistic')."""
    if isinstance(name, Loss):
        return name
    return LOSSES[one_of(name, LOSSES, "loss")]()

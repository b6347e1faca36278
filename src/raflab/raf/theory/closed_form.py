"""The RAF channel in closed form for losses whose proximal map is piecewise affine (square, hinge).

On each piece of such a loss z(+1, omega) = c + d omega, so f = (z - omega)/V is affine in
xi = omega/sqrt(q) and 1 - dz/domega is constant: every average of the channel is a polynomial of
degree <= 2 in xi against one of three weights, integrated over an interval [l, u] of xi:

* the fact weight phi(xi):          int x^k phi = Phi(h), -phi(h), Phi(h) - h phi(h)
* the rule weight 2 phi(xi) Phi(a xi) (a = cos / sin of the student-teacher angle), with Owen's
  T function T(h, a) (d/dh T(h, a) = -phi(h) (Phi(a h) - 1/2)) and b = sqrt(1 + a^2) = 1/sin:
      int^h phi Phi(a x)     = Phi(h)/2 - T(h, a)
      int^h x phi Phi(a x)   = -phi(h) Phi(a h) + (a/b) Phi(b h)/sqrt(2 pi)
      int^h x^2 phi Phi(a x) = -h phi(h) Phi(a h) + Phi(h)/2 - T(h, a) - (a/b^2) phi(b h)/sqrt(2 pi)
* the teacher density phi(a xi)/sin that gives m^ (phi(x) phi(a x) = phi(b x)/sqrt(2 pi)):
      int^h phi(x) phi(a x)/sin   = Phi(b h)/sqrt(2 pi),   int^h x phi(x) phi(a x)/sin = -sin phi(b h)/sqrt(2 pi)

(each an antiderivative from -inf; the moment over a piece is the difference at its ends). No
quadrature: the conjugates are exact to rounding, where the Gauss-Legendre channel of
:class:`raflab.raf.theory.erm.RAFChannel` is exact to ~1e-12. Losses describe their pieces with
``proximal_pieces`` / ``interpolation_pieces`` (:mod:`raflab.raf.losses`); a loss without them
(logistic) keeps the quadrature channel.

For the linear learner with square loss the whole fixed point is closed form
(:func:`square_ridge_fixed_point`): V solves a quadratic, m follows from V and q from a linear
equation, so no iteration is needed at all.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, owens_t

from raflab.raf.losses import Loss, get_loss

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)
_SQRT_2_OVER_PI = np.sqrt(2.0 / np.pi)


def has_closed_form(loss: Loss | str) -> bool:
    """Whether the loss's proximal map is piecewise affine (its channel has a closed form)."""
    return get_loss(loss).proximal_pieces(np.ones(1)) is not None


def _phi(x):
    return np.exp(-0.5 * x * x) * _INV_SQRT_2PI


def _antiderivatives(h, a, s):
    """The nine antiderivatives (from -inf) at the points h (P, B), a and s of shape (P, 1).

    Returns (fact moments G0..G2, rule moments R0..R2 of the weight 2 Phi(a x), teacher moments
    D0, D1 of phi(a x)/s), each of shape (P, B); h = +-inf is allowed.
    """
    finite = np.isfinite(h)
    h0 = np.where(finite, h, 0.0)
    phi = np.where(finite, _phi(h0), 0.0)
    Phi = ndtr(h)
    h_phi = h0 * phi
    Phi_ah = ndtr(a * h0)
    T = owens_t(h, a)
    cos = a * s  # a / b
    bh = np.where(finite, h0 / s, h)
    Phi_bh = ndtr(bh)
    phi_bh = np.where(finite, _phi(np.where(finite, bh, 0.0)), 0.0)
    G0, G1, G2 = Phi, -phi, Phi - h_phi
    R0 = Phi - 2.0 * T
    R1 = 2.0 * (cos * Phi_bh * _INV_SQRT_2PI - phi * Phi_ah)
    R2 = R0 - 2.0 * h_phi * Phi_ah - 2.0 * cos * s * phi_bh * _INV_SQRT_2PI
    D0 = Phi_bh * _INV_SQRT_2PI
    D1 = -s * phi_bh * _INV_SQRT_2PI
    return G0, G1, G2, R0, R1, R2, D0, D1


class PiecewiseAffineChannel:
    """The RAF channel of :class:`raflab.raf.theory.erm.RAFChannel`, integrated in closed form.

    Same interface (``conjugates``, ``observables``) and the same equations; usable for every loss
    whose ``proximal_pieces`` is not None (square, hinge).
    """

    def __init__(self, loss: Loss | str, interpolating: bool = False):
        self.loss = get_loss(loss)
        self.interpolating = interpolating
        if not has_closed_form(self.loss):
            raise ValueError(f"the {self.loss.name} loss has no piecewise-affine proximal map")

    def _pieces(self, V):
        return self.loss.interpolation_pieces(V) if self.interpolating else self.loss.proximal_pieces(V)

    def _moments(self, m, q, V):
        """Per-piece moments: (pieces, sqrt q, fact moments, rule moments, teacher moments)."""
        sqrt_q = np.sqrt(q)
        cos = np.clip(m / sqrt_q, -1.0 + 1e-15, 1.0 - 1e-15)
        s = np.sqrt(1.0 - cos**2)
        a = cos / s
        pieces = self._pieces(V)
        ends = [np.full_like(q, -np.inf)] + [p[0] / sqrt_q for p in pieces[:-1]] + [np.full_like(q, np.inf)]
        anti = _antiderivatives(np.stack(ends, axis=1), a[:, None], s[:, None])
        diff = [np.diff(F, axis=1) for F in anti]  # (P, pieces) each
        return pieces, sqrt_q, diff[0:3], diff[3:6], diff[6:8]

    def conjugates(self, alpha, eps, m, q, V):
        """(m^, q^, V^) for arrays of shape (P,)."""
        pieces, sqrt_q, G, R, D = self._moments(m, q, V)
        m_hat = np.zeros_like(m)
        q_hat = np.zeros_like(m)
        V_hat = np.zeros_like(m)
        rule = 1.0 - eps
        for k, (_, c, d, *_loss) in enumerate(pieces):
            M = [rule * R[j][:, k] + eps * G[j][:, k] for j in range(3)]
            A = c / V  # f = A + B xi on this piece
            B = (d - 1.0) * sqrt_q / V
            V_hat += (1.0 - d) * M[0]
            q_hat += A * A * M[0] + 2.0 * A * B * M[1] + B * B * M[2]
            m_hat += A * D[0][:, k] + B * D[1][:, k]
        return 2.0 * alpha * rule * m_hat, alpha * q_hat, alpha * V_hat / V

    def observables(self, eps, m, q, V) -> dict[str, np.ndarray]:
        """The RAF errors and the mean training loss at a fixed point (as RAFChannel.observables)."""
        from raflab.raf.metrics import generalization_error_from_overlaps

        sqrt_q = np.sqrt(q)
        cos = np.clip(m / sqrt_q, -1.0 + 1e-15, 1.0 - 1e-15)
        s = np.sqrt(1.0 - cos**2)
        if self.interpolating:
            # zero-loss scores z >= 1 (margin losses) or z = 1 (square): nothing is misclassified
            rule_err = fact_err = train_loss = np.zeros_like(m)
        else:
            # z(+1, omega) is nondecreasing and crosses 0 at zero_crossing(V): wrong iff omega < it
            h = (self.loss.zero_crossing(V) / sqrt_q)[:, None]
            G0, _, _, R0, *_ = _antiderivatives(h, (cos / s)[:, None], s[:, None])
            rule_err, fact_err = R0[:, 0], G0[:, 0]
            pieces, sqrt_q, G, R, _ = self._moments(m, q, V)
            train_loss = np.zeros_like(m)
            for k, (_, _, _, l0, l1, l2) in enumerate(pieces):
                M = [(1.0 - eps) * R[j][:, k] + eps * G[j][:, k] for j in range(3)]
                # loss = l0 + l1 omega + l2 omega^2 on the piece, omega = sqrt(q) xi
                train_loss += l0 * M[0] + l1 * sqrt_q * M[1] + l2 * q * M[2]
        return {
            "gen_error": generalization_error_from_overlaps(m, q),
            "rule_train_error": rule_err,
            "fact_memorization_error": fact_err,
            "train_loss": train_loss,
        }


def square_ridge_fixed_point(alpha, eps, lam, interpolating: bool = False):
    """The exact fixed point (m, q, V) of square loss with a linear student, shape (P, 3).

    V^ = alpha / (1 + V) makes V = 1/(lam + V^) the root of lam V^2 + (lam + alpha - 1) V - 1 = 0;
    m^ = alpha (1 - eps) sqrt(2/pi) / (1 + V), m = m^ V; q^ = alpha (1 + q - 2 (1-eps) sqrt(2/pi) m)
    / (1 + V)^2 is affine in q, so q = (m^2 + q^) V^2 is one linear equation. ``interpolating``: the
    lam -> 0+ min-norm interpolator (alpha < 1) in the rescaled V_tilde = lam V, which solves the
    same equations with lam = 1 and the projection z = 1 (V^ = alpha / V_tilde): V_tilde = 1 - alpha.
    Points without a solution (alpha >= 1 interpolating, alpha <= 1 at lam = 0) come back as NaN.
    """
    alpha, eps, lam = (np.asarray(v, dtype=float) for v in (alpha, eps, lam))
    mu = (1.0 - eps) * _SQRT_2_OVER_PI  # E[y omega] = mu m
    with np.errstate(divide="ignore", invalid="ignore"):
        if interpolating:
            V = 1.0 - alpha
            V = np.where(V > 0, V, np.nan)
            m = alpha * mu
            q = (m * m + alpha * (1.0 - 2.0 * mu * m)) / (1.0 - alpha)
        else:
            b = lam + alpha - 1.0
            root = np.sqrt(b * b + 4.0 * lam)
            # the two algebraically equal forms, each used where it does not cancel
            V = np.where(b > 0, 2.0 / (b + root), (root - b) / (2.0 * lam))
            V = np.where(np.isfinite(V) & (V > 0), V, np.nan)
            m_hat = alpha * mu / (1.0 + V)
            m = m_hat * V
            shrink = V / (1.0 + V)
            q = (m_hat**2 * V**2 + alpha * shrink**2 * (1.0 - 2.0 * mu * m)) / (1.0 - alpha * shrink**2)
        q = np.where(q > 0, q, np.nan)
    return np.stack(np.broadcast_arrays(m, q, V), axis=1)

"""Prior steps of the Gaussian-covariate-model fixed point: ridge penalty x feature map.

A prior turns the conjugates (m^, q^, V^) computed by the channel into the overlaps of the student's
prediction with the teacher, m = E[f(x) w*.x/sqrt d], q = E[f(x)^2], and its susceptibility V, for a
ridge penalty lam |w|^2 / 2 on the student's weights. The feature map enters only here (Loureiro et
al. 2021, "Learning curves of generic features maps"):

* :class:`RidgePrior` -- linear student on x itself (p = d);
* :class:`RandomFeaturesPrior` -- w.sigma(F x / sqrt d)/sqrt p, p = kappa d. By Gaussian equivalence
  the features are mu1 F x/sqrt d + mu_star xi, so Omega = mu1^2 F F^T/d + mu_star^2 I and the
  traces run over the Marchenko-Pastur spectrum s of F F^T/d. With omega(s) = mu1^2 s + mu_star^2:
      V = E[omega / (lam + V^ omega)],      m = m^ mu1^2 kappa E[s / (lam + V^ omega)],
      q = m^2 mu1^2 kappa E[s omega / (lam + V^ omega)^2] + q^ E[omega^2 / (lam + V^ omega)^2],
  and the channel sees alpha / kappa = n / p samples per parameter;
* :class:`KernelPrior` -- kernel ridge / kernel SVM, the kappa -> infinity limit of the above:
  the k'(0) part is a linear student on x, the k(1) - k(0) - k'(0) part a private direction per
  training sample that adds mu_star^2 / lam to V and nothing to the test-time overlaps:
      V = mu1^2 / (lam + mu1^2 V^) + mu_star^2 / lam,  m = mu1^2 m^ / (lam + mu1^2 V^),
      q = mu1^4 (m^2 + q^) / (lam + mu1^2 V^)^2.
The constant part mu0 (k(0)) is dropped: it acts as an almost free bias, zero by the label symmetry.

Every prior is homogeneous: scaling (m^, V^, lam) by c and q^ by c^2 scales V by 1/c and leaves m, q
unchanged. The lam -> 0+ interpolating limit therefore evaluates the prior at lam = 1 with rescaled
conjugates and reads V as lam V.
"""

from __future__ import annotations

import numpy as np

from raflab.raf.theory.marchenko_pastur import resolvent_moments


class RidgePrior:
    """Gaussian teacher with unit norm, ridge penalty lam |w|^2 / 2 on a linear student."""

    name = "linear"

    @staticmethod
    def channel_alpha(alpha):
        return alpha

    @staticmethod
    def overlaps(m_hat, q_hat, V_hat, lam):
        V = 1.0 / (lam + V_hat)
        return m_hat * V, (m_hat**2 + q_hat) * V**2, V


class RandomFeaturesPrior:
    """Random features sigma(F x / sqrt d), p = kappa d, under Gaussian equivalence (mu1, mu_star)."""

    name = "rf"

    def __init__(self, kappa: float, mu1: float, mu_star: float):
        if not (np.isfinite(kappa) and kappa > 0):
            raise ValueError(f"kappa must be > 0 (got {kappa:g})")
        if mu1 == 0 and mu_star == 0:
            raise ValueError("the activation is constant on Gaussian inputs (mu1 = mu_star = 0)")
        self.kappa, self.mu1, self.mu_star = float(kappa), float(mu1), float(mu_star)

    def channel_alpha(self, alpha):
        return alpha / self.kappa

    def overlaps(self, m_hat, q_hat, V_hat, lam):
        a2, b2, kappa = self.mu1**2, self.mu_star**2, self.kappa
        r = resolvent_moments(V_hat * a2, lam + V_hat * b2, kappa)
        # mu_star = 0 (linear activation) leaves the null space of F unpenalized at lam = 0: the
        # terms weighted by mu_star^2 vanish there instead of giving 0 * inf.
        s0_1 = r.s0_1 if b2 > 0 else 0.0
        s0_2 = r.s0_2 if b2 > 0 else 0.0
        V = a2 * r.s1_1 + b2 * s0_1
        m = m_hat * a2 * kappa * r.s1_1
        s_omega = a2 * r.s2_2 + b2 * r.s1_2
        omega2 = a2 * a2 * r.s2_2 + 2.0 * a2 * b2 * r.s1_2 + b2 * b2 * s0_2
        q = m_hat**2 * a2 * kappa * s_omega + q_hat * omega2
        return m, q, V


class KernelPrior:
    """Dot-product kernel k in the proportional regime: mu1^2 = k'(0), mu_star^2 = k(1)-k(0)-k'(0)."""

    name = "kernel"

    def __init__(self, mu1: float, mu_star: float):
        if mu1 == 0 and mu_star == 0:
            raise ValueError("the kernel is constant in the proportional regime (k'(0) = k(1) - k(0) = 0)")
        self.mu1, self.mu_star = float(mu1), float(mu_star)

    @staticmethod
    def channel_alpha(alpha):
        return alpha

    def overlaps(self, m_hat, q_hat, V_hat, lam):
        a2, b2 = self.mu1**2, self.mu_star**2
        den = lam + a2 * V_hat
        with np.errstate(divide="ignore"):
            # lam = 0 without interpolation only happens for mu_star = 0 (a linear kernel)
            private = np.where(b2 > 0, b2 / lam, 0.0)
        V = a2 / den + private
        return a2 * m_hat / den, a2 * a2 * (m_hat**2 + q_hat) / den**2, V

"""Regression: the logistic proximal map at large V (small lam, separable data).

Plain clipped Newton bounced between the ends of its bracket there and stopped 40 units from the
root, which gave the RAF theory a spurious fixed point (q ~ 300, training loss above log 2) at
alpha = 0.5, eps = 0.1, lam = 0.02, where fits find q ~ 4 and every fact stored.
"""

import numpy as np
import pytest
from scipy.special import expit

from raflab.raf.losses import get_loss
from raflab.raf.theory import erm_theory


@pytest.mark.parametrize("V", [1e-6, 0.5, 46.0, 1e4])
def test_proximal_solves_its_equation(V):
    omega = np.linspace(-600, 600, 4001)
    z, slope = get_loss("logistic").proximal(omega, np.full_like(omega, V))
    residual = (z - omega - V * expit(-z)) / (1 + np.abs(z))
    assert np.max(np.abs(residual)) < 1e-10
    np.testing.assert_allclose(slope, 1 / (1 + V * expit(z) * expit(-z)), rtol=1e-12)


def test_small_lam_separable_point_matches_the_fits():
    df = erm_theory("logistic", [0.5, 1.0], 0.1, 0.02)
    assert df.converged.all()
    assert (df.train_loss < np.log(2)).all()
    # fits at d = 300 (3 seeds): q = 3.91 and 7.91, every fact stored, gen error 0.338 and 0.289
    np.testing.assert_allclose(df.q, [3.91, 7.91], rtol=0.05)
    assert (df.fact_memorization_error < 1e-3).all()
    np.testing.assert_allclose(df.gen_error, [0.338, 0.289], atol=0.01)

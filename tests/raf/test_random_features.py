"""Random-features learner: features on numpy and torch, the fit it delegates, bad input."""

import numpy as np
import pytest

from raflab.core.device import cuda_available, resolve_device
from raflab.raf.learners.random_features import RandomFeaturesERM, random_features, torch_random_features


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 40))
    return X, np.where(X[:, 0] + 0.5 * rng.standard_normal(120) >= 0, 1.0, -1.0)


@pytest.mark.parametrize("activation", ["relu", "tanh", "erf", "sign", "linear"])
def test_torch_features_equal_numpy_features(activation):
    rng = np.random.default_rng(1)
    X, F = rng.standard_normal((70, 25)), rng.standard_normal((40, 25))
    np.testing.assert_allclose(torch_random_features(X, F, activation, "cpu", chunk=16),
                               random_features(X, F, activation), rtol=1e-12, atol=1e-14)


def test_square_loss_is_ridge_on_the_features(data):
    X, y = data
    est = RandomFeaturesERM(kappa=1.5, activation="tanh", loss="square", lam=0.3, random_state=4).fit(X, y)
    Phi = np.tanh(X @ est.features_.T / np.sqrt(X.shape[1]))
    p = Phi.shape[1]
    w = np.linalg.solve(Phi.T @ Phi / p + 0.3 * np.eye(p), Phi.T @ y / np.sqrt(p))
    np.testing.assert_allclose(est.coef_, w, rtol=1e-8)
    np.testing.assert_allclose(est.decision_function(X), Phi @ w / np.sqrt(p), rtol=1e-8)


def test_max_margin_below_cover_capacity_stores_random_labels():
    """n = 100 random labels, p = 80 relu features: below n = 2p the max-margin classifier exists."""
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((100, 40)), rng.choice([-1.0, 1.0], 100)
    est = RandomFeaturesERM(kappa=2.0, activation="relu", loss="hinge", lam=0.0, random_state=0).fit(X, y)
    margins = y * est.train_scores_
    assert margins.min() == pytest.approx(1.0, abs=1e-6)
    assert np.all(est.predict(X) == y)


def test_callable_activation_and_reproducible_features(data):
    X, y = data
    a = RandomFeaturesERM(kappa=1.0, activation=np.sin, loss="logistic", lam=0.1, random_state=7).fit(X, y)
    b = RandomFeaturesERM(kappa=1.0, activation=np.sin, loss="logistic", lam=0.1, random_state=7).fit(X, y)
    np.testing.assert_array_equal(a.features_, b.features_)
    np.testing.assert_allclose(a.coef_, b.coef_)
    assert a.features_.shape == (40, 40)


def test_bad_input(data):
    X, y = data
    with pytest.raises(ValueError, match="kappa must be > 0"):
        RandomFeaturesERM(kappa=0.0).fit(X, y)
    with pytest.raises(ValueError, match="unknown activation"):
        RandomFeaturesERM(activation="swish").fit(X, y)
    with pytest.raises(ValueError, match="unknown device"):
        resolve_device("tpu")
    if not cuda_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            RandomFeaturesERM(device="cuda").fit(X, y)

import numpy as np
import pytest

from raflab.attention.tokens import make_tokens


def test_tokens_shapes_norms_alignment():
    X, y, mu, wK, wQ = make_tokens(50, 40, 2.0, 0.6, 1.5, np.random.default_rng(1))
    assert X.shape == (50, 40) and y.sum() == 0
    assert np.isclose(mu @ mu, 2.0) and np.isclose(np.linalg.norm(wK), 1.5)
    assert np.isclose(wK @ mu / np.linalg.norm(wK) / np.linalg.norm(mu), 0.6)
    X2, *_ = make_tokens(50, 40, 2.0, 0.6, 1.5, np.random.default_rng(1))
    assert np.array_equal(X, X2)


def test_tokens_bad_input():
    with pytest.raises(ValueError):
        make_tokens(50, 40, 1.0, 1.5, 1.0, np.random.default_rng(0))
    with pytest.raises(ValueError):
        make_tokens(50, 40, -1.0, 0.5, 1.0, np.random.default_rng(0))

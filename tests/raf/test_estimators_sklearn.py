"""Rule 8 (docs/architecture.md): the ERM estimators are scikit-learn estimators. get_params,
set_params, repr and clone come from ``sklearn.base.BaseEstimator``; ``__init__`` only stores the
parameters (a bad value is refused by ``fit``, not by the constructor)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone

from raflab.raf.learners.erm import LinearERM
from raflab.raf.learners.kernel_erm import KernelERM
from raflab.raf.learners.random_features import RandomFeaturesERM

ESTIMATORS = [
    (LinearERM, {"loss": "hinge", "lam": 0.5, "tol": 1e-7, "max_iter": 50}, {"lam": 0.25}),
    (KernelERM, {"kernel": "polynomial", "loss": "logistic", "lam": 0.5, "degree": 2}, {"degree": 3, "coef0": 0.5}),
    (RandomFeaturesERM, {"kappa": 1.5, "activation": "tanh", "loss": "square", "lam": 0.1, "random_state": 3,
                         "device": "cpu"}, {"kappa": 0.5, "activation": "erf"}),
]


def _data(n=40, d=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, np.where(X[:, 0] >= 0, 1.0, -1.0)


@pytest.mark.parametrize("cls, params, change", ESTIMATORS, ids=lambda v: getattr(v, "__name__", ""))
def test_clone_and_params_round_trip(cls, params, change):
    est = cls(**params)
    assert isinstance(est, BaseEstimator)
    got = est.get_params()
    assert {k: got[k] for k in params} == params
    twin = clone(est)
    assert twin is not est and type(twin) is cls and twin.get_params() == got
    assert cls(**got).get_params() == got  # get_params feeds the constructor back
    assert est.set_params(**change) is est
    assert est.get_params() == {**got, **change}
    assert twin.get_params() == got  # the clone is independent
    assert repr(est).startswith(f"{cls.__name__}(")


@pytest.mark.parametrize("cls, params, change", ESTIMATORS, ids=lambda v: getattr(v, "__name__", ""))
def test_a_clone_fits_to_the_same_numbers(cls, params, change):
    X, y = _data()
    est = cls(**params).fit(X, y)
    twin = clone(est).fit(X, y)
    np.testing.assert_array_equal(est.decision_function(X), twin.decision_function(X))
    assert not hasattr(clone(est), "coef_") and not hasattr(clone(est), "dual_coef_")


@pytest.mark.parametrize("cls, bad, match", [
    (LinearERM, {"lam": -1.0}, "lam must be"),
    (KernelERM, {"kernel": "foo"}, "unknown kernel 'foo'"),
    (RandomFeaturesERM, {"kappa": -1.0}, "kappa must be > 0"),
    (RandomFeaturesERM, {"activation": "swish"}, "unknown activation 'swish'"),
])
def test_constructor_stores_and_fit_validates(cls, bad, match):
    est = cls(**bad)  # no error here: scikit-learn's convention
    assert all(getattr(est, k) == v for k, v in bad.items())
    X, y = _data()
    with pytest.raises(ValueError, match=match):
        est.fit(X, y)


def test_an_unknown_parameter_is_refused():
    with pytest.raises(ValueError, match="(?i)invalid parameter 'nope'"):
        LinearERM().set_params(nope=1)
    with pytest.raises(ValueError, match="(?i)invalid parameter 'nope'"):
        RandomFeaturesERM().set_params(nope=1)
    with pytest.raises(ValueError, match="invalid parameter 'gamma'"):
        KernelERM(kernel="polynomial").set_params(gamma=1.0)

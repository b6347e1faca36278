"""Linear ERM fits against scikit-learn on the same data, and their exact limits."""

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.svm import LinearSVC

from raflab.learners.erm import LinearERM, NotSeparableError, is_linearly_separable, objective, ridge_path


def raf_data(n, d, eps=0.2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.sign(X @ rng.standard_normal(d))
    facts = rng.random(n) < eps
    y[facts] = rng.choice([-1.0, 1.0], facts.sum())
    return X, y


@pytest.mark.parametrize("n, d", [(300, 100), (80, 200)])
def test_ridge_path_equals_a_loop_of_sklearn_ridge(n, d):
    X, y = raf_data(n, d)
    lams = np.logspace(-3, 1, 7)
    path = ridge_path(X, y, lams)
    for lam, w in zip(lams, path):
        # sklearn's Ridge minimizes |y - Zw|^2 + alpha |w|^2 = 2 J: same minimizer with alpha = lam
        ref = Ridge(alpha=lam, fit_intercept=False, solver="cholesky").fit(X / np.sqrt(d), y).coef_
        np.testing.assert_allclose(w, ref, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("n, d", [(300, 100), (80, 200)])
def test_ridge_at_lam_zero_is_the_pseudo_inverse(n, d):
    X, y = raf_data(n, d)
    np.testing.assert_allclose(ridge_path(X, y, [0.0])[0], np.linalg.pinv(X / np.sqrt(d)) @ y, atol=1e-9)
    if n < d:  # min-norm interpolator: fits every label exactly
        np.testing.assert_allclose(X @ ridge_path(X, y, [0.0])[0] / np.sqrt(d), y, atol=1e-9)


@pytest.mark.parametrize("lam", [0.01, 0.3, 3.0])
@pytest.mark.parametrize("n, d", [(400, 100), (100, 200)])
def test_hinge_reaches_sklearn_objective_or_lower(lam, n, d):
    X, y = raf_data(n, d, seed=1)
    ours = LinearERM(loss="hinge", lam=lam).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = LinearSVC(loss="hinge", C=1 / lam, fit_intercept=False, dual=True, tol=1e-6,
                       max_iter=200_000).fit(X / np.sqrt(d), y)
    sk_obj = objective("hinge", X, y, sk.coef_[0], lam)
    assert ours.converged_
    assert ours.objective_ <= sk_obj * (1 + 1e-9)
    assert ours.objective_ >= sk_obj * (1 - 1e-3)  # the same problem, not a different one
    Xt, _ = raf_data(2000, d, seed=9)
    assert np.mean(ours.predict(Xt) == np.where(sk.decision_function(Xt / np.sqrt(d)) >= 0, 1, -1)) > 0.99


@pytest.mark.parametrize("lam", [0.01, 0.3, 3.0])
@pytest.mark.parametrize("n, d", [(400, 100), (100, 200)])
def test_logistic_reaches_sklearn_objective_or_lower(lam, n, d):
    X, y = raf_data(n, d, seed=2)
    ours = LinearERM(loss="logistic", lam=lam).fit(X, y)
    sk = LogisticRegression(C=1 / lam, fit_intercept=False, tol=1e-10, max_iter=100_000).fit(X / np.sqrt(d), y)
    sk_obj = objective("logistic", X, y, sk.coef_[0], lam)
    assert ours.converged_
    assert ours.objective_ <= sk_obj * (1 + 1e-10)
    np.testing.assert_allclose(ours.coef_, sk.coef_[0], rtol=1e-4, atol=1e-5 * np.abs(sk.coef_).max())


def test_hinge_kkt_conditions_hold():
    """Dual certificate: margins < 1 carry a = 1, margins > 1 carry a = 0, and lam w = sum a y z."""
    X, y = raf_data(300, 100, seed=3)
    lam = 0.1
    w = LinearERM(loss="hinge", lam=lam).fit(X, y).coef_
    m = y * (X @ w) / 10.0
    Zy = y[:, None] * X / 10.0
    a = np.linalg.lstsq(Zy.T[:, np.abs(m - 1) < 1e-7], lam * w - Zy[m < 1 - 1e-7].sum(0), rcond=None)[0]
    assert np.all((a > -1e-7) & (a < 1 + 1e-7))
    np.testing.assert_allclose(Zy[m < 1 - 1e-7].sum(0) + Zy[np.abs(m - 1) < 1e-7].T @ a, lam * w, atol=1e-7)


def test_max_margin_classifier():
    X, y = raf_data(150, 100, eps=0.0, seed=4)
    clf = LinearERM(loss="hinge", lam=0.0).fit(X, y)
    margins = y * clf.decision_function(X)
    assert clf.separable_ and clf.converged_
    assert margins.min() == pytest.approx(1.0, abs=1e-7)  # the support vectors sit on the margin
    # it is the hard-margin SVM: scikit-learn with a huge C points the same way
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = LinearSVC(loss="hinge", C=1e6, fit_intercept=False, tol=1e-8, max_iter=500_000).fit(X / 10.0, y)
    cos = clf.coef_ @ sk.coef_[0] / np.linalg.norm(clf.coef_) / np.linalg.norm(sk.coef_)
    assert cos > 0.999
    # logistic at lam = 0 on separable data returns the same (max-margin) direction
    log = LinearERM(loss="logistic", lam=0.0).fit(X, y)
    assert log.separable_ and np.allclose(log.coef_, clf.coef_, atol=1e-7)


def test_separability_follows_gardner():
    """Random labels at d = 200: separable at n = d (alpha = 1 < 2), not at n = 3d (alpha = 3 > 2)."""
    d = 200
    rng = np.random.default_rng(5)
    X = rng.standard_normal((3 * d, d))
    y = rng.choice([-1.0, 1.0], 3 * d)
    assert is_linearly_separable(X[:d], y[:d])
    assert not is_linearly_separable(X, y)
    with pytest.raises(NotSeparableError, match="not linearly separable"):
        LinearERM(loss="hinge", lam=0.0).fit(X, y)
    log = LinearERM(loss="logistic", lam=0.0).fit(X, y)  # maximum likelihood exists
    assert log.separable_ is False and log.converged_


@pytest.mark.parametrize("kwargs, X_shape, y_vals, match", [
    (dict(loss="absolute"), (10, 3), None, "unknown loss"),
    (dict(lam=-1.0), (10, 3), None, "lam must be >= 0"),
    (dict(), (10, 3), [0.0, 1.0], "labels y must be -1 or \\+1"),
    (dict(), (10,), None, "X must be"),
])
def test_bad_input(kwargs, X_shape, y_vals, match):
    X = np.ones(X_shape)
    y = np.resize(np.array(y_vals if y_vals else [-1.0, 1.0]), 10)
    with pytest.raises(ValueError, match=match):
        LinearERM(**kwargs).fit(X, y)

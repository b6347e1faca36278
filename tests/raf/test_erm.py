"""Linear ERM fits: against scikit-learn, against closed forms, and against their own optimality
conditions (checked here independently of the solver's internals)."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.svm import LinearSVC

from raflab.core.fixed_point import ConvergenceWarning
from raflab.raf.learners.erm import (
    LinearERM,
    NotSeparableError,
    _separability_lp,
    _signed,
    is_linearly_separable,
    objective,
    ridge_path,
)


def raf_data(d, n, eps=0.2, seed=0):
    """Gaussian inputs, teacher-sign labels with a fraction eps replaced by random ones."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    teacher = rng.standard_normal(d)
    y = np.where(X @ teacher >= 0, 1.0, -1.0)
    facts = rng.random(n) < eps
    y[facts] = rng.choice([-1.0, 1.0], facts.sum())
    return X, y, teacher


def sklearn_twin(loss, lam, **kw):
    if loss == "hinge":
        return LinearSVC(loss="hinge", C=1 / lam, fit_intercept=False, dual=True, **kw)
    return LogisticRegression(C=1 / lam, fit_intercept=False, **kw)


def hinge_dual_certificate(X, y, coef, lam, margin_tol=1e-7):
    """Recover dual weights from w alone and check the KKT conditions of the hinge problem:
    lam w = sum_mu a_mu y_mu z_mu with a = 1 inside the margin, 0 outside, a in [0, 1] on it
    (upper = inf: hard margin). Returns (residual of the stationarity equation, a on the margin)."""
    Zy = _signed(X, y)
    m = Zy @ coef
    on = np.abs(m - 1) <= margin_tol
    inside = (m < 1) & ~on
    target = lam * coef - Zy[inside].sum(axis=0)
    a_on = np.linalg.lstsq(Zy[on].T, target, rcond=None)[0]
    residual = np.linalg.norm(Zy[on].T @ a_on - target) / max(1.0, np.linalg.norm(lam * coef))
    return residual, a_on


# --- square loss --------------------------------------------------------------------------------


@pytest.mark.parametrize("n, d", [(120, 60), (60, 120)])
def test_ridge_path_matches_sklearn_and_direct_solves(n, d):
    X, y, _ = raf_data(d, n, seed=1)
    lams = np.logspace(-3, 2, 7)
    path = ridge_path(X, y, lams)
    Xs = X / np.sqrt(d)
    for lam, w in zip(lams, path):
        direct = np.linalg.solve(Xs.T @ Xs + lam * np.eye(d), Xs.T @ y)
        sk = Ridge(alpha=lam, fit_intercept=False, solver="cholesky").fit(Xs, y).coef_
        assert np.max(np.abs(w - direct)) < 1e-8
        assert np.max(np.abs(w - sk)) < 1e-8


@pytest.mark.parametrize("n, d", [(40, 100), (100, 40)])
def test_ridge_path_at_lam_zero_is_the_pseudo_inverse_solution(n, d):
    X, y, _ = raf_data(d, n, seed=2)
    w = ridge_path(X, y, 0.0)[0]
    assert np.max(np.abs(w - np.linalg.pinv(X / np.sqrt(d)) @ y)) < 1e-8
    if n < d:  # min-norm interpolator
        assert np.max(np.abs(X @ w / np.sqrt(d) - y)) < 1e-8


def test_ridge_path_treats_a_rank_deficient_design_as_pinv():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((50, 10)) @ rng.standard_normal((10, 30))  # rank 10
    y = rng.choice([-1.0, 1.0], 50)
    w = ridge_path(X, y, [0.0])[0]
    assert np.allclose(w, np.linalg.pinv(X / np.sqrt(30)) @ y, atol=1e-8)


def test_square_estimator_is_ridge_and_its_objective_is_half_sklearns():
    X, y, _ = raf_data(80, 200, seed=4)
    lam = 0.3
    clf = LinearERM("square", lam).fit(X, y)
    sk = Ridge(alpha=lam, fit_intercept=False).fit(X / np.sqrt(80), y).coef_
    assert np.allclose(clf.coef_, sk, atol=1e-8)
    sk_objective = np.sum((y - X @ sk / np.sqrt(80)) ** 2) + lam * sk @ sk  # Ridge minimizes 2 J
    assert clf.objective_ == pytest.approx(sk_objective / 2, rel=1e-10)
    assert clf.converged_ and clf.n_iter_ == 1


# --- hinge and logistic against scikit-learn ----------------------------------------------------


@pytest.mark.parametrize("loss", ["hinge", "logistic"])
@pytest.mark.parametrize("lam", [0.1, 1.0])
@pytest.mark.parametrize("n, d", [(300, 100), (100, 200)])
def test_objective_not_above_sklearn_and_same_predictions(loss, lam, n, d):
    X, y, teacher = raf_data(d, n, seed=5)
    clf = LinearERM(loss, lam).fit(X, y)
    assert clf.converged_
    Xs = X / np.sqrt(d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # liblinear's ConvergenceWarning at its default max_iter
        loose = sklearn_twin(loss, lam).fit(Xs, y).coef_.ravel()
        tight = sklearn_twin(loss, lam, tol=1e-10, max_iter=200_000).fit(Xs, y).coef_.ravel()
    for w in (loose, tight):
        J_sk = objective(loss, X, y, w, lam)
        assert clf.objective_ <= J_sk + 1e-9 * abs(J_sk)
    assert clf.objective_ == pytest.approx(objective(loss, X, y, clf.coef_, lam), rel=1e-12)
    # Both minimize a strongly convex primal: same w, same predictions on fresh points.
    assert np.linalg.norm(clf.coef_ - tight) <= 1e-4 * np.linalg.norm(tight)
    X_test = np.random.default_rng(6).standard_normal((2000, d))
    agree = np.mean(clf.predict(X_test) == np.where(X_test @ tight >= 0, 1.0, -1.0))
    assert agree >= 0.99


@pytest.mark.parametrize("lam", [0.01, 0.3, 3.0])
@pytest.mark.parametrize("n, d", [(400, 100), (150, 150), (60, 250)])
def test_hinge_solution_satisfies_kkt(lam, n, d):
    X, y, _ = raf_data(d, n, seed=7)
    clf = LinearERM("hinge", lam).fit(X, y)
    assert clf.converged_ and clf.kkt_violation_ <= 1e-9
    residual, a_on = hinge_dual_certificate(X, y, clf.coef_, lam)
    assert residual < 1e-8
    assert np.all(a_on >= -1e-6) and np.all(a_on <= 1 + 1e-6)


def test_hinge_converges_on_a_degenerate_case():
    """Random labels far above capacity with a tiny ridge: about d points sit on the margin, the
    free Gram block is (nearly) singular (at the optimum exactly d = 200 points on the margin) and
    the active-set polish only succeeds after thousands of gradient / quasi-Newton steps (5728
    measured; the former L-BFGS-B solver 4886); LinearSVC takes ~40 s here to reach a worse
    objective."""
    X, y, _ = raf_data(200, 800, eps=1.0, seed=0)
    clf = LinearERM("hinge", 1e-3).fit(X, y)
    assert clf.converged_ and clf.kkt_violation_ <= 1e-9
    residual, _ = hinge_dual_certificate(X, y, clf.coef_, 1e-3)  # dual not unique: no box check
    assert residual < 1e-7


def test_logistic_gradient_vanishes():
    X, y, _ = raf_data(120, 360, seed=8)
    lam = 0.05
    clf = LinearERM("logistic", lam).fit(X, y)
    Zy = _signed(X, y)
    grad = lam * clf.coef_ - Zy.T @ (1 / (1 + np.exp(Zy @ clf.coef_)))
    assert np.linalg.norm(grad) <= 1e-8 * np.linalg.norm(Zy.T @ np.full(len(y), 0.5))


# --- lam = 0: max-margin, separability ----------------------------------------------------------


def test_max_margin_margins_kkt_and_sklearn_direction():
    X, y, _ = raf_data(50, 75, eps=0.0, seed=9)
    clf = LinearERM("hinge", 0.0).fit(X, y)
    assert clf.converged_ and clf.separable_
    margins = y * clf.decision_function(X)
    assert margins.min() >= 1 - 1e-6
    residual, a_on = hinge_dual_certificate(X, y, clf.coef_, 1.0)  # hard margin: w = sum a y z
    assert residual < 1e-8 and np.all(a_on >= -1e-6)
    assert clf.objective_ == pytest.approx(0.0, abs=1e-9)  # hinge loss 0 on separable data, lam = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = LinearSVC(loss="hinge", C=1e6, fit_intercept=False, tol=1e-10, max_iter=1_000_000)
        w_sk = sk.fit(X / np.sqrt(50), y).coef_.ravel()
    cosine = clf.coef_ @ w_sk / np.linalg.norm(clf.coef_) / np.linalg.norm(w_sk)
    assert cosine > 0.999


def test_random_labels_above_gardner_capacity_are_not_separable():
    d = 60
    for seed in range(3):
        X, y, _ = raf_data(d, 3 * d, eps=1.0, seed=seed)
        with pytest.raises(NotSeparableError, match="not linearly separable"):
            LinearERM("hinge", 0.0).fit(X, y)
        assert not is_linearly_separable(X, y)
        assert not _separability_lp(_signed(X, y))  # the exact LP agrees


def test_random_labels_at_n_equal_d_are_separable():
    d = 100
    X, y, _ = raf_data(d, d, eps=1.0, seed=10)
    clf = LinearERM("hinge", 0.0).fit(X, y)
    assert clf.separable_ and np.min(y * clf.decision_function(X)) >= 1 - 1e-6


@pytest.mark.parametrize("n", [50, 56, 60, 64, 70])
def test_separability_decision_agrees_with_the_linear_program_near_capacity(n):
    X, y, _ = raf_data(30, n, eps=1.0, seed=n)
    assert is_linearly_separable(X, y) == _separability_lp(_signed(X, y))


def test_logistic_at_lam_zero_is_max_margin_when_separable_and_mle_otherwise():
    X, y, _ = raf_data(80, 80, eps=1.0, seed=11)
    logistic = LinearERM("logistic", 0.0).fit(X, y)
    hinge = LinearERM("hinge", 0.0).fit(X, y)
    assert logistic.separable_ is True
    assert np.allclose(logistic.coef_, hinge.coef_, atol=1e-8)

    X, y, _ = raf_data(40, 160, eps=1.0, seed=12)
    mle = LinearERM("logistic", 0.0).fit(X, y)
    assert mle.separable_ is False and mle.converged_
    Zy = _signed(X, y)
    grad = -Zy.T @ (1 / (1 + np.exp(Zy @ mle.coef_)))
    assert np.linalg.norm(grad) <= 1e-8 * np.linalg.norm(Zy.T @ np.full(len(y), 0.5))
    # the MLE is the limit of the regularized fits
    small = LinearERM("logistic", 1e-8).fit(X, y)
    assert np.allclose(small.coef_, mle.coef_, rtol=1e-5, atol=1e-6)


# --- estimator conventions and validation -------------------------------------------------------


def test_estimator_conventions():
    clf = LinearERM(loss="hinge", lam=0.5, tol=1e-7, max_iter=10)
    assert clf.get_params() == {"loss": "hinge", "lam": 0.5, "tol": 1e-7, "max_iter": 10}
    copy = clone(clf)
    assert copy.get_params() == clf.get_params() and copy is not clf
    X, y, _ = raf_data(20, 50, seed=13)
    assert clf.set_params(max_iter=1000).fit(X, y) is clf
    assert not hasattr(LinearERM(), "coef_")
    assert LinearERM(lam=-1.0).lam == -1.0  # stored unchanged, validated in fit
    X0 = np.zeros((2, 20))
    assert np.all(clf.predict(X0) == 1.0)  # score exactly 0 -> +1


def test_unconverged_fit_warns_and_says_so():
    X, y, _ = raf_data(100, 300, seed=14)
    with pytest.warns(ConvergenceWarning):
        clf = LinearERM("hinge", 0.01, max_iter=2).fit(X, y)
    assert not clf.converged_ and clf.kkt_violation_ > clf.tol
    with pytest.warns(ConvergenceWarning):
        clf = LinearERM("logistic", 0.01, max_iter=1).fit(X, y)
    assert not clf.converged_


@pytest.mark.parametrize("kwargs, X, y, match", [
    ({"loss": "absolute"}, np.ones((3, 2)), np.ones(3), "unknown loss 'absolute'; choose one of"),
    ({"lam": -0.1}, np.ones((3, 2)), np.ones(3), "lam must be"),
    ({"lam": np.nan}, np.ones((3, 2)), np.ones(3), "lam must be"),
    ({}, np.ones((3, 2)), np.array([0.0, 1.0, 1.0]), "labels y must be -1 or \\+1"),
    ({}, np.ones((3, 2)), np.ones(4), "same n"),
    ({}, np.ones(3), np.ones(3), "same n"),
    ({}, np.full((3, 2), np.nan), np.ones(3), "finite"),
])
def test_bad_inputs_raise_value_error(kwargs, X, y, match):
    with pytest.raises(ValueError, match=match):
        LinearERM(**{"loss": "hinge", **kwargs}).fit(X, y)


def test_bad_lams_and_shapes_in_the_functions():
    X, y, _ = raf_data(10, 20, seed=15)
    with pytest.raises(ValueError, match="lam must be"):
        ridge_path(X, y, [0.1, -1.0])
    with pytest.raises(ValueError, match="same n"):
        ridge_path(X, y[:-1], [0.1])
    clf = LinearERM("square", 0.1).fit(X, y)
    with pytest.raises(ValueError):
        clf.decision_function(np.ones((3, 11)))

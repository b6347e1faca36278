"""Kernel ERM fits: against scikit-learn's kernel ridge and SVC, against LinearERM (linear kernel),
and against their own optimality conditions, including the lam -> 0+ limits."""

import numpy as np
import pytest
from scipy.special import expit
from sklearn.base import clone
from sklearn.kernel_ridge import KernelRidge
from sklearn.svm import SVC

from raflab.raf.kernel_functions import Kernel, get_kernel
from raflab.raf.learners.erm import LinearERM, NotSeparableError
from raflab.raf.learners.kernel_erm import KernelERM, kernel_features


def data(n, d, n_test=50, noise=0.5, seed=0):
    rng = np.random.default_rng(seed)
    X, X_test = rng.standard_normal((n, d)), rng.standard_normal((n_test, d))
    y = np.where(X[:, 0] + noise * rng.standard_normal(n) >= 0, 1.0, -1.0)
    return X, y, X_test


class Shifted(Kernel):
    """K + B 11^T: adds to the RKHS the constants, with norm |b|^2 / B (an intercept penalized by
    lam b^2 / (2 B), free as B -> inf)."""

    name = "shifted"

    def __init__(self, base, B):
        self.base, self.B = base, B

    def matrix(self, X, Y=None):
        return self.base.matrix(X, Y) + self.B


# --- against scikit-learn --------------------------------------------------------------------------


@pytest.mark.parametrize("kernel", ["arccos", "rbf", "activation:tanh"])
@pytest.mark.parametrize("lam", [0.01, 1.0])
def test_square_loss_is_kernel_ridge(kernel, lam):
    """KernelRidge(alpha=lam) minimizes |y - K a|^2 + lam a^T K a = 2 J: same f everywhere
    (measured agreement ~1e-14)."""
    X, y, X_test = data(120, 40)
    k = get_kernel(kernel)
    K, K_test = k.matrix(X), k.matrix(X_test, X)
    est = KernelERM(kernel=kernel, loss="square", lam=lam).fit(X, y)
    ref = KernelRidge(alpha=lam, kernel="precomputed").fit(K, y)
    np.testing.assert_allclose(est.train_scores_, ref.predict(K), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(est.decision_function(X), ref.predict(K), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(est.decision_function(X_test), ref.predict(K_test), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(est.dual_coef_, ref.dual_coef_, rtol=1e-8, atol=1e-10)
    a = ref.dual_coef_
    assert est.objective_ == pytest.approx(0.5 * np.sum((y - K @ a) ** 2) + 0.5 * lam * a @ K @ a, rel=1e-10)
    assert est.rank_ == 120 and est.converged_


@pytest.mark.parametrize("lam", [0.3, 1.0])
def test_hinge_loss_is_svc_once_the_intercept_is_freed(lam):
    """SVC(C = 1/lam) minimizes J / lam but with a free intercept b. KernelERM on K + B 11^T has
    an intercept penalized by lam b^2 / (2B): within a fixed set of support vectors its solution
    is smooth in 1/B, f_B = f_SVC + c / B + O(1/B^2) (the penalty method on SVC's equality
    constraint). So the gap must halve when B doubles (it is that first-order term, ~2.5e-4 at
    B = 100: nothing else), and the Richardson extrapolation 2 f_2B - f_B must agree with SVC to
    O(1/B^2): < 2e-6 (measured 3e-7). Larger B would need no extrapolation but make the QP
    ill-conditioned (cond ~ B n / k_star)."""
    X, y, X_test = data(120, 40)
    k = get_kernel("arccos")
    K, K_test = k.matrix(X), k.matrix(X_test, X)
    svc = SVC(kernel="precomputed", C=1 / lam, tol=1e-8).fit(K, y)
    ref = np.concatenate([svc.decision_function(K), svc.decision_function(K_test)])
    assert abs(svc.intercept_[0]) > 0.1  # the intercept matters here
    f = {}
    for B in (100.0, 200.0):
        est = KernelERM(kernel=Shifted(k, B), loss="hinge", lam=lam).fit(X, y)
        assert est.converged_
        f[B] = np.concatenate([est.train_scores_, est.decision_function(X_test)])
    gap100, gap200 = np.abs(f[100.0] - ref).max(), np.abs(f[200.0] - ref).max()
    assert 1e-6 < gap100 < 1e-3 and 0.45 < gap200 / gap100 < 0.55
    assert np.abs(2 * f[200.0] - f[100.0] - ref).max() < 2e-6


def test_hinge_dual_solver_converges_on_every_copy_of_the_ill_conditioned_shifted_problem():
    """The hinge dual of the test above (B = 200, lam = 1: cond ~ B n / k_star) posed 60 times,
    its rows permuted and its features rotated: the same QP up to relabelling. Our box-QP solver
    must certify every copy (KKT <= 1e-9) and find the same margins. The former L-BFGS-B based
    solver failed 3 of these 60 copies with SciPy 1.17.1 (seeds 4, 50, 55: stopped at violation
    ~1.4-1.9) and 1 with SciPy 1.11.4 (seed 56); ours takes 19 iterations on each (measured)."""
    from raflab.raf.learners.box_qp import box_qp as _box_qp
    from raflab.raf.learners.erm import _signed

    X, y, _ = data(120, 40)
    lam = 1.0
    Z, _, _ = kernel_features(Shifted(get_kernel("arccos"), 200.0).matrix(X))
    A = _signed(Z, y, 1.0 / np.sqrt(lam))
    a0, _, kkt0 = _box_qp(A, 1.0, 1e-9, 20000)
    margins0 = A @ (A.T @ a0)
    assert kkt0 <= 1e-9
    iterations = []
    for seed in range(60):
        rng = np.random.default_rng(seed)
        perm = rng.permutation(A.shape[0])
        rotation, _ = np.linalg.qr(rng.standard_normal((A.shape[1], A.shape[1])))
        Ac = A[perm] @ rotation
        a, n_iter, kkt = _box_qp(Ac, 1.0, 1e-9, 20000)
        assert kkt <= 1e-9 and np.all((a >= 0) & (a <= 1)), (seed, n_iter, kkt)
        np.testing.assert_allclose(Ac @ (Ac.T @ a), margins0[perm], rtol=0, atol=1e-8)
        iterations.append(n_iter)
    assert max(iterations) <= 100


# --- the reduction is exact: the linear kernel is the linear learner --------------------------------


@pytest.mark.parametrize("loss, lam", [("square", 0.1), ("square", 0.0), ("hinge", 0.5), ("logistic", 0.2)])
def test_linear_kernel_is_linear_erm(loss, lam):
    """n > d: K = X X^T / d has rank d, so the null eigenvalues must be dropped (rank_ = d)."""
    X, y, X_test = data(150, 30, seed=1)
    est = KernelERM(kernel="linear", loss=loss, lam=lam).fit(X, y)
    lin = LinearERM(loss=loss, lam=lam).fit(X, y)
    assert est.rank_ == 30
    np.testing.assert_allclose(est.decision_function(X_test), lin.decision_function(X_test), rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(est.train_scores_, lin.decision_function(X), rtol=1e-7, atol=1e-8)
    assert est.objective_ == pytest.approx(lin.objective_, rel=1e-9)


def test_logistic_stationarity_in_the_dual():
    """Full-rank K: the RKHS optimum f = sum a_i K(., x_i) has a_i = y_i expit(-y_i f_i) / lam."""
    X, y, _ = data(100, 40, seed=2)
    lam = 0.1
    est = KernelERM(kernel="rbf", loss="logistic", lam=lam, tol=1e-12).fit(X, y)
    f = est.train_scores_
    np.testing.assert_allclose(est.dual_coef_, y * expit(-y * f) / lam, rtol=1e-7, atol=1e-9)


# --- lam = 0 --------------------------------------------------------------------------------------


def test_lam_zero_square_is_the_min_norm_interpolator():
    X, y, X_test = data(60, 100, seed=3)
    K = get_kernel("arccos").matrix(X)
    est = KernelERM(kernel="arccos", loss="square", lam=0.0).fit(X, y)
    np.testing.assert_allclose(est.train_scores_, y, rtol=0, atol=1e-8)
    np.testing.assert_allclose(est.decision_function(X), y, rtol=0, atol=1e-8)
    np.testing.assert_allclose(est.dual_coef_, np.linalg.solve(K, y), rtol=1e-8, atol=1e-10)
    assert est.objective_ == pytest.approx(0.0, abs=1e-12)
    # and the lam -> 0+ limit of the ridge fits
    small = KernelERM(kernel="arccos", loss="square", lam=1e-9).fit(X, y)
    np.testing.assert_allclose(small.decision_function(X_test), est.decision_function(X_test), atol=1e-6)


def test_lam_zero_hinge_is_the_hard_margin_kernel_svm():
    """Margins >= 1 with equality on the support vectors; dual weights y_i a_i >= 0, zero off the
    margin (complementary slackness); and a small enough lam gives the same classifier exactly
    (the box constraint a <= 1 stops binding)."""
    X, y, X_test = data(80, 40, noise=1.0, seed=4)
    est = KernelERM(kernel="arccos", loss="hinge", lam=0.0).fit(X, y)
    assert est.converged_ and est.separable_
    margins = y * est.train_scores_
    assert margins.min() >= 1 - 1e-6 and margins.min() == pytest.approx(1.0, abs=1e-6)
    on = np.abs(margins - 1) <= 1e-6
    assert 5 <= on.sum() < 80
    ya = y * est.dual_coef_
    assert ya.min() >= -1e-8 * ya.max()
    assert np.abs(est.dual_coef_[~on]).max() <= 1e-8 * np.abs(est.dual_coef_).max()
    small = KernelERM(kernel="arccos", loss="hinge", lam=1e-6).fit(X, y)
    np.testing.assert_allclose(small.decision_function(X_test), est.decision_function(X_test), rtol=1e-6, atol=1e-6)


def test_lam_zero_hinge_not_separable_raises():
    X, _, _ = data(80, 10, seed=5)
    y = np.random.default_rng(5).choice([-1.0, 1.0], 80)  # random labels, n = 8 d: no hyperplane
    with pytest.raises(NotSeparableError):
        KernelERM(kernel="linear", loss="hinge", lam=0.0).fit(X, y)


# --- estimator conventions and bad input -------------------------------------------------------------


def test_estimator_conventions():
    est = KernelERM(kernel="polynomial", loss="hinge", lam=0.5, degree=3)
    assert est.get_params() == {"kernel": "polynomial", "loss": "hinge", "lam": 0.5, "tol": 1e-9,
                                "max_iter": 20000, "degree": 3}
    assert repr(est) == "KernelERM(degree=3, kernel='polynomial', lam=0.5, loss='hinge')"  # BaseEstimator's
    twin = clone(est)
    assert twin.get_params() == est.get_params() and twin is not est
    est.set_params(coef0=2.0, lam=0.1)  # a parameter of the kernel not given before
    assert est.get_params()["coef0"] == 2.0 and est.lam == 0.1
    with pytest.raises(ValueError, match="invalid parameter 'gamma'"):
        est.set_params(gamma=1.0)
    X, y, X_test = data(60, 20, seed=6)
    est.fit(X, y)
    assert est.kernel_.degree == 3 and est.kernel_.coef0 == 2.0
    np.testing.assert_array_equal(est.predict(X_test), np.where(est.decision_function(X_test) >= 0, 1.0, -1.0))
    # ties: f = 0 exactly (all dual weights zero when every sample sits at zero loss) predicts +1
    est.dual_coef_ = np.zeros_like(est.dual_coef_)
    assert np.all(est.predict(X_test) == 1.0)


def test_kernel_features_reproduce_the_kernel_and_refuse_indefinite_matrices():
    X = np.random.default_rng(7).standard_normal((40, 10))
    K = get_kernel("polynomial", degree=1, coef0=0.0).matrix(X)  # rank 10
    Z, U, S = kernel_features(K)
    assert Z.shape == (40, 10)
    np.testing.assert_allclose(Z @ Z.T / 10, K, atol=1e-12)
    with pytest.raises(ValueError, match="not positive semi-definite"):
        kernel_features(np.array([[1.0, 2.0], [2.0, 1.0]]))


def test_bad_input():
    X, y, _ = data(30, 10, seed=8)
    with pytest.raises(ValueError, match="lam must be finite and >= 0"):
        KernelERM(lam=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="unknown kernel 'foo'"):
        KernelERM(kernel="foo").fit(X, y)
    with pytest.raises(ValueError, match="degree must be an integer >= 1"):
        KernelERM(kernel="polynomial", degree=0).fit(X, y)
    with pytest.raises(ValueError, match="takes no parameter"):
        KernelERM(kernel="rbf", degree=2).fit(X, y)
    with pytest.raises(ValueError, match="unknown loss|loss"):
        KernelERM(loss="cubic").fit(X, y)
    with pytest.raises(ValueError, match="labels y must be -1 or \\+1"):
        KernelERM().fit(X, 2 * y)
    with pytest.raises(ValueError, match="X must be"):
        KernelERM().fit(X, y[:-1])
    with pytest.raises(AttributeError, match="not fitted"):
        KernelERM().decision_function(X)
    est = KernelERM().fit(X, y)
    with pytest.raises(ValueError, match=r"X must be \(n, 10\)"):
        est.decision_function(X[:, :5])

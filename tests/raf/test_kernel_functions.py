"""Kernels: closed forms, linearization constants (against hand computations, against the matrices
themselves, against the Gaussian moments of the activations), El Karoui's operator-norm
approximation, random-feature Monte Carlo, and 2-d quadrature for the Hermite series."""

import numpy as np
import pytest
from numpy.polynomial.hermite_e import hermegauss
from sklearn.metrics.pairwise import polynomial_kernel, rbf_kernel

from raflab.raf.activations import ACTIVATIONS, gaussian_moments
from raflab.raf.kernel_functions import KERNELS, ActivationKernel, ArcCosKernel, Kernel, KernelLinearization, get_kernel
from raflab.raf.learners.random_features import random_feature_matrix, random_features


def pairs_at(cosines, d=64):
    """X (2m, d): row pairs (2i, 2i+1) with |x|^2 = d and x.x'/d = cosines[i] exactly up to rounding."""
    X = np.zeros((2 * len(cosines), d))
    for i, c in enumerate(cosines):
        X[2 * i, 2 * i % d] = np.sqrt(d)
        X[2 * i + 1, 2 * i % d] = c * np.sqrt(d)
        X[2 * i + 1, (2 * i + 1) % d] = np.sqrt(max(1 - c * c, 0.0)) * np.sqrt(d)
    return X


def k_of_t(kernel, ts):
    """k(t) read off the kernel matrix on unit-norm pairs."""
    K = kernel.matrix(pairs_at(ts))
    return np.array([K[2 * i, 2 * i + 1] for i in range(len(ts))])


def check_linearization_against_matrix(kernel, h=1e-4):
    """k0 = k(0), k1 = k'(0) (central difference, error ~ h^2 k'''/6), k(1) from the matrix."""
    lin = kernel.linearization()
    k0, kp, km, k1 = k_of_t(kernel, [0.0, h, -h, 1.0])
    assert lin.k0 == pytest.approx(k0, abs=1e-12)
    assert lin.k1 == pytest.approx((kp - km) / (2 * h), abs=1e-7)
    assert lin.k0 + lin.k1 + lin.k_star == pytest.approx(k1, abs=1e-12)


# --- linearization constants ---------------------------------------------------------------------


E = np.exp(-1.0)


@pytest.mark.parametrize("name, params, k0, k1, k_star", [
    ("linear", {}, 0.0, 1.0, 0.0),
    ("polynomial", {}, 1.0, 2.0, 1.0),                                  # (1 + t)^2 = 1 + 2t + t^2
    ("polynomial", {"degree": 3, "coef0": 0.5}, 0.125, 0.75, 2.5),      # 1.5^3 - 0.125 - 0.75
    ("polynomial", {"degree": 2, "coef0": 0.0}, 0.0, 0.0, 1.0),         # t^2: no linear part
    ("rbf", {"gamma": 0.5}, E, E, 1 - 2 * E),                           # exp(-(1 - t))
    ("arccos", {}, 1 / (2 * np.pi), 0.25, 0.5 - 1 / (2 * np.pi) - 0.25),
])
def test_linearization_constants_by_hand_and_from_the_matrix(name, params, k0, k1, k_star):
    kernel = get_kernel(name, **params)
    lin = kernel.linearization()
    assert isinstance(lin, KernelLinearization)
    np.testing.assert_allclose([lin.k0, lin.k1, lin.k_star], [k0, k1, k_star], rtol=1e-14, atol=1e-15)
    m = kernel.moments()
    np.testing.assert_allclose([m.mu0, m.mu1, m.mu_star], np.sqrt([k0, k1, k_star]), rtol=1e-14, atol=1e-15)
    check_linearization_against_matrix(kernel)


def smooth_shifted(x):
    return np.tanh(x) + 0.3 * x**2  # mu0 = 0.3 != 0 and an even part: every Hermite term


@pytest.mark.parametrize("activation", ["relu", "tanh", "erf", "sign", "linear", smooth_shifted])
def test_activation_kernel_linearization_is_the_gaussian_moments(activation):
    kernel = get_kernel(activation) if callable(activation) else get_kernel(f"activation:{activation}")
    m, lin = gaussian_moments(activation), kernel.linearization()
    np.testing.assert_allclose([lin.k0, lin.k1, lin.k_star], [m.mu0**2, m.mu1**2, m.mu_star**2], rtol=1e-13, atol=1e-15)
    if activation == "relu":  # ReLU moments are the arc-cosine constants
        np.testing.assert_allclose([lin.k0, lin.k1, lin.k0 + lin.k1 + lin.k_star], [1 / (2 * np.pi), 0.25, 0.5])
    if activation != "sign":  # sign: k(t) = (2/pi) arcsin t has infinite slope at t = 1, use h small
        check_linearization_against_matrix(kernel)
    else:
        check_linearization_against_matrix(kernel, h=1e-5)


def test_arccos_is_the_relu_activation_kernel_with_true_norms():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 50)) * rng.uniform(0.3, 2.0, (30, 1))
    Y = rng.standard_normal((7, 50))
    np.testing.assert_array_equal(ArcCosKernel().matrix(X, Y), ActivationKernel("relu").matrix(X, Y))
    # the diagonal is E relu(g |x| / sqrt d)^2 = |x|^2 / (2 d)
    np.testing.assert_allclose(np.diag(ArcCosKernel().matrix(X)), np.sum(X**2, axis=1) / 100, rtol=1e-14)


def test_closed_forms_against_scikit_learn():
    rng = np.random.default_rng(1)
    X, Y, d = rng.standard_normal((20, 40)), rng.standard_normal((9, 40)), 40
    np.testing.assert_allclose(get_kernel("rbf", gamma=0.7).matrix(X, Y), rbf_kernel(X, Y, gamma=0.7 / d), rtol=1e-13)
    np.testing.assert_allclose(get_kernel("polynomial", degree=3, coef0=0.5).matrix(X, Y),
                               polynomial_kernel(X, Y, degree=3, gamma=1 / d, coef0=0.5), rtol=1e-12)
    np.testing.assert_allclose(get_kernel("linear").matrix(X, Y), X @ Y.T / d, rtol=1e-13)


@pytest.mark.parametrize("name", ["linear", "polynomial", "rbf", "arccos", "activation:erf", "activation:sign",
                                  "activation:tanh"])
def test_matrices_are_exactly_symmetric_and_consistent_with_cross_matrices(name):
    X = np.random.default_rng(2).standard_normal((300, 120))
    kernel = get_kernel(name)
    K = kernel.matrix(X)
    assert K.shape == (300, 300) and np.array_equal(K, K.T)
    np.testing.assert_allclose(kernel.matrix(X[:40], X), K[:40], rtol=1e-9, atol=1e-12)
    assert np.linalg.eigvalsh(K)[0] > -1e-10 * np.abs(K).max()  # positive semi-definite


# --- El Karoui: K ~ k0 11^T + k1 X X^T / d + k_star I ------------------------------------------------


def operator_norm(A):
    return float(np.max(np.abs(np.linalg.eigvalsh(A))))


@pytest.mark.parametrize("name", ["arccos", "polynomial", "rbf", "activation:tanh", "activation:erf",
                                  "activation:sign"])
def test_el_karoui_linearization_in_operator_norm(name):
    """n = d / 2 Gaussian inputs. The leading errors are the fluctuations of |x|^2 / d = 1 + O(d^{-1/2}):
    for a kernel with a constant part, k0 (delta 1^T + 1 delta^T) / 2 with |delta| ~ sqrt(2 n / d)
    (relative size 1 / sqrt(2 d): 0.035 at d = 400), and the diagonal k1 (1 - |x|^2 / d), of size
    k1 sqrt(2 log n / d). So |K - L| / |K| ~ 1 / sqrt(d) up to logs: we ask for 2.5 / sqrt(d) (the
    worst measured is 1.8 / sqrt d) and for the error to shrink by a factor < 0.6 from d = 400 to
    d = 1600 (theory 0.5, 0.57 with the log). A wrong k1 or k_star leaves an O(1) error in the
    non-constant part, which the centered check (P = I - 11^T / n) sees even when k0 11^T makes
    |K| large: there the error is < 0.15 |P K P| (the worst, rbf, has the rank-one
    k0 gamma^2 (P delta)(P delta)^T, ~0.1 |P K P| at n / d = 1/2)."""
    kernel = get_kernel(name)
    lin = kernel.linearization()
    rel = {}
    for d in (400, 1600):
        n = d // 2
        X = np.random.default_rng(d).standard_normal((n, d))
        K = kernel.matrix(X)
        err = K - lin.matrix(X)
        rel[d] = operator_norm(err) / operator_norm(K)
        assert rel[d] < 2.5 / np.sqrt(d), (d, rel[d])
    assert rel[1600] < 0.6 * rel[400], rel
    P = np.eye(n) - 1.0 / n
    assert operator_norm(P @ err @ P) < 0.15 * operator_norm(P @ K @ P)


# --- activation kernels: random features and quadrature -----------------------------------------


@pytest.mark.parametrize("activation, unit_norms", [("relu", False), ("erf", False), ("sign", False),
                                                    ("tanh", True), (smooth_shifted, True)])
def test_activation_kernels_are_the_infinite_width_random_features_limit(activation, unit_norms):
    """Phi Phi^T / p with p = 200000 features sigma(F x / sqrt d) (the random-features learner's own
    map) estimates K entry by entry, with standard error sd(phi_i phi_j) / sqrt(p): every entry
    within 4 standard errors (~6e-5 of a probability of failing per entry, for a fixed seed
    deterministic anyway). Inputs with norms |x|^2 / d from 0.25 to 4 check that the closed forms
    use the true norms; the Hermite-series kernels (tanh, callables) drop them, so they get
    unit-norm rows."""
    rng = np.random.default_rng(3)
    d, n, p = 30, 6, 200_000
    X = rng.standard_normal((n, d))
    X[1] = 0.6 * X[0] + 0.4 * X[1]  # one strongly correlated pair
    X *= np.sqrt(d) / np.linalg.norm(X, axis=1, keepdims=True)
    if not unit_norms:
        X *= np.array([0.5, 0.8, 1.0, 1.3, 1.7, 2.0])[:, None]
    Phi = random_features(X, random_feature_matrix(p, d, rng), activation)
    products = Phi[:, None, :] * Phi[None, :, :]
    estimate, stderr = products.mean(axis=2), products.std(axis=2) / np.sqrt(p)
    K = get_kernel(activation).matrix(X) if callable(activation) else ActivationKernel(activation).matrix(X)
    random = stderr > 0  # sign^2 = 1: the diagonal has no Monte Carlo error at all
    assert np.max(np.abs(K - estimate)[random] / stderr[random]) < 4.0
    np.testing.assert_allclose(K[~random], estimate[~random], rtol=1e-12)


def gauss_hermite_2d(sigma, c, nodes=120):
    """E[sigma(u) sigma(v)], (u, v) unit Gaussians with correlation c, by a tensor Gauss-Hermite rule
    (exponentially accurate for analytic sigma such as tanh: ~1e-13 at 120 nodes)."""
    x, w = hermegauss(nodes)
    w = w / np.sqrt(2 * np.pi)
    U, Z = np.meshgrid(x, x, indexing="ij")
    return float(np.sum(np.outer(w, w) * sigma(U) * sigma(c * U + np.sqrt(1 - c * c) * Z)))


@pytest.mark.parametrize("activation", ["tanh", smooth_shifted])
def test_hermite_series_kernel_against_2d_quadrature(activation):
    cosines = [-0.99, -0.6, -0.1, 0.0, 0.25, 0.7, 0.95, 0.999, 1.0]
    kernel = ActivationKernel(activation)
    sigma = ACTIVATIONS[activation] if isinstance(activation, str) else activation
    ref = [gauss_hermite_2d(sigma, c) for c in cosines]
    np.testing.assert_allclose(k_of_t(kernel, cosines), ref, rtol=0, atol=1e-9)  # measured ~4e-13
    assert kernel.series_rest < 1e-10


def test_hermite_series_of_a_kinked_callable():
    """A ReLU given as a callable goes through the Hermite series: exact where the proportional
    regime puts the entries (|cos| ~ d^{-1/2}) and on the diagonal, within ``series_rest`` (what the
    truncated series leaves, ~5e-6) for nearly parallel inputs."""
    kernel = get_kernel(lambda x: np.maximum(x, 0.0))
    X = np.random.default_rng(4).standard_normal((100, 500))
    X *= np.sqrt(500) / np.linalg.norm(X, axis=1, keepdims=True)
    np.testing.assert_allclose(kernel.matrix(X), ArcCosKernel().matrix(X), rtol=0, atol=1e-12)
    rest = kernel.series_rest
    assert 0 < rest < 1e-5
    near = [0.9, 0.99, 0.999]
    diff = np.abs(k_of_t(kernel, near) - k_of_t(ArcCosKernel(), near))
    assert np.all(diff <= rest) and diff[-1] > 1e-9  # the bound holds, and is not vacuous


def test_closed_form_activation_kernels_at_prescribed_correlations():
    c = np.array([-0.9, -0.3, 0.0, 0.4, 0.99])
    np.testing.assert_allclose(k_of_t(ActivationKernel("sign"), c), 2 / np.pi * np.arcsin(c), atol=1e-13)
    np.testing.assert_allclose(k_of_t(ActivationKernel("erf"), c), 2 / np.pi * np.arcsin(2 * c / 3), atol=1e-13)
    np.testing.assert_allclose(k_of_t(ActivationKernel("erf"), c), [gauss_hermite_2d(ACTIVATIONS["erf"], t) for t in c],
                               atol=1e-10)


# --- construction and bad input ------------------------------------------------------------------


def test_get_kernel_accepts_names_objects_and_callables():
    assert set(KERNELS) >= {"linear", "polynomial", "rbf", "arccos", "activation"}
    assert get_kernel("activation:tanh").name == "activation:tanh"
    assert get_kernel("activation", activation="erf").name == "activation:erf"
    k = get_kernel("polynomial", degree=3)
    assert get_kernel(k) is k and (k.degree, k.coef0) == (3, 1.0)
    assert repr(k) == "PolynomialKernel(degree=3, coef0=1.0)"
    assert isinstance(get_kernel(np.tanh), ActivationKernel) and get_kernel(np.tanh).name == "activation:tanh"
    X = np.random.default_rng(5).standard_normal((5, 20))
    np.testing.assert_allclose(get_kernel(np.tanh).matrix(X), get_kernel("activation:tanh").matrix(X), atol=1e-10)


def test_bad_kernels_and_parameters():
    with pytest.raises(ValueError, match="unknown kernel 'foo'; choose one of linear, polynomial"):
        get_kernel("foo")
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        get_kernel("activation:swish")
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="degree must be an integer >= 1"):
            get_kernel("polynomial", degree=bad)
    with pytest.raises(ValueError, match="coef0 must be finite and >= 0"):
        get_kernel("polynomial", coef0=-1.0)
    for bad in (0.0, -1.0, np.inf, np.nan):
        with pytest.raises(ValueError, match="gamma must be finite and > 0"):
            get_kernel("rbf", gamma=bad)
    with pytest.raises(ValueError, match="takes no parameter"):
        get_kernel("arccos", degree=2)
    with pytest.raises(ValueError, match="apply to kernel names only"):
        get_kernel(np.tanh, gamma=1.0)
    with pytest.raises(ValueError, match="diverges"):
        get_kernel(lambda x: np.exp(x**2))
    with pytest.raises(ValueError, match="same number of columns"):
        get_kernel("arccos").matrix(np.ones((3, 4)), np.ones((2, 5)))
    with pytest.raises(ValueError, match="2-d array"):
        get_kernel("rbf").matrix(np.ones(4))
    with pytest.raises(ValueError, match="finite"):
        get_kernel("linear").matrix(np.array([[1.0, np.nan]]))


class ConstantMinusLinear(Kernel):
    """k(t) = 1 - t: not positive definite (negative k'(0))."""

    name = "one-minus-t"

    def matrix(self, X, Y=None):
        return 1.0 - get_kernel("linear").matrix(X, Y)

    def linearization(self):
        return KernelLinearization(1.0, -1.0, 0.0)


class Overflowing(ConstantMinusLinear):
    def linearization(self):
        return KernelLinearization(1.0, np.inf, 0.0)


def test_moments_refuse_kernels_that_are_not_positive_definite():
    with pytest.raises(ValueError, match="not positive definite in the proportional regime"):
        ConstantMinusLinear().moments()
    with pytest.raises(ValueError, match="not finite"):
        Overflowing().moments()
    assert get_kernel(ConstantMinusLinear()).name == "one-minus-t"


def test_sign_kernel_is_accurate_for_nearly_parallel_inputs():
    """(2/pi) arcsin(cos th) = 1 - 2 th / pi has infinite slope at th = 0, pi: arccos of a rounded
    cosine would be off by ~1e-8 there (and a row against itself, in a cross matrix, by as much)."""
    theta = np.array([1e-9, 1e-6, 1e-3, np.pi - 1e-6])
    d = 16
    X = np.zeros((1, d))
    X[0, 0] = 4.0
    Y = 4.0 * np.column_stack([np.cos(theta), np.sin(theta), np.zeros((4, d - 2))])
    np.testing.assert_allclose(ActivationKernel("sign").matrix(X, Y)[0], 1 - 2 * theta / np.pi, rtol=0, atol=1e-13)
    Z = np.random.default_rng(6).standard_normal((50, 30))
    np.testing.assert_allclose(np.diag(ActivationKernel("sign").matrix(Z, Z.copy())), 1.0, rtol=0, atol=1e-14)

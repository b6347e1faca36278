"""Real-data rules and facts: the kernel path against scikit-learn, the z-scoring, the median
bandwidth, the protocol's bookkeeping, and the paper's claim on digits (the RBF kernel stores the
facts that the linear learner cannot, at each one's best generalization)."""

import itertools

import numpy as np
import pytest
from scipy import linalg
from sklearn.kernel_ridge import KernelRidge
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.svm import SVC

import raflab.raf.learners.kernel_erm as kernels_module
from raflab.raf.experiments.realdata import (
    ImagePools,
    draw_split,
    fit_scores_path,
    load_pools,
    median_rbf_gamma,
    realdata_experiment,
    zscore,
)
from raflab.raf.kernel_functions import get_kernel


@pytest.fixture(scope="module")
def digits_split():
    pools = load_pools("digits", (3, 5), (1,))
    return draw_split(pools, alpha=1.5, eps=0.2, seed=0)  # n = 96, d = 64


def test_median_bandwidth_convention(digits_split):
    """gamma = 1 / (2 s^2), s^2 = median over pairs of squared distances; raflab's RBF at d gamma is
    scikit-learn's rbf_kernel at gamma."""
    X = digits_split.X
    sq = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)[np.triu_indices(len(X), 1)]
    gamma = median_rbf_gamma(X)
    assert gamma == pytest.approx(1 / (2 * np.median(sq)), rel=1e-12)
    K = get_kernel("rbf", gamma=gamma * X.shape[1]).matrix(X)
    np.testing.assert_allclose(K, rbf_kernel(X, gamma=gamma), rtol=1e-10, atol=1e-13)
    # half the pairs lie beyond the median distance: K <= exp(-1/2) there
    assert np.mean(K[np.triu_indices(len(X), 1)] <= np.exp(-0.5) + 1e-12) == pytest.approx(0.5, abs=0.01)


def test_kernel_ridge_path_is_sklearn_kernel_ridge_from_one_eigendecomposition(digits_split, monkeypatch):
    """raflab: sum (y - f)^2 / 2 + (lam / 2) |f|_H^2 = J; KernelRidge(alpha) minimizes
    |y - f|^2 + alpha |f|_H^2 = 2 J at alpha = lam: the same f, train and test (measured ~1e-13)."""
    X, X_test, y = digits_split.X, digits_split.X_test, digits_split.y
    gamma = median_rbf_gamma(X)
    K, K_test = rbf_kernel(X, gamma=gamma), rbf_kernel(X_test, X, gamma=gamma)
    calls = []
    eigh = linalg.eigh
    monkeypatch.setattr(kernels_module.linalg, "eigh", lambda *a, **k: calls.append(1) or eigh(*a, **k))
    lams = [1e-3, 0.1, 10.0]
    path = fit_scores_path(K, K_test, y, "square", lams)
    assert len(calls) == 1  # one eigendecomposition for the whole path
    for lam, (train, test) in zip(lams, path):
        ref = KernelRidge(alpha=lam, kernel="precomputed").fit(K, y)
        np.testing.assert_allclose(train, ref.predict(K), rtol=1e-8, atol=1e-9)
        np.testing.assert_allclose(test, ref.predict(K_test), rtol=1e-8, atol=1e-9)
    # the path is not flat: a wrong lam scaling (e.g. KernelRidge(alpha=2 lam)) would be caught
    ref2 = KernelRidge(alpha=2 * 0.1, kernel="precomputed").fit(K, y)
    assert np.abs(path[1][1] - ref2.predict(K_test)).max() > 1e-3


def test_svm_path_is_sklearn_svc_once_the_intercept_is_freed(digits_split):
    """SVC(kernel='precomputed', C = 1/lam) minimizes J / lam with a free intercept b. On K + B 11^T
    raflab's intercept-free SVM has an intercept penalized by lam b^2 / (2B): its scores approach
    SVC's as 1/B, so the Richardson extrapolation 2 f_2B - f_B must match SVC far better than f_B,
    and the training predictions must agree in sign."""
    X, X_test, y = digits_split.X, digits_split.X_test, digits_split.y
    gamma, lam = median_rbf_gamma(X), 0.5
    K, K_test = rbf_kernel(X, gamma=gamma), rbf_kernel(X_test, X, gamma=gamma)
    svc = SVC(kernel="precomputed", C=1 / lam, tol=1e-10).fit(K, y)
    ref = np.concatenate([svc.decision_function(K), svc.decision_function(K_test)])
    f = {B: np.concatenate(fit_scores_path(K + B, K_test + B, y, "hinge", [lam])[0]) for B in (50.0, 100.0)}
    gap = np.abs(f[100.0] - ref).max()
    extrapolated = np.abs(2 * f[100.0] - f[50.0] - ref).max()
    assert gap < 2e-2 and extrapolated < 1e-4 and extrapolated < gap / 20
    np.testing.assert_array_equal(np.sign(f[100.0][:len(y)]), np.sign(svc.decision_function(K)))


def test_zscoring_uses_training_statistics_only():
    """Test images shifted by +5 (pixels in [5, 6]): training statistics leave them far from 0,
    test or pooled statistics would centre them."""
    rng = np.random.default_rng(0)
    train = tuple(rng.random((60, 16)) * (c + 1) / 2 for c in range(2))
    test = tuple(t[:20] + 5.0 for t in train)
    pools = ImagePools("toy", (0, 1), (2,), train, test, rng.random((30, 16)))
    split = draw_split(pools, alpha=3, eps=0.25, seed=1)  # n = 48: 36 rule images, 12 facts
    assert split.X.shape == (48, 16) and split.is_fact.sum() == 12
    np.testing.assert_allclose(split.X.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(split.X.std(axis=0), 1, atol=1e-12)
    raw_test = np.concatenate(test)
    np.testing.assert_allclose(split.X_test, (raw_test - split.mean) / split.scale, atol=1e-12)
    assert np.all(split.mean < 1.0)  # a mean of training pixels, not one that saw the test images
    assert split.X_test.mean() > 5.0  # test-set statistics would give 0 here
    # the same map as zscore(train rows, test rows)
    Xz, (Tz,), mean, scale = zscore(split.X * split.scale + split.mean, raw_test)
    np.testing.assert_allclose(Tz, split.X_test, atol=1e-10)


def test_protocol_bookkeeping():
    """n = round(alpha d), round(eps n) facts from the fact class with balanced random labels, rule
    labels +1 / -1 for the first / second class; the digits holdout is disjoint from the training set."""
    pools = load_pools("digits", (3, 5), (1,))
    split = draw_split(pools, alpha=2, eps=0.25, seed=3)
    assert len(split.y) == 128 and split.is_fact.sum() == 32
    def rows(images):  # digits pixels are k / 16: exact keys once multiplied back
        return [tuple(np.rint(r * 16).astype(int)) for r in images]

    raw = rows(split.X * split.scale + split.mean)
    assert all(r in set(rows(pools.fact_train)) for r, f in zip(raw, split.is_fact) if f)
    threes = set(rows(pools.rule_train[0]))
    rule_rows = [r for r, f in zip(raw, split.is_fact) if not f]
    assert all((r in threes) == (label == 1) for r, label in zip(rule_rows, split.y[~split.is_fact]))
    assert 8 <= (split.y[split.is_fact] == 1).sum() <= 24
    assert not set(rows(split.X_test * split.scale + split.mean)) & set(rule_rows)
    assert len(split.y_test) == round(0.3 * 183) + round(0.3 * 182)
    # another seed redraws which images are facts and their labels
    other = draw_split(pools, alpha=2, eps=0.25, seed=4)
    assert not np.array_equal(other.y, split.y)


def test_not_enough_images_says_how_many():
    with pytest.raises(ValueError, match="has only 255 of classes 3,5 available for training"):
        realdata_experiment("digits", (3, 5), (1,), alpha=5, eps=0.2, lam=1.0, seeds=1)
    with pytest.raises(ValueError, match="fact images .* has only 182 of class"):
        realdata_experiment("digits", (3, 5), (1,), alpha=4, eps=0.8, lam=1.0, seeds=1)


def _best_gen_fact_errors(df):
    """(gen error, fact memorization error) of each learner at the lam minimizing its gen error."""
    out = {}
    for kernel, part in df.groupby("kernel"):
        best = part.loc[part["gen_error"].idxmin()]
        out[kernel] = (best["gen_error"], best["fact_memorization_error"], best["lam"])
    return out


def test_rbf_stores_facts_the_linear_learner_cannot_at_best_generalization():
    """Digits 3 vs 5, facts = 1s, alpha = 3, eps = 0.2 (n = 192, 38 facts), 5 seeds: at its
    gen-optimal lam the RBF kernel misclassifies ~2% of the facts, the linear learner ~27%
    (measured 0.021 vs 0.274), while both generalize to within ~1%."""
    df = realdata_experiment("digits", (3, 5), (1,), alpha=3, eps=0.2, lam=np.geomspace(1e-4, 1e2, 13),
                             seeds=5, seed=0)
    best = _best_gen_fact_errors(df)
    (g_rbf, f_rbf, _), (g_lin, f_lin, _) = best["rbf"], best["linear"]
    assert f_rbf + 0.15 < f_lin
    assert g_rbf < 0.03 and g_lin < 0.03


@pytest.mark.slow
def test_rbf_stores_facts_across_pairs_losses_and_alphas():
    """24 settings (rules 3-5, 3-8, 2-3; square and hinge; alpha = 1..4; eps = 0.2; 8 seeds each).
    The gen errors are ~1% on ~110 held-out images, so the gen-optimal lam of one setting is noisy
    and the gap can vanish there (measured: RBF lower in 22 of 24, equal in 1, 0.03 higher in 1,
    mean gap 0.12); asserted on the whole set: lower in >= 20 of 24, mean gap > 0.07."""
    gaps = []
    for rule, loss, alpha in itertools.product([(3, 5), (3, 8), (2, 3)], ["square", "hinge"], [1, 2, 3, 4]):
        df = realdata_experiment("digits", rule, (1,), alpha=alpha, eps=0.2, lam=np.geomspace(1e-4, 1e2, 13),
                                 loss=loss, seeds=8, seed=10)
        best = _best_gen_fact_errors(df)
        gaps.append(best["linear"][1] - best["rbf"][1])
    gaps = np.array(gaps)
    assert (gaps > 0).sum() >= 20 and gaps.mean() > 0.07

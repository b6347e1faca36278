"""raflab.memory.associative: Hopfield recall against the AGS theory, the dense AM and its attractors."""

import numpy as np
import pytest

from raflab.memory.associative import (
    DenseAM,
    HopfieldNetwork,
    attractor_counts,
    dense_binary_flip_fraction,
    label_fixed_points,
    simulate_hopfield,
)
from raflab.memory.hopfield_theory import (
    dense_am_capacity_exponential,
    dense_am_capacity_polynomial,
    dense_am_flip_probability,
    ring_radius,
)
from raflab.memory.toy_data import ring_points

# -- classical Hopfield -------------------------------------------------------------------------

def test_simulated_overlap_within_3_stderr_of_theory_below_capacity():
    df = simulate_hopfield([0.08, 0.1], n=1000, seeds=5, seed=0, device="cpu")
    assert (df["overlap_stderr"] > 0).all()  # both loads make errors: the comparison has teeth
    z = (df["overlap"] - df["overlap_theory"]) / df["overlap_stderr"]
    assert np.all(np.abs(z) < 3), df
    assert df["retrieval_theory"].all()


def test_overlap_collapses_above_capacity():
    df = simulate_hopfield([0.2], n=1000, seeds=2, seed=0, starts=20, device="cpu")
    assert not df["retrieval_theory"].iloc[0]  # no retrieval solution at 0.2 > alpha_c
    # far below the retrieval branch, whose smallest value (at alpha_c) is 0.967
    assert df["overlap"].iloc[0] + 3 * df["overlap_stderr"].iloc[0] < 0.6


@pytest.mark.parametrize("backend", ["auto", "torch"])
def test_recall_stops_on_a_fixed_point_with_lower_energy(backend):
    rng = np.random.default_rng(3)
    xi = rng.choice([-1.0, 1.0], size=(60, 300))  # alpha = 0.2: many flips
    net = HopfieldNetwork(device="cpu", backend=backend).fit(xi)
    noisy = xi[:10] * np.where(rng.random((10, 300)) < 0.1, -1.0, 1.0)
    final, flips = net.recall(noisy, rng)
    W = xi.T @ xi
    np.fill_diagonal(W, 0)
    assert np.all((final @ W) * final >= 0)  # every spin aligned with its field (ties kept)
    assert np.all(net.energy(final) < net.energy(noisy)) and np.all(flips > 0)
    # each flip lowers the energy: at least as many flips as the Hamming distance moved
    assert np.all(flips >= np.sum(final != noisy, axis=1))


def test_low_load_recall_is_perfect_and_tie_keeps_the_spin():
    xi = np.random.default_rng(0).choice([-1.0, 1.0], size=(3, 400))
    net = HopfieldNetwork(device="cpu").fit(xi)
    final, flips = net.recall(xi, np.random.default_rng(1))
    assert np.all(final == xi) and np.all(flips == 0)
    # two orthogonal patterns with N = 2: every field is 0, nothing moves
    net2 = HopfieldNetwork(device="cpu").fit([[1.0, 1.0], [1.0, -1.0]])
    assert np.all(net2.recall([[1.0, -1.0]], np.random.default_rng(0))[0] == [[1.0, -1.0]])


def test_hopfield_bad_input():
    with pytest.raises(ValueError, match="entries \\+1 or -1"):
        HopfieldNetwork(device="cpu").fit([[1.0, 0.5]])
    with pytest.raises(ValueError, match="alpha must be > 0"):
        simulate_hopfield([0.0], n=100, device="cpu")
    with pytest.raises(ValueError, match="n must be >= 2"):
        simulate_hopfield([0.1], n=1, device="cpu")


# -- binary dense AM capacity -------------------------------------------------------------------

@pytest.mark.parametrize("n, N", [(2, 400), (3, 100)])
def test_polynomial_flip_rate_matches_the_prediction(n, N):
    K = int(round(float(dense_am_capacity_polynomial(N, n, "error_rate", error_rate=0.02))))
    rng = np.random.default_rng(n)
    xi = rng.choice([-1.0, 1.0], size=(K, N))
    C = min(K, 120)
    measured = dense_binary_flip_fraction(xi, n=n, cues=xi[:C], targets=xi[:C]).mean()
    assert measured == pytest.approx(float(dense_am_flip_probability(N, K, n, exact=True)), rel=0.25)
    assert measured == pytest.approx(0.02, rel=0.3)
    # a quarter of the patterns: the errors all but vanish (Phi(-2 z) ~ 2e-5)
    few = dense_binary_flip_fraction(xi[: K // 4], n=n).mean()
    assert few < 0.002


def test_exponential_memory_retrieves_below_and_fails_above_its_exponents():
    N, rho = 30, 0.2
    rng = np.random.default_rng(0)

    def success(K):
        xi = rng.choice([-1.0, 1.0], size=(K, N))
        C = min(K, 30)
        cues = xi[:C].copy()
        for c in range(C):
            cues[c, rng.choice(N, int(rho * N), replace=False)] *= -1
        return np.mean(dense_binary_flip_fraction(xi, cues=cues, targets=xi[:C], separation="exponential") == 0)

    a_all, a_typ = float(dense_am_capacity_exponential(rho, "all")), float(dense_am_capacity_exponential(rho, "typical"))
    assert success(int(np.exp(0.5 * a_all * N))) == 1.0  # every cue with 6 flipped bits comes back
    assert success(int(np.exp(1.5 * a_typ * N))) < 0.2  # other memories are closer than the target


# -- dense (modern) Hopfield network ------------------------------------------------------------

def _equally_spaced_ring(K):
    theta = 2 * np.pi * np.arange(K) / K
    return np.stack([np.cos(theta), np.sin(theta)], axis=1)


@pytest.mark.parametrize("beta", [2.0, 5.0, 20.0])
def test_dense_am_fixed_point_on_a_dense_ring_is_R_star(beta):
    am = DenseAM(beta, device="cpu").fit(_equally_spaced_ring(4096))
    x, ok, _ = am.run(np.random.default_rng(0).normal(size=(6, 2)), tol=1e-13)
    assert ok.all()
    assert np.allclose(np.linalg.norm(x, axis=1), ring_radius(beta)[0], atol=1e-9)


def test_dense_am_on_randomly_sampled_ring_data():
    am = DenseAM(20.0, device="cpu").fit(ring_points(20_000, np.random.default_rng(0)))
    x, ok, _ = am.run(np.random.default_rng(1).normal(size=(6, 2)), tol=1e-10)
    assert ok.all()
    # sampling fluctuations of the smoothed density move the radius by ~1e-3, not the 1/(4 beta) = 0.0125
    assert np.allclose(np.linalg.norm(x, axis=1), ring_radius(20.0)[0], atol=2e-3)


def test_update_descends_the_energy_and_dot_equals_distance_at_half_beta():
    X = ring_points(50, np.random.default_rng(0))
    am = DenseAM(8.0, device="cpu").fit(X)
    x = np.random.default_rng(1).normal(size=(20, 2))
    energies = [am.energy(x)]
    for _ in range(30):
        x = am.update(x)
        energies.append(am.energy(x))
    assert np.all(np.diff(np.array(energies), axis=0) <= 1e-12)
    # unit-norm patterns: softmax(-beta |x - xi|^2) = softmax(2 beta xi . x)
    dot = DenseAM(16.0, similarity="dot", device="cpu").fit(X)
    assert np.allclose(am.update(x), dot.update(x), atol=1e-12)
    torch_am = DenseAM(8.0, device="cpu", backend="torch").fit(X)
    assert np.allclose(am.update(x), torch_am.update(x), atol=1e-12)
    assert np.allclose(am.energy(x), torch_am.energy(x), atol=1e-12)


def test_curvature_tells_minima_from_saddles():
    X = np.array([[1.0, 0.0], [-1.0, 0.0]])
    am = DenseAM(20.0, device="cpu").fit(X)
    assert np.all(am.curvature(X) < 1e-6)  # a memory, far from the other: flat weights
    assert am.curvature([[0.0, 0.0]])[0] == pytest.approx(2 * 20.0 * 1.0)  # midpoint: Cov = 1 along x
    # the flat direction of the continuous ring counts as stable (curvature 1)
    ring = DenseAM(20.0, device="cpu").fit(_equally_spaced_ring(4096))
    x, _, _ = ring.run([[0.5, 0.2]], tol=1e-13)
    assert ring.curvature(x)[0] == pytest.approx(1.0, abs=1e-6)


def test_labelling_rule_on_constructed_points():
    X = np.array([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0], [0.0, 3.1]])
    lab = label_fixed_points(X, [[3.0, 0.001], [0.0, 3.05], [0.0, 1.6], [2.0, 2.0], [0.0, 3.0005]])
    assert lab["kind"].tolist() == ["stored", "spurious", "mean", "spurious", "stored"]
    # the tolerance of the pair is set by their spacing 0.1: 0.02 away from a memory is no longer it
    assert label_fixed_points(X, [[0.0, 3.02]])["kind"].iloc[0] == "spurious"
    assert label_fixed_points(X, [[3.02, 0.0]])["kind"].iloc[0] == "stored"  # isolated: scale-limited


def test_attractors_of_a_constructed_memory():
    # two isolated memories and a pair closer (0.1) than the kernel width 1/sqrt(2 beta) = 0.16
    X = np.array([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0], [0.0, 3.1]])
    att = DenseAM(20.0, device="cpu").fit(X).attractors(n_starts=64, rng=np.random.default_rng(0))
    kinds = att.sort_values("x0")["kind"].tolist()
    assert kinds == ["stored", "spurious", "stored"]
    pair = att[att["kind"] == "spurious"]
    assert np.allclose(pair[["x0", "x1"]].to_numpy(), [[0.0, 3.05]], atol=1e-6)  # the pair's mixture
    assert att["count"].sum() == 64 and att.attrs["unconverged"] == 0
    # hot memory (beta = 0.01): one attractor, the global mean
    hot = attractor_counts(X, 0.01, n_starts=32, rng=np.random.default_rng(0), device="cpu")
    assert (hot["n_mean"], hot["n_stored"], hot["n_spurious"], hot["fraction_mean"]) == (1, 0, 0, 1.0)


def test_ring_attractors_go_from_stored_to_spurious_with_K():
    rng = np.random.default_rng(0)
    few = attractor_counts(_equally_spaced_ring(6), 20.0, n_starts=64, rng=rng, device="cpu")
    assert (few["n_stored"], few["n_spurious"]) == (6, 0)  # spacing 1 >> kernel width 0.16
    many = attractor_counts(_equally_spaced_ring(64), 20.0, n_starts=64, rng=rng, device="cpu")
    assert many["n_stored"] == 0 and many["fraction_spurious"] == 1.0  # spacing 0.098 < 0.16


def test_dense_am_bad_input():
    with pytest.raises(ValueError, match="beta must be > 0"):
        DenseAM(0.0, device="cpu").fit([[1.0, 0.0]])
    with pytest.raises(ValueError, match="unknown similarity"):
        DenseAM(1.0, similarity="cosine", device="cpu").fit([[1.0, 0.0]])


def test_docstring_examples_run():
    import doctest

    import raflab.memory.associative as assoc
    import raflab.memory.hopfield_theory as theory

    for module in (assoc, theory):
        assert doctest.testmod(module).failed == 0

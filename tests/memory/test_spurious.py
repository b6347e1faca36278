"""Spurious states as attractors: fixed points of the flow map, return basins, the manifold labels."""

import numpy as np
import pytest
import torch
from scipy.stats import norm

from raflab.memory.diffusion import ExactDenoiser, VESchedule, VPSchedule, exact_denoiser
from raflab.memory.experiments import training_points
from raflab.memory.spurious import (
    Manifold,
    attractor_counts_with_manifold,
    basin_radius,
    check_attractors,
    held_out_manifold,
    held_out_points,
    label_with_manifold,
    ring_manifold,
    return_basin,
    sigma_to_t,
)
from raflab.memory.toy_data import ring_points


def _ring(K=9, seed=0):
    return torch.as_tensor(ring_points(K, np.random.default_rng(seed)))


def test_exact_fixed_points_at_small_noise_are_training_points():
    # K = 9 ring points (smallest gap 0.05 here), sigma = 0.005: iterating D*(x) = x from 300 starts in
    # [-1.5, 1.5]^2 ends on a training point every time (the mixtures between memories are saddles)
    train = _ring()
    x = 3 * torch.rand(300, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64) - 1.5
    for _ in range(200):
        x = exact_denoiser(x, train, 1.0, 0.005)
    # (differences, not torch.cdist: its matrix-product form rounds a zero distance to sqrt(eps) = 1.5e-8)
    assert float(torch.linalg.vector_norm(x[:, None] - train[None], dim=2).min(1).values.max()) < 1e-9
    # and the check agrees: every one is a fixed point and a training point, none confirmed spurious
    check = check_attractors(ExactDenoiser(train), VESchedule(), x, train, ring_manifold(), sigma0=0.02)
    assert check["fixed"].all() and check["memorized"].all() and not check["confirmed"].any()


def test_perturbed_midpoint_is_not_an_attractor_of_the_exact_score():
    # the chord midpoint of two neighbouring memories, moved 1e-3 towards one: the flow map at
    # sigma0 = 0.02 carries it onto that memory, so the spurious label would not be confirmed
    train = _ring()
    order = torch.argsort(torch.atan2(train[:, 1], train[:, 0]))
    a, b = train[order[0]], train[order[1]]
    mid = ((a + b) / 2 + 1e-3 * (a - b) / torch.linalg.vector_norm(a - b))[None]
    check = check_attractors(ExactDenoiser(train), VESchedule(), mid, train, ring_manifold(), sigma0=0.02)
    assert not check["fixed"].iloc[0] and check["memorized"].iloc[0] and not check["confirmed"].iloc[0]
    assert check["displacement"].iloc[0] > 0.9  # it travelled (almost) its whole distance to the memory


def test_constructed_spurious_state_is_confirmed_and_its_basin_matches_theory():
    # an empirical denoiser over the training points (1, 0), (-1, 0) plus a planted memory at (0, -0.5)
    # (off the circle, not a training point): the planted point is an exact attractor
    train = torch.tensor([[1.0, 0.0], [-1.0, 0.0]], dtype=torch.float64)
    planted = torch.tensor([[0.0, -0.5]], dtype=torch.float64)
    denoiser, sched = ExactDenoiser(torch.cat([train, planted])), VESchedule()
    check = check_attractors(denoiser, sched, planted + 1e-4, train, ring_manifold(), sigma0=0.02)
    row = check.iloc[0]
    assert row["fixed"] and not row["memorized"] and not row["on_manifold"] and row["confirmed"]
    assert row["residual"] < 1e-6 and row["manifold_distance"] == pytest.approx(0.5, abs=1e-3)
    # its basin, measured as for a training point: with only (1, 0) and the planted point the flow ends on
    # the side of the bisector the noised point is on, so the return probability is Phi(d / (2 sigma))
    pair = torch.cat([train[:1], planted])
    d = float(torch.linalg.vector_norm(pair[0] - pair[1]))
    sigmas = np.arange(0.3, 1.0, 0.05)
    t_grid = [sigma_to_t(sched, s) for s in sigmas]
    gen = torch.Generator().manual_seed(0)
    out = return_basin(ExactDenoiser(pair), sched, pair, basin_radius(pair, pair), gen, t_grid, trials=1000, steps=30)
    theory = norm.cdf(d / (2 * sigmas))
    for row_recovery in out["recovery"].numpy():  # both points, the planted one and the training one
        np.testing.assert_allclose(row_recovery, theory, atol=0.04)
    # the critical sigma is d / (2 Phi^-1(0.9)) = 0.436; on the 0.05 grid, with 1000 trials (s.d. 0.0095 at
    # p = 0.9), any grid value whose own probability is >= 0.9 - 3 s.d. and whose successor's is <= 0.9 + 3 s.d.
    # can be measured: here 0.35, 0.40 or 0.45
    band = 3 * np.sqrt(0.09 / 1000)
    allowed = [s for s, p, p_next in zip(sigmas, theory, np.append(theory[1:], 0)) if p >= 0.9 - band and p_next <= 0.9 + band]
    assert min(allowed) <= d / (2 * norm.ppf(0.9)) <= max(allowed) + 0.05
    for crit in out["critical_sigma"].numpy():
        assert np.isclose(crit, allowed).any(), (crit, allowed)


def test_sigma_to_t_inverts_both_schedules():
    for sched in (VESchedule(sigma_max=3.0), VPSchedule()):
        for sigma in (0.01, 0.3, 2.0):
            a, s = sched.alpha_sigma(torch.tensor([sigma_to_t(sched, sigma)], dtype=torch.float64))
            assert float(s / a) == pytest.approx(sigma, rel=1e-9)
    with pytest.raises(ValueError, match="sigma0"):
        sigma_to_t(VESchedule(sigma_max=3.0), 5.0)


def test_label_with_manifold_on_constructed_points():
    kinds = ["stored", "spurious", "spurious", "mean"]
    points = [[1.0, 0.0], [0.7, 0.7], [0.3, 0.3], [0.0, 0.0]]
    assert label_with_manifold(kinds, points, ring_manifold()).tolist() == ["stored", "generalized", "spurious", "mean"]


def test_dense_am_counts_with_a_manifold_tiny_case():
    # memories (+-3, 0), (0, 3), (0, 3.1) at beta = 20: two stored attractors and one mixture at (0, 3.05)
    # (the pair is closer than the kernel width 0.16); it is generalized when the manifold is the line
    # y = 3 (distance 0.05 <= 0.1), spurious when the manifold is the x axis
    X = np.array([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0], [0.0, 3.1]])
    line = Manifold("y = 3", lambda x: (torch.as_tensor(x)[:, 1] - 3).abs(), 0.1)
    axis = Manifold("x axis", lambda x: torch.as_tensor(x)[:, 1].abs(), 0.1)
    on = attractor_counts_with_manifold(X, 20.0, line, n_starts=64, rng=np.random.default_rng(0), device="cpu")
    off = attractor_counts_with_manifold(X, 20.0, axis, n_starts=64, rng=np.random.default_rng(0), device="cpu")
    assert (on["n_stored"], on["n_spurious"], on["n_generalized"], on["n_mean"]) == (2, 0, 1, 0)
    assert (off["n_stored"], off["n_spurious"], off["n_generalized"], off["n_mean"]) == (2, 1, 0, 0)
    assert 0 < on["curvature_nonstored"] < 1 and on["curvature_nonstored"] == off["curvature_nonstored"]
    assert sum(on[f"fraction_{k}"] for k in ("stored", "spurious", "generalized", "mean")) == pytest.approx(1.0)


def test_held_out_digits_complement_the_training_set_and_calibrate_the_tolerance():
    # K = 300 training digits; the other 1497 are the held-out manifold. Training digits are exchangeable
    # with held-out ones, so ~95 % of them lie within the 95th-percentile tolerance (binomial s.d. 0.013
    # at n = 300; tolerance +-0.04, 3 s.d.)
    train, _ = training_points("digits", 300, seed=0)
    held = held_out_points("digits", 300, seed=0)
    assert len(held) == 1797 - 300
    manifold = held_out_manifold(held)
    assert float(manifold.on(train).double().mean()) == pytest.approx(0.95, abs=0.04)
    with pytest.raises(ValueError, match="held-out"):
        held_out_points("digits", 1797, seed=0)


def test_ring_manifold_and_bad_input():
    m = ring_manifold()
    assert m.distance(torch.tensor([[2.0, 0.0], [0.0, 0.98]])).tolist() == pytest.approx([1.0, 0.02])
    with pytest.raises(ValueError, match="tolerance"):
        ring_manifold(0.0)
    with pytest.raises(ValueError, match="ratio"):
        check_attractors(ExactDenoiser(_ring()), VESchedule(), _ring()[:2], _ring(), None, 0.02, ratio=2.0)
    # no spurious samples: an empty table, not an error
    assert len(check_attractors(ExactDenoiser(_ring()), VESchedule(), torch.zeros(0, 2, dtype=torch.float64),
                                _ring(), None, 0.02)) == 0


@pytest.mark.slow
def test_trained_digits_network_has_fixed_spurious_points_on_the_manifold_at_K_8():
    # the size of the phase figure's spurious bump on digits (MLP width 256, 3000 steps, K = 8, seed 0;
    # measured in docs/figures/spurious_attractors_digits_per_seed.csv: 26 spurious labels, 62 % fixed
    # points of the flow map, all within the held-out manifold's tolerance): fixed, non-training points
    # exist and have a basin, yet none is off the manifold, so none is confirmed
    from raflab.memory.spurious_experiments import spurious_attractors_against_K

    summary, per_seed = spurious_attractors_against_K("digits", [8], seeds=1, steps=3000, width=256, net="mlp",
                                                      basin_points=3, trials=10)
    row = per_seed.iloc[0]
    assert row["checked"] >= 10 and row["fixed_fraction"] > 0.3 and row["distinct_fixed"] > 0
    assert row["basin_fixed"] > 0
    assert row["on_manifold_fraction"] > 0.8 and row["confirmed_fraction"] == 0

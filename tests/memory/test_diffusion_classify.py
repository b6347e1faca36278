"""Memorized / spurious / generalized labels and basin size on constructed cases."""

import numpy as np
import pytest
import torch
from scipy.stats import norm

from raflab.memory.diffusion import ExactDenoiser, VESchedule, basin_size, classify_samples, phase_fractions


def test_constructed_set_memorized_spurious_generalized():
    angles = 2 * np.pi * np.arange(8) / 8
    train = torch.tensor(np.stack([np.cos(angles), np.sin(angles)], 1))
    rng = np.random.default_rng(0)
    memorized = train[[0, 3, 5]] + 1e-3 * torch.tensor(rng.standard_normal((3, 2)))
    # a repeated off-training point (the middle of the arc between memories 0 and 1): an attractor of
    # the sampler that is not a training point
    midpoint = 0.9 * (train[0] + train[1]) / 2
    spurious = midpoint + 1e-4 * torch.tensor(rng.standard_normal((4, 2)))
    generalized = torch.tensor([[0.0, 0.0], [2.0, 2.0], [-1.5, 0.4]])
    labels = classify_samples(torch.cat([memorized, spurious, generalized]), train)
    assert labels["memorized"].tolist() == [True] * 3 + [False] * 7
    assert labels["spurious"].tolist() == [False] * 3 + [True] * 4 + [False] * 3
    assert labels["generalized"].tolist() == [False] * 7 + [True] * 3
    assert labels["nearest"][:3].tolist() == [0, 3, 5]
    fr = phase_fractions(torch.cat([memorized, spurious, generalized]), train)
    assert fr == pytest.approx({"memorized_fraction": 0.3, "spurious_fraction": 0.4, "generalized_fraction": 0.3})


def test_pluggable_distance_changes_the_labels():
    train = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
    x = torch.tensor([[0.0, 1.0], [0.0, 1.0]])
    assert classify_samples(x, train)["memorized"].all()
    # a distance that only sees the first coordinate cannot tell the copies from the training point 0
    first_coord = lambda a, b: torch.cdist(a[:, :1], b[:, :1])  # noqa: E731
    assert classify_samples(x, train, distance=first_coord)["memorized"].all()
    # a distance that only sees the second coordinate: both training points are equally far (ratio 1)
    second = lambda a, b: torch.cdist(a[:, 1:], b[:, 1:])  # noqa: E731
    labels = classify_samples(x, train, distance=second)
    assert not labels["memorized"].any() and labels["spurious"].all()


def test_single_training_point_and_bad_ratio():
    labels = classify_samples(torch.tensor([[0.1, 0.0], [5.0, 5.0]]), torch.tensor([[0.0, 0.0]]))
    assert labels["memorized"].all()  # with K = 1 the second distance is infinite
    with pytest.raises(ValueError, match="ratio"):
        classify_samples(torch.zeros(2, 2), torch.zeros(1, 2), ratio=1.5)


def test_basin_size_of_two_symmetric_memories():
    # memories at (+-1, 0); the exact DDIM flow ends on the memory on the same side of x_1 = 0, so
    # recovery from noise sigma has probability Phi(1 / sigma) >= 0.9 up to sigma_c = 1 / 1.2816
    train = torch.tensor([[1.0, 0.0], [-1.0, 0.0]], dtype=torch.float64)
    sched = VESchedule()
    sigmas = np.arange(0.5, 1.2, 0.05)
    t_grid = np.log(sigmas / sched.sigma_min) / np.log(sched.sigma_max / sched.sigma_min)
    out = basin_size(ExactDenoiser(train), sched, train, train, torch.Generator().manual_seed(0), t_grid=t_grid,
                     trials=1000, steps=30)
    np.testing.assert_allclose(out["recovery"].mean(0).numpy(), norm.cdf(1 / sigmas), atol=0.04)
    np.testing.assert_allclose(out["critical_sigma"].numpy(), 1 / norm.ppf(0.9), atol=0.08)

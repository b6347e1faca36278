"""The exact empirical denoiser and score against independent float64 computations."""

import numpy as np
import pytest
import torch
from scipy.special import logsumexp, softmax
from scipy.stats import norm

from raflab.memory.diffusion import (
    ExactDenoiser,
    VESchedule,
    VPSchedule,
    classify_samples,
    exact_denoiser,
    exact_score,
    sample,
)
from raflab.memory.toy_data import ring_points


def _bayes(x, train, a, s):
    """Posterior mean and log p_t from per-coordinate Gaussian log-likelihoods (scipy), prior 1/K."""
    loglik = norm.logpdf(x[:, None, :], loc=a * train[None], scale=s).sum(-1)  # (n, K)
    weights = softmax(loglik, axis=1)
    return weights @ train, logsumexp(loglik, axis=1) - np.log(len(train))


@pytest.mark.parametrize("a, s", [(1.0, 0.7), (1.0, 0.05), (0.6, 0.8)])
def test_denoiser_is_the_bayes_posterior_mean(a, s):
    rng = np.random.default_rng(0)
    train, x = rng.standard_normal((23, 5)), rng.standard_normal((17, 5))
    expected_mean, expected_logp = _bayes(x, train, a, s)
    # chunk=4 and query_batch=5 exercise the streamed logsumexp across chunks and query batches
    mean, logp = exact_denoiser(torch.tensor(x), torch.tensor(train), a, s, chunk=4, query_batch=5,
                                return_log_density=True)
    np.testing.assert_allclose(mean.numpy(), expected_mean, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(logp.numpy(), expected_logp, rtol=1e-10)


def test_per_query_noise_levels_and_float32():
    rng = np.random.default_rng(1)
    train, x = rng.standard_normal((50, 3)), 2 * rng.standard_normal((8, 3))
    sig = np.linspace(0.2, 2.0, 8)
    got = exact_denoiser(torch.tensor(x), torch.tensor(train), 1.0, torch.tensor(sig))
    for i in range(8):
        np.testing.assert_allclose(got[i].numpy(), _bayes(x[i:i + 1], train, 1.0, sig[i])[0][0], atol=1e-12)
    got32 = exact_denoiser(torch.tensor(x, dtype=torch.float32), torch.tensor(train, dtype=torch.float32), 1.0,
                           torch.tensor(sig, dtype=torch.float32), chunk=7)
    np.testing.assert_allclose(got32.numpy(), got.numpy(), atol=1e-5)


@pytest.mark.parametrize("a, s", [(1.0, 0.3), (0.8, 0.5)])
def test_score_is_the_gradient_of_log_density(a, s):
    rng = np.random.default_rng(2)
    train = torch.tensor(rng.standard_normal((31, 4)))
    x = torch.tensor(rng.standard_normal((9, 4)), requires_grad=True)
    _, logp = exact_denoiser(x, train, a, s, chunk=8, return_log_density=True)
    (grad,) = torch.autograd.grad(logp.sum(), x)
    np.testing.assert_allclose(exact_score(x.detach(), train, a, s).numpy(), grad.numpy(), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("K", [9, 100])
@pytest.mark.parametrize("schedule, method", [(VESchedule(), "ddim"), (VPSchedule(), "em")])
def test_sampling_the_exact_score_memorizes(K, schedule, method):
    train = torch.as_tensor(ring_points(K, np.random.default_rng(K)))
    x = sample(ExactDenoiser(train), schedule, 500, torch.Generator().manual_seed(K), steps=150, method=method,
               dim=2, dtype=torch.float64)
    labels = classify_samples(x, train)
    assert labels["memorized"].double().mean() >= 0.99
    # and the samples land on the training points themselves, not merely nearest to one
    assert float(labels["d_train"].median()) < 1e-4
    # every memory is reachable at K = 9 (with 500 samples)
    if K == 9:
        assert len(set(labels["nearest"].tolist())) == 9


def test_sampler_noise_is_the_forward_marginal_at_t1():
    # with K = 1 the exact DDIM map is x_t -> xi at the end; VP starts from N(0, s_1^2 I) with s_1 ~ 1
    train = torch.tensor([[0.3, -0.2]], dtype=torch.float64)
    x = sample(ExactDenoiser(train), VPSchedule(), 50, torch.Generator().manual_seed(0), steps=20, dim=2,
               dtype=torch.float64)
    np.testing.assert_allclose(x.numpy(), np.repeat(train.numpy(), 50, 0), atol=1e-8)

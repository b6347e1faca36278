import numpy as np
import pytest
from scipy import stats

from raflab.raf.config import RAFConfig
from raflab.raf.data import rule_labels, sample_raf, sample_rule_test_set


def test_exact_fact_count_and_rule_labels():
    cfg = RAFConfig(d=200, alpha=3.0, eps=0.25)
    s = sample_raf(cfg, np.random.default_rng(1))
    assert s.X.shape == (600, 200) and s.n_facts == 150
    rule = ~s.is_fact
    np.testing.assert_array_equal(s.y[rule], np.sign(s.X[rule] @ s.teacher))


def test_fact_labels_are_fair_coins_independent_of_the_rule():
    cfg = RAFConfig(d=50, alpha=200.0, eps=0.5)
    s = sample_raf(cfg, np.random.default_rng(2))
    agree = np.mean(s.y[s.is_fact] == rule_labels(s.X[s.is_fact], s.teacher))
    n = s.n_facts
    # agreement with the rule is Binomial(n, 1/2)/n for coins: within 4 standard deviations of 1/2
    assert abs(agree - 0.5) < 4 * 0.5 / np.sqrt(n)
    assert abs(np.mean(s.y[s.is_fact] == 1) - 0.5) < 4 * 0.5 / np.sqrt(n)


def test_bernoulli_fact_count_is_binomial():
    cfg = RAFConfig(d=100, alpha=10.0, eps=0.3, fact_count="bernoulli")
    counts = [sample_raf(cfg, np.random.default_rng(k)).n_facts for k in range(200)]
    # mean n eps, variance n eps (1-eps): a Kolmogorov-Smirnov check against the binomial
    assert stats.kstest(counts, stats.binom(1000, 0.3).cdf).pvalue > 1e-3
    assert np.var(counts) > 1  # not the exact count


def test_same_generator_same_data_and_test_set_is_rule_labelled():
    cfg = RAFConfig(d=30, alpha=2.0, eps=0.1)
    a, b = (sample_raf(cfg, np.random.default_rng(7)) for _ in range(2))
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    X, y = sample_rule_test_set(a.teacher, 500, np.random.default_rng(0))
    np.testing.assert_array_equal(y, np.sign(X @ a.teacher))


@pytest.mark.parametrize("field, value", [("eps", 1.5), ("eps", -0.1), ("alpha", 0.0), ("d", 1), ("lam", -1.0)])
def test_config_rejects_bad_values(field, value):
    with pytest.raises(ValueError, match=field):
        RAFConfig(**{field: value})

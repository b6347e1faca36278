"""Rules-and-Facts data: pure functions of (config, numpy Generator) -> arrays.

Inputs x ~ N(0, I_d); a teacher w* ~ N(0, I_d) gives rule labels sign(w*.x / sqrt d); a fraction
eps of the training samples are facts, whose labels are fair coins independent of x.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from raflab.core.checks import one_of
from raflab.raf.config import FACT_COUNTS, RAFConfig


@dataclass(frozen=True)
class RAFSample:
    """A training set of the RAF model and the teacher that made its rule labels."""

    X: np.ndarray  # (n, d) inputs
    y: np.ndarray  # (n,) labels in {-1, +1}
    is_fact: np.ndarray  # (n,) True for facts (random labels)
    teacher: np.ndarray  # (d,) the rule w*

    @property
    def n_facts(self) -> int:
        return int(self.is_fact.sum())


def rule_labels(X: np.ndarray, teacher: np.ndarray) -> np.ndarray:
    """sign(w*.x / sqrt d) in {-1, +1} (a zero field, of probability 0, goes to +1)."""
    return np.where(X @ teacher >= 0, 1.0, -1.0)


def fact_mask(n: int, eps: float, mode: str, rng: np.random.Generator) -> np.ndarray:
    """Which of n samples are facts: exactly round(eps n) of them, or i.i.d. Bernoulli(eps)."""
    if one_of(mode, FACT_COUNTS, "fact_count") == "exact":
        mask = np.zeros(n, dtype=bool)
        mask[rng.choice(n, size=int(round(eps * n)), replace=False)] = True
        return mask
    return rng.random(n) < eps


def sample_raf(config: RAFConfig, rng: np.random.Generator) -> RAFSample:
    """Draw one RAF training set of n = round(alpha d) samples.

    Examples
    --------
    >>> import numpy as np
    >>> s = sample_raf(RAFConfig(d=50, alpha=2.0, eps=0.1), np.random.default_rng(0))
    >>> s.X.shape, s.n_facts
    ((100, 50), 10)
    """
    d, n = config.d, config.n_samples
    teacher = rng.standard_normal(d)
    X = rng.standard_normal((n, d))
    is_fact = fact_mask(n, config.eps, config.fact_count, rng)
    y = rule_labels(X, teacher)
    y[is_fact] = rng.choice([-1.0, 1.0], size=int(is_fact.sum()))
    return RAFSample(X, y, is_fact, teacher)


def sample_rule_test_set(teacher: np.ndarray, n_test: int, rng: np.random.Generator):
    """A fresh test set labelled by the rule only (facts cannot be generalized)."""
    X = rng.standard_normal((n_test, teacher.size))
    return X, rule_labels(X, teacher)

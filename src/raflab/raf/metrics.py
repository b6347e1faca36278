"""Error definitions shared by the RAF theory and the simulations (one definition of each).

Both sides call :func:`misclassified`: the simulations on real scores, the theory on the proximal
scores z(y, omega) inside its Gaussian integrals. A score of exactly 0 counts as an error.
"""

from __future__ import annotations

import numpy as np

#: columns every RAF record carries, theory and simulation alike
RECORD_KEYS = (
    "model",
    "loss",
    "alpha",
    "eps",
    "lam",
    "gen_error",
    "rule_train_error",
    "fact_memorization_error",
    "train_loss",
)


#: the three errors of the RAF model
ERROR_KEYS = ("gen_error", "rule_train_error", "fact_memorization_error")


def misclassified(y, score):
    """1 where sign(score) disagrees with the label y in {-1, +1} (ties are errors), else 0."""
    return (np.asarray(y) * np.asarray(score) <= 0).astype(float)


def error_rate(y, score) -> float:
    """Fraction of samples misclassified; NaN (undefined, JSON null) for an empty set.

    An empty set is not an error of 0: at eps = 0 there are no facts to memorize, at eps = 1 no
    rule samples to fit, and the theory reports the same quantities as undefined.
    """
    y = np.asarray(y)
    return float(misclassified(y, score).mean()) if y.size else float("nan")


def generalization_error_from_overlaps(m, q, rho: float = 1.0):
    """Exact test error of a linear classifier on Gaussian inputs with a sign teacher.

    The student and teacher fields are jointly Gaussian with correlation m / sqrt(q rho), so they
    disagree in sign with probability arccos(m / sqrt(q rho)) / pi.
    """
    cos = np.clip(np.asarray(m, dtype=float) / np.sqrt(np.asarray(q, dtype=float) * rho), -1.0, 1.0)
    return np.arccos(cos) / np.pi


def undefined_errors(eps):
    """Masks of the records where an error has no samples: facts at eps = 0, rules at eps = 1."""
    eps = np.asarray(eps, dtype=float)
    return {"fact_memorization_error": eps == 0, "rule_train_error": eps == 1}


def raf_training_errors(y, score, is_fact) -> dict[str, float]:
    """Rule training error (rule samples) and fact memorization error (fact samples)."""
    is_fact = np.asarray(is_fact, dtype=bool)
    y, score = np.asarray(y), np.asarray(score)
    return {
        "rule_train_error": error_rate(y[~is_fact], score[~is_fact]),
        "fact_memorization_error": error_rate(y[is_fact], score[is_fact]),
    }

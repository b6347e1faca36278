"""Validated configurations and parameter checks shared by the API and the CLI."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from raflab.core.checks import one_of
from raflab.raf.losses import LOSSES

#: the learners with a loss and a ridge penalty (each has a prior in the theory)
ERM_MODELS = ("linear", "rf", "kernel")
#: every RAF learner; bayes: the Bayes-optimal estimator (no loss, no lam)
MODELS = (*ERM_MODELS, "bayes")
#: the losses' names (:data:`raflab.raf.losses.LOSSES`)
LOSS_NAMES = tuple(LOSSES)
#: how the facts are drawn: exactly round(eps n) of them, or i.i.d. Bernoulli(eps) membership
FACT_COUNTS = ("exact", "bernoulli")


class RAFConfig(BaseModel):
    """One RAF instance: dimension, sample ratio, fact fraction, learner.

    Examples
    --------
    >>> RAFConfig(d=100, alpha=2.0, eps=0.2).n_samples
    200
    """

    model_config = ConfigDict(frozen=True)

    d: int = Field(1000, ge=2, description="input dimension")
    alpha: float = Field(2.0, gt=0, allow_inf_nan=False, description="samples per dimension n/d")
    eps: float = Field(0.0, ge=0, le=1, allow_inf_nan=False, description="fraction of facts")
    lam: float = Field(0.0, ge=0, allow_inf_nan=False, description="ridge penalty (0: the lam->0+ limit)")
    loss: Literal[LOSS_NAMES] = "square"
    model: Literal["linear"] = "linear"
    fact_count: Literal[FACT_COUNTS] = Field(
        "exact", description="exactly round(eps*n) facts, or i.i.d. Bernoulli(eps) membership"
    )
    n_test: int = Field(10_000, ge=1, description="size of the rule-labelled test set")

    @property
    def n_samples(self) -> int:
        return max(1, int(round(self.alpha * self.d)))


def check_raf_params(alpha=None, eps=None, lam=None, loss=None, model=None, d=None, kappa=None) -> None:
    """Raise ValueError with one clear line for the first out-of-range parameter.

    Arrays are checked elementwise; the message names the offending value.
    """
    def bad(name, values, ok, rule):
        values = np.atleast_1d(np.asarray(values, dtype=float))
        wrong = values[~(np.isfinite(values) & ok(values))]
        if wrong.size:
            raise ValueError(f"{name} must be {rule} (got {wrong[0]:g})")

    if alpha is not None:
        bad("alpha", alpha, lambda v: v > 0, "> 0")
    if eps is not None:
        bad("eps", eps, lambda v: (v >= 0) & (v <= 1), "in [0, 1]")
    if lam is not None:
        bad("lam", lam, lambda v: v >= 0, ">= 0")
    if kappa is not None:
        bad("kappa", kappa, lambda v: v > 0, "> 0")
    if d is not None and (int(d) != d or d < 2):
        raise ValueError(f"d must be an integer >= 2 (got {d})")
    if loss is not None:
        one_of(loss, LOSSES, "loss")
    if model is not None:
        one_of(model, MODELS, "model")

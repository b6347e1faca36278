"""The RAF learner, validated once: :class:`LearnerSpec` (model, kappa, activation, kernel, kernel
parameters) and :func:`learner_spec`, the one builder that the command line, the sweeps and the
Python API use (from option text or from values).

>>> learner_spec("rf", kappa="0.5,2", activation="tanh").options()["kappa"]
array([0.5, 2. ])
>>> learner_spec("kernel", kernel="polynomial:degree=3").kernel_params
{'degree': 3}
>>> learner_spec("linear").options()
{'model': 'linear'}
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from raflab.core.checks import load_callable, one_of
from raflab.core.ranges import parse_range
from raflab.raf.activations import get_activation
from raflab.raf.config import MODELS, check_raf_params
from raflab.raf.kernel_functions import get_kernel

#: the learner parameters each model uses (the others do not apply to it)
MODEL_PARAMS = {"linear": (), "rf": ("kappa", "activation"), "kernel": ("kernel",), "bayes": ()}
LEARNER_PARAMS = ("kappa", "activation", "kernel")
#: what each model ignores: the learner parameters of the other models and, for the Bayes-optimal
#: estimator, the loss and lam (a sweep drops them from its points; the command line refuses them)
MODEL_IGNORED_AXES = {model: tuple(p for p in LEARNER_PARAMS if p not in used)
                      + (("loss", "lam") if model == "bayes" else ()) for model, used in MODEL_PARAMS.items()}


class LearnerSpec(BaseModel):
    """One RAF learner: ``model`` (linear, rf, kernel, bayes) and the parameters it uses.

    rf: ``kappa`` (features per dimension p/d > 0; one value or a tuple: a grid axis) and
    ``activation`` (a name of :mod:`raflab.raf.activations` or a callable); kernel: ``kernel`` (a
    name, a kernel object or a callable activation) and ``kernel_params``. Parameters of other models
    are not checked (and :func:`learner_spec` leaves them at their defaults).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    model: str = "linear"
    kappa: Any = Field(1.0, description="rf: features per input dimension p/d (> 0), a value or a tuple")
    activation: Any = Field("relu", description="rf: an activation name or a callable")
    kernel: Any = Field("arccos", description="kernel: a name, a kernel object or a callable activation")
    kernel_params: dict[str, Any] = Field(default_factory=dict, description="kernel: its parameters")

    @field_validator("model")
    @classmethod
    def _model(cls, value):
        return one_of(value, MODELS, "model")

    @field_validator("kappa", mode="before")
    @classmethod
    def _kappa(cls, value):
        if np.ndim(value) == 0:
            return float(value)
        return tuple(float(k) for k in np.asarray(value, dtype=float).ravel())

    @model_validator(mode="after")
    def _learner(self):
        if self.model == "rf":
            check_raf_params(kappa=self.kappa)
            get_activation(self.activation)  # a callable's moments are checked by the theory
        elif self.model == "kernel":
            get_kernel(self.kernel, **self.kernel_params)
        return self

    def options(self) -> dict:
        """The keyword arguments of :func:`~raflab.raf.theory.erm.erm_theory` and
        :func:`~raflab.raf.experiments.simulate.simulate_erm` for this learner (only those it uses;
        a tuple of kappa as an array)."""
        out: dict = {"model": self.model}
        if self.model == "rf":
            out["kappa"] = np.array(self.kappa) if isinstance(self.kappa, tuple) else self.kappa
            out["activation"] = self.activation
        elif self.model == "kernel":
            out.update(kernel=self.kernel, kernel_params=dict(self.kernel_params))
        return out


def parse_kernel(text: str) -> tuple[str, dict]:
    """``name`` or ``name:key=value,...`` -> (name, parameters); ``activation:NAME`` is a name."""
    name, _, params = text.partition(":")
    if name == "activation" or not params:
        return text, {}
    out = {}
    for item in params.split(","):
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"malformed kernel parameters {params!r} (use key=value,key=value)")
        try:
            out[key.strip()] = int(value) if value.strip().lstrip("-").isdigit() else float(value)
        except ValueError:
            raise ValueError(f"kernel parameter {key.strip()} must be a number (got {value!r})") from None
    return name, out


def learner_spec(model: str | LearnerSpec = "linear", kappa=1.0, activation="relu", kernel="arccos",
                 kernel_params: dict | None = None) -> LearnerSpec:
    """The validated learner, from values or from command-line text: ``kappa`` may be a range
    (``"0.5:4:8"``, ``"1,2"``), ``activation`` a name or ``module:function``, ``kernel`` a name or
    ``name:key=value,...`` (when ``kernel_params`` is not given). Only the parameters ``model`` uses
    are read. A :class:`LearnerSpec` is returned as is.

    Raises
    ------
    ValueError
        One line: an unknown model, activation or kernel, kappa <= 0, a bad kernel parameter.
    """
    if isinstance(model, LearnerSpec):
        return model
    fields: dict = {"model": model}
    if model == "rf":
        fields["kappa"] = parse_range(kappa, "kappa") if isinstance(kappa, str) else kappa
        fields["activation"] = load_callable(activation, "activation") if isinstance(activation, str) else activation
    elif model == "kernel":
        if kernel_params is None and isinstance(kernel, str):
            kernel, kernel_params = parse_kernel(kernel)
        fields.update(kernel=kernel, kernel_params=kernel_params or {})
    try:
        return LearnerSpec(**fields)
    except ValidationError as exc:
        raise ValueError("; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())) from None


def learner_options(model: str | LearnerSpec = "linear", kappa=1.0, activation="relu", kernel="arccos",
                    kernel_params: dict | None = None) -> dict:
    """``learner_spec(...).options()``: the learner's keyword arguments of the theory and simulation."""
    return learner_spec(model, kappa, activation, kernel, kernel_params).options()


def as_options(learner: LearnerSpec | dict | None) -> dict:
    """The learner keywords of a ``model_options`` argument given as a :class:`LearnerSpec` or as
    the keywords themselves (a copy; ``None``: the linear learner's, none)."""
    return learner.options() if isinstance(learner, LearnerSpec) else dict(learner or {})


__all__ = ["as_options", "LearnerSpec", "MODEL_IGNORED_AXES", "MODEL_PARAMS", "learner_options", "learner_spec",
           "parse_kernel"]

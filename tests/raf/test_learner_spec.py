"""Rule 5 (docs/architecture.md): one validated learner spec, built by one builder for the command
line, the sweeps and the Python API."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from raflab.raf.learner_spec import MODEL_IGNORED_AXES, LearnerSpec, as_options, learner_options, learner_spec
from raflab.raf.theory.erm import erm_theory


def test_the_builder_reads_text_and_values_alike():
    from_text = learner_spec("rf", kappa="0.5,2", activation="tanh")
    from_values = learner_spec("rf", kappa=[0.5, 2.0], activation="tanh")
    assert from_text == from_values == LearnerSpec(model="rf", kappa=(0.5, 2.0), activation="tanh")
    assert learner_spec("kernel", kernel="polynomial:degree=3,coef0=1") == \
        learner_spec("kernel", kernel="polynomial", kernel_params={"degree": 3, "coef0": 1})
    # parameters a model does not use are not read (and stay at their defaults)
    assert learner_spec("linear", kappa="-1", activation="swish", kernel="nope") == LearnerSpec()
    assert learner_options("bayes") == {"model": "bayes"}
    spec = learner_spec("rf", kappa=2.0)
    assert learner_spec(spec) is spec and as_options(spec) == {"model": "rf", "kappa": 2.0, "activation": "relu"}
    assert as_options(None) == {} and as_options({"model": "linear"}) == {"model": "linear"}


@pytest.mark.parametrize("kwargs, match", [
    (dict(model="forest"), "unknown model 'forest'; choose one of linear, rf, kernel, bayes"),
    (dict(model="rf", kappa="0"), "kappa must be > 0"),
    (dict(model="rf", kappa=[1.0, np.nan]), "kappa must be > 0"),
    (dict(model="rf", activation="swish"), "unknown activation 'swish'"),
    (dict(model="rf", activation="nosuchmodule:f"), "cannot import activation"),
    (dict(model="kernel", kernel="laplace"), "unknown kernel 'laplace'"),
    (dict(model="kernel", kernel="polynomial:degree"), "malformed kernel parameters"),
    (dict(model="kernel", kernel="polynomial:degree=0"), "degree must be an integer >= 1"),
])
def test_a_bad_learner_is_one_value_error_line(kwargs, match):
    with pytest.raises(ValueError, match=match) as info:
        learner_spec(**kwargs)
    assert "\n" not in str(info.value) and "validation error" not in str(info.value)


def test_the_spec_itself_validates():
    with pytest.raises(ValueError, match="kappa must be > 0"):
        LearnerSpec(model="rf", kappa=0.0)
    with pytest.raises(ValueError):
        LearnerSpec(model="rf", depth=3)  # no such field


def test_theory_with_a_spec_is_theory_with_keywords():
    by_spec = erm_theory("hinge", [1.0, 2.0], 0.2, 0.1, learner=learner_spec("rf", kappa="1,3", activation="tanh"))
    by_keywords = erm_theory("hinge", [1.0, 2.0], 0.2, 0.1, model="rf", kappa=[1.0, 3.0], activation="tanh")
    pd.testing.assert_frame_equal(by_spec, by_keywords)


def test_the_sweeps_use_the_same_table_and_builder():
    from raflab.sweeps import config, engine

    assert config.MODEL_IGNORED_AXES is MODEL_IGNORED_AXES
    assert MODEL_IGNORED_AXES["bayes"] == ("kappa", "activation", "kernel", "loss", "lam")
    point = {"model": "kernel", "kernel": "polynomial"}
    by_engine = engine._learner(point, {"kernel_params": {"degree": 2}})
    assert by_engine == learner_spec("kernel", kernel="polynomial:degree=2")
    assert engine._learner({"model": "rf", "kappa": 2.0, "activation": "erf"}, {"kernel_params": {}}) == \
        learner_spec("rf", kappa=2.0, activation="erf")


def test_the_prior_of_a_spec_is_the_prior_of_its_keywords():
    from raflab.raf.theory.erm import learner_prior, make_prior

    rf = learner_prior(learner_spec("rf", kappa="1,3", activation="tanh"), 3.0)
    assert vars(rf) == vars(make_prior("rf", kappa=3.0, activation="tanh"))
    assert vars(learner_prior({"model": "rf", "kappa": 2.0})) == vars(make_prior("rf", kappa=2.0))
    kernel = learner_prior(learner_spec("kernel", kernel="polynomial:degree=2"))
    assert vars(kernel) == vars(make_prior("kernel", kernel="polynomial", degree=2))
    assert type(learner_prior(LearnerSpec())) is type(make_prior("linear"))
    with pytest.raises(ValueError, match="one kappa"):
        learner_prior(learner_spec("rf", kappa=[1.0, 2.0]))

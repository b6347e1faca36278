"""Capacity in bits (Morris et al. protocol): memorized bits on random strings, below the data's entropy,
growing with parameters, ~0 before training and on strings the model never saw."""

import numpy as np
import pytest
import torch

from raflab.seq import metrics
from raflab.seq.nets import count_parameters, make_model, parameter_count
from raflab.seq.studies import (
    load_study_config,
    net_config,
    run_sequence_experiment,
    seq_run,
    shipped_study_config,
    train_config,
)
from raflab.seq.tasks import make_task
from raflab.seq.train import sequence_outputs, train_model

torch.set_num_threads(1)


def _bits(model, split, vocab):
    _, nll = sequence_outputs(model, split.inputs, split.targets)
    return metrics.memorized_bits(nll, vocab, split.targets)


def test_bits_below_entropy_grow_with_width_and_are_not_generalization():
    # 128 strings of 16 tokens over 16 symbols: 128 * 15 * 4 = 7,680 bits, far above what ~1K params hold
    task = make_task("random", np.random.default_rng(0), num_strings=128, length=16, vocab_size=16,
                     num_heldout=128)
    assert task.info["entropy_bits"] == 7680
    measured = {}
    for width in (4, 8):
        run = seq_run("random", examples=128, seq_len=16, vocab=16, width=width, steps=200, lr=1e-2,
                      min_lr=1e-3, warmup=10, batch=64, eval_every=200, device="cpu")
        model = make_model(net_config(run, task), seed=0, device="cpu")
        untrained = _bits(model, task.train, 16)
        # a near-uniform model holds nothing; only per-string clipping of noise gives a few bits
        assert 0 <= untrained < 0.005 * 7680
        train_model(model, {"idx": task.train.inputs, "targets": task.train.targets}, train_config(run))
        measured[width] = (count_parameters(model), _bits(model, task.train, 16), _bits(model, task.heldout, 16),
                           untrained)
    (p4, b4, h4, u4), (p8, b8, h8, _) = measured[4], measured[8]
    assert p8 > 2.5 * p4
    assert b4 > 10 * u4  # it learned: well above the untrained level
    assert b8 > 1.8 * b4  # more parameters, more bits
    assert b8 < 0.5 * 7680 and b8 / p8 < 3.6  # below the entropy and the published maximum
    # fresh random strings carry no information the model could have learned
    assert h4 < 0.25 * b4 and h8 < 0.25 * b8


def test_shipped_bits_study_is_capacity_limited_over_a_decade_of_sizes():
    config = load_study_config(shipped_study_config("bits"))
    runs = config.runs()
    assert config.seeds >= 3 and all(r.plateau_window is not None for r in runs)
    task = make_task("random", np.random.default_rng(0), num_strings=config.base["examples"],
                     length=config.base["seq_len"], vocab_size=config.base["vocab"])
    params = [parameter_count(net_config(r, task)) for r in runs]
    assert max(params) >= 10 * min(params)
    # capacity-limited: the data hold 3x what the widest model could at 3.6 bits/param
    assert task.info["entropy_bits"] > 3 * 3.6 * max(params)


@pytest.mark.slow
def test_reduced_bits_study_saturates_below_the_entropy_and_is_linear_in_parameters():
    """The runs behind docs/sequence.md (seq_bits_reduced.yaml): the smallest and largest width, seed 0."""
    config = load_study_config(shipped_study_config("bits").with_name("seq_bits_reduced.yaml"))
    widths = sorted(config.grid["width"])
    assert len(widths) >= 2
    records = [run_sequence_experiment(seq_run(**{**config.base, "width": w, "device": "cpu"}))
               for w in (widths[0], widths[-1])]
    small, large = records
    assert large["params"] > 10 * small["params"]
    for r in records:
        assert r["bits_per_param"] == pytest.approx(r["memorized_bits"] / r["params"])
        assert r["saturated"] and r["steps"] < config.base["steps"]
        # capacity-limited: the data hold 2x what the model could at 3.6 bits/param
        assert r["entropy_bits"] > 2 * 3.6 * r["params"]
        assert 0.5 < r["bits_per_param"] < 3.6
    # bits grow in proportion to parameters: bits/param of the two within a factor 1.5
    ratio = large["bits_per_param"] / small["bits_per_param"]
    assert 1 / 1.5 < ratio < 1.5

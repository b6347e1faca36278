"""MQAR learning tests: attention recalls in context, a fixed-step SSM at equal width does not.

Slow: a tiny MQAR (2 pairs in 16 tokens, the study's size) and the proposed default size (4 pairs
in 32 tokens, the ``raflab seq train --task mqar`` settings), once per mixer. The default run checks
the shipped study's grid only: no MQAR run of attention reaches the induction step in seconds.
"""

import pytest
import torch

from raflab.seq.studies import load_study_config, run_sequence_experiment, seq_run, shipped_study_config

torch.set_num_threads(1)

#: a small MQAR that 2-layer attention solves in a few hundred steps (measured: 0.99 held out by step 350)
TINY = dict(layers=2, width=64, heads=1, mlp_ratio=0.0, pairs=2, seq_len=16, vocab=32, examples=2000, heldout=128,
            steps=400, lr=3e-3, min_lr=3e-4, warmup=100, batch=64, eval_every=50, device="cpu")
#: the proposed ``TASK_DEFAULTS["mqar"]`` (4 pairs in 32 tokens)
DEFAULT = dict(layers=2, width=64, heads=1, mlp_ratio=0.0, pairs=4, seq_len=32, vocab=64, examples=4000,
               heldout=256, steps=1000, lr=3e-3, min_lr=3e-4, batch=64, eval_every=250, device="cpu")


def _heldout(model: str, settings: dict, **changes) -> float:
    return run_sequence_experiment(seq_run("mqar", model=model, **{**settings, **changes}))["heldout_accuracy"]


@pytest.mark.slow  # ~3 min on 2 loaded cores: the induction step needs ~300 steps
def test_tiny_mqar_attention_recalls_where_s4d_at_equal_width_does_not():
    # attention stops once it recalls every training query; S4D trains all 400 steps.
    # The induction step is abrupt and sensitive to the schedule: warmup 50 instead of 100 leaves
    # attention on the 0.5 plateau after 400 steps (measured), so these settings are pinned.
    attention = _heldout("gpt", TINY, target=0.99)
    s4d = _heldout("s4d", TINY)
    assert attention >= 0.95
    assert s4d <= 0.6  # 2 pairs: 0.5 is recalling the easy one of the two


@pytest.mark.slow
def test_default_mqar_attention_recalls_where_s4d_does_not():
    attention = _heldout("gpt", DEFAULT)
    s4d = _heldout("s4d", DEFAULT)
    assert attention >= 0.95
    assert s4d <= 0.4


def test_shipped_mqar_study_compares_the_three_mixers():
    config = load_study_config(shipped_study_config("mqar"))
    runs = config.runs()
    assert {r.model for r in runs} == {"gpt", "s4d", "mamba"}
    assert len({r.pairs for r in runs}) >= 2 and len({r.width for r in runs}) >= 2
    assert config.seeds == 2

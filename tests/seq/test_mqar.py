"""MQAR learning tests: attention recalls in context, a fixed-step SSM at equal width does not.

Slow: a tiny MQAR (2 pairs in 16 tokens, the study's size) and the proposed default size (4 pairs
in 32 tokens, the ``raflab seq train --task mqar`` settings), once per mixer. The default run checks
the shipped study's grid only: no MQAR run of attention reaches the induction step in seconds.
"""

from pathlib import Path

import pytest
import torch

from raflab.seq.studies import load_study_config, run_sequence_experiment, seq_run, shipped_study_config

torch.set_num_threads(1)

#: a small MQAR that 2-layer attention solves in a few hundred steps. The learning rate is swept as in
#: Zoology (per mixer): held-out accuracy >= 0.95 within 800 steps for 12 of 12 seeds (0-11) at lr 2e-3,
#: first reached at step 250-550; 5/6 seeds (0-5) at lr 1e-3; 0/6 at lr 1e-2 or 3e-2 (stuck on the 0.5
#: plateau); at the former lr 3e-3 in 400 steps 2/6 (3/6 before the seed streams), in 800 steps 4/6.
TINY = dict(layers=2, width=64, heads=1, mlp_ratio=0.0, pairs=2, seq_len=16, vocab=32, examples=2000, heldout=128,
            steps=800, lr=2e-3, min_lr=2e-4, warmup=100, batch=64, eval_every=50, device="cpu")
TINY_SEEDS = (0, 1, 2)
#: the proposed ``TASK_DEFAULTS["mqar"]`` (4 pairs in 32 tokens)
DEFAULT = dict(layers=2, width=64, heads=1, mlp_ratio=0.0, pairs=4, seq_len=32, vocab=64, examples=4000,
               heldout=256, steps=1000, lr=3e-3, min_lr=3e-4, batch=64, eval_every=250, device="cpu")


def _heldout(model: str, settings: dict, **changes) -> float:
    return run_sequence_experiment(seq_run("mqar", model=model, **{**settings, **changes}))["heldout_accuracy"]


@pytest.mark.slow  # ~1 min on 2 loaded cores (52 s measured): 3 seeds, the induction step needs 250-550 steps
def test_tiny_mqar_attention_recalls_where_s4d_at_equal_width_does_not():
    # attention stops once it recalls every training query; S4D trains all 800 steps.
    # The induction step is abrupt and its timing varies with the seed (see TINY), so the claim is
    # checked on every one of several seeds, at settings where it held for every seed measured.
    # Measured here: attention 0.984 0.996 0.996 held out (stopped at steps 650 400 550), S4D 0.465 0.492 0.504;
    # S4D at these settings, seeds 0-5: 0.47 0.49 0.50 0.52 0.48 0.48 (at lr 1e-2, seeds 0-2: 0.54 0.58 0.57).
    attention = [_heldout("gpt", TINY, target=0.99, seed=s) for s in TINY_SEEDS]
    s4d = [_heldout("s4d", TINY, seed=s) for s in TINY_SEEDS]
    assert min(attention) >= 0.95, attention
    assert max(s4d) <= 0.6, s4d  # 2 pairs: 0.5 is recalling the easy one of the two


@pytest.mark.slow
def test_default_mqar_attention_recalls_where_s4d_does_not():
    attention = _heldout("gpt", DEFAULT)
    s4d = _heldout("s4d", DEFAULT)
    assert attention >= 0.95
    assert s4d <= 0.4


def test_shipped_mqar_study_compares_the_mixers_on_a_size_grid():
    config = load_study_config(shipped_study_config("mqar"))
    runs = config.runs()
    assert {r.model for r in runs} == {"gpt", "s4d", "mamba", "mamba2"}
    assert len({r.pairs for r in runs}) >= 3 and len({r.target_params for r in runs}) >= 2
    assert config.seeds >= 3  # the claims are settled by 95% intervals over seeds
    # every mixer sees every (size, pairs) cell
    cells = {(r.target_params, r.pairs) for r in runs}
    assert all({(r.target_params, r.pairs) for r in runs if r.model == m} == cells for m in ("gpt", "s4d", "mamba", "mamba2"))


@pytest.mark.slow  # one unit of the shipped study: 23 CPU-s measured (stopped at step 750 of 3000, width 34)
def test_mamba_recalls_in_the_shipped_study_setting():
    # the run of the shipped grid (mamba, ~20K parameters, 2 pairs, seed 0); docs/sequence.md (MQAR): held out
    # 0.992 at the shipped default (lr 1e-2, warm-up 300, stopped at step 750), 0.992 at the former lr 3e-3
    config = load_study_config(shipped_study_config("mqar"))
    run = next(r for r in config.runs() if (r.model, r.target_params, r.pairs, r.seed) == ("mamba", 20000, 2, 0))
    record = run_sequence_experiment(run.model_copy(update={"device": "cpu"}))
    assert record["width"] == 34 and abs(record["params"] - 20000) <= 0.15 * 20000
    assert record["heldout_accuracy"] >= 0.9


#: the shipped MQAR default of both selective SSMs, as docs/sequence.md ("MQAR: Mamba at the shipped default")
#: documents it: lr 1e-2 cosine to 1e-3, up to 3000 steps (stop at training accuracy 0.99), batch 64, 8000
#: training sequences, d_state 8, a 300-step warm-up
SELECTIVE_DEFAULT = {"lr": 1e-2, "min_lr": 1e-3, "steps": 3000, "warmup": 300, "batch": 64, "examples": 8000,
                     "d_state": 8, "target": 0.99}

def _shipped_run(model: str, target_params: int, pairs: int, seed: int = 0):
    config = load_study_config(shipped_study_config("mqar"))
    return next(r for r in config.runs() if (r.model, r.target_params, r.pairs, r.seed) == (model, target_params, pairs, seed))


def test_shipped_mqar_default_of_mamba_and_mamba2_is_the_documented_one():
    for model in ("mamba", "mamba2"):
        run = _shipped_run(model, 20000, 4)
        assert {k: getattr(run, k) for k in SELECTIVE_DEFAULT} == SELECTIVE_DEFAULT, model
    docs = (Path(__file__).resolve().parents[2] / "docs" / "sequence.md").read_text()
    section = docs.split("## MQAR: Mamba at the shipped default", 1)[1].split("\n## ", 1)[0]
    assert "**Shipped default** (mamba and mamba2): lr 1e-2 -> 1e-3, up to 3000 steps" in section
    assert "a 300-step warm-up" in section


@pytest.mark.slow  # one Mamba-1 run at width 34 (1750 of 3000 steps): 35 s measured on a quiet core
def test_mamba_recalls_4_pairs_at_the_shipped_default():
    # measured (docs/sequence.md, "MQAR: Mamba at the shipped default"): seeds 0-4 held out 0.997 / 0.994 / 0.990 /
    # 0.984 / 0.996 (stopped at steps 1500-2750); seed 1 is checked
    run = _shipped_run("mamba", 20000, 4, seed=1)
    record = run_sequence_experiment(run.model_copy(update={"device": "cpu"}))
    assert record["width"] == 34
    assert record["heldout_accuracy"] >= 0.9

"""The paper-scale run cards (configs/paper/): valid, and runnable end to end once shrunk to CPU size."""

from pathlib import Path

import pytest
import torch

from raflab.seq.studies import load_study_config, run_sequence_experiment, shrink_study_config

torch.set_num_threads(1)
PAPER = Path(__file__).resolve().parents[2] / "configs" / "paper"


def test_the_mqar_card_has_paper_sizes():
    config = load_study_config(PAPER / "mqar.yaml")
    runs = config.runs()
    assert {r.model for r in runs} == {"gpt", "s4d", "mamba"}
    assert max(r.seq_len for r in runs) >= 256 and max(r.pairs for r in runs) == 64
    assert {r.width for r in runs} == {64, 128, 256, 512} and {r.device for r in runs} == {"cuda"}
    assert len(runs) == 180 and all(r.vocab == 8192 and not r.random_fillers for r in runs)


def test_the_shrunk_mqar_card_runs_one_unit_on_cpu():
    config = shrink_study_config(load_study_config(PAPER / "mqar.yaml"))
    runs = config.runs()
    assert all(r.device == "cpu" and r.seq_len <= 16 and r.vocab <= 32 and r.width <= 16 for r in runs)
    assert all(4 * r.pairs <= r.seq_len for r in runs)
    assert len(runs) == 3  # the three mixers at the capped width, pairs and length: one setting each
    record = run_sequence_experiment(runs[-1])  # mamba
    assert record["model"] == "mamba" and record["steps"] == 2 and record["width"] == 16
    assert 0.0 <= record["heldout_accuracy"] <= 1.0


def test_shrinking_refuses_unknown_settings():
    config = load_study_config(PAPER / "mqar.yaml")
    with pytest.raises(ValueError, match="unknown run settings to cap: depth"):
        shrink_study_config(config, depth=1)

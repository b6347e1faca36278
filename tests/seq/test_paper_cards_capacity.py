"""The paper-scale run cards of Capacity Matters and bits per parameter (configs/paper/): the papers' sizes
for a GPU, and each card's runs at a reduced size, one tiny unit on the CPU."""

import math
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from raflab.seq.nets import NetConfig, parameter_count
from raflab.seq.sizing import width_for_parameters
from raflab.seq.studies import load_study_config, run_sequence_experiment, seq_run

torch.set_num_threads(1)

CARDS = Path(__file__).resolve().parents[2] / "configs" / "paper"


def _reduced(point: dict, **small) -> dict:
    """A card's run at a tiny size on the CPU (the same task, network kind and stopping rule)."""
    return {**point, **small, "device": "cpu"}


def test_capacity_matters_card_has_the_papers_sizes_and_runs_reduced():
    card = load_study_config(CARDS / "capacity_matters.yaml")
    points = card.points()
    assert card.base["device"] == "cuda" and card.seeds >= 3
    assert max(p["triplets"] for p in points) == 100_000 and min(p["triplets"] for p in points) == 1000
    assert {p["width"] for p in points if "target_params" not in p} >= {16, 32, 64, 128}
    assert {p.get("layers", 1) for p in points} == {1, 2, 4}
    assert {p["activation"] for p in points} == {"relu", "gelu", "rrelu", "softmax"}
    assert {p["task"] for p in points} == {"kg", "walks"} and any(p.get("walk_facts") for p in points)
    # the matched sizes: each depth within 10% of the target count
    target = next(p["target_params"] for p in points if "target_params" in p)
    vocab = card.base["entities"] + card.base["relations"]
    net = NetConfig(vocab_size=vocab, block_size=2, n_head=4, mlp_ratio=4.0)
    assert target == parameter_count(replace(net, n_embd=128))
    for layers in (2, 4):
        deep = replace(net, n_layer=layers)
        assert abs(parameter_count(replace(deep, n_embd=width_for_parameters(deep, target))) / target - 1) < 0.10
    small = dict(entities=30, relations=5, triplets=60, walks=10, steps=3, batch=64, eval_every=1, warmup=0)
    kg = next(p for p in points if "target_params" in p and p.get("layers") == 4)
    record = run_sequence_experiment(seq_run(**_reduced(kg, **small, target_params=3500)))
    assert record["layers"] == 4 and record["items"] == 60 and abs(record["params"] / 3500 - 1) < 0.10
    walks = next(p for p in points if p["task"] == "walks")
    record = run_sequence_experiment(seq_run(**_reduced(walks, **small, width=8)))
    assert record["items"] == 10 and record["facts"] >= 30 and 0 <= record["fact_accuracy"] <= 1


def test_bits_card_has_the_papers_sizes_and_runs_reduced():
    card = load_study_config(CARDS / "bits_per_parameter.yaml")
    runs = card.runs()
    assert card.base["device"] == "cuda" and card.seeds >= 3 and card.base["vocab"] == 2048
    net = NetConfig(vocab_size=card.base["vocab"], block_size=card.base["seq_len"] - 1, mlp_ratio=4.0)
    params = [parameter_count(replace(net, n_embd=r.width, n_layer=r.layers)) for r in runs]
    assert max(params) >= 10 * min(params)
    entropy = card.base["examples"] * (card.base["seq_len"] - 1) * math.log2(card.base["vocab"])
    assert entropy > 2 * 3.6 * max(params)  # capacity-limited at Morris's 3.6 bits/param
    assert all(r.plateau_window is not None for r in runs)
    point = card.points()[-1]
    record = run_sequence_experiment(seq_run(**_reduced(point, examples=16, seq_len=8, vocab=16, width=8,
                                                        steps=40, eval_every=5, warmup=0, plateau_window=2)))
    assert record["layers"] == point["layers"] and record["steps"] <= 40
    assert isinstance(record["saturated"], bool)
    assert 0 <= record["memorized_bits"] <= record["entropy_bits"] == 16 * 7 * 4


@pytest.mark.parametrize("card", ["capacity_matters.yaml", "bits_per_parameter.yaml"])
def test_cards_state_their_expected_runtime(card):
    text = (CARDS / card).read_text()
    assert "Expected runtime" in text and "GPU-hours" in text

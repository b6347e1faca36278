"""Capacity Matters on a random knowledge graph: the shipped study config, and what the models store."""

import math

import pytest
import torch

from raflab.seq.studies import load_study_config, run_sequence_experiment, seq_run, shipped_study_config

torch.set_num_threads(1)

# 200 triplets of 50 entities: 200 * log2(50) = 1,129 bits
SMALL_KG = {"entities": 50, "relations": 10, "triplets": 200, "mlp_ratio": 4.0, "activation": "relu",
            "lr": 1e-2, "warmup": 10, "batch": 200, "device": "cpu"}


def test_shipped_config_covers_the_papers_grid():
    config = load_study_config(shipped_study_config("capacity"))
    points = config.points()
    # widths x triplets; layers at two matched sizes; the activations' new points; walks and their triplets
    assert len(points) == 20 + 12 + 6 + 2 + 2
    for point in points:
        assert point["task"] in ("kg", "walks")
        assert 1 <= point["triplets"] <= point["entities"] * point["relations"]
    assert sorted({p["width"] for p in points}) == [8, 16, 32, 64, 128]
    assert sorted({p.get("layers", 1) for p in points}) == [1, 2, 4]
    assert {p["activation"] for p in points} == {"relu", "gelu", "rrelu", "softmax"}
    assert sum(p["task"] == "walks" for p in points) == sum(bool(p.get("walk_facts")) for p in points) == 2
    assert config.seeds >= 3
    # a setting's accuracy curve needs several triplet counts, spanning a decade
    triplets = sorted({p["triplets"] for p in points})
    assert len(triplets) >= 4 and triplets[-1] >= 8 * triplets[0]
    assert len(config.runs()) == len(points) * config.seeds


def test_wide_model_stores_a_small_graph_exactly_and_a_narrow_one_fewer():
    wide = run_sequence_experiment(seq_run("kg", width=64, steps=150, eval_every=25, target=1.0, **SMALL_KG))
    assert wide["items"] == 200
    assert wide["train_accuracy"] == 1.0 and wide["capacity"] == 200 and wide["mac"] == 200
    assert wide["steps"] < 150  # stopped at the target: every triplet answered
    # width 4: ~450 parameters cannot hold 1,129 bits (2 bits/param would be ~900)
    narrow = run_sequence_experiment(seq_run("kg", width=4, steps=100, eval_every=25, **SMALL_KG))
    assert narrow["params"] < 500
    assert narrow["capacity"] < 0.6 * 200
    assert narrow["capacity"] <= narrow["mac"] <= 200
    assert narrow["train_accuracy"] == pytest.approx(narrow["capacity"] / 200)
    bits_per_param = narrow["mac"] * math.log2(50) / narrow["params"]
    assert bits_per_param < 3.6


@pytest.mark.slow
def test_study_direction_accuracy_falls_with_triplets_and_grows_with_width():
    config = load_study_config(shipped_study_config("capacity"))
    base = {**config.base, "device": "cpu"}
    acc = {}
    for width, triplets in ((16, 250), (16, 2000), (64, 2000)):
        run = seq_run(**{**base, "width": width, "triplets": triplets})
        acc[width, triplets] = run_sequence_experiment(run)["train_accuracy"]
    assert acc[16, 250] == 1.0
    assert acc[16, 2000] < 0.8
    assert acc[64, 2000] > acc[16, 2000] + 0.15

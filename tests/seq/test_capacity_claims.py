"""Capacity Matters' claims (matched sizes, activations, triplets vs walks, real graph files) and bits per
parameter to saturation: the helpers each claim rests on, on known inputs."""

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from raflab.seq import capacity_claims as cc
from raflab.seq.metrics import plateau_reached
from raflab.seq.nets import NetConfig, parameter_count
from raflab.seq.sizing import width_for_parameters
from raflab.seq.registry import with_graph_files
from raflab.seq.studies import SeqStudyConfig, run_sequence_experiment, seq_run
from raflab.seq.tasks import make_task, random_kg, sample_triplets, walk_triplets
from raflab.seq.tasks.graphs import kg_walk_task

torch.set_num_threads(1)


# --- matched parameter counts ------------------------------------------------------------------

def test_width_for_parameters_matches_depths_within_ten_percent():
    base = NetConfig(vocab_size=120, block_size=2, mlp_ratio=4.0)
    target = parameter_count(NetConfig(vocab_size=120, block_size=2, mlp_ratio=4.0, n_embd=16))
    assert target == 5072
    assert width_for_parameters(base, target) == 16  # the reference itself
    for layers in (2, 4):
        cfg = NetConfig(vocab_size=120, block_size=2, mlp_ratio=4.0, n_layer=layers)
        width = width_for_parameters(cfg, target)
        count = parameter_count(NetConfig(vocab_size=120, block_size=2, mlp_ratio=4.0, n_layer=layers, n_embd=width))
        assert abs(count / target - 1) < 0.10
        # no other width is nearer
        for other in (width - 1, width + 1):
            near = parameter_count(NetConfig(vocab_size=120, block_size=2, mlp_ratio=4.0, n_layer=layers, n_embd=other))
            assert abs(near - target) >= abs(count - target)
    with pytest.raises(ValueError, match="below the smallest"):
        width_for_parameters(base, 12)
    heads = NetConfig(vocab_size=120, block_size=2, mlp_ratio=4.0, n_head=4, n_layer=2)
    assert width_for_parameters(heads, target) % 4 == 0
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="target parameter count"):
            width_for_parameters(base, bad)


def test_run_with_target_params_picks_the_matched_width():
    small = {"entities": 30, "relations": 5, "triplets": 60, "steps": 3, "batch": 60, "warmup": 0, "device": "cpu"}
    ref = run_sequence_experiment(seq_run("kg", width=16, **small))
    deep = run_sequence_experiment(seq_run("kg", layers=4, target_params=ref["params"], width=99, **small))
    assert deep["layers"] == 4 and deep["width"] < 16  # the width given is ignored
    assert abs(deep["params"] / ref["params"] - 1) < 0.10
    assert deep["facts"] == 60 and deep["facts_stored"] == round(deep["fact_accuracy"] * 60)


# --- plateau of a training curve ---------------------------------------------------------------

def test_plateau_on_synthetic_curves():
    t = np.arange(60)
    saturating = 1000 * (1 - np.exp(-t / 5.0))
    # first evaluation where the growth over the last 5 is <= 1%: 1000 e^{-(s-5)/5} (1 - e^{-1}) <= 0.01 x value
    first = next(s for s in range(6, 60) if plateau_reached(saturating[: s + 1], 5, 0.01))
    growth = (saturating[first] - saturating[first - 5]) / saturating[first - 5]
    assert growth <= 0.01 and (saturating[first - 1] - saturating[first - 6]) / saturating[first - 6] > 0.01
    assert 25 <= first <= 35
    assert not any(plateau_reached(10.0 * t[: s + 1] + 1, 5, 0.01) for s in range(60))  # a line never stops
    assert not plateau_reached([5, 5, 5], 3, 0.01)  # too short
    assert not plateau_reached([0, 0, 0, 0, 0], 2, 0.01)  # nothing learned is no plateau
    assert plateau_reached([100, 90, 80], 2, 0.0)  # falling: stopped
    rng = np.random.default_rng(0)
    noisy = 500 + rng.normal(0, 1, 40)  # flat with 0.2% noise
    assert plateau_reached(noisy, 10, 0.01)
    for curve, window, tol, match in (([[1, 2]], 1, 0.1, "one-dimensional"), ([1, 2, 3], 0, 0.1, "window"),
                                      ([1, 2, 3], 1, -0.1, "rel_tol"), ([1, np.nan, 3], 1, 0.1, "NaN")):
        with pytest.raises(ValueError, match=match):
            plateau_reached(curve, window, tol)


def test_random_run_stops_at_the_plateau():
    base = dict(examples=32, seq_len=8, vocab=8, width=8, steps=3000, eval_every=20, lr=1e-2, min_lr=1e-2,
                warmup=0, batch=32, device="cpu")
    record = run_sequence_experiment(seq_run("random", plateau_window=3, plateau_tol=0.05, **base))
    assert record["saturated"] is True and record["steps"] < 3000 and record["steps"] % 20 == 0
    assert 0 < record["memorized_bits"] <= record["entropy_bits"]
    with pytest.raises(ValueError, match="task random only"):
        seq_run("kg", plateau_window=3)
    with pytest.raises(ValueError, match="two stopping rules"):
        seq_run("random", plateau_window=3, target=0.5)


# --- intervals and verdicts --------------------------------------------------------------------

def test_ci95_is_the_t_interval():
    mean, low, high = cc._ci95([1.0, 2.0, 3.0, np.nan])
    ref = stats.t.interval(0.95, 2, loc=2.0, scale=1.0 / np.sqrt(3))
    assert mean == 2.0 and (low, high) == pytest.approx(ref)
    assert high - mean == pytest.approx(4.302653 / np.sqrt(3), rel=1e-6)
    one = cc._ci95([4.0])
    assert one[0] == 4.0 and np.isnan(one[1]) and np.isnan(one[2])


def test_verdicts():
    assert cc.verdict(0.01, 0.2, +1, 3) == "reproduced"
    assert cc.verdict(-0.2, -0.01, +1, 3) == "contradicted"
    assert cc.verdict(-0.2, -0.01, -1, 5) == "reproduced"
    assert cc.verdict(-0.1, 0.2, +1, 10) == "inconclusive"
    assert cc.verdict(0.1, 0.2, +1, 2) == "inconclusive"  # too few seeds for a verdict
    with pytest.raises(ValueError, match="claimed_sign"):
        cc.verdict(0, 1, 0, 3)


def _rows(settings, seeds=(0, 1, 2)):
    """Per-seed rows of a capacity study: settings (overrides, fact_accuracy(seed)) pairs."""
    base = {"task": "kg", "walk_facts": False, "triplets": 500, "target_params": None, "width": 16, "layers": 1,
            "activation": "relu", "graph": "random", "entities": 100, "relations": 20, "params": 5000}
    return pd.DataFrame([{**base, **over, "seed": s, "fact_accuracy": acc(s)} for over, acc in settings for s in seeds])


def test_capacity_claims_on_known_rows():
    rows = _rows([
        ({"width": 8, "params": 1700}, lambda s: 0.30 + 0.01 * s),
        ({}, lambda s: 0.60 + 0.01 * s),                                        # width 16 relu
        ({"width": 32, "params": 16000}, lambda s: 0.55 + 0.02 * s),             # wider but worse
        ({"activation": "softmax"}, lambda s: 0.70 + 0.01 * s),
        ({"activation": "gelu"}, lambda s: 0.60 + 0.03 * s),
        ({"target_params": 5000, "layers": 1}, lambda s: 0.60),
        ({"target_params": 5000, "layers": 2, "width": 12, "params": 4900}, lambda s: 0.5 + 0.01 * s),
        ({"task": "walks", "walk_facts": False}, lambda s: 0.80 + 0.05 * (s == 1)),
        ({"walk_facts": True}, lambda s: 0.70),
    ])
    claims = cc.capacity_claims(rows).set_index(["claim", "treatment", "baseline"])
    width = claims.loc[("width", "width=32", "width=8")]
    assert width["difference"] == pytest.approx(0.25 + 0.01) and width["verdict"] == "reproduced"
    assert width["n_seeds"] == 3
    soft = claims.loc[("activation", "activation=softmax", "activation=relu")]
    assert soft["difference"] == pytest.approx(0.10) and soft["verdict"] == "reproduced"
    # softmax - gelu = 0.10 - 0.02 s: 0.10, 0.08, 0.06 -> mean 0.08, a positive interval
    gelu = claims.loc[("activation", "activation=softmax", "activation=gelu")]
    assert gelu["difference"] == pytest.approx(0.08) and gelu["ci_low"] > 0
    layers = claims.loc[("layers", "layers=2", "layers=1")]
    assert layers["difference"] == pytest.approx(-0.09) and layers["verdict"] == "reproduced"
    assert layers["params_ratio"] == pytest.approx(0.98)
    walks = claims.loc[("walks", "data=walks", "data=triplets of the walks' facts")]
    assert walks["difference"] == pytest.approx(0.10 + 0.05 / 3)
    assert walks["verdict"] == "reproduced"
    assert set(claims["verdict"]) <= set(cc.VERDICTS)
    with pytest.raises(ValueError, match="metric"):
        cc.capacity_claims(rows, metric="bits")


def test_fit_through_origin_and_its_interval_covers_the_truth():
    exact = cc.fit_through_origin([1000, 2000, 4000], [3600, 7200, 14400])
    assert exact["slope"] == pytest.approx(3.6) and exact["slope_stderr"] == pytest.approx(0, abs=1e-12)
    rng = np.random.default_rng(0)
    x = np.repeat([1e3, 2e3, 5e3, 1e4, 2e4], 3)
    covered = 0
    for _ in range(400):
        y = 2.0 * x + rng.normal(0, 500, x.size)
        fit = cc.fit_through_origin(x, y)
        covered += fit["ci_low"] <= 2.0 <= fit["ci_high"]
    assert 0.92 <= covered / 400 <= 0.98  # a 95% interval (binomial sd ~1.1%)
    for bad in (([1.0], [2.0]), ([0.0, 0.0], [1.0, 2.0]), ([1.0, np.nan], [1.0, 2.0]), ([1.0, 2.0], [1.0])):
        with pytest.raises(ValueError):
            cc.fit_through_origin(*bad)
    fit = cc.fit_bits_per_parameter_ci(pd.DataFrame({"params": x, "memorized_bits": 1.5 * x, "seed": [0, 1, 2] * 5,
                                                      "saturated": [True] * 14 + [False]}))
    assert fit["slope"] == pytest.approx(1.5) and fit["runs_saturated"] == 14 and fit["n_seeds"] == 3
    assert fit["params_max"] / fit["params_min"] == 20
    lines = cc.compare_with_references(fit)
    assert len(lines) == 2 and all("above the interval" in line for line in lines)


# --- triplets vs walks of the same facts; graph files --------------------------------------------

def test_walk_facts_are_the_triplets_of_the_walks():
    rng = np.random.default_rng(5)
    graph = random_kg(40, 6, 200, rng)
    walks = kg_walk_task(graph, num_walks=30, rng=rng, num_entities=40, num_relations=6)
    facts = walk_triplets(walks)
    assert len(facts) == walks.info["edges_used"] == int((walks.train.targets != -100).sum())
    assert {tuple(f) for f in facts} <= {tuple(g) for g in graph}  # edges of the graph
    assert len({(h, r) for h, r, _ in facts}) == len(facts)  # each (node, edge) once
    # the walks chain: the tail of one fact is the head of the next within a walk
    first = walks.train.inputs[0]
    assert facts[0][0] == first[0] and facts[0][2] == first[2] and facts[1][0] == first[2]
    options = dict(num_entities=40, num_relations=6, num_triplets=200, num_walks=30)
    same = make_task("kg", np.random.default_rng(9), walk_facts=True, **options)
    walk_task = make_task("walks", np.random.default_rng(9), **options)
    kg_facts = np.stack([same.train.inputs[:, 0], same.train.inputs[:, 1] - 40, same.train.targets[:, 1]], axis=1)
    assert np.array_equal(kg_facts, walk_triplets(walk_task))
    with pytest.raises(ValueError, match="read only with walk_facts"):
        make_task("kg", np.random.default_rng(0), num_walks=3)
    with pytest.raises(ValueError, match="needs a walk task"):
        walk_triplets(same)


def _write_graph(folder):
    rows = {"train": ["a\tisa\tb", "b\tisa\tc", "c\tisa\td", "a\tpart_of\tc", "d\tpart_of\ta"],
            "valid": ["b\tpart_of\td", "a\tisa\tc"],  # (a, isa) has two tails: one is kept
            "test": ["d\tisa\tb"]}
    for split, lines in rows.items():
        (folder / f"{split}.txt").write_text("\n".join(lines) + "\n")


def test_graph_files_subsample_and_data_dir_study(tmp_path):
    _write_graph(tmp_path)
    full = make_task("kg", np.random.default_rng(0), graph="umls", umls_dir=tmp_path)
    assert len(full.train.inputs) == 7 and full.info["num_entities"] == 4  # 8 rows, 7 (head, relation) pairs
    part = make_task("kg", np.random.default_rng(0), graph="umls", umls_dir=tmp_path, num_triplets=3)
    assert len(part.train.inputs) == 3
    pairs = {tuple(p) for p in full.train.inputs.tolist()}
    assert {tuple(p) for p in part.train.inputs.tolist()} <= pairs
    t = np.array([[0, 0, 1], [1, 0, 2], [2, 1, 0]])
    assert np.array_equal(sample_triplets(t, 5, np.random.default_rng(0)), t)
    with pytest.raises(ValueError, match="num_triplets must be >= 1"):
        sample_triplets(t, 0, np.random.default_rng(0))
    config = SeqStudyConfig(name="cap", study="capacity", seeds=1, grid={"width": [4]},
                            base={"task": "kg", "triplets": 5, "steps": 2, "batch": 8, "warmup": 0, "device": "cpu"})
    on_files = with_graph_files(config, str(tmp_path))
    run = on_files.runs()[0]
    assert run.graph == "umls" and run.umls_dir == str(tmp_path)
    assert run_sequence_experiment(run)["items"] == 5
    with pytest.raises(ValueError, match="no such folder"):
        with_graph_files(config, str(tmp_path / "missing"))


def test_cli_capacity_study_on_graph_files(tmp_path):
    from typer.testing import CliRunner

    from raflab.cli import app

    graph = tmp_path / "graph"
    graph.mkdir()
    _write_graph(graph)
    config = tmp_path / "tiny.yaml"
    config.write_text("name: tiny\nstudy: capacity\nseeds: 1\nbase: {task: kg, triplets: 6, steps: 2, batch: 8, "
                      "warmup: 0, device: cpu}\ngrid: {width: [4, 8]}\n")
    runner = CliRunner()
    result = runner.invoke(app, ["seq", "study", "capacity", "--config", str(config), "--data-dir", str(graph),
                                 "--store", str(tmp_path / "s.duckdb"), "--quiet", "--format", "csv"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(__import__("io").StringIO(result.stdout))
    assert sorted(table["width"]) == [4, 8] and (table["fact_accuracy"].between(0, 1)).all()
    assert "width (" in result.output  # the width claim's line, from one seed: inconclusive
    assert "inconclusive" in result.output
    bad = runner.invoke(app, ["seq", "study", "mqar", "--data-dir", str(graph)])
    assert bad.exit_code == 2 and "--data-dir is read by the fictional-qa and capacity studies" in bad.output

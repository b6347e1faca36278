"""``raflab atlas`` reads its sequence-model points from a store's studies when it holds them, and falls
back to the documented values, labelled "documented", when it does not."""

import math

import numpy as np
import pytest
from typer.testing import CliRunner

from raflab.cli import app
from raflab.ledger.atlas import DOCUMENTED, STORED, atlas_points
from raflab.ledger.atlas_store import stored_capacity_triplets, stored_too_big_to_think
from raflab.seq.studies import load_study_config, run_seq_study, shipped_study_config, shrink_study_config


@pytest.fixture(scope="module")
def capacity_store(tmp_path_factory):
    store = tmp_path_factory.mktemp("atlas") / "s.duckdb"
    config = shrink_study_config(load_study_config(shipped_study_config("capacity").with_name(
        "seq_capacity_reduced.yaml")), seeds=3, width=16)
    rows = run_seq_study(config, store=store, quiet=True)
    return store, rows


def test_capacity_point_is_the_stores_runs(capacity_store):
    store, rows = capacity_store
    point = stored_capacity_triplets(store, width=16, triplets=50)
    assert point is not None and point["n_seeds"] == 3
    picked = rows[(rows["task"] == "kg") & (rows["width"] == 16) & (rows["layers"] == 1)
                  & (rows["activation"] == "relu") & (rows["triplets"] == 50)
                  & ~rows["walk_facts"].fillna(False).astype(bool)]
    per_seed = picked.groupby("seed")["facts_stored"].mean() * math.log2(picked["entities"].iloc[0]) \
        / picked["params"].iloc[0]
    assert point["bits_per_parameter"] == pytest.approx(per_seed.mean(), rel=1e-12)
    t = 4.302653  # t_{0.975, 2}
    assert point["ci95_high"] - point["bits_per_parameter"] == pytest.approx(
        t * per_seed.std(ddof=1) / np.sqrt(3), rel=1e-5)
    # no 2,000-triplet runs in this store: the atlas falls back to the documented value, and says so
    assert stored_capacity_triplets(store) is None
    points = atlas_points(store=store).set_index("system")
    capacity = points.loc["GPT, random graph triplets (Capacity Matters)"]
    assert capacity["kind"] == DOCUMENTED and capacity["source"].startswith("docs/sequence.md")
    assert capacity["bits_per_parameter"] == pytest.approx(870 * math.log2(100) / 5072)
    assert stored_too_big_to_think(store, "facts") is None


def test_atlas_cli_reads_a_store_and_refuses_a_missing_one(capacity_store, tmp_path):
    store, _ = capacity_store
    result = CliRunner().invoke(app, ["atlas", "--store", str(store), "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert "documented" in result.stdout
    missing = CliRunner().invoke(app, ["atlas", "--store", str(tmp_path / "none.duckdb")])
    assert missing.exit_code != 0 and "no result store" in missing.output and "Traceback" not in missing.output


def test_too_big_to_think_points_from_a_store(tmp_path):
    regimes = load_study_config(shipped_study_config("too-big-to-think"),
                                grid=[{"task": ["facts", "both"], "width": [16], "steps": [2]}])
    rows = run_seq_study(shrink_study_config(regimes, seeds=2, width=16), store=tmp_path / "t.duckdb", quiet=True)
    found = stored_too_big_to_think(tmp_path / "t.duckdb", "both", width=16)
    both = rows[(rows["task"] == "both") & (rows["width"] == 16)]
    assert found["n_seeds"] == 2 and found["fact_accuracy"] == pytest.approx(both["fact_accuracy"].mean())
    assert found["heldout_accuracy"] == pytest.approx(both["heldout_accuracy"].mean())
    # width 56 is what the atlas reads: absent here, so its points stay documented
    points = atlas_points(store=tmp_path / "t.duckdb")
    tbtt = points[points["system"].str.contains("Too Big to Think")]
    assert (tbtt["kind"] == DOCUMENTED).all() and STORED not in set(points["kind"])


def test_too_big_to_think_point_reads_the_papers_held_out_lines_only(monkeypatch):
    """A paper card runs both held-out sets (digits 1: the paper's 4 lines; 2: 792 lines): the point
    reads digits 1 alone, the set its label names (rows faked: 1.0 held out on the 4 lines, 0.0 on 792)."""
    import pandas as pd

    rows = pd.DataFrame([{"task": "both", "width": 56, "digits": digits, "seed": seed, "steps": 30000,
                          "params": 24920, "fact_accuracy": 0.9 + 0.02 * seed + (0.05 if digits == 2 else 0.0),
                          "heldout_accuracy": 1.0 if digits == 1 else 0.0} for digits in (1, 2) for seed in range(3)])
    monkeypatch.setattr("raflab.ledger.atlas_store._study_sweeps", lambda store, study: [("paper", "h", rows)])
    found = stored_too_big_to_think("any.duckdb", "both")
    assert found["heldout_accuracy"] == 1.0 and found["n_seeds"] == 3
    assert found["fact_accuracy"] == pytest.approx(0.92)

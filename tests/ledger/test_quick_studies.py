"""The quick budget's study claims: each runs a reduced config of its study (fewer seeds or widths than
the shipped card, never a different protocol) and decides from the study's own interval; measured here
end to end on tiny sizes (``shrink_study_config``), so only the path is checked, not the papers' effects."""

import math

import pytest

from raflab.ledger import measures_seq
from raflab.ledger import run as ledger_run
from raflab.ledger.measures_seq import QUICK_STUDIES, study_config
from raflab.ledger.registry import LEDGER_VERDICTS, OUT_OF_REACH
from raflab.seq.studies import load_study_config, shipped_study_config, shrink_study_config

QUICK_STUDY_CLAIMS = ["tbtt.small-models-extrapolate", "tbtt.large-models-fail-to-extrapolate",
                      "tbtt.joint-no-width-extrapolates", "capacity.width-increases-capacity",
                      "capacity.layers-hinder", "capacity.softmax-most-capacity", "capacity.walks-beat-triplets",
                      "bits.two-bits-per-parameter"]


@pytest.mark.parametrize("study", sorted(QUICK_STUDIES))
def test_quick_study_is_a_reduction_of_the_shipped_card_with_three_seeds(study):
    quick, full = study_config(study, "quick"), study_config(study, "full")
    assert quick.study == full.study == study
    assert quick.seeds == 3 and len(quick.runs()) < len(full.runs())
    full_tasks = {p["task"] for p in full.points()}
    assert {p["task"] for p in quick.points()} <= full_tasks
    assert full.model_dump() == load_study_config(shipped_study_config(study)).model_dump()


def test_quick_tbtt_keeps_the_smallest_and_largest_widths_of_every_regime():
    points = study_config("too-big-to-think", "quick").points()
    for task in ("arithmetic", "facts", "both"):
        assert sorted(p["width"] for p in points if p["task"] == task) == [14, 56]


def _tiny(study, budget):
    """The quick config of ``study`` at seconds a run (its grid kept: capacity's layer comparison too)."""
    config = study_config(study, budget)
    if study == "bits":  # a plateau stop needs more evaluations than the 2 tiny steps give
        return shrink_study_config(config, seeds=3, steps=4, eval_every=2, width=8)
    return shrink_study_config(config, seeds=3, width=24, layers=4, target_params=5072)


def _run_tiny(claims, store, monkeypatch):
    monkeypatch.setattr(measures_seq, "study_config", _tiny)
    measures_seq._study_rows.cache_clear()
    try:
        lines = ledger_run.run_claims(claims, budget="quick", store=store, quiet=True).set_index("claim")
    finally:
        measures_seq._study_rows.cache_clear()
    for claim, line in lines.iterrows():
        assert line["verdict"] in LEDGER_VERDICTS and line["verdict"] not in (OUT_OF_REACH, "failed"), (claim, line)
        assert line["note"].startswith("quick: reduced config"), claim
        assert math.isfinite(line["value"]), claim
        # 3 seeds run; at tiny sizes a comparison may hold fewer (capacity drops a seed whose walks cover
        # no fact), and then its verdict cannot be more than inconclusive
        assert 1 <= line["n_seeds"] <= 3, claim
        if line["n_seeds"] < 3:
            assert line["verdict"] == "inconclusive", (claim, line)
        if line["n_seeds"] >= 2:
            assert line["ci95_low"] <= line["value"] <= line["ci95_high"], claim
    return lines


def test_quick_tbtt_claims_decide_from_the_study_table_at_tiny_sizes(tmp_path, monkeypatch):
    lines = _run_tiny(QUICK_STUDY_CLAIMS[:3], tmp_path / "t.duckdb", monkeypatch)
    assert "arithmetic at width 14," in lines.loc["tbtt.small-models-extrapolate", "note"]
    assert "arithmetic at width 24," in lines.loc["tbtt.large-models-fail-to-extrapolate", "note"]
    assert "both at width" in lines.loc["tbtt.joint-no-width-extrapolates", "note"]
    # the ledger's value is the study table's: the held-out accuracy over 3 seeds lies in [0, 1]
    assert (lines["value"].between(0, 1)).all()


def test_quick_capacity_and_bits_claims_decide_from_their_studies_at_tiny_sizes(tmp_path, monkeypatch):
    lines = _run_tiny(QUICK_STUDY_CLAIMS[3:], tmp_path / "c.duckdb", monkeypatch)
    assert "width=24 - width=8" in lines.loc["capacity.width-increases-capacity", "note"]
    assert "layers=" in lines.loc["capacity.layers-hinder", "note"]
    assert "6 runs" in lines.loc["bits.two-bits-per-parameter", "note"]  # widths 6 and 8 (capped) x 3 seeds
    # the studies wrote their own sweeps to the store, before the ledger's sweeps held it
    from raflab.sweeps.store import ResultStore

    tasks = set(ResultStore(tmp_path / "c.duckdb").sweeps()["task"])
    assert any(not t.startswith("ledger:") for t in tasks) and "ledger:quick" in tasks


def test_quick_cross_modal_claims_read_the_bridge_free_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(measures_seq, "QUICK_CROSS_MODAL", {
        "widths": [8], "bridge_fractions": [0.0], "seeds": 3, "n_personas": 8, "steps": 4, "eval_every": 2,
        "pretrain_steps": 2, "align_steps": 2, "unlearn_steps": 2, "train_views": 1, "test_views": 1,
        "device": "cpu"})
    measures_seq._cross_modal_records.cache_clear()
    lines = ledger_run.run_claims(["crossmodal.gap", "crossmodal.gap-persists-after-unlearning"], budget="quick",
                                  store=tmp_path / "c.duckdb", quiet=True).set_index("claim")
    for claim, line in lines.iterrows():
        assert line["n_seeds"] == 3 and line["verdict"] in LEDGER_VERDICTS and line["verdict"] != OUT_OF_REACH
        assert "widths [8]" in line["note"] and line["note"].startswith("quick: reduced config"), claim
        assert -1 <= line["value"] <= 1
    measures_seq._cross_modal_records.cache_clear()


def test_capacity_claims_are_judged_where_capacity_binds():
    # saturated settings (few facts, or a wide model) give 0 and say nothing: the most facts and the
    # smallest model decide; against several baselines the least favourable one; layers: the deepest
    import pandas as pd

    from raflab.ledger.measures_seq import binding_comparison

    def line(treatment, baseline, setting, difference):
        return {"treatment": treatment, "baseline": baseline, "setting": setting, "difference": difference,
                "ci_low": difference - 0.01, "ci_high": difference + 0.01, "n_seeds": 5}

    lines = pd.DataFrame([line("activation=softmax", "activation=gelu", "triplets=250, width=16", 0.0),
                          line("activation=softmax", "activation=gelu", "triplets=2000, width=16", -0.005),
                          line("activation=softmax", "activation=relu", "triplets=2000, width=16", 0.04),
                          line("activation=softmax", "activation=relu", "triplets=2000, width=32", -0.3)])
    row = binding_comparison(lines, "above")
    assert (row["baseline"], row["difference"]) == ("activation=gelu", -0.005)
    layers = pd.DataFrame([line("layers=2", "layers=1", "triplets=2000, target_params=5072", 0.0085),
                           line("layers=4", "layers=1", "triplets=2000, target_params=5072", -0.0571),
                           line("layers=4", "layers=1", "triplets=1000, target_params=5072", -0.0078)])
    assert binding_comparison(layers, "below")["treatment"] == "layers=2"  # least favourable
    assert binding_comparison(layers, "below", deepest=True)["difference"] == -0.0571

"""The reward ablation of the schema-linking analogue: the wrong-item cost decides how many items GRPO
from scratch includes; the grid's bookkeeping (shared cold start, paired gains); the CLI."""

import json

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from raflab.agents.cli import schema_app
from raflab.agents.schema.ablation import VARIANTS, ablation_gains, run_reward_ablation, variant_config
from raflab.agents.schema.data import SchemaDataConfig
from raflab.agents.schema.linker import SchemaTrainConfig, encode_splits, run_schema_study

SMALL_DATA = SchemaDataConfig(n_train_dbs=6, n_test_dbs=3, questions_per_db=6)
runner = CliRunner()


def test_variant_config_changes_only_its_fields():
    assert variant_config("authors") == SchemaTrainConfig()
    cfg = variant_config("per_item_cost", SchemaTrainConfig(grpo_steps=7))
    assert (cfg.wrong_cost, cfg.grpo_steps, cfg.beta) == ("per_item", 7, 0.04)
    assert variant_config("accuracy_only").reward_weights == {"accuracy": 1.0}
    with pytest.raises(ValueError, match="unknown variant"):
        variant_config("nope")
    with pytest.raises(ValidationError, match="unknown reward term"):
        SchemaTrainConfig(reward_weights={"acc": 1.0})
    with pytest.raises(ValidationError, match="wrong_cost"):
        SchemaTrainConfig(wrong_cost="half")


def test_recall_reward_makes_grpo_from_scratch_include_more_than_a_per_item_cost():
    """GRPO from the random policy, same seed and data: with the wrong-item cost removed (recall_only,
    the filter criterion as a reward) the policy ends up including more items per question and reaches
    a lower columns exact match than with a per-item cost equal to a hit's reward. Two seeds, both."""
    base = SchemaTrainConfig(grpo_steps=60, group_size=8, prompts_per_step=8, grpo_lr=0.03)
    rec = run_reward_ablation(["recall_only", "per_item_cost"], seeds=2, data_cfg=SMALL_DATA, base=base,
                              methods=["grpo"], device="cpu")
    unseen = rec[rec["split"] == "unseen_schema"].set_index(["variant", "seed"])
    for s in (0, 1):
        assert unseen.loc[("recall_only", s), "items_predicted"] > unseen.loc[("per_item_cost", s), "items_predicted"] + 1
        assert unseen.loc[("recall_only", s), "columns_filter"] >= unseen.loc[("per_item_cost", s), "columns_filter"]


def test_authors_variant_is_the_study_sft_grpo_run():
    """The grid's shared cold start restores the streams exactly: its authors run equals run_schema_study's
    sft+grpo run, and its sft records equal the study's sft records."""
    base = SchemaTrainConfig(sft_steps=15, grpo_steps=4, group_size=4, prompts_per_step=4, eval_every=10**9)
    rec = run_reward_ablation(["authors"], seeds=1, seed=3, data_cfg=SMALL_DATA, base=base, methods=["sft+grpo"],
                              device="cpu")
    study, _ = run_schema_study(SMALL_DATA, base, methods=("sft", "sft+grpo"), seeds=1, seed=3, device="cpu")
    for method in ("sft", "sft+grpo"):
        a = rec[rec["method"] == method].set_index("split").sort_index()
        b = study[study["method"] == method].set_index("split").sort_index()
        assert np.allclose(a["mean_reward"], b["mean_reward"]) and np.allclose(a["items_predicted"], b["items_predicted"])


def test_ablation_gains_pairs_by_seed_with_t_interval():
    rows = []
    for s, (sft, tuned) in enumerate([(0.2, 0.3), (0.4, 0.6), (0.1, 0.4)]):
        for v, m, x in (("-", "sft", sft), ("authors", "sft+grpo", tuned)):
            rows.append({"variant": v, "method": m, "seed": s, "split": "unseen_schema", "tables_filter": x,
                         "columns_filter": x, "tables_exact": x, "columns_exact": x, "items_predicted": x})
    g = ablation_gains(pd.DataFrame(rows)).iloc[0]
    d = np.array([0.1, 0.2, 0.3])
    half = 4.302653 * d.std(ddof=1) / np.sqrt(3)  # t_{0.975, 2}
    assert g["n_seeds"] == 3 and g["columns_filter_gain"] == pytest.approx(0.2)
    assert (g["columns_filter_gain_low"], g["columns_filter_gain_high"]) == pytest.approx((0.2 - half, 0.2 + half), rel=1e-5)
    with pytest.raises(ValueError, match="duplicate ablation record"):
        ablation_gains(pd.concat([pd.DataFrame(rows), pd.DataFrame(rows[:1])]))
    with pytest.raises(ValueError, match="lack column"):
        ablation_gains(pd.DataFrame(rows).drop(columns="items_predicted"))


def test_cli_ablate_json_and_bad_variant(tmp_path):
    args = ["ablate", "--variant", "authors,format_only", "--seeds", "2", "--sft-steps", "5", "--grpo-steps", "2",
            "--train-dbs", "3", "--test-dbs", "2", "--questions", "3", "--device", "cpu", "--format", "json",
            "--records", str(tmp_path / "r.csv")]
    res = runner.invoke(schema_app, args)
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout[res.stdout.index("["):])
    assert {r["variant"] for r in rows} == {"authors", "format_only"} and len(rows) == 6
    assert all(r["columns_filter_gain_low"] <= r["columns_filter_gain"] <= r["columns_filter_gain_high"] for r in rows)
    assert len(pd.read_csv(tmp_path / "r.csv")) == 3 * (2 + 2 * 2 * 2)  # splits x (sft + variants x methods) x seeds
    bad = runner.invoke(schema_app, ["ablate", "--variant", "nope", "--seeds", "1"])
    assert bad.exit_code != 0 and "unknown variant" in bad.output
    assert set(VARIANTS) >= {"authors", "recall_only", "per_item_cost", "beta_0", "group_16"}


def test_sft_continued_control_has_no_scratch_run_and_trains_past_the_cold_start():
    base = SchemaTrainConfig(sft_steps=10, grpo_steps=20, eval_every=10**9)
    rec = run_reward_ablation(["sft_continued"], seeds=1, data_cfg=SMALL_DATA, base=base, device="cpu")
    assert set(rec["method"]) == {"sft", "sft+grpo"}  # no from-scratch run for a control
    a = rec[rec["method"] == "sft"].set_index("split")["mean_reward"]
    b = rec[rec["method"] == "sft+grpo"].set_index("split")["mean_reward"]
    assert not np.allclose(a, b)  # 20 more SFT steps changed the policy

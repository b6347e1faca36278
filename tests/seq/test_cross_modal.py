import numpy as np
import pytest
import torch
from pydantic import ValidationError

from raflab.seq.cross_modal.data import make_cross_modal_data
from raflab.seq.cross_modal.models import JointConfig, count_parameters, joint_parameter_count, make_joint_model
from raflab.seq.cross_modal.study import CrossModalConfig, run_cross_modal_study, summarize_cross_modal

torch.set_num_threads(1)

TINY = dict(n_personas=8, widths=[8], bridge_fractions=[0.0], steps=4, eval_every=2, pretrain_steps=2,
            align_steps=2, unlearn_steps=2, train_views=1, test_views=1, device="cpu")


def test_records_keys_and_gap_definition():
    df = run_cross_modal_study(CrossModalConfig(**TINY))
    assert set(df["part"]) == {"transfer", "two_hop", "unlearn"}
    assert set(df["direction"]) == {"text->image", "image->text"}
    np.testing.assert_allclose(df["transfer_gap"], df["source_accuracy"] - df["target_accuracy"])
    tr = df[df["part"] == "transfer"]
    assert sorted(tr["step"].unique()) == [2, 4]
    un = df[df["part"] == "unlearn"]
    before, after = sorted(un["step"].unique())  # before and after at most two ascent steps
    assert before == 4 and 4 < after <= 6
    table = summarize_cross_modal(df)
    assert set(table["phase"]) == {"", "before", "after"} and (table["n_seeds"] == 1).all()


def test_parameter_count_and_model_is_a_function_of_the_seed():
    cfg = JointConfig(vocab_size=30, n_patches=9, patch_dim=16, d_model=16, n_layers=2, n_heads=2)
    a, b = make_joint_model(cfg, seed=3), make_joint_model(cfg, seed=3)
    assert count_parameters(a) == joint_parameter_count(cfg)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
    state = torch.random.get_rng_state()
    make_joint_model(cfg, seed=4)
    assert torch.equal(state, torch.random.get_rng_state())  # the global generator is untouched


def test_image_rows_read_the_picture_and_text_rows_ignore_the_patches():
    cfg = CrossModalConfig(**TINY)
    data = make_cross_modal_data(cfg.persona_config(0.0), np.random.default_rng(0))
    model = make_joint_model(cfg.joint_config(16, data.vocab.size), seed=0).eval()
    t = {k: torch.as_tensor(v[:4]) for k, v in data.tests["facts_image"].items() if k in
         ("patches", "tokens", "has_image")}
    base, _ = model(**t)
    other, _ = model(**{**t, "patches": t["patches"] + 1.0})
    assert not torch.allclose(base, other)
    t = {k: torch.as_tensor(v[:4]) for k, v in data.tests["facts_text"].items() if k in
         ("patches", "tokens", "has_image")}
    base, _ = model(**t)
    other, _ = model(**{**t, "patches": t["patches"] + 1.0})
    torch.testing.assert_close(base, other)


def test_bad_config_names_the_field():
    with pytest.raises(ValidationError, match="bridge_fractions"):
        CrossModalConfig(bridge_fractions=[1.0])
    with pytest.raises(ValidationError, match="widths"):
        CrossModalConfig(widths=[1])
    with pytest.raises(ValidationError, match="steps"):
        CrossModalConfig(steps=0)


def _final(df, part="transfer"):
    rows = df[df["part"] == part]
    return rows[rows["step"] == rows["step"].max()].set_index("direction")


@pytest.mark.slow  # 26 s in a 1-thread run of tests/seq on the loaded 2 cores (load 10-15)
def test_facts_recalled_in_the_source_modality_much_better_than_in_the_target():
    """Reduced run: 16 personas, width 16. Both directions learn their facts (source >= 0.9) and the
    faces are recognised on fresh views (captions >= 0.8), yet the other modality recalls much less
    (the gap grows with the number of personas: see docs/cross_modal.md)."""
    cfg = CrossModalConfig(n_personas=16, widths=[16], bridge_fractions=[0.0], pretrain_steps=60, align_steps=200,
                           steps=300, eval_every=300, train_views=4, test_views=2, unlearn_steps=0, name_tie=0.0,
                           device="cpu")
    final = _final(run_cross_modal_study(cfg))
    shown = final[["source_accuracy", "target_accuracy", "alignment_accuracy"]].to_dict()
    assert (final["source_accuracy"] >= 0.9).all(), shown
    assert (final["alignment_accuracy"] >= 0.8).all(), shown
    assert (final["transfer_gap"] >= 0.25).all(), shown


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gap_transfer_and_unlearning_default_world(seed):
    """The default world (32 personas, width 32, name tie 1): facts are learned in their source
    modality (>= 0.9) and transfer in part (target >= 0.5 on average, far above chance 1/16), with a
    gap left (> 0 on average); NPO with a retain loss in the source modality brings the forgotten facts
    to <= 0.1 there and keeps the other personas' facts (source >= 0.8)."""
    cfg = CrossModalConfig(widths=[32], bridge_fractions=[0.0], seed=seed, device="cpu")
    df = run_cross_modal_study(cfg)
    final = _final(df)
    assert (final["source_accuracy"] >= 0.9).all(), final
    assert final["target_accuracy"].mean() >= 0.5, final
    assert final["transfer_gap"].mean() > 0, final
    un = _final(df, "unlearn")
    assert (un["source_accuracy"] <= 0.1 + 1e-9).all(), un
    assert (un["retain_accuracy"] >= 0.8).all(), un


def test_cli_entry_reads_a_yaml_config_and_draws_the_figure(tmp_path):
    import yaml

    from raflab.seq.cross_modal.study import load_cross_modal_config, run_cross_modal_cli

    path = tmp_path / "cm.yaml"
    path.write_text(yaml.safe_dump({"name": "tiny", "study": "cross-modal", **TINY}))
    summary, figure = run_cross_modal_cli(config=str(path), seeds=1, store=str(tmp_path / "s.duckdb"), quiet=True,
                                         out=str(tmp_path / "cm.png"))
    assert (tmp_path / "cm.png").stat().st_size > 0 and figure is not None
    assert "runs in" in summary.attrs["notes"][0] and set(summary["part"]) == {"transfer", "two_hop", "unlearn"}
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"study": "mqar"}))
    with pytest.raises(ValueError, match="not 'cross-modal'"):
        load_cross_modal_config(str(bad))
    with pytest.raises(ValueError, match="cannot read config"):
        load_cross_modal_config(str(tmp_path / "missing.yaml"))


def _mean_gap_and_target(cfg):
    final = _final(run_cross_modal_study(cfg))
    return final["transfer_gap"], final["target_accuracy"], final["source_accuracy"]


@pytest.mark.slow  # 76 s in a 1-thread run of tests/seq on the loaded 2 cores (load 10-15)
def test_name_tie_narrows_the_gap_in_a_reduced_run():
    """Reduced run (16 personas, width 16, one seed): tying each caption's visual token to the name
    embedding it stands for (``name_tie``) raises the target-modality accuracy and narrows the gap in
    both directions, with the source accuracy kept."""
    # 600 fact-training steps: the tied run learns its source modality (>= 0.9) in every seed tried (8
    # of 8); at 300 steps it was still short of 0.9 in 6 seeds of 8, so that passing was up to the seed
    base = dict(n_personas=16, widths=[16], bridge_fractions=[0.0], pretrain_steps=60, align_steps=200,
                steps=600, eval_every=600, train_views=4, test_views=2, unlearn_steps=0, device="cpu")
    gap0, target0, source0 = _mean_gap_and_target(CrossModalConfig(**base, name_tie=0.0))
    gap1, target1, source1 = _mean_gap_and_target(CrossModalConfig(**base, name_tie=1.0))
    shown = {"gap": (gap0.to_dict(), gap1.to_dict()), "target": (target0.to_dict(), target1.to_dict()),
             "source": (source0.to_dict(), source1.to_dict())}
    # the facts are learned in their source modality with and without the tie (the gap is meaningful)
    assert (source0 >= 0.9).all() and (source1 >= 0.9).all(), shown
    assert (gap1 < gap0).all(), shown
    assert gap0.mean() - gap1.mean() >= 0.15, shown


@pytest.mark.slow
def test_name_tie_narrows_the_gap_default_world_three_seeds():
    """Default world (32 personas, width 32), seeds 0-2: the name tie narrows the mean gap (over the
    two directions) in every seed, by more than 3 standard errors of the per-seed reduction."""
    reductions = []
    for seed in range(3):
        cfg = dict(widths=[32], bridge_fractions=[0.0], seed=seed, unlearn_steps=0, device="cpu")
        gap0, _, _ = _mean_gap_and_target(CrossModalConfig(**cfg, name_tie=0.0))
        gap1, _, _ = _mean_gap_and_target(CrossModalConfig(**cfg, name_tie=1.0))
        reductions.append(gap0.mean() - gap1.mean())
    r = np.array(reductions)
    assert (r > 0).all(), r
    assert r.mean() > 3 * r.std(ddof=1) / np.sqrt(len(r)), r

"""Sequence-lab runs and studies: configs validated up front, rows stored as runs finish, resume."""

import pandas as pd
import pytest
from pydantic import ValidationError

from raflab.seq import studies as seq_study
from raflab.seq.studies import SeqStudyConfig, load_study_config, run_seq_study, seq_run, shipped_study_config

TINY = {"task": "kg", "entities": 20, "relations": 3, "triplets": 30, "width": 8, "steps": 6, "eval_every": 3,
        "device": "cpu"}


def test_task_defaults_then_given_settings():
    run = seq_run("mqar", width=32, steps=None)
    assert run.width == 32 and run.steps == seq_study.TASK_DEFAULTS["mqar"]["steps"]
    assert seq_run("arithmetic").width == 14  # the paper's smallest model
    with pytest.raises(ValueError, match="unknown task"):
        seq_run("sorting")


def test_study_configs_are_checked_before_anything_trains(tmp_path):
    with pytest.raises(ValidationError, match="'colour' is not a run setting"):
        SeqStudyConfig(name="x", study="mqar", base={"task": "mqar"}, grid={"colour": [1]})
    with pytest.raises(ValidationError, match="width must be divisible by heads"):
        SeqStudyConfig(name="x", study="mqar", base={"task": "mqar", "heads": 3}, grid={"width": [32, 33]})
    with pytest.raises(ValidationError, match="unknown study"):
        SeqStudyConfig(name="x", study="grokking")
    with pytest.raises(ValidationError, match="zip needs grid lists of one length"):
        SeqStudyConfig(name="x", study="bits", base={"task": "random"}, combine="zip",
                       grid={"width": [8, 16], "layers": [1]})
    with pytest.raises(ValueError, match="no study config"):
        load_study_config(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nstudy: [mqar\n")  # a YAML syntax error is one line, not a traceback
    with pytest.raises(ValueError, match="broken.yaml: cannot parse"):
        load_study_config(broken)
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n- 2\n")
    with pytest.raises(ValueError, match="expected a mapping of keys"):
        load_study_config(listed)


def test_union_of_grids_without_repeats():
    cfg = SeqStudyConfig(name="x", study="capacity", base={"task": "kg"}, seeds=2,
                         grid=[{"width": [16, 32]}, {"width": [32], "layers": [1, 2]}])
    widths_layers = [(p["width"], p.get("layers", 1)) for p in cfg.points()]
    assert widths_layers == [(16, 1), (32, 1), (32, 2)]  # (32, layers 1) appears in both grids: once
    assert len(cfg.runs()) == 6 and sorted({r.seed for r in cfg.runs()}) == [0, 1]


@pytest.mark.parametrize("study", seq_study.STUDIES)
def test_shipped_configs_load_and_are_valid(study):
    cfg = load_study_config(shipped_study_config(study))
    assert cfg.study == study and len(cfg.runs()) >= 4


def test_rows_are_stored_and_a_rerun_trains_nothing(tmp_path, monkeypatch):
    store = tmp_path / "seq.duckdb"
    cfg = SeqStudyConfig(name="tiny", study="capacity", base=TINY, grid={"width": [8, 12]}, seeds=1)
    rows = run_seq_study(cfg, store=store, quiet=True)
    assert len(rows) == 2 and set(rows["width"]) == {8, 12}
    assert (rows["items"] == 30).all() and (rows["mac"] >= rows["capacity"]).all()
    record = seq_study.run_sequence_experiment(cfg.runs()[0])
    first = rows[rows["width"] == 8].iloc[0]
    assert first["train_accuracy"] == record["train_accuracy"] and first["params"] == record["params"]

    def must_not_run(run):
        raise AssertionError("a stored run was trained again")

    monkeypatch.setattr(seq_study, "_execute", must_not_run)
    again = run_seq_study(cfg, store=store, quiet=True)
    pd.testing.assert_frame_equal(again.sort_values("width").reset_index(drop=True),
                                  rows.sort_values("width").reset_index(drop=True))


def test_a_failing_run_is_a_failed_row_not_a_crash(tmp_path):
    cfg = SeqStudyConfig(name="fail", study="capacity", base={**TINY, "graph": "umls"}, grid={"width": [8]})
    store = tmp_path / "seq.duckdb"
    rows = run_seq_study(cfg, store=store, quiet=True)
    assert rows.empty or "status" not in rows  # nothing done
    from raflab.sweeps.store import ResultStore

    failed = ResultStore(store).rows(cfg.config_hash, status="failed")
    if len(failed):  # pykeen absent: one failed row per seed, its reason kept
        assert failed["error"].str.contains("pykeen").all()

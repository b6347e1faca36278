"""Fictional Q&A and cross-modal personas run through the sweep store: a study killed with SIGKILL
mid-run resumes to exactly the rows of a clean run (timings aside), and a rerun trains nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import torch
import yaml

from raflab.seq import registry
from raflab.seq.cross_modal import study as cross_modal
from raflab.seq.fictional import study as fictional
from raflab.sweeps.engine import PAUSE_ENV
from raflab.sweeps.store import ResultStore

torch.set_num_threads(1)

#: what a row holds that depends on when and where it ran, not on what was computed
TIMINGS = ("finished_at", "backend", "git_commit", "raflab_version", "wall_s", "tokens_per_s", "train_s", "eval_s",
           "cpu_s")

CROSS_MODAL = dict(n_personas=8, widths=[8], bridge_fractions=[0.0], steps=4, eval_every=2, pretrain_steps=2,
                   align_steps=2, unlearn_steps=2, train_views=1, test_views=1, seeds=2, device="cpu")
FICTIONAL = dict(n_events=12, format_events=3, docs_per_style={"news": 2, "encyclopedia": 2}, options=[4],
                 block_size=100, n_embd=16, n_head=2, n_layer=1, batch_size=8, steps=4, warmup=1, mix_ratio=1.0,
                 generic_vocab=20, prefix_tokens=4, suffix_tokens=4, splits=["event", "document"], fictsheets=True,
                 facts_per_doc=3, questions_per_doc=3, doc_words=None, device="cpu")
STUDIES = {"cross-modal": (CROSS_MODAL, cross_modal.load_cross_modal_config, cross_modal.run_cross_modal_study),
           "fictional-qa": (FICTIONAL, fictional.load_fictional_qa_config, fictional.run_fictional_qa_study)}


def _stored(store) -> pd.DataFrame:
    """The store's rows without their timings (in the columns and in each unit's records)."""
    rows = ResultStore(store).rows(status=None)
    rows = rows.drop(columns=[c for c in TIMINGS if c in rows])
    rows["records"] = [json.dumps([{k: v for k, v in r.items() if k not in TIMINGS} for r in json.loads(text)])
                       for text in rows["records"]]
    return rows.sort_values(["kind", "point", "seed"], ignore_index=True)


def _start_paused(name: str, config, store, pause_after: int):
    """The study in a subprocess that stores ``pause_after`` runs, then waits to be killed."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", PAUSE_ENV: str(pause_after)}
    cmd = [sys.executable, "-m", "raflab.cli", "seq", "study", name, "--config", str(config), "--store", str(store),
           "--quiet", "--format", "json"]
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    live = ResultStore(store)
    deadline = time.monotonic() + 300  # a bound for a stuck run, not a speed assumption
    while time.monotonic() < deadline and proc.poll() is None:
        state = live.read_live()
        entry = None if state is None or state["running"] is None else \
            next(s for s in state["sweeps"] if s["config_hash"] == state["running"])
        if entry is not None and entry["done"] + entry["failed"] >= pause_after:
            return proc
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"the study did not reach its pause: {proc.stderr.read().decode()}")


@pytest.mark.parametrize("name", list(STUDIES))
def test_sigkill_midway_then_resume_gives_exactly_the_rows_of_a_clean_run(name, tmp_path, monkeypatch):
    settings, load, run_study = STUDIES[name]
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump({"name": "resume", "study": name, **settings}))
    config = load(str(path))
    killed, clean = tmp_path / "killed.duckdb", tmp_path / "clean.duckdb"
    proc = _start_paused(name, path, killed, pause_after=1)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert len(ResultStore(killed).rows(status=None)) == 1  # one run stored, the others lost with the process

    resumed = run_study(config, store=str(killed))
    expected = run_study(config, store=str(clean))
    a, b = _stored(killed), _stored(clean)
    assert len(a) == len(b) > 1  # none lost, none duplicated
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    timing = [c for c in TIMINGS if c in resumed]
    pd.testing.assert_frame_equal(resumed.drop(columns=timing), expected.drop(columns=timing), check_exact=True)

    def must_not_run(*args, **kwargs):
        raise AssertionError("a stored run was trained again")

    module = cross_modal if name == "cross-modal" else fictional
    monkeypatch.setattr(module, "_run_unit", must_not_run)
    again = run_study(config, store=str(clean))
    pd.testing.assert_frame_equal(again, expected)


def test_without_a_store_the_records_equal_the_stored_ones(tmp_path):
    config = cross_modal.CrossModalConfig(**{**CROSS_MODAL, "seeds": 1, "widths": [8]})
    here = cross_modal.run_cross_modal_study(config)
    stored = cross_modal.run_cross_modal_study(config, store=str(tmp_path / "s.duckdb"))
    timing = ["wall_s", "tokens_per_s"]
    pd.testing.assert_frame_equal(here.drop(columns=timing), stored.drop(columns=timing), check_exact=True)


def test_named_studies_are_one_set_of_choices():
    assert registry.ALL_STUDIES[-2:] == ("fictional-qa", "cross-modal")
    with pytest.raises(ValueError, match="unknown study 'grokking'; choose one of too-big-to-think"):
        registry.run_named_study("grokking")
    with pytest.raises(ValueError, match="--data-dir is read by the fictional-qa and capacity studies only"):
        registry.run_named_study("mqar", data_dir="x")

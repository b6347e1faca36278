"""Budget paper: at ``--budget full`` on a machine with CUDA, the claims with a paper-scale run card
(configs/paper/) run it; the others are measured at full. Without CUDA, ``--budget paper`` is a clear
error and ``full`` stays the CPU-scale configs. CUDA is faked here (monkeypatched); nothing trains."""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from raflab.cli import app
from raflab.ledger import run as ledger_run
from raflab.ledger.claims import all_claims
from raflab.ledger.measures_seq import PAPER_CARDS, study_config
from raflab.ledger.registry import Claim

CARD_CLAIM, PLAIN_CLAIM = "bits.two-bits-per-parameter", "raf.gardner-capacity"


def _cuda(monkeypatch, present: bool):
    monkeypatch.setattr("raflab.core.device.cuda_available", lambda: present)


def test_the_card_claims_name_cards_of_their_own_study_at_the_papers_scale():
    with_card = {c.id: c.paper_card for c in all_claims() if c.paper_card}
    assert sorted({i.split(".")[0] for i in with_card}) == ["bits", "capacity", "tbtt"]
    assert len(with_card) == 8  # 3 Too Big to Think, 4 Capacity Matters, 1 bits
    for study in PAPER_CARDS:
        paper, full = study_config(study, "paper"), study_config(study, "full")
        assert paper.study == full.study == study and paper.name.endswith("-paper")
        runs = paper.runs()
        assert {r.device for r in runs} == {"cuda"}
        assert max(r.steps for r in runs) > max(r.steps for r in full.runs())  # longer than the CPU card


def test_budget_resolution_with_and_without_cuda(monkeypatch):
    _cuda(monkeypatch, False)
    assert [ledger_run.resolve_budget(b) for b in ("quick", "full")] == ["quick", "full"]
    with pytest.raises(ValueError, match="needs CUDA"):
        ledger_run.resolve_budget("paper")
    _cuda(monkeypatch, True)
    assert [ledger_run.resolve_budget(b) for b in ("quick", "full", "paper")] == ["quick", "paper", "paper"]
    card, plain = (next(c for c in all_claims() if c.id == i) for i in (CARD_CLAIM, PLAIN_CLAIM))
    assert (card.line_budget("paper"), plain.line_budget("paper"), card.line_budget("full")) == \
        ("paper", "full", "full")


def test_full_with_cuda_stores_card_claims_at_paper_and_reuses_the_full_rows_of_the_others(tmp_path, monkeypatch):
    calls = []

    def fake_study(budget, store):
        calls.append(budget)
        return {"value": 3.6 if budget == "paper" else 1.7, "ci95_low": 3.4 if budget == "paper" else 1.6,
                "ci95_high": 3.8 if budget == "paper" else 1.8, "n_seeds": 3, "note": budget}

    counted = []

    def plain_measure(budget, seed):
        counted.append(budget)
        return 2.0

    claims = [Claim(**{**c.__dict__, "study": fake_study}) if c.id == CARD_CLAIM else
              Claim(**{**c.__dict__, "measure": plain_measure}) if c.id == PLAIN_CLAIM else c for c in all_claims()]
    monkeypatch.setattr("raflab.ledger.claims.all_claims", lambda: claims)
    store = tmp_path / "ledger.duckdb"
    _cuda(monkeypatch, False)
    cpu = ledger_run.run_claims([CARD_CLAIM, PLAIN_CLAIM], budget="full", store=store, quiet=True)
    assert list(cpu["budget"]) == ["full", "full"] and cpu["verdict"].iloc[0] == "contradicted"  # 1.7 < 2
    _cuda(monkeypatch, True)
    gpu = ledger_run.run_claims([CARD_CLAIM, PLAIN_CLAIM], budget="full", store=store, quiet=True)
    assert list(gpu["budget"]) == ["paper", "full"] and gpu["value"].iloc[0] == 3.6
    assert gpu["verdict"].iloc[0] == "reproduced"
    assert calls == ["full", "paper"] and counted == ["full"]  # the plain claim's stored row was reused
    largest = ledger_run.stored_ledger_largest_budget(store).set_index("claim")
    assert largest.loc[CARD_CLAIM, "budget"] == "paper" and largest.loc[PLAIN_CLAIM, "budget"] == "full"
    page = ledger_run.ledger_page(largest.reset_index(), "raflab reproduce ... --budget full", store=store)
    assert "measured at paper scale (GPU run cards): 1; measured at full: 1; at quick only: 0" in page


@pytest.mark.parametrize("args", [["bits.two-bits-per-parameter", "--budget", "paper"],
                                  ["bits.two-bits-per-parameter", "--budget", "paper", "--max-cpu-min", "5"]])
def test_cli_budget_paper_without_cuda_is_one_line_error(args, tmp_path, monkeypatch):
    _cuda(monkeypatch, False)
    store = tmp_path / "none.duckdb"
    result = CliRunner().invoke(app, ["reproduce", *args, "--store", str(store)])
    assert result.exit_code == 2, result.output
    assert result.output.count("error:") == 1 and "Traceback" not in result.output
    assert not store.exists()


def test_list_names_each_claims_card():
    result = CliRunner().invoke(app, ["reproduce", "--list", "--format", "json"])
    assert result.exit_code == 0, result.output
    table = pd.DataFrame(json.loads(result.stdout))
    assert table.set_index("claim").loc[CARD_CLAIM, "paper_card"] == "bits_per_parameter.yaml"
    assert table.set_index("claim").loc[PLAIN_CLAIM, "paper_card"] == ""


def test_walk_counts_are_compared_apart_each_paired_by_seed():
    """The Capacity card runs 3 walk counts: each is its own comparison of 3 seeds (not 9 rows as 9 seeds)."""
    from raflab.seq.capacity_claims import CAPACITY_CLAIMS, capacity_claims

    rows = pd.DataFrame([{"task": task, "walk_facts": task == "kg", "walks": walks, "seed": seed,
                          "fact_accuracy": (0.5 + walks / 1e5 + 0.01 * seed) if task == "walks" else 0.4 + 0.01 * seed,
                          "triplets": 100000, "width": 128, "layers": 1, "activation": "relu", "graph": "random",
                          "entities": 20000, "relations": 50}
                         for walks in (5000, 10000, 20000) for seed in range(3) for task in ("walks", "kg")])
    lines = capacity_claims(rows, claims=[c for c in CAPACITY_CLAIMS if c.name == "walks"])
    assert len(lines) == 3 and (lines["n_seeds"] == 3).all()
    assert sorted(lines["difference"].round(6)) == [0.15, 0.2, 0.3]  # 0.1 + walks / 1e5, the seeds' shift cancels


def test_max_cpu_min_with_cuda_leaves_the_gpu_cards_out(monkeypatch):
    from raflab.ledger.costs import split_by_cost

    ids = [PLAIN_CLAIM, "capacity.layers-hinder", CARD_CLAIM]
    kept, skipped = split_by_cost(ids, "paper", 1000)  # every CPU cost is under 1000 CPU-min
    assert kept == [PLAIN_CLAIM]
    assert list(skipped["claim"]) == ids[1:] and skipped["reason"].str.contains("GPU run card").all()
    assert split_by_cost(ids, "full", 1000)[0] == ids  # on CPU the same claims run their shipped configs


def test_a_missing_card_is_one_error_before_anything_runs(tmp_path, monkeypatch):
    _cuda(monkeypatch, True)
    monkeypatch.setitem(PAPER_CARDS, "bits", "no_such_card.yaml")
    claims = [Claim(**{**c.__dict__, "paper_card": "no_such_card.yaml"}) if c.id == CARD_CLAIM else c
              for c in all_claims()]
    monkeypatch.setattr("raflab.ledger.claims.all_claims", lambda: claims)
    store = tmp_path / "ledger.duckdb"
    with pytest.raises(ValueError, match="no_such_card.yaml is not beside this installation"):
        ledger_run.run_claims([PLAIN_CLAIM, CARD_CLAIM], budget="full", store=store, quiet=True)
    assert not store.exists()


def test_a_failed_larger_budget_line_does_not_hide_a_good_one(tmp_path, monkeypatch):
    def study(budget, store):
        if budget == "paper":
            raise RuntimeError("CUDA out of memory")
        return {"value": 1.7, "ci95_low": 1.6, "ci95_high": 1.8, "n_seeds": 3, "note": ""}

    claims = [Claim(**{**c.__dict__, "study": study}) if c.id == CARD_CLAIM else c for c in all_claims()]
    monkeypatch.setattr("raflab.ledger.claims.all_claims", lambda: claims)
    store = tmp_path / "ledger.duckdb"
    _cuda(monkeypatch, False)
    ledger_run.run_claims([CARD_CLAIM], budget="full", store=store, quiet=True)
    _cuda(monkeypatch, True)
    failed = ledger_run.run_claims([CARD_CLAIM], budget="full", store=store, quiet=True)
    assert failed["verdict"].iloc[0] == "failed" and failed["budget"].iloc[0] == "paper"
    line = ledger_run.stored_ledger_largest_budget(store).iloc[0]
    assert (line["budget"], line["verdict"], line["value"]) == ("full", "contradicted", 1.7)

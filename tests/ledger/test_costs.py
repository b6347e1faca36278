"""``raflab reproduce --list`` gives each claim's cost per budget (CPU-minutes): quick measured, full
estimated with its basis; a study shared by claims is counted once in the totals; the store keeps each
unit's CPU time."""

import json

import pytest
from typer.testing import CliRunner

from raflab.cli import app
from raflab.ledger import run as ledger_run
from raflab.ledger.claims import all_claims
from raflab.ledger.costs import COSTS, SHARES, claim_costs, total_cpu_minutes
from raflab.ledger.run import stored_cpu_seconds


def test_every_claim_has_a_cost_per_budget_with_its_basis():
    ids = [c.id for c in all_claims()]
    assert set(COSTS) == set(ids) and set(SHARES) <= set(ids)
    costs = claim_costs(ids)
    assert (costs["cpu_min_quick"] >= 0).all() and (costs["cpu_min_full"] > 0).all()
    assert costs["cost_basis"].str.len().gt(0).all()
    # the full budget of a study claim costs more than its quick reduction
    studies = costs[costs["shares"].str.endswith("study")]
    assert (studies["cpu_min_full"] > studies["cpu_min_quick"]).all()


def test_totals_count_a_shared_study_once():
    costs = claim_costs(["capacity.width-increases-capacity", "capacity.layers-hinder", "raf.gardner-capacity"])
    capacity = COSTS["capacity.width-increases-capacity"]
    assert total_cpu_minutes(costs, "full") == pytest.approx(capacity[1] + COSTS["raf.gardner-capacity"][1])
    assert total_cpu_minutes(costs, "quick") == pytest.approx(
        max(capacity[0], COSTS["capacity.layers-hinder"][0]) + COSTS["raf.gardner-capacity"][0])
    with pytest.raises(ValueError, match="budget"):
        total_cpu_minutes(costs, "huge")


def test_list_shows_the_costs_and_the_totals():
    result = CliRunner().invoke(app, ["reproduce", "--list", "--format", "json"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert len(records) == len(all_claims())
    assert all(r["cpu_min_full"] > 0 for r in records)
    assert "--all: ~" in result.stderr and "CPU-minutes at --budget quick" in result.stderr


def test_the_store_keeps_each_units_cpu_seconds(tmp_path):
    claims = ["raf.gardner-capacity", "hopfield.capacity-0138"]
    ledger_run.run_claims(claims, budget="quick", store=tmp_path / "c.duckdb", quiet=True)
    cpu = stored_cpu_seconds("quick", tmp_path / "c.duckdb").set_index("claim")
    assert list(cpu.index) == claims
    assert (cpu["units"] == 1).all() and (cpu["cpu_s"] >= 0).all() and (cpu["wall_s"] > 0).all()
    assert stored_cpu_seconds("quick", tmp_path / "none.duckdb").empty

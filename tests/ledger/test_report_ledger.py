"""``raflab report`` renders the reproduction ledger the store holds: each claim's line, its numbers as
stored, its verdict and colour; ``--ledger`` writes that section alone."""

import re

import pytest
from typer.testing import CliRunner

from raflab.cli import app
from raflab.ledger import run as ledger_run
from raflab.ledger.run import VERDICT_COLOURS, stored_ledger
from raflab.ledger.run import write_report_with_ledger as write_report

CHEAP = ["raf.gardner-capacity", "hopfield.capacity-0138", "sdpi.omega-d-bits-at-constant-n"]


@pytest.fixture(scope="module")
def ledger_store(tmp_path_factory):
    store = tmp_path_factory.mktemp("ledger") / "ledger.duckdb"
    ledger_run.run_claims(CHEAP, budget="quick", store=store, quiet=True)
    return store


def _ledger_rows(page: str) -> dict[str, list[str]]:
    """claim id -> the cells of its line in the HTML report (tags stripped)."""
    rows = {}
    for style, cells in re.findall(r"<tr class='verdict'[^>]*style='background:([^']+)'>(.*?)</tr>", page):
        texts = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td>(.*?)</td>", cells)]
        rows[texts[0]] = texts + [style]
    return rows


def test_report_has_every_stored_claim_with_its_numbers_and_verdict(ledger_store, tmp_path):
    out = write_report(ledger_store, tmp_path / "report.html")
    page = out.read_text()
    assert "Reproduction ledger" in page
    rows = _ledger_rows(page)
    stored = stored_ledger("quick", ledger_store).set_index("claim")
    assert set(rows) == set(CHEAP) == set(stored.index)
    for claim, cells in rows.items():
        line = stored.loc[claim]
        _, _, _, rule, value, interval, seeds, budget, verdict, _, colour = cells
        assert verdict == line["verdict"] == "reproduced"
        assert colour == VERDICT_COLOURS["reproduced"]
        assert float(value) == pytest.approx(line["value"], rel=1e-3)
        low, high = (float(x) for x in interval.strip("[]").split(","))
        assert (low, high) == (pytest.approx(line["ci95_low"], rel=1e-3), pytest.approx(line["ci95_high"], rel=1e-3))
        assert int(seeds) == line["n_seeds"] and budget == "quick" and rule == line["rule"]
    assert float(rows["raf.gardner-capacity"][4]) == pytest.approx(2.0, abs=1e-6)
    assert float(rows["hopfield.capacity-0138"][4]) == pytest.approx(0.1379, abs=1e-4)
    # the ledger's own sweeps are not repeated as generic sweep sections
    assert "<h2>reproduce " not in page


def test_report_ledger_alone_from_the_cli_and_a_clear_error_without_one(ledger_store, tmp_path):
    out = tmp_path / "ledger.html"
    result = CliRunner().invoke(app, ["report", str(ledger_store), "--out", str(out), "--ledger"])
    assert result.exit_code == 0, result.output
    assert set(_ledger_rows(out.read_text())) == set(CHEAP)
    empty = tmp_path / "empty.duckdb"
    from raflab.sweeps.store import ResultStore

    ResultStore(empty).register_sweep("abc", "a sweep", "raf", {}, 1, 1)
    result = CliRunner().invoke(app, ["report", str(empty), "--out", str(tmp_path / "x.html"), "--ledger"])
    assert result.exit_code != 0 and "no reproduction ledger lines" in result.output
    assert "Traceback" not in result.output

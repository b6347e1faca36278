"""Measure claims through the result store and give each its verdict; the ledger page.

Each claim at a budget is one stored sweep (config hash from the claim id, the budget and
:data:`LEDGER_REVISION`): its units are the claim's seeds (one unit for an exact or a study claim),
each written as soon as it is measured (:func:`raflab.seq.runs.run_stored_units`), so ``raflab
reproduce --all`` killed half-way resumes with what it had. A measurement that raises is stored as
a failed unit with its one-line reason (verdict "failed"), and the run goes on.
"""

from __future__ import annotations

import html
import json
import math
import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from raflab.core.checks import one_of
from raflab.ledger.claims import claims_by_id
from raflab.ledger.registry import BUDGETS, FAILED, OUT_OF_REACH, PAPERS, Claim, decide, decide_study
from raflab.seq.runs import DEFAULT_STORE, run_stored_units, settings_hash
from raflab.sweeps.store import ResultStore

#: bump when a measurement changes meaning: stored rows of an older revision are not reused
LEDGER_REVISION = 1
#: the task of a ledger sweep in the store is LEDGER_TASK + budget
LEDGER_TASK = "ledger:"
LEDGER_COLUMNS = ["claim", "paper", "quantity", "rule", "value", "ci95_low", "ci95_high", "n_seeds", "verdict",
                  "budget", "note"]


def claim_hash(claim: Claim, budget: str) -> str:
    return settings_hash({"ledger": claim.id, "budget": budget, "revision": LEDGER_REVISION,
                          **({"claim_revision": claim.revision} if claim.revision != 1 else {})})


def claim_list() -> pd.DataFrame:
    """The registry as a table: id, paper, claim, quantity, rule, seeds per budget, source, and the
    estimated cost per budget in CPU-minutes (:mod:`raflab.ledger.costs`)."""
    from raflab.ledger.costs import claim_costs

    table = pd.DataFrame([{"claim": c.id, "paper": c.paper, "statement": c.claim, "quantity": c.quantity,
                           "rule": c.rule.describe(), "seeds_quick": c.n_seeds("quick"),
                           "seeds_full": c.n_seeds("full"), "source": c.source, "paper_card": c.paper_card}
                          for c in claims_by_id()])
    return table.merge(claim_costs(table["claim"]), on="claim", how="left")


def _execute(unit: tuple) -> dict:
    """One unit (claim id, budget, seed, store): its value (NaN: out of reach) or a failed row."""
    claim_id, budget, seed, store = unit
    claim = claims_by_id([claim_id])[0]
    start, cpu_start = time.perf_counter(), time.process_time()
    try:
        if claim.study is not None:
            result = claim.study(budget, store)
            record = {"value": math.nan, "out_of_reach": result is None, "result": json.dumps(result)}
        else:
            value = claim.measure(budget, seed)
            record = {"value": math.nan if value is None else float(value), "out_of_reach": value is None}
    except Exception as exc:  # a measurement that fails is a result of the ledger, kept with its reason
        record = {"status": "failed", "error": f"{type(exc).__name__}: {exc}".splitlines()[0][:300]}
    return {**record, "wall_s": time.perf_counter() - start, "cpu_s": time.process_time() - cpu_start}


def _unit_key(unit: tuple) -> tuple:
    claim_id, budget, seed, _ = unit
    return "ledger", f"{claim_id}@{budget}", seed


def _unit_row(unit: tuple, result: dict) -> dict:
    return {"claim": unit[0], "budget": unit[1], **result}


def _verdict(claim: Claim, budget: str, rows: pd.DataFrame) -> dict:
    base = {"claim": claim.id, "paper": claim.paper, "quantity": claim.quantity, "rule": claim.rule.describe(),
            "budget": budget, "note": claim.note}
    failed = rows[rows["status"] == "failed"] if len(rows) else rows
    if len(failed):
        return {**base, "value": math.nan, "ci95_low": math.nan, "ci95_high": math.nan, "n_seeds": 0,
                "verdict": FAILED, "note": str(failed["error"].iloc[0])}
    done = rows[rows["status"] == "done"] if len(rows) else rows
    column = lambda name: done[name] if name in done else pd.Series([None] * len(done), index=done.index)  # noqa: E731
    if claim.study is not None:
        results = [r for r in column("result") if isinstance(r, str)]
        result = json.loads(results[0]) if results else None
        out = decide_study(claim, result)
        note = (result or {}).get("note", "")
        return {**base, **out, "note": "; ".join(n for n in (claim.note, note) if n)}
    values = [None if (o is True or o == 1 or v is None or pd.isna(v)) else float(v)
              for v, o in zip(column("value"), column("out_of_reach"))]
    return {**base, **decide(claim, values)}


def _done(store: str, config_hash: str, units: list) -> bool:
    """Whether the store holds every unit as done."""
    if not Path(store).exists():
        return False
    stored = ResultStore(store).stored_keys(config_hash)
    return all(stored.get(_unit_key(u)) == "done" for u in units)


def run_claims(ids=None, budget: str = "quick", store: str | Path | None = None, quiet: bool = False) -> pd.DataFrame:
    """Measure the claims ``ids`` (all when None) at ``budget`` (:func:`resolve_budget`: ``full`` with CUDA
    is ``paper``) through ``store`` (default the shared results store), running only the units it does not
    hold; one ledger line per claim, at the budget it was measured at (:meth:`Claim.line_budget`)."""
    asked = resolve_budget(budget)
    store = str(store or DEFAULT_STORE)
    claims = claims_by_id(ids)
    if asked == "paper":
        from raflab.ledger.measures_seq import paper_card_path

        for claim in claims:  # a missing card is one clear error before anything runs, not a "failed" line
            if claim.paper_card:
                paper_card_path(claim.paper_card)
    lines = []
    for claim in claims:
        budget = claim.line_budget(asked)
        units = [(claim.id, budget, seed, store) for seed in range(claim.n_seeds(budget))]
        config_hash = claim_hash(claim, budget)
        execute = _execute
        if claim.study is not None and not _done(store, config_hash, units):
            # a study writes its own sweep to the store: run it before the ledger's sweep holds the store
            measured = _execute(units[0])
            execute = lambda unit, measured=measured: measured  # noqa: E731 (one unit, workers=1: not pickled)
        run_stored_units(store, config_hash=config_hash, name=f"reproduce {claim.id}", task=f"{LEDGER_TASK}{budget}",
                         config={"claim": claim.id, "budget": budget, "revision": LEDGER_REVISION}, units=units,
                         key=_unit_key, execute=execute, row=_unit_row, quiet=quiet, unit_name="seeds")
        lines.append(_verdict(claim, budget, ResultStore(store).rows(config_hash, status=None)))
    return pd.DataFrame(lines, columns=LEDGER_COLUMNS)


def resolve_budget(budget: str) -> str:
    """The budget a run is measured at: ``full`` on a machine with CUDA is ``paper`` (the claims with a
    paper-scale run card run it; the others are measured at ``full``); ``paper`` needs CUDA."""
    from raflab.core.device import cuda_available

    one_of(budget, BUDGETS, "budget")
    if budget == "quick":
        return budget
    if cuda_available():
        return "paper"
    if budget == "paper":
        raise ValueError("budget paper runs the paper-scale run cards (configs/paper/, device cuda) and needs "
                         "CUDA, which is not available here: use --budget full (the CPU-scale study configs)")
    return budget


def stored_ledger(budget: str, store: str | Path | None = None) -> pd.DataFrame:
    """The ledger lines of every claim from what ``store`` holds (nothing is run; a claim never
    measured at ``budget`` is absent)."""
    one_of(budget, BUDGETS, "budget")
    result_store = ResultStore(store or DEFAULT_STORE)
    if not result_store.path.exists():
        return pd.DataFrame(columns=LEDGER_COLUMNS)
    lines = []
    for claim in claims_by_id():
        rows = result_store.rows(claim_hash(claim, budget), status=None)
        if len(rows):
            lines.append(_verdict(claim, budget, rows))
    return pd.DataFrame(lines, columns=LEDGER_COLUMNS)


def stored_ledgers(store: str | Path | None = None) -> pd.DataFrame:
    """The ledger lines ``store`` holds at every budget, the smaller budget's first (:func:`stored_ledger`
    of each budget; nothing is run)."""
    frames = [f for f in (stored_ledger(budget, store) for budget in BUDGETS) if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=LEDGER_COLUMNS)


def stored_ledger_largest_budget(store: str | Path | None = None) -> pd.DataFrame:
    """Per claim, its ledger line at the largest budget ``store`` holds it at (paper > full > quick) among
    the lines that did not fail; a failed line only where the claim has no other (nothing is run; a claim
    never measured is absent). Lines in the registry's order, the ``budget`` column saying which."""
    # BUDGETS runs from small to large: a larger budget's line replaces a smaller's, unless it failed
    largest = {}
    for line in stored_ledgers(store).to_dict("records"):
        kept = largest.get(line["claim"])
        if kept is None or line["verdict"] != FAILED or kept["verdict"] == FAILED:
            largest[line["claim"]] = line
    order = [c.id for c in claims_by_id() if c.id in largest]
    return pd.DataFrame([largest[i] for i in order], columns=LEDGER_COLUMNS)


def stored_cpu_seconds(budget: str, store=None) -> pd.DataFrame:
    """CPU-seconds and wall seconds of each claim's stored units at ``budget`` (summed over its seeds),
    from what ``store`` holds (claims never measured there are absent)."""
    one_of(budget, BUDGETS, "budget")
    result_store = ResultStore(store or DEFAULT_STORE)
    rows = []
    if result_store.path.exists():
        for claim in claims_by_id():
            units = result_store.rows(claim_hash(claim, budget), status=None)
            if len(units):
                cpu = units["cpu_s"].sum() if "cpu_s" in units else float("nan")
                rows.append({"claim": claim.id, "units": len(units), "cpu_s": float(cpu),
                             "wall_s": float(units["wall_s"].sum())})
    return pd.DataFrame(rows, columns=["claim", "units", "cpu_s", "wall_s"])


def _cell(v) -> str:
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:.4g}"
    return str(v).replace("|", "\\|")


def _interval(r: dict) -> str:
    return "" if math.isnan(r["ci95_low"]) else f"[{r['ci95_low']:.4g}, {r['ci95_high']:.4g}]"


def _by_paper(ledger: pd.DataFrame):
    """(paper title, records) per paper in the ledger's order; each record gains its claim's statement."""
    statements = {c.id: c.claim for c in claims_by_id()}
    for paper, group in ledger.groupby("paper", sort=False):
        yield PAPERS[paper], [{**r, "statement": statements[r["claim"]]} for r in group.to_dict("records")]


def _counts(ledger: pd.DataFrame) -> str:
    return ", ".join(f"{k} {v}" for k, v in ledger["verdict"].value_counts().items())


def budget_counts(ledger: pd.DataFrame, store: str | Path | None = None) -> str:
    """The page's line on budgets: how many claims were measured at full, how many at quick only, and
    what the quick-only ones would cost at full (CPU-minutes, a shared study counted once); with
    ``store``, also the CPU time the store holds for the lines shown (:func:`stored_cpu_seconds`)."""
    from raflab.ledger.costs import claim_costs, total_cpu_minutes

    quick_only = ledger.loc[ledger["budget"] == "quick", "claim"]
    full_cost = total_cpu_minutes(claim_costs(quick_only), "full")
    paper = int((ledger["budget"] == "paper").sum())
    text = (f"Budgets: {f'measured at paper scale (GPU run cards): {paper}; ' if paper else ''}measured at "
            f"full: {int((ledger['budget'] == 'full').sum())}; at quick only: "
            f"{len(quick_only)}" + (f" (their full cost: {full_cost:.0f} CPU-min, estimated)" if len(quick_only) else ""))
    if store is None:
        return text
    spent = []
    for budget in BUDGETS:
        cpu = stored_cpu_seconds(budget, store)
        shown = cpu[cpu["claim"].isin(ledger.loc[ledger["budget"] == budget, "claim"])]
        if len(shown):
            spent.append(f"{budget} {shown['cpu_s'].sum() / 60:.1f}")
    return text + (f". CPU-minutes the store holds for these lines (one thread, summed over units): "
                   f"{', '.join(spent)}" if spent else "")


def ledger_page(ledger: pd.DataFrame, command: str, when: datetime | None = None,
                store: str | Path | None = None) -> str:
    """The Markdown page of a ledger: header (command, date), counts by budget and by verdict, one table
    per paper, each line with the budget it was measured at (the lines may mix budgets:
    :func:`stored_ledger_largest_budget`); ``store``: the store they come from, for their CPU time."""
    when = when or datetime.now(timezone.utc)
    lines = ["# The reproduction ledger", "",
             f"Generated by `{command}` on {when:%Y-%m-%d %H:%M} UTC from the result store; every claim "
             "measured is listed, whatever its verdict, at the largest budget it was measured at (column "
             "budget). Value: the measured quantity (mean over seeds); interval: 95% Student-t over seeds "
             "(the value itself for an exact quantity). At `--budget quick` the study claims run reduced "
             "configs of their studies with 3 seeds (`raflab.ledger.measures_seq.QUICK_STUDIES`, "
             "`QUICK_CROSS_MODAL`), so their verdicts can be inconclusive where the full study's are not. "
             "At `--budget full` on a machine with CUDA (budget paper) the claims with a paper-scale run "
             "card (`configs/paper/`, column paper_card of `--list`) run it instead of the CPU-scale config. "
             "`raflab reproduce --list` gives each claim's cost per budget in CPU-minutes.", "",
             budget_counts(ledger, store), "", "Verdicts: " + _counts(ledger), ""]
    for title, records in _by_paper(ledger):
        lines += [f"## {title}", "", "| claim | statement | quantity | rule | value | 95% interval | "
                  "seeds | budget | verdict | note |", "|---|---|---|---|---|---|---|---|---|---|"]
        for r in records:
            lines.append("| " + " | ".join([f"`{r['claim']}`", _cell(r["statement"]), _cell(r["quantity"]),
                                             _cell(r["rule"]), _cell(r["value"]), _interval(r), str(r["n_seeds"]),
                                             r["budget"], f"**{r['verdict']}**", _cell(r["note"] or "")]) + " |")
        lines.append("")
    return "\n".join(lines)


def write_ledger_page(path: str | Path, page: str) -> Path:
    """Write ``page`` (:func:`ledger_page`) to ``path``, keeping the ``##`` sections of the page already
    there that the generator does not own (any whose title is not a paper's), after the generated ones."""
    path = Path(path)
    kept = []
    if path.exists():
        owned = set(PAPERS.values())
        sections = path.read_text().split("\n## ")[1:]
        kept = [s.rstrip("\n") for s in sections if s.split("\n", 1)[0].strip() not in owned]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page.rstrip("\n") + "\n" + "".join(f"\n## {s}\n" for s in kept))
    return path


#: background colour of a ledger line by verdict in the HTML report
VERDICT_COLOURS = {"reproduced": "#d8f0d8", "contradicted": "#f6d0d0", "not reproduced": "#fbe3c8",
                   "inconclusive": "#fbf3c4", OUT_OF_REACH: "#e8e8e8", FAILED: "#e0b0b0"}


def ledger_html(ledger: pd.DataFrame) -> str:
    """The ledger as an HTML fragment (the report's "Reproduction ledger" section): counts by verdict and
    one table per paper (claim, statement, rule, value, 95% interval, seeds, budget, verdict, note), each
    line coloured by its verdict. The lines are :func:`stored_ledger`'s or :func:`run_claims`'s."""
    esc = html.escape
    parts = ["<h2 id='ledger'>Reproduction ledger</h2>",
             f"<p>{len(ledger)} claim line(s); verdicts: {esc(_counts(ledger))}. Value: mean over seeds; "
             "interval: 95% Student-t over seeds (the value itself for an exact quantity).</p>"]
    header = ["claim", "statement", "quantity", "rule", "value", "95% interval", "seeds", "budget", "verdict", "note"]
    for title, records in _by_paper(ledger):
        parts.append(f"<h3>{esc(title)}</h3><table class='ledger'><tr>"
                     + "".join(f"<th>{h}</th>" for h in header) + "</tr>")
        for r in records:
            cells = [f"<code>{esc(r['claim'])}</code>", esc(r["statement"]), esc(r["quantity"]), esc(r["rule"]),
                     _cell(r["value"]), _interval(r), str(r["n_seeds"]), esc(r["budget"]),
                     f"<b>{esc(r['verdict'])}</b>", esc(r["note"] or "")]
            colour = VERDICT_COLOURS.get(r["verdict"], "#ffffff")
            parts.append(f"<tr class='verdict' data-verdict='{esc(r['verdict'])}' style='background:{colour}'>"
                         + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        parts.append("</table>")
    return "\n".join(parts)


def write_report_with_ledger(store: str | Path, out: str | Path, config_hash: str | None = None,
                             ledger_only: bool = False) -> Path:
    """``raflab report``: the sweeps report of :func:`raflab.sweeps.report.write_report`, with the
    "Reproduction ledger" section first when the store holds ledger lines (``ledger_only``: that alone)."""
    from raflab.sweeps.report import FrontSection, write_report

    if ledger_only and config_hash is not None:
        raise ValueError("give either --ledger or --config-hash, not both")
    ledger = stored_ledgers(store) if config_hash is None else None
    if ledger_only and not len(ledger):
        raise ValueError(f"no reproduction ledger lines in {store}: run raflab reproduce --store {store} first")
    front = FrontSection(ledger_html(ledger), LEDGER_TASK) if ledger is not None and len(ledger) else None
    return write_report(store, out, config_hash, front=front, front_only=ledger_only)

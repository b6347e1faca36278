"""``raflab reproduce``: the claims of the papers, measured and decided (:mod:`raflab.ledger`); ``raflab atlas``:
every system on one pair of axes (:mod:`raflab.ledger.atlas`)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from raflab.core.cli import Format, FormatOpt, OutOpt, _emit, check_out_path, user_errors
from raflab.core.ranges import parse_range

@user_errors
def reproduce(
    claims: Optional[list[str]] = typer.Argument(None, help="claim ids (see --list)"),
    all_claims: bool = typer.Option(False, "--all", help="every claim of the ledger"),
    list_claims: bool = typer.Option(False, "--list", help="list the claims and their rules; run nothing"),
    budget: Optional[str] = typer.Option(None, "--budget", help="quick (the default; reduced sizes, ~15 min for "
                                         "--all on 2 cores) | full (the shipped study configs; with CUDA, "
                                         "the paper-scale run cards where a claim has one: budget paper) | "
                                         "paper (those cards; needs CUDA); with --page "
                                         "alone: the budget of the page's lines (default: per claim the "
                                         "largest budget the store holds)"),
    max_cpu_min: Optional[float] = typer.Option(None, "--max-cpu-min", help="skip (and list on stderr) the "
                                                "claims whose estimated cost at --budget exceeds this many "
                                                "CPU-minutes (see --list)"),
    store: Optional[str] = typer.Option(None, "--store", help="result store (default results/raflab.duckdb)"),
    page: Optional[Path] = typer.Option(None, "--page", help="write the ledger page (Markdown) from the store"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bars"),
    fmt: Format = FormatOpt,
):
    """Measure claims (stored, resumable) and print value, 95% interval, seeds and verdict per claim."""
    from raflab.ledger.run import (claim_list, ledger_page, resolve_budget, run_claims, stored_ledger,
                                   stored_ledger_largest_budget, write_ledger_page)
    from raflab.seq.runs import DEFAULT_STORE

    if list_claims:
        from raflab.ledger.costs import total_cpu_minutes

        table = claim_list()
        _emit(table, fmt, "the reproduction ledger's claims (CPU-minutes per budget, each claim run alone)",
              main=["claim", "rule", "cpu_min_quick", "cpu_min_full", "quantity"])
        typer.echo(f"--all: ~{total_cpu_minutes(table, 'quick'):.0f} CPU-minutes at --budget quick (measured), "
                   f"~{total_cpu_minutes(table, 'full'):.0f} at --budget full (measured, or estimated where too "
                   "costly to run; a shared study counted once; see cost_basis)", err=True)
        return
    if page is not None and not (claims or all_claims):
        if max_cpu_min is not None:
            raise ValueError("--max-cpu-min selects claims to run: name claims or give --all")
        ledger = stored_ledger_largest_budget(store) if budget is None else stored_ledger(budget, store)
        if ledger.empty:
            raise ValueError(f"the store holds no ledger lines{'' if budget is None else f' at budget {budget!r}'}"
                             ": run raflab reproduce first")
        command = " ".join(["raflab reproduce --page", str(page), *(["--budget", budget] if budget else []),
                            *(["--store", str(store)] if store else [])])
    else:
        if not (claims or all_claims):
            raise ValueError("name claims, or give --all or --list")
        budget = budget or "quick"
        resolved = resolve_budget(budget)
        if resolved == "paper" and budget == "full":
            typer.echo("CUDA is present: the claims with a paper-scale run card (see --list, paper_card) run it "
                       "(budget paper); the others are measured at full", err=True)
        ids = None if all_claims else claims
        if max_cpu_min is not None:
            from raflab.ledger.claims import claims_by_id
            from raflab.ledger.costs import split_by_cost

            ids, skipped = split_by_cost([c.id for c in claims_by_id(ids)], resolved, max_cpu_min)
            for line in skipped.to_dict("records"):
                typer.echo(f"skipped {line['claim']}: {line['reason']}", err=True)
            if not ids:
                raise ValueError(f"every claim named costs more than --max-cpu-min {max_cpu_min:g} at {budget}")
        ledger = run_claims(ids, budget=resolved, store=store, quiet=quiet)
        command = (f"raflab reproduce {'--all' if all_claims else ' '.join(claims)} --budget {budget}"
                   + ("" if max_cpu_min is None else f" --max-cpu-min {max_cpu_min:g}"))
    if page is not None:
        write_ledger_page(page, ledger_page(ledger, command, store=store or DEFAULT_STORE))
    budget_title = ", ".join(ledger["budget"].unique()) if budget else "largest budget stored per claim"
    _emit(ledger, fmt, f"reproduction ledger ({budget_title})", main=["claim", "verdict", "value", "ci95_low",
                                                                         "ci95_high", "n_seeds", "budget"])


@user_errors
def atlas(
    out: Optional[str] = OutOpt,
    kappa: str = typer.Option("0.5,1,2,4", "--kappa", help="random-feature widths p/d of the RAF curves (> 0)"),
    eps: str = typer.Option("0.05:1:20", "--eps", help="fact fractions of the RAF curves, in (0, 1]"),
    n: int = typer.Option(100, "--n", help="neurons N of the dense associative memories"),
    curves: bool = typer.Option(False, "--curves", help="print the RAF curves instead of the points"),
    store: Optional[str] = typer.Option(None, "--store", help="result store whose sequence-model studies give "
                                       "their points (default results/raflab.duckdb when it exists; else the "
                                       "documented values, kind 'documented')"),
    fmt: Format = FormatOpt,
):
    """The memorization atlas: fact bits per parameter against the fact fraction eps, every system.

    The RAF theory's curves (linear, random features over kappa) and every system's point, each with its source.
    """
    from raflab.ledger.atlas import atlas_points, raf_capacity_curves

    check_out_path(out)
    curve_table = raf_capacity_curves(parse_range(kappa, "kappa"), parse_range(eps, "eps"))
    if store is not None and not Path(store).exists():
        raise ValueError(f"no result store at {store}")
    if store is None:
        from raflab.seq.runs import DEFAULT_STORE

        store = str(DEFAULT_STORE) if Path(DEFAULT_STORE).exists() else None
    points = atlas_points(n, store=store)
    if out is not None:
        from raflab.ledger.plots import plot_atlas

        plot_atlas(curve_table, points, out=out)
        typer.echo(f"figure written to {out}", err=True)
    if curves:
        _emit(curve_table, fmt, "RAF capacity curves: fact bits per parameter at alpha_c(eps)",
              main=["model", "kappa", "eps", "alpha_c", "bits_per_parameter", "gen_error"])
    else:
        _emit(points, fmt, "memorization atlas: stored fact bits per parameter",
              main=["system", "eps", "bits_per_parameter", "ci95_low", "ci95_high", "gen_error", "source"])


@user_errors
def report(store: str = typer.Argument("results/raflab.duckdb", help="result store"),
           out: str = typer.Option("report.html", "--out", help="HTML page; figures go to <stem>_files/"),
           config_hash: str = typer.Option(None, "--config-hash", help="only this sweep"),
           ledger: bool = typer.Option(False, "--ledger", help="only the reproduction ledger (raflab reproduce)")):
    """A static HTML report of the sweeps in a store: figures and tables, viewable offline; the
    reproduction ledger's verdicts first when the store holds them."""
    from raflab.ledger.run import write_report_with_ledger

    check_out_path(out, suffixes=(".html", ".htm"))
    if not Path(store).exists():
        raise ValueError(f"no result store at {store}")
    path = write_report_with_ledger(store, out, config_hash, ledger_only=ledger)
    typer.echo(f"report written to {path}", err=True)

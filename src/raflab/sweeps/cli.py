"""``raflab sweep run|status|export|plot`` and ``raflab report``: sweeps from config files, kept in a
DuckDB store (:mod:`raflab.sweeps.store`), resumable, on a local pool, Dask or Ray."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer

from raflab.core.cli import Format, FormatOpt, _emit, check_out_path, user_errors

sweep_app = typer.Typer(no_args_is_help=True, help="sweeps from config files: run, status, export, plot")

ConfigArg = typer.Argument(..., help="sweep config file (YAML or TOML), e.g. experiments/raf_hinge.yaml")
StoreOpt = typer.Option(None, "--store", help="result store (default: the config's store, results/raflab.duckdb)")
BackendOpt = typer.Option("local", "--backend", help="local (process pool) | dask | ray")
WorkersOpt = typer.Option(None, "--workers", help="worker processes (default: the cores); local 1 = no pool")
AddressOpt = typer.Option(None, "--address", help="dask scheduler or ray cluster address (default: start a local one)")
QuietOpt = typer.Option(False, "--quiet", "-q", help="no progress bar (CI)")


def _config(path: str):
    from raflab.sweeps.config import load_config

    return load_config(path)


def _store_path(store: str | None, config=None) -> str:
    if store is not None:
        return store
    if config is not None:
        return config.store
    from raflab.sweeps.config import SweepConfig

    return SweepConfig.model_fields["store"].default


@sweep_app.command()
@user_errors
def run(config: str = ConfigArg, store: str = StoreOpt, backend: str = BackendOpt, workers: int = WorkersOpt,
        address: str = AddressOpt,
        retry_failed: bool = typer.Option(True, "--retry-failed/--keep-failed",
                                          help="run points stored as failed again, or leave them"),
        quiet: bool = QuietOpt, fmt: Format = FormatOpt):
    """Run a sweep; rows already in the store are skipped, each finished unit is written at once."""
    from raflab.sweeps.engine import run_sweep

    cfg = _config(config)
    summary = run_sweep(cfg, store=store, backend=backend, workers=workers, address=address,
                        retry_failed=retry_failed, quiet=quiet)
    first_error = summary.pop("first_error")
    _emit(pd.DataFrame([{"name": cfg.name, **summary, "store": _store_path(store, cfg)}]), fmt, "sweep run")
    n_failed, n_run = summary["rows_failed"], summary["rows_failed"] + summary["rows_done"]
    if n_failed and n_failed == n_run:
        raise ValueError(f"every one of the {n_run} rows this run computed failed (stored as failed); "
                         f"the first error: {first_error}")
    if n_failed:
        typer.echo(f"warning: {n_failed} of {n_run} rows failed (stored as failed); the first error: {first_error}",
                   err=True)


@sweep_app.command()
@user_errors
def status(config: str = typer.Argument(None, help="a sweep config; without one, every sweep in the store"),
           store: str = StoreOpt, fmt: Format = FormatOpt):
    """Rows done / failed / pending, for one config or for every sweep in the store."""
    from raflab.sweeps.engine import store_status, sweep_status

    if config is not None:
        cfg = _config(config)
        _emit(pd.DataFrame([sweep_status(cfg, store)]), fmt, "sweep status")
        return
    _emit(pd.DataFrame(store_status(_store_path(store))), fmt, f"sweeps in {_store_path(store)}")


@sweep_app.command()
@user_errors
def export(config: str = typer.Argument(None, help="a sweep config; without one, every row of the store"),
           store: str = StoreOpt,
           fmt: str = typer.Option("parquet", "--format", help="parquet | csv"),
           out: str = typer.Option(..., "--out", help="file to write")):
    """Write the stored rows (done and failed) to a parquet or CSV file."""
    from raflab.sweeps.store import ResultStore

    check_out_path(out, suffixes=None)
    cfg = _config(config) if config is not None else None
    result_store = ResultStore(_store_path(store, cfg))
    if not result_store.path.exists():
        raise ValueError(f"no result store at {result_store.path}")
    n = result_store.export(out, fmt, None if cfg is None else cfg.config_hash)
    typer.echo(f"{n} rows written to {out}", err=True)


@sweep_app.command()
@user_errors
def plot(config: str = ConfigArg, store: str = StoreOpt,
         out: str = typer.Option(..., "--out", help="figure file (png, pdf, svg, ...); the 2nd, 3rd, ... learner's "
                                                    "get a suffix _1, _2, ...")):
    """The three RAF errors of a sweep: theory lines, simulation points with error bars."""
    from raflab.sweeps.report import sweep_figures
    from raflab.sweeps.store import ResultStore

    check_out_path(out)
    target = Path(out).expanduser()
    cfg = _config(config)
    result_store = ResultStore(_store_path(store, cfg))
    if not result_store.path.exists():
        raise ValueError(f"no result store at {result_store.path}")
    rows = result_store.rows(cfg.config_hash)
    if not len(rows):
        raise ValueError(f"no finished rows of sweep {cfg.name!r} in {result_store.path}: run it first")
    paths = sweep_figures(rows, target.parent, target.stem, cfg.name,
                          name=lambda i: target if i == 0 else target.with_name(f"{target.stem}_{i}{target.suffix}"))
    for path in paths:
        typer.echo(f"figure written to {path}", err=True)
    if len(paths) > 1:
        typer.echo(f"{len(paths)} figures written (one per learner)", err=True)



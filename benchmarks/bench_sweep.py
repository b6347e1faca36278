"""A 1,000-point theory sweep (``experiments/rf_kappa_theory.yaml``: RF, square and hinge,
20 alpha x 5 eps x 5 kappa) through ``raflab sweep``, against

(1) a plain serial loop: one ``erm_theory`` call per point, results kept in a list (what one
    writes first, and keeps nothing if it crashes);
(2) the sweep engine on the local backend with 1 worker (in-process: same units, same store) — the
    difference to (3) is the parallel speed-up, and its time minus the units' own compute time is
    the store's overhead per row;
(3) the sweep engine on the local backend with ``--workers`` processes (default 2);
and, as the floor, one vectorized ``erm_theory`` call per (loss, kappa) with no store at all.

Theory is vectorized, so a theory sweep gains little from processes; simulations do. The second
table runs a simulation sweep (linear hinge fits, d = 1000, 48 data sets) on 1 and on ``--workers``
processes, against the same plain loop of ``simulate_erm`` calls.

Each engine run writes a fresh DuckDB store in a temporary folder. Every column prints the largest
|generalization error| difference to the plain loop.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from raflab.raf.theory import erm_theory
from raflab.sweeps.config import load_config
from raflab.sweeps.engine import run_sweep
from raflab.sweeps.store import ResultStore

CONFIG = Path(__file__).resolve().parents[1] / "experiments" / "rf_kappa_theory.yaml"


def plain_loop(points) -> pd.DataFrame:
    rows = []
    for p in points:
        df = erm_theory(p["loss"], p["alpha"], p["eps"], p["lam"], model="rf", kappa=p["kappa"],
                        activation=p["activation"])
        rows.append(df.iloc[0].to_dict())
    return pd.DataFrame(rows)


def vectorized(config) -> pd.DataFrame:
    g = config.grid
    return pd.concat([erm_theory(loss, g.alpha, g.eps, g.lam, model="rf", kappa=g.kappa, activation=g.activation[0])
                      for loss in g.loss], ignore_index=True)


def engine(config, workers: int, folder: str) -> tuple[float, pd.DataFrame]:
    store = Path(folder) / f"w{workers}.duckdb"
    start = time.perf_counter()
    summary = run_sweep(config, store=store, workers=workers, quiet=True)
    seconds = time.perf_counter() - start
    assert summary["rows_done"] == summary["rows_expected"], summary
    return seconds, ResultStore(store).rows(config.config_hash)


SIMULATION = {"name": "bench-sim", "task": "simulate", "seeds": 4,
              "grid": {"loss": "hinge", "alpha": "0.5:3:6", "eps": [0, 0.2], "lam": 0.05, "d": 1000}}


def simulation_part(workers: int) -> None:
    from raflab.raf.experiments.simulate import simulate_erm
    from raflab.sweeps.config import config_from_dict

    config = config_from_dict(SIMULATION)
    g = config.grid
    start = time.perf_counter()
    for a in g.alpha:
        for e in g.eps:
            simulate_erm("hinge", a, e, g.lam, d=g.d[0], seeds=config.seeds, raw=True)
    t_loop = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:
        t_one, _ = engine(config, 1, folder)
        t_par, _ = engine(config, workers, folder)
    n = len(config.units())
    print(f"\nsimulation sweep: {n} data sets (hinge, d={g.d[0]})")
    print(f"{'plain serial loop of simulate_erm':42s} {t_loop:8.2f} {1:8.1f}x")
    print(f"{'raflab sweep, local, 1 worker, store':42s} {t_one:8.2f} {t_loop / t_one:8.1f}x")
    print(f"{f'raflab sweep, local, {workers} workers, store':42s} {t_par:8.2f} {t_loop / t_par:8.1f}x")


def max_diff(reference: pd.DataFrame, other: pd.DataFrame) -> float:
    keys = ["loss", "kappa", "eps", "alpha"]
    joined = reference.merge(other, on=keys, suffixes=("", "_other"))
    assert len(joined) == len(reference)
    return float(np.nanmax(np.abs(joined["gen_error"] - joined["gen_error_other"])))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--config", default=str(CONFIG))
    args = p.parse_args(argv)
    warnings.simplefilter("ignore")
    config = load_config(args.config)
    points = config.points()
    print(f"{len(points)}-point theory sweep ({config.name}); {os.cpu_count()} cores here")

    start = time.perf_counter()
    loop = plain_loop(points)
    t_loop = time.perf_counter() - start
    start = time.perf_counter()
    vec = vectorized(config)
    t_vec = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:
        t_one, rows_one = engine(config, 1, folder)
        t_par, rows_par = engine(config, args.workers, folder)
    compute = float(rows_one["elapsed_s"].sum())
    overhead = (t_one - compute) / len(points)

    print(f"{'run':42s} {'seconds':>8s} {'vs loop':>8s} {'max|eg diff|':>13s}")
    print(f"{'plain serial loop (1 call per point)':42s} {t_loop:8.2f} {1:8.1f}x {0:13.1e}")
    print(f"{'raflab sweep, local, 1 worker, store':42s} {t_one:8.2f} {t_loop / t_one:8.1f}x "
          f"{max_diff(loop, rows_one):13.1e}")
    print(f"{f'raflab sweep, local, {args.workers} workers, store':42s} {t_par:8.2f} {t_loop / t_par:8.1f}x "
          f"{max_diff(loop, rows_par):13.1e}")
    print(f"{'floor: one vectorized call per loss, no store':42s} {t_vec:8.2f} {t_loop / t_vec:8.1f}x "
          f"{max_diff(loop, vec):13.1e}")
    print(f"store and engine overhead: {overhead * 1e3:.2f} ms per row "
          f"({t_one:.2f} s in all, {compute:.2f} s inside the units)")
    simulation_part(args.workers)


if __name__ == "__main__":
    main()

"""The sweep runner: config -> pending work units -> a backend -> rows written as they finish.

>>> from raflab.sweeps.config import config_from_dict
>>> config = config_from_dict({"name": "demo", "task": "theory", "grid": {"alpha": "0.5:2:4"}})
>>> summary = run_sweep(config, store="/tmp/raflab-doctest.duckdb", quiet=True)  # doctest: +SKIP

A re-run skips the rows already done (and retries failed ones unless told not to); a point that
raises is stored as ``failed`` with its error and the sweep goes on.
"""

from __future__ import annotations

import functools
import os
import subprocess
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import raflab
from raflab.core.progress import rows_progress
from raflab.raf.experiments.simulate import simulate_erm
from raflab.raf.learner_spec import LearnerSpec, learner_spec
from raflab.raf.theory.erm import erm_theory
from raflab.sweeps.backends import open_backend
from raflab.sweeps.config import SIMULATION_KEYS, THEORY_KEYS, SweepConfig, WorkUnit, point_key
from raflab.sweeps.store import ResultStore, SweepRunningError, clean_value

#: rows finished within this many seconds are written in one transaction (a SIGKILL loses at most these)
FLUSH_SECONDS = 0.5

#: Test-only: when this environment variable holds N, the runner stores its first N rows (at least),
#: then sleeps (up to ``PAUSE_SECONDS``) before the rest, so that a test can kill it mid-sweep on a
#: machine of any speed. Not for use outside tests.
PAUSE_ENV = "RAFLAB_TEST_PAUSE_AFTER_ROWS"
PAUSE_SECONDS = 600.0


def _pause_after() -> int | None:
    text = os.environ.get(PAUSE_ENV)
    if not text:
        return None
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise ValueError(f"{PAUSE_ENV} (test-only) must be a non-negative integer (got {text!r})")
    return n


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def _learner(point: dict, options: dict) -> LearnerSpec:
    """The point's learner, by the one builder the command line uses too."""
    return learner_spec(point["model"], point.get("kappa", 1.0), point.get("activation", "relu"),
                        point.get("kernel", "arccos"), options["kernel_params"])


def _row(unit: WorkUnit, point: dict, status: str, error: str | None, metrics: dict) -> dict:
    fields = THEORY_KEYS if unit.kind == "theory" else SIMULATION_KEYS
    params = {k: point[k] for k in fields if k in point}
    return {"kind": unit.kind, "point": point_key(point, fields), "seed": unit.seed, "status": status,
            "error": error, **params, **{k: clean_value(v) for k, v in metrics.items() if k not in params}}


def _theory_rows(unit: WorkUnit, points: tuple, options: dict) -> list[dict]:
    first = points[0]
    alphas = sorted({p["alpha"] for p in points})
    eps = list(dict.fromkeys(p["eps"] for p in points))
    with warnings.catch_warnings():  # unconverged points are flagged in their rows
        warnings.simplefilter("ignore")
        df = erm_theory(first.get("loss", "square"), alphas, eps, first.get("lam", 0.0), tol=options["tol"],
                        max_iter=options["max_iter"], learner=_learner(first, options))
    by_point = {(r["eps"], r["alpha"]): r for r in df.to_dict(orient="records")}
    drop = {"model", "loss", "alpha", "eps", "lam", "kappa", "activation", "kernel"}
    return [_row(unit, p, "done", None, {k: v for k, v in by_point[(p["eps"], p["alpha"])].items()
                                          if k not in drop}) for p in points]


def _simulation_rows(unit: WorkUnit, options: dict) -> list[dict]:
    p = unit.points[0]
    lams = [q.get("lam", 0.0) for q in unit.points]  # (the Bayes-optimal learner has no lam)
    df = simulate_erm(p.get("loss", "square"), p["alpha"], p["eps"], lams, d=p["d"], seeds=1, seed=unit.seed,
                      raw=True, fact_count=options["fact_count"], n_test=options["n_test"],
                      device=options["device"], learner=_learner(p, options))
    by_lam = {r.get("lam", 0.0): r for r in df.to_dict(orient="records")}
    drop = {"model", "loss", "alpha", "eps", "lam", "kappa", "activation", "kernel", "seed", "d"}
    return [_row(unit, q, "done", None, {k: v for k, v in by_lam[q.get("lam", 0.0)].items() if k not in drop})
            for q in unit.points]


def execute_unit(unit: WorkUnit, options: dict) -> list[dict]:
    """Rows of one unit; never raises for a failing point (its row says ``failed`` and why)."""
    start = time.perf_counter()
    try:
        rows = _theory_rows(unit, unit.points, options) if unit.kind == "theory" else _simulation_rows(unit, options)
    except Exception as exc:  # noqa: BLE001 — any error of one point must not stop the sweep
        if unit.kind == "theory" and len(unit.points) > 1:  # find which points fail, keep the rest
            rows = []
            for p in unit.points:
                try:
                    rows += _theory_rows(unit, (p,), options)
                except Exception as point_exc:  # noqa: BLE001
                    rows.append(_row(unit, p, "failed", _one_line(point_exc), {}))
        else:
            rows = [_row(unit, p, "failed", _one_line(exc), {}) for p in unit.points]
    elapsed = (time.perf_counter() - start) / len(rows)
    for row in rows:
        row["elapsed_s"] = elapsed
    return rows


@functools.lru_cache(maxsize=1)
def code_version() -> tuple[str, str]:
    """(raflab version, git commit of the source, with '-dirty' for uncommitted changes, or 'unknown')."""
    here = Path(raflab.__file__).resolve().parent

    def git(*args):
        return subprocess.run(["git", *args], cwd=here, capture_output=True, text=True, timeout=10)

    try:
        head = git("rev-parse", "HEAD")
        if head.returncode != 0:
            return raflab.__version__, "unknown"
        dirty = git("diff", "--quiet", "HEAD", "--", ".").returncode != 0
        return raflab.__version__, head.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return raflab.__version__, "unknown"


def expected_rows(config: SweepConfig) -> int:
    return sum(len(u.points) for u in config.units())


def run_sweep(config: SweepConfig, *, store: str | Path | None = None, backend: str = "local",
              workers: int | None = None, address: str | None = None, retry_failed: bool = True,
              quiet: bool = False) -> dict:
    """Run the units of ``config`` that the store does not hold yet; write rows as units finish
    (one transaction for the units that finish within ``FLUSH_SECONDS`` of each other).

    Parameters
    ----------
    store : path, optional
        Overrides ``config.store``.
    backend : {'local', 'dask', 'ray'}
        Where units run (:mod:`raflab.sweeps.backends`); the rows are the same on each.
    workers : int, optional
        Processes (local), or workers of a LocalCluster / local ray; default: the cores.
    retry_failed : bool
        Run again the points stored as failed (default), or leave them.
    quiet : bool
        No progress bar.

    Returns
    -------
    dict
        ``config_hash, rows_expected, rows_skipped, rows_done, rows_failed, seconds`` and
        ``first_error`` (the one-line error of the first row of this run that failed, or None).

    Raises
    ------
    ValueError
        Before anything is written: an unknown backend, workers < 1, a backend that cannot be reached,
        or a store another sweep is running on (:class:`~raflab.sweeps.store.SweepRunningError`,
        at once).
    """
    result_store = ResultStore(store or config.store)
    pause_after = _pause_after()
    units = config.units()
    total = sum(len(u.points) for u in units)
    version, commit = code_version()
    stamp = {"config_hash": config.config_hash, "backend": backend, "raflab_version": version, "git_commit": commit}
    fn = functools.partial(execute_unit, options=config.options.model_dump())
    done = failed = written = 0
    first_error = None
    start = time.perf_counter()
    result_store.check_no_sweep_running()  # say so now, before starting a backend
    # the backend first: one that cannot be reached leaves nothing behind in the store
    with open_backend(backend, workers, address, len(units)) as submit, result_store.session():
        result_store.register_sweep(config.config_hash, config.name, config.task, config.content(),
                                    len(units), total)
        stored = result_store.stored_keys(config.config_hash)
        failed_keys = {k for k, status in stored.items() if status == "failed"}
        skip = {k for k, status in stored.items() if status == "done" or not retry_failed}
        todo = [u for u in units if not all(k in skip for k in u.keys())]
        todo_rows = sum(len(u.points) for u in todo)
        live = result_store.live_sweep(config.config_hash, config.name, config.task, total)
        live.update(done=len(stored) - len(failed_keys), failed=len(failed_keys))
        result_store.write_live()
        buffer: list[dict] = []
        last_flush = time.monotonic()

        def flush():
            nonlocal last_flush, written
            result_store.write_rows(buffer)  # one transaction
            for row in buffer:
                key = (row["kind"], row["point"], row["seed"])
                if key in failed_keys:  # a retried failure is replaced
                    live["failed"] -= 1
                    failed_keys.discard(key)
                live[row["status"]] += 1
            written += len(buffer)
            result_store.write_live()
            buffer.clear()
            last_flush = time.monotonic()

        with rows_progress(f"{config.name} ({config.task})", todo_rows, enabled=not quiet) as advance:
            for _, rows in submit(fn, todo):
                now = datetime.now(timezone.utc).replace(tzinfo=None)
                buffer += [{**stamp, **row, "finished_at": now} for row in rows]
                n_failed = sum(r["status"] == "failed" for r in rows)
                failed, done = failed + n_failed, done + len(rows) - n_failed
                if first_error is None and n_failed:
                    first_error = next(r["error"] for r in rows if r["status"] == "failed")
                # a transaction costs ~40 ms: units that finish within FLUSH_SECONDS of each other share one
                if time.monotonic() - last_flush >= FLUSH_SECONDS or len(buffer) >= 1000:
                    flush()
                advance(len(rows))
                if pause_after is not None and written + len(buffer) >= pause_after:
                    flush()  # test-only (PAUSE_ENV): stored, then wait to be killed
                    pause_after = None
                    time.sleep(PAUSE_SECONDS)
            if buffer:
                flush()
    return {"config_hash": config.config_hash, "rows_expected": total, "rows_skipped": total - todo_rows,
            "rows_done": done, "rows_failed": failed, "seconds": time.perf_counter() - start,
            "first_error": first_error}


def sweep_status(config: SweepConfig, store: str | Path | None = None, wait: float = 2.0) -> dict:
    """Rows done, failed and pending for ``config`` in its store.

    While a sweep runs on the store, the counts come at once from its live sidecar, and ``running``
    says whether it is this config's sweep. ``wait``: seconds to retry while another process (not a
    sweep) holds the store.
    """
    result_store = ResultStore(store or config.store)
    total = expected_rows(config)
    counts, running = {"done": 0, "failed": 0}, False
    if result_store.path.exists():
        try:
            counts = result_store.counts(config.config_hash, timeout=wait)
        except SweepRunningError as exc:
            entry = next((s for s in exc.state.get("sweeps", []) if s["config_hash"] == config.config_hash), None)
            if entry is not None:
                counts = {k: int(entry[k]) for k in ("done", "failed")}
            running = exc.state.get("running") == config.config_hash
    return {"name": config.name, "config_hash": config.config_hash, "task": config.task, "rows": total,
            "done": counts["done"], "failed": counts["failed"],
            "pending": max(0, total - counts["done"] - counts["failed"]), "running": running}


def store_status(store: str | Path, wait: float = 2.0) -> list[dict]:
    """Every sweep in a store: name, config_hash, task, rows, done, failed, pending, running; at once
    from the live sidecar while a sweep runs on it."""
    result_store = ResultStore(store)
    if not result_store.path.exists():
        raise ValueError(f"no result store at {result_store.path}")
    try:
        with result_store.connect(read_only=True, timeout=wait) as con:
            sweeps = result_store.sweep_counts(con)
        running = None
    except SweepRunningError as exc:
        sweeps, running = exc.state.get("sweeps", []), exc.state.get("running")
    return [{**{k: s[k] for k in ("name", "config_hash", "task", "rows", "done", "failed")},
             "pending": max(0, int(s["rows"]) - int(s["done"]) - int(s["failed"])),
             "running": s["config_hash"] == running} for s in sweeps]

"""What every sequence-lab study shares: its YAML file, and its units run through the sweep store.

A study is a list of *units* (one training run: a setting and a seed). :func:`run_stored_units` runs
the units the result store (:class:`raflab.sweeps.store.ResultStore`) does not hold as done, on the
sweep engine's backends (:func:`raflab.sweeps.backends.run_units`), and writes each unit's row as
soon as it finishes, in one transaction: a study killed at any point (even with SIGKILL) resumes
to exactly the rows of a clean run. While it runs, the store's live sidecar holds its counts
(``raflab sweep status``).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from raflab.core.progress import rows_progress
from raflab.sweeps.backends import check_backend, run_units
from raflab.sweeps.config import read_config_file
from raflab.sweeps.engine import PAUSE_SECONDS, _pause_after, code_version
from raflab.sweeps.store import ResultStore, clean_value

#: where a study's rows go when neither its config nor ``--store`` says
DEFAULT_STORE = "results/raflab.duckdb"


def read_study_file(path: str | Path, study: str) -> dict:
    """The settings of a study's YAML file: its ``name`` dropped, its ``study`` (if any) checked."""
    values = read_config_file(path, missing=f"cannot read config {path}: No such file or directory",
                              keys=f"{study} settings")
    values.pop("name", None)
    found = values.pop("study", study)
    if found != study:
        raise ValueError(f"the config {path} is a {found!r} study, not {study!r}")
    return values


def run_stored_units(store: str | Path, *, config_hash: str, name: str, task: str, config: dict,
                     units: Sequence, key: Callable, execute: Callable, row: Callable,
                     backend: str = "local", workers: int | None = 1, quiet: bool = False,
                     unit_name: str = "runs") -> dict[tuple, str]:
    """Run the ``units`` whose ``key(unit)`` (kind, point, seed) the store does not hold as done and
    write ``row(unit, execute(unit))`` for each as it finishes; return every stored key's status.

    ``execute`` must be picklable for ``workers > 1`` (a module-level function or a partial of one).
    """
    check_backend(backend, workers)  # before the store is touched
    result_store = ResultStore(store)
    pause_after = _pause_after()  # test-only: stop after this many units, to be killed
    version, commit = code_version()
    result_store.check_no_sweep_running()
    with result_store.session():
        result_store.register_sweep(config_hash, name, task, config, len(units), len(units))
        stored = result_store.stored_keys(config_hash)
        todo = [u for u in units if stored.get(key(u)) != "done"]
        live = result_store.live_sweep(config_hash, name, task, len(units))
        wanted = {key(u) for u in units}
        live.update(done=sum(s == "done" for k, s in stored.items() if k in wanted),
                    failed=sum(s == "failed" for k, s in stored.items() if k in wanted))
        result_store.write_live()
        written = 0
        with rows_progress(f"{name} ({task})", len(todo), enabled=not quiet, unit=unit_name) as advance:
            for index, result in run_units(execute, todo, backend=backend, workers=workers):
                unit = todo[index]
                kind, point, seed = key(unit)
                record = {k: clean_value(v) for k, v in row(unit, result).items()}
                status = record.setdefault("status", "done")
                record.setdefault("error", None)
                result_store.write_rows([{
                    "config_hash": config_hash, "kind": kind, "point": point, "seed": seed, "backend": backend,
                    "raflab_version": version, "git_commit": commit,
                    "finished_at": datetime.now(timezone.utc).replace(tzinfo=None), **record}])
                if stored.get((kind, point, seed)) == "failed":
                    live["failed"] -= 1
                stored[(kind, point, seed)] = status
                live[status] += 1
                result_store.write_live()
                written += 1
                advance(1)
                if pause_after is not None and written >= pause_after:
                    pause_after = None
                    time.sleep(PAUSE_SECONDS)  # test-only: stored, then wait to be killed
    return stored


def settings_hash(content: dict) -> str:
    """The 16-hex-digit hash a study's rows are stored under (its settings as canonical JSON)."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _plain(value):
    """numpy scalars as Python values, for JSON."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in a record")


def run_study_units(units: Sequence, execute: Callable, *, store: str | Path | None, config_hash: str, name: str,
                    task: str, config: dict, key: Callable, columns: Callable | None = None,
                    workers: int | None = 1, backend: str = "local", quiet: bool = False) -> list[dict]:
    """The records of every unit, in the order of ``units``; ``execute(unit)`` returns a unit's records.

    With a ``store``, each unit is one stored row as soon as it finishes: its key ``key(unit)`` =
    (kind, point, seed), the columns ``columns(unit, records)`` and its records as JSON (``records``;
    floats written exactly); the units stored as done are not run again. Without a store, the units
    run here and nothing is written.
    """
    if store is None:
        with rows_progress(f"{name} ({task})", len(units), enabled=not quiet, unit="runs") as advance:
            results = {}
            for index, records in run_units(execute, units, backend=backend, workers=workers):
                results[index] = records
                advance(1)
        return [record for index in range(len(units)) for record in results[index]]

    def row(unit, records: list[dict]) -> dict:
        extra = columns(unit, records) if columns is not None else {}
        return {**extra, "records": json.dumps(records, default=_plain)}

    run_stored_units(store, config_hash=config_hash, name=name, task=task, config=config, units=units, key=key,
                     execute=execute, row=row, backend=backend, workers=workers, quiet=quiet)
    rows = ResultStore(store).rows(config_hash)
    stored = {(k, p, s): r for k, p, s, r in zip(rows["kind"], rows["point"], rows["seed"], rows["records"])}
    return [record for unit in units for record in json.loads(stored[key(unit)])]


__all__ = ["DEFAULT_STORE", "settings_hash", "read_study_file", "run_stored_units", "run_study_units"]

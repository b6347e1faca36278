"""The result store: an embedded DuckDB database, one row per (config hash, kind, point, seed).

Only the process that runs a sweep writes, through one connection held for the run (opening a
DuckDB file costs ~0.1 s, a transaction ~0.04 s), one transaction for the units that finish within
0.5 s of each other. DuckDB
lets no other process open a file a writer holds, so the runner also keeps a small JSON sidecar
(``<store>.live.json``: its pid, the sweep it runs, and the counts of every sweep in the store)
that ``raflab sweep status`` reads at once while the store is busy. A process that finds the store
locked by the pid of the sidecar knows a sweep is running there (:class:`SweepRunningError`, at once);
a lock held by any other process is waited for (``lock_timeout``), since readers hold it briefly.
After the run, anyone reads the store directly (``pandas``/``polars`` through
``duckdb.connect(path, read_only=True)``). A process killed mid-write loses at most that unit,
whose transaction is rolled back on the next open; a re-run recomputes exactly those units.

Tables
------
``results``
    Key ``config_hash, kind ('theory'|'simulation'), point (canonical JSON), seed (-1 for theory)``;
    ``status ('done'|'failed')``, ``error``; the grid values (model, loss, alpha, eps, lam, kappa, d,
    activation, kernel); every metric of the task as its own column (added as new metrics appear);
    ``elapsed_s`` (the unit's wall time shared over its rows), ``finished_at``, ``backend``,
    ``raflab_version``, ``git_commit``.
``sweeps``
    One row per config hash: name, task, the config as JSON, first and last run times.
"""

from __future__ import annotations

import json
import os
import re
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from raflab.core.checks import one_of


class StoreBusyError(ValueError):
    """Another process holds the store."""


class SweepRunningError(StoreBusyError):
    """A running sweep holds the store; ``state`` is its live sidecar (pid, sweeps and their counts)."""

    def __init__(self, message: str, state: dict):
        super().__init__(message)
        self.state = state


def _pid_alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError, TypeError):
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def _wait_for_lock() -> None:
    """The pause between two tries to open a store another process holds (a test replaces it)."""
    time.sleep(0.05)


def _lock_holder(message: str) -> int | None:
    """The pid in DuckDB's "Conflicting lock is held in ... (PID 123)" message, if any."""
    found = re.search(r"\(PID (\d+)\)", message)
    return int(found.group(1)) if found else None


KEY = ("config_hash", "kind", "point", "seed")
#: the file formats of :meth:`ResultStore.export`
EXPORT_FORMATS = ("parquet", "csv")
_BASE_COLUMNS = {
    "config_hash": "VARCHAR", "kind": "VARCHAR", "point": "VARCHAR", "seed": "BIGINT",
    "status": "VARCHAR", "error": "VARCHAR",
}
_SWEEPS = """CREATE TABLE IF NOT EXISTS sweeps (
    config_hash VARCHAR PRIMARY KEY, name VARCHAR, task VARCHAR, config VARCHAR,
    units BIGINT, rows_expected BIGINT, first_run TIMESTAMP, last_run TIMESTAMP)"""


#: columns whose type must not depend on which rows arrive first (a batch mixing theory rows, which
#: have iterations and converged, with simulation rows, which do not, would make them float)
_INTEGER_COLUMNS = ("seed", "iterations", "d", "n_seeds")
_BOOLEAN_COLUMNS = ("converged",)


def _typed(batch: pd.DataFrame) -> pd.DataFrame:
    for col in _INTEGER_COLUMNS:
        if col in batch:
            batch[col] = batch[col].astype("Int64")
    for col in _BOOLEAN_COLUMNS:
        if col in batch:
            batch[col] = batch[col].astype("boolean")
    return batch


def _sql_type(values: pd.Series) -> str:
    if values.name in _INTEGER_COLUMNS:
        return "BIGINT"
    if values.name in _BOOLEAN_COLUMNS:
        return "BOOLEAN"
    kind = values.dtype.kind
    if kind == "b":
        return "BOOLEAN"
    if kind in "iu":
        return "BIGINT"
    if kind == "f":
        return "DOUBLE"
    if kind == "M":
        return "TIMESTAMP"
    present = values.dropna()
    if len(present) and all(isinstance(v, bool) for v in present):
        return "BOOLEAN"
    if len(present) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return "DOUBLE"
    return "VARCHAR"


class ResultStore:
    """A DuckDB file of sweep results (created on first write).

    Parameters
    ----------
    path : str or Path
        The database file; its folder is created when needed.
    lock_timeout : float
        Seconds to keep retrying while another process holds the file (a reader, for a moment);
        a running sweep is recognized by its live sidecar and reported at once.
    """

    def __init__(self, path: str | Path, lock_timeout: float = 10.0):
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self._session = None
        self._live = None

    @property
    def live_path(self) -> Path:
        return self.path.with_name(self.path.name + ".live.json")

    @contextmanager
    def session(self):
        """Hold one write connection for a run; writes inside reuse it. While it is held, the live
        sidecar names this process and lists every sweep of the store with its counts."""
        with self.connect() as con:
            self._session = con
            try:
                self._live = {"running": None, "sweeps": self.sweep_counts(con)}
                self.write_live()
                yield self
            finally:
                self._session = None
                self._live = None
                self.live_path.unlink(missing_ok=True)

    def sweep_counts(self, con) -> list[dict]:
        """Name, config_hash, task, rows (expected), done and failed of every sweep, through ``con``."""
        if not self._has_table(con, "sweeps"):
            return []
        counts = {}
        if self._has_table(con, "results"):
            for h, status, n in con.execute("SELECT config_hash, status, count(*) FROM results "
                                            "GROUP BY config_hash, status").fetchall():
                counts.setdefault(h, {})[status] = int(n)
        return [{"name": name, "config_hash": h, "task": task, "rows": int(rows),
                 "done": counts.get(h, {}).get("done", 0), "failed": counts.get(h, {}).get("failed", 0)}
                for h, name, task, rows in con.execute("SELECT config_hash, name, task, rows_expected "
                                                       "FROM sweeps ORDER BY first_run").fetchall()]

    def live_sweep(self, config_hash: str, name: str, task: str, rows: int) -> dict:
        """Mark ``config_hash`` as the sweep this session runs; returns its live counts (a dict the
        caller updates, then :meth:`write_live`)."""
        sweeps = self._live["sweeps"]
        entry = next((s for s in sweeps if s["config_hash"] == config_hash), None)
        if entry is None:
            entry = {"name": name, "config_hash": config_hash, "task": task, "rows": rows, "done": 0, "failed": 0}
            sweeps.append(entry)
        entry.update(name=name, rows=rows)
        self._live["running"] = config_hash
        return entry

    def write_live(self) -> None:
        """The session's live state, for readers while the store is locked (atomic replace)."""
        tmp = self.live_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({**self._live, "pid": os.getpid()}, default=str))
        os.replace(tmp, self.live_path)

    def read_live(self) -> dict | None:
        """The sidecar of a sweep running on this store: None when there is none, or when the
        process that wrote it is gone (a sweep killed with SIGKILL leaves its sidecar behind)."""
        try:
            state = json.loads(self.live_path.read_text())
        except (OSError, ValueError):
            return None
        return state if isinstance(state, dict) and _pid_alive(state.get("pid")) else None

    def check_no_sweep_running(self) -> None:
        """Raise :class:`SweepRunningError` when a sweep holds this store (its sidecar's process
        holds the lock: a sidecar left by a killed run, its pid since reused, does not count)."""
        if self.read_live() is None or not self.path.exists():
            return
        with self.connect(read_only=True):  # raises SweepRunningError for the sidecar's process
            pass

    def _running_message(self, state: dict) -> str:
        entry = next((s for s in state.get("sweeps", []) if s.get("config_hash") == state.get("running")), None)
        what = ("a running sweep" if entry is None else
                f"the running sweep {entry['name']!r} ({entry['done'] + entry['failed']} of {entry['rows']} rows)")
        return (f"the result store {self.path} is in use by {what}, pid {state['pid']}; "
                f"wait for it to end (raflab sweep status shows its progress) or use another --store")

    @contextmanager
    def connect(self, read_only: bool = False, timeout: float | None = None):
        import duckdb

        if self._session is not None:
            yield self._session
            return

        if read_only and not self.path.exists():
            raise ValueError(f"no result store at {self.path}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + (self.lock_timeout if timeout is None else timeout)
        while True:
            try:
                con = duckdb.connect(str(self.path), read_only=read_only)
                break
            except duckdb.IOException as exc:  # a reader holds the lock for a moment, a sweep for its run
                message = " ".join(str(exc).split())
                if "lock" not in message.lower():
                    raise ValueError(f"cannot open the result store {self.path}: {message}") from None
                holder, state = _lock_holder(message), self.read_live()
                if state is not None and (holder is None or holder == state["pid"]):
                    raise SweepRunningError(self._running_message(state), state) from None
                if time.monotonic() > deadline:
                    who = "another process" if holder is None else f"another process (pid {holder})"
                    raise StoreBusyError(f"the result store {self.path} is locked by {who}; "
                                         f"close it or use another --store") from None
                _wait_for_lock()
        try:
            yield con
        finally:
            con.close()

    # -- writing ------------------------------------------------------------------------------
    def register_sweep(self, config_hash: str, name: str, task: str, config: dict, units: int,
                       rows_expected: int) -> None:
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        with self.connect() as con:
            con.execute(_SWEEPS)
            con.execute(
                "INSERT INTO sweeps VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (config_hash) DO UPDATE "
                "SET name = excluded.name, last_run = excluded.last_run",
                [config_hash, name, task, json.dumps(config, sort_keys=True), units, rows_expected, now, now])

    def write_rows(self, rows: list[dict]) -> None:
        """Insert (or replace: a retried failure) rows in one transaction."""
        if not rows:
            return
        batch = _typed(pd.DataFrame(rows))
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                self._ensure_columns(con, batch)
                con.register("batch", batch)
                con.execute("INSERT OR REPLACE INTO results BY NAME SELECT * FROM batch")
                con.unregister("batch")
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    def _ensure_columns(self, con, batch: pd.DataFrame) -> None:
        columns = ", ".join(f"{c} {t}" for c, t in _BASE_COLUMNS.items())
        con.execute(f"CREATE TABLE IF NOT EXISTS results ({columns}, PRIMARY KEY ({', '.join(KEY)}))")
        have = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                          "WHERE table_name = 'results'").fetchall()}
        for col in batch.columns:
            if col not in have:
                con.execute(f'ALTER TABLE results ADD COLUMN "{col}" {_sql_type(batch[col])}')

    # -- reading ------------------------------------------------------------------------------
    @staticmethod
    def _has_table(con, name: str) -> bool:
        return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                                [name]).fetchone()[0])

    def _query(self, sql: str, params=None, timeout: float | None = None) -> pd.DataFrame:
        with self.connect(read_only=True, timeout=timeout) as con:
            return con.execute(sql, params or []).df() if self._has_table(con, "results") else pd.DataFrame()

    def stored_keys(self, config_hash: str) -> dict[tuple, str]:
        """Status ('done' or 'failed') of every stored key (kind, point, seed) of a sweep."""
        if not self.path.exists():
            return {}
        df = self._query("SELECT kind, point, seed, status FROM results WHERE config_hash = ?", [config_hash])
        return {(kind, point, seed): status for kind, point, seed, status in df.itertuples(index=False)}

    def rows(self, config_hash: str | None = None, status: str | None = "done",
             drop_empty: bool = True) -> pd.DataFrame:
        """Stored rows (of one config; of one status, None for all), metrics as columns; the columns
        no selected row fills (another model's metrics) are dropped unless ``drop_empty=False``."""
        where, params = [], []
        if config_hash is not None:
            where.append("config_hash = ?")
            params.append(config_hash)
        if status is not None:
            where.append("status = ?")
            params.append(status)
        sql = "SELECT * FROM results" + (f" WHERE {' AND '.join(where)}" if where else "")
        df = self._query(sql + " ORDER BY config_hash, kind, point, seed", params)
        return df.dropna(axis=1, how="all") if len(df) and drop_empty else df

    def sweeps(self) -> pd.DataFrame:
        with self.connect(read_only=True) as con:
            if not self._has_table(con, "sweeps"):
                return pd.DataFrame(columns=["config_hash", "name", "task", "config", "units", "rows_expected"])
            return con.execute("SELECT * FROM sweeps ORDER BY first_run").df()

    def counts(self, config_hash: str, timeout: float | None = None) -> dict[str, int]:
        df = self._query("SELECT status, count(*) AS n FROM results WHERE config_hash = ? GROUP BY status",
                         [config_hash], timeout)
        out = {"done": 0, "failed": 0}
        for status, n in df.itertuples(index=False) if len(df) else []:
            out[status] = int(n)
        return out

    def export(self, out: str | Path, fmt: str, config_hash: str | None = None) -> int:
        """Write the done and failed rows to parquet or csv; returns the number of rows."""
        one_of(fmt, EXPORT_FORMATS, "export format")
        df = self.rows(config_hash, status=None, drop_empty=False)
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        if fmt == "parquet":
            df.to_parquet(out, index=False)
        else:
            df.to_csv(out, index=False)
        return len(df)


def clean_value(v):
    """Plain Python values for a row (numpy scalars unwrapped; inf stays inf: DuckDB stores it)."""
    return v.item() if hasattr(v, "item") else v

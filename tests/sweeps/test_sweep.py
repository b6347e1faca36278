"""Sweeps: config validation, grid expansion, store rows equal to the direct API, failures, resume
after SIGKILL, dask = local, status, export and report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from raflab.cli import app
from raflab.sweeps.config import config_from_dict, load_config
from raflab.sweeps.engine import PAUSE_ENV, run_sweep, sweep_status
from raflab.sweeps.store import ResultStore

# what a row holds that depends on when and where it ran, not on what was computed
RUN_COLUMNS = ["elapsed_s", "finished_at", "backend", "git_commit", "raflab_version"]
REPO = Path(__file__).resolve().parents[2]


def _values(store: Path, config_hash: str) -> pd.DataFrame:
    rows = ResultStore(store).rows(config_hash, status=None)
    return rows.drop(columns=[c for c in RUN_COLUMNS if c in rows]).sort_values(["kind", "point", "seed"],
                                                                                ignore_index=True)


# -- configs ---------------------------------------------------------------------------------------
BAD_CONFIGS = [
    ({"task": "theory", "grid": {"eps": 1.5}}, "grid.eps: eps must be in [0, 1] (got 1.5)"),
    ({"task": "theory", "grid": {"alpha": [1, -1]}}, "grid.alpha: alpha must be > 0 (got -1)"),
    ({"task": "theory", "grid": {"loss": "hing"}}, "grid.loss: unknown loss 'hing'"),
    ({"task": "theory", "grid": {"model": "mlp"}}, "grid.model: unknown model 'mlp'"),
    ({"task": "theory", "grid": {"alpha": "1:2"}}, "grid.alpha: malformed range for alpha"),
    ({"task": "theory", "grid": {"d": 1}}, "grid.d: d must be an integer >= 2"),
    ({"task": "theory", "grid": {"activation": "nope", "model": "rf"}}, "grid.activation: unknown activation 'nope'"),
    ({"task": "theory", "grid": {"lam": [0.1], "colour": 1}}, "grid.colour: Extra inputs are not permitted"),
    ({"task": "theory", "seedz": 3}, "seedz: Extra inputs are not permitted"),
    ({"task": "fit"}, "task: Input should be 'theory', 'simulate' or 'compare'"),
    ({"task": "simulate", "seeds": 0}, "seeds: Input should be greater than or equal to 1"),
    ({"task": "theory", "options": {"tol": 2}}, "options.tol: Input should be less than 1"),
    ({"task": "theory", "combine": "zip", "grid": {"alpha": [1, 2], "eps": [0, 0.1, 0.2]}},
     "combine: zip needs the listed axes to have one length (got alpha=2, eps=3)"),
    ({"task": "theory", "grid": {"model": "kernel", "kernel": "polynomial"},
      "options": {"kernel_params": {"degre": 2}}}, "takes no parameter(s) ['degre']"),
]


@pytest.mark.parametrize("data, message", BAD_CONFIGS)
def test_bad_config_is_one_line_naming_the_key(data, message):
    with pytest.raises(ValueError) as info:
        config_from_dict({"name": "bad", **data})
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_bad_config_file_on_the_command_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\ntask: theory\ngrid:\n  eps: [0, 2]\n")
    result = CliRunner().invoke(app, ["sweep", "run", str(path), "--quiet"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [f"error: {path}: grid.eps: eps must be in [0, 1] (got 2)"]
    path.write_text("name: x\ntask: [theory\n")
    result = CliRunner().invoke(app, ["sweep", "run", str(path)])
    assert result.exit_code == 2 and "cannot parse" in result.stderr and len(result.stderr.splitlines()) == 1
    result = CliRunner().invoke(app, ["sweep", "run", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2 and "no sweep config" in result.stderr


def test_shipped_configs_validate():
    configs = sorted((REPO / "experiments").glob("*.*"))
    assert len(configs) >= 3
    for path in configs:
        config = load_config(path)
        assert config.points(), path


def test_grid_expansion_product_zip_and_keys():
    product = config_from_dict({"name": "p", "task": "compare", "seeds": 3,
                                "grid": {"loss": ["square", "hinge"], "alpha": "0.5:2:4", "eps": [0, 0.1],
                                         "lam": [0.1, 0.01], "kappa": [1, 2]}})
    # kappa is not an axis of the linear learner: 2 x 4 x 2 x 2 distinct points
    assert len(product.points()) == 32
    units = product.units()
    theory = [u for u in units if u.kind == "theory"]
    sims = [u for u in units if u.kind == "simulation"]
    assert sum(len(u.points) for u in theory) == 32
    assert len(sims) == 16 * 3 and all(len(u.points) == 2 for u in sims)  # one data set serves the lam path
    zipped = config_from_dict({"name": "z", "task": "theory", "combine": "zip",
                               "grid": {"alpha": [1, 2, 3], "eps": [0, 0.1, 0.2], "lam": 0.1}})
    assert [(p["alpha"], p["eps"]) for p in zipped.points()] == [(1, 0), (2, 0.1), (3, 0.2)]
    # the hash names what is computed: not the name or the store, but every grid value
    same = config_from_dict({**product.model_dump(mode="json"), "name": "other", "store": "elsewhere.duckdb"})
    assert same.config_hash == product.config_hash
    changed = product.model_dump(mode="json")
    changed["grid"]["lam"] = [0.1, 0.02]
    assert config_from_dict(changed).config_hash != product.config_hash


# -- rows equal the direct API ------------------------------------------------------------------
def test_theory_rows_equal_erm_theory(tmp_path):
    from raflab.raf.theory.erm import erm_theory

    config = config_from_dict({"name": "t", "task": "theory", "chunk_size": 10,
                               "grid": {"loss": ["square", "hinge"], "alpha": "0.5:3:6", "eps": [0, 0.2],
                                        "lam": 0.1}})
    summary = run_sweep(config, store=tmp_path / "s.duckdb", workers=1, quiet=True)
    assert summary["rows_done"] == 24 and summary["rows_failed"] == 0
    rows = ResultStore(tmp_path / "s.duckdb").rows(config.config_hash)
    for loss in ("square", "hinge"):
        direct = erm_theory(loss, np.linspace(0.5, 3, 6), [0, 0.2], 0.1)
        stored = rows[rows["loss"] == loss].sort_values(["eps", "alpha"], ignore_index=True)
        # chunks of 10 points are solved apart from the rest: equal up to the fixed-point tolerance
        np.testing.assert_allclose(stored["gen_error"], direct["gen_error"], rtol=1e-7)
        np.testing.assert_allclose(stored["m"], direct["m"], rtol=1e-7)


def test_simulation_rows_equal_simulate_erm(tmp_path):
    from raflab.raf.experiments.simulate import simulate_erm

    config = config_from_dict({"name": "s", "task": "simulate", "seeds": 2, "seed": 5,
                               "grid": {"loss": "square", "alpha": [0.5, 2], "eps": 0.2, "lam": [0.01, 1], "d": 40}})
    run_sweep(config, store=tmp_path / "s.duckdb", workers=1, quiet=True)
    rows = ResultStore(tmp_path / "s.duckdb").rows(config.config_hash).sort_values(["alpha", "lam", "seed"],
                                                                                      ignore_index=True)
    direct = simulate_erm("square", [0.5, 2], 0.2, [0.01, 1], d=40, seeds=2, seed=5, raw=True)
    direct = direct.sort_values(["alpha", "lam", "seed"], ignore_index=True)
    assert len(rows) == 8
    np.testing.assert_array_equal(rows["seed"], direct["seed"])
    np.testing.assert_allclose(rows["gen_error"], direct["gen_error"], rtol=1e-12)
    np.testing.assert_allclose(rows["train_loss"], direct["train_loss"], rtol=1e-12)


def test_bayes_rows_are_the_bayes_optimal_theory_and_gamp(tmp_path):
    from raflab.raf.experiments.simulate import simulate_erm
    from raflab.raf.theory.bayes import bayes_optimal_theory

    config = config_from_dict({"name": "b", "task": "compare", "seeds": 1,
                               "grid": {"model": "bayes", "alpha": [1, 3], "eps": [0, 0.2], "d": 60}})
    run_sweep(config, store=tmp_path / "s.duckdb", workers=1, quiet=True)
    rows = ResultStore(tmp_path / "s.duckdb").rows(config.config_hash)
    theory = rows[rows.kind == "theory"].sort_values(["eps", "alpha"], ignore_index=True)
    np.testing.assert_allclose(theory.gen_error, bayes_optimal_theory([1, 3], [0, 0.2]).gen_error, rtol=1e-9)
    sims = rows[rows.kind == "simulation"].sort_values(["eps", "alpha"], ignore_index=True)
    direct = simulate_erm("square", [1, 3], [0, 0.2], 0.0, model="bayes", d=60, seeds=1, raw=True)
    np.testing.assert_allclose(sims.gen_error, direct.sort_values(["eps", "alpha"]).gen_error, rtol=1e-12)


def test_failing_point_is_recorded_and_the_sweep_goes_on(tmp_path):
    # hinge at lam = 0 is max-margin: at alpha = 4 with half the labels random no hyperplane separates
    config = config_from_dict({"name": "f", "task": "simulate", "grid": {"loss": "hinge", "alpha": [0.5, 4],
                                                                          "eps": 0.5, "lam": 0, "d": 30}})
    store = tmp_path / "s.duckdb"
    summary = run_sweep(config, store=store, workers=1, quiet=True)
    assert (summary["rows_done"], summary["rows_failed"]) == (1, 1)
    rows = ResultStore(store).rows(config.config_hash, status=None).set_index("alpha")
    assert rows.loc[0.5, "status"] == "done" and np.isfinite(rows.loc[0.5, "gen_error"])
    assert rows.loc[4.0, "status"] == "failed"
    assert rows.loc[4.0, "error"].startswith("NotSeparableError: ") and "\n" not in rows.loc[4.0, "error"]
    status = sweep_status(config, store)
    assert (status["done"], status["failed"], status["pending"]) == (1, 1, 0)
    # a re-run retries the failure (still failing, still one row), or leaves it when asked
    again = run_sweep(config, store=store, workers=1, quiet=True)
    assert (again["rows_skipped"], again["rows_failed"]) == (1, 1)
    kept = run_sweep(config, store=store, workers=1, quiet=True, retry_failed=False)
    assert kept["rows_skipped"] == 2
    assert len(ResultStore(store).rows(config.config_hash, status=None)) == 2


# -- resume after SIGKILL ---------------------------------------------------------------------------
RESUME_CONFIG = """name: resume
task: simulate
grid:
  loss: square
  alpha: "0.5:3:8"
  eps: [0, 0.2]
  lam: 0.05
  d: 300
seeds: 2
"""


def _sweep_cmd(config: Path, store: Path, workers: int = 1) -> list[str]:
    return [sys.executable, "-m", "raflab.cli", "sweep", "run", str(config), "--store", str(store),
            "--workers", str(workers), "--quiet", "--format", "json"]


def _start_paused_sweep(config_path: Path, store: Path, pause_after: int, workers: int = 1):
    """A sweep in a subprocess that stores ``pause_after`` rows, then waits to be killed (the
    test-only PAUSE_ENV): the kill lands mid-sweep however fast the machine is."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", PAUSE_ENV: str(pause_after)}
    proc = subprocess.Popen(_sweep_cmd(config_path, store, workers), env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    live = ResultStore(store)
    deadline = time.monotonic() + 300  # a bound for a stuck run, not a speed assumption
    while time.monotonic() < deadline and proc.poll() is None:
        state = live.read_live()
        entry = None if state is None or state["running"] is None else \
            next(s for s in state["sweeps"] if s["config_hash"] == state["running"])
        if entry is not None and entry["done"] + entry["failed"] >= pause_after:
            return proc
        time.sleep(0.02)
    proc.kill()
    raise AssertionError(f"the sweep did not reach its pause: {proc.stderr.read().decode()}")


def _kill_group(proc) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def test_sigkill_midway_then_resume_gives_exactly_the_rows_of_a_clean_run(tmp_path):
    config_path = tmp_path / "resume.yaml"
    config_path.write_text(RESUME_CONFIG)
    config = load_config(config_path)
    total = sum(len(u.points) for u in config.units())

    killed = tmp_path / "killed.duckdb"
    proc = _start_paused_sweep(config_path, killed, pause_after=6)
    try:
        running = sweep_status(config, killed, wait=0.05)  # the store is locked: counts from the sidecar
        assert running["running"] and running["done"] == 6
    finally:
        _kill_group(proc)  # the runner and its pool, mid-sweep
    partial = sweep_status(config, killed)  # the sidecar is left behind, its process gone: the store is read
    assert not partial["running"]
    assert (partial["done"], partial["failed"], partial["pending"]) == (6, 0, total - 6)

    from threadpoolctl import threadpool_limits

    clean = tmp_path / "clean.duckdb"
    with threadpool_limits(1):  # one BLAS thread, as in the killed run: the same arithmetic
        summary = run_sweep(config, store=killed, workers=1, quiet=True)  # the resumed run
        assert (summary["rows_skipped"], summary["rows_done"], summary["rows_expected"]) == (6, total - 6, total)
        run_sweep(config, store=clean, workers=1, quiet=True)
    a, b = _values(killed, config.config_hash), _values(clean, config.config_hash)
    assert len(a) == len(b) == total  # none lost, none duplicated
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_sigkill_of_the_runner_leaves_no_worker_behind(tmp_path):
    psutil = pytest.importorskip("psutil")
    config_path = tmp_path / "resume.yaml"
    config_path.write_text(RESUME_CONFIG)
    proc = _start_paused_sweep(config_path, tmp_path / "s.duckdb", pause_after=1, workers=2)
    children = []
    try:
        children = psutil.Process(proc.pid).children(recursive=True)
        # the two spawn workers and multiprocessing's resource tracker
        assert len(children) >= 3, [c.cmdline() for c in children]
        os.kill(proc.pid, signal.SIGKILL)  # the runner alone, not its process group
        proc.wait()
        deadline = time.monotonic() + 10
        survivors = children
        while survivors and time.monotonic() < deadline:
            survivors = [c for c in survivors if _alive(psutil, c)]
            time.sleep(0.05)
        assert not survivors, [c.cmdline() for c in survivors]
    finally:
        for c in children:  # whatever the outcome, nothing of this test keeps running
            try:
                c.kill()
            except psutil.Error:
                pass
        _kill_group(proc)


WATCHDOG_HELPER = """
import os, sys, time
from raflab.sweeps import backends

def init(parent_pid):
    sys.platform = "darwin"  # no prctl: the portable watchdog alone
    backends._die_with_parent(parent_pid)

def work(folder):
    open(os.path.join(folder, str(os.getpid())), "w").close()
    time.sleep(600)
"""

WATCHDOG_RUNNER = """
import multiprocessing, os, sys, time
from concurrent.futures import ProcessPoolExecutor
sys.path.insert(0, sys.argv[1])
import watchdog_helper as helper
pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"), initializer=helper.init,
                           initargs=(os.getpid(),))
futures = [pool.submit(helper.work, sys.argv[2]) for _ in range(2)]
time.sleep(600)
"""


def test_without_prctl_the_watchdog_ends_the_workers_of_a_killed_parent(tmp_path):
    psutil = pytest.importorskip("psutil")
    (tmp_path / "watchdog_helper.py").write_text(WATCHDOG_HELPER)
    started = tmp_path / "started"
    started.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", WATCHDOG_RUNNER, str(tmp_path), str(started)],
                            start_new_session=True, stderr=subprocess.PIPE)
    workers = []
    try:
        deadline = time.monotonic() + 120
        while len(list(started.iterdir())) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        workers = [psutil.Process(int(p.name)) for p in started.iterdir()]
        assert len(workers) == 2, proc.stderr.read().decode() if proc.poll() is not None else "workers did not start"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 10  # the watchdog looks every 0.5 s
        survivors = workers
        while survivors and time.monotonic() < deadline:
            survivors = [w for w in survivors if _alive(psutil, w)]
            time.sleep(0.05)
        assert not survivors
    finally:
        for w in workers:
            try:
                w.kill()
            except psutil.Error:
                pass
        _kill_group(proc)


def _alive(psutil, process) -> bool:
    try:  # a zombie has ended; only its exit status waits for a parent that reaps it
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_status_and_a_second_writer_answer_at_once_while_a_sweep_runs(tmp_path, monkeypatch):
    import raflab.sweeps.store as store_module

    store = tmp_path / "s.duckdb"
    earlier = tmp_path / "earlier.yaml"
    earlier.write_text("name: earlier\ntask: theory\ngrid:\n  alpha: [1, 2]\n")
    assert run_sweep(load_config(earlier), store=store, workers=1, quiet=True)["rows_done"] == 2
    config_path = tmp_path / "resume.yaml"
    config_path.write_text(RESUME_CONFIG)
    config = load_config(config_path)
    total = sum(len(u.points) for u in config.units())
    proc = _start_paused_sweep(config_path, store, pause_after=3)
    try:
        def waited():
            raise AssertionError("waited for the lock")

        monkeypatch.setattr(store_module, "_wait_for_lock", waited)  # "at once": no retry at all
        runner = CliRunner()
        listing = runner.invoke(app, ["sweep", "status", "--store", str(store), "--format", "json"])
        assert listing.exit_code == 0, listing.stderr
        assert [(r["name"], r["rows"], r["done"], r["failed"], r["pending"], r["running"])
                for r in json.loads(listing.stdout)] == [("earlier", 2, 2, 0, 0, False),
                                                         ("resume", total, 3, 0, total - 3, True)]
        one = runner.invoke(app, ["sweep", "status", str(config_path), "--store", str(store), "--format", "json"])
        assert one.exit_code == 0, one.stderr
        assert {k: json.loads(one.stdout)[0][k] for k in ("done", "pending", "running")} == \
            {"done": 3, "pending": total - 3, "running": True}
        for other in (earlier, config_path):  # another sweep, or the same one, on the busy store
            second = runner.invoke(app, ["sweep", "run", str(other), "--store", str(store), "--quiet"])
            assert second.exit_code == 2
            assert second.stderr.splitlines() == [
                f"error: the result store {store} is in use by the running sweep 'resume' (3 of {total} rows), "
                f"pid {proc.pid}; wait for it to end (raflab sweep status shows its progress) or use another --store"]
    finally:
        _kill_group(proc)


# -- backends ---------------------------------------------------------------------------------------
def test_dask_local_cluster_gives_the_rows_of_the_local_backend(tmp_path):
    pytest.importorskip("dask.distributed")
    config = config_from_dict({"name": "d", "task": "compare", "seeds": 2, "chunk_size": 4,
                               "grid": {"loss": ["square", "logistic"], "alpha": [0.5, 1.5, 3], "eps": [0, 0.3],
                                        "lam": 0.1, "d": 40}})
    local = run_sweep(config, store=tmp_path / "local.duckdb", backend="local", workers=1, quiet=True)
    dask = run_sweep(config, store=tmp_path / "dask.duckdb", backend="dask", workers=2, quiet=True)
    assert local["rows_done"] == dask["rows_done"] == 12 + 24
    a, b = _values(tmp_path / "local.duckdb", config.config_hash), _values(tmp_path / "dask.duckdb", config.config_hash)
    pd.testing.assert_frame_equal(a, b)


def test_dask_scheduler_address_from_the_command_line(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    config_path = tmp_path / "c.yaml"
    config_path.write_text("name: addr\ntask: theory\nchunk_size: 2\ngrid:\n  alpha: [0.5, 1, 2]\n  eps: [0, 0.2]\n")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        result = CliRunner().invoke(app, ["sweep", "run", str(config_path), "--store", str(tmp_path / "d.duckdb"),
                                          "--backend", "dask", "--address", cluster.scheduler_address, "--quiet",
                                          "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)[0]["rows_done"] == 6
    config = load_config(config_path)
    run_sweep(config, store=tmp_path / "l.duckdb", workers=1, quiet=True)
    pd.testing.assert_frame_equal(_values(tmp_path / "d.duckdb", config.config_hash),
                                  _values(tmp_path / "l.duckdb", config.config_hash))


@pytest.mark.slow  # dask tries to connect for its full timeout (10 s) before it gives up
def test_unreachable_dask_scheduler_is_one_line(tmp_path):
    pytest.importorskip("dask.distributed")
    config_path = tmp_path / "c.yaml"
    config_path.write_text("name: addr\ntask: theory\n")
    result = CliRunner().invoke(app, ["sweep", "run", str(config_path), "--store", str(tmp_path / "x.duckdb"),
                                      "--backend", "dask", "--address", "tcp://127.0.0.1:9", "--quiet"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: cannot reach the dask scheduler at tcp://127.0.0.1:9")
    assert len(result.stderr.splitlines()) == 1
    assert list(tmp_path.iterdir()) == [config_path]  # no store left behind


@pytest.mark.slow  # starting ray alone takes ~20 s; skipped where the ray extra is not installed
def test_ray_backend_gives_the_rows_of_the_local_backend(tmp_path):
    pytest.importorskip("ray")
    config = config_from_dict({"name": "r", "task": "theory", "chunk_size": 3,
                               "grid": {"loss": "square", "alpha": [0.5, 1.5, 3], "eps": [0, 0.3], "lam": 0.1}})
    run_sweep(config, store=tmp_path / "local.duckdb", workers=1, quiet=True)
    run_sweep(config, store=tmp_path / "ray.duckdb", backend="ray", workers=2, quiet=True)
    pd.testing.assert_frame_equal(_values(tmp_path / "local.duckdb", config.config_hash),
                                  _values(tmp_path / "ray.duckdb", config.config_hash))


def test_unknown_or_missing_backend_is_a_clear_error(tmp_path):
    config = config_from_dict({"name": "b", "task": "theory"})
    with pytest.raises(ValueError, match="unknown backend 'spark'; choose one of local, dask, ray"):
        run_sweep(config, store=tmp_path / "s.duckdb", backend="spark", quiet=True)
    with pytest.raises(ValueError, match="workers must be >= 1"):
        run_sweep(config, store=tmp_path / "s.duckdb", workers=0, quiet=True)


# -- status, export, report -------------------------------------------------------------------------
def test_cli_status_export_plot_and_report(tmp_path):
    config_path = tmp_path / "c.yaml"
    config_path.write_text("name: small\ntask: compare\nseeds: 2\ngrid:\n  loss: square\n  alpha: [0.5, 1, 2]\n"
                           "  eps: [0, 0.2]\n  lam: 0.1\n  d: 40\n")
    store = tmp_path / "r.duckdb"
    runner = CliRunner()
    before = runner.invoke(app, ["sweep", "status", str(config_path), "--store", str(store), "--format", "json"])
    assert json.loads(before.stdout)[0] | {} == {"name": "small", "config_hash": load_config(config_path).config_hash,
                                                 "task": "compare", "rows": 18, "done": 0, "failed": 0,
                                                 "pending": 18, "running": False}
    ran = runner.invoke(app, ["sweep", "run", str(config_path), "--store", str(store), "--workers", "1",
                              "--quiet", "--format", "csv"])
    assert ran.exit_code == 0, ran.stderr
    assert pd.read_csv(__import__("io").StringIO(ran.stdout))["rows_done"].tolist() == [18]
    listing = runner.invoke(app, ["sweep", "status", "--store", str(store), "--format", "json"])
    assert [(r["name"], r["done"], r["pending"]) for r in json.loads(listing.stdout)] == [("small", 18, 0)]

    out = tmp_path / "rows.parquet"
    exported = runner.invoke(app, ["sweep", "export", str(config_path), "--store", str(store), "--out", str(out)])
    assert exported.exit_code == 0, exported.stderr
    table = pd.read_parquet(out)
    assert len(table) == 18 and {"gen_error", "config_hash", "git_commit", "elapsed_s"} <= set(table.columns)
    # pandas reads the store directly, through duckdb
    import duckdb

    with duckdb.connect(str(store), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM results WHERE status = 'done'").fetchone()[0] == 18

    fig = tmp_path / "fig.png"
    plotted = runner.invoke(app, ["sweep", "plot", str(config_path), "--store", str(store), "--out", str(fig)])
    assert plotted.exit_code == 0, plotted.stderr
    assert fig.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    page = tmp_path / "site" / "report.html"
    reported = runner.invoke(app, ["report", str(store), "--out", str(page)])
    assert reported.exit_code == 0, reported.stderr
    html = page.read_text()
    images = __import__("re").findall(r"<img src='([^']+)'", html)
    assert images and "small" in html and "<table" in html and "http" not in html.replace(str(store), "")
    import matplotlib.image

    for src in images:
        png = page.parent / src
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert matplotlib.image.imread(png).shape[0] > 100  # decodes: a real picture


def test_cli_errors_for_missing_store_and_bad_export_format(tmp_path):
    runner = CliRunner()
    missing = runner.invoke(app, ["report", str(tmp_path / "none.duckdb")])
    assert missing.exit_code == 2 and missing.stderr.startswith("error: no result store")
    config = config_from_dict({"name": "e", "task": "theory", "grid": {"alpha": [1, 2]}})
    run_sweep(config, store=tmp_path / "s.duckdb", workers=1, quiet=True)
    bad = runner.invoke(app, ["sweep", "export", "--store", str(tmp_path / "s.duckdb"), "--format", "xlsx",
                              "--out", str(tmp_path / "x.xlsx")])
    assert bad.exit_code == 2 and "unknown export format 'xlsx'" in bad.stderr


# -- bad inputs: one line, exit 2, before any work, nothing left behind ----------------------------
def test_grid_size_is_counted_without_expanding_and_matches_the_expansion():
    from raflab.sweeps.config import grid_size

    for data in [
        {"task": "compare", "seeds": 3, "grid": {"model": ["linear", "rf", "bayes"], "loss": ["square", "hinge"],
                                                  "alpha": "0.5:2:4", "eps": [0, 0.1], "lam": "0.1,0.01",
                                                  "kappa": [1, 2, 3], "d": [40, 80]}},
        {"task": "theory", "grid": {"model": "kernel", "kernel": ["arccos", "rbf"], "alpha": [1, "2:3:5"]}},
        {"task": "simulate", "combine": "zip", "seeds": 2, "grid": {"alpha": [1, 2, 3], "eps": [0, 0.1, 0.2]}},
    ]:
        config = config_from_dict({"name": "n", **data})
        units = config.units()
        size = grid_size({"name": "n", **data})
        assert size["theory_rows"] == sum(len(u.points) for u in units if u.kind == "theory"), data
        assert size["simulation_rows"] == sum(len(u.points) for u in units if u.kind == "simulation"), data


def test_a_grid_too_large_for_memory_is_refused_up_front_unless_allowed(tmp_path, monkeypatch):
    import raflab.core.memory as memory_check

    monkeypatch.delenv(memory_check.ENV_VAR, raising=False)
    # 1e5 x 1e5 points: 10 TB to plan, more than any machine has; refused before a value is expanded
    path = tmp_path / "huge.yaml"
    path.write_text('name: huge\ntask: theory\ngrid:\n  alpha: "0.5:5:100000"\n  eps: "0:1:100000"\n')
    result = CliRunner().invoke(app, ["sweep", "run", str(path), "--store", str(tmp_path / "s.duckdb"), "--quiet"])
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(f"error: {path}: config: the grid expands to 10,000,000,000 rows "
                                    "(10,000,000,000 theory, 0 simulation) in about 156,250,000 work units; "
                                    "planning them needs about 1e+04 GB of memory")
    assert "set allow_large_grid: true in the config" in result.stderr
    assert list(tmp_path.iterdir()) == [path]

    # the limit is what the machine has: 200,000 rows (0.2 GB) on a machine with 0.3 GB available
    monkeypatch.setattr(memory_check, "available_memory", lambda: 300_000_000)
    data = {"name": "big", "task": "theory", "grid": {"alpha": "0.5:5:2000", "eps": "0:1:100"}}
    with pytest.raises(ValueError, match=r"200,000 rows .* needs about 0\.2 GB of memory and this machine "
                                         r"has 0\.3 GB available"):
        config_from_dict(data)
    allowed = config_from_dict({**data, "allow_large_grid": True})  # knowingly: the same sweep, the same hash
    # the override every memory check honours: the same grid is planned
    monkeypatch.setenv(memory_check.ENV_VAR, "1")
    assert config_from_dict(data).config_hash == allowed.config_hash
    monkeypatch.setenv(memory_check.ENV_VAR, "0")  # 0 is not an override
    with pytest.raises(ValueError, match="200,000 rows"):
        config_from_dict(data)
    # memory that cannot be read is no reason to refuse
    monkeypatch.setattr(memory_check, "available_memory", lambda: None)
    assert config_from_dict(data).config_hash == allowed.config_hash
    monkeypatch.setattr(memory_check, "available_memory", lambda: 10**12)
    assert allowed.config_hash == config_from_dict(data).config_hash


def test_a_run_in_which_every_point_fails_exits_2_with_the_first_error(tmp_path):
    # hinge at lam = 0 is max-margin: at alpha = 4 with half the labels random no hyperplane separates
    path = tmp_path / "f.yaml"
    path.write_text("name: f\ntask: simulate\nseeds: 2\ngrid:\n  loss: hinge\n  alpha: [3, 4]\n  eps: 0.5\n"
                    "  lam: 0\n  d: 30\n")
    args = ["sweep", "run", str(path), "--store", str(tmp_path / "s.duckdb"), "--workers", "1", "--quiet",
            "--format", "json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert json.loads(result.stdout)[0]["rows_failed"] == 4  # the record of the run is still printed
    [line] = result.stderr.splitlines()
    assert line.startswith("error: every one of the 4 rows this run computed failed (stored as failed); "
                           "the first error: NotSeparableError: ")
    # some points failing is a warning (exit 0), naming the first error
    path.write_text("name: f\ntask: simulate\ngrid:\n  loss: hinge\n  alpha: [0.5, 4]\n  eps: 0.5\n  lam: 0\n  d: 30\n")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0
    [warning] = result.stderr.splitlines()
    assert warning.startswith("warning: 1 of 2 rows failed (stored as failed); the first error: NotSeparableError: ")
    assert "alpha=4" in warning


def test_an_unreachable_dask_scheduler_leaves_nothing_in_the_store(tmp_path, monkeypatch):
    distributed = pytest.importorskip("dask.distributed")

    def refuse(address, timeout=None):
        raise OSError(f"Timed out trying to connect to {address} after 10 s")

    monkeypatch.setattr(distributed, "Client", refuse)
    config = config_from_dict({"name": "t", "task": "theory", "grid": {"alpha": [1, 2]}})
    store = tmp_path / "s.duckdb"
    with pytest.raises(ValueError, match="cannot reach the dask scheduler at tcp://127.0.0.1:1"):
        run_sweep(config, store=store, backend="dask", address="tcp://127.0.0.1:1", quiet=True)
    assert list(tmp_path.iterdir()) == []  # no store created
    other = config_from_dict({"name": "o", "task": "theory", "grid": {"alpha": [3]}})
    run_sweep(other, store=store, workers=1, quiet=True)
    with pytest.raises(ValueError, match="cannot reach the dask scheduler"):
        run_sweep(config, store=store, backend="dask", address="tcp://127.0.0.1:1", quiet=True)
    assert ResultStore(store).sweeps()["name"].tolist() == ["o"]  # not registered as pending


@pytest.fixture
def small_store(tmp_path):
    config_path = tmp_path / "c.yaml"
    config_path.write_text("name: small\ntask: theory\ngrid:\n  model: [linear, rf]\n  alpha: [0.5, 1, 2]\n"
                           "  eps: [0, 0.2]\n  kappa: [1, 2]\n")
    store = tmp_path / "r.duckdb"
    run_sweep(load_config(config_path), store=store, workers=1, quiet=True)
    return config_path, store


@pytest.mark.parametrize("command", ["plot", "export", "report"])
@pytest.mark.parametrize("out", ["/proc/x.{ext}", "FOLDER", "FOLDER/", "FOLDER/new/", "FILE/x.{ext}"])
def test_an_unusable_out_path_is_one_line_before_any_work(small_store, tmp_path, command, out):
    config_path, store = small_store
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    ext = {"plot": "png", "export": "parquet", "report": "html"}[command]
    out = out.format(ext=ext).replace("FOLDER", str(tmp_path / "folder")).replace("FILE", str(tmp_path / "file"))
    args = {"plot": ["sweep", "plot", str(config_path), "--store", str(store)],
            "export": ["sweep", "export", "--store", str(store)],
            "report": ["report", str(store)]}[command] + ["--out", out]
    before = sorted(p for p in tmp_path.rglob("*") if "r.duckdb" not in p.name)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    [line] = result.stderr.splitlines()
    assert line.startswith("error: ") and out in line
    assert sorted(p for p in tmp_path.rglob("*") if "r.duckdb" not in p.name) == before  # nothing left behind
    assert not Path("/proc/x_files").exists() and not Path(str(tmp_path / "folder") + "_files").exists()


def test_sweep_plot_writes_the_format_asked_and_names_every_file(small_store, tmp_path):
    config_path, store = small_store
    out = tmp_path / "figs" / "fig.pdf"
    result = CliRunner().invoke(app, ["sweep", "plot", str(config_path), "--store", str(store), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    written = sorted((tmp_path / "figs").iterdir())
    # one figure per learner: linear, rf kappa=1, rf kappa=2
    assert [p.name for p in written] == ["fig.pdf", "fig_1.pdf", "fig_2.pdf"]
    assert all(p.read_bytes()[:5] == b"%PDF-" for p in written)
    assert result.stderr.splitlines() == [f"figure written to {p}" for p in written] + \
        ["3 figures written (one per learner)"]
    bad = CliRunner().invoke(app, ["sweep", "plot", str(config_path), "--store", str(store),
                                   "--out", str(tmp_path / "fig.xyz")])
    assert bad.exit_code == 2
    assert bad.stderr.startswith(f"error: --out {tmp_path / 'fig.xyz'} must end in one of .png, .pdf")


def test_plot_and_report_of_a_sweep_without_facts(tmp_path):
    # at eps = 0 there are no facts: the fact memorization error is not a column of the rows
    import matplotlib.image

    config_path = tmp_path / "z.yaml"
    config_path.write_text("name: nofacts\ntask: compare\ngrid:\n  alpha: [0.5, 1, 2]\n  eps: 0\n  d: 40\n")
    store = tmp_path / "z.duckdb"
    run_sweep(load_config(config_path), store=store, workers=1, quiet=True)
    assert "fact_memorization_error" not in ResultStore(store).rows()
    fig = tmp_path / "fig.png"
    plotted = CliRunner().invoke(app, ["sweep", "plot", str(config_path), "--store", str(store), "--out", str(fig)])
    assert plotted.exit_code == 0, plotted.stderr
    assert matplotlib.image.imread(fig).shape[0] > 100
    page = tmp_path / "report.html"
    reported = CliRunner().invoke(app, ["report", str(store), "--out", str(page)])
    assert reported.exit_code == 0, reported.stderr
    assert "<img src='report_files/" in page.read_text() and len(list((tmp_path / "report_files").iterdir())) == 1


def test_the_figure_says_where_a_panel_has_nothing_to_show():
    from raflab.raf.plots import plot_raf_errors

    theory = pd.DataFrame({"alpha": [1.0, 2.0], "eps": 0.0, "lam": 0.1, "converged": True,
                           "gen_error": [0.3, 0.2], "rule_train_error": [0.1, 0.2],
                           "fact_memorization_error": float("nan")})
    fig = plot_raf_errors(theory)
    texts = [[t.get_text() for t in ax.texts] for ax in fig.axes]
    assert texts == [[], [], ["no facts in these rows (eps = 0)"]]


def test_each_series_of_the_figure_draws_its_own_rows_only():
    import warnings

    from raflab.raf.plots import plot_raf_errors

    theory = pd.DataFrame({"alpha": [1.0, 2.0, 1.0, 2.0, 1.0, 2.0], "eps": [0.0, 0.0, 0.2, 0.2, 0.2, 0.2],
                           "lam": [0.1, 0.1, 0.1, 0.1, 1.0, 1.0], "converged": True,
                           "gen_error": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "rule_train_error": 0.0,
                           "fact_memorization_error": 0.0})
    simulation = theory.assign(d=40, gen_error=theory["gen_error"] + 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pandas 3 warns on comparing columns with a tuple
        fig = plot_raf_errors(theory, simulation)
    ax = fig.axes[0]
    lines = {line.get_label(): list(line.get_ydata()) for line in ax.lines if line.get_label().startswith("theory")}
    assert lines == {"theory ε=0, λ=0.1": [1.0, 2.0], "theory ε=0.2, λ=0.1": [3.0, 4.0],
                     "theory ε=0.2, λ=1": [5.0, 6.0]}
    points = [list(c.lines[0].get_ydata()) for c in ax.containers]
    assert points == [[1.5, 2.5], [3.5, 4.5], [5.5, 6.5]]


def test_a_sidecar_left_behind_is_ignored_even_when_its_pid_is_reused(tmp_path):
    # a SIGKILL leaves the sidecar; its pid may belong to a new process (here: this one) that does
    # not hold the store
    config = config_from_dict({"name": "t", "task": "theory", "grid": {"alpha": [1, 2]}})
    store = tmp_path / "s.duckdb"
    run_sweep(config, store=store, workers=1, quiet=True)
    live = ResultStore(store).live_path
    live.write_text(json.dumps({"pid": os.getpid(), "running": config.config_hash,
                                "sweeps": [{"name": "t", "config_hash": config.config_hash, "task": "theory",
                                            "rows": 2, "done": 0, "failed": 0}]}))
    assert ResultStore(store).read_live() is not None
    status = sweep_status(config, store)  # from the store, not from the sidecar's zero counts
    assert (status["done"], status["pending"], status["running"]) == (2, 0, False)
    listing = CliRunner().invoke(app, ["sweep", "status", "--store", str(store), "--format", "json"])
    assert [(r["name"], r["done"], r["running"]) for r in json.loads(listing.stdout)] == [("t", 2, False)]
    assert run_sweep(config, store=store, workers=1, quiet=True)["rows_skipped"] == 2
    assert not live.exists()  # the run replaced it, and removed it at its end


def test_a_report_that_fails_removes_the_folders_it_made(small_store, tmp_path, monkeypatch):
    import raflab.sweeps.report as report

    _, store = small_store

    def broken(*args, **kwargs):
        raise RuntimeError("a figure failed")

    monkeypatch.setattr(report, "sweep_figures", broken)
    with pytest.raises(RuntimeError, match="a figure failed"):
        report.write_report(store, tmp_path / "site" / "deep" / "report.html")
    assert not (tmp_path / "site").exists()

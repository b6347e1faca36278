"""Parallel backends: run work units somewhere, yield their results as they finish.

Every backend takes the same function and the same units and yields ``(index, result)`` in
completion order; the caller writes each result as it arrives. The results do not depend on the
backend, because a unit's result is a pure function of the unit.

- ``local``: a process pool over this machine's cores (``workers=1``: in this process, no pool);
- ``dask``: ``dask.distributed`` at ``address``, or a LocalCluster when none is given;
- ``ray``: ``ray`` (optional extra ``raflab[ray]``) at ``address``, or a local instance.

Workers run one BLAS thread each: the units are the parallelism. Local workers die with the
process that started them, even when it is killed with SIGKILL (:func:`_die_with_parent`).

:func:`open_backend` connects first and runs later, so that a caller can learn that a backend is
unreachable before it writes anything.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from raflab.core.checks import one_of

BACKENDS = ("local", "dask", "ray")


def _one_blas_thread() -> None:
    import sys

    from threadpoolctl import threadpool_limits

    os.environ["OMP_NUM_THREADS"] = "1"  # read by torch when a unit first imports it
    threadpool_limits(1)
    if "torch" in sys.modules:  # importing torch here would cost every worker seconds
        sys.modules["torch"].set_num_threads(1)


#: seconds between two looks of a worker's watchdog at its parent
WATCHDOG_SECONDS = 0.5


def _die_with_parent(parent_pid: int) -> None:
    """End this worker process when ``parent_pid`` ends, however it ends (SIGKILL included).

    On Linux the kernel sends SIGKILL when the parent dies (``prctl(PR_SET_PDEATHSIG)``); everywhere,
    a daemon thread checks every ``WATCHDOG_SECONDS`` that the parent is still this process's
    parent, and exits when it is not (an orphan is re-parented to init or a subreaper).
    """
    import signal
    import sys

    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            PR_SET_PDEATHSIG = 1
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl (e.g. musl without it): the watchdog remains
            pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)

    def watch():
        while True:
            time.sleep(WATCHDOG_SECONDS)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="raflab-parent-watchdog", daemon=True).start()


def _worker_init(parent_pid: int) -> None:
    _die_with_parent(parent_pid)
    _one_blas_thread()


def _call(fn: Callable, unit):
    _one_blas_thread()
    return fn(unit)


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def run_units(fn: Callable, units: Sequence, backend: str = "local", workers: int | None = None,
              address: str | None = None) -> Iterator[tuple[int, object]]:
    """Yield ``(i, fn(units[i]))`` as each unit finishes, on the chosen backend.

    Raises
    ------
    ValueError
        For an unknown backend, workers < 1, or a backend that is not installed or not reachable.
    """
    if not units:
        check_backend(backend, workers)
        return
    with open_backend(backend, workers, address, len(units)) as submit:
        yield from submit(fn, units)


def check_backend(backend: str, workers: int | None) -> int:
    """The number of workers, or a ValueError for an unknown backend or workers < 1."""
    one_of(backend, BACKENDS, "backend")
    workers = default_workers() if workers is None else int(workers)
    if workers < 1:
        raise ValueError(f"workers must be >= 1 (got {workers})")
    return workers


@contextmanager
def open_backend(backend: str = "local", workers: int | None = None, address: str | None = None,
                 units: int | None = None):
    """Start (or connect to) a backend and yield ``submit(fn, units)``, an iterator of
    ``(i, fn(units[i]))`` in completion order; the pool or cluster is closed on exit.

    Everything that can fail before any unit runs (an unknown backend, a scheduler that cannot be
    reached, a missing extra) fails here, as a ValueError. ``units`` bounds the local pool's size.
    """
    workers = check_backend(backend, workers)
    if backend == "local":
        with _local(workers, units) as submit:
            yield submit
    elif backend == "dask":
        with _dask(workers, address) as submit:
            yield submit
    else:
        with _ray(workers, address) as submit:
            yield submit


@contextmanager
def _local(workers, n_units=None):
    if workers == 1:
        yield lambda fn, units: ((i, fn(unit)) for i, unit in enumerate(units))
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn, not fork: the parent may hold torch/BLAS threads, which do not survive a fork
    context = multiprocessing.get_context("spawn")

    with ProcessPoolExecutor(max_workers=workers if n_units is None else max(1, min(workers, n_units)),
                             mp_context=context, initializer=_worker_init,
                             initargs=(os.getpid(),)) as pool:
        def submit(fn, units):
            futures = {pool.submit(fn, unit): i for i, unit in enumerate(units)}
            try:
                for future in as_completed(futures):
                    yield futures[future], future.result()
            finally:  # stopped early (Ctrl-C, an error in the writer): drop what has not started
                for future in futures:
                    future.cancel()

        yield submit


@contextmanager
def _dask(workers, address):
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ValueError("the dask backend needs dask.distributed: pip install 'raflab[dask]'") from None
    cluster = None
    try:
        if address:
            client = Client(address, timeout="10s")
        else:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)
    except OSError as exc:
        if cluster is not None:
            cluster.close()
        raise ValueError(f"cannot reach the dask scheduler at {address}: {exc}") from None

    def submit(fn, units):
        futures = client.map(functools.partial(_call, fn), list(units), pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        for future in as_completed(futures):
            yield index[future.key], future.result()
            future.release()

    try:
        yield submit
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


@contextmanager
def _ray(workers, address):
    try:
        import ray
    except ImportError:
        raise ValueError("the ray backend needs ray: pip install 'raflab[ray]'") from None
    started = not ray.is_initialized()
    if started:
        try:
            ray.init(address=address, num_cpus=None if address else workers, include_dashboard=False,
                     log_to_driver=False, ignore_reinit_error=True)
        except (OSError, ConnectionError, RuntimeError) as exc:
            raise ValueError(f"cannot reach the ray cluster at {address}: {' '.join(str(exc).split())}") from None

    def submit(fn, units):
        remote = ray.remote(num_cpus=1)(_call)
        refs = {remote.remote(fn, unit): i for i, unit in enumerate(units)}
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield refs[done[0]], ray.get(done[0])

    try:
        yield submit
    finally:
        if started:
            ray.shutdown()

"""Parallel backends: run work units somewhere, yield their results as they finish.

Every backend takes the same function and the same units and yields ``(index, result)`` in
completion order; the caller writes each result as it arrives. The results do not depend on the
backend, because a unit's result is a pure function of the unit.

- ``local``: a process pool over this machine's cores (``workers=1``: in this process, no pool);
- ``dask``: ``dask.distributed`` at ``address``, or a LocalCluster when none is given;
- ``ray``: ``ray`` (optional extra ``raflab[ray]``) at ``address``, or a local instance.

Workers run one BLAS thread each: the units are the parallelism.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator, Sequence

BACKENDS = ("local", "dask", "ray")


def _one_blas_thread() -> None:
    import sys

    from threadpoolctl import threadpool_limits

    os.environ["OMP_NUM_THREADS"] = "1"  # read by torch when a unit first imports it
    threadpool_limits(1)
    if "torch" in sys.modules:  # importing torch here would cost every worker seconds
        sys.modules["torch"].set_num_threads(1)


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
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    workers = default_workers() if workers is None else int(workers)
    if workers < 1:
        raise ValueError(f"workers must be >= 1 (got {workers})")
    if not units:
        return
    if backend == "local":
        yield from _local(fn, units, workers)
    elif backend == "dask":
        yield from _dask(fn, units, workers, address)
    else:
        yield from _ray(fn, units, workers, address)


def _local(fn, units, workers):
    if workers == 1:
        for i, unit in enumerate(units):
            yield i, fn(unit)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn, not fork: the parent may hold torch/BLAS threads, which do not survive a fork
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(units)), mp_context=context,
                             initializer=_one_blas_thread) as pool:
        futures = {pool.submit(fn, unit): i for i, unit in enumerate(units)}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        finally:  # stopped early (Ctrl-C, an error in the writer): drop what has not started
            for future in futures:
                future.cancel()


def _dask(fn, units, workers, address):
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
        raise ValueError(f"cannot reach the dask scheduler at {address}: {exc}") from None
    try:
        futures = client.map(functools.partial(_call, fn), list(units), pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        for future in as_completed(futures):
            yield index[future.key], future.result()
            future.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _ray(fn, units, workers, address):
    try:
        import ray
    except ImportError:
        raise ValueError("the ray backend needs ray: pip install 'raflab[ray]'") from None
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, num_cpus=None if address else workers, include_dashboard=False,
                 log_to_driver=False, ignore_reinit_error=True)
    try:
        remote = ray.remote(num_cpus=1)(_call)
        refs = {remote.remote(fn, unit): i for i, unit in enumerate(units)}
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield refs[done[0]], ray.get(done[0])
    finally:
        if started:
            ray.shutdown()

"""RAF theory speed: raflab's vectorized, warm-started, Anderson-accelerated fixed point against
(1) a point-by-point damped loop over the same channel (what one writes first), and
(2) the paper's own code, SPOC-group/RAF, which solves the same equations point by point in numba.

The peer is loaded at run time from outside this repository (never copied into it):

    git -C <mirror of github.com/SPOC-group/RAF> archive HEAD | tar -x -C /tmp/spoc_raf
    pip install -r benchmarks/requirements.txt      # numba
    python benchmarks/bench_theory.py --spoc-dir /tmp/spoc_raf

Without the peer (or numba) its columns are skipped with a message. All timings: best of
``--repeats`` runs in this process; the numba JIT compilation is excluded (one warm-up call).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import warnings

import numpy as np

from raflab.core.fixed_point import relative_residual
from raflab.raf.metrics import generalization_error_from_overlaps
from raflab.raf.theory import linear_erm_theory
from raflab.raf.theory.erm import DEFAULT_INIT, RAFChannel, RidgePrior


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def point_by_point(loss, alphas, eps, lam, tol, damping=0.5, max_iter=100_000, prior=RidgePrior()):
    """The naive loop: one point at a time, plain damped iteration from a cold start."""
    channel, out = RAFChannel(loss), []
    for a in alphas:
        A, E, L = np.array([prior.channel_alpha(a)]), np.array([eps]), np.array([lam])
        x = np.array([DEFAULT_INIT], dtype=float)
        for _ in range(max_iter):
            new = np.stack(prior.overlaps(*channel.conjugates(A, E, *x.T), L), axis=1)
            if relative_residual(new, x)[0] < tol:
                x = new
                break
            x = (1 - damping) * x + damping * new
        out.append(generalization_error_from_overlaps(x[0, 0], x[0, 1]))
    return np.array(out)


def load_peer(spoc_dir):
    if not spoc_dir or not os.path.isdir(spoc_dir):
        return None, f"peer code not found (looked in {spoc_dir!r}; see the docstring)"
    try:
        importlib.import_module("numba")
    except ImportError:
        return None, "numba not installed (pip install -r benchmarks/requirements.txt)"
    sys.path.insert(0, spoc_dir)
    return importlib.import_module("perceptron_SE"), ""


def peer_loop(peer, loss, alphas, eps, lam, tol):
    out = []
    for a in alphas:
        overlaps, ok = peer.perceptron_SE_solution(loss, a, eps, lam, tol=tol)
        m, q = overlaps[0], overlaps[1]
        out.append(generalization_error_from_overlaps(m, q) if ok else np.nan)
    return np.array(out)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--points", type=int, default=100, help="alpha points in [0.5, 5]")
    p.add_argument("--eps", type=float, default=0.2)
    p.add_argument("--lam", type=float, default=0.1)
    p.add_argument("--tol", type=float, default=1e-10, help="raflab and loop tolerance")
    p.add_argument("--peer-tol", type=float, default=1e-10, help="SPOC tolerance (its default is 1e-5)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--spoc-dir", default=os.environ.get("RAF_SPOC_DIR", "/tmp/spoc_raf"))
    args = p.parse_args(argv)
    warnings.simplefilter("ignore")
    alphas = np.linspace(0.5, 5.0, args.points)
    peer, why = load_peer(args.spoc_dir)
    if peer is None:
        print(f"[peer skipped: {why}]")

    print(f"RAF theory, {args.points} alpha points in [0.5, 5], eps={args.eps}, lam={args.lam}, tol={args.tol:g}")
    print(f"{'loss':9s} {'raflab':>9s} {'loop':>9s} {'loop/raflab':>12s} {'SPOC numba':>11s} {'SPOC/raflab':>12s} "
          f"{'max|eg diff| loop':>18s} {'SPOC':>9s}")
    for loss in ("hinge", "square"):
        t_raf, df = best_of(lambda: linear_erm_theory(loss, alphas, args.eps, args.lam, tol=args.tol), args.repeats)
        t_loop, eg_loop = best_of(lambda: point_by_point(loss, alphas, args.eps, args.lam, args.tol), 1)
        row = f"{loss:9s} {t_raf:8.3f}s {t_loop:8.3f}s {t_loop / t_raf:11.1f}x"
        if peer is not None:
            peer_loop(peer, loss, alphas[:2], args.eps, args.lam, args.peer_tol)  # JIT warm-up
            t_peer, eg_peer = best_of(lambda: peer_loop(peer, loss, alphas, args.eps, args.lam, args.peer_tol),
                                      args.repeats)
            row += f" {t_peer:10.3f}s {t_peer / t_raf:11.2f}x"
            peer_diff = np.nanmax(np.abs(eg_peer - df.gen_error.values))
        else:
            row += f" {'-':>11s} {'-':>12s}"
            peer_diff = np.nan
        row += f" {np.max(np.abs(eg_loop - df.gen_error.values)):18.1e} {peer_diff:9.1e}"
        print(row)
        if not df.converged.all():
            print(f"  warning: {int((~df.converged).sum())} raflab points did not converge")

    # A 2-d grid: (alpha, eps) 20 x 20, hinge
    a20, e20 = np.linspace(0.5, 5, 20), np.linspace(0.0, 0.9, 20)
    t_grid, _ = best_of(lambda: linear_erm_theory("hinge", a20, e20, args.lam, tol=args.tol), args.repeats)
    t_pts, _ = best_of(lambda: [point_by_point("hinge", a20, e, args.lam, args.tol) for e in e20], 1)
    line = f"hinge 20x20 (alpha, eps) grid: raflab {t_grid:.3f}s, point-by-point loop {t_pts:.3f}s ({t_pts / t_grid:.1f}x)"
    if peer is not None:
        t_peer, _ = best_of(lambda: [peer_loop(peer, "hinge", a20, e, args.lam, args.peer_tol) for e in e20], 1)
        line += f", SPOC numba {t_peer:.3f}s ({t_peer / t_grid:.2f}x)"
    print(line)


if __name__ == "__main__":
    main()

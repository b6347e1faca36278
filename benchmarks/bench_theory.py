"""RAF theory speed: raflab's closed-form channel + Newton fixed point against
(1) raflab's quadrature path (``quadrature=True``: Gauss-Legendre channel + Anderson mixing, the
    code before the closed forms, kept as the reference path),
(2) the paper's own code, SPOC-group/RAF, which solves the same equations point by point in numba,
(3) optionally (``--loop``) a point-by-point damped loop over raflab's channel (what one writes first).

Three ratios in one run: square and hinge on 100 alpha points (eps 0.2, lam 0.1, tol 1e-10), and the
lam -> 0+ hinge plane of ``raflab phase --lam 0`` (alpha = linspace(0.25, 6, 24) x eps =
linspace(0, 1, 21)). Timings are medians over ``--repeats`` interleaved rounds (raflab, before and the
peer take turns inside every round), so that load from other processes on a shared machine hits all
of them alike. The numba JIT compilation is excluded (one warm-up call).

The peer is loaded at run time from outside this repository (never copied into it):

    git -C <mirror of github.com/SPOC-group/RAF> archive HEAD | tar -x -C /tmp/spoc_raf
    pip install -r benchmarks/requirements.txt      # numba
    python benchmarks/bench_theory.py --spoc-dir /tmp/spoc_raf

On the plane the peer is told each point's phase (``below_alpha_c``) from raflab's capacity
alpha_c(eps); it has no way to find it itself. Without the peer (or numba) its columns are skipped.
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
from raflab.raf.theory.capacity import capacity_alpha
from raflab.raf.theory.erm import DEFAULT_INIT, RAFChannel, RidgePrior

PLANE_ALPHA, PLANE_EPS = np.linspace(0.25, 6, 24), np.linspace(0, 1, 21)


def best_of(fn, repeats):
    """Best wall time of ``repeats`` calls and the last output (bench_rf_theory uses it)."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def timed(fn, inner: int = 1):
    """(wall seconds, CPU seconds) per call over ``inner`` calls, and the last output."""
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(inner):
        out = fn()
    return (time.perf_counter() - t0) / inner, (time.process_time() - c0) / inner, out


def interleaved(contenders: dict, repeats: int) -> tuple[dict, dict, dict]:
    """Median wall and CPU time per call of each contender over ``repeats`` rounds in which they
    take turns. A call shorter than 50 ms is repeated within its turn up to ~50 ms (a 1 ms call
    timed alone on a busy machine measures the scheduler's time slices, not the call)."""
    wall, cpu, outs, inner = {k: [] for k in contenders}, {k: [] for k in contenders}, {}, {}
    for k, fn in contenders.items():  # warm-up and calibration
        t, _, _ = timed(fn)
        inner[k] = int(min(50, max(1, round(0.05 / max(t, 1e-6)))))
    names = list(contenders)
    for r in range(repeats):
        for k in names[r % len(names):] + names[:r % len(names)]:  # rotate who goes first
            w, c, outs[k] = timed(contenders[k], inner[k])
            wall[k].append(w)
            cpu[k].append(c)
    med = lambda d: {k: float(np.median(v)) for k, v in d.items()}  # noqa: E731
    return med(wall), med(cpu), outs


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


def peer_points(peer, loss, alphas, epss, lam, tol, below=None):
    """(gen error, converged) of the peer at each (alpha, eps) pair."""
    out, ok = [], []
    for i, (a, e) in enumerate(zip(alphas, epss)):
        kw = {} if below is None else {"below_alpha_c": bool(below[i])}
        overlaps, conv = peer.perceptron_SE_solution(loss, a, e, lam, tol=tol, **kw)
        out.append(generalization_error_from_overlaps(overlaps[0], overlaps[1]))
        ok.append(conv)
    return np.array(out), np.array(ok)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--points", type=int, default=100, help="alpha points in [0.5, 5]")
    p.add_argument("--eps", type=float, default=0.2)
    p.add_argument("--lam", type=float, default=0.1)
    p.add_argument("--tol", type=float, default=1e-10, help="tolerance of everything, the peer included")
    p.add_argument("--repeats", type=int, default=9, help="interleaved rounds of the 100-point lines")
    p.add_argument("--plane-repeats", type=int, default=3, help="interleaved rounds of the lam -> 0+ plane")
    p.add_argument("--loop", action="store_true", help="also time the point-by-point damped loop")
    p.add_argument("--spoc-dir", default=os.environ.get("RAF_SPOC_DIR", "/tmp/spoc_raf"))
    args = p.parse_args(argv)
    warnings.simplefilter("ignore")
    alphas = np.linspace(0.5, 5.0, args.points)
    peer, why = load_peer(args.spoc_dir)
    if peer is None:
        print(f"[peer skipped: {why}]")
    tol = args.tol

    print(f"RAF theory, {args.points} alpha points in [0.5, 5], eps={args.eps}, lam={args.lam}, tol={tol:g}; "
          f"medians of {args.repeats} interleaved rounds")
    print("wall-clock medians (CPU-time medians in brackets)")
    print(f"{'loss':8s} {'raflab':>18s} {'before':>18s} {'before/raflab':>16s} {'SPOC numba':>20s} "
          f"{'SPOC/raflab':>16s} {'|eg - before|':>14s} {'|eg - SPOC|':>12s}")
    ratios = {}
    for loss in ("square", "hinge"):
        contenders = {
            "raflab": lambda: linear_erm_theory(loss, alphas, args.eps, args.lam, tol=tol),
            "before": lambda: linear_erm_theory(loss, alphas, args.eps, args.lam, tol=tol, quadrature=True),
        }
        if peer is not None:
            epss = np.full_like(alphas, args.eps)
            peer_points(peer, loss, alphas[:2], epss[:2], args.lam, tol)  # JIT warm-up
            contenders["peer"] = lambda: peer_points(peer, loss, alphas, epss, args.lam, tol)
        t, c, out = interleaved(contenders, args.repeats)
        eg = out["raflab"].gen_error.values
        ms = lambda k: f"{t[k] * 1e3:7.2f}ms [{c[k] * 1e3:6.2f}]"  # noqa: E731
        ratio = lambda k: f"{t[k] / t['raflab']:6.1f}x [{c[k] / c['raflab']:5.1f}x]"  # noqa: E731
        row = f"{loss:8s} {ms('raflab'):>18s} {ms('before'):>18s} {ratio('before'):>16s}"
        if peer is not None:
            ratios[loss] = (t["peer"] / t["raflab"], c["peer"] / c["raflab"])
            row += f" {ms('peer'):>20s} {ratio('peer'):>16s}"
            peer_diff = np.nanmax(np.abs(out["peer"][0] - eg))
        else:
            row += f" {'-':>11s} {'-':>12s}"
            peer_diff = np.nan
        row += f" {np.max(np.abs(out['before'].gen_error.values - eg)):14.1e} {peer_diff:12.1e}"
        print(row)
        if not out["raflab"].converged.all():
            print(f"  warning: {int((~out['raflab'].converged).sum())} raflab points did not converge")
        if args.loop:
            t_loop, _, eg_loop = timed(lambda: point_by_point(loss, alphas, args.eps, args.lam, tol))
            print(f"  point-by-point damped loop {t_loop:.2f}s ({t_loop / t['raflab']:.0f}x raflab), "
                  f"max |eg diff| {np.max(np.abs(eg_loop - eg)):.1e}")

    # a 2-d grid: (alpha, eps) 20 x 20, hinge at lam
    a20, e20 = np.linspace(0.5, 5, 20), np.linspace(0.0, 0.9, 20)
    A20, E20 = np.meshgrid(a20, e20)
    contenders = {
        "raflab": lambda: linear_erm_theory("hinge", a20, e20, args.lam, tol=tol),
        "before": lambda: linear_erm_theory("hinge", a20, e20, args.lam, tol=tol, quadrature=True),
    }
    if peer is not None:
        contenders["peer"] = lambda: peer_points(peer, "hinge", A20.ravel(), E20.ravel(), args.lam, tol)
    t, c, out = interleaved(contenders, args.plane_repeats)
    line = (f"hinge 20 x 20 (alpha, eps) grid, lam={args.lam}: raflab {t['raflab'] * 1e3:.1f}ms "
            f"[{c['raflab'] * 1e3:.1f}], before {t['before'] * 1e3:.1f}ms [{c['before'] * 1e3:.1f}] "
            f"({t['before'] / t['raflab']:.1f}x)")
    if peer is not None:
        ratios["hinge 20x20"] = (t["peer"] / t["raflab"], c["peer"] / c["raflab"])
        line += f", SPOC numba {t['peer'] * 1e3:.1f}ms [{c['peer'] * 1e3:.1f}] ({ratios['hinge 20x20'][0]:.1f}x)"
    print(line)

    # the lam -> 0+ hinge plane of `raflab phase --lam 0`
    A, E = np.meshgrid(PLANE_ALPHA, PLANE_EPS)
    contenders = {
        "raflab": lambda: linear_erm_theory("hinge", PLANE_ALPHA, PLANE_EPS, 0.0, tol=tol),
        "before": lambda: linear_erm_theory("hinge", PLANE_ALPHA, PLANE_EPS, 0.0, tol=tol, quadrature=True),
    }
    if peer is not None:
        a_c = {e: capacity_alpha(RidgePrior(), e)[0] for e in PLANE_EPS}
        below = np.array([a < a_c[e] for a, e in zip(A.ravel(), E.ravel())])
        peer_points(peer, "hinge", [1.0, 3.0], [0.5, 0.5], 0.0, tol, below=[True, False])  # JIT warm-up
        contenders["peer"] = lambda: peer_points(peer, "hinge", A.ravel(), E.ravel(), 0.0, tol, below=below)
    t, c, out = interleaved(contenders, args.plane_repeats)
    df, before = out["raflab"], out["before"]
    both = df.converged.values & before.converged.values
    line = (f"lam -> 0+ hinge plane {PLANE_ALPHA.size} x {PLANE_EPS.size} (medians of {args.plane_repeats}): "
            f"raflab {t['raflab']:.3f}s ({int(df.converged.sum())}/{len(df)} converged), "
            f"before {t['before']:.2f}s ({int(before.converged.sum())}/{len(before)} converged): "
            f"{t['before'] / t['raflab']:.0f}x, max |eg diff| {np.max(np.abs(df.gen_error.values[both] - before.gen_error.values[both])):.1e}")
    if peer is not None:
        eg_peer, ok_peer = out["peer"]
        ok = ok_peer & df.converged.values
        line += (f"; SPOC numba {t['peer']:.3f}s ({int(ok_peer.sum())}/{ok_peer.size} converged): "
                 f"{t['peer'] / t['raflab']:.1f}x, max |eg diff| {np.max(np.abs(eg_peer[ok] - df.gen_error.values[ok])):.1e}")
        ratios["plane"] = (t["peer"] / t["raflab"], c["peer"] / c["raflab"])
    print(line)
    print(f"lam -> 0+ plane, raflab / before: {t['before'] / t['raflab']:.0f}x wall, {c['before'] / c['raflab']:.0f}x CPU")
    if ratios:
        print("ratios SPOC / raflab (wall [CPU]): "
              + ", ".join(f"{k} {w:.1f}x [{cc:.1f}x]" for k, (w, cc) in ratios.items()))


if __name__ == "__main__":
    main()

"""Random-features theory speed on a 20 x 20 (alpha, eps) grid: raflab's vectorized, warm-started
fixed point (Marchenko-Pastur traces in closed form) against

(1) 400 separate point-by-point solves: a plain damped loop per point over the same prior and
    channel, from a cold start (what one writes first);
(2) 400 separate calls of raflab's own API, one point each (no vectorization, no warm start);
(3) the paper's own code, SPOC-group/RAF ``randomfeatures_SE.py``, which solves the same equations
    point by point in numba (square and hinge only). It is loaded at run time from outside this
    repository, never copied into it:

    git -C <mirror of github.com/SPOC-group/RAF> archive HEAD | tar -x -C /tmp/spoc_raf
    pip install -r benchmarks/requirements.txt      # numba
    python benchmarks/bench_rf_theory.py --spoc-dir /tmp/spoc_raf

Every column also prints the largest |generalization error| difference to raflab over the grid.
Timings: best of ``--repeats``; numba's JIT compilation is excluded (one warm-up call).
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from bench_theory import best_of, load_peer, point_by_point  # noqa: E402

from raflab.raf.activations import gaussian_moments  # noqa: E402
from raflab.raf.metrics import generalization_error_from_overlaps  # noqa: E402
from raflab.raf.theory import erm_theory  # noqa: E402
from raflab.raf.theory.erm import make_prior  # noqa: E402


def point_by_point_grid(loss, prior, alphas, epss, lam, tol):
    return np.concatenate([point_by_point(loss, alphas, e, lam, tol, prior=prior) for e in epss])


def api_per_point(loss, alphas, epss, lam, tol, opts):
    return np.array([erm_theory(loss, a, e, lam, tol=tol, **opts).gen_error.iloc[0] for e in epss for a in alphas])


def spoc_grid(module, loss, mom, alphas, epss, kappa, lam, tol):
    out = []
    for e in epss:
        for a in alphas:
            ov, ok = module.randomfeatures_SE_solution(loss, mom.mu1, mom.mu_star, a, kappa, e, lam, tol=tol,
                                                       max_iter=100_000)
            m, q = mom.mu1 * ov[0], mom.mu1**2 * ov[1] + mom.mu_star**2 * ov[3]
            out.append(generalization_error_from_overlaps(m, q) if ok else np.nan)
    return np.array(out)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kappa", type=float, default=2.0)
    p.add_argument("--activation", default="relu")
    p.add_argument("--lam", type=float, default=0.1)
    p.add_argument("--tol", type=float, default=1e-10)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--spoc-dir", default=os.environ.get("RAF_SPOC_DIR", "/tmp/spoc_raf"))
    args = p.parse_args(argv)
    warnings.simplefilter("ignore")
    alphas, epss = np.linspace(0.5, 5.0, 20), np.linspace(0.0, 0.9, 20)
    opts = dict(model="rf", kappa=args.kappa, activation=args.activation)
    prior = make_prior(**opts)
    mom = gaussian_moments(args.activation)
    peer, why = load_peer(args.spoc_dir)
    spoc = None
    if peer is not None:
        import randomfeatures_SE as spoc  # noqa: F811  (found on the peer's path set by load_peer)
    else:
        print(f"[peer skipped: {why}]")
    print(f"RF theory, 20x20 grid alpha in [0.5, 5] x eps in [0, 0.9], {args.activation}, kappa={args.kappa:g}, "
          f"lam={args.lam:g}, tol={args.tol:g}")
    print(f"{'loss':9s} {'raflab':>9s} {'400 loops':>10s} {'ratio':>8s} {'400 API calls':>14s} {'ratio':>8s} "
          f"{'SPOC numba':>11s} {'ratio':>8s}   max|eg diff| loops / API / SPOC")
    for loss in ("hinge", "square", "logistic"):
        t_raf, df = best_of(lambda: erm_theory(loss, alphas, epss, args.lam, tol=args.tol, **opts), args.repeats)
        eg = df.sort_values(["eps", "alpha"]).gen_error.to_numpy()
        t_loop, eg_loop = best_of(lambda: point_by_point_grid(loss, prior, alphas, epss, args.lam, args.tol), 1)
        t_api, eg_api = best_of(lambda: api_per_point(loss, alphas, epss, args.lam, args.tol, opts), 1)
        row = (f"{loss:9s} {t_raf:8.3f}s {t_loop:9.2f}s {t_loop / t_raf:7.1f}x {t_api:13.2f}s "
               f"{t_api / t_raf:7.1f}x")
        diffs = [np.max(np.abs(eg_loop - eg)), np.max(np.abs(eg_api - eg))]
        if spoc is not None and loss != "logistic":
            spoc_grid(spoc, loss, mom, alphas[:1], epss[:1], args.kappa, args.lam, args.tol)  # JIT warm-up
            t_peer, eg_peer = best_of(lambda: spoc_grid(spoc, loss, mom, alphas, epss, args.kappa, args.lam,
                                                        args.tol), args.repeats)
            row += f" {t_peer:10.3f}s {t_peer / t_raf:7.2f}x"
            diffs.append(np.nanmax(np.abs(eg_peer - eg)))
        else:
            row += f" {'-':>11s} {'-':>8s}"
        print(row + "   " + " / ".join(f"{d_:.1e}" for d_ in diffs))
        if not df.converged.all():
            print(f"  warning: {int((~df.converged).sum())} raflab points did not converge")


if __name__ == "__main__":
    main()

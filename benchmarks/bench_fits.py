"""Hinge and logistic fits: raflab's LinearERM vs scikit-learn at equal objective.

    python benchmarks/bench_fits.py [--d 1000] [--n 2000] [--lam 0.1] [--eps 0.2] [--repeats 3]
                                    [--blas-threads K]

Same data for both (Gaussian inputs, teacher-sign labels with a fraction eps replaced by random
ones), best time of ``repeats`` runs each. scikit-learn runs at its default tolerance on
Z = X / sqrt(d) with fit_intercept=False and C = 1 / lam (LinearSVC(loss="hinge") and
LogisticRegression minimize J / lam; max_iter is raised so that neither stops early). raflab runs
at its default tol, which certifies the optimum, and at a loose tol=1e-4 for comparison.
Both objectives are J(w) = sum loss + (lam / 2) |w|^2.

``--blas-threads`` caps the BLAS threads of both (liblinear itself is single-threaded). On a
shared machine a busy core makes multi-threaded BLAS slower than one thread for raflab's
matrix-vector products.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from _common import cap_blas_threads, raf_data
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from raflab.raf.learners.erm import LinearERM, objective


def best_time(fit, repeats):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fit()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, default=1000)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--lam", type=float, default=0.1)
    parser.add_argument("--eps", type=float, default=0.2, help="fraction of random labels")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--blas-threads", type=int, default=None, help="cap on BLAS threads (default: no cap)")
    args = parser.parse_args()
    blas = cap_blas_threads(args.blas_threads)

    X, y = raf_data(args.d, args.n, args.eps, args.seed)
    Z, lam = X / np.sqrt(args.d), args.lam

    sklearn_models = {
        "hinge": lambda: LinearSVC(loss="hinge", C=1 / lam, fit_intercept=False, dual=True, max_iter=1_000_000),
        "logistic": lambda: LogisticRegression(C=1 / lam, fit_intercept=False, max_iter=100_000),
    }
    print(f"d={args.d}, n={args.n}, lam={lam:g}, eps={args.eps:g}; best of {args.repeats}; BLAS threads: {blas}")
    print(f"{'loss':<10}{'solver':<28}{'time (s)':>10}{'objective J':>20}{'J / J_sklearn - 1':>20}{'time ratio':>12}")
    for loss, make in sklearn_models.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            t_sk, sk = best_time(lambda: make().fit(Z, y), args.repeats)
        J_sk = objective(loss, X, y, sk.coef_.ravel(), lam)
        note = f"  ({len(caught)} warnings)" if caught else ""
        print(f"{loss:<10}{'sklearn (default tol)':<28}{t_sk:>10.3f}{J_sk:>20.10f}{0:>20.1e}{1:>12.2f}{note}")
        for label, tol in [("raflab (default tol)", None), ("raflab (tol=1e-4)", 1e-4)]:
            kw = {} if tol is None else {"tol": tol}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a loose tol is not reached by the hinge certificate
                t, clf = best_time(lambda: LinearERM(loss, lam, **kw).fit(X, y), args.repeats)
            rel = clf.objective_ / J_sk - 1
            flag = "" if rel <= 1e-9 else "  (objective above sklearn's)"
            print(f"{'':<10}{label:<28}{t:>10.3f}{clf.objective_:>20.10f}{rel:>20.1e}{t / t_sk:>12.2f}{flag}")


if __name__ == "__main__":
    main()

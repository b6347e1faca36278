"""Square-loss lam path: raflab's ridge_path (one spectral decomposition) vs a loop of scikit-learn Ridge fits.

    python benchmarks/bench_ridge_path.py [--d 2000] [--n 4000] [--n-lams 50] [--seed 0] [--blas-threads K]

Both run in the same process on the same data (Gaussian inputs, teacher-sign labels with 20% of
them random). Prints both times, the speed-up and the largest difference between the two paths.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import cap_blas_threads, raf_data
from sklearn.linear_model import Ridge

from raflab.raf.learners.erm import ridge_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, default=2000)
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--n-lams", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--blas-threads", type=int, default=None, help="cap on BLAS threads (default: no cap)")
    args = parser.parse_args()
    blas = cap_blas_threads(args.blas_threads)

    X, y = raf_data(args.d, args.n, 0.2, args.seed)
    lams = np.logspace(-3, 2, args.n_lams)

    t0 = time.perf_counter()
    path = ridge_path(X, y, lams)
    t_raflab = time.perf_counter() - t0

    Xs = X / np.sqrt(args.d)  # scikit-learn gets the scaled inputs, as ridge_path uses internally
    t0 = time.perf_counter()
    ref = np.array([Ridge(alpha=lam, fit_intercept=False).fit(Xs, y).coef_ for lam in lams])
    t_sklearn = time.perf_counter() - t0

    diff = np.max(np.abs(path - ref)) / np.max(np.abs(ref))
    print(f"ridge path: d={args.d}, n={args.n}, {args.n_lams} lams in [{lams[0]:g}, {lams[-1]:g}]; "
          f"BLAS threads: {blas}")
    print(f"{'solver':<40}{'time (s)':>10}")
    print(f"{'raflab ridge_path (one decomposition)':<40}{t_raflab:>10.2f}")
    print(f"{'sklearn Ridge, one fit per lam':<40}{t_sklearn:>10.2f}")
    print(f"speed-up: {t_sklearn / t_raflab:.1f}x    max |w_raflab - w_sklearn| / max |w|: {diff:.1e}")
    if diff > 1e-6:
        raise SystemExit("the two paths disagree")


if __name__ == "__main__":
    main()

"""Benchmark: the memorization estimator's cost against the repeated trainings a standard error needs.

For each learner (Gaussian clustering, d = 16, n = 4): a pilot run gives the seconds per training and
the standard error; the repeated trainings R needed for a target standard error follow (exactly for
the Gaussian plug-in, whose SE is 0.5 sqrt(sum_i psi'((R - i) / 2)) / ln 2; as 1/sqrt(R) for the
discrete plug-in); a run at that R checks the SE reached and its wall time. The peer column is the
plug-in without the Wishart bias correction: the R it needs before its bias alone drops below the
target, and the ratio to raflab's R. Run: ``python benchmarks/bench_sdpi.py [--threads 2] [--device cpu]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import cap_blas_threads
from scipy.optimize import brentq
from scipy.special import polygamma, psi

from raflab.bounds.mechanisms import MLPConfig, measure_memorization

LN2 = np.log(2.0)


def plugin_se_bits(R, k):
    i = np.arange(1, k + 1)
    return 0.5 * np.sqrt(np.sum(polygamma(1, (R - i) / 2.0))) / LN2


def raw_plugin_bias_bits(R, k):
    """E[0.5 log det(sample covariance)] - 0.5 log det(covariance), in bits (Wishart moments)."""
    i = np.arange(1, k + 1)
    return 0.5 * (k * np.log(2.0) + np.sum(psi((R - i) / 2.0)) - k * np.log(R - 1.0)) / LN2


def reps_for(fn, k, target):
    return int(np.ceil(brentq(lambda R: abs(fn(R, k)) - target, k + 2.0, 1e9)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--target-se", type=float, default=0.25, help="bits")
    parser.add_argument("--d", type=int, default=16)
    args = parser.parse_args()
    blas = cap_blas_threads(args.threads)
    import torch

    torch.set_num_threads(args.threads)
    d, n, sigma2 = args.d, 4, float(np.sqrt(args.d))
    mlp = MLPConfig(hidden=4, steps=150)
    released = {"noisy-mean": d, "sign-mean": d, "ridge": d, "logistic": d, "mlp": mlp.hidden * (d + 2)}
    print(f"d={d} n={n} sigma2={sigma2:g}, target SE {args.target_se} bits, {blas} BLAS / {args.threads} torch "
          f"threads, MLP on {args.device}")
    header = (f"{'learner':>10} {'k':>4} {'s/train':>9} {'R needed':>9} {'time (s)':>9} {'SE reached':>10} "
              f"{'bits':>8} {'R raw plug-in':>14} {'ratio':>6}")
    print(header)
    for learner, k in released.items():
        measure_memorization(learner, d, n, sigma2, reps=k + 8, mlp=mlp, device=args.device)  # warm-up
        pilot = 4 * k + 50
        t0 = time.perf_counter()
        rec = measure_memorization(learner, d, n, sigma2, reps=pilot, mlp=mlp, device=args.device)
        per_train = (time.perf_counter() - t0) / pilot
        if learner == "sign-mean":
            need = int(np.ceil(pilot * (rec["memorization_bits_stderr"] / args.target_se) ** 2))
            raw, ratio = "-", "-"
        else:
            need = reps_for(plugin_se_bits, k, args.target_se)
            raw_need = reps_for(raw_plugin_bias_bits, k, args.target_se)
            raw, ratio = str(raw_need), f"{raw_need / need:.1f}x"
        need = max(need, k + 2)
        t0 = time.perf_counter()
        rec = measure_memorization(learner, d, n, sigma2, reps=need, mlp=mlp, device=args.device, seed=1)
        elapsed = time.perf_counter() - t0
        print(f"{learner:>10} {k:>4} {per_train:>9.2e} {need:>9} {elapsed:>9.2f} {rec['memorization_bits_stderr']:>10.3f} "
              f"{rec['memorization_bits']:>8.2f} {raw:>14} {ratio:>6}")


if __name__ == "__main__":
    main()

"""The memorization trade-off figure of docs/sdpi.md: docs/figures/sdpi_tradeoff.png (and sdpi_bound.png).

Left: excess memorization I(A; X_1..n | theta) against n, log-log, for several learners (measured by
repeated training with theta fixed, 2-standard-error bars), each with the SDPI lower bound at its own
measured error (dotted), the bound and the noisy mean at a reference error, and the exact sign of the mean.
Right: memorization against accuracy at fixed n, each learner traced by its output-noise level.
About three minutes on one core:  python examples/sdpi_figures.py [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from raflab.bounds.mechanisms import MLPConfig, memorization_table
from raflab.bounds.plots import plot_sdpi_tradeoff
from raflab.bounds.theory import sdpi_bound

FIGURES = Path(__file__).resolve().parents[1] / "docs" / "figures"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, default=32)
    parser.add_argument("--reps", type=int, default=800)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", default=str(FIGURES / "sdpi_tradeoff.png"))
    args = parser.parse_args()
    d, sigma2 = args.d, float(np.sqrt(args.d))  # sigma^2 = sqrt(d): accurate from O(1) samples
    sizes = [1, 2, 4, 8, 16, 32, 64]
    common = dict(reps=args.reps, thetas=1, seed=0, device=args.device, mlp=MLPConfig(hidden=4, steps=150))
    measured = memorization_table(["noisy-mean", "sign-mean", "ridge", "logistic", "mlp"], d, sizes, sigma2, **common)
    n0 = 4
    traced = pd.concat([memorization_table(["noisy-mean", "ridge", "logistic"], d, [n0], sigma2, noise=s, **common)
                        .assign(noise=s) for s in (0.25, 0.5, 1.0, 2.0, 4.0)], ignore_index=True)
    traced = pd.concat([traced, measured[(measured["n"] == n0) & measured["learner"].isin(["sign-mean", "mlp"])]],
                       ignore_index=True)
    reference_error = float(np.clip(measured["error"].median(), 0.0, 0.5))
    bound = sdpi_bound("gaussian", d, sizes, reference_error, sigma2=sigma2)
    curve = pd.concat([sdpi_bound("gaussian", d, [n0], e, sigma2=sigma2) for e in np.linspace(0.05, 0.49, 45)],
                      ignore_index=True)
    plot_sdpi_tradeoff(bound, measured, curve=curve, traced=traced, out=args.out,
                       title=f"Gaussian clustering, d={d}, σ²=√d")
    big = sdpi_bound("gaussian", 1024, np.unique(np.geomspace(1, 1024, 21).round()), 0.25, sigma2=32.0)
    plot_sdpi_tradeoff(big, out=Path(args.out).with_name("sdpi_bound.png"),
                       title="Gaussian clustering, d=1024, σ²=32")
    cols = ["learner", "n", "memorization_bits", "memorization_bits_stderr", "exact_bits", "error", "lower_bound_bits"]
    print(measured[cols].to_string(index=False))
    print(traced[cols + ["noise"]].to_string(index=False))
    print(f"figures written to {args.out} and {Path(args.out).with_name('sdpi_bound.png')}")


if __name__ == "__main__":
    main()

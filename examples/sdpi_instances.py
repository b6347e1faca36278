"""The numbers of docs/sdpi.md's sparse-hypercube, mixture and singleton-attack sections, printed as tables.

python examples/sdpi_instances.py [--out docs/figures/sdpi_attack.png]      (about two minutes on one core)
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from raflab.bounds.attack import attack_table
from raflab.bounds.mechanisms import memorization_table
from raflab.bounds.mixture import mixture_bound, singleton_recovery_floor
from raflab.bounds.plots import plot_singleton_attack
from raflab.bounds.theory import sdpi_bound


def show(title: str, df: pd.DataFrame, columns) -> None:
    print(f"\n## {title}")
    print(df[list(columns)].to_string(index=False, float_format=lambda v: f"{v:.4g}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="docs/figures/sdpi_attack.png")
    args = parser.parse_args()
    pd.set_option("display.width", 200)
    sizes = [1, 4, 16, 64, 256]
    show("sparse bound, d=1024, p=1/32, e=1/4", sdpi_bound("sparse", 1024, sizes, 0.25, p=1 / 32),
         ["n", "tau", "rho", "bound_factor", "lower_bound_bits", "matching_bits", "matching_ratio", "support_bits",
          "plain_algorithm_error"])
    scaling = pd.concat([sdpi_bound("sparse", d, [1], 0.25, p=d**-0.5) for d in (256, 1024, 4096, 16384)])
    root_d = np.sqrt(scaling["d"])
    scaling["factor_over_sqrt_d_log2_sqrt_d"] = scaling["bound_factor"] / (root_d * np.log2(root_d))
    show("sparse bound at n=1, p=d^-1/2, over d", scaling, ["d", "bound_factor", "factor_over_sqrt_d_log2_sqrt_d",
                                                           "lower_bound_bits", "matching_bits"])
    for base, noise, e in (("gaussian", {"sigma2": 16.0}, 0.35), ("boolean", {"r": 0.25}, 0.3)):
        show(f"mixture of {base} clusters, d=256, k=64, e={e}",
             mixture_bound(base, 256, [64, 128, 256, 1024, 4096], 64, e, **noise),
             ["n", "error_floor", "lower_bound_bits", "expected_singletons", "singleton_error", "singleton_bits",
              "uniform_profile_bits"])
    common = dict(reps=1000, thetas=2, seed=0)
    learners = ["noisy-mean", "mean", "sign-mean", "ridge", "logistic"]
    cols = ["learner", "n", "memorization_bits", "memorization_bits_stderr", "exact_bits", "error", "lower_bound_bits"]
    for instance in ("boolean", "sparse"):
        show(f"measured, {instance}, d=16 (default noise parameter)",
             memorization_table(learners, 16, [1, 4, 16], instance=instance, **common), cols)
    show("measured, mixture of 8 boolean clusters, d=16",
         memorization_table(learners, 16, [8, 32], instance="mixture", base="boolean", clusters=8, **common),
         [*cols, "singletons"])
    attack_cols = ["learner", "singletons_per_seed", "recovery", "recovery_ci95_low", "recovery_ci95_high",
                   "unique_recovery", "singleton_error", "predicted_floor", "theta_attacker", "verdict"]
    points = attack_table([*learners, "mlp"], 64, 32, 32, seeds=5, reps=100, device="cpu")
    show("singleton attack, d=64, n=32, k=32, noise 0.5, 5 seeds", points, attack_cols)
    trace = pd.concat([attack_table(["noisy-mean"], 64, 32, 32, seeds=5, reps=100, noise=s).assign(noise=s)
                       for s in (0.25, 1.0, 2.0, 4.0, 8.0)])
    show("singleton attack on the noisy mean over its output noise", trace, ["noise", *attack_cols[2:]])
    errors = np.linspace(0.0, 0.5, 101)
    floor = pd.DataFrame({"error": errors, "predicted_floor": singleton_recovery_floor(64, 64**-1.0, errors)})
    plot_singleton_attack(trace, floor, points[points["learner"].isin(["sign-mean", "ridge", "mlp"])], out=args.out)
    print(f"\nfigure written to {args.out}")


if __name__ == "__main__":
    main()

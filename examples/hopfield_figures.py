"""Draw the associative-memory figures of docs/hopfield.md.

    python examples/hopfield_figures.py            # docs/figures/hopfield_overlap.png, dense_am_attractors.png
    python examples/hopfield_figures.py --quick    # fewer loads, seeds and K (a minute on two cores)

1. Hopfield overlap against load: the AGS theory line (T = 0, replica symmetric) and asynchronous
   recall from the stored patterns at N = 1000 (all patterns as starts) and N = 3000 (100 starts),
   mean over independent networks with 2-standard-error bars.
2. Dense AM attractors on the ring (K memories with uniform random angles, beta = 20): distinct
   attractors by kind (stored / spurious / mean) against K, and the fraction of starts each attracts.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from raflab.core.seeding import point_rng
from raflab.core.summary import summarize
from raflab.memory.associative import KINDS, attractor_counts, simulate_hopfield
from raflab.memory.hopfield_theory import capacity_alpha_c, retrieval_overlap
from raflab.memory.plots import plot_attractor_counts, plot_hopfield_overlap
from raflab.memory.toy_data import ring_points


def overlap_figure(out: Path, quick: bool) -> pd.DataFrame:
    alphas = np.round(np.arange(0.02, 0.201, 0.04 if quick else 0.02), 3)
    sims = [simulate_hopfield(alphas, n=1000, seeds=3 if quick else 5, device="auto")]
    if not quick:
        sims.append(simulate_hopfield(alphas[alphas >= 0.1], n=3000, seeds=4, starts=100, device="auto"))
    sim = pd.concat(sims, ignore_index=True)
    line = pd.DataFrame(retrieval_overlap(np.linspace(0.005, 0.21, 600)))
    plot_hopfield_overlap(line, sim, out=out, alpha_c=capacity_alpha_c()["alpha_c"])
    return sim


def attractor_figure(out: Path, quick: bool, beta: float = 20.0) -> pd.DataFrame:
    Ks = [2, 4, 9, 16, 32, 100, 1000] if quick else [2, 3, 4, 6, 9, 13, 18, 25, 32, 45, 64, 100, 180, 320, 560, 1000]
    seeds, starts = (2, 128) if quick else (5, 256)
    rows = [{"K": K, "beta": beta, "seed": s,
             **attractor_counts(ring_points(K, point_rng(s, K)), beta, n_starts=starts, rng=point_rng(s, K, beta, 1))}
            for K in Ks for s in range(seeds)]
    df = summarize(pd.DataFrame(rows), ["K", "beta"], [f"{m}_{k}" for m in ("n", "fraction") for k in KINDS])
    plot_attractor_counts(df, out=out, title=f"ring (uniform random angles), β={beta:g}: kernel width "
                                             f"1/√(2β)={1 / np.sqrt(2 * beta):.2f}; {starts} starts, "
                                             f"mean over {seeds} data sets per K")
    return df


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer loads, seeds and K")
    parser.add_argument("--outdir", default=str(Path(__file__).resolve().parents[1] / "docs" / "figures"))
    args = parser.parse_args()
    outdir = Path(args.outdir)
    sim = overlap_figure(outdir / "hopfield_overlap.png", args.quick)
    print(sim.to_string(index=False))
    att = attractor_figure(outdir / "dense_am_attractors.png", args.quick)
    print(att.to_string(index=False))
    print(f"figures written to {outdir}")


if __name__ == "__main__":
    main()

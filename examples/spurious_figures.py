"""Spurious states as attractors (issue 21, part 6): the figures and tables of docs/diffusion.md's section
``Spurious states as attractors``.

- docs/figures/spurious_attractors_{ring,digits}.png / .csv: samples labelled spurious, checked as
  fixed points of the probability-flow map; basins of confirmed spurious attractors beside those of
  training points (3 seeds per K, 95 % intervals);
- docs/figures/dense_am_generalized_{ring,digits}.png / .csv: the dense AM's attractors with the
  generalized kind against K (3 data sets per K).

Run (about 10 minutes on 2 busy CPU cores):
``OMP_NUM_THREADS=1 .venv/bin/python examples/spurious_figures.py [ring|digits ...]``
"""

import argparse
from pathlib import Path

import torch

from raflab.memory.plots import plot_generalized_attractors, plot_spurious_attractors
from raflab.memory.spurious_experiments import generalized_attractors_against_K, spurious_attractors_against_K

DIFFUSION = {
    "ring": dict(Ks=[4, 9, 16, 32, 100, 1000], steps=2000, width=128),
    "digits": dict(Ks=[4, 8, 16, 32, 100], steps=3000, width=256),
}
DENSE_AM = {
    "ring": dict(Ks=[2, 4, 9, 18, 32, 64, 100, 1000], beta=20.0),
    "digits": dict(Ks=[2, 8, 32, 100, 300, 1000], beta=0.3),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("which", nargs="*", default=list(DIFFUSION), choices=list(DIFFUSION))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out-dir", default="docs/figures")
    args = parser.parse_args()
    torch.set_num_threads(1)
    out_dir = Path(args.out_dir)
    for name in args.which:
        am = DENSE_AM[name]
        g = generalized_attractors_against_K(name, am["Ks"], beta=am["beta"], starts=256, seeds=args.seeds,
                                             device="cpu")
        g.to_csv(out_dir / f"dense_am_generalized_{name}.csv", index=False)
        plot_generalized_attractors(g, out=out_dir / f"dense_am_generalized_{name}.png",
                                    title=f"{name}: dense AM, β={am['beta']:g}, 256 starts, {args.seeds} data sets per K")
        print(g.to_string(index=False), flush=True)
        cfg = DIFFUSION[name]
        summary, per_seed = spurious_attractors_against_K(name, cfg["Ks"], seeds=args.seeds, steps=cfg["steps"],
                                                          width=cfg["width"], net="mlp", progress=True)
        summary.to_csv(out_dir / f"spurious_attractors_{name}.csv", index=False)
        per_seed.to_csv(out_dir / f"spurious_attractors_{name}_per_seed.csv", index=False)
        plot_spurious_attractors(summary, out=out_dir / f"spurious_attractors_{name}.png",
                                 title=f"{name}: MLP width {cfg['width']}, {cfg['steps']} steps per K, 500 samples, "
                                       f"Φ at σ0 = 0.02 x data scale; {args.seeds} seeds, 95 % intervals")
        print(per_seed.to_string(index=False), flush=True)


if __name__ == "__main__":
    main()

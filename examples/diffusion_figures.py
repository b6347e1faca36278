"""Draw the diffusion headline figures: memorized / spurious / generalized fractions against K.

- docs/figures/diffusion_phases_ring.png: the 2-D ring toy, MLP denoiser, same step budget per K;
- docs/figures/diffusion_phases_digits.png: scikit-learn's 8x8 digits, MLP denoiser on the 64 pixels.

Each figure's records are also written next to it as CSV. Run (a few minutes per figure on 2 CPU
cores): ``.venv/bin/python examples/diffusion_figures.py [ring|digits ...] [--device cuda]``
"""

import argparse
from pathlib import Path

import pandas as pd

from raflab.core.device import resolve_device
from raflab.memory.experiments import diffusion_phases
from raflab.memory.plots import plot_diffusion_phases

FIGURES = {
    "ring": dict(data="ring", Ks=[2, 4, 9, 16, 32, 100, 1000], steps=2000, samples=1000, net="mlp", width=128),
    "digits": dict(data="digits", Ks=[2, 4, 8, 16, 32, 100, 300, 1797], steps=3000, samples=500, net="mlp", width=256),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("which", nargs="*", default=list(FIGURES), choices=list(FIGURES))
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out-dir", default="docs/figures")
    args = parser.parse_args()
    device = resolve_device(args.device)
    for name in args.which:
        cfg = FIGURES[name]
        df = pd.DataFrame(diffusion_phases(cfg["data"], cfg["Ks"], steps=cfg["steps"], samples=cfg["samples"],
                                           net=cfg["net"], width=cfg["width"], device=device, quiet=False))
        out = Path(args.out_dir) / f"diffusion_phases_{name}.png"
        df.to_csv(out.with_suffix(".csv"), index=False)
        plot_diffusion_phases(df, out=out, title=f"{name}: {cfg['net']} width {cfg['width']}, {cfg['steps']} steps "
                                                 f"per K, {cfg['samples']} samples, DDIM 100 steps")
        print(df.to_string(index=False))
        print(f"wrote {out}")


if __name__ == "__main__":
    main()

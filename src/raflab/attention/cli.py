"""``raflab attention theory|simulate|compare``: in-context memorization of nonlinear attention.

``--snr`` is rho = |mu|^2; ``--align`` is the cosine between w_K (= w_Q) and mu. Ranges use
``parse_range`` ('0.5:2:10', '0,0.5,1' or '1').
"""

from __future__ import annotations

from typing import Optional

import pandas as pd
import typer

from raflab.core.cli import (
    Format,
    FormatOpt,
    OutOpt,
    SeedOpt,
    SeedsOpt,
    _activation,
    _emit,
    check_out_path,
    device_option,
    user_errors,
)
from raflab.core.ranges import parse_range

attention_app = typer.Typer(no_args_is_help=True, help="in-context memorization of nonlinear attention")

COpt = typer.Option("1", "--c", help="ratio p/n: start:stop:num, a,b,c or one value")
GammaOpt = typer.Option("0.1", "--gamma", help="ridge penalty(s) > 0")
FOpt = typer.Option("tanh", "--f", help="tanh | relu_centered | erf | linear, or module:function for your own")
SnrOpt = typer.Option("0", "--snr", help="signal strength rho = |mu|^2")
AlignOpt = typer.Option("0", "--align", help="cosine between w_K = w_Q and mu, in [-1, 1]")
NOpt = typer.Option(1000, "--n", help="tokens per context (simulation); p = round(c n)")
DeviceOpt = device_option("where the Monte Carlo's ridge solves run (cuda: float64 on the GPU)")


def _values(c, gamma, snr, align):
    return parse_range(c, "c"), parse_range(gamma, "gamma"), parse_range(snr, "snr"), parse_range(align, "align")


@attention_app.command()
@user_errors
def theory(c: str = COpt, gamma: str = GammaOpt, f: str = FOpt, snr: str = SnrOpt, align: str = AlignOpt,
           n: Optional[int] = typer.Option(None, "--n", min=1, help="evaluate at finite size, p = round(c n) "
                                           "(the kernel diagonal f(sqrt p)/sqrt p); default: the p -> infinity limit"),
           fmt: Format = FormatOpt):
    """Deterministic equivalent (derived, Monte-Carlo validated) and the MP ridge baseline."""
    from raflab.attention.theory import theory_grid

    cs, gammas, snrs, aligns = _values(c, gamma, snr, align)
    _emit(pd.DataFrame(theory_grid(cs, gammas, _activation(f), snrs, aligns, n)), fmt, "attention theory")


@attention_app.command()
@user_errors
def simulate(c: str = COpt, gamma: str = GammaOpt, f: str = FOpt, snr: str = SnrOpt, align: str = AlignOpt,
             n: int = NOpt, seeds: int = SeedsOpt, seed: int = SeedOpt, device: str = DeviceOpt,
             fmt: Format = FormatOpt):
    """Exact Monte Carlo of attention and ridge memorization errors, with standard errors."""
    from raflab.attention.simulate import simulate_grid

    cs, gammas, snrs, aligns = _values(c, gamma, snr, align)
    df = simulate_grid(cs, gammas, _activation(f), snrs, aligns, n, seeds, seed, device, progress=True)
    _emit(df, fmt, "attention Monte Carlo")


@attention_app.command()
@user_errors
def compare(c: str = COpt, gamma: str = GammaOpt, f: str = FOpt, snr: str = SnrOpt, align: str = AlignOpt,
            n: int = NOpt, seeds: int = SeedsOpt, seed: int = SeedOpt, device: str = DeviceOpt,
            fmt: Format = FormatOpt, out: str = OutOpt):
    """Theory (at the simulated p) next to Monte Carlo; ``--out`` writes the figure."""
    from raflab.attention.simulate import compare as compare_theory

    check_out_path(out)
    cs, gammas, snrs, aligns = _values(c, gamma, snr, align)
    df, th, mc = compare_theory(cs, gammas, _activation(f), snrs, aligns, n, seeds, seed, device, progress=True)
    if out is not None:
        from raflab.attention.plots import plot_attention_memorization

        plot_attention_memorization(th, mc, out=out)
    _emit(df, fmt, "attention theory vs Monte Carlo",
          main=["c", "gamma", "snr", "align", "f", "memorization_error_attention_theory",
                "memorization_error_attention_mc", "memorization_error_ridge_theory", "memorization_error_ridge_mc"])


@attention_app.command("map")
@user_errors
def reversal_map_command(
        snr: str = typer.Option("0:3:31", "--snr", help="structure panel: snr values (y axis)"),
        align: str = typer.Option("0:1:21", "--align", help="structure panel: align values in [0, 1] (x axis)"),
        c: str = typer.Option("0.25:2.5:28", "--c", help="scale panel: c = p/n values (x axis)"),
        log10_gamma: str = typer.Option("-2:1:31", "--log10-gamma", help="scale panel: log10 gamma values (y axis)"),
        at_c: float = typer.Option(1.0, "--at-c", help="structure panel: its c"),
        at_gamma: float = typer.Option(1.0, "--at-gamma", help="structure panel: its gamma"),
        at_snr: float = typer.Option(1.0, "--at-snr", help="scale panel: its snr"),
        at_align: float = typer.Option(1.0, "--at-align", help="scale panel: its align"),
        f: str = typer.Option("relu_centered", "--f", help="tanh | relu_centered | erf | linear, or module:function"),
        boundary_align: str = typer.Option("0,0.5,1", "--boundary-align",
                                           help="structure panel: align lines on which the boundary is checked "
                                                "('none': no Monte Carlo there)"),
        boundary_c: str = typer.Option("0.5,1,2", "--boundary-c",
                                       help="scale panel: c lines on which the boundary is checked ('none')"),
        probe_gap: float = typer.Option(0.01, "--probe-gap", help="sign probes where the theory gap is +-this"),
        n: int = NOpt, seeds: int = typer.Option(10, "--seeds", help="draws per checked point (paired gap)"),
        match_scale: bool = typer.Option(False, "--match-scale", help="attention at the penalty gamma * "
                                         "|XK|_F^2/|X|_F^2 (its p -> infinity value): features rescaled to X's norm"),
        seed: int = SeedOpt, device: str = DeviceOpt, fmt: Format = FormatOpt, out: str = OutOpt):
    """Reversal map: E_attention - E_ridge over (snr, align) and (c, gamma), zero contour checked by
    Monte Carlo at n. Prints the boundary check (or, with no lines, the theory grid)."""
    import numpy as np

    from raflab.attention.reversal import reversal_map

    check_out_path(out)
    lines = {name: ([] if text.strip().lower() == "none" else parse_range(text, name))
             for name, text in (("boundary-align", boundary_align), ("boundary-c", boundary_c))}
    snrs, aligns = parse_range(snr, "snr"), parse_range(align, "align")
    cs, gammas = parse_range(c, "c"), 10.0 ** parse_range(log10_gamma, "log10-gamma")
    for name, values in (("snr", snrs), ("align", aligns), ("c", cs), ("log10-gamma", gammas)):
        if values.size < 2:
            raise ValueError(f"--{name} needs at least two values for a map (got {values.size})")
    if probe_gap <= 0:
        raise ValueError(f"--probe-gap must be > 0 (got {probe_gap})")
    maps, checks = reversal_map(snrs, aligns, cs, gammas, at_c, at_gamma, at_snr, at_align, _activation(f),
                                np.asarray(lines["boundary-align"]), np.asarray(lines["boundary-c"]), n, seeds,
                                seed, probe_gap, device, progress=True, match_scale=match_scale)
    if out is not None:
        from raflab.attention.plots import plot_reversal_map

        plot_reversal_map(maps, checks if "gap_mc" in checks.columns else None, out=out)
    if "gap_mc" in checks.columns:
        _emit(checks, fmt, "attention reversal map: boundary check (gap = E_attention - E_ridge)",
              main=["panel", "kind", "c", "gamma", "snr", "align", "gap_theory", "gap_mc", "gap_mc_stderr", "agrees",
                    "gap_theory_limit", "n", "n_seeds"])
    else:
        _emit(maps, fmt, "attention reversal map: theory (gap = E_attention - E_ridge; n NaN: p -> infinity)")

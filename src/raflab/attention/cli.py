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

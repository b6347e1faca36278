"""``raflab attention theory|simulate|compare``: in-context memorization of nonlinear attention.

``--snr`` is rho = |mu|^2; ``--align`` is the cosine between w_K (= w_Q) and mu. Ranges use
``parse_range`` ('0.5:2:10', '0,0.5,1' or '1').
"""

from __future__ import annotations

import itertools
from typing import Optional

import pandas as pd
import typer

from raflab.core.cli import Format, FormatOpt, OutOpt, SeedOpt, SeedsOpt, _activation, _emit, device_option, user_errors
from raflab.core.ranges import parse_range

attention_app = typer.Typer(no_args_is_help=True, help="in-context memorization of nonlinear attention")

COpt = typer.Option("1", "--c", help="ratio p/n: start:stop:num, a,b,c or one value")
GammaOpt = typer.Option("0.1", "--gamma", help="ridge penalty(s) > 0")
FOpt = typer.Option("tanh", "--f", help="tanh | relu_centered | erf | linear, or module:function for your own")
SnrOpt = typer.Option("0", "--snr", help="signal strength rho = |mu|^2")
AlignOpt = typer.Option("0", "--align", help="cosine between w_K = w_Q and mu, in [-1, 1]")
NOpt = typer.Option(1000, "--n", help="tokens per context (simulation); p = round(c n)")
DeviceOpt = device_option("where the Monte Carlo's ridge solves run (cuda: float64 on the GPU)")


def _grid(c, snr, align):
    return itertools.product(parse_range(c, "c"), parse_range(snr, "snr"), parse_range(align, "align"))


def _theory(c, gamma, f, snr, align, n=None):
    from raflab.attention.theory import attention_theory

    gam, f = parse_range(gamma, "gamma"), _activation(f)
    rows = []
    for ci, si, ai in _grid(c, snr, align):
        p = None if n is None else max(2, round(ci * n))
        rows += attention_theory([ci], gam, f, si, ai, p=p)
    return pd.DataFrame(rows)


def _check_simulation(c, n, seeds):
    """Sizes of the Monte Carlo, before any work: n and seeds, and the memory of the largest draw."""
    from raflab.attention.simulate import require_simulation_memory

    if n < 2:
        raise ValueError(f"n must be >= 2 (got {n})")
    if seeds < 2:
        raise ValueError(f"seeds must be >= 2 for a standard error (got {seeds})")
    require_simulation_memory(max(2, round(float(parse_range(c, "c").max()) * n)), n)


def _simulate(c, gamma, f, snr, align, n, seeds, seed, device):
    from raflab.attention.simulate import simulate

    gam, f = parse_range(gamma, "gamma"), _activation(f)
    from raflab.core.progress import track_rows

    points = list(_grid(c, snr, align))
    frames = [simulate(max(2, round(ci * n)), n, gam, f, si, ai, seeds, seed, device)
              for ci, si, ai in track_rows(points, f"attention Monte Carlo (n={n}, {seeds} seeds)", unit="points")]
    return pd.concat(frames, ignore_index=True)


@attention_app.command()
@user_errors
def theory(c: str = COpt, gamma: str = GammaOpt, f: str = FOpt, snr: str = SnrOpt, align: str = AlignOpt,
           n: Optional[int] = typer.Option(None, "--n", min=1, help="evaluate at finite size, p = round(c n) "
                                           "(the kernel diagonal f(sqrt p)/sqrt p); default: the p -> infinity limit"),
           fmt: Format = FormatOpt):
    """Deterministic equivalent (derived, Monte-Carlo validated) and the MP ridge baseline."""
    _emit(_theory(c, gamma, f, snr, align, n), fmt, "attention theory")


@attention_app.command()
@user_errors
def simulate(c: str = COpt, gamma: str = GammaOpt, f: str = FOpt, snr: str = SnrOpt, align: str = AlignOpt,
             n: int = NOpt, seeds: int = SeedsOpt, seed: int = SeedOpt, device: str = DeviceOpt,
             fmt: Format = FormatOpt):
    """Exact Monte Carlo of attention and ridge memorization errors, with standard errors."""
    _check_simulation(c, n, seeds)
    _emit(_simulate(c, gamma, f, snr, align, n, seeds, seed, device), fmt, "attention Monte Carlo")


@attention_app.command()
@user_errors
def compare(c: str = COpt, gamma: str = GammaOpt, f: str = FOpt, snr: str = SnrOpt, align: str = AlignOpt,
            n: int = NOpt, seeds: int = SeedsOpt, seed: int = SeedOpt, device: str = DeviceOpt,
            fmt: Format = FormatOpt, out: str = OutOpt):
    """Theory (at the simulated p) next to Monte Carlo; ``--out`` writes the figure."""
    from raflab.core.cli import check_out_path

    check_out_path(out)
    _check_simulation(c, n, seeds)
    th = _theory(c, gamma, f, snr, align, n)
    mc = _simulate(c, gamma, f, snr, align, n, seeds, seed, device)
    keys = ["c", "gamma", "snr", "align"]
    df = th.merge(mc.drop(columns=["f"]), on=keys, suffixes=("_theory", "_mc"))
    if out is not None:
        from raflab.attention.plots import plot_attention_memorization

        plot_attention_memorization(th, mc, out=out)
    _emit(df, fmt, "attention theory vs Monte Carlo",
          main=[*keys, "f", "memorization_error_attention_theory", "memorization_error_attention_mc",
                "memorization_error_ridge_theory", "memorization_error_ridge_mc"])

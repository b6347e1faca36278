"""``raflab hopfield capacity|theory|simulate|dense|ring|attractors``: associative memories.

Classical Hopfield network (Hebbian, zero-temperature asynchronous dynamics) against the
Amit-Gutfreund-Sompolinsky theory; dense associative memory capacities; the dense (modern) Hopfield
network on data: the ring toy's radius R*(beta) and the attractors (stored / spurious / mean)
counted against the number of memories K. Ranges use ``parse_range`` ('0.02:0.2:10', '0.05,0.1').
The figure helpers at the bottom draw what ``--out`` writes (and ``examples/hopfield_figures.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import typer

from raflab.cli_common import Format, FormatOpt, OutOpt, SeedOpt, _emit, device_option, user_errors
from raflab.ranges import parse_range

hopfield_app = typer.Typer(no_args_is_help=True,
                           help="associative memories: Hopfield capacity, dense memories, attractors of the softmax update")

AlphaOpt = typer.Option("0.02:0.2:10", "--alpha", help="loads P/N > 0: start:stop:num or a,b,c")
BetaOpt = typer.Option("20", "--beta", help="inverse temperature(s) > 0: a,b,c or start:stop:num")
NOpt = typer.Option(1000, "--n", help="neurons N (>= 2)")
SeedsOpt = typer.Option(5, "--seeds", help="independent networks per load (>= 2)")


def _positive(text: str, name: str) -> np.ndarray:
    values = parse_range(text, name)
    if np.any(values <= 0):
        raise ValueError(f"{name} must be > 0 (got {text!r})")
    return values


def _Ks(text: str) -> list[int]:
    values = parse_range(text, "K")
    if np.any(values < 1) or np.any(values != np.round(values)):
        raise ValueError(f"K must be integers >= 1 (got {text!r})")
    return [int(v) for v in values]


def _note(out) -> None:
    typer.echo(f"figure written to {out}", err=True)


@hopfield_app.command()
@user_errors
def capacity(xtol: float = typer.Option(1e-7, "--xtol", help="bisection tolerance on alpha (> 0)"),
             fmt: Format = FormatOpt):
    """alpha_c of the T = 0 Hopfield model: continuation in alpha, then bisection on existence of retrieval."""
    from raflab.theory.hopfield import capacity_alpha_c

    if not xtol > 0:
        raise ValueError(f"xtol must be > 0 (got {xtol:g})")
    c = capacity_alpha_c(xtol=xtol)
    _emit(pd.DataFrame([{"alpha_c": c["alpha_c"], "overlap_c": c["overlap_c"], "alpha_lo": c["bracket"][0],
                         "alpha_hi": c["bracket"][1], "method": "continuation + bisection"}]),
          fmt, "Hopfield capacity (AGS, T = 0)")


@hopfield_app.command()
@user_errors
def theory(alpha: str = AlphaOpt, fmt: Format = FormatOpt):
    """Retrieval overlap m(alpha) of the AGS equations (0 where retrieval does not exist)."""
    from raflab.theory.hopfield import retrieval_overlap

    _emit(pd.DataFrame(retrieval_overlap(_positive(alpha, "alpha"))), fmt, "Hopfield retrieval (AGS, T = 0)")


@hopfield_app.command()
@user_errors
def simulate(alpha: str = typer.Option("0.05,0.1,0.2", "--alpha", help="loads P/N > 0: a,b,c or start:stop:num"),
             n: int = NOpt, seeds: int = SeedsOpt, seed: int = SeedOpt,
             starts: int = typer.Option(0, "--starts", help="stored patterns recalled per network (0: all)"),
             device: str = device_option("where the recall dynamics run"), fmt: Format = FormatOpt,
             out: str = OutOpt):
    """Final overlap after asynchronous recall from the stored patterns, theory beside; --out draws both."""
    from raflab.cli_common import check_out_path
    from raflab.learners.assoc import simulate_hopfield

    check_out_path(out)
    alphas = _positive(alpha, "alpha")
    if n < 2:
        raise ValueError(f"n must be >= 2 (got {n})")
    if starts < 0:
        raise ValueError(f"starts must be >= 0 (got {starts})")
    df = simulate_hopfield(alphas, n=n, seeds=seeds, seed=seed, starts=starts or None, device=device, progress=True)
    if out is not None:
        from raflab.theory.hopfield import retrieval_overlap

        from raflab.plots import plot_hopfield_overlap

        line = pd.DataFrame(retrieval_overlap(np.linspace(min(0.01, alphas.min()), max(0.2, alphas.max()), 400)))
        plot_hopfield_overlap(line, df, out=out)
        _note(out)
    _emit(df, fmt, f"Hopfield simulation: N={n}, {seeds} networks per load")


@hopfield_app.command()
@user_errors
def dense(n: str = typer.Option("100,1000,10000", "--n", help="neurons N (> 1)"),
          degree: str = typer.Option("2,3,4", "--degree", help="polynomial F(x) = x^degree, integers >= 2"),
          rho: str = typer.Option("0,0.1,0.2", "--rho", help="exponential F: fraction of flipped bits in the cue, [0, 0.5)"),
          error_rate: float = typer.Option(0.01, "--error-rate", help="the 'error_rate' criterion's spin-flip probability"),
          fmt: Format = FormatOpt):
    """Dense associative memory capacities: K for F(x) = x^n (three criteria) and exp(a N) for F = exp."""
    from raflab.theory.hopfield import dense_am_capacity_exponential, dense_am_capacity_polynomial

    Ns, degrees, rhos = parse_range(n, "n"), parse_range(degree, "degree"), parse_range(rho, "rho")
    if np.any(Ns < 2):
        raise ValueError(f"n must be >= 2 (got {n!r})")
    if np.any(degrees < 2) or np.any(degrees != np.round(degrees)):
        raise ValueError(f"degree must be integers >= 2 (got {degree!r})")
    rows = []
    for d in degrees.astype(int):
        for N in Ns:
            rows.append({"separation": f"x^{d}", "N": int(N), "rho": 0.0,
                         **{f"K_{c}": float(dense_am_capacity_polynomial(N, d, c, error_rate))
                            for c in ("pattern", "all", "error_rate")}})
    for r in rhos:
        a_all = float(dense_am_capacity_exponential(r, "all"))
        a_typ = float(dense_am_capacity_exponential(r, "typical"))
        for N in Ns:
            rows.append({"separation": "exp", "N": int(N), "rho": float(r), "K_pattern": float(np.exp(a_typ * N)),
                         "K_all": float(np.exp(a_all * N)), "K_error_rate": np.nan,
                         "exponent_all": a_all, "exponent_typical": a_typ})
    _emit(pd.DataFrame(rows), fmt, "dense associative memory capacities")


@hopfield_app.command()
@user_errors
def ring(beta: str = BetaOpt,
         K: int = typer.Option(4096, "--K", help="equally spaced memories for the DenseAM check (0: theory only)"),
         fmt: Format = FormatOpt):
    """R*(beta): the minimum of the K -> infinity ring energy, beside the DenseAM fixed point on K points."""
    from raflab.learners.assoc import DenseAM
    from raflab.theory.hopfield import ring_energy, ring_radius

    betas = _positive(beta, "beta")
    if K < 0:
        raise ValueError(f"K must be >= 1 (or 0 for theory only), got {K}")
    from raflab.memory_check import FLOAT64, require_memory

    require_memory(FLOAT64 * 8 * K, f"the ring of K={K:,} memories")
    R = ring_radius(betas)
    df = pd.DataFrame({"beta": betas, "R_star": R, "R_large_beta": 1.0 - 1.0 / (4.0 * betas),
                       "energy_min": ring_energy(R, betas)})
    if K > 0:
        theta = 2.0 * np.pi * np.arange(K) / K
        X = np.stack([np.cos(theta), np.sin(theta)], axis=1)
        found = []
        for b in betas:
            x, ok, _ = DenseAM(float(b), device="cpu").fit(X).run([[0.5, 0.2]], tol=1e-13)
            found.append(float(np.linalg.norm(x[0])) if ok[0] else np.nan)
        df["K"] = K
        df["R_dense_am"] = found
    _emit(df, fmt, "ring toy: minimum of E(R) = R^2 + 1 - log I0(2 beta R) / beta")


@hopfield_app.command()
@user_errors
def attractors(data: str = typer.Option("ring", "--data", help="ring | mixture | digits | mnist | fashion-mnist | cifar10"),
               data_dir: str = typer.Option(None, "--data-dir", help="folder with the image files (never downloaded)"),
               K: str = typer.Option("2,9,32,1000", "--K", help="numbers of memories: a,b,c or start:stop:num"),
               beta: float = typer.Option(20.0, "--beta", help="inverse temperature (> 0)"),
               starts: int = typer.Option(512, "--starts", help="starts of the softmax update per data set"),
               seeds: int = typer.Option(1, "--seeds", help="data sets per K (counts are averaged)"),
               similarity: str = typer.Option("distance", "--similarity", help="distance (diffusion denoiser) | dot (attention)"),
               seed: int = SeedOpt, device: str = device_option("where the softmax updates run"),
               fmt: Format = FormatOpt, out: str = OutOpt):
    """Attractors of the dense AM by kind (stored / spurious / mean) against K."""
    from raflab.cli_common import check_out_path
    from raflab.learners.assoc import KINDS, attractor_counts, require_attractor_memory
    from raflab.learners.diffusion import DATASETS, DIMENSION, training_points
    from raflab.seeding import point_rng

    check_out_path(out)
    if data not in DATASETS:
        raise ValueError(f"unknown data set {data!r}; choose one of {', '.join(DATASETS)}")
    Ks = _Ks(K)
    if not beta > 0:
        raise ValueError(f"beta must be > 0 (got {beta:g})")
    if starts < 1 or seeds < 1:
        raise ValueError(f"starts and seeds must be >= 1 (got {starts}, {seeds})")
    if similarity not in ("distance", "dot"):
        raise ValueError(f"unknown similarity {similarity!r}; choose distance or dot")
    require_attractor_memory(max(Ks), DIMENSION.get(data, 3072), starts)
    rows = []
    from raflab.progress import track_rows

    for k in track_rows(Ks, f"attractors ({data}, {starts} starts x {seeds} data set(s) per K)", unit="K"):
        per_seed = []
        for s in range(seeds):
            points, _ = training_points(data, k, seed + s, data_dir)
            per_seed.append(attractor_counts(points.double().numpy(), beta, n_starts=starts,
                                             rng=point_rng(seed + s, k, beta, 1), similarity=similarity,
                                             device=device))
        mean = pd.DataFrame(per_seed).mean()
        row = {"data": data, "K": k, "beta": beta, "seeds": seeds}
        row.update({f"n_{kind}": float(mean[f"n_{kind}"]) for kind in KINDS})
        row.update({f"fraction_{kind}": float(mean[f"fraction_{kind}"]) for kind in KINDS})
        row.update({"starts": starts, "unconverged": float(mean["unconverged"]), "saddles": float(mean["saddles"])})
        rows.append(row)
    df = pd.DataFrame(rows)
    if out is not None:
        from raflab.plots import plot_attractor_counts

        plot_attractor_counts(df, out=out, title=f"{data}, β={beta:g}, {starts} starts, {seeds} data set(s) per K")
        _note(out)
    _emit(df, fmt, f"dense AM attractors ({data}, beta={beta:g})")

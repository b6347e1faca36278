"""``raflab hopfield`` and ``raflab diffusion``: associative memories and diffusion models, a thin layer over
:mod:`raflab.memory` (parse, call the API, print).

hopfield: ``raflab hopfield capacity|theory|simulate|dense|ring|attractors``: associative memories.

Classical Hopfield network (Hebbian, zero-temperature asynchronous dynamics) against the
Amit-Gutfreund-Sompolinsky theory; dense associative memory capacities; the dense (modern) Hopfield
network on data: the ring toy's radius R*(beta) and the attractors (stored / spurious / mean)
counted against the number of memories K. Ranges use ``parse_range`` ('0.02:0.2:10', '0.05,0.1').
The figure helpers at the bottom draw what ``--out`` writes (and ``examples/hopfield_figures.py``).

diffusion: ``raflab diffusion phases|train|sample``: memorization -> spurious -> generalization in diffusion models.

``--K`` uses ``parse_range`` ('2,9,32' or '1'); every sample is labelled memorized (nearest-
neighbour ratio test against the training set), spurious (another sample much closer than any
training point) or generalized, see :func:`raflab.memory.diffusion.classify_samples`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import typer

from raflab.core.cli import (
    Format,
    FormatOpt,
    OutOpt,
    SeedOpt,
    _emit,
    check_out_path,
    device_option,
    reject_unused,
    user_errors,
)
from raflab.core.ranges import parse_range

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
    from raflab.memory.hopfield_theory import capacity_alpha_c

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
    from raflab.memory.hopfield_theory import retrieval_overlap

    _emit(pd.DataFrame(retrieval_overlap(_positive(alpha, "alpha"))), fmt, "Hopfield retrieval (AGS, T = 0)")


@hopfield_app.command()
@user_errors
def simulate(alpha: str = typer.Option("0.05,0.1,0.2", "--alpha", help="loads P/N > 0: a,b,c or start:stop:num"),
             n: int = NOpt, seeds: int = SeedsOpt, seed: int = SeedOpt,
             starts: int = typer.Option(0, "--starts", help="stored patterns recalled per network (0: all)"),
             device: str = device_option("where the recall dynamics run"), fmt: Format = FormatOpt,
             out: str = OutOpt):
    """Final overlap after asynchronous recall from the stored patterns, theory beside; --out draws both."""
    from raflab.core.cli import check_out_path
    from raflab.memory.associative import simulate_hopfield

    check_out_path(out)
    alphas = _positive(alpha, "alpha")
    if n < 2:
        raise ValueError(f"n must be >= 2 (got {n})")
    if starts < 0:
        raise ValueError(f"starts must be >= 0 (got {starts})")
    df = simulate_hopfield(alphas, n=n, seeds=seeds, seed=seed, starts=starts or None, device=device, progress=True)
    if out is not None:
        from raflab.memory.hopfield_theory import retrieval_overlap
        from raflab.memory.plots import plot_hopfield_overlap

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
    from raflab.memory.hopfield_theory import dense_am_capacity_exponential, dense_am_capacity_polynomial

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
    from raflab.memory.associative import DenseAM
    from raflab.memory.hopfield_theory import ring_energy, ring_radius

    betas = _positive(beta, "beta")
    if K < 0:
        raise ValueError(f"K must be >= 1 (or 0 for theory only), got {K}")
    from raflab.core.memory import FLOAT64, require_memory

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
    from raflab.core.cli import check_out_path
    from raflab.core.seeding import point_rng
    from raflab.memory.associative import KINDS, attractor_counts, require_attractor_memory
    from raflab.memory.experiments import DATASETS, DIMENSION, training_points

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
    from raflab.core.progress import track_rows

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
        from raflab.memory.plots import plot_attractor_counts

        plot_attractor_counts(df, out=out, title=f"{data}, β={beta:g}, {starts} starts, {seeds} data set(s) per K")
        _note(out)
    _emit(df, fmt, f"dense AM attractors ({data}, beta={beta:g})")


diffusion_app = typer.Typer(no_args_is_help=True,
                            help="diffusion models: memorization -> spurious -> generalization against K")


DataOpt = typer.Option("ring", "--data", help="ring | mixture | digits | mnist | fashion-mnist | cifar10")


DataDirOpt = typer.Option(None, "--data-dir", help="folder with the mnist / fashion-mnist / cifar10 files "
                                                   "(never downloaded)")


KsOpt = typer.Option("2,4,9,16,32,100,1000", "--K", help="training set sizes: a,b,c or start:stop:num")


StepsOpt = typer.Option(2000, "--steps", help="training steps, the same for every K")


SamplesOpt = typer.Option(1000, "--samples", help="generated samples per K")


ScheduleOpt = typer.Option("ve", "--schedule", help="ve (variance exploding) | vp (variance preserving, DDPM)")


SigmaMaxOpt = typer.Option(None, "--sigma-max", help="ve: largest noise level (> 0); default 3 x the data's "
                                                      "root total variance (3 for the ring)")


BetaMaxOpt = typer.Option(20.0, "--beta-max", help="vp: largest beta(t) (> 0)")


SamplerOpt = typer.Option("ddim", "--sampler", help="ddim (probability flow, deterministic) | em (Euler-Maruyama)")


SampleStepsOpt = typer.Option(100, "--sample-steps", help="steps of the reverse sampler")


NetOpt = typer.Option("auto", "--net", help="auto (mlp for points, unet for images) | mlp | unet")


WidthOpt = typer.Option(None, "--width", help="MLP width (default 128) or U-Net base channels (default 16)")


ExactOpt = typer.Option(False, "--exact", help="sample from the exact empirical score (no network)")


QuietOpt = typer.Option(False, "--quiet", help="no progress bar")


DevOpt = typer.Option("auto", "--device", help="auto | cpu | cuda: where networks train and sample")


CheckpointOpt = typer.Option(..., "--checkpoint", help="checkpoint file (resumed when it exists)")


def _Ks(text: str) -> list[int]:
    values = parse_range(text, "K")
    if np.any(values < 1) or np.any(values != np.round(values)):
        raise ValueError(f"K must be integers >= 1, got {text!r}")
    return [int(v) for v in values]


def _schedule(kind: str, sigma_max: float | None, beta_max: float):
    """A schedule object, or ``"ve"`` when sigma_max is to follow the data (set per training set)."""
    from raflab.memory.diffusion import VESchedule, VPSchedule

    if kind == "ve":
        if sigma_max is None:
            return "ve"
        if not sigma_max > 0:
            raise ValueError(f"sigma-max must be > 0, got {sigma_max:g}")
        return VESchedule(sigma_max=sigma_max)
    if kind == "vp":
        if not beta_max > 0:
            raise ValueError(f"beta-max must be > 0, got {beta_max:g}")
        return VPSchedule(beta_max=beta_max)
    raise ValueError(f"unknown schedule {kind!r}; choose ve or vp")


def _check_schedule_options(ctx, schedule: str, sigma_max, width=None) -> None:
    """--beta-max is vp's, --sigma-max is ve's; a network width is >= 1 (0 would fall back to the default)."""
    if schedule == "ve":
        reject_unused(ctx, ("beta_max",), "to --schedule ve, only to --schedule vp")
    elif schedule == "vp" and sigma_max is not None:
        raise ValueError("--sigma-max does not apply to --schedule vp, only to --schedule ve (vp's is --beta-max)")
    if width is not None and width < 1:
        raise ValueError(f"width must be >= 1, got {width}")


def _check(data: str, steps: int, samples: int, sampler: str, sample_steps: int, net: str):
    from raflab.memory.experiments import DATASETS

    if data not in DATASETS:
        raise ValueError(f"unknown data set {data!r}; choose one of {', '.join(DATASETS)}")
    for name, value in (("steps", steps), ("samples", samples), ("sample-steps", sample_steps)):
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    if sampler not in ("ddim", "em"):
        raise ValueError(f"unknown sampler {sampler!r}; choose ddim or em")
    if net not in ("auto", "mlp", "unet"):
        raise ValueError(f"unknown network {net!r}; choose auto, mlp or unet")


@diffusion_app.command()
@user_errors
def phases(ctx: typer.Context, data: str = DataOpt, data_dir: str = DataDirOpt, K: str = KsOpt, steps: int = StepsOpt,
           samples: int = SamplesOpt, exact: bool = ExactOpt, schedule: str = ScheduleOpt,
           sigma_max: float = SigmaMaxOpt, beta_max: float = BetaMaxOpt, sampler: str = SamplerOpt,
           sample_steps: int = SampleStepsOpt, net: str = NetOpt, width: int = WidthOpt, seed: int = SeedOpt,
           device: str = DevOpt, quiet: bool = QuietOpt, fmt: Format = FormatOpt, out: str = OutOpt):
    """Memorized / spurious / generalized fractions of samples against K (same step budget per K)."""
    from raflab.core.device import resolve_device
    from raflab.memory.experiments import diffusion_phases, require_phase_memory, training_points

    _check(data, steps, samples, sampler, sample_steps, net)
    _check_schedule_options(ctx, schedule, sigma_max, width)
    if exact:
        reject_unused(ctx, ("steps", "net", "width"), "with --exact (no network is trained)")
    check_out_path(out)
    sched = _schedule(schedule, sigma_max, beta_max)
    Ks = _Ks(K)
    require_phase_memory(data, max(Ks), samples)
    dev = resolve_device(device)
    if data not in ("ring", "mixture"):  # fail on a bad --data-dir before any training
        training_points(data, 1, seed, data_dir)
    df = pd.DataFrame(diffusion_phases(data, Ks, steps, samples, exact, sched, sampler, sample_steps, seed, dev,
                                       data_dir, net, width, quiet=quiet))
    if out is not None:
        from raflab.memory.plots import plot_diffusion_phases

        kind = net if net != "auto" else ("mlp" if data in ("ring", "mixture") else "unet")
        how = "exact empirical score" if exact else f"trained {kind}, {steps} steps per K"
        plot_diffusion_phases(df, out=out, title=f"{data}: {how}, {samples} samples per K")
        typer.echo(f"figure written to {out}", err=True)
    _emit(df, fmt, f"diffusion phases ({data})")


@diffusion_app.command()
@user_errors
def train(data: str = DataOpt, data_dir: str = DataDirOpt, K: int = typer.Option(100, "--K", help="training set size"),
          steps: int = StepsOpt, checkpoint: str = CheckpointOpt, net: str = NetOpt, width: int = WidthOpt,
          sigma_max: float = SigmaMaxOpt, seed: int = SeedOpt, device: str = DevOpt, quiet: bool = QuietOpt, fmt: Format = FormatOpt):
    """Train one denoiser on K points; checkpoints every 1000 steps and resumes from --checkpoint."""
    from raflab.core.device import resolve_device
    from raflab.memory.diffusion_models import TrainConfig, default_width, train_score_model
    from raflab.memory.experiments import training_points

    _check(data, steps, 2, "ddim", 1, net)
    if width is not None and width < 1:
        raise ValueError(f"width must be >= 1, got {width}")
    check_out_path(checkpoint, suffixes=None, option="--checkpoint")
    if K < 1:
        raise ValueError(f"K must be >= 1, got {K}")
    dev = resolve_device(device)
    points, shape = training_points(data, K, seed, data_dir)
    kind = net if net != "auto" else ("unet" if shape is not None else "mlp")
    if sigma_max is not None and not sigma_max > 0:
        raise ValueError(f"sigma-max must be > 0, got {sigma_max:g}")
    cfg = TrainConfig(net=kind, steps=steps, width=width or default_width(kind), seed=seed, sigma_max=sigma_max)
    _, record = train_score_model(points, cfg, device=dev, checkpoint=checkpoint, quiet=quiet, image_shape=shape,
                                  meta={"data": data, "K": K, "seed": seed})
    _emit(pd.DataFrame([{"data": data, **record, "checkpoint": checkpoint}]), fmt, "diffusion training")


@diffusion_app.command()
@user_errors
def sample(ctx: typer.Context, checkpoint: str = typer.Option(None, "--checkpoint", help="trained denoiser (from diffusion train)"),
           exact: bool = ExactOpt, data: str = DataOpt, data_dir: str = DataDirOpt,
           K: int = typer.Option(100, "--K", help="--exact: training set size"), samples: int = SamplesOpt,
           schedule: str = ScheduleOpt, sigma_max: float = SigmaMaxOpt, beta_max: float = BetaMaxOpt,
           sampler: str = SamplerOpt, sample_steps: int = SampleStepsOpt, seed: int = SeedOpt,
           device: str = DevOpt, fmt: Format = FormatOpt, out: str = OutOpt):
    """Draw samples from a checkpoint (or the exact empirical score) and classify them."""
    from raflab.core.device import resolve_device
    from raflab.memory import diffusion as dm
    from raflab.memory import diffusion_models as dmodels
    from raflab.memory import experiments as dexp

    _check(data, 1, samples, sampler, sample_steps, "auto")
    if (checkpoint is None) == (not exact):
        raise ValueError("give either --checkpoint (a trained denoiser) or --exact")
    _check_schedule_options(ctx, schedule, sigma_max)
    if not exact:
        reject_unused(ctx, ("data", "data_dir", "K"), "with --checkpoint (the checkpoint holds its training points)")
    check_out_path(out)
    if exact and K < 1:
        raise ValueError(f"K must be >= 1, got {K}")
    if exact:
        dexp.require_phase_memory(data, K, samples)
    sched = _schedule(schedule, sigma_max, beta_max)
    dev = resolve_device(device)
    if exact:
        points, shape = dexp.training_points(data, K, seed, data_dir)
        points = points.to(dev)
        denoiser, steps, data_name = dm.ExactDenoiser(points), 0, data
    else:
        denoiser, points, state = dmodels.load_score_model(checkpoint, dev)
        shape, steps, data_name = state["image_shape"], state["step"], state["meta"].get("data", "?")
        if sched == "ve":  # start where the network's training noise range ends
            sched = dm.VESchedule(sigma_max=state["config"]["sigma_max"] or dm.default_sigma_max(points))
    x = dexp.generate(denoiser, points, samples, dm.schedule_for(sched, points), seed, sample_steps, sampler, dev)
    labels = dm.classify_samples(x, points)
    record = {"data": data_name, "K": int(points.shape[0]),
              **{f"{k}_fraction": float(labels[k].float().mean()) for k in ("memorized", "spurious", "generalized")},
              "steps": steps, "samples": samples, "exact": exact}
    if out is not None:
        from raflab.memory.plots import plot_diffusion_samples

        plot_diffusion_samples(x.cpu(), points.cpu(), {k: v.cpu() for k, v in labels.items()}, shape, out=out,
                               title=f"{data_name}, K={points.shape[0]}")
        typer.echo(f"figure written to {out}", err=True)
    _emit(pd.DataFrame([record]), fmt, "diffusion samples")

"""``raflab hopfield`` and ``raflab diffusion``: associative memories and diffusion models, a thin layer over
:mod:`raflab.memory` (parse, call the API, print).

hopfield: ``raflab hopfield capacity|theory|simulate|dense|ring|attractors|generalized``: associative memories.

Classical Hopfield network (Hebbian, zero-temperature asynchronous dynamics) against the
Amit-Gutfreund-Sompolinsky theory; dense associative memory capacities; the dense (modern) Hopfield
network on data: the ring toy's radius R*(beta) and the attractors (stored / spurious / mean)
counted against the number of memories K. Ranges use ``parse_range`` ('0.02:0.2:10', '0.05,0.1').
The figure helpers at the bottom draw what ``--out`` writes (and ``examples/hopfield_figures.py``).

diffusion: ``raflab diffusion phases|train|sample|attractors``: memorization -> spurious -> generalization in diffusion models.

``--K`` uses ``parse_range`` ('2,9,32' or '1'); every sample is labelled memorized (nearest-
neighbour ratio test against the training set), spurious (another sample much closer than any
training point) or generalized, see :func:`raflab.memory.diffusion.classify_samples`.
"""

from __future__ import annotations

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


def _note(out) -> None:
    typer.echo(f"figure written to {out}", err=True)


@hopfield_app.command()
@user_errors
def capacity(xtol: float = typer.Option(1e-7, "--xtol", help="bisection tolerance on alpha (> 0)"),
             fmt: Format = FormatOpt):
    """alpha_c of the T = 0 Hopfield model: continuation in alpha, then bisection on existence of retrieval."""
    from raflab.memory.hopfield_experiments import capacity_records

    _emit(pd.DataFrame(capacity_records(xtol)), fmt, "Hopfield capacity (AGS, T = 0)")


@hopfield_app.command()
@user_errors
def theory(alpha: str = AlphaOpt, fmt: Format = FormatOpt):
    """Retrieval overlap m(alpha) of the AGS equations (0 where retrieval does not exist)."""
    from raflab.memory.hopfield_theory import retrieval_overlap

    _emit(pd.DataFrame(retrieval_overlap(parse_range(alpha, "alpha"))), fmt, "Hopfield retrieval (AGS, T = 0)")


@hopfield_app.command()
@user_errors
def simulate(alpha: str = typer.Option("0.05,0.1,0.2", "--alpha", help="loads P/N > 0: a,b,c or start:stop:num"),
             n: int = NOpt, seeds: int = SeedsOpt, seed: int = SeedOpt,
             starts: int = typer.Option(0, "--starts", help="stored patterns recalled per network (0: all)"),
             device: str = device_option("where the recall dynamics run"), fmt: Format = FormatOpt,
             out: str = OutOpt):
    """Final overlap after asynchronous recall from the stored patterns, theory beside; --out draws both."""
    from raflab.memory.associative import simulate_hopfield
    from raflab.memory.hopfield_experiments import hopfield_theory_line

    check_out_path(out)
    alphas = parse_range(alpha, "alpha")
    df = simulate_hopfield(alphas, n=n, seeds=seeds, seed=seed, starts=starts or None, device=device, progress=True)
    if out is not None:
        from raflab.memory.plots import plot_hopfield_overlap

        line, alpha_c = hopfield_theory_line(alphas)
        plot_hopfield_overlap(line, df, out=out, alpha_c=alpha_c)
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
    from raflab.memory.hopfield_experiments import dense_capacity_records

    rows = dense_capacity_records(parse_range(n, "n"), parse_range(degree, "degree"), parse_range(rho, "rho"),
                                  error_rate)
    _emit(pd.DataFrame(rows), fmt, "dense associative memory capacities")


@hopfield_app.command()
@user_errors
def ring(beta: str = BetaOpt,
         K: int = typer.Option(4096, "--K", help="equally spaced memories for the DenseAM check (0: theory only)"),
         fmt: Format = FormatOpt):
    """R*(beta): the minimum of the K -> infinity ring energy, beside the DenseAM fixed point on K points."""
    from raflab.memory.hopfield_experiments import ring_records

    _emit(ring_records(parse_range(beta, "beta"), K), fmt, "ring toy: minimum of E(R) = R^2 + 1 - log I0(2 beta R) / beta")


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
    from raflab.memory.experiments import attractors_against_K

    check_out_path(out)
    df = attractors_against_K(data, parse_range(K, "K"), beta, starts, seeds, similarity, seed, device, data_dir,
                              progress=True)
    if out is not None:
        from raflab.memory.plots import plot_attractor_counts

        plot_attractor_counts(df, out=out, title=f"{data}, β={beta:g}, {starts} starts, {seeds} data set(s) per K")
        _note(out)
    _emit(df, fmt, f"dense AM attractors ({data}, beta={beta:g})")


@hopfield_app.command()
@user_errors
def generalized(data: str = typer.Option("ring", "--data", help="ring | digits (data sets with a known manifold)"),
                K: str = typer.Option("2,9,32,100,1000", "--K", help="numbers of memories: a,b,c or start:stop:num"),
                beta: float = typer.Option(20.0, "--beta", help="inverse temperature (> 0)"),
                starts: int = typer.Option(256, "--starts", help="starts of the softmax update per data set"),
                seeds: int = typer.Option(3, "--seeds", help="data sets per K (means with 95% intervals)"),
                seed: int = SeedOpt, device: str = device_option("where the softmax updates run"),
                fmt: Format = FormatOpt, out: str = OutOpt):
    """Attractors of the dense AM by kind, with generalized (on the data manifold, not stored) against K."""
    from raflab.memory.spurious_experiments import generalized_attractors_against_K

    check_out_path(out)
    df = generalized_attractors_against_K(data, parse_range(K, "K"), beta, starts, seeds, seed, device, progress=True)
    if out is not None:
        from raflab.memory.plots import plot_generalized_attractors

        plot_generalized_attractors(df, out=out, title=f"{data}: dense AM, β={beta:g}, {starts} starts, {seeds} data sets per K")
        _note(out)
    _emit(df, fmt, f"dense AM attractors with the manifold ({data}, beta={beta:g})")


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


def _check_schedule_options(ctx, schedule: str, sigma_max) -> None:
    """--beta-max is vp's, --sigma-max is ve's."""
    if schedule == "ve":
        reject_unused(ctx, ("beta_max",), "to --schedule ve, only to --schedule vp")
    elif schedule == "vp" and sigma_max is not None:
        raise ValueError("--sigma-max does not apply to --schedule vp, only to --schedule ve (vp's is --beta-max)")


@diffusion_app.command()
@user_errors
def phases(ctx: typer.Context, data: str = DataOpt, data_dir: str = DataDirOpt, K: str = KsOpt, steps: int = StepsOpt,
           samples: int = SamplesOpt, exact: bool = ExactOpt, schedule: str = ScheduleOpt,
           sigma_max: float = SigmaMaxOpt, beta_max: float = BetaMaxOpt, sampler: str = SamplerOpt,
           sample_steps: int = SampleStepsOpt, net: str = NetOpt, width: int = WidthOpt, seed: int = SeedOpt,
           device: str = DevOpt, quiet: bool = QuietOpt, fmt: Format = FormatOpt, out: str = OutOpt):
    """Memorized / spurious / generalized fractions of samples against K (same step budget per K)."""
    from raflab.memory.diffusion import schedule_from_options
    from raflab.memory.diffusion_models import resolve_net
    from raflab.memory.experiments import POINT_DATASETS, diffusion_phases

    _check_schedule_options(ctx, schedule, sigma_max)
    if exact:
        reject_unused(ctx, ("steps", "net", "width"), "with --exact (no network is trained)")
    check_out_path(out)
    sched = schedule_from_options(schedule, sigma_max, beta_max)
    df = pd.DataFrame(diffusion_phases(data, parse_range(K, "K"), steps, samples, exact, sched, sampler, sample_steps,
                                       seed, device, data_dir, net, width, quiet=quiet))
    if out is not None:
        from raflab.memory.plots import plot_diffusion_phases

        how = "exact empirical score" if exact else \
            f"trained {resolve_net(net, images=data not in POINT_DATASETS)}, {steps} steps per K"
        plot_diffusion_phases(df, out=out, title=f"{data}: {how}, {samples} samples per K")
        _note(out)
    _emit(df, fmt, f"diffusion phases ({data})")


@diffusion_app.command()
@user_errors
def train(data: str = DataOpt, data_dir: str = DataDirOpt, K: int = typer.Option(100, "--K", help="training set size"),
          steps: int = StepsOpt, checkpoint: str = CheckpointOpt, net: str = NetOpt, width: int = WidthOpt,
          sigma_max: float = SigmaMaxOpt, seed: int = SeedOpt, device: str = DevOpt, quiet: bool = QuietOpt, fmt: Format = FormatOpt):
    """Train one denoiser on K points; checkpoints every 1000 steps and resumes from --checkpoint."""
    from raflab.memory.experiments import train_denoiser

    check_out_path(checkpoint, suffixes=None, option="--checkpoint")
    record = train_denoiser(data, K, steps, checkpoint, net, width, sigma_max, seed, device, data_dir, quiet)
    _emit(pd.DataFrame([record]), fmt, "diffusion training")


@diffusion_app.command()
@user_errors
def sample(ctx: typer.Context, checkpoint: str = typer.Option(None, "--checkpoint", help="trained denoiser (from diffusion train)"),
           exact: bool = ExactOpt, data: str = DataOpt, data_dir: str = DataDirOpt,
           K: int = typer.Option(100, "--K", help="--exact: training set size"), samples: int = SamplesOpt,
           schedule: str = ScheduleOpt, sigma_max: float = SigmaMaxOpt, beta_max: float = BetaMaxOpt,
           sampler: str = SamplerOpt, sample_steps: int = SampleStepsOpt, seed: int = SeedOpt,
           device: str = DevOpt, fmt: Format = FormatOpt, out: str = OutOpt):
    """Draw samples from a checkpoint (or the exact empirical score) and classify them."""
    from raflab.memory.diffusion import schedule_from_options
    from raflab.memory.experiments import sample_denoiser

    if (checkpoint is None) == (not exact):
        raise ValueError("give either --checkpoint (a trained denoiser) or --exact")
    _check_schedule_options(ctx, schedule, sigma_max)
    if not exact:
        reject_unused(ctx, ("data", "data_dir", "K"), "with --checkpoint (the checkpoint holds its training points)")
    check_out_path(out)
    sched = schedule_from_options(schedule, sigma_max, beta_max)
    record, x, points, labels, shape = sample_denoiser(checkpoint, data, K, samples, sched, sampler, sample_steps, seed,
                                                       device, data_dir)
    if out is not None:
        from raflab.memory.plots import plot_diffusion_samples

        plot_diffusion_samples(x.cpu(), points.cpu(), {k: v.cpu() for k, v in labels.items()}, shape, out=out,
                               title=f"{record['data']}, K={record['K']}")
        _note(out)
    _emit(pd.DataFrame([record]), fmt, "diffusion samples")


@diffusion_app.command()
@user_errors
def attractors(data: str = typer.Option("ring", "--data", help="ring | digits (data sets with a known manifold)"),
               K: str = typer.Option("4,9,16,32,100", "--K", help="training set sizes: a,b,c or start:stop:num"),
               seeds: int = typer.Option(3, "--seeds", help="training sets (and networks) per K"),
               steps: int = StepsOpt, samples: int = typer.Option(500, "--samples", help="generated samples per run"),
               net: str = NetOpt, width: int = WidthOpt,
               sigma0: float = typer.Option(0.02, "--sigma0", help="noise level of the flow map, in units of the "
                                                                   "data scale, (0, 1)"),
               max_checked: int = typer.Option(200, "--max-checked", help="spurious samples checked per run"),
               basin_points: int = typer.Option(10, "--basin-points", help="attractors (and training points) whose "
                                                                          "basin is measured per run"),
               trials: int = typer.Option(20, "--trials", help="noise draws per point and noise level for the basins"),
               seed: int = SeedOpt, device: str = DevOpt, fmt: Format = FormatOpt, out: str = OutOpt):
    """Are samples labelled spurious attractors? Fixed points of the probability-flow map, off the manifold,
    and their basins beside the training points' (means over seeds with 95% intervals)."""
    from raflab.memory.spurious_experiments import spurious_attractors_against_K

    check_out_path(out)
    summary, _ = spurious_attractors_against_K(data, parse_range(K, "K"), seeds, seed, steps, samples, net, width,
                                               sigma0, 100, max_checked, basin_points, trials, device, progress=True)
    if out is not None:
        from raflab.memory.plots import plot_spurious_attractors

        plot_spurious_attractors(summary, out=out, title=f"{data}: {steps} steps per K, {samples} samples, "
                                                         f"σ0 = {sigma0:g} x data scale, {seeds} seeds")
        _note(out)
    _emit(summary, fmt, f"spurious samples as attractors ({data})")

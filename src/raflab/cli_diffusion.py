"""``raflab diffusion phases|train|sample``: memorization -> spurious -> generalization in diffusion models.

``--K`` uses ``parse_range`` ('2,9,32' or '1'); every sample is labelled memorized (nearest-
neighbour ratio test against the training set), spurious (another sample much closer than any
training point) or generalized, see :func:`raflab.learners.diffusion.classify_samples`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import typer

from raflab.cli_common import Format, FormatOpt, OutOpt, SeedOpt, _emit, check_out_path, reject_unused, user_errors
from raflab.ranges import parse_range

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
    from raflab.learners.diffusion import VESchedule, VPSchedule

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
    from raflab.learners.diffusion import DATASETS

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
    from raflab.device import resolve_device
    from raflab.learners.diffusion import diffusion_phases

    _check(data, steps, samples, sampler, sample_steps, net)
    _check_schedule_options(ctx, schedule, sigma_max, width)
    if exact:
        reject_unused(ctx, ("steps", "net", "width"), "with --exact (no network is trained)")
    check_out_path(out)
    sched = _schedule(schedule, sigma_max, beta_max)
    Ks = _Ks(K)
    from raflab.learners.diffusion import require_phase_memory

    require_phase_memory(data, max(Ks), samples)
    dev = resolve_device(device)
    if data not in ("ring", "mixture"):  # fail on a bad --data-dir before any training
        from raflab.learners.diffusion import training_points

        training_points(data, 1, seed, data_dir)
    df = pd.DataFrame(diffusion_phases(data, Ks, steps, samples, exact, sched, sampler, sample_steps, seed, dev,
                                       data_dir, net, width, quiet=quiet))
    if out is not None:
        from raflab.plots import plot_diffusion_phases

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
    from raflab.device import resolve_device
    from raflab.learners import diffusion as dm
    from raflab.learners.diffusion import TrainConfig, train_score_model, training_points

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
    cfg = TrainConfig(net=kind, steps=steps, width=width or dm.default_width(kind), seed=seed, sigma_max=sigma_max)
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
    from raflab.device import resolve_device
    from raflab.learners import diffusion as dm

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
        dm.require_phase_memory(data, K, samples)
    sched = _schedule(schedule, sigma_max, beta_max)
    dev = resolve_device(device)
    if exact:
        points, shape = dm.training_points(data, K, seed, data_dir)
        points = points.to(dev)
        denoiser, steps, data_name = dm.ExactDenoiser(points), 0, data
    else:
        denoiser, points, state = dm.load_score_model(checkpoint, dev)
        shape, steps, data_name = state["image_shape"], state["step"], state["meta"].get("data", "?")
        if sched == "ve":  # start where the network's training noise range ends
            sched = dm.VESchedule(sigma_max=state["config"]["sigma_max"] or dm.default_sigma_max(points))
    x = dm.generate(denoiser, points, samples, dm.schedule_for(sched, points), seed, sample_steps, sampler, dev)
    labels = dm.classify_samples(x, points)
    record = {"data": data_name, "K": int(points.shape[0]),
              **{f"{k}_fraction": float(labels[k].float().mean()) for k in ("memorized", "spurious", "generalized")},
              "steps": steps, "samples": samples, "exact": exact}
    if out is not None:
        from raflab.plots import plot_diffusion_samples

        plot_diffusion_samples(x.cpu(), points.cpu(), {k: v.cpu() for k, v in labels.items()}, shape, out=out,
                               title=f"{data_name}, K={points.shape[0]}")
        typer.echo(f"figure written to {out}", err=True)
    _emit(pd.DataFrame([record]), fmt, "diffusion samples")

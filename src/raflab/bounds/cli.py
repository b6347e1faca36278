"""``raflab sdpi bound|measure|raf``: memorization lower bounds from strong data-processing inequalities.

``bound``: the SDPI lower bound on excess memorization (bits) and the matching simple algorithm;
``measure``: memorization of real learners by repeated training with theta fixed; ``raf``: fact bits
per parameter of the RAF learners at their storage capacity, beside Gardner's 2 bits per weight.
Sample sizes use ``parse_range`` ('1,4,16' or '1:64:8', rounded values must be integers >= 1).
"""

from __future__ import annotations

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
from raflab.raf.options import ActivationOpt, KappaOpt, KernelOpt, ModelOpt, _model_options, _prior

sdpi_app = typer.Typer(no_args_is_help=True, help="memorization lower bounds (strong data-processing inequalities)")

InstanceOpt = typer.Option("gaussian", "--instance", help="gaussian | boolean (clustering)")
SdpiDOpt = typer.Option(1024, "--d", help="dimension d >= 1")
Sigma2Opt = typer.Option(None, "--sigma2",
                         help="gaussian noise variance > 0 (default sqrt(d): learnable from O(1) samples)")
ROpt = typer.Option(None, "--r", help="boolean: coordinate correlation in (0, 1] (default d^(-1/4))")
SdpiNOpt = typer.Option("1,4,16,64", "--n", help="training-set sizes (integers >= 1): a,b,c or start:stop:num")
ErrorOpt = typer.Option(0.25, "--error", help="classification error of the learner, in [0, 1/2]")


@sdpi_app.command()
@user_errors
def bound(ctx: typer.Context, instance: str = InstanceOpt, d: int = SdpiDOpt, sigma2: float = Sigma2Opt, r: float = ROpt,
          n: str = SdpiNOpt, error: float = ErrorOpt, fmt: Format = FormatOpt, out: str = OutOpt):
    """Lower bound (1 - tau)/rho * (1 - h2(error)) and the matching algorithm's memorization, per n."""
    from raflab.bounds.theory import check_sdpi_params, default_noise, sample_sizes, sdpi_bound

    check_out_path(out)
    check_sdpi_params(error=error)
    reject_unused(ctx, ("r",) if instance == "gaussian" else ("sigma2",) if instance == "boolean" else (),
                  f"to --instance {instance} ({'--sigma2' if instance == 'gaussian' else '--r'} is its noise)")
    noise = default_noise(instance, d, sigma2, r)
    df = sdpi_bound(instance, d, sample_sizes(parse_range(n, "n")), error, **noise)
    if out is not None:
        from raflab.bounds.plots import plot_sdpi_tradeoff

        plot_sdpi_tradeoff(df, out=out)
        typer.echo(f"figure written to {out}", err=True)
    _emit(df, fmt, f"SDPI memorization lower bound: {instance} clustering, d={d}")


@sdpi_app.command()
@user_errors
def measure(instance: str = InstanceOpt, learner: str = typer.Option("noisy-mean,mean,ridge", "--learner",
            help="comma list of noisy-mean | mean | sign-mean | ridge | logistic | mlp"),
            d: int = typer.Option(16, "--d", help="dimension d >= 1"), sigma2: float = Sigma2Opt,
            n: str = typer.Option("1,4,16", "--n", help="training-set sizes (integers >= 1)"),
            reps: int = typer.Option(1000, "--reps", help="repeated trainings per theta (> released dimension + 1)"),
            thetas: int = typer.Option(1, "--thetas", help="independent thetas averaged over"),
            noise: float = typer.Option(0.5, "--noise", help="output noise sd relative to the weights' RMS coordinate"),
            quantum: float = typer.Option(0.25, "--quantum", help="grid step of the quantized mean (relative)"),
            lam: float = typer.Option(1.0, "--lam", help="ridge penalty / inverse logistic C"),
            seed: int = SeedOpt, device: str = device_option("where the mlp learner trains (the others run on the cpu)"),
            fmt: Format = FormatOpt, out: str = OutOpt):
    """Measured I(A(X_1..n); X_1..n | theta) and error of each learner, beside the lower bound at that error."""
    from raflab.bounds.mechanisms import bound_at_median_error, check_learner, memorization_table
    from raflab.bounds.theory import default_noise, sample_sizes

    check_out_path(out)
    noise_params = default_noise(instance, d, sigma2, None)  # an unknown instance fails here with its own message
    if instance != "gaussian":
        raise ValueError(f"measure supports the gaussian instance only (got {instance!r})")
    learners = [check_learner(x.strip()) for x in learner.split(",")]
    sizes = sample_sizes(parse_range(n, "n"))
    df = memorization_table(learners, d, sizes, noise_params["sigma2"], reps=reps, thetas=thetas, noise=noise,
                            quantum=quantum, lam=lam, seed=seed, device=device, progress=True)
    if out is not None:
        from raflab.bounds.plots import plot_sdpi_tradeoff

        plot_sdpi_tradeoff(bound_at_median_error(df, d, sizes, noise_params["sigma2"]), df, out=out)
        typer.echo(f"figure written to {out}", err=True)
    _emit(df, fmt, f"measured memorization: gaussian clustering, d={d}")


@sdpi_app.command()
@user_errors
def raf(ctx: typer.Context, model: str = ModelOpt, kappa: str = KappaOpt, activation: str = ActivationOpt, kernel: str = KernelOpt,
        eps: str = typer.Option("0.1,0.5,1", "--eps", help="fact fractions in [0, 1]"), fmt: Format = FormatOpt):
    """Fact bits stored per parameter at the RAF storage capacity, beside Gardner's 2 bits per weight."""
    from raflab.bounds.theory import check_capacity_model, raf_fact_bits_table
    from raflab.raf.options import check_model_options

    check_capacity_model(model)
    check_model_options(ctx, model)
    options = _model_options(model, kappa, activation, kernel)
    priors = [(k, _prior(options, k)) for k in options.get("kappa", [None])]
    _emit(raf_fact_bits_table(priors, parse_range(eps, "eps")), fmt, f"fact bits per parameter at capacity: {model}")

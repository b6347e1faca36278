"""``raflab sdpi bound|measure|raf``: memorization lower bounds from strong data-processing inequalities.

``bound``: the SDPI lower bound on excess memorization (bits) and the matching simple algorithm;
``measure``: memorization of real learners by repeated training with theta fixed; ``attack``: Brown et
al.'s singleton recovery against those learners, beside the success the bound guarantees; ``raf``: fact bits
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

InstanceOpt = typer.Option("gaussian", "--instance",
                           help="gaussian | boolean (clustering) | sparse (hypercube) | mixture")
SdpiDOpt = typer.Option(1024, "--d", help="dimension d >= 1")
Sigma2Opt = typer.Option(None, "--sigma2",
                         help="gaussian noise variance > 0 (default sqrt(d): learnable from O(1) samples)")
ROpt = typer.Option(None, "--r", help="boolean: coordinate correlation in (0, 1] (default d^(-1/4))")
POpt = typer.Option(None, "--p", help="sparse: probability an example shows a coordinate, in (0, 1] (default d^(-1/2))")
BaseOpt = typer.Option("boolean", "--base",
                       help="mixture: the problem inside each cluster, gaussian | boolean | sparse")
ClustersOpt = typer.Option(None, "--clusters", help="mixture: number of equally likely clusters >= 1 (default 8)")
SdpiNOpt = typer.Option("1,4,16,64", "--n", help="training-set sizes (integers >= 1): a,b,c or start:stop:num")
ErrorOpt = typer.Option(0.25, "--error", help="classification error of the learner, in [0, 1/2]")
NOISE_OPTION = {"gaussian": "sigma2", "boolean": "r", "sparse": "p"}


def _problem_options(ctx, instance: str, base: str, d: int, sigma2, r, p, clusters) -> tuple[str, dict, int]:
    """(the base problem, its noise parameter, the number of clusters), checked; one error line for an
    option that does not apply to ``instance`` (and ``base``)."""
    from raflab.bounds.theory import check_sdpi_params, default_noise

    check_sdpi_params(instance=instance)
    problem = base if instance == "mixture" else instance
    check_sdpi_params(base=problem)
    unused = [o for o in ("sigma2", "r", "p") if o != NOISE_OPTION[problem]]
    if instance != "mixture":
        unused += ["clusters", "base"]
    reject_unused(ctx, unused, f"to --instance {instance}" + (f" --base {base}" if instance == "mixture" else ""))
    clusters = 8 if clusters is None else clusters
    check_sdpi_params(clusters=clusters)
    return problem, default_noise(problem, d, sigma2, r, p), clusters


@sdpi_app.command()
@user_errors
def bound(ctx: typer.Context, instance: str = InstanceOpt, d: int = SdpiDOpt, sigma2: float = Sigma2Opt,
          r: float = ROpt, p: float = POpt, base: str = BaseOpt, clusters: int = ClustersOpt,
          n: str = SdpiNOpt, error: float = ErrorOpt, fmt: Format = FormatOpt, out: str = OutOpt):
    """Lower bound (1 - tau)/rho * (1 - h2(error)) and the matching algorithm's memorization, per n
    (a mixture: the least memorization over how the error is spread over clusters)."""
    from raflab.bounds.mixture import mixture_bound
    from raflab.bounds.theory import check_sdpi_params, sample_sizes, sdpi_bound

    check_out_path(out)
    check_sdpi_params(error=error)
    problem, noise, clusters = _problem_options(ctx, instance, base, d, sigma2, r, p, clusters)
    sizes = sample_sizes(parse_range(n, "n"))
    if instance == "mixture":
        if out is not None:
            raise ValueError("--out draws the base problems' figure; a mixture's bound has none")
        df = mixture_bound(problem, d, sizes, clusters, error, **noise)
    else:
        df = sdpi_bound(instance, d, sizes, error, **noise)
    if out is not None:
        from raflab.bounds.plots import plot_sdpi_tradeoff

        plot_sdpi_tradeoff(df, out=out)
        typer.echo(f"figure written to {out}", err=True)
    title = f"mixture of {problem} clusters" if instance == "mixture" else instance
    _emit(df, fmt, f"SDPI memorization lower bound: {title}, d={d}")


@sdpi_app.command()
@user_errors
def measure(ctx: typer.Context, instance: str = InstanceOpt,
            learner: str = typer.Option("noisy-mean,mean,ridge", "--learner", help="comma list of noisy-mean | mean | sign-mean | ridge | logistic | mlp"),
            d: int = typer.Option(16, "--d", help="dimension d >= 1"), sigma2: float = Sigma2Opt, r: float = ROpt,
            p: float = POpt, base: str = BaseOpt, clusters: int = ClustersOpt,
            n: str = typer.Option("1,4,16", "--n", help="training-set sizes (integers >= 1)"),
            reps: int = typer.Option(1000, "--reps", help="repeated trainings per theta (> released dimension + 1)"),
            thetas: int = typer.Option(1, "--thetas", help="independent thetas averaged over"),
            noise: float = typer.Option(0.5, "--noise", help="output noise sd relative to the weights' RMS coordinate"),
            quantum: float = typer.Option(0.25, "--quantum",
                                          help="grid step of the quantized mean (relative; gaussian)"),
            lam: float = typer.Option(1.0, "--lam", help="ridge penalty / inverse logistic C"),
            test_size: int = typer.Option(512, "--test-size", help="fresh examples for errors measured by sampling"),
            seed: int = SeedOpt,
            device: str = device_option("where the mlp learner trains (the others run on the cpu)"),
            fmt: Format = FormatOpt, out: str = OutOpt):
    """Measured I(A(X_1..n); X_1..n | theta) and error of each learner, beside the lower bound at that error."""
    from raflab.bounds.mechanisms import bound_at_median_error, check_learner, memorization_table
    from raflab.bounds.theory import sample_sizes

    check_out_path(out)
    problem, noise_params, clusters = _problem_options(ctx, instance, base, d, sigma2, r, p, clusters)
    if test_size < 1:
        raise ValueError(f"test-size must be >= 1 (got {test_size})")
    learners = [check_learner(x.strip()) for x in learner.split(",")]
    sizes = sample_sizes(parse_range(n, "n"))
    if out is not None and instance == "mixture":
        raise ValueError("--out draws the base problems' figure; use it without --instance mixture")
    df = memorization_table(learners, d, sizes, reps=reps, thetas=thetas, noise=noise, quantum=quantum, lam=lam,
                            seed=seed, device=device, progress=True, instance=instance, base=problem,
                            clusters=clusters, test_size=test_size, **noise_params)
    if out is not None:
        from raflab.bounds.plots import plot_sdpi_tradeoff

        plot_sdpi_tradeoff(bound_at_median_error(df, d, sizes, **noise_params), df, out=out)
        typer.echo(f"figure written to {out}", err=True)
    title = f"{problem} clusters (k={clusters})" if instance == "mixture" else instance
    _emit(df, fmt, f"measured memorization: {title}, d={d}")


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


@sdpi_app.command()
@user_errors
def attack(learner: str = typer.Option("noisy-mean,sign-mean,ridge,logistic", "--learner",
           help="comma list of noisy-mean | mean | sign-mean | ridge | logistic | mlp"),
           d: int = typer.Option(64, "--d", help="dimension d >= 1"), r: float = ROpt,
           n: int = typer.Option(32, "--n", help="training-set size (integer >= 1)"),
           clusters: int = typer.Option(32, "--clusters", help="equally likely Boolean clusters (>= 1)"),
           seeds: int = typer.Option(5, "--seeds", help="seeds (theta and cluster counts) for the 95% interval, >= 2"),
           reps: int = typer.Option(100, "--reps", help="trainings per singleton cluster and seed"),
           noise: float = typer.Option(0.5, "--noise", help="output noise sd relative to the weights' RMS coordinate"),
           lam: float = typer.Option(1.0, "--lam", help="ridge penalty / inverse logistic C"),
           device: str = device_option("where the mlp learner trains (the others run on the cpu)"),
           fmt: Format = FormatOpt):
    """Singleton recovery (Brown et al.): the fraction of a once-seen cluster's example bits read off the
    trained model, with its 95% interval over seeds, beside the floor the SDPI bound guarantees."""
    from raflab.bounds.attack import attack_table
    from raflab.bounds.mechanisms import check_learner

    learners = [check_learner(x.strip()) for x in learner.split(",")]
    if not noise > 0:
        raise ValueError(f"noise must be > 0 (got {noise})")
    df = attack_table(learners, d, n, clusters, seeds=seeds, r=r, reps=reps, noise=noise, lam=lam, device=device,
                      progress=True)
    _emit(df, fmt, f"singleton recovery: {clusters} Boolean clusters, d={d}, n={n}")

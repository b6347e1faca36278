"""The RAF commands of ``raflab`` (theory, simulate, compare, capacity, phase, optimal-lam, rates,
figures, realdata): a thin layer that parses, calls :mod:`raflab.raf` and prints records. The root
command mounts them at its top level (``raflab theory ...``)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import typer

from raflab.core.cli import (
    Format,
    FormatOpt,
    OutOpt,
    SeedOpt,
    SeedsOpt,
    _emit,
    check_out_dir,
    check_out_path,
    reject_unused,
    user_errors,
)
from raflab.core.ranges import MAX_POINTS, parse_range
from raflab.raf.options import (
    ActivationOpt,
    AlphaOpt,
    DeviceOpt,
    DOpt,
    EpsOpt,
    FactCountOpt,
    KappaOpt,
    KernelOpt,
    LamOpt,
    LossOpt,
    ModelOpt,
    _describe,
    _grid,
    _model_options,
    _prior,
    check_model_options,
)

raf_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@raf_app.command()
@user_errors
def theory(ctx: typer.Context, model: str = ModelOpt, loss: str = LossOpt, alpha: str = AlphaOpt, eps: str = EpsOpt,
           lam: str = LamOpt, kappa: str = KappaOpt, activation: str = ActivationOpt, kernel: str = KernelOpt,
           tol: float = typer.Option(1e-10, help="fixed-point tolerance"), format: Format = FormatOpt):
    """Exact asymptotic errors (d -> infinity) of the RAF model over a grid."""
    check_model_options(ctx, model)
    from raflab.raf.theory import erm_theory

    options = _model_options(model, kappa, activation, kernel)
    df = erm_theory(loss, *_grid(alpha, eps, lam), tol=tol, **options)
    _emit(df, format, f"RAF theory: {_describe(options, loss)}")


@raf_app.command()
@user_errors
def simulate(ctx: typer.Context, model: str = ModelOpt, loss: str = LossOpt, alpha: str = AlphaOpt, eps: str = EpsOpt,
             lam: str = LamOpt, kappa: str = KappaOpt, activation: str = ActivationOpt, kernel: str = KernelOpt,
             d: int = DOpt, seeds: int = SeedsOpt, seed: int = SeedOpt,
             fact_count: str = FactCountOpt, device: str = DeviceOpt, format: Format = FormatOpt):
    """Finite-size fits on RAF data: mean and standard error over seeds."""
    check_model_options(ctx, model)
    from raflab.raf.experiments.simulate import simulate_erm

    options = _model_options(model, kappa, activation, kernel)
    df = simulate_erm(loss, *_grid(alpha, eps, lam), d=d, seeds=seeds, seed=seed, fact_count=fact_count,
                      device=device, progress=sys.stderr.isatty(), **options)
    _emit(df, format, f"RAF simulation: {_describe(options, loss)}, d={d}")


@raf_app.command()
@user_errors
def compare(ctx: typer.Context, model: str = ModelOpt, loss: str = LossOpt, alpha: str = AlphaOpt, eps: str = EpsOpt,
            lam: str = LamOpt, kappa: str = KappaOpt, activation: str = ActivationOpt, kernel: str = KernelOpt,
            d: int = DOpt, seeds: int = SeedsOpt, seed: int = SeedOpt, fact_count: str = FactCountOpt,
            device: str = DeviceOpt, format: Format = FormatOpt, out: Path = OutOpt,
            theory_points: int = typer.Option(80, help="alpha points of the theory lines in the figure")):
    """Theory and simulation side by side: joined records, and a figure with --out."""
    check_model_options(ctx, model)
    check_out_path(out)
    if not 2 <= theory_points <= MAX_POINTS:
        raise ValueError(f"theory-points must be >= 2 and <= {MAX_POINTS:,} (got {theory_points})")
    if out is None:
        reject_unused(ctx, ("theory_points",), "without --out (it sets the figure's theory lines)")
    import numpy as np

    from raflab.raf.experiments.compare import join_theory_simulation
    from raflab.raf.experiments.simulate import simulate_erm
    from raflab.raf.theory import erm_theory

    options = _model_options(model, kappa, activation, kernel)
    alphas, epss, lams = _grid(alpha, eps, lam)
    sim = simulate_erm(loss, alphas, epss, lams, d=d, seeds=seeds, seed=seed, fact_count=fact_count,
                       device=device, progress=sys.stderr.isatty(), **options)
    at_points = erm_theory(loss, alphas, epss, lams, **options)
    _emit(join_theory_simulation(at_points, sim), format,
          f"RAF theory vs simulation: {_describe(options, loss)}, d={d}")
    if out is not None:
        from raflab.raf.plots import plot_raf_errors

        lo, hi = float(alphas.min()), float(alphas.max())
        line_alphas = np.union1d(np.linspace(lo, hi, theory_points), alphas) if hi > lo else alphas
        lines = erm_theory(loss, line_alphas, epss, lams, **options)
        plot_raf_errors(lines, sim, out, title="RAF, Bayes-optimal learner (no loss, no λ)" if model == "bayes"
                        else f"RAF, {_describe(options)} learner, {loss} loss",
                        errors=["gen_error"] if model == "bayes" else None)  # bayes: no train / fact errors
        typer.echo(f"figure written to {out}", err=True)


@raf_app.command()
@user_errors
def capacity(ctx: typer.Context, model: str = ModelOpt, kappa: str = KappaOpt, activation: str = ActivationOpt,
             kernel: str = KernelOpt, eps: str = typer.Option("1", "--eps", help="fact fractions: start:stop:num or a,b,c"),
             alpha: str = typer.Option(None, "--alpha", help="also: the largest eps whose facts are all stored at these alpha"),
             format: Format = FormatOpt):
    """Storage capacity of hinge ERM with lam -> 0+: the largest alpha (and eps) storing every fact."""
    import pandas as pd

    from raflab.raf.theory.capacity import capacity_alpha, capacity_eps

    if model == "bayes":
        raise ValueError("--model bayes has no storage capacity (it is hinge ERM's); choose linear, rf or kernel")
    check_model_options(ctx, model)
    options = _model_options(model, kappa, activation, kernel)
    epss = parse_range(eps, "eps")
    alphas = parse_range(alpha, "alpha") if alpha is not None else np.empty(0)
    rows = []
    for k in options.get("kappa", [None]):
        prior = _prior(options, k)
        head = {"model": model, **({"kappa": k} if k is not None else {}),
                "learner": _describe({**options, "kappa": [k]} if k is not None else options)}
        for e in epss:
            a_c, c = capacity_alpha(prior, float(e))
            rows.append({**head, "solved_for": "alpha", "eps": e, "alpha": a_c, "teacher_correlation": c})
        for a in alphas:
            rows.append({**head, "solved_for": "eps", "eps": capacity_eps(prior, float(a)), "alpha": a})
    _emit(pd.DataFrame(rows), format, f"storage capacity (hinge, lam -> 0+): {_describe(options)}")


@raf_app.command()
@user_errors
def phase(ctx: typer.Context, model: str = ModelOpt, loss: str = typer.Option("hinge", "--loss", help="square | hinge | logistic"),
          kappa: str = KappaOpt, activation: str = ActivationOpt, kernel: str = KernelOpt,
          x: str = typer.Option("alpha", "--x", help="horizontal axis: alpha | eps | lam | kappa"),
          y: str = typer.Option("eps", "--y", help="vertical axis: alpha | eps | lam | kappa"),
          alpha: str = typer.Option("0.25:8:32", "--alpha", help="n/d values"),
          eps: str = typer.Option("0:1:21", "--eps", help="fact fractions"),
          lam: str = typer.Option("0.001", "--lam", help="ridge penalties"),
          gen_margin: float = typer.Option(0.02, help="rule learned: gen error <= its eps=0 value + this"),
          fact_threshold: float = typer.Option(0.01, help="facts memorized: fact memorization error <= this"),
          check_d: int = typer.Option(0, "--check-d", help="simulation spot checks at this d (0: none)"),
          check_seeds: int = typer.Option(2, "--check-seeds", help="seeds per spot check"),
          check_grid: int = typer.Option(3, "--check-grid", help="spot checks on an N x N sub-grid"),
          seed: int = SeedOpt, format: Format = FormatOpt, out: Path = OutOpt):
    """Phase diagram from theory: where the rule is learned AND the facts are memorized."""
    if model == "bayes":
        raise ValueError("phase needs a learner that memorizes facts; --model bayes has no fact errors "
                         "(choose linear, rf or kernel)")
    check_model_options(ctx, model)
    check_out_path(out)
    for name, value, low in (("check-d", check_d, 0), ("check-seeds", check_seeds, 1), ("check-grid", check_grid, 1)):
        if value < low:
            raise ValueError(f"{name} must be >= {low} (got {value})")
    if check_grid > 1000:
        raise ValueError(f"check-grid must be <= 1000 (got {check_grid}: {check_grid}^2 spot checks)")
    if check_d == 1:
        raise ValueError("check-d must be 0 (no spot checks) or >= 2 (got 1)")
    if check_d == 0:
        reject_unused(ctx, ("check_seeds", "check_grid"), "without --check-d (no spot checks are made)")
    from raflab.raf.experiments.phase import PLANE_AXES, phase_diagram, phase_spot_checks, spot_check_points

    for name, axis in (("--x", x), ("--y", y)):
        if axis not in PLANE_AXES or (axis == "kappa" and model != "rf"):
            raise ValueError(f"{name} must be one of alpha, eps, lam{', kappa' if model == 'rf' else ''} (got {axis!r})")
    if x == y:
        raise ValueError("--x and --y must differ")
    options = _model_options(model, kappa, activation, kernel)
    grid = {"alpha": parse_range(alpha, "alpha"), "eps": parse_range(eps, "eps"), "lam": parse_range(lam, "lam")}
    if model == "rf":
        grid["kappa"] = options.pop("kappa")
    for axis, values in grid.items():
        if axis not in (x, y) and values.size > 1:
            raise ValueError(f"--{axis} must be a single value when it is not an axis of the plane (got {values.size})")
    from raflab.core.progress import rows_progress

    with rows_progress(f"phase diagram: theory on {np.prod([v.size for v in grid.values()])} points", None,
                       unit="points"):
        df = phase_diagram(loss, grid, model_options=options, gen_margin=gen_margin, fact_threshold=fact_threshold)
    checks = None
    if check_d > 0:
        checks = phase_spot_checks(loss, spot_check_points(df, x, y, check_grid), model_options=options,
                                   d=check_d, seeds=check_seeds, seed=seed, gen_margin=gen_margin,
                                   fact_threshold=fact_threshold, progress=True)
    _emit(df if checks is None else pd_concat_checks(df, checks), format,
          f"RAF phase diagram: {_describe({**options, 'kappa': grid.get('kappa', [])} if model == 'rf' else options, loss)}",
          main=[x, y, "source", "rule_and_facts", "rule_learned", "facts_memorized", "gen_error",
                "fact_memorization_error"])
    if out is not None:
        from raflab.raf.plots import plot_phase_diagram

        cap = _capacity_line(options, grid, x, y) if (loss == "hinge" and np.all(grid["lam"] == 0)) else None
        plot_phase_diagram(df, x, y, checks=checks, capacity=cap, out=out,
                           title=f"{_describe({**options, 'kappa': grid.get('kappa', [])} if model == 'rf' else options, loss)}, "
                                 + ", ".join(f"{k}={v[0]:g}" for k, v in grid.items() if k not in (x, y, "kappa")))
        typer.echo(f"figure written to {out}", err=True)


def pd_concat_checks(df, checks):
    """Theory rows and spot-check rows in one table, told apart by ``source``."""
    import pandas as pd

    return pd.concat([df.assign(source="theory"), checks.assign(source=f"fits d={int(checks['d'].iloc[0])}")],
                     ignore_index=True)


def _capacity_line(options: dict, grid: dict, x: str, y: str):
    """alpha_c(eps) over the plane's eps values, when the plane is (alpha, eps)."""
    import pandas as pd

    from raflab.raf.theory.capacity import capacity_alpha

    if {x, y} != {"alpha", "eps"}:
        return None
    prior = _prior(options, grid["kappa"][0] if "kappa" in grid else None)
    cap = pd.DataFrame([{"eps": e, "alpha": capacity_alpha(prior, float(e))[0]} for e in grid["eps"]])
    return cap[np.isfinite(cap["alpha"])]


@raf_app.command("optimal-lam")
@user_errors
def optimal_lam(ctx: typer.Context, model: str = ModelOpt, loss: str = LossOpt, alpha: str = AlphaOpt,
                eps: str = typer.Option("0,0.1,0.3", "--eps", help="fact fractions"),
                kappa: str = KappaOpt, activation: str = ActivationOpt, kernel: str = KernelOpt,
                lam_min: float = typer.Option(1e-4, help="smallest lam scanned (> 0)"),
                lam_max: float = typer.Option(1e2, help="largest lam scanned"),
                pareto_points: int = typer.Option(60, help="lam values of each Pareto curve in the figure"),
                format: Format = FormatOpt, out: Path = OutOpt):
    """The lam minimizing the generalization error, and the (gen, fact) Pareto front traced by lam."""
    if model == "bayes":
        raise ValueError("--model bayes has no lam to optimize; choose linear, rf or kernel "
                         "(theory --model bayes gives its errors)")
    check_model_options(ctx, model)
    check_out_path(out)
    if not 2 <= pareto_points <= MAX_POINTS:
        raise ValueError(f"pareto-points must be >= 2 and <= {MAX_POINTS:,} (got {pareto_points})")
    if out is None:
        reject_unused(ctx, ("pareto_points",), "without --out (it sets the Pareto figure's curves)")
    import pandas as pd

    from raflab.raf.experiments.regularization import optimal_lambda, pareto_front

    options = _model_options(model, kappa, activation, kernel)
    alphas, epss = parse_range(alpha, "alpha"), parse_range(eps, "eps")
    if out is not None and (alphas.size != 1 or (model == "rf" and len(options["kappa"]) != 1)):
        raise ValueError("the Pareto figure (--out) needs a single --alpha (and --kappa)")
    best = optimal_lambda(loss, alphas, epss, model_options=options, lam_min=lam_min, lam_max=lam_max, progress=True)
    _emit(best, format, f"generalization-optimal lam: {_describe(options, loss)}")
    if out is not None:
        from raflab.raf.plots import plot_pareto_front

        lams = np.concatenate([[0.0], np.geomspace(lam_min, lam_max, pareto_points)])
        fronts = pd.concat([pareto_front(loss, alphas[0], e, lams, model_options=options) for e in epss],
                           ignore_index=True)
        plot_pareto_front(fronts, best, out=out,
                          title=f"{_describe(options, loss)}, α={alphas[0]:g}: what λ trades")
        typer.echo(f"figure written to {out}", err=True)


@raf_app.command()
@user_errors
def rates(ctx: typer.Context, model: str = ModelOpt, loss: str = LossOpt,
          eps: str = typer.Option("0,0.2", "--eps", help="fact fractions"),
          lam: str = typer.Option("0.1", "--lam", help="ridge penalties (ignored by bayes)"),
          kappa: str = KappaOpt, activation: str = ActivationOpt, kernel: str = KernelOpt,
          window: str = typer.Option("100:10000", "--window", help="alpha_min:alpha_max of the fit"),
          points: int = typer.Option(12, "--points", help="log-spaced alpha in the window"),
          format: Format = FormatOpt, out: Path = OutOpt):
    """Exponent of the generalization error at large alpha (eg ~ C alpha^-b), beside known values."""
    check_model_options(ctx, model)
    check_out_path(out)
    if points > MAX_POINTS:
        raise ValueError(f"points must be <= {MAX_POINTS:,} (got {points})")
    from raflab.raf.theory.rates import learning_rates

    options = _model_options(model, kappa, activation, kernel)
    if model == "rf" and len(options["kappa"]) != 1:
        raise ValueError("rates takes a single --kappa")
    if model == "rf":
        options["kappa"] = float(options["kappa"][0])
    bounds = window.split(":")
    try:
        alpha_min, alpha_max = (float(b) for b in bounds)
    except ValueError:
        raise ValueError(f"malformed --window {window!r} (use alpha_min:alpha_max, e.g. 100:10000)") from None
    fits = learning_rates(loss, parse_range(eps, "eps"), parse_range(lam, "lam"), alpha_min=alpha_min,
                          alpha_max=alpha_max, points=points, model_options=options)
    what = _describe(options, None if model == "bayes" else loss)
    _emit(fits, format, f"large-alpha rates: {what}")
    if out is not None:
        from raflab.raf.plots import plot_rates
        from raflab.raf.theory import erm_theory

        curves = erm_theory(loss, np.geomspace(alpha_min / 10, alpha_max, 60), parse_range(eps, "eps"),
                            parse_range(lam, "lam"), **options)
        plot_rates(curves, fits, out=out, title=what)
        typer.echo(f"figure written to {out}", err=True)


@raf_app.command()
@user_errors
def figures(out: Path = typer.Option(Path("results/figures/raf"), "--out",
                                     help="folder for the figures (docs/figures/raf: the documentation's own)"),
            theory_only: bool = typer.Option(False, "--theory-only", help="skip fits and real data (seconds)"),
            d: int = typer.Option(200, "--d", help="dimension of the fits"), seeds: int = SeedsOpt,
            seed: int = SeedOpt, data: str = typer.Option("digits", "--data", help="real-data figure's data set"),
            data_dir: str = typer.Option(None, "--data-dir", help="folder with mnist / cifar10 files"),
            format: Format = FormatOpt):
    """Every RAF figure (errors per loss, RF, phase, Pareto, Bayes vs optimal lam, rates, real data)."""
    from raflab.raf.experiments.gallery import GallerySettings, make_gallery

    settings = GallerySettings(d=d, seeds=seeds, seed=seed, theory_only=theory_only, data=data,
                               data_dir=data_dir)  # checks d and seeds
    check_out_dir(out)
    _emit(make_gallery(out, settings), format, f"RAF figures in {out}")


def _classes(text: str, name: str) -> tuple[int, ...]:
    """``'3,5'`` -> (3, 5); one line naming the option otherwise."""
    try:
        return tuple(int(c) for c in str(text).split(","))
    except ValueError:
        raise ValueError(f"{name} must be class labels (integers) separated by commas (got {text!r})") from None


@user_errors
def realdata(data: str = typer.Option("digits", "--data", help="digits | mnist | fashion-mnist | cifar10"),
             rule: str = typer.Option(None, "--rule", help="the two rule classes: first -> +1, second -> -1 "
                                                           "[default: 3,5; cifar10: cat,dog = 3,5]"),
             facts: str = typer.Option(None, "--facts", help="fact classes (random ±1 labels), e.g. 1 or 1,7 "
                                                             "[default: 1; cifar10: automobile = 1]"),
             alpha: str = AlphaOpt, eps: str = typer.Option("0.2", "--eps", help="fraction of facts in [0,1]"),
             lam: str = typer.Option("0.0001,0.001,0.01,0.1,1,10,100", "--lam",
                                     help="ridge penalties >= 0 (one eigendecomposition serves them all)"),
             kernel: str = typer.Option("rbf,linear", "--kernel",
                                        help="learners: rbf (RBF kernel) and/or linear (pixels)"),
             eta: str = typer.Option("median", "--eta", help="RBF bandwidths, K = exp(-eta |x-x'|^2 / d): median "
                                                             "(the median heuristic) and/or values > 0: "
                                                             "start:stop:num or a,b,c (e.g. median,0.1,1)"),
             front: bool = typer.Option(False, "--front", help="print only the (gen, memorization) front of "
                                                                "each learner over eta x lam"),
             loss: str = LossOpt, seeds: int = SeedsOpt, seed: int = SeedOpt,
             data_dir: Path = typer.Option(None, "--data-dir", help="folder with the mnist / cifar10 files "
                                                                    "(never downloaded)"),
             fact_count: str = FactCountOpt,
             test_fraction: float = typer.Option(0.3, help="digits: fraction of each rule class held out"),
             max_test: int = typer.Option(None, help="use at most this many test images per seed"),
             format: Format = FormatOpt, out: Path = OutOpt):
    """Rules and facts on real images: gen error and fact memorization over RBF bandwidth x lam, vs linear."""
    from raflab.raf.experiments.realdata import DEFAULT_CLASSES, realdata_experiment, realdata_front

    check_out_path(out)
    rule_classes = None if rule is None else _classes(rule, "--rule")
    fact_classes = None if facts is None else _classes(facts, "--facts")
    kernels = tuple(k.strip() for k in kernel.split(","))
    parts = [p.strip() for p in eta.split(",")]
    numbers = [p for p in parts if p != "median"]
    etas = ("median",) * ("median" in parts) + tuple(float(v) for v in (parse_range(",".join(numbers), "eta")
                                                                        if numbers else ()))
    df = realdata_front(realdata_experiment(
        data, rule_classes, fact_classes, parse_range(alpha, "alpha"), parse_range(eps, "eps"),
        parse_range(lam, "lam"), kernel=kernels, eta=etas, loss=loss, seeds=seeds, seed=seed, data_dir=data_dir,
        fact_count=fact_count, test_fraction=test_fraction, max_test=max_test, progress=True))
    default = DEFAULT_CLASSES.get(data, ((), ()))
    rule_text = rule or ",".join(map(str, default[0]))
    facts_text = facts or ",".join(map(str, default[1]))
    title = f"rules and facts on {data}: rule {rule_text}, facts {facts_text}, {loss} loss"
    _emit(df[df["on_front"]] if front else df, format, title,
          main=["kernel", "bandwidth", "lam", "gen_error", "fact_memorization_error", "on_front"])
    if out is not None:
        from raflab.raf.plots import plot_realdata, plot_realdata_front

        several = df.loc[df["kernel"] == "rbf", "bandwidth"].nunique() > 1
        (plot_realdata_front if several else plot_realdata)(df, out=out, title=title)
        typer.echo(f"figure written to {out}", err=True)


raf_app.command("realdata")(realdata)


@raf_app.command()
@user_errors
def geometry(alpha: float = typer.Option(2.0, "--alpha", help="n/d"),
             eps: float = typer.Option(0.2, "--eps", help="fraction of facts in [0, 1)"),
             lam: float = typer.Option(0.01, "--lam", help="ridge penalty >= 0 (0: lam -> 0+)"),
             mu1: str = typer.Option("0.1:2:20", "--mu1", help="rule part sqrt(k'(0)): start:stop:num or a,b,c (> 0)"),
             mu_star: str = typer.Option("0:2.2:23", "--mu-star", help="fact part sqrt(k(1)-k(0)-k'(0)) (>= 0)"),
             loss: str = typer.Option("square,hinge", "--loss", help="losses: square (kernel ridge), hinge, logistic"),
             kernels: str = typer.Option(";".join(("linear", "arccos", "activation:sign", "polynomial:degree=2",
                                                   "polynomial:degree=3", "rbf:gamma=0.1", "rbf:gamma=0.5",
                                                   "rbf:gamma=1", "rbf:gamma=2")),
                                         "--kernels", help="kernels marked on the plane, separated by ';'"),
             plane: bool = typer.Option(False, "--plane", help="print every plane point, not only the kernels"),
             format: Format = FormatOpt, out: Path = OutOpt):
    """Kernel geometry: errors of kernel ridge / hinge over the (mu1, mu_star) plane, kernels marked."""
    from raflab.raf.experiments.geometry import kernel_geometry

    check_out_path(out)
    losses = tuple(part.strip() for part in loss.split(","))
    names = tuple(part.strip() for part in kernels.split(";") if part.strip())
    df = kernel_geometry(alpha, eps, lam, parse_range(mu1, "mu1"), parse_range(mu_star, "mu-star"),
                         losses=losses, kernels=names)
    title = f"kernel geometry: α={alpha:g}, ε={eps:g}, λ={lam:g}"
    _emit(df if plane else df[df["where"] == "kernel"], format, title,
          main=["kernel", "loss", "mu1", "mu_star", "gen_error", "fact_memorization_error", "ridge_optimal_lam",
                "ridge_optimal_gen_error", "ridge_optimal_fact_memorization_error"])
    if out is not None:
        from raflab.raf.plots import plot_kernel_geometry

        plot_kernel_geometry(df, out=out, title=title)
        typer.echo(f"figure written to {out}", err=True)

"""The ``raflab`` command: a thin layer that parses, calls the Python API and prints records.

Every failure the user can cause (a bad range, eps outside [0, 1], an unknown loss, data that are
not separable) ends in one line on stderr and exit code 2; a fixed point that did not converge is
printed as ``warning: ...`` and flagged in the records (converged=False).
"""

from __future__ import annotations

import functools
import sys
import warnings
from enum import Enum
from pathlib import Path

import typer
from pydantic import ValidationError

from raflab.config import describe_validation_error
from raflab.ranges import parse_range

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="raflab: rules and facts — exact high-dimensional theory beside finite-size experiments.",
)


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def user_errors(fn):
    """Turn the errors a user can cause into one line and exit 2; print warnings as one line."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from raflab.theory.fixed_point import ConvergenceWarning

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            try:
                result = fn(*args, **kwargs)
            except ValidationError as exc:
                _fail(describe_validation_error(exc))
            except ValueError as exc:  # includes NotSeparableError
                _fail(str(exc))
            finally:
                for w in caught:
                    if issubclass(w.category, ConvergenceWarning):
                        typer.echo(f"warning: {w.message}", err=True)
        return result

    return wrapper


# Options shared by the RAF commands: one definition each, so every command reads the same way.
ModelOpt = typer.Option("linear", "--model", help="learner: linear")
LossOpt = typer.Option("square", "--loss", help="square | hinge | logistic")
AlphaOpt = typer.Option("2", "--alpha", help="n/d: start:stop:num or a,b,c")
EpsOpt = typer.Option("0", "--eps", help="fraction of facts in [0,1]: start:stop:num or a,b,c")
LamOpt = typer.Option("0.1", "--lam", help="ridge penalty >= 0 (0: the lam->0+ limit): start:stop:num or a,b,c")
FormatOpt = typer.Option(Format.table, "--format", help="output records as table | json | csv")
DOpt = typer.Option(1000, "--d", help="input dimension of the simulation")
SeedsOpt = typer.Option(5, "--seeds", help="independent data sets per point")
SeedOpt = typer.Option(0, "--seed", help="base seed")
FactCountOpt = typer.Option("exact", "--fact-count", help="exact: round(eps n) facts | bernoulli: iid")


def _grid(alpha: str, eps: str, lam: str):
    return parse_range(alpha, "alpha"), parse_range(eps, "eps"), parse_range(lam, "lam")


def _check_model(model: str, loss: str) -> None:
    from raflab.config import check_raf_params

    check_raf_params(model=model, loss=loss)


def _emit(df, fmt: Format, title: str) -> None:
    from raflab.output import write_records

    write_records(df, fmt.value, title=title)


@app.command()
@user_errors
def theory(model: str = ModelOpt, loss: str = LossOpt, alpha: str = AlphaOpt, eps: str = EpsOpt,
           lam: str = LamOpt, tol: float = typer.Option(1e-10, help="fixed-point tolerance"),
           format: Format = FormatOpt):
    """Exact asymptotic errors (d -> infinity) of the RAF model over a grid."""
    _check_model(model, loss)
    from raflab.theory import linear_erm_theory

    df = linear_erm_theory(loss, *_grid(alpha, eps, lam), tol=tol)
    _emit(df, format, f"RAF theory: {model} {loss}")


@app.command()
@user_errors
def simulate(model: str = ModelOpt, loss: str = LossOpt, alpha: str = AlphaOpt, eps: str = EpsOpt,
             lam: str = LamOpt, d: int = DOpt, seeds: int = SeedsOpt, seed: int = SeedOpt,
             fact_count: str = FactCountOpt, format: Format = FormatOpt):
    """Finite-size fits on RAF data: mean and standard error over seeds."""
    _check_model(model, loss)
    from raflab.experiments.simulate import simulate_linear_erm

    df = simulate_linear_erm(loss, *_grid(alpha, eps, lam), d=d, seeds=seeds, seed=seed,
                             fact_count=fact_count, progress=sys.stderr.isatty())
    _emit(df, format, f"RAF simulation: {model} {loss}, d={d}")


@app.command()
@user_errors
def compare(model: str = ModelOpt, loss: str = LossOpt, alpha: str = AlphaOpt, eps: str = EpsOpt,
            lam: str = LamOpt, d: int = DOpt, seeds: int = SeedsOpt, seed: int = SeedOpt,
            fact_count: str = FactCountOpt, format: Format = FormatOpt,
            out: Path = typer.Option(None, "--out", help="write the figure here (png, pdf, svg)"),
            theory_points: int = typer.Option(80, help="alpha points of the theory lines in the figure")):
    """Theory and simulation side by side: joined records, and a figure with --out."""
    _check_model(model, loss)
    import numpy as np

    from raflab.experiments.compare import join_theory_simulation
    from raflab.experiments.simulate import simulate_linear_erm
    from raflab.theory import linear_erm_theory

    alphas, epss, lams = _grid(alpha, eps, lam)
    sim = simulate_linear_erm(loss, alphas, epss, lams, d=d, seeds=seeds, seed=seed,
                              fact_count=fact_count, progress=sys.stderr.isatty())
    at_points = linear_erm_theory(loss, alphas, epss, lams)
    _emit(join_theory_simulation(at_points, sim), format, f"RAF theory vs simulation: {model} {loss}, d={d}")
    if out is not None:
        from raflab.plots import plot_raf_errors

        lo, hi = float(alphas.min()), float(alphas.max())
        line_alphas = np.union1d(np.linspace(lo, hi, theory_points), alphas) if hi > lo else alphas
        lines = linear_erm_theory(loss, line_alphas, epss, lams)
        plot_raf_errors(lines, sim, out, title=f"RAF, {model} learner, {loss} loss")
        typer.echo(f"figure written to {out}", err=True)


def main() -> None:
    app()


if __name__ == "__main__":
    main()

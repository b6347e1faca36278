"""``raflab realdata``: rules and facts on real images, kernel vs linear learner (a thin layer over
:func:`raflab.experiments.realdata.realdata_experiment`)."""

from __future__ import annotations

from pathlib import Path

import typer

from raflab.cli_common import (AlphaOpt, FactCountOpt, Format, FormatOpt, LossOpt, OutOpt, SeedOpt, SeedsOpt,
                        _emit, check_out_path, user_errors)
from raflab.ranges import parse_range


def _classes(text: str, name: str) -> tuple[int, ...]:
    """``'3,5'`` -> (3, 5); one line naming the option otherwise."""
    try:
        return tuple(int(c) for c in str(text).split(","))
    except ValueError:
        raise ValueError(f"{name} must be class labels (integers) separated by commas (got {text!r})") from None


@user_errors
def realdata(data: str = typer.Option("digits", "--data", help="digits | mnist | fashion-mnist | cifar10"),
             rule: str = typer.Option("3,5", "--rule", help="the two rule classes: first -> +1, second -> -1"),
             facts: str = typer.Option("1", "--facts", help="fact classes (random ±1 labels), e.g. 1 or 1,7"),
             alpha: str = AlphaOpt, eps: str = typer.Option("0.2", "--eps", help="fraction of facts in [0,1]"),
             lam: str = typer.Option("0.0001,0.001,0.01,0.1,1,10,100", "--lam",
                                     help="ridge penalties >= 0 (one eigendecomposition serves them all)"),
             kernel: str = typer.Option("rbf,linear", "--kernel",
                                        help="learners: rbf (median-bandwidth RBF kernel) and/or linear (pixels)"),
             loss: str = LossOpt, seeds: int = SeedsOpt, seed: int = SeedOpt,
             data_dir: Path = typer.Option(None, "--data-dir", help="folder with the mnist / cifar10 files "
                                                                    "(never downloaded)"),
             fact_count: str = FactCountOpt,
             test_fraction: float = typer.Option(0.3, help="digits: fraction of each rule class held out"),
             max_test: int = typer.Option(None, help="use at most this many test images per seed"),
             format: Format = FormatOpt, out: Path = OutOpt):
    """Rules and facts on real images: gen error and fact memorization, RBF kernel vs linear learner."""
    from raflab.experiments.realdata import realdata_experiment

    check_out_path(out)
    rule_classes, fact_classes = _classes(rule, "--rule"), _classes(facts, "--facts")
    kernels = tuple(k.strip() for k in kernel.split(","))
    df = realdata_experiment(data, rule_classes, fact_classes, parse_range(alpha, "alpha"), parse_range(eps, "eps"),
                             parse_range(lam, "lam"), kernel=kernels, loss=loss, seeds=seeds, seed=seed,
                             data_dir=data_dir, fact_count=fact_count, test_fraction=test_fraction,
                             max_test=max_test, progress=True)
    title = f"rules and facts on {data}: rule {rule}, facts {facts}, {loss} loss"
    _emit(df, format, title)
    if out is not None:
        from raflab.plots import plot_realdata

        plot_realdata(df, out=out, title=title)
        typer.echo(f"figure written to {out}", err=True)

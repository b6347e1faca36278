"""The RAF learner options of the command line (--model, --loss, --alpha, --eps, --lam, --kappa,
--activation, --kernel) and their parsers: one definition each, read by the RAF commands and by
``raflab sdpi raf``."""

from __future__ import annotations

import typer

from raflab.core.cli import reject_unused
from raflab.core.ranges import parse_range

# The RAF library (scipy, pydantic models) is imported when a command runs, inside the functions
# below that the commands' bodies call: ``raflab --help`` and the other systems' commands stay fast.

# Options shared by the RAF commands: one definition each, so every command reads the same way.
ModelOpt = typer.Option("linear", "--model",
                        help="learner: linear | rf (random features) | kernel | bayes (Bayes-optimal: no loss, no lam)")


LossOpt = typer.Option("square", "--loss", help="square | hinge | logistic")


AlphaOpt = typer.Option("2", "--alpha", help="n/d: start:stop:num or a,b,c")


EpsOpt = typer.Option("0", "--eps", help="fraction of facts in [0,1]: start:stop:num or a,b,c")


LamOpt = typer.Option("0.1", "--lam", help="ridge penalty >= 0 (0: the lam->0+ limit): start:stop:num or a,b,c")


KappaOpt = typer.Option("2", "--kappa", help="rf: features per dimension p/d > 0: start:stop:num or a,b,c")


ActivationOpt = typer.Option("relu", "--activation",
                             help="rf: relu | tanh | erf | sign | linear, or module:function for your own")


KernelOpt = typer.Option("arccos", "--kernel",
                         help="kernel: arccos | polynomial | rbf | linear | activation:NAME, parameters as "
                              "name:key=value,... e.g. polynomial:degree=3,coef0=1")


DOpt = typer.Option(1000, "--d", help="input dimension of the simulation")


FactCountOpt = typer.Option("exact", "--fact-count", help="exact: round(eps n) facts | bernoulli: iid")


DeviceOpt = typer.Option("auto", "--device", help="auto | cpu | cuda: where random features are computed (--model rf)")


def _grid(alpha: str, eps: str, lam: str):
    return parse_range(alpha, "alpha"), parse_range(eps, "eps"), parse_range(lam, "lam")


def check_model_options(ctx, model: str, *, loss: bool = True, lam: bool = True) -> None:
    """Reject RAF learner options that the chosen ``--model`` does not use (they would be silently
    ignored): what :data:`~raflab.raf.learner_spec.MODEL_IGNORED_AXES` says the model ignores
    (--kappa and --activation are rf's, --kernel is kernel's, bayes has no loss and no lam)."""
    from raflab.raf.learner_spec import MODEL_IGNORED_AXES, MODEL_PARAMS

    ignored = MODEL_IGNORED_AXES.get(model, ())
    for owner, names in MODEL_PARAMS.items():
        names = tuple(n for n in names if n in ignored)
        if names:
            kernel_hint = (owner, model) == ("rf", "kernel")
            hint = " (a kernel of an activation is --kernel activation:NAME)" if kernel_hint else ""
            reject_unused(ctx, names, f"to --model {model}, only to --model {owner}{hint}")
    reject_unused(ctx, tuple(n for n, keep in (("loss", loss), ("lam", lam)) if keep and n in ignored),
                  f"to --model {model} (the Bayes-optimal estimator has no loss and no lam)")


def _model_options(model: str, kappa: str, activation: str, kernel: str) -> dict:
    """The learner's keyword arguments of the theory and simulation APIs, from the options' text, by
    the one builder (:func:`raflab.raf.learner_spec.learner_options`, which the sweeps use too)."""
    from raflab.raf.learner_spec import learner_options

    return learner_options(model, kappa, activation, kernel)


def _describe(options: dict, loss: str | None = None) -> str:
    model = options["model"]
    extra = {"rf": lambda: f" ({options['activation'] if isinstance(options['activation'], str) else 'custom'}, "
                           f"kappa={','.join(f'{k:g}' for k in options['kappa'])})",
             "kernel": lambda: f" ({options['kernel']})"}.get(model, lambda: "")()
    return f"{model}{extra}" + (f" {loss}" if loss else "")


def _prior(options: dict, kappa=None):
    """The theory's prior for the chosen learner (one kappa for rf): :func:`raflab.raf.theory.erm.learner_prior`."""
    from raflab.raf.theory.erm import learner_prior

    return learner_prior(options, kappa)

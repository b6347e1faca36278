"""The ``raflab`` command: the root group that mounts each system's commands (RAF at the top level,
every other system as a group). Each system's ``cli`` module parses, calls its Python API and prints.

Every failure the user can cause (a bad range, eps outside [0, 1], an unknown loss, data that are
not separable) ends in one line on stderr and exit code 2; a fixed point that did not converge is
printed as ``warning: ...`` and flagged in the records (converged=False).
"""

from __future__ import annotations

import typer

from raflab.agents.cli import schema_app, teach
from raflab.attention.cli import attention_app
from raflab.bounds.cli import sdpi_app
from raflab.core.cli import OneLineErrors
from raflab.memory.cli import diffusion_app, hopfield_app
from raflab.raf.cli import raf_app
from raflab.seq.cli import seq_app
from raflab.sweeps.cli import sweep_app
from raflab.ledger.cli import atlas, report, reproduce

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=OneLineErrors,
    help="raflab: rules and facts — exact high-dimensional theory beside finite-size experiments.",
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"raflab {version('raflab')}")
        except PackageNotFoundError:  # run from a source tree that was never installed
            from raflab import __version__

            typer.echo(f"raflab {__version__} (not installed)")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="print raflab's version and exit")):
    """raflab: rules and facts — exact high-dimensional theory beside finite-size experiments."""


def main() -> None:
    app()


# RAF first (its commands at the top level, so that --help lists them first), then the other systems.
app.registered_commands.extend(raf_app.registered_commands)
app.command("report")(report)
app.add_typer(attention_app, name="attention", help="in-context memorization of nonlinear attention")
app.add_typer(diffusion_app, name="diffusion", help="diffusion models: memorization -> spurious -> generalization")
app.add_typer(hopfield_app, name="hopfield", help="associative memories: Hopfield capacity, dense memories, attractors")
app.add_typer(sdpi_app, name="sdpi", help="memorization lower bounds from strong data-processing inequalities")
app.add_typer(sweep_app, name="sweep", help="sweeps from config files: run, status, export, plot")
app.add_typer(seq_app, name="seq", help="sequence models: rule and fact tasks, MQAR, bits per parameter")
app.command("teach")(teach)
app.command("reproduce")(reproduce)
app.command("atlas")(atlas)
app.add_typer(schema_app, name="schema", help="schema linking: rote SFT vs GRPO")

if __name__ == "__main__":
    main()

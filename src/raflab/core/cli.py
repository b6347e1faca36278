"""What every ``raflab`` command shares, whatever its system: the output formats, the one-line error
handling, the common option objects (--format, --seed(s), --out, --device) and the checks made
before any work (output paths, options that do not apply)."""

from __future__ import annotations

import contextvars
import functools
import inspect
import warnings
from enum import Enum
from typing import Optional

import typer
from pydantic import ValidationError

from raflab.core.checks import describe_validation_error, load_callable
from raflab.core.fixed_point import ConvergenceWarning
from raflab.core.output import write_records


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def user_errors(fn):
    """Turn the errors a user can cause into one line and exit 2; print warnings as one line.

    A command that prints records (it has a ``--format`` option) also gets ``--columns``
    (:data:`ColumnsOpt`): the columns of its table, read by :func:`_emit`."""
    takes_columns = _prints_records(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if takes_columns:
            _COLUMNS.set(kwargs.pop("columns", None))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            warnings.simplefilter("always", UserWarning)  # raflab's notices (e.g. an f it centred)
            try:
                result = fn(*args, **kwargs)
            except ValidationError as exc:
                _fail(describe_validation_error(exc))
            except ValueError as exc:  # includes NotSeparableError and a refused memory estimate
                _fail(str(exc))
            except MemoryError:  # an allocation the estimate did not foresee, or RAFLAB_NO_MEMORY_CHECK=1
                _fail("out of memory: this machine could not allocate what the command needs; choose smaller sizes")
            finally:
                for w in caught:
                    if issubclass(w.category, (ConvergenceWarning, UserWarning)):
                        typer.echo(f"warning: {w.message}", err=True)
        return result

    if takes_columns:
        _add_columns_option(wrapper, fn)
    return wrapper


#: the ``--columns`` of the running command (set by :func:`user_errors`, read by :func:`_emit`)
_COLUMNS: contextvars.ContextVar = contextvars.ContextVar("raflab_columns", default=None)


def _prints_records(fn) -> bool:
    sig = inspect.signature(fn)
    return "columns" not in sig.parameters and any(p.default is FormatOpt for p in sig.parameters.values())


def _add_columns_option(wrapper, fn) -> None:
    """Append ``columns: str = ColumnsOpt`` to the signature typer reads."""
    sig = inspect.signature(fn)
    params = list(sig.parameters.values())
    params.append(inspect.Parameter("columns", inspect.Parameter.KEYWORD_ONLY, default=ColumnsOpt,
                                    annotation=Optional[str]))
    wrapper.__signature__ = sig.replace(parameters=params)
    wrapper.__annotations__ = {**getattr(fn, "__annotations__", {}), "columns": Optional[str]}


FormatOpt = typer.Option(Format.table, "--format", help="output records as table | json | csv")


ColumnsOpt = typer.Option(None, "--columns", show_default=False,
                          help="table: all, or a comma list of record fields (default: the parameters that vary "
                               "and the main results, fitted to the terminal's width)")


SeedsOpt = typer.Option(5, "--seeds", help="independent data sets per point")


SeedOpt = typer.Option(0, "--seed", min=0, help="base seed (>= 0)")


OutOpt = typer.Option(None, "--out", help="write the figure here (png, pdf, svg)")


def device_option(where: str):
    """``--device`` of a command, with what it moves: ``auto | cpu | cuda: <where>``."""
    return typer.Option("auto", "--device", help=f"auto | cpu | cuda: {where}")


def _flags_without_type() -> None:
    """typer's rich help prints a value type beside every flag (``--quiet <bool>``, ``--help <bool>``);
    a flag takes no value, so print none."""
    try:
        from typer.core import TyperOption
    except ImportError:  # pragma: no cover - another typer layout: nothing to fix
        return
    shown = getattr(TyperOption, "display_type_rich", None)
    if shown is None or getattr(shown, "_raflab", False):
        return

    def display_type_rich(self, ctx):
        return None if getattr(self, "is_flag", False) else shown(self, ctx)

    display_type_rich._raflab = True
    TyperOption.display_type_rich = display_type_rich


_flags_without_type()


def _activation(text: str):
    """A named activation, or ``package.module:function`` imported for a user-supplied one."""
    return load_callable(text, "activation")


#: what matplotlib can write (the suffix chooses the format); a figure's --out must end in one of them
FIGURE_SUFFIXES = (".png", ".pdf", ".svg", ".svgz", ".eps", ".ps", ".jpg", ".jpeg", ".tif", ".tiff", ".webp",
                   ".pgf")


def check_out_path(path, suffixes=FIGURE_SUFFIXES, option: str = "--out", parents: bool = True) -> None:
    """Refuse, before any work, an output file that cannot be written; ``None`` (not asked) passes.

    The path must not be a folder, must end in one of ``suffixes`` (``None``: any name), and must be
    writable: an existing file is opened for writing (and left as it is); a new one is created and
    removed again in its folder, or, when that folder is still to be made (``parents``: the writer
    creates missing folders; otherwise the folder must exist), a temporary file is created and
    removed in the nearest folder that exists. Nothing is left behind. Raises ValueError with one
    line naming ``option``.
    """
    if path is None:
        return
    import os
    from pathlib import Path

    text = str(path)
    p = Path(text).expanduser()
    if not text.strip():
        raise ValueError(f"{option} must be a file name (got an empty string)")
    example = p / f"figure{suffixes[0]}" if suffixes else p / "out"
    if p.is_dir():
        raise ValueError(f"{option} {text} is a folder; give a file name, e.g. {example}")
    if text.endswith(("/", os.sep)):  # a folder still to be made: the writer would fail after the work
        raise ValueError(f"{option} {text} names a folder; give a file name, e.g. {example}")
    if suffixes and p.suffix.lower() not in suffixes:
        raise ValueError(f"{option} {text} must end in one of {', '.join(suffixes)} (the suffix sets the format)")
    if p.exists():
        try:
            with open(p, "r+b"):  # opened for writing, not truncated: the file is left as it is
                pass
        except OSError as exc:
            raise ValueError(f"cannot write {option} {text}: {exc.strerror or exc}") from None
        return
    if not parents and not p.absolute().parent.is_dir():
        raise ValueError(f"cannot write {option} {text}: the folder {p.absolute().parent} does not exist")
    _check_creatable(p, text, option)


def check_out_dir(path, option: str = "--out") -> None:
    """Refuse, before any work, an output folder that is a file or cannot be written (nothing is
    created: the writers make missing folders themselves)."""
    if path is None:
        return
    from pathlib import Path

    text = str(path)
    p = Path(text).expanduser()
    if p.exists() and not p.is_dir():
        raise ValueError(f"{option} {text} is a file, not a folder")
    base = p if p.is_dir() else _nearest_existing(p, text, option)
    try:
        _probe_folder(base)
    except OSError as exc:
        raise ValueError(f"cannot write into {option} {text}: {exc.strerror or exc}") from None


def _nearest_existing(p, text: str, option: str):
    base = p.absolute().parent
    while not base.exists():
        base = base.parent
    if not base.is_dir():
        raise ValueError(f"cannot write {option} {text}: {base} is a file, not a folder")
    return base


def _probe_folder(folder) -> None:
    """Create and remove a temporary file in ``folder``: raises OSError where nothing can be written."""
    import os
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".raflab-write-check-")
    os.close(fd)
    os.unlink(tmp)


def _check_creatable(p, text: str, option: str) -> None:
    import errno
    import os

    try:
        if p.absolute().parent.is_dir():  # the exact name: catches a read-only folder, /proc, a name too long
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.close(fd)
            os.unlink(p)
        else:
            _probe_folder(_nearest_existing(p, text, option))
    except OSError as exc:
        why = exc.strerror or str(exc)
        if exc.errno == errno.ENOENT:  # the folder exists but takes no new files (/proc, /sys)
            why = f"no new file can be made in {p.absolute().parent}"
        raise ValueError(f"cannot write {option} {text}: {why}") from None


def given(ctx, name: str) -> bool:
    """Whether option ``name`` (the parameter's Python name) was set by the user, not left at its default."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


def reject_unused(ctx, names, why: str) -> None:
    """One line naming the first option in ``names`` that the user set although it does not apply."""
    for name in names:
        if given(ctx, name):
            raise ValueError(f"--{name.replace('_', '-')} does not apply {why}")


from typer.core import TyperGroup  # noqa: E402 (with the checks it serves)


class OneLineErrors(TyperGroup):
    """The root command group: a parse error (an option that does not exist, ``--d abc``) is one
    ``error:`` line naming the option, exit code 2, like every other bad input (click's default is a
    usage block). Help, ``--help`` and the exit codes of the commands are unchanged."""

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        import sys

        click = sys.modules[typer.BadParameter.__module__]  # click's exceptions, wherever typer keeps them

        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            rv = super().main(*args, standalone_mode=False, **kwargs)
        except click.NoArgsIsHelpError as exc:
            if exc.format_message().strip():  # (rich has printed the help already)
                exc.show()  # a group called without a command prints its help, as before
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            typer.echo(f"error: {exc.format_message()}{where}", err=True)
            sys.exit(2)
        except click.ClickException as exc:
            typer.echo(f"error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except typer.Abort:
            typer.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)  # an Exit(code) comes back as its code


def _emit(df, fmt: Format, title: str, main: list[str] | None = None) -> None:
    """Print records; ``main``: the fields the table shows first (json / csv: every field, unchanged)."""
    write_records(df, fmt.value, title=title, columns=_COLUMNS.get(), main=main)

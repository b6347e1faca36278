"""The one progress bar of long jobs: rich on stderr, with rate and ETA; silent when disabled."""

from __future__ import annotations

import sys
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class _RateColumn(ProgressColumn):
    def __init__(self, unit: str):
        super().__init__()
        self.unit = unit

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:.3g} {self.unit}/s", style="progress.data.speed")


def shown(enabled: bool = True) -> bool:
    """Whether a bar is drawn: asked for, and stderr is a terminal (never into a log file or a pipe)."""
    return bool(enabled) and sys.stderr.isatty()


@contextmanager
def rows_progress(description: str, total: int | None, enabled: bool = True, unit: str = "rows"):
    """Yield ``advance(k, status=None)``; shows done/total, rate, elapsed, ETA and the latest status
    text (e.g. a training loss) on stderr when enabled and stderr is a terminal. ``total=None``: work
    that cannot be counted (one vectorized solve): a moving bar with the elapsed time."""
    if not shown(enabled):
        yield lambda k=1, status=None: None
        return
    from rich.console import Console

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), _RateColumn(unit),
               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.fields[status]}"))
    with Progress(*columns, console=Console(stderr=True),
                  transient=total is None) as progress:
        task = progress.add_task(description, total=total, status="")

        def advance(k=1, status=None):
            if status is None:
                progress.advance(task, k)
            else:
                progress.update(task, advance=k, status=status)

        yield advance


def track_rows(items, description: str, total: int | None = None, enabled: bool = True, unit: str = "rows"):
    """``items`` again, one bar step per item (:func:`rows_progress`); ``total`` defaults to len(items)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)
    with rows_progress(description, total, enabled=enabled, unit=unit) as advance:
        for item in items:
            yield item
            advance()

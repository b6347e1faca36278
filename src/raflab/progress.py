"""The one progress bar of long jobs: rich on stderr, with rate and ETA; silent when disabled."""

from __future__ import annotations

from contextlib import contextmanager

from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)
from rich.text import Text


class _RateColumn(ProgressColumn):
    def __init__(self, unit: str):
        super().__init__()
        self.unit = unit

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:.3g} {self.unit}/s", style="progress.data.speed")


@contextmanager
def rows_progress(description: str, total: int, enabled: bool = True, unit: str = "rows"):
    """Yield ``advance(k, status=None)``; shows done/total, rate, elapsed, ETA and the latest status
    text (e.g. a training loss) on stderr when enabled."""
    if not enabled:
        yield lambda k=1, status=None: None
        return
    from rich.console import Console

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), _RateColumn(unit),
               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.fields[status]}"))
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        task = progress.add_task(description, total=total, status="")

        def advance(k=1, status=None):
            if status is None:
                progress.advance(task, k)
            else:
                progress.update(task, advance=k, status=status)

        yield advance

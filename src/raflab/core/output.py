"""The one record writer: a DataFrame of records -> table (rich), JSON (list of records) or CSV."""

from __future__ import annotations

import json
import math
import re
import shutil
import sys
from typing import IO

import numpy as np
import pandas as pd

from raflab.core.checks import one_of

FORMATS = ("table", "json", "csv")


def to_records(df: pd.DataFrame) -> list[dict]:
    """Plain-Python records. Non-finite floats (an infinite V at lam = 0) become None (JSON null)."""
    out = []
    for row in df.to_dict(orient="records"):
        clean = {}
        for k, v in row.items():
            if isinstance(v, (np.generic,)):
                v = v.item()
            if isinstance(v, float) and not math.isfinite(v):
                v = None
            clean[k] = v
        out.append(clean)
    return out


def write_records(df: pd.DataFrame, fmt: str = "table", stream: IO[str] | None = None,
                  title: str | None = None, columns: str | list[str] | None = None,
                  width: int | None = None, main: list[str] | None = None) -> None:
    """Print records in one of FORMATS.

    ``json`` and ``csv`` write every record and column unchanged. ``table`` is for reading in a
    terminal: by default it fits ``width`` (the terminal's, ``COLUMNS`` if set; see
    :func:`table_layout`; ``main``: the fields to show first, when present); ``columns="all"``
    (or a list / comma string of names) prints those columns instead, at whatever width they need.
    """
    one_of(fmt, FORMATS, "format")
    stream = stream or sys.stdout
    if fmt == "json":
        json.dump(to_records(df), stream, indent=1)
        stream.write("\n")
    elif fmt == "csv":
        df.to_csv(stream, index=False)
    elif fmt == "table":
        _write_table(df, stream, title, columns, width, main)


# --- the terminal table ------------------------------------------------------------------------

#: suffixes of a column holding the standard error of another (X_stderr is printed as X ± se)
STDERR_SUFFIXES = ("_stderr", " ±")
#: rows printed before a long table is cut to its first and last rows
MAX_ROWS = 40
HEAD_ROWS, TAIL_ROWS = 10, 5
#: widest a text column is drawn before its cells wrap (never cut)
MAX_TEXT_WIDTH = 24


def terminal_width() -> int:
    """The terminal's width in characters (``COLUMNS`` when set; 80 when unknown)."""
    return shutil.get_terminal_size((80, 24)).columns


def _stderr_partner(col: str, names) -> str | None:
    """X_stderr ('X ±') of X; of a Monte-Carlo column X_mc also X_stderr (a join's suffix)."""
    for base in (col, col[:-3] if col.endswith("_mc") else None):
        for suffix in STDERR_SUFFIXES:
            if base and base + suffix in names and base + suffix != col:
                return base + suffix
    return None


def _is_stderr(col: str, names) -> bool:
    return any(col.endswith(s) and (col[: -len(s)] in names or col[: -len(s)] + "_mc" in names)
               for s in STDERR_SUFFIXES)


def _parse_columns(columns, names: list[str]) -> list[str] | None:
    """None (automatic), or the asked-for names in the asked order; an unknown name is a ValueError."""
    if columns is None:
        return None
    if isinstance(columns, str):
        if columns.strip() == "all":
            return list(names)
        columns = [c.strip() for c in columns.split(",") if c.strip()]
    spelled = {n.replace(" ", "_"): n for n in names}  # a table may print a field with spaces for underscores
    columns = [c if c in names else spelled.get(c.replace(" ", "_"), c) for c in columns]
    missing = [c for c in columns if c not in names]
    if missing or not columns:
        raise ValueError(f"unknown column(s) {', '.join(missing) or '(none given)'} in --columns; "
                         f"use all or a comma list of: {', '.join(names)}")
    return list(dict.fromkeys(columns))


def _is_constant(s: pd.Series) -> bool:
    return len(s) > 1 and s.astype(str).nunique(dropna=False) == 1


def _default_order(df: pd.DataFrame) -> list[str]:
    """Record order, each ``X_theory`` right after ``X``, standard errors folded into ``X``."""
    names = list(df.columns)
    order = []
    for col in names:
        if _is_stderr(col, names) or (col.endswith("_theory") and col[: -len("_theory")] in names):
            continue
        order.append(col)
        if col + "_theory" in names:
            order.append(col + "_theory")
    return order


def _header_lines(name: str, width: int) -> str:
    """``name`` broken after its underscores / spaces into lines of at most ``width`` (none cut)."""
    parts = re.findall(r"[^_ ]+[_ ]*|[_ ]+", name) or [name]
    lines, line = [], ""
    for part in parts:
        if line and len(line) + len(part.rstrip(" ")) > width:
            lines.append(line.rstrip(" "))
            line = ""
        line += part
    lines.append(line.rstrip(" "))
    return "\n".join(lines)


def _header_min(name: str) -> int:
    return max(len(p.rstrip(" ")) for p in (re.findall(r"[^_ ]+[_ ]*|[_ ]+", name) or [name]))


class _Col:
    """One printed column: its record name, its standard-error column (or None), its cells."""

    def __init__(self, df: pd.DataFrame, name: str, se: str | None):
        self.name, self.se = name, se
        values = df[name].tolist()
        errors = df[se].tolist() if se else [None] * len(values)
        is_z = name.endswith("_z")
        decimals = _column_decimals(df[name]) if se is None else None
        self.cells = [_cell(v, e, is_z, decimals) for v, e in zip(values, errors)]
        self.numeric = df[name].dtype.kind in "fiub"
        self.longest = max((len(c) for c in self.cells), default=0)
        self.width = max(self.longest if self.numeric else min(self.longest, MAX_TEXT_WIDTH), _header_min(name), 1)


def table_layout(df: pd.DataFrame, width: int, columns=None, main: list[str] | None = None) -> dict:
    """What the terminal table of ``df`` shows at ``width`` characters.

    Automatic (``columns=None``): the columns that vary, in record order with each ``X_theory``
    beside ``X`` and ``X_stderr`` printed in ``X`` as ``mean ± se``, added left to right while
    they fit; the columns with one value are listed once under the table ("fixed: ..."), the
    rest named in a note; ``main`` names the fields to try first. A single record prints as
    ``field  value`` lines. Returns ``{"columns": [_Col], "fixed": {name: text}, "hidden": [names],
    "vertical": bool}``.
    """
    names = list(df.columns)
    asked = _parse_columns(columns, names)
    if asked is not None:
        return {"columns": [_Col(df, c, None) for c in asked], "fixed": {}, "hidden": [], "vertical": len(df) == 1}
    order = _default_order(df)
    if main:
        order = [c for c in main if c in order] + [c for c in order if c not in main]
    if len(df) == 1:
        return {"columns": [_Col(df, c, _stderr_partner(c, names)) for c in order], "fixed": {}, "hidden": [],
                "vertical": True}
    fixed, hidden, chosen, full = {}, [], [], False
    for name in order:
        se = _stderr_partner(name, names)
        if se is None and df[name].isna().all():
            hidden.append(name)
            continue
        if se is None and _is_constant(df[name]):
            fixed[name] = _cell(df[name].iloc[0], None, False) or "nan"
            continue
        if full:  # once one column did not fit, the later ones are not shown either
            hidden.append(name)
            continue
        col = _Col(df, name, se)
        if not chosen or _table_width([c.width for c in chosen] + [col.width]) <= width:
            chosen.append(col)
        else:
            hidden.append(name)
            full = True
    return {"columns": chosen, "fixed": fixed, "hidden": hidden, "vertical": False}


def _widen_for_headers(cols: list[_Col], width: int) -> None:
    """Spend the room left in ``width`` on headers (a column grows to its whole name, left to right),
    then on text cells folded at MAX_TEXT_WIDTH (a path grows to its whole length where it fits)."""
    room = width - _table_width([c.width for c in cols])
    for c in cols:
        grow = len(c.name) - c.width
        if 0 < grow <= room:
            c.width += grow
            room -= grow
    for c in cols:
        grow = min(c.longest - c.width, room) if not c.numeric else 0
        if grow > 0:
            c.width += grow
            room -= grow


def _table_width(widths: list[int]) -> int:
    """Characters of a SIMPLE_HEAD table without edges: cells, one space of padding each side, rules."""
    return sum(widths) + 3 * len(widths) - 3 if widths else 0  # (pad_edge=False)


def _write_table(df: pd.DataFrame, stream: IO[str], title: str | None, columns, width: int | None,
                 main: list[str] | None = None) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    width = width or terminal_width()
    layout = table_layout(df, width, columns, main)
    cols = layout["columns"]
    if layout["vertical"]:
        field_w = max(len(c.name) for c in cols) if cols else 5
        value_w = max([len(c.cells[0]) for c in cols] + [5])
        need = field_w + value_w + 3
        console = Console(file=stream, width=max(width, need) if columns is not None else width, soft_wrap=False)
        table = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title_justify="left")
        table.add_column("field", overflow="fold", max_width=max(10, min(field_w, width // 2)))
        table.add_column("value", overflow="fold")
        for c in cols:
            table.add_row(c.name, c.cells[0])
        console.print(table)
        return
    _widen_for_headers(cols, width)
    need = _table_width([c.width for c in cols])
    console = Console(file=stream, width=max(width, need), soft_wrap=False)
    note_console = Console(file=stream, width=width, soft_wrap=False)
    if title:
        note_console.print(title, style="bold", highlight=False, markup=False)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for c in cols:
        table.add_column(_header_lines(c.name, c.width), justify="right" if c.numeric else "left",
                         width=c.width, overflow="fold", no_wrap=c.numeric)
    n = len(df)
    shown = list(range(n)) if n <= MAX_ROWS else [*range(HEAD_ROWS), None, *range(n - TAIL_ROWS, n)]
    for i in shown:
        table.add_row(*("⋮" if i is None else c.cells[i] for c in cols))
    console.print(table)
    notes = []
    if n > MAX_ROWS:
        notes.append(f"{n} rows: the first {HEAD_ROWS} and last {TAIL_ROWS} shown; all of them: --format json or csv")
    if layout["fixed"]:
        notes.append("fixed: " + ", ".join(f"{k}={v}" for k, v in layout["fixed"].items()))
    if layout["hidden"]:
        hidden = layout["hidden"]
        listed = ", ".join(hidden[:8]) + (", ..." if len(hidden) > 8 else "")
        notes.append(f"{len(hidden)} more column(s) not shown ({listed}): --columns all or --columns a,b,c; "
                     "full records: --format json or csv")
    for note in notes:
        note_console.print(note, style="dim", highlight=False, markup=False)


def _column_decimals(s: pd.Series) -> int | None:
    """Fixed decimals for a float column whose values do not all read exactly at 4 significant digits
    (computed values, not typed ones): 4 significant digits of its largest value, so the column
    lines up and 2.6e-32 beside 0.066 reads 0.00000. None: print each value as it is (``.4g``)."""
    if s.dtype.kind != "f":
        return None
    v = s.to_numpy(dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0 or all(float(f"{x:.4g}") == x for x in v):
        return None
    top = float(np.max(np.abs(v)))
    if not 1e-3 <= top < 1e5:
        return None
    return int(min(6, max(0, 3 - math.floor(math.log10(top)))))


def _num(v: float, decimals: int | None = None) -> str:
    if not math.isfinite(v):
        return "" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if decimals is not None:
        return f"{v:.{decimals}f}"
    return f"{v:.4g}"


def _pm(m: float, se: float) -> str:
    """``mean ± se`` to the standard error's first significant digit (two when it starts with 1)."""
    if se is None or not math.isfinite(se) or se <= 0 or not math.isfinite(m):
        return _num(m)
    digits = -math.floor(math.log10(se))
    if f"{se:.1e}"[0] == "1":
        digits += 1
    if digits > 6 or digits < -3:
        return f"{m:.4g} ± {se:.2g}"
    digits = max(digits, 0)
    return f"{m:.{digits}f} ± {se:.{digits}f}"


def _cell(v, se=None, is_z: bool = False, decimals: int | None = None) -> str:
    if v is None:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if is_z and not math.isfinite(v):
            return ""  # a z-score against a zero standard error: undefined, left blank
        if se is not None and isinstance(se, (float, np.floating, int, np.integer)):
            return _pm(v, float(se))
        return _num(v, decimals)
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return str(v)


def _fmt(v) -> str:
    return _cell(v)

"""The one record writer: a DataFrame of records -> table (rich), JSON (list of records) or CSV."""

from __future__ import annotations

import json
import math
import sys
from typing import IO

import numpy as np
import pandas as pd

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
                  title: str | None = None) -> None:
    """Print records in one of FORMATS."""
    stream = stream or sys.stdout
    if fmt == "json":
        json.dump(to_records(df), stream, indent=1)
        stream.write("\n")
    elif fmt == "csv":
        df.to_csv(stream, index=False)
    elif fmt == "table":
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title)
        for col in df.columns:
            table.add_column(col, justify="right" if df[col].dtype.kind in "fiu" else "left")
        for row in df.itertuples(index=False):
            table.add_row(*(_fmt(v) for v in row))
        Console(file=stream, width=max(120, 12 * len(df.columns))).print(table)
    else:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def _fmt(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (float, np.floating)):
        return f"{v:.4g}"
    return str(v)

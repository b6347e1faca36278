"""The raflab figure style and the small helpers every system's figures share (no system here)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

STYLE = {
    "figure.dpi": 120,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "legend.frameon": False,
    "lines.linewidth": 1.6,
}


def _finish(fig, out, title: str | None = None, title_size: float | None = None):
    """The figure's title (when given), tight layout, and the file written (its folder created) when
    ``out`` is given."""
    if title:
        fig.suptitle(title, fontsize=title_size)
    fig.tight_layout()
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out)
    return fig


def apply_style() -> None:
    """The raflab figure style (serif-free, light grid, no top/right spines)."""
    plt.rcParams.update(STYLE)


def _series_label(keys: tuple, names: list[str]) -> str:
    return ", ".join(f"{ {'eps': 'ε', 'lam': 'λ', 'kappa': 'κ'}.get(n, n)}={v:g}" for n, v in zip(names, keys))


def _floats(values, missing: float = np.nan) -> np.ndarray:
    """A column (or index) as a float numpy array, a missing value (None, NaN, pd.NA) as ``missing``:
    what matplotlib takes on every supported version (matplotlib 3.7 fails on an object-dtype Series,
    e.g. a column holding None, in errorbar and fill_between)."""
    return pd.Series(values, copy=False).to_numpy(dtype=float, na_value=missing)


def _rows_where(frame: pd.DataFrame, keys: list[str], values: tuple) -> pd.DataFrame:
    """The rows of ``frame`` whose columns ``keys`` equal ``values``, compared one column at a time
    (``frame[keys] == a_tuple`` is deprecated from pandas 3 on)."""
    mask = pd.Series(True, index=frame.index)
    for key, value in zip(keys, values):
        mask &= frame[key] == value
    return frame[mask]


def _grid_ticks(ax, values):
    """Log-2 axis ticked at the grid's own values (14, 28, 56), not at powers of 2."""
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    ax.set_xticks(sorted(set(values)))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())


def _errorbars(ax, frame, x, y, label, **kw):
    """``y`` against ``x`` with bars of ``<y>_stderr`` (the records' standard error, when present)."""
    frame = frame.sort_values(x)
    se = frame.get(f"{y}_stderr")
    ax.errorbar(_floats(frame[x]), _floats(frame[y]), yerr=None if se is None else _floats(se, missing=0), marker="o",
                ms=4, capsize=2,
                label=label, **kw)

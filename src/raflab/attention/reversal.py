"""Reversal map: where nonlinear attention memorizes better than linear ridge (issue 21).

The gap is ``E_attention - E_ridge`` (negative: attention memorizes better). Two panels:

- ``structure``: the gap over (snr, align) at one (c, gamma);
- ``scale``: the gap over (c, gamma) at one (snr, align).

Both come from the deterministic equivalent (:func:`raflab.attention.theory.memorization_error_grid`,
one noise-bulk solve per (c, gamma)). Points on the zero contour are found along lines (fixed align
varying snr; fixed c varying log10 gamma) by a scan and :func:`scipy.optimize.brentq`, at the finite size
p = round(c n) of the Monte Carlo that checks them. Next to each boundary point, two *probes* on the same
line where the theory gap is +probe_gap and -probe_gap test that Monte Carlo gets the sign right.

The Monte Carlo gap is paired: attention and ridge are measured on the same tokens, so the standard
error of their difference is ~2x smaller than either error's (correlation ~0.9 at n = 1000).

Example
-------
>>> df = structure_map([0.5, 2.0], [1.0], c=1.0, gamma=1.0)
>>> [round(g, 4) for g in df["gap"]]  # attention loses at snr 0.5, wins at snr 2 (aligned ReLU)
[0.0058, -0.0139]
"""

from __future__ import annotations

import warnings
from collections import defaultdict

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from raflab.attention.simulate import METRICS, check_simulation, one_draw
from raflab.attention.theory import activation, feature_scale, memorization_error_grid
from raflab.core.device import resolve_device
from raflab.core.progress import track_rows
from raflab.core.seeding import point_rng
from raflab.core.summary import summarize

STRUCTURE, SCALE = "structure", "scale"
PANELS = (STRUCTURE, SCALE)
#: the measured quantities of a check record (each with ``_stderr`` over seeds)
CHECK_METRICS = (*METRICS, "gap")
#: the scan that brackets a zero along one line before brentq refines it
SCAN_POINTS = 81


def _records(panel, grid, c, gamma, snr, align, f, n, match_scale) -> pd.DataFrame:
    C, G, S, A = np.meshgrid(c, gamma, snr, align, indexing="ij")
    conv = np.broadcast_to(grid["converged"][:, :, None, None], C.shape)
    return pd.DataFrame(dict(
        panel=panel, c=C.ravel(), gamma=G.ravel(), snr=S.ravel(), align=A.ravel(), f=activation(f).name,
        n=np.nan if n is None else n, match_scale=bool(match_scale), memorization_error_attention=grid["attention"].ravel(),
        memorization_error_ridge=grid["ridge"].ravel(), gap=grid["gap"].ravel(), converged=conv.ravel()))


def structure_map(snr, align, c: float = 1.0, gamma: float = 1.0, f="relu_centered", n=None,
                  match_scale: bool = False) -> pd.DataFrame:
    """Theory gap over every (snr, align) at one (c, gamma); ``n``: at p = round(c n), else p -> infinity;
    ``match_scale``: attention at gamma * feature_scale (see :func:`memorization_error_grid`)."""
    snr, align = np.atleast_1d(np.asarray(snr, float)), np.atleast_1d(np.asarray(align, float))
    grid = memorization_error_grid([c], [gamma], snr, align, f, n, match_scale=match_scale)
    return _records(STRUCTURE, grid, [c], [gamma], snr, align, f, n, match_scale)


def scale_map(c, gamma, snr: float = 1.0, align: float = 1.0, f="relu_centered", n=None,
              match_scale: bool = False) -> pd.DataFrame:
    """Theory gap over every (c, gamma) at one (snr, align); ``n``: at p = round(c n), else p -> infinity;
    ``match_scale``: attention at gamma * feature_scale (see :func:`memorization_error_grid`)."""
    c, gamma = np.atleast_1d(np.asarray(c, float)), np.atleast_1d(np.asarray(gamma, float))
    grid = memorization_error_grid(c, gamma, [snr], [align], f, n, match_scale=match_scale)
    return _records(SCALE, grid, c, gamma, [snr], [align], f, n, match_scale)


def _line(panel, fixed: dict, f, n, match_scale=False):
    """gap(x) along one line, vectorized in x: snr (structure, at fixed c, gamma, align) or log10 gamma
    (scale, at fixed c, snr, align); and the point dict of a given x."""
    if panel == STRUCTURE:
        def gap(x):
            g = memorization_error_grid([fixed["c"]], [fixed["gamma"]], np.atleast_1d(x), [fixed["align"]], f, n,
                                        match_scale=match_scale)
            return g["gap"][0, 0, :, 0]

        def point(x):
            return dict(fixed, snr=float(x))
    else:
        def gap(x):
            g = memorization_error_grid([fixed["c"]], 10.0 ** np.atleast_1d(x), [fixed["snr"]], [fixed["align"]], f, n,
                                        match_scale=match_scale)
            return g["gap"][0, :, 0, 0]

        def point(x):
            return dict(fixed, gamma=float(10.0**x))
    return gap, point


def _first_crossing(xs, values, level):
    """brentq bracket (lo, hi) of the first crossing of ``level`` along the walk xs[0], xs[1], ...; None."""
    d = np.asarray(values) - level
    hit = np.flatnonzero(d[:-1] * d[1:] <= 0)
    if hit.size == 0:
        return None
    k = int(hit[0])
    return (min(xs[k], xs[k + 1]), max(xs[k], xs[k + 1]))


def line_points(panel: str, fixed: dict, span, f="relu_centered", n=None, probe_gap: float = 0.01,
                match_scale: bool = False) -> list[dict]:
    """The first zero of the theory gap along one line inside ``span`` (snr for ``structure``, log10 gamma
    for ``scale``), and the probes on either side where the gap is +-``probe_gap`` (the nearest crossing
    of that level beyond the zero; left out where the line has none inside ``span``). ``n``: the theory at
    p = round(c n) (the Monte Carlo's size). Returns point dicts (c, gamma, snr, align, kind, theory gaps);
    [] when the gap keeps one sign along the line.
    """
    if panel not in PANELS:
        raise ValueError(f"panel must be one of {PANELS}, got {panel!r}")
    if probe_gap <= 0:
        raise ValueError(f"probe_gap must be > 0, got {probe_gap}")
    gap, point = _line(panel, fixed, f, n, match_scale)
    xs = np.linspace(span[0], span[1], SCAN_POINTS)
    values = gap(xs)
    signs = np.sign(values)
    change = np.flatnonzero(signs[:-1] * signs[1:] <= 0)
    if change.size == 0:
        return []
    i = int(change[0])
    x0 = xs[i] if values[i] == 0 else brentq(lambda x: float(gap(x)[0]), xs[i], xs[i + 1], xtol=1e-10)
    found = [(x0, "boundary")]
    for side in (xs[i::-1], xs[i + 1:]):  # walk away from the zero, starting at the zero itself
        walk = np.concatenate([[x0], side])
        walk_values = np.concatenate([[0.0], gap(side)])
        level = np.sign(walk_values[1]) * probe_gap
        bracket = _first_crossing(walk, walk_values, level) if level != 0 else None
        if bracket is not None:
            found.append((brentq(lambda x: float(gap(x)[0]) - level, *bracket, xtol=1e-10), "probe"))
    return [dict(point(x), panel=panel, kind=kind) for x, kind in found]


def boundary_points(panel: str, lines, fixed: dict, span, f="relu_centered", n: int | None = 1000,
                    probe_gap: float = 0.01, match_scale: bool = False) -> pd.DataFrame:
    """:func:`line_points` along several lines: ``lines`` are align values (``structure``, with
    ``fixed`` = {c, gamma}) or c values (``scale``, with ``fixed`` = {snr, align}). Each record carries the
    theory gap at the simulated p (``gap_theory``, ~0 on the boundary) and at p -> infinity
    (``gap_theory_limit``)."""
    key = "align" if panel == STRUCTURE else "c"
    rows = []
    for v in np.atleast_1d(lines):
        rows += line_points(panel, dict(fixed, **{key: float(v)}), span, f, n, probe_gap, match_scale)
    if not rows:
        return pd.DataFrame(columns=["panel", "kind", "c", "gamma", "snr", "align", "gap_theory", "gap_theory_limit",
                                     "match_scale"])
    df = pd.DataFrame(rows)[["panel", "kind", "c", "gamma", "snr", "align"]]
    for col, size in (("gap_theory", n), ("gap_theory_limit", None)):
        df[col] = [float(memorization_error_grid([r.c], [r.gamma], [r.snr], [r.align], f, size,
                                                 match_scale=match_scale)["gap"].item()) for r in df.itertuples()]
    df["match_scale"] = bool(match_scale)
    return df


def check_points(points: pd.DataFrame, f="relu_centered", n: int = 1000, seeds: int = 10, seed: int = 0,
                 device: str = "cpu", progress: bool = False) -> pd.DataFrame:
    """Monte Carlo of ``points`` (from :func:`boundary_points`) at p = round(c n): the mean over seeds of
    E_attention, E_ridge and the paired gap, with standard errors, next to the theory. One draw per
    (c, snr, align) serves every gamma there (seeds as :func:`raflab.attention.simulate.simulate`). Points
    with ``match_scale`` measure attention at the penalty gamma * feature_scale(c, f, n), as the theory does.

    Adds ``within_3se`` (|gap MC - gap theory at p| < 3 stderr), ``sign_agrees`` (the MC gap has the theory's
    sign; None on the boundary, where the theory gap is 0) and ``agrees`` (within 3 stderr, and the sign on
    probes).
    """
    if len(points) == 0:
        raise ValueError("no points to check: the gap keeps one sign along every line (widen the span)")
    check_simulation(points["c"].to_numpy(float), n, seeds)
    dev = resolve_device(device)
    groups = defaultdict(list)
    matched = points["match_scale"].to_numpy(bool) if "match_scale" in points else np.zeros(len(points), bool)
    for idx, r in enumerate(points.itertuples()):
        groups[(r.c, r.snr, r.align)].append((idx, r.gamma))
    rows = []
    todo = [(key, s) for key in groups for s in range(seeds)]
    for (c, snr, align), s in track_rows(todo, f"reversal-map Monte Carlo (n={n}, {seeds} seeds)",
                                         enabled=progress, unit="draws"):
        p = max(2, round(c * n))
        members = groups[(c, snr, align)]
        gammas = np.array([g for _, g in members])
        scale = np.array([feature_scale(c, f, n) if matched[idx] else 1.0 for idx, _ in members])
        both = np.concatenate([gammas, gammas * scale])
        a, r = one_draw(p, n, both, f, snr, align, rng=point_rng(seed + s, p, n, snr, align), device=dev)
        a, r = a[len(gammas):], r[: len(gammas)]
        rows += [{"point": idx, "seed": seed + s, "p": p, METRICS[0]: a[j], METRICS[1]: r[j], "gap": a[j] - r[j]}
                 for j, (idx, _) in enumerate(members)]
    mc = summarize(pd.DataFrame(rows), ["point", "p"], CHECK_METRICS).sort_values("point")
    out = points.reset_index(drop=True).join(mc.set_index("point"))
    out.insert(6, "n", n)
    out = out.rename(columns={"gap": "gap_mc", "gap_stderr": "gap_mc_stderr"})
    out["within_3se"] = (out["gap_mc"] - out["gap_theory"]).abs() < 3 * out["gap_mc_stderr"]
    probe = out["kind"] == "probe"
    same = np.sign(out["gap_mc"]) == np.sign(out["gap_theory"])
    out["sign_agrees"] = pd.Series(np.where(probe, same, None), dtype=object)
    out["agrees"] = out["within_3se"] & (~probe | same)
    return out


def reversal_map(snr, align, c, gamma, at_c: float = 1.0, at_gamma: float = 1.0, at_snr: float = 1.0,
                 at_align: float = 1.0, f="relu_centered", boundary_align=(0.0, 0.5, 1.0),
                 boundary_c=(0.5, 1.0, 2.0), n: int = 1000, seeds: int = 10, seed: int = 0,
                 probe_gap: float = 0.01, device: str = "cpu", progress: bool = False, match_scale: bool = False):
    """Both panels and their Monte Carlo check. Returns (maps, checks): ``maps`` the theory records of
    both panels at p -> infinity and at p = round(c n) (column ``n``: NaN for the limit); ``checks`` the
    :func:`check_points` records (empty when both ``boundary_align`` and ``boundary_c`` are empty).

    The boundary is searched inside the snr range for ``structure`` and the log10 gamma range for
    ``scale``. ``match_scale``: attention at gamma * feature_scale(c) throughout (theory and Monte Carlo).
    """
    if len(boundary_align) + len(boundary_c):
        check_simulation(np.concatenate([np.atleast_1d(boundary_c), [at_c]]), n, seeds)  # before any work
    maps = pd.concat([structure_map(snr, align, at_c, at_gamma, f, size, match_scale) for size in (None, n)]
                     + [scale_map(c, gamma, at_snr, at_align, f, size, match_scale) for size in (None, n)],
                     ignore_index=True)
    lg = np.log10(np.asarray(gamma, float))
    points = pd.concat([
        boundary_points(STRUCTURE, boundary_align, dict(c=at_c, gamma=at_gamma), (min(snr), max(snr)), f, n,
                        probe_gap, match_scale),
        boundary_points(SCALE, boundary_c, dict(snr=at_snr, align=at_align), (lg.min(), lg.max()), f, n,
                        probe_gap, match_scale),
    ], ignore_index=True)
    for panel, lines in ((STRUCTURE, boundary_align), (SCALE, boundary_c)):
        if len(lines) and not (points["panel"] == panel).any():
            warnings.warn(f"{panel} panel: the gap keeps one sign along every checked line (no boundary there "
                          "to check)", UserWarning, stacklevel=2)
    if len(boundary_align) + len(boundary_c) == 0:
        return maps, points
    return maps, check_points(points, f, n, seeds, seed, device, progress)

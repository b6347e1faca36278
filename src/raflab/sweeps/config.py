"""Sweep configuration files: what to run (task, grid, seeds) and where the rows go.

A config is YAML (or TOML) validated by pydantic before anything runs: an unknown key or a bad value
is one line naming the key. The grid expands, in a fixed order, into *points*; points group into
*work units* (a theory unit solves a block of points in one vectorized call; a simulation unit is one
data set, shared by its lam path). Units are a pure function of the config, so a resumed or
distributed sweep recomputes exactly what an uninterrupted one computes.

Example (``experiments/raf_hinge.yaml``)::

    name: raf-hinge
    task: compare            # theory | simulate | compare
    grid:                    # each axis: a value, a list, or "start:stop:num"
      model: linear
      loss: hinge
      alpha: "0.25:4:12"
      eps: [0, 0.1, 0.3]
      lam: 0.02
    combine: product         # or zip (listed axes of equal length, taken together)
    d: 200
    seeds: 4
    store: results/raflab.duckdb
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from raflab.core import memory as memory_check
from raflab.core.checks import describe_validation_error, load_callable
from raflab.core.device import DEVICES
from raflab.core.ranges import parse_range
from raflab.raf.activations import get_activation
from raflab.raf.config import FACT_COUNTS, check_raf_params
from raflab.raf.kernel_functions import get_kernel
from raflab.raf.learner_spec import MODEL_IGNORED_AXES

NUMERIC_AXES = ("alpha", "eps", "lam", "kappa", "d")
TEXT_AXES = ("model", "loss", "activation", "kernel")
# What each kind of row depends on: theory is independent of d; a simulation also of its seed.
THEORY_KEYS = ("model", "loss", "kappa", "activation", "kernel", "eps", "lam", "alpha")
SIMULATION_KEYS = THEORY_KEYS + ("d",)

#: memory to plan a sweep, per row (points, work units, keys; measured ~850 B for theory rows,
#: ~420 B for compare rows on Python 3.11), rounded up
PLAN_BYTES_PER_ROW = 1000
#: a grid is refused when planning it would take more than this share of the available memory
PLAN_MEMORY_SHARE = 0.5

# the axes each model ignores (canonical_point drops them; grid_size does not count them):
# raflab.raf.learner_spec.MODEL_IGNORED_AXES


def _raw_count(value) -> int:
    """How many values a raw axis holds, without expanding it (a malformed one counts 1: the field's
    own validation names it)."""
    if isinstance(value, list):
        return sum(_raw_count(v) for v in value)
    if isinstance(value, str):
        parts = value.strip().split(":")
        if len(parts) == 3:
            try:
                num = float(parts[2])
            except ValueError:
                return 1
            return int(num) if num == num and num >= 1 and num != float("inf") else 1
        return value.count(",") + 1
    return 1


def grid_size(data: dict) -> dict:
    """Rows and work units a raw config (a dict as read from the file) expands to, counted without
    expanding it: an upper bound (repeated values count twice)."""
    grid = data.get("grid") or {}
    if not isinstance(grid, dict):
        return {"theory_rows": 0, "simulation_rows": 0, "units": 0}
    counts = {k: _raw_count(grid[k]) if k in grid else 1 for k in TEXT_AXES + NUMERIC_AXES}
    models = grid.get("model", "linear")
    models = [m for m in (models if isinstance(models, list) else [models]) if isinstance(m, str)] or ["linear"]
    task = data.get("task")
    seeds = data.get("seeds", 1) if isinstance(data.get("seeds", 1), int) else 1
    chunk = data.get("chunk_size", 64) if isinstance(data.get("chunk_size", 64), int) else 64
    theory = simulation = paths = 0
    for model in models:
        keep = {k: n for k, n in counts.items() if k not in MODEL_IGNORED_AXES.get(model, ()) and k != "model"}
        if data.get("combine") == "zip":
            n_sim = max(keep.values(), default=1)
            n_theory, n_paths = n_sim, n_sim
        else:
            n_theory = math.prod(n for k, n in keep.items() if k != "d")
            n_sim = n_theory * keep["d"]
            n_paths = n_sim // keep.get("lam", 1)
        theory += n_theory if task in ("theory", "compare") else 0
        simulation += n_sim * seeds if task in ("simulate", "compare") else 0
        paths += n_paths * seeds if task in ("simulate", "compare") else 0
    return {"theory_rows": theory, "simulation_rows": simulation,
            "units": -(-theory // max(1, chunk)) + paths}


def check_grid_size(data: dict) -> None:
    """Refuse, before anything is expanded, a grid whose plan would not fit in memory."""
    size = grid_size(data)
    rows = size["theory_rows"] + size["simulation_rows"]
    need = rows * PLAN_BYTES_PER_ROW
    if need <= 1e8:  # ~100,000 rows: always planned, without asking the system
        return
    if data.get("allow_large_grid") is True or memory_check.check_skipped():
        return
    have = memory_check.available_memory()
    if have is None or need <= PLAN_MEMORY_SHARE * have:  # None: nothing to read the memory from
        return
    raise ValueError(
        f"the grid expands to {rows:,} rows ({size['theory_rows']:,} theory, {size['simulation_rows']:,} "
        f"simulation) in about {size['units']:,} work units; planning them needs about {need / 1e9:.3g} GB "
        f"of memory and this machine has {have / 1e9:.3g} GB available. Shrink the grid or split it into "
        f"several sweeps, or set allow_large_grid: true in the config (or {memory_check.ENV_VAR}=1) to run it anyway")


def _numeric_axis(name: str, value) -> tuple[float, ...]:
    values = value if isinstance(value, list) else [value]
    out: list[float] = []
    for v in values:
        if isinstance(v, bool):
            raise ValueError(f"{name} must be numbers (got {v!r})")
        out += parse_range(v, name).tolist() if isinstance(v, str) else [float(v)]
    return tuple(out)


def _text_axis(name: str, value) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) for v in values):
        raise ValueError(f"{name} must be names (got {value!r})")
    return tuple(values)


class SweepGrid(BaseModel):
    """The axes of the sweep. Each is a value, a list, or a ``"start:stop:num"`` range."""

    model_config = ConfigDict(extra="forbid")

    model: tuple[str, ...] = ("linear",)
    loss: tuple[str, ...] = ("square",)
    alpha: tuple[float, ...] = (2.0,)
    eps: tuple[float, ...] = (0.0,)
    lam: tuple[float, ...] = (0.1,)
    kappa: tuple[float, ...] = (2.0,)
    activation: tuple[str, ...] = ("relu",)
    kernel: tuple[str, ...] = ("arccos",)
    d: tuple[int, ...] = (200,)

    @field_validator(*NUMERIC_AXES, mode="before")
    @classmethod
    def _numbers(cls, value, info):
        values = _numeric_axis(info.field_name, value)
        for v in values if info.field_name == "d" else [values]:
            check_raf_params(**{info.field_name: v})
        return tuple(int(v) for v in values) if info.field_name == "d" else values

    @field_validator(*TEXT_AXES, mode="before")
    @classmethod
    def _names(cls, value, info):
        values = _text_axis(info.field_name, value)
        if info.field_name in ("model", "loss"):
            for v in values:
                check_raf_params(**{info.field_name: v})
        elif info.field_name == "activation":
            for v in values:
                get_activation(load_callable(v))
        return values

    def axes(self) -> dict[str, tuple]:
        return {name: getattr(self, name) for name in TEXT_AXES + NUMERIC_AXES}


class SweepOptions(BaseModel):
    """Settings that are the same at every point."""

    model_config = ConfigDict(extra="forbid")

    kernel_params: dict[str, float] = Field(default_factory=dict, description="kernel parameters")
    fact_count: Literal[FACT_COUNTS] = "exact"
    n_test: int = Field(20_000, ge=1, description="rule test set of nonlinear learners")
    tol: float = Field(1e-10, gt=0, lt=1, description="fixed-point tolerance")
    max_iter: int = Field(20_000, ge=1)
    device: Literal[DEVICES] = "auto"


class SweepConfig(BaseModel):
    """A whole sweep: task, grid, seeds, execution chunking and result store."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    task: Literal["theory", "simulate", "compare"]
    grid: SweepGrid = Field(default_factory=SweepGrid)
    combine: Literal["product", "zip"] = "product"
    seeds: int = Field(1, ge=1, description="simulation data sets per point")
    seed: int = Field(0, ge=0, description="base seed")
    chunk_size: int = Field(64, ge=1, description="theory points per work unit (one vectorized solve)")
    options: SweepOptions = Field(default_factory=SweepOptions)
    store: str = "results/raflab.duckdb"
    allow_large_grid: bool = Field(False, description="plan a grid even when it may not fit in memory")

    @model_validator(mode="before")
    @classmethod
    def _fits_in_memory(cls, data):
        if isinstance(data, dict):
            check_grid_size(data)
        return data

    @model_validator(mode="after")
    def _zip_lengths(self):
        if self.combine == "zip":
            lengths = {k: len(v) for k, v in self.grid.axes().items() if len(v) > 1}
            if len(set(lengths.values())) > 1:
                raise ValueError("combine: zip needs the listed axes to have one length "
                                 f"(got {', '.join(f'{k}={n}' for k, n in lengths.items())})")
        if "kernel" in self.grid.model:
            for name in self.grid.kernel:
                get_kernel(name, **self.options.kernel_params)
        return self

    # -- identity ---------------------------------------------------------------------------
    def content(self) -> dict:
        """What the rows depend on (not the name, the store or allow_large_grid), canonical."""
        data = self.model_dump(mode="json", exclude={"name", "store", "allow_large_grid"})
        return json.loads(json.dumps(data, sort_keys=True))

    @property
    def config_hash(self) -> str:
        text = json.dumps(self.content(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    # -- expansion --------------------------------------------------------------------------
    def points(self) -> list[dict]:
        """Every grid point, in a fixed order; only the axes that matter to each model are kept."""
        axes = self.grid.axes()
        names = list(axes)
        if self.combine == "product":
            combos = itertools.product(*(axes[n] for n in names))
        else:
            n = max(len(v) for v in axes.values())
            combos = zip(*(axes[k] if len(axes[k]) > 1 else axes[k] * n for k in names))
        out, seen = [], set()
        for combo in combos:
            point = canonical_point(dict(zip(names, combo)))
            key = point_key(point)
            if key not in seen:  # e.g. kappa is not an axis of the linear model
                seen.add(key)
                out.append(point)
        return out

    def units(self) -> list["WorkUnit"]:
        """The work units of this sweep (theory blocks, then one per simulation data set)."""
        units: list[WorkUnit] = []
        points = self.points()
        if self.task in ("theory", "compare"):
            units += _theory_units(points, self.chunk_size)
        if self.task in ("simulate", "compare"):
            units += _simulation_units(points, self.seed, self.seeds)
        return units


def canonical_point(point: dict) -> dict:
    """Drop the axes a model ignores, so that equal experiments have equal keys."""
    drop = MODEL_IGNORED_AXES[point["model"]]
    out = {k: v for k, v in point.items() if k not in drop}
    for k in NUMERIC_AXES:
        if k in out:
            out[k] = int(out[k]) if k == "d" else float(out[k])
    return out


def point_key(point: dict, keys: tuple[str, ...] = SIMULATION_KEYS) -> str:
    """Canonical JSON of the point's values for ``keys`` (floats as repr: exact round trip)."""
    return json.dumps({k: point[k] for k in keys if k in point}, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class WorkUnit:
    """One task for a worker: ``kind`` 'theory' (a block of points, seed -1) or 'simulation'
    (one data set at one point, all its lams, one seed)."""

    kind: str
    points: tuple  # of dicts
    seed: int

    def keys(self) -> list[tuple[str, str, int]]:
        fields = THEORY_KEYS if self.kind == "theory" else SIMULATION_KEYS
        return [(self.kind, point_key(p, fields), self.seed) for p in self.points]


def _theory_units(points: list[dict], chunk_size: int) -> list[WorkUnit]:
    # one vectorized solve covers eps x alpha exactly: group by everything else and the alpha set
    theory_points = {point_key(p, THEORY_KEYS): {k: p[k] for k in THEORY_KEYS if k in p} for p in points}
    lines: dict[str, dict] = {}
    for p in theory_points.values():
        rest = point_key(p, tuple(k for k in THEORY_KEYS if k != "alpha"))
        lines.setdefault(rest, {"eps": p["eps"], "base": p, "alphas": []})["alphas"].append(p["alpha"])
    blocks: dict[str, list] = {}
    for line in lines.values():
        base = {k: v for k, v in line["base"].items() if k not in ("alpha", "eps")}
        alphas = tuple(sorted(line["alphas"]))
        blocks.setdefault(json.dumps([base, alphas], sort_keys=True), []).append(line["eps"])
    units = []
    for block, eps_values in blocks.items():
        base, alphas = json.loads(block)
        per_unit = max(1, chunk_size // len(alphas))
        for i in range(0, len(eps_values), per_unit):
            pts = tuple({**base, "eps": e, "alpha": a} for e in eps_values[i:i + per_unit] for a in alphas)
            units.append(WorkUnit("theory", pts, -1))
    return units


def _simulation_units(points: list[dict], seed: int, seeds: int) -> list[WorkUnit]:
    paths: dict[str, list] = {}
    for p in points:
        paths.setdefault(point_key(p, tuple(k for k in SIMULATION_KEYS if k != "lam")), []).append(p)
    return [WorkUnit("simulation", tuple(path), seed + s) for path in paths.values() for s in range(seeds)]


def read_config_file(path: str | Path, missing: str, keys: str) -> dict:
    """The mapping of a YAML (or ``.toml``) config file; every way it can be bad is one line.

    ``missing`` is the message for a file that is not there; ``keys`` names the expected keys in
    the message for a file that holds something other than a mapping.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(missing)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ValueError(f"cannot read config {path}: {exc.strerror}") from None
    try:
        if path.suffix == ".toml":
            import tomllib

            data = tomllib.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as exc:  # yaml/toml syntax: report where, in one line
        raise ValueError(f"{path}: cannot parse ({' '.join(str(exc).split())})") from None
    if data is None:  # an empty file: no settings
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of keys ({keys})")
    return data


def load_config(path: str | Path) -> SweepConfig:
    """Read and validate a YAML or TOML sweep file.

    Raises
    ------
    ValueError
        One line naming the file and the bad key(s), for a missing file, bad syntax or a bad value.
    """
    data = read_config_file(path, missing=f"no sweep config at {path}", keys="name, task, grid, ...")
    try:
        return SweepConfig.model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"{path}: {describe_validation_error(exc)}") from None


def config_from_dict(data: dict[str, Any]) -> SweepConfig:
    """Validate a config given as a dict (the Python API twin of :func:`load_config`)."""
    try:
        return SweepConfig.model_validate(data)
    except ValidationError as exc:
        raise ValueError(describe_validation_error(exc)) from None


__all__ = ["SweepConfig", "SweepGrid", "SweepOptions", "WorkUnit", "load_config", "config_from_dict",
           "point_key"]

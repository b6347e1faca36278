"""Every figure of the RAF study in one call: ``raflab figures --out DIR``.

Theory figures take seconds; figures with simulation points (fits at ``d``, ``seeds`` per point) and
the real-data figure take minutes on 2 cores and are skipped with ``theory_only=True``. Each figure
is one function of (out_dir, settings) -> path, timed by :func:`make_gallery`.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from raflab.raf.experiments.phase import phase_diagram
from raflab.raf.experiments.realdata import load_pools, realdata_experiment
from raflab.raf.experiments.regularization import optimal_lambda, pareto_front
from raflab.raf.experiments.simulate import simulate_erm
from raflab.raf.losses import LOSSES
from raflab.raf.theory import erm_theory
from raflab.raf.theory.bayes import bayes_optimal_theory
from raflab.raf.theory.rates import learning_rates


@dataclass(frozen=True)
class GallerySettings:
    d: int = 200  # simulation dimension
    seeds: int = 3
    seed: int = 0
    lam: float = 0.02  # small ridge of the error-vs-alpha figures
    theory_only: bool = False
    data: str = "digits"  # real-data figure
    data_dir: str | None = None

    def __post_init__(self):
        if self.d < 2 or self.seeds < 1:
            raise ValueError(f"need d >= 2 and seeds >= 1 (got d={self.d}, seeds={self.seeds})")


def _close(fig):
    import matplotlib.pyplot as plt

    plt.close(fig)


def errors_vs_alpha(out_dir: Path, s: GallerySettings, loss: str) -> Path:
    from raflab.raf.plots import plot_raf_errors

    eps = [0.0, 0.1, 0.3]
    lines = erm_theory(loss, np.linspace(0.25, 4, 60), eps, s.lam)
    sim = None if s.theory_only else simulate_erm(loss, np.linspace(0.5, 4, 8), eps, s.lam, d=s.d,
                                                  seeds=s.seeds, seed=s.seed)
    path = out_dir / f"errors_{loss}.png"
    _close(plot_raf_errors(lines, sim, path, title=f"RAF, linear learner, {loss} loss, λ={s.lam:g}"))
    return path


def random_features_errors(out_dir: Path, s: GallerySettings) -> Path:
    from raflab.raf.plots import plot_raf_errors

    opts = dict(model="rf", kappa=[0.5, 2.0, 8.0], activation="relu")
    lines = erm_theory("hinge", np.linspace(0.25, 6, 50), 0.2, 0.01, **opts)
    sim = None if s.theory_only else simulate_erm("hinge", [1.0, 3.0, 5.0], 0.2, 0.01, d=min(s.d, 150),
                                                  seeds=s.seeds, seed=s.seed, **opts)
    path = out_dir / "rf_errors_kappa.png"
    _close(plot_raf_errors(lines, sim, path, title="random features (relu), hinge, ε=0.2, λ=0.01: κ = p/d"))
    return path


def phase(out_dir: Path, s: GallerySettings) -> Path:
    from raflab.raf.plots import plot_phase_diagram

    # lam = 1e-3: the lam -> 0+ plane is `raflab phase --lam 0` (with the capacity line), ~0.1 s of theory
    grid = {"alpha": np.linspace(0.25, 6, 24), "eps": np.linspace(0, 1, 21), "lam": np.array([1e-3])}
    df = phase_diagram("hinge", grid)
    path = out_dir / "phase_hinge.png"
    _close(plot_phase_diagram(df, "alpha", "eps", out=path,
                              title="linear hinge, λ=0.001: where the rule is learned and the facts are stored"))
    return path


def pareto(out_dir: Path, s: GallerySettings) -> Path:
    from raflab.raf.plots import plot_pareto_front

    lams = np.concatenate([[0.0], np.geomspace(1e-4, 1e2, 50)])
    fronts = pd.concat([pareto_front("hinge", 2.0, e, lams) for e in (0.1, 0.3)], ignore_index=True)
    best = optimal_lambda("hinge", 2.0, [0.1, 0.3])
    path = out_dir / "pareto_hinge.png"
    _close(plot_pareto_front(fronts, best, out=path, title="linear hinge, α=2: what λ trades"))
    return path


def bayes_and_optimal(out_dir: Path, s: GallerySettings) -> Path:
    from raflab.raf.plots import plot_learning_curves

    alphas, eps = np.linspace(0.5, 6, 12), [0.0, 0.2, 0.5]
    curves = [bayes_optimal_theory(np.linspace(0.1, 6, 60), eps).assign(learner="Bayes-optimal")]
    for loss in LOSSES:
        # one vectorized solve over a log grid of lam, the best lam picked per (alpha, eps)
        scan = erm_theory(loss, alphas, eps, np.geomspace(1e-3, 1e2, 21))
        scan = scan[scan["converged"].astype(bool)]
        best = scan.loc[scan.groupby(["eps", "alpha"])["gen_error"].idxmin()]
        curves.append(best.assign(learner=f"{loss}, optimal λ"))
    path = out_dir / "bayes_vs_optimal_lam.png"
    _close(plot_learning_curves(pd.concat(curves, ignore_index=True), out=path,
                                title="Bayes-optimal rule learning vs optimally regularized ERM"))
    return path


def rates(out_dir: Path, s: GallerySettings) -> Path:
    from raflab.raf.plots import plot_rates

    eps = [0.0, 0.2, 0.5]
    fits = pd.concat([learning_rates("square", eps, 0.1).assign(learner="square"),
                      learning_rates("square", eps, 0.0, model_options={"model": "bayes"}).assign(learner="bayes")],
                     ignore_index=True)
    alphas = np.geomspace(10, 1e4, 40)
    curves = pd.concat([erm_theory("square", alphas, eps, 0.1).assign(learner="square"),
                        erm_theory("square", alphas, eps, 0.0, model="bayes").assign(learner="bayes")],
                       ignore_index=True)
    path = out_dir / "rates.png"
    _close(plot_rates(curves, fits, out=path, series="learner",
                      title="large α: square loss ∝ α^-1/2, Bayes-optimal ∝ α^-1"))
    return path


def real_data(out_dir: Path, s: GallerySettings) -> Path:
    from raflab.raf.plots import plot_realdata

    records = realdata_experiment(data=s.data, alpha=3.0, eps=0.2, lam=np.geomspace(1e-4, 10, 11),
                                  data_dir=s.data_dir, seeds=max(s.seeds, 5), seed=s.seed)
    path = out_dir / f"realdata_{s.data}.png"
    _close(plot_realdata(records, out=path, title=f"{s.data}: rule 3 vs 5, facts = 1s with random labels, "
                                                        "α=3, ε=0.2"))
    return path


def kernel_geometry_figure(out_dir: Path, s: GallerySettings) -> Path:
    from raflab.raf.experiments.geometry import kernel_geometry
    from raflab.raf.plots import plot_kernel_geometry

    records = kernel_geometry(2.0, 0.2, 0.01, np.linspace(0.1, 2.0, 20), np.linspace(0, 2.2, 12))
    path = out_dir / "kernel_geometry.png"
    _close(plot_kernel_geometry(records, out=path, title="kernel geometry: α=2, ε=0.2, λ=0.01"))
    return path


def real_data_bandwidth(out_dir: Path, s: GallerySettings) -> Path:
    from raflab.raf.experiments.realdata import realdata_front
    from raflab.raf.plots import plot_realdata_front

    records = realdata_front(realdata_experiment(
        data=s.data, alpha=3.0, eps=0.2, lam=np.geomspace(1e-4, 100, 7), data_dir=s.data_dir,
        eta=("median", 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0), seeds=max(s.seeds, 5), seed=s.seed))
    path = out_dir / f"realdata_{s.data}_eta_lam.png"
    _close(plot_realdata_front(records, out=path, title=f"{s.data}: RBF bandwidth η x λ, α=3, ε=0.2"))
    return path


def make_gallery(out_dir: str | Path, settings: GallerySettings | None = None) -> pd.DataFrame:
    """Draw every RAF figure into ``out_dir``; one record per figure with its wall time."""
    settings = settings or GallerySettings()
    out_dir = Path(out_dir)
    if not settings.theory_only:  # a missing data set fails here, before any figure is written
        load_pools(settings.data, data_dir=settings.data_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = [(f"errors_{loss}", "theory" if settings.theory_only else "theory + fits",
             lambda loss=loss: errors_vs_alpha(out_dir, settings, loss)) for loss in LOSSES]
    jobs += [("rf_errors_kappa", "theory" if settings.theory_only else "theory + fits",
              lambda: random_features_errors(out_dir, settings)),
             ("phase_hinge", "theory", lambda: phase(out_dir, settings)),
             ("pareto_hinge", "theory", lambda: pareto(out_dir, settings)),
             ("bayes_vs_optimal_lam", "theory", lambda: bayes_and_optimal(out_dir, settings)),
             ("rates", "theory", lambda: rates(out_dir, settings)),
             ("kernel_geometry", "theory", lambda: kernel_geometry_figure(out_dir, settings))]
    if not settings.theory_only:
        jobs.append((f"realdata_{settings.data}", "fits", lambda: real_data(out_dir, settings)))
        jobs.append((f"realdata_{settings.data}_eta_lam", "fits", lambda: real_data_bandwidth(out_dir, settings)))
    rows = []
    for name, kind, job in jobs:
        start = time.perf_counter()
        with warnings.catch_warnings():  # unconverged theory points are flagged (and not drawn)
            warnings.simplefilter("ignore")
            path = job()
        rows.append({"figure": name, "kind": kind, "path": str(path), "seconds": time.perf_counter() - start})
    return pd.DataFrame(rows)

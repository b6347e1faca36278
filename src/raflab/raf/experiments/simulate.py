"""Finite-size RAF experiments: config -> data -> fit -> metrics -> records (mean and stderr).

The same records as :func:`raflab.raf.theory.linear_erm_theory` (same keys, same error definitions),
plus ``d``, ``n_seeds`` and a ``<error>_stderr`` column per error, so theory and simulation join
on (model, loss, alpha, eps, lam).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from raflab.core.device import resolve_device
from raflab.core.memory import BYTES_PER_RECORD, FLOAT64, require_memory
from raflab.core.progress import track_rows
from raflab.core.seeding import point_rng
from raflab.core.summary import summarize
from raflab.raf.config import RAFConfig, check_raf_params
from raflab.raf.data import RAFSample, sample_raf, sample_rule_test_set
from raflab.raf.kernel_functions import get_kernel
from raflab.raf.learner_spec import LearnerSpec, learner_spec
from raflab.raf.learners.bayes import gamp_perceptron
from raflab.raf.learners.erm import LinearERM, NotSeparableError, ridge_path
from raflab.raf.learners.kernel_erm import kernel_features
from raflab.raf.learners.random_features import random_feature_matrix, random_features
from raflab.raf.losses import get_loss
from raflab.raf.metrics import error_rate, generalization_error_from_overlaps, raf_training_errors
from raflab.raf.theory.erm import _label

#: per-seed quantities averaged into a record; the errors also get a ``_stderr`` column
MEASURED = ("gen_error", "rule_train_error", "fact_memorization_error", "train_loss", "m", "q")
STDERR_OF = ("gen_error", "rule_train_error", "fact_memorization_error", "train_loss")


def linear_fit_metrics(sample: RAFSample, coef: np.ndarray, loss: str) -> dict[str, float]:
    """The RAF metrics of a linear student ``coef`` on its own training set.

    The generalization error is the exact population error on Gaussian inputs, arccos of the
    student-teacher angle over pi, rather than a noisy test-set estimate.
    """
    d = sample.X.shape[1]
    scores = sample.X @ coef / np.sqrt(d)
    teacher_norm2 = sample.teacher @ sample.teacher / d
    m, q = float(coef @ sample.teacher / d), float(coef @ coef / d)
    return {
        "gen_error": float(generalization_error_from_overlaps(m, q, teacher_norm2)),
        **raf_training_errors(sample.y, scores, sample.is_fact),
        "train_loss": float(np.mean(get_loss(loss).value(sample.y, scores))),
        "m": m,
        "q": q,
    }


def bayes_fit_metrics(sample: RAFSample) -> dict[str, float]:
    """The rule's generalization error (and overlaps) of the GAMP posterior mean; the training
    errors of the Bayes-optimal estimator are not part of its theory (NaN), nor is a loss."""
    d = sample.X.shape[1]
    eps = sample.n_facts / len(sample.y)
    coef = gamp_perceptron(sample.X, sample.y, eps).coef if eps < 1 else np.zeros(d)
    m, q = float(coef @ sample.teacher / d), float(coef @ coef / d)
    gen = 0.5 if q == 0 else float(generalization_error_from_overlaps(m, q, sample.teacher @ sample.teacher / d))
    return {"gen_error": gen, "rule_train_error": np.nan, "fact_memorization_error": np.nan,
            "train_loss": np.nan, "m": m, "q": q}


def fit_lam_path(sample: RAFSample, loss: str, lams) -> list[np.ndarray]:
    """Coefficients for every lam on one training set (square loss: one SVD for the path)."""
    return fit_path(sample.X, sample.y, loss, lams)


def fit_path(X, y, loss: str, lams) -> list[np.ndarray]:
    """Linear ERM coefficients on inputs (or features) X for every lam of a path."""
    if loss == "square":
        return list(ridge_path(X, y, lams))
    return [LinearERM(loss=loss, lam=lam).fit(X, y).coef_ for lam in lams]


def scores_fit_metrics(sample: RAFSample, train_scores, test_scores, test_teacher_field,
                       loss: str) -> dict[str, float]:
    """The RAF metrics of any predictor from its scores on the training set and a rule test set.

    m and q are the test-set estimates of E[f(x) w*.x/sqrt d] and E[f(x)^2], the overlaps the
    theory reports for nonlinear learners.
    """
    test_labels = np.where(test_teacher_field >= 0, 1.0, -1.0)
    return {
        "gen_error": error_rate(test_labels, test_scores),
        **raf_training_errors(sample.y, train_scores, sample.is_fact),
        "train_loss": float(np.mean(get_loss(loss).value(sample.y, train_scores))),
        "m": float(np.mean(test_scores * test_teacher_field)),
        "q": float(np.mean(test_scores**2)),
    }


def _fit_point(learner: LearnerSpec, sample: RAFSample, loss: str, lams, rng, *, kappa, n_test,
               device="cpu") -> list[dict]:
    """Metrics of every lam on one (alpha, eps, seed) data set, for any learner (one ``kappa`` for rf)."""
    model = learner.model
    if model == "linear":
        return [linear_fit_metrics(sample, coef, loss) for coef in fit_lam_path(sample, loss, lams)]
    if model == "bayes":
        return [bayes_fit_metrics(sample)]
    X_test, _ = sample_rule_test_set(sample.teacher, n_test, rng)
    field = X_test @ sample.teacher / np.sqrt(sample.X.shape[1])
    if model == "rf":
        F = random_feature_matrix(max(1, int(round(kappa * sample.X.shape[1]))), sample.X.shape[1], rng)
        Phi = random_features(sample.X, F, learner.activation, device=device)
        Phi_test = random_features(X_test, F, learner.activation, device=device)
        root_p = np.sqrt(Phi.shape[1])
        return [scores_fit_metrics(sample, Phi @ c / root_p, Phi_test @ c / root_p, field, loss)
                for c in fit_path(Phi, sample.y, loss, lams)]
    # kernel: one kernel matrix and one eigendecomposition serve the whole lam path (as KernelERM
    # fits them: LinearERM on Z = U sqrt(S) sqrt(r), f(x) = k(x, X) U S^{-1/2} w)
    k = get_kernel(learner.kernel, **learner.kernel_params)
    Z, U, S = kernel_features(k.matrix(sample.X))
    to_test = k.matrix(X_test, sample.X) @ (U / np.sqrt(S))
    return [scores_fit_metrics(sample, U @ (np.sqrt(S) * w), to_test @ w, field, loss)
            for w in fit_path(Z, sample.y, loss, lams)]


def simulate_erm(
    loss: str,
    alpha,
    eps=0.0,
    lam=0.0,
    *,
    model: str = "linear",
    kappa=1.0,
    activation="relu",
    kernel="arccos",
    kernel_params: dict | None = None,
    d: int = 1000,
    seeds: int = 5,
    seed: int = 0,
    fact_count: str = "exact",
    n_test: int = 20_000,
    device: str = "auto",
    progress: bool = False,
    raw: bool = False,
    learner: LearnerSpec | None = None,
) -> pd.DataFrame:
    """Fit ERM on RAF data over the grid alpha x eps x lam (x kappa), ``seeds`` draws per point.

    Each (alpha, eps, seed) draws one data set (from :func:`raflab.core.seeding.point_rng`) that serves
    the whole lam path; random features F and the test set come from the same stream, after the data.

    Parameters
    ----------
    model : {'linear', 'rf', 'kernel', 'bayes'}
        As in :func:`raflab.raf.theory.erm_theory`; ``kappa`` and ``activation`` for rf, ``kernel`` and
        ``kernel_params`` for kernels.
    learner : LearnerSpec, optional
        The learner as one validated object (:mod:`raflab.raf.learner_spec`), instead of ``model``,
        ``kappa``, ``activation``, ``kernel`` and ``kernel_params``.
    n_test : int
        Size of the rule test set of nonlinear learners (the linear learner's generalization error
        is exact, from its angle to the teacher).
    device : {'auto', 'cpu', 'cuda'}
        Where random features are computed (``raflab.core.device``).

    Returns
    -------
    pandas.DataFrame
        One record per grid point ordered by (kappa, eps, lam, alpha): means of the metrics, ``d``,
        ``n_seeds`` and ``<error>_stderr`` (standard error of the mean over seeds, ddof=1; undefined,
        NaN, with a single seed). With ``raw=True``, one row per (point, seed) instead.

    Raises
    ------
    raflab.raf.learners.erm.NotSeparableError
        For hinge with lam = 0 (max-margin) on data that no hyperplane separates. (Logistic at
        lam = 0 then returns the maximum-likelihood fit instead.)
    """
    alpha, eps, lam = (np.atleast_1d(np.asarray(v, dtype=float)).ravel() for v in (alpha, eps, lam))
    check_raf_params(alpha=alpha, eps=eps, lam=lam, loss=loss, d=d)
    learner = learner_spec(model if learner is None else learner, kappa, activation, kernel, kernel_params or {})
    model = learner.model
    kappas = np.atleast_1d(np.asarray(learner.kappa, dtype=float)).ravel() if model == "rf" else np.ones(1)
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1 (got {seeds})")
    if seed < 0:
        raise ValueError(f"seed must be an integer >= 0 (got {seed})")
    _require_fit_memory(model, d, float(alpha.max()), float(kappas.max()), n_test,
                        records=kappas.size * eps.size * alpha.size * seeds * lam.size)
    # only random features use a device; the others need not pay for importing torch
    device = resolve_device(device) if model == "rf" else "cpu"
    jobs = list(itertools.product(kappas, eps, alpha, range(seeds)))
    if progress:
        jobs = track_rows(jobs, f"fitting {model} {loss} (d={d})", unit="fits")
    extra = _model_columns(model, learner.activation, learner.kernel)
    rows = []
    for k, e, a, s in jobs:
        config = RAFConfig(d=d, alpha=a, eps=e, loss=loss, fact_count=fact_count)
        rng = point_rng(seed + s, d, a, e)
        sample = sample_raf(config, rng)
        try:
            metrics = _fit_point(learner, sample, loss, lam, rng, kappa=k, n_test=n_test, device=device)
        except NotSeparableError as exc:
            raise NotSeparableError(f"{exc} (alpha={a:g}, eps={e:g}, d={d}, seed {seed + s})") from None
        if model == "bayes":  # one estimator per data set: no loss, no lam path
            rows.append({"model": model, "alpha": a, "eps": e, "seed": seed + s, **metrics[0]})
            continue
        for l_, values in zip(lam, metrics):
            row = {"model": model, "loss": loss, "alpha": a, "eps": e, "lam": l_}
            if model == "rf":
                row["kappa"] = k
            rows.append({**row, **extra, "seed": seed + s, **values})
    per_seed = pd.DataFrame(rows)
    order = (["kappa"] if model == "rf" else []) + (["eps", "alpha"] if model == "bayes" else ["eps", "lam", "alpha"])
    if raw:
        return per_seed.sort_values(order + ["seed"], ignore_index=True)
    return summarize_seeds(per_seed, d)


def _require_fit_memory(model: str, d: int, alpha: float, kappa: float, n_test: int, records: int = 1) -> None:
    """Refuse a fit whose arrays (float64, at the largest alpha and kappa), with the per-seed records
    of the whole grid, cannot fit in memory."""
    n = max(1, int(round(alpha * d)))
    if model == "rf":  # F (p x d), features of the training and test sets, their SVD, the test inputs
        p = max(1, int(round(kappa * d)))
        floats = p * d + 2 * n * p + n_test * p + n_test * d + min(n, p) ** 2
        what = f"a random-features fit at d={d}, n={n}, p={p}"
    elif model == "kernel":  # kernel matrix, its eigenvectors and features, test-train kernel
        floats = 3 * n * n + 2 * n_test * n + (n + n_test) * d
        what = f"a kernel fit at d={d}, n={n}"
    else:  # the inputs and their SVD (linear), or GAMP's copies of them (bayes)
        floats = 3 * n * d + min(n, d) ** 2
        what = f"a {model} fit at d={d}, n={n}"
    if records > 1000:
        what = f"{records:,} fits (each {what.removeprefix('a ')})"
    require_memory(FLOAT64 * floats + BYTES_PER_RECORD * records, what)


def simulate_linear_erm(loss: str, alpha, eps=0.0, lam=0.0, **options) -> pd.DataFrame:
    """:func:`simulate_erm` for the linear learner."""
    return simulate_erm(loss, alpha, eps, lam, model="linear", **options)


def _model_columns(model: str, activation, kernel) -> dict:
    if model == "rf":
        return {"activation": _label(activation)}
    if model == "kernel":
        return {"kernel": _label(kernel)}
    return {}


def summarize_seeds(per_seed: pd.DataFrame, d: int | None = None) -> pd.DataFrame:
    """Mean over seeds, with the standard error of each error and loss.

    One record per point: the point's keys present in ``per_seed`` (``d`` too when it is a column,
    as in a sweep's rows; otherwise pass the one ``d``), missing keys of a mixed table kept as NaN.
    """
    keys = [k for k in ("model", "loss", "alpha", "eps", "lam", "kappa", "activation", "kernel", "d")
            if k in per_seed.columns and per_seed[k].notna().any()]
    out = summarize(per_seed, keys, MEASURED, stderr_of=STDERR_OF)
    if d is not None:
        out.insert(len(keys), "d", d)
    order = [k for k in ("kappa", "d", "eps", "lam", "alpha") if k in keys]
    return out.sort_values(order, ignore_index=True)

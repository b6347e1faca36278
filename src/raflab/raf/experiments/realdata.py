"""Rules and facts on real images: the paper's protocol, kernel vs linear learner.

Protocol (one seed):

- the *rule* is a two-class problem: images of ``rule[0]`` get label +1, images of ``rule[1]`` -1;
- the *facts* are images of the ``facts`` classes with independent fair ±1 labels;
- n = round(alpha d) training samples (d = number of pixels), round(eps n) of them facts
  (``fact_count='exact'``) or Binomial(n, eps) (``'bernoulli'``), the rest rule images drawn
  without replacement from the two rule classes pooled;
- inputs are z-scored per pixel with the mean and standard deviation of the *training* samples of
  that seed only (a pixel constant on the training set keeps scale 1), and the same affine map is
  applied to the test images;
- the generalization error is measured on held-out rule images: the official test split for
  mnist / fashion-mnist / cifar10; for digits (one split) a stratified ``test_fraction`` of the
  rule images, redrawn per seed, is set aside before the training set is drawn.

Learners, all without intercept, on the objective J = sum_mu loss(y_mu, f(x_mu)) + (lam / 2) |f|^2:

- ``kernel='linear'`` (model ``linear``): the linear learner f(x) = w.x / sqrt(d) on the z-scored
  pixels (:func:`raflab.raf.experiments.simulate.fit_path`, i.e. :func:`raflab.raf.learners.erm.ridge_path`
  or :class:`raflab.raf.learners.erm.LinearERM`);
- ``kernel='rbf'`` (model ``kernel``): K(x, x') = exp(-eta |x - x'|^2 / d), the bandwidth eta in
  raflab's :class:`raflab.raf.kernel_functions.RBFKernel` convention (its ``gamma``; scikit-learn's
  ``gamma`` is eta / d), so an eta of the real-data sweep is the RBF point
  (mu1, mu_star) = RBFKernel(eta).moments() of the kernel-geometry plane
  (:mod:`raflab.raf.experiments.geometry`; z-scored inputs have |x|^2 / d close to 1). ``eta='median'``
  is the median heuristic K = exp(-|x - x'|^2 / (2 s^2)), s^2 = median over training pairs
  mu < nu of |x_mu - x_nu|^2, i.e. eta = d / (2 s^2), set per seed. One eigendecomposition
  K = U S U^T (:func:`raflab.raf.learners.kernel_erm.kernel_features`) per eta serves the whole lam
  path and every loss, as in :class:`raflab.raf.learners.kernel_erm.KernelERM`.

The (generalization, memorization) front over the eta x lam grid of each learner is marked by
:func:`realdata_front` (column ``on_front``: no other (eta, lam) is at least as good on both errors
and better on one).

Both kernels have K(x, x) ~ 1 on z-scored inputs (RBF: exactly 1; linear: |x|^2 / d averages to the
fraction of pixels not constant on the training set: ~0.85 for digits, whose border is blank), so one lam
means a comparable penalty for both. scikit-learn twins on the precomputed kernel:
``KernelRidge(alpha=lam)`` minimizes 2 J (square loss (y - f)^2 / 2), ``SVC(C=1/lam)`` minimizes
J / lam (hinge) but with a free intercept.

Example
-------
>>> df = realdata_experiment("digits", rule=(3, 5), facts=(1,), alpha=1, eps=0.2,
...                          lam=[0.01, 1.0], kernel=("rbf", "linear"), seeds=2)
>>> sorted(df["model"].unique()), len(df)
(['kernel', 'linear'], 4)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial.distance import pdist

from raflab.core.checks import one_of
from raflab.core.images import load_images
from raflab.core.progress import track_rows
from raflab.core.seeding import point_rng
from raflab.core.summary import summarize
from raflab.raf.config import FACT_COUNTS, check_raf_params
from raflab.raf.experiments.simulate import fit_path
from raflab.raf.kernel_functions import get_kernel
from raflab.raf.learners.erm import NotSeparableError
from raflab.raf.learners.kernel_erm import kernel_features
from raflab.raf.losses import get_loss
from raflab.raf.metrics import error_rate, raf_training_errors

__all__ = ["ImagePools", "RealDataSplit", "load_pools", "draw_split", "zscore", "median_rbf_gamma",
           "fit_scores_path", "realdata_experiment", "realdata_front", "REALDATA_KERNELS", "DEFAULT_CLASSES",
           "CIFAR10_CLASSES"]

#: CIFAR-10's class names by label
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
#: (rule, facts) of each data set when none are given: for CIFAR-10 the paper's choice, cat (+1) vs
#: dog (-1) as the rule and automobile images as the facts; the same labels for the others
DEFAULT_CLASSES = {"digits": ((3, 5), (1,)), "mnist": ((3, 5), (1,)), "fashion-mnist": ((3, 5), (1,)),
                   "cifar10": ((CIFAR10_CLASSES.index("cat"), CIFAR10_CLASSES.index("dog")),
                               (CIFAR10_CLASSES.index("automobile"),))}

#: learners of the experiment: kernel name -> model column
REALDATA_KERNELS = {"rbf": "kernel", "linear": "linear"}
#: per-seed errors averaged into a record, each with a ``_stderr`` column
ERRORS = ("gen_error", "rule_train_error", "fact_memorization_error", "train_loss")


@dataclass
class ImagePools:
    """Flattened images of the classes an experiment uses, split into train and test pools.

    ``rule_train[i]`` / ``rule_test[i]`` hold the images of ``rule[i]``; ``fact_train`` those of all
    fact classes. ``rule_test`` is None for a data set with one split (digits): it is then carved
    out of ``rule_train`` per seed.
    """

    data: str
    rule: tuple[int, int]
    facts: tuple[int, ...]
    rule_train: tuple[np.ndarray, np.ndarray]
    rule_test: tuple[np.ndarray, np.ndarray] | None
    fact_train: np.ndarray

    @property
    def d(self) -> int:
        return self.fact_train.shape[1]


@dataclass
class RealDataSplit:
    """One seed's z-scored training set (``is_fact`` marks the facts) and rule test set."""

    X: np.ndarray
    y: np.ndarray
    is_fact: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    mean: np.ndarray
    scale: np.ndarray


def _check_classes(rule, facts, present) -> tuple[tuple[int, int], tuple[int, ...]]:
    rule, facts = tuple(int(c) for c in rule), tuple(int(c) for c in facts)
    if len(rule) != 2 or rule[0] == rule[1]:
        raise ValueError(f"the rule needs exactly two distinct classes (got {','.join(map(str, rule)) or 'none'})")
    if not facts:
        raise ValueError("the facts need at least one class")
    overlap = sorted(set(rule) & set(facts))
    if overlap:
        raise ValueError(f"rule and fact classes overlap: {','.join(map(str, overlap))} is in both")
    missing = [c for c in (*rule, *facts) if c not in present]
    if missing:
        raise ValueError(f"class {missing[0]} does not exist in this data set; its classes are "
                         f"{','.join(map(str, present))}")
    return rule, facts


def load_pools(data: str = "digits", rule=None, facts=None, data_dir=None) -> ImagePools:
    """Images of the rule and fact classes from :func:`raflab.core.images.load_images`, flattened.

    Raises
    ------
    ValueError
        For an unknown data set, a missing ``data_dir`` (or one without the files), a rule that is
        not two distinct classes, overlapping rule and fact classes, or a class the data lack.
    """
    one_of(data, DEFAULT_CLASSES, "image data set")
    rule = DEFAULT_CLASSES[data][0] if rule is None else rule
    facts = DEFAULT_CLASSES[data][1] if facts is None else facts
    images, labels = load_images(data, data_dir, "train")
    present = sorted(int(c) for c in np.unique(labels))
    rule, facts = _check_classes(rule, facts, present)
    flat = images.reshape(len(images), -1).astype(float)
    rule_train = tuple(flat[labels == c] for c in rule)
    fact_train = flat[np.isin(labels, facts)]
    rule_test = None
    if data != "digits":
        test_images, test_labels = load_images(data, data_dir, "test")
        test_flat = test_images.reshape(len(test_images), -1).astype(float)
        rule_test = tuple(test_flat[test_labels == c] for c in rule)
        if sum(len(t) for t in rule_test) == 0:
            raise ValueError(f"{data}: the test split has no images of classes {rule[0]},{rule[1]}")
    return ImagePools(data, rule, facts, rule_train, rule_test, fact_train)


def zscore(train: np.ndarray, *others: np.ndarray):
    """Per-pixel z-scoring with the statistics of ``train`` only.

    A pixel constant on the training set (the blank border of digits) keeps scale 1, so it is 0 on
    the training set and carries the test images' deviation from the training value.

    Returns
    -------
    (train_z, [others_z, ...], mean, scale)
    """
    mean = train.mean(axis=0)
    scale = train.std(axis=0)
    scale = np.where(scale > 1e-12 * max(float(scale.max(initial=0.0)), 1.0), scale, 1.0)
    return (train - mean) / scale, [(o - mean) / scale for o in others], mean, scale


def _holdout(pools: ImagePools, seed: int, test_fraction: float):
    """(train pools, test pools) of the two rule classes; digits: a stratified per-seed holdout."""
    if pools.rule_test is not None:
        return pools.rule_train, pools.rule_test
    rng = point_rng(seed)  # one held-out set per seed, the same for every (alpha, eps)
    train, test = [], []
    for images in pools.rule_train:
        order = rng.permutation(len(images))
        k = int(round(test_fraction * len(images)))
        test.append(images[order[:k]])
        train.append(images[order[k:]])
    return tuple(train), tuple(test)


def draw_split(pools: ImagePools, alpha: float, eps: float, seed: int, *, fact_count: str = "exact",
               test_fraction: float = 0.3, max_test: int | None = None) -> RealDataSplit:
    """One seed's training set and rule test set, z-scored with the training statistics.

    The held-out rule images come from ``point_rng(seed)``; the subsample, which samples are facts
    and the fact labels from ``point_rng(seed, alpha, eps)``.

    Raises
    ------
    ValueError
        When a class has too few images for n = round(alpha d) (the message says how many there are).
    """
    d = pools.d
    n = int(round(alpha * d))
    if n < 1:
        raise ValueError(f"alpha={alpha:g} gives n = round(alpha d) = 0 training samples (d={d})")
    rule_pool, test_pool = _holdout(pools, seed, test_fraction)
    rng = point_rng(seed, alpha, eps)
    n_facts = int(round(eps * n)) if fact_count == "exact" else int(rng.binomial(n, eps))
    n_rule = n - n_facts
    rule_images = np.concatenate(rule_pool)
    rule_labels = np.concatenate([np.ones(len(rule_pool[0])), -np.ones(len(rule_pool[1]))])
    where = "available for training" + (f" ({sum(map(len, pools.rule_train))} in all, the rest held out "
                                        "for testing)" if pools.rule_test is None else "")
    if n_rule > len(rule_images):
        raise ValueError(f"alpha={alpha:g}, eps={eps:g} needs {n_rule} rule images (n = {n}, d = {d}) but "
                         f"{pools.data} has only {len(rule_images)} of classes "
                         f"{pools.rule[0]},{pools.rule[1]} {where}")
    if n_facts > len(pools.fact_train):
        raise ValueError(f"alpha={alpha:g}, eps={eps:g} needs {n_facts} fact images (n = {n}, d = {d}) but "
                         f"{pools.data} has only {len(pools.fact_train)} of class(es) "
                         f"{','.join(map(str, pools.facts))}")
    pick = rng.choice(len(rule_images), size=n_rule, replace=False)
    fact_pick = rng.choice(len(pools.fact_train), size=n_facts, replace=False)
    fact_labels = rng.choice([-1.0, 1.0], size=n_facts)
    order = rng.permutation(n)  # facts are not at the end: nothing downstream may rely on the order
    X = np.concatenate([rule_images[pick], pools.fact_train[fact_pick]])[order]
    y = np.concatenate([rule_labels[pick], fact_labels])[order]
    is_fact = np.concatenate([np.zeros(n_rule, bool), np.ones(n_facts, bool)])[order]
    X_test = np.concatenate(test_pool)
    y_test = np.concatenate([np.ones(len(test_pool[0])), -np.ones(len(test_pool[1]))])
    if max_test is not None and len(X_test) > max_test:
        keep = rng.choice(len(X_test), size=max_test, replace=False)
        X_test, y_test = X_test[keep], y_test[keep]
    if len(X_test) == 0:
        raise ValueError(f"no held-out rule images to measure the generalization error "
                         f"(test_fraction={test_fraction:g})")
    X, (X_test,), mean, scale = zscore(X, X_test)
    return RealDataSplit(X, y, is_fact, X_test, y_test, mean, scale)


def median_rbf_gamma(X: np.ndarray) -> float:
    """scikit-learn's RBF gamma of the median heuristic: 1 / (2 s^2), s^2 = median_{mu<nu} |x_mu - x_nu|^2.

    (raflab's :class:`raflab.raf.kernel_functions.RBFKernel` divides distances by d: its gamma is d times this.)
    """
    if len(X) < 2:
        raise ValueError("the median-distance bandwidth needs at least two training samples")
    s2 = float(np.median(pdist(X, "sqeuclidean")))
    if s2 <= 0:
        raise ValueError("the median squared distance between training images is 0 (duplicates)")
    return 1.0 / (2.0 * s2)


def fit_scores_path(K: np.ndarray, K_test: np.ndarray, y: np.ndarray, loss: str, lams):
    """Scores on the training and test inputs of the kernel ERM for every lam, from one
    eigendecomposition of the precomputed training kernel K (n, n); K_test is (m, n).

    f minimizes sum_mu loss(y_mu, f(x_mu)) + (lam / 2) |f|_H^2 without intercept; the fits are
    :func:`raflab.raf.experiments.simulate.fit_path` on the features Z = U sqrt(S) sqrt(r) of
    :func:`raflab.raf.learners.kernel_erm.kernel_features` (so f(X) = U sqrt(S) w, f(x) = k(x, X) U S^{-1/2} w).

    Square loss (kernel ridge) needs nothing more than that eigendecomposition: in the features
    Z / sqrt(r) = U sqrt(S) the ridge solution is already diagonal, w(lam) = sqrt(S) U^T y / (S + lam)
    (lam = 0: the min-RKHS-norm interpolator, on the kept eigenvalues), so f(X) = U S/(S + lam) U^T y.
    Other losses fit :class:`raflab.raf.learners.erm.LinearERM` on Z for each lam.

    Returns
    -------
    list of (train_scores (n,), test_scores (m,)), one per lam
    """
    lams = np.atleast_1d(np.asarray(lams, dtype=float)).ravel()
    Z, U, S = kernel_features(K)
    to_test = K_test @ (U / np.sqrt(S))
    if loss == "square":
        if not np.all(np.isfinite(lams) & (lams >= 0)):
            raise ValueError(f"lam must be finite and >= 0 (got {lams})")
        # ridge_path(Z) would diagonalize Z^T Z = r diag(S) a second time: it is diagonal already
        Uty = U.T @ np.asarray(y, dtype=float)
        ws = np.sqrt(S) * Uty / (S + lams[:, None])
    else:
        ws = fit_path(Z, y, loss, lams)
    return [(U @ (np.sqrt(S) * w), to_test @ w) for w in ws]


def _fit_learner(kernel: str, split: RealDataSplit, loss: str, lams, eta="median"):
    """(train_scores, test_scores) per lam and the RBF bandwidth eta of raflab's convention (NaN for
    linear); ``eta='median'``: the median heuristic's."""
    if kernel == "linear":
        root_d = np.sqrt(split.X.shape[1])
        return [(split.X @ w / root_d, split.X_test @ w / root_d) for w in fit_path(split.X, split.y, loss, lams)], np.nan
    d = split.X.shape[1]
    eta = median_rbf_gamma(split.X) * d if eta == "median" else float(eta)  # raflab's RBF divides by d
    k = get_kernel("rbf", gamma=eta)
    return fit_scores_path(k.matrix(split.X), k.matrix(split.X_test, split.X), split.y, loss, lams), eta


def _check_etas(eta) -> tuple:
    """``'median'``, a number > 0, or a sequence of them -> a tuple of 'median' and floats."""
    values = (eta,) if isinstance(eta, str) or np.isscalar(eta) else tuple(eta)
    out = []
    for v in values:
        if isinstance(v, str):
            if v != "median":
                raise ValueError(f"eta must be 'median' or a number > 0 (got {v!r})")
            out.append(v)
        elif not (np.isfinite(v) and v > 0):
            raise ValueError(f"eta must be 'median' or a number > 0 (got {v!r})")
        else:
            out.append(float(v))
    if not out:
        raise ValueError("eta needs at least one value")
    return tuple(dict.fromkeys(out))


def _bandwidth_label(eta) -> str:
    return eta if isinstance(eta, str) else f"{eta:g}"


def realdata_front(records: pd.DataFrame, tol: float = 1e-12) -> pd.DataFrame:
    """``records`` with ``on_front``: within each learner (model, kernel) and (data, rule, facts, loss,
    alpha, eps), the (bandwidth, lam) points that no other point of the group beats on both the
    generalization and the fact memorization error (at least as good on both, better on one;
    differences below ``tol`` are ties). A missing fact memorization error (eps = 0) counts as 0."""
    from raflab.raf.experiments.regularization import non_dominated

    keys = [k for k in ("data", "rule", "facts", "model", "kernel", "loss", "alpha", "eps") if k in records]
    out = records.copy()
    out["on_front"] = False
    for _, part in out.groupby(keys, sort=False, dropna=False):
        g, f = part["gen_error"].to_numpy(float), part["fact_memorization_error"].fillna(0.0).to_numpy(float)
        out.loc[part.index, "on_front"] = non_dominated(g, f, tol)
    return out


def _metrics(split: RealDataSplit, train_scores, test_scores, loss: str) -> dict[str, float]:
    return {
        "gen_error": error_rate(split.y_test, test_scores),
        **raf_training_errors(split.y, train_scores, split.is_fact),
        "train_loss": float(np.mean(get_loss(loss).value(split.y, train_scores))),
    }


def _class_label(classes) -> str:
    return ",".join(str(int(c)) for c in classes)


def realdata_experiment(
    data: str = "digits",
    rule=None,
    facts=None,
    alpha=1.0,
    eps=0.2,
    lam=(1e-3, 1e-2, 1e-1, 1.0),
    *,
    kernel=("rbf", "linear"),
    eta="median",
    loss: str = "square",
    seeds: int = 5,
    seed: int = 0,
    data_dir=None,
    fact_count: str = "exact",
    test_fraction: float = 0.3,
    max_test: int | None = None,
    raw: bool = False,
    progress: bool = False,
) -> pd.DataFrame:
    """Rules and facts on real images: errors of each learner over alpha x eps x lam.

    Each (alpha, eps, seed) draws one training set (:func:`draw_split`) that serves every learner and
    the whole lam path, so kernel and linear learner are compared on the same samples.

    Parameters
    ----------
    data : {'digits', 'mnist', 'fashion-mnist', 'cifar10'}
        Read by :func:`raflab.core.images.load_images` (``data_dir`` for all but digits).
    rule : two class labels, optional
        The first gets label +1, the second -1 (default: :data:`DEFAULT_CLASSES`; CIFAR-10: cat vs dog).
    facts : class labels, optional
        Their images get random ±1 labels (default: :data:`DEFAULT_CLASSES`; CIFAR-10: automobile).
    alpha, eps, lam : float or sequence
        n / d, fraction of facts in [0, 1], ridge penalty >= 0 (0: the lam -> 0+ limit).
    kernel : str or sequence of {'rbf', 'linear'}
        The learners: ``rbf`` (RBF kernel, model ``kernel``), ``linear`` (the linear learner on the
        pixels, model ``linear``).
    eta : 'median', float > 0, or a sequence of them
        RBF bandwidths, K = exp(-eta |x - x'|^2 / d) (module docstring); 'median': the median heuristic.
    loss : {'square', 'hinge', 'logistic'}
        Square: kernel ridge; hinge: the SVM (without intercept).
    seeds, seed : int
        Seeds ``seed .. seed + seeds - 1``; each redraws the held-out set (digits), the subsample,
        which samples are facts and the fact labels.
    fact_count : {'exact', 'bernoulli'}
    test_fraction : float in (0, 1)
        digits only: fraction of each rule class held out for the generalization error.
    max_test : int, optional
        Subsample the rule test set to at most this many images (per seed).
    raw : bool
        One row per (point, seed) instead of the mean over seeds.

    Returns
    -------
    pandas.DataFrame
        Records with data, rule, facts, model, kernel, bandwidth ('median' or the eta value as text;
        empty for linear), loss, alpha, eps, lam, d, n, n_test, eta (raflab's convention, mean over
        seeds: the median heuristic's varies), rbf_gamma = eta / d (scikit-learn's; NaN for linear), the means of
        gen_error, rule_train_error, fact_memorization_error, train_loss, each with ``_stderr``
        (standard error over seeds, ddof=1; NaN with one seed), and n_seeds.
    """
    kernels = (kernel,) if isinstance(kernel, str) else tuple(kernel)
    etas = _check_etas(eta)
    for k in kernels:
        one_of(k, REALDATA_KERNELS, "kernel", also="(the real-data experiment's learners)")
    alpha, eps, lam = (np.atleast_1d(np.asarray(v, dtype=float)).ravel() for v in (alpha, eps, lam))
    check_raf_params(alpha=alpha, eps=eps, lam=lam, loss=loss)
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1 (got {seeds})")
    one_of(fact_count, FACT_COUNTS, "fact_count")
    if max_test is not None and max_test < 1:
        raise ValueError(f"max_test must be >= 1 (got {max_test})")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1) (got {test_fraction:g})")
    pools = load_pools(data, rule, facts, data_dir)
    head = {"data": data, "rule": _class_label(pools.rule), "facts": _class_label(pools.facts)}
    rows = []
    for a, e, s in track_rows(list(itertools.product(alpha, eps, range(seeds))), f"fitting on {data}",
                              enabled=progress, unit="fits"):
        split = draw_split(pools, a, e, seed + s, fact_count=fact_count, test_fraction=test_fraction,
                           max_test=max_test)
        for k, bandwidth in ((k, b) for k in kernels for b in (etas if k == "rbf" else (None,))):
            try:
                path, used_eta = _fit_learner(k, split, loss, lam, bandwidth)
            except NotSeparableError as exc:
                raise NotSeparableError(f"{exc} ({k}, alpha={a:g}, eps={e:g}, seed {seed + s})") from None
            for l_, (train_scores, test_scores) in zip(lam, path):
                rows.append({**head, "model": REALDATA_KERNELS[k], "kernel": k,
                             "bandwidth": "" if bandwidth is None else _bandwidth_label(bandwidth), "loss": loss,
                             "alpha": a, "eps": e, "lam": l_, "d": pools.d, "n": len(split.y),
                             "n_test": len(split.y_test), "eta": used_eta, "rbf_gamma": used_eta / pools.d,
                             "seed": seed + s, **_metrics(split, train_scores, test_scores, loss)})
    per_seed = pd.DataFrame(rows)
    if raw:
        return per_seed
    keys = ["data", "rule", "facts", "model", "kernel", "bandwidth", "loss", "alpha", "eps", "lam", "d"]
    out = summarize(per_seed, keys, ["n", "n_test", "eta", "rbf_gamma", *ERRORS], stderr_of=ERRORS)
    for count in ("n", "n_test"):  # integers unless fact_count='bernoulli' made n vary over seeds
        if np.all(out[count] == np.round(out[count])):
            out[count] = out[count].astype(int)
    return out

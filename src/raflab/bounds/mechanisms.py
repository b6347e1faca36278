"""Learners on the SDPI problems and a measurement of how much of their training set they memorize.

Gaussian clustering: theta ~ N(0, I_d), y = +-1 a fair coin, x = y (theta + sigma z); Boolean clustering,
the sparse hypercube and mixtures of clusters of any of them (:mod:`raflab.bounds.instances`). Every learner
here returns a linear (or MLP) classifier sign(f(x)), fitted to R independent training sets drawn with the
same theta, all at once. Memorization I(A(X_1..n); X_1..n | theta) is then estimated from the R outputs:

* ``noisy-mean`` (the Gaussian mechanism): m + N(0, s^2 I) with s = noise * the expected RMS coordinate
  of m (sqrt(1 + sigma^2 / n) on gaussian data); exact memorization (d/2) log2(1 + sigma^2 / (n s^2)) on
  gaussian data, by quadrature of a Gaussian mixture's entropy on the discrete ones.
* ``mean``: on gaussian data the empirical mean rounded to a grid of step ``quantum`` * sqrt(1 + sigma^2 / n)
  (a deterministic learner must release finitely many values to memorize finitely many bits); on the
  discrete problems the mean itself (n + 1 values per coordinate), exact memorization d H(count).
* ``sign-mean``: sign(m) (0 at a tie), one to two bits per coordinate; exact memorization.
* ``ridge``, ``logistic`` (scikit-learn, no intercept) and ``mlp`` (one hidden layer, torch, fixed
  initialization, full-batch Adam): released with Gaussian noise of standard deviation ``noise`` times
  the RMS coordinate of the released weights (estimated over the R fits, per weight tensor for the MLP).

A mixture fits each cluster's learner on that cluster's examples (cluster counts drawn once per theta
and held fixed); its memorization is the sum over clusters (independent given theta and the counts).

Estimators (see :mod:`raflab.bounds.information`): the Wishart-corrected Gaussian plug-in for the noised learners
(exact for Gaussian outputs, otherwise biased *upward*: a Gaussian has the most entropy at a given
covariance), and the Miller-Madow plug-in entropy summed over coordinates for the quantized means
(coordinates of the mean are independent given theta). Errors are exact given (theta, model) for the
linear classifiers on gaussian data, Phi(-<w, theta> / (sigma |w|)), and measured on fresh examples otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr

import itertools

from raflab.bounds.information import binary_entropy_bits, gaussian_plugin_information, plugin_discrete_information
from raflab.bounds.instances import (
    discrete_mean_bits,
    discrete_noisy_mean_bits,
    discrete_sign_mean_bits,
    draw_examples,
    draw_theta,
    linear_error_monte_carlo,
    mean_rms,
)
from raflab.bounds.mixture import profile_bound_bits
from raflab.bounds.theory import (
    NOISE_NAME,
    check_sdpi_params,
    default_noise,
    gaussian_channel_bits_noisy_mean,
    lower_bound_bits,
    sdpi_bound,
)
from raflab.core.checks import one_of
from raflab.core.device import resolve_device
from raflab.core.memory import FLOAT64, require_memory
from raflab.core.progress import track_rows
from raflab.core.seeding import point_rng, stream_seeds, torch_generator
from raflab.core.summary import mean_stderr

LEARNERS = ("noisy-mean", "mean", "sign-mean", "ridge", "logistic", "mlp")
ALIASES = {"gaussian-mechanism": "noisy-mean", "gaussian": "noisy-mean"}


def check_learner(learner: str) -> str:
    return one_of(ALIASES.get(learner, learner), LEARNERS, "learner")


def gaussian_clustering_sample(theta: np.ndarray, sigma2: float, shape: tuple, rng: np.random.Generator):
    """Examples (x, y) of shape (*shape, d) and shape: y a fair coin, x = y (theta + sigma z)."""
    y = rng.choice(np.array([-1.0, 1.0]), size=shape)
    x = y[..., None] * (theta + np.sqrt(sigma2) * rng.standard_normal((*shape, theta.size)))
    return x, y


def linear_error(weights: np.ndarray, theta: np.ndarray, sigma2: float) -> np.ndarray:
    """Exact error of sign(<w, x>) on a fresh example given theta: Phi(-<w, theta> / (sigma |w|)), per row."""
    norm = np.linalg.norm(weights, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        err = ndtr(-(weights @ theta) / (np.sqrt(sigma2) * norm))
    return np.where(norm > 0, err, 0.5)  # the zero vector predicts by a coin


@dataclass
class MLPConfig:
    """One hidden layer of tanh units, logistic loss, weight decay, full-batch Adam from a fixed init."""

    hidden: int = 8
    steps: int = 200
    lr: float = 0.05
    weight_decay: float = 1e-3
    seed: int = 0


def fit_mlps(x: np.ndarray, y: np.ndarray, config: MLPConfig, device: str = "auto"):
    """R one-hidden-layer networks, one per training set, trained together (batched, CPU or CUDA).

    Parameters
    ----------
    x : (R, n, d); y : (R, n) in {-1, +1}

    Returns
    -------
    list of numpy arrays [W1 (R, h, d), b1 (R, h), w2 (R, h)]
    """
    import torch

    dev = torch.device(resolve_device(device))
    R, n, d = x.shape
    gen = torch_generator(stream_seeds(config.seed, ("init",))["init"])
    # the same initialization for every training set: the algorithm's own randomness is fixed
    init = [torch.randn(config.hidden, d, generator=gen) / np.sqrt(d), torch.zeros(config.hidden),
            torch.randn(config.hidden, generator=gen) / np.sqrt(config.hidden)]
    params = [p.expand(R, *p.shape).clone().to(dev).requires_grad_(True) for p in init]
    xt = torch.as_tensor(x, dtype=torch.float32, device=dev)
    yt = torch.as_tensor(y, dtype=torch.float32, device=dev)
    opt = torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    for _ in range(config.steps):
        opt.zero_grad()
        margin = yt * mlp_logits(params, xt)
        # sum over the R independent fits: each one's gradient is its own mean loss
        torch.nn.functional.softplus(-margin).mean(dim=1).sum().backward()
        opt.step()
    return [p.detach().cpu().numpy().astype(float) for p in params]


def mlp_logits(params, x):
    """f(x) = w2 . tanh(W1 x + b1), batched over the leading R axis (torch or numpy)."""
    W1, b1, w2 = params
    if isinstance(x, np.ndarray):
        return np.einsum("rh,rth->rt", w2, np.tanh(np.einsum("rhd,rtd->rth", W1, x) + b1[:, None, :]))
    import torch

    return torch.einsum("rh,rth->rt", w2, torch.tanh(torch.einsum("rhd,rtd->rth", W1, x) + b1[:, None, :]))


def _fit_linear(learner: str, x: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression, Ridge

    out = np.empty((x.shape[0], x.shape[2]))
    for r in range(x.shape[0]):
        if learner == "ridge":
            out[r] = Ridge(alpha=lam, fit_intercept=False).fit(x[r], y[r]).coef_
        else:
            # (x, y) and (-x, -y) have the same logistic loss: the mirrored copy gives both classes even
            # at n = 1 and, with C halved, leaves the minimizer unchanged
            xx, yy = np.concatenate([x[r], -x[r]]), np.concatenate([y[r], -y[r]])
            out[r] = LogisticRegression(C=0.5 / lam, fit_intercept=False).fit(xx, yy).coef_[0]
    return out


def release_linear(learner: str, x: np.ndarray, y: np.ndarray, instance: str, param: float, noise: float,
                   quantum: float, lam: float, rng: np.random.Generator) -> tuple[np.ndarray, float | None]:
    """The released weights (R, d) of a linear learner on R training sets (x (R, n, d), y (R, n)) and the
    variance of its own Gaussian output noise (None for the deterministic means)."""
    n = x.shape[1]
    if learner in ("noisy-mean", "mean", "sign-mean"):
        m = np.einsum("rn,rnd->rd", y, x) / n
        if learner == "noisy-mean":
            s = noise * mean_rms(instance, n, param)
            return m + s * rng.standard_normal(m.shape), s * s
        if learner == "sign-mean":
            return np.sign(m), None
        if instance == "gaussian":  # a deterministic learner must release finitely many values
            step = quantum * mean_rms(instance, n, param)
            return step * np.round(m / step), None
        return m, None  # already finitely many values: counts over n
    w = _fit_linear(learner, x, y, lam)
    s = noise * np.sqrt(np.mean(w * w))
    return w + s * rng.standard_normal(w.shape), s * s


def _measure_at_theta(learner: str, theta: np.ndarray, n: int, instance: str, param: float, reps: int, noise: float,
                      quantum: float, lam: float, mlp: MLPConfig, test_size: int, device: str,
                      rng: np.random.Generator) -> dict:
    """One theta of a base problem: R trainings of ``learner``; its bits (estimate, variance), the R errors
    and the exact bits where known (NaN otherwise)."""
    d = theta.size
    x, y = draw_examples(instance, theta, param, (reps, n), rng)
    exact = np.nan
    if learner != "mlp":
        released, noise_var = release_linear(learner, x, y, instance, param, noise, quantum, lam, rng)
        if noise_var is not None:
            b, se = gaussian_plugin_information(released, noise_var)
        else:
            b, se = plugin_discrete_information(released)
        if learner == "noisy-mean":
            exact = (gaussian_channel_bits_noisy_mean(d, n, param, noise_var) if instance == "gaussian"
                     else discrete_noisy_mean_bits(instance, d, n, param, noise_var))
        elif learner == "sign-mean":  # exact given this theta: H(sign(m) | theta), coordinates independent
            exact = (float(np.sum(binary_entropy_bits(ndtr(theta * np.sqrt(n / param)))))
                     if instance == "gaussian" else discrete_sign_mean_bits(instance, d, n, param))
        elif learner == "mean" and instance != "gaussian":
            exact = discrete_mean_bits(instance, d, n, param)
        err = (linear_error(released, theta, param) if instance == "gaussian"
               else linear_error_monte_carlo(released, theta, instance, param, test_size, rng))
    else:
        noised, scales = noised_mlps(x, y, mlp, noise, device, rng)
        flat = np.concatenate([q.reshape(reps, -1) for q in noised], axis=1)
        # one isotropic noise level is what the plug-in assumes: rescale each tensor to unit noise
        unit = np.concatenate([np.full(q[0].size, s) for q, s in zip(noised, scales)])
        b, se = gaussian_plugin_information(flat / unit, 1.0)
        x_test, y_test = draw_examples(instance, theta, param, (test_size,), rng)
        logits = mlp_logits(noised, np.broadcast_to(x_test, (reps, *x_test.shape)))
        err = np.mean(np.sign(logits) != y_test, axis=1)
    return {"bits": b, "var": se * se, "errors": err, "exact": exact}


def noised_mlps(x: np.ndarray, y: np.ndarray, mlp: MLPConfig, noise: float, device: str,
                rng: np.random.Generator) -> tuple[list, list]:
    """R MLPs (:func:`fit_mlps`) released with Gaussian noise of sd ``noise`` x each tensor's RMS entry:
    the noised parameters [W1, b1, w2] and the noise sd of each."""
    params = fit_mlps(x, y, mlp, device)
    scales = [noise * np.sqrt(np.mean(q * q)) for q in params]
    return [q + s * rng.standard_normal(q.shape) for q, s in zip(params, scales)], scales


def measure_memorization(learner: str, d: int, n: int, sigma2: float | None = None, reps: int = 2000,
                         thetas: int = 1, noise: float = 0.5, quantum: float = 0.25, lam: float = 1.0,
                         mlp: MLPConfig | None = None, test_size: int = 512, seed: int = 0, device: str = "auto",
                         instance: str = "gaussian", r: float | None = None, p: float | None = None,
                         clusters: int = 8, base: str = "boolean") -> dict:
    """Estimate I(A(X_1..n); X_1..n | theta) of one learner by ``reps`` trainings per theta.

    Parameters
    ----------
    learner : one of LEARNERS
    d, n : dimension and training-set size
    sigma2, r, p : the noise parameter of the (base) problem (defaults: :func:`raflab.bounds.theory.default_noise`)
    instance : 'gaussian' | 'boolean' | 'sparse' | 'mixture' (``clusters`` clusters of ``base``, each fitted
        on its own examples; the cluster counts are drawn once per theta and held fixed over the trainings,
        so what is measured is I(A; S | theta, N) <= mem_n, which the mixture bound also bounds)
    reps : repeated trainings per theta (the Gaussian plug-in needs reps > released dimension + 1)
    thetas : independent thetas; the record averages over them (the bound is on the theta-average)
    noise : output-noise standard deviation relative to the released weights' RMS coordinate
    quantum : grid step of ``mean`` on gaussian data, relative to the RMS coordinate of m (boolean and
        sparse means take n + 1 values already and are released as they are)
    lam : ridge penalty / inverse logistic C (per sample count as in scikit-learn)

    Returns
    -------
    dict record: memorization_bits and its standard error, error (on fresh data; exact given theta for
    linear classifiers on gaussian data, ``test_size`` fresh examples otherwise) and its standard error,
    exact_bits where the memorization given the drawn thetas is known in closed form (NaN otherwise),
    the estimator used; for a mixture also the mean number of singleton clusters and
    ``profile_lower_bound_bits``, the bound at each cluster's measured error.
    """
    learner = check_learner(learner)
    check_sdpi_params(d=d, n=n, instance=instance)
    if reps < 2 or thetas < 1:
        raise ValueError(f"reps must be >= 2 and thetas >= 1 (got reps={reps}, thetas={thetas})")
    if not noise > 0 or not quantum > 0:
        raise ValueError(f"noise and quantum must be > 0 (got noise={noise}, quantum={quantum})")
    problem = base if instance == "mixture" else instance
    (name, param), = default_noise(problem, d, sigma2, r, p).items()
    k = int(clusters) if instance == "mixture" else 1
    check_sdpi_params(clusters=k)
    mlp = mlp or MLPConfig()
    bits, bits_var, errors, exact, profile, singles = [], [], [], [], [], []
    for t in range(thetas):
        # theta depends on (seed, d, param, t) only: the same thetas at every n, so curves in n are smooth
        theta = (point_rng(seed, d, param, t).standard_normal(d) if instance == "gaussian"
                 else draw_theta(problem, (k, d), point_rng(seed, d, param, k, t)))
        rng = point_rng(seed, d, n, param, t) if instance == "gaussian" else point_rng(seed, d, n, param, k, t)
        counts = rng.multinomial(n, np.full(k, 1.0 / k)) if instance == "mixture" else np.array([n])
        recs = [_measure_at_theta(learner, np.atleast_2d(theta)[c], int(counts[c]), problem, param, reps, noise,
                                  quantum, lam, mlp, test_size, device, rng) if counts[c] > 0 else None
                for c in range(k)]
        cluster_err = np.stack([rec["errors"] if rec else np.full(reps, 0.5) for rec in recs])  # (k, R)
        bits.append(sum(rec["bits"] for rec in recs if rec))
        bits_var.append(sum(rec["var"] for rec in recs if rec))
        exact.append(sum(rec["exact"] for rec in recs if rec))
        errors.append(cluster_err.mean(axis=0))
        profile.append(profile_bound_bits(problem, counts, cluster_err.mean(axis=1), param))
        singles.append(int(np.sum(counts == 1)))
    error, error_stderr = mean_stderr(np.concatenate(errors))
    record = {"instance": instance, "learner": learner, "d": int(d), "n": int(n), name: float(param),
              "reps": reps, "thetas": thetas, "memorization_bits": float(np.mean(bits)),
              # the standard error of the mean over thetas from each theta's estimator variance (not over seeds)
              "memorization_bits_stderr": float(np.sqrt(np.sum(bits_var)) / thetas),
              "exact_bits": float(np.mean(exact)),
              "error": error, "error_stderr": error_stderr,
              # discrete: plug-in entropy + Miller-Madow; gaussian: log-det plug-in, Wishart-corrected
              "estimator": "discrete" if learner in ("mean", "sign-mean") else "gaussian"}
    if instance == "mixture":
        record.update({"base": base, "clusters": k, "singletons": float(np.mean(singles)),
                       "profile_lower_bound_bits": float(np.mean(profile))})
    return record


def memorization_table(learners, d: int, n_values, sigma2: float | None = None, progress: bool = False,
                       **kwargs) -> pd.DataFrame:
    """Records of :func:`measure_memorization` for each learner and n, with the lower bound at each
    learner's measured error (``lower_bound_bits``) and at that error plus two standard errors; for a
    mixture the bound is the one at the measured per-cluster errors (``profile_lower_bound_bits``).
    ``progress``: a bar on a terminal's stderr, one step per (learner, n)."""
    reps, n_max = kwargs.get("reps", 2000), int(np.max(n_values))
    # the training sets (reps x n x d) with their labels, the released weights and their d x d covariance
    require_memory(FLOAT64 * (2 * reps * n_max * d + 2 * reps * d + 2 * d * d),
                   f"measuring memorization at d={d}, n={n_max} with {reps} repeated trainings")
    instance = kwargs.get("instance", "gaussian")
    rows = []
    for learner, n in track_rows(list(itertools.product(learners, n_values)), f"measuring memorization (d={d})",
                                 enabled=progress, unit="points"):
        rec = measure_memorization(learner, d, int(n), sigma2, **kwargs)
        err = min(rec["error"], 0.5)
        if instance == "mixture":
            rec["lower_bound_bits"] = rec["profile_lower_bound_bits"]
        else:
            param = rec[NOISE_NAME[instance]]
            rec["lower_bound_bits"] = float(lower_bound_bits(instance, n, param, err))
            rec["lower_bound_bits_at_error_plus_2se"] = float(
                lower_bound_bits(instance, n, param, min(err + 2 * rec["error_stderr"], 0.5)))
        rows.append(rec)
    return pd.DataFrame(rows)


def bound_at_median_error(measured: pd.DataFrame, d: int, n_values, sigma2: float | None = None,
                          **noise) -> pd.DataFrame:
    """The SDPI bound records (:func:`raflab.bounds.theory.sdpi_bound`) of the measured base instance at the
    median measured error (clipped to [0, 1/2]): the line drawn beside measured learners."""
    error = float(np.clip(measured["error"].median(), 0.0, 0.5))
    instance = str(measured["instance"].iloc[0]) if "instance" in measured else "gaussian"
    if instance == "gaussian":
        noise = {"sigma2": sigma2 if sigma2 is not None else float(measured["sigma2"].iloc[0])}
    return sdpi_bound(instance, d, n_values, error, **noise)

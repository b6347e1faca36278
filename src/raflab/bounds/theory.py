"""Memorization lower bounds from strong data-processing inequalities (Feldman, Kornowski, Lyu, COLT 2025).

Excess memorization mem_n(A) = I(A(X_1..n); X_1..n | theta) (bits). If (theta, X_1..n) satisfies a
tau_n-SDPI and (X, X_1..n) a rho_n-SDPI (X a fresh example), then for every learner A

    mem_n(A) = I(A; X_1..n) - I(A; theta) >= (1 - tau_n) I(A; X_1..n) >= (1 - tau_n) / rho_n * I(A; X),

(the equality because theta - X_1..n - A is a Markov chain), and a model with error e on a label that is a
fair coin given the input carries I(A; X) >= 1 - h2(e) (Fano). Constants, re-derived here:

Gaussian clustering. theta ~ N(0, I_d), y = +-1 fair, y x = theta + sigma z. The labels y_i and the
residuals u_i - m are independent of (theta, m, X), so X_1..n reduces to m = mean(y_i x_i) = theta +
sigma zbar, and the pairs factorize over coordinates, so each constant is the squared correlation of one
scalar Gaussian pair (for jointly Gaussian pairs the SDPI constant is the squared correlation, and it
tensorizes as the maximum over independent pairs):

    tau_n = corr(theta_j, m_j)^2 = n / (n + sigma^2),
    rho_n = corr(u_j, m_j)^2 = 1 / ((1 + sigma^2)(1 + sigma^2 / n)),
    (1 - tau_n) / rho_n = sigma^2 (1 + sigma^2) / n.

Matching algorithm: release m + N(0, s^2 I); its memorization is (d/2) log2(1 + sigma^2 / (n s^2)).
Its error, to leading order in d, is Phi(-sqrt(d) / (sigma sqrt(1 + sigma^2/n + s^2))), so the noise
that leaves error e is s^2 = d / (sigma^2 q^2) - 1 - sigma^2/n, q = Phi^{-1}(1 - e) (none when s^2 < 0:
then the mean itself is not that accurate). With log(1 + x) <= x its bits are at most
F_n = d / (2 ln 2 s^2 (1 + sigma^2)(1 - h2(e))) times the bound; F_n decreases to its n -> infinity value
q^2 sigma^2 / (2 ln 2 (1 + sigma^2)(1 - h2(e)) (1 - sigma^2 q^2 / d)), 1.71 at d = 1024, sigma^2 = 32, e = 1/4
(so the simple algorithm matches the bound up to a constant at large n, and up to the log at small n).

Boolean clustering. theta uniform on {+-1}^d, each coordinate of u = y x equals theta_j with probability
(1 + r)/2. One binary symmetric pair has SDPI constant r^2. For n samples tau_n <= 1 - (1 - r^2)^n (the
working spec's statement, checked numerically in :func:`boolean_tau_numeric`), and because
X - theta - X_1..n is a Markov chain rho_n <= r^2 tau_n. Matching algorithm: the coordinatewise majority
of the u_i (ties by a fair coin), each bit flipped with probability q, with q set so that the classifier
sign(<b, x>) has error e to leading order in d; its memorization is d (h2(p) - P(tie) - (1 - P(tie)) h2(q))
with p = P(b_j != theta_j).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import ndtr, ndtri, xlog1py
from scipy.stats import binom

from raflab.bounds.information import binary_entropy_bits, fano_information_bits, gaussian_channel_information_bits
from raflab.bounds.sparse import (
    sparse_bound_factor,
    sparse_revealed_support,
    sparse_sdpi_constants,
    sparse_support_bits,
)
from raflab.core.checks import choices_text, one_of
from raflab.raf.theory.capacity import capacity_alpha, feature_constants

#: the base problems (theory here) and the mixture of clusters of one of them (raflab.bounds.mixture)
BASE_INSTANCES = ("gaussian", "boolean", "sparse")
INSTANCES = (*BASE_INSTANCES, "mixture")
#: the noise parameter of each base problem
NOISE_NAME = {"gaussian": "sigma2", "boolean": "r", "sparse": "p"}
#: the RAF learners with a storage capacity (hinge ERM's); bayes has none
CAPACITY_MODELS = ("linear", "rf", "kernel")
LN2 = np.log(2.0)


def check_sdpi_params(d=None, n=None, sigma2=None, error=None, r=None, instance=None, p=None, clusters=None,
                      base=None) -> None:
    """One-line ValueError for each value outside its domain."""
    if instance is not None:
        one_of(instance, INSTANCES, "instance")
    if d is not None and not (np.all(np.asarray(d) >= 1) and np.all(np.asarray(d) == np.round(d))):
        raise ValueError(f"d must be an integer >= 1 (got {d})")
    if n is not None:
        n_arr = np.asarray(n, dtype=float)
        if not (np.all(n_arr >= 1) and np.all(n_arr == np.round(n_arr))):
            raise ValueError(f"n must be integers >= 1 (got {np.atleast_1d(n_arr).tolist()})")
    if sigma2 is not None and not (np.isfinite(sigma2) and sigma2 > 0):
        raise ValueError(f"sigma2 must be > 0 (got {sigma2})")
    if error is not None and not (0.0 <= error <= 0.5):
        raise ValueError(f"error must be in [0, 1/2] (got {error})")
    if r is not None and not (0.0 < r <= 1.0):
        raise ValueError(f"r must be in (0, 1] (got {r})")
    if p is not None and not (0.0 < p <= 1.0):
        raise ValueError(f"p must be in (0, 1] (got {p})")
    if clusters is not None and not (clusters >= 1 and clusters == int(clusters)):
        raise ValueError(f"clusters must be an integer >= 1 (got {clusters})")
    if base is not None:
        one_of(base, BASE_INSTANCES, "base instance")


def gaussian_sdpi_constants(n, sigma2: float) -> tuple[np.ndarray, np.ndarray]:
    """(tau_n, rho_n) of Gaussian clustering, vectorized over n (see the module docstring)."""
    n = np.asarray(n, dtype=float)
    return n / (n + sigma2), 1.0 / ((1.0 + sigma2) * (1.0 + sigma2 / n))


def boolean_sdpi_constants(n, r: float) -> tuple[np.ndarray, np.ndarray]:
    """Upper bounds (tau_n, rho_n) of Boolean clustering, vectorized over n: 1 - (1 - r^2)^n and r^2 tau_n."""
    tau = -np.expm1(np.asarray(n, dtype=float) * np.log1p(-r * r)) if r < 1 else np.ones_like(np.asarray(n, float))
    return tau, r * r * tau


def _count_channel(n: int, r: float):
    """P(K = k) and P(theta = +1 | K = k) for K = #{i : u_i = +1}, theta uniform on +-1 (one coordinate)."""
    k = np.arange(n + 1)
    agree = (1.0 + r) / 2.0
    plus, minus = binom.pmf(k, n, agree), binom.pmf(k, n, 1.0 - agree)
    pk = 0.5 * (plus + minus)
    return pk, 0.5 * plus / pk


def boolean_tau_numeric(n: int, r: float, restarts: int = 8, seed: int = 0) -> float:
    """s*(X_1..n; theta) of one Boolean coordinate, by direct optimization: an independent check of tau_n.

    sup over Q of D(Q_theta || P_theta) / D(Q_K || P_K): the count K of +1's is sufficient and
    symmetrizing Q over permutations keeps Q_theta and lowers D(Q || P) (convexity), so optimizing over
    distributions of K is enough. Local maxima are possible; the best of ``restarts`` starts is returned
    (a lower estimate of s*), plus the local value at Q -> P, the squared maximal correlation E[E[theta|K]^2].
    """
    pk, post = _count_channel(n, r)
    rng = np.random.default_rng(seed)

    def ratio(logits):
        q = np.exp(logits - logits.max())
        q /= q.sum()
        # both divergences in cancellation-free forms; the Q -> P limit is taken separately below
        delta = q @ (post - 0.5)
        num = (0.5 + delta) * np.log1p(2 * delta) + (0.5 - delta) * np.log1p(-2 * delta)
        eps = q / pk - 1.0
        den = np.sum(pk * (xlog1py(1 + eps, eps) - eps))
        return -num / den if den > 1e-9 else 0.0

    best = float(np.sum(pk * (2 * post - 1) ** 2))  # the Q -> P limit: maximal correlation squared
    base = np.log(pk)
    for _ in range(restarts):
        start = base + rng.normal(0, rng.choice([0.1, 1.0, 4.0]), n + 1)
        res = minimize(ratio, start, method="L-BFGS-B", options={"maxiter": 300})
        best = max(best, -float(res.fun))
    return best


def bound_factor(instance: str, n, noise: float) -> np.ndarray:
    """(1 - tau_n) / rho_n, vectorized over n; ``noise`` is sigma^2 (gaussian), r (boolean) or p (sparse)."""
    if instance == "gaussian":
        return noise * (1.0 + noise) / np.asarray(n, dtype=float)
    if instance == "sparse":
        return sparse_bound_factor(n, noise)
    tau, rho = boolean_sdpi_constants(n, noise)
    return (1.0 - tau) / rho


def lower_bound_bits(instance: str, n, noise: float, error: float) -> np.ndarray:
    """Fewest bits of excess memorization of any learner with error ``error``: factor * (1 - h2(error))."""
    return bound_factor(instance, n, noise) * fano_information_bits(error)


def gaussian_channel_bits_noisy_mean(d: int, n, sigma2: float, noise_var) -> np.ndarray:
    """Exact memorization of m + N(0, noise_var I): I(m + xi; m | theta) = (d/2) log2(1 + sigma^2 / (n noise_var))."""
    return gaussian_channel_information_bits(d, sigma2 / np.asarray(n, dtype=float), noise_var)


def gaussian_noisy_mean(d: int, n, sigma2: float, error: float) -> dict:
    """The matching Gaussian-clustering algorithm at error ``error`` (leading order in d), vectorized over n.

    Returns arrays: ``noise_var`` s^2 (NaN where even the plain mean is less accurate),
    ``bits`` (d/2) log2(1 + sigma^2/(n s^2)), ``mean_error`` (the plain mean's error) and ``factor_bound``
    F_n of the module docstring (bits <= F_n * lower bound).
    """
    n = np.asarray(n, dtype=float)
    q = ndtri(1.0 - error) if error < 0.5 else 0.0
    mean_error = ndtr(-np.sqrt(d / (sigma2 * (1.0 + sigma2 / n))))
    with np.errstate(divide="ignore"):
        s2 = d / (sigma2 * q * q) - 1.0 - sigma2 / n if q > 0 else np.full_like(n, np.inf)
    s2 = np.where(s2 > 0, s2, np.nan)
    bits = np.where(np.isinf(s2), 0.0, gaussian_channel_bits_noisy_mean(d, n, sigma2, s2))
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = d / (2.0 * LN2 * s2 * (1.0 + sigma2) * fano_information_bits(error))
    return {"noise_var": s2, "bits": bits, "mean_error": mean_error, "factor_bound": factor}


def gaussian_sign_mean_bits(d: int, n, sigma2: float, nodes: int = 200) -> np.ndarray:
    """Exact memorization of A = sign(m) (Gaussian clustering): d E_theta h2(Phi(theta sqrt(n) / sigma)).

    sign(m) is a deterministic function of the sample, so I(A; X_1..n | theta) = H(A | theta), and the
    coordinates are independent given theta; the expectation over theta_j ~ N(0, 1) is Gauss-Hermite.
    """
    t, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / w.sum()
    n = np.atleast_1d(np.asarray(n, dtype=float))
    p = ndtr(np.outer(np.sqrt(n / sigma2), t))
    return d * (binary_entropy_bits(p) @ w)


def boolean_quantized_mean(d: int, n, r: float, error: float) -> dict:
    """The matching Boolean-clustering algorithm (majority with random flips) at error ``error``, over n."""
    n_arr = np.atleast_1d(np.asarray(n, dtype=int))
    a = (ndtri(1.0 - error) if error < 0.5 else 0.0) / np.sqrt(d)
    c = a / np.sqrt(1.0 + a * a)  # needed E[u_j b_j] = r (1 - 2p): c / sqrt(1 - c^2) = q / sqrt(d)
    target_p = 0.5 * (1.0 - c / r)
    rows = {"flip_prob": [], "bits": [], "majority_error": []}
    for n_i in n_arr:
        k = np.arange(n_i + 1)
        pk = binom.pmf(k, n_i, (1.0 + r) / 2.0)  # k = agreements with theta
        tie = float(pk[2 * k == n_i].sum())
        p0 = float(pk[2 * k < n_i].sum()) + 0.5 * tie
        maj_err = ndtr(-np.sqrt(d) * r * (1 - 2 * p0) / np.sqrt(1 - (r * (1 - 2 * p0)) ** 2))
        rows["majority_error"].append(maj_err)
        if target_p < p0 - 1e-15:
            rows["flip_prob"].append(np.nan)
            rows["bits"].append(np.nan)
            continue
        q = (target_p - p0) / (1.0 - 2.0 * p0)
        rows["flip_prob"].append(q)
        rows["bits"].append(d * float(binary_entropy_bits(target_p) - tie - (1.0 - tie) * binary_entropy_bits(q)))
    return {key: np.array(v) for key, v in rows.items()}


def sdpi_bound(instance: str, d: int, n, error: float, sigma2: float | None = None,
               r: float | None = None, p: float | None = None) -> pd.DataFrame:
    """Records of the lower bound and the matching algorithm, one per n.

    Parameters
    ----------
    instance : 'gaussian' | 'boolean' | 'sparse' (the mixture: :func:`raflab.bounds.mixture.mixture_bound`)
    d : dimension; n : sample sizes (array); error : target classification error in [0, 1/2]
    sigma2 : Gaussian noise variance (gaussian); r : coordinate correlation in (0, 1] (boolean);
    p : probability that an example shows a coordinate (sparse)

    Examples
    --------
    >>> sdpi_bound("gaussian", 1024, [1, 4], 0.25, sigma2=32.0)["bound_factor"].tolist()
    [1056.0, 264.0]
    """
    check_sdpi_params(d=d, n=n, error=error, base=instance)
    n = np.atleast_1d(np.asarray(n, dtype=float))
    fano = float(fano_information_bits(error))
    if instance == "gaussian":
        if sigma2 is None:
            raise ValueError("the gaussian instance needs sigma2")
        check_sdpi_params(sigma2=sigma2)
        tau, rho = gaussian_sdpi_constants(n, sigma2)
        match = gaussian_noisy_mean(d, n, sigma2, error)
        extra = {"matching_algorithm": "noisy mean", "matching_noise_var": match["noise_var"],
                 "plain_algorithm_error": match["mean_error"], "sign_mean_bits": gaussian_sign_mean_bits(d, n, sigma2),
                 "matching_factor_bound": match["factor_bound"]}
        noise, head = sigma2, {"sigma2": sigma2}
    elif instance == "sparse":
        if p is None:
            raise ValueError("the sparse instance needs p")
        check_sdpi_params(p=p)
        tau, rho = sparse_sdpi_constants(n, p)
        match = sparse_revealed_support(d, n, p, error)
        extra = {"matching_algorithm": "revealed support, thinned", "matching_keep_prob": match["keep_prob"],
                 "plain_algorithm_error": match["support_error"], "support_bits": sparse_support_bits(d, n, p)}
        noise, head = p, {"p": p}
    else:
        if r is None:
            raise ValueError("the boolean instance needs r")
        check_sdpi_params(r=r)
        tau, rho = boolean_sdpi_constants(n, r)
        match = boolean_quantized_mean(d, n.astype(int), r, error)
        extra = {"matching_algorithm": "majority + flips", "matching_flip_prob": match["flip_prob"],
                 "plain_algorithm_error": match["majority_error"]}
        noise, head = r, {"r": r}
    factor = bound_factor(instance, n, noise)
    bound = factor * fano
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = match["bits"] / bound
    return pd.DataFrame({"instance": instance, "d": d, **head, "n": n.astype(int), "error": error,
                         "tau": tau, "rho": rho, "bound_factor": factor, "fano_bits": fano,
                         "lower_bound_bits": bound, "matching_bits": match["bits"], "matching_ratio": ratio,
                         **extra})


def raf_fact_bits_per_parameter(prior, eps_values) -> pd.DataFrame:
    """Fact bits stored per parameter by a RAF learner at its memorization threshold, beside Gardner's 2.

    In the Rules-and-Facts model a fraction eps of the n = alpha d labels are fair coins independent of
    everything else (facts). A learner that fits all of them holds at least eps n bits about its training
    set beyond the rule: the excess memorization the SDPI bounds count, seen from the other side. At the
    largest alpha where hinge ERM (lam -> 0+) still stores every fact, alpha_c(eps) from
    :func:`raflab.raf.theory.capacity.capacity_alpha`, that is eps alpha_c d bits on kappa d weights
    (kappa = 1 for the linear learner): ``fact_bits_per_parameter`` = eps alpha_c / kappa, which is
    Gardner's 2 bits per weight at eps = 1. A kernel with k(1) > k(0) + k'(0) interpolates any data
    (alpha_c = inf): per input dimension it stores unboundedly many fact bits, and per dual coefficient
    (one per sample, its parameters) exactly eps.
    """
    G, _, kappa = feature_constants(prior)
    rows = []
    for eps in np.atleast_1d(eps_values):
        alpha_c, c = capacity_alpha(prior, float(eps))
        interpolates = not np.isfinite(alpha_c)
        rows.append({"learner": prior.name, "eps": float(eps), "alpha_c": alpha_c,
                     "parameters_per_dimension": np.inf if interpolates else kappa,
                     "fact_bits_per_dimension": eps * alpha_c,
                     "fact_bits_per_parameter": float(eps) if interpolates else eps * alpha_c / kappa,
                     "parameters": "dual coefficients (one per sample)" if interpolates else "weights",
                     "gardner_bits_per_weight": 2.0})
    return pd.DataFrame(rows)


def check_capacity_model(model: str) -> str:
    """``model`` when it is a RAF learner with a storage capacity (:data:`CAPACITY_MODELS`)."""
    if model == "bayes":
        raise ValueError(f"--model bayes has no storage capacity (it is hinge ERM's); use {choices_text(CAPACITY_MODELS)}")
    return one_of(model, CAPACITY_MODELS, "model")


def default_noise(instance: str, d: int, sigma2: float | None = None, r: float | None = None,
                  p: float | None = None) -> dict:
    """The noise parameter of base ``instance``, checked: ``{"sigma2": ...}`` for gaussian (default sqrt(d):
    learnable from O(1) samples), ``{"r": ...}`` for boolean (default d^(-1/4)) or ``{"p": ...}`` for sparse
    (default d^(-1/2): about sqrt(d) coordinates shown per example, learnable from O(1) of them)."""
    check_sdpi_params(d=d, base=instance)
    if instance == "gaussian":
        sigma2 = float(np.sqrt(d)) if sigma2 is None else sigma2
        check_sdpi_params(sigma2=sigma2)
        return {"sigma2": sigma2}
    if instance == "sparse":
        p = float(d) ** -0.5 if p is None else p
        check_sdpi_params(p=p)
        return {"p": p}
    r = float(d) ** -0.25 if r is None else r
    check_sdpi_params(r=r)
    return {"r": r}


def sample_sizes(n) -> np.ndarray:
    """Training-set sizes as integers, checked (>= 1)."""
    check_sdpi_params(n=n)
    return np.asarray(n, dtype=float).astype(int)


def raf_fact_bits_table(priors, eps_values) -> pd.DataFrame:
    """:func:`raf_fact_bits_per_parameter` for each ``(kappa, prior)`` of ``priors``, one table; a
    ``kappa`` column where kappa is given (not None)."""
    frames = [raf_fact_bits_per_parameter(prior, eps_values).assign(**({"kappa": k} if k is not None else {}))
              for k, prior in priors]
    return pd.concat(frames, ignore_index=True)

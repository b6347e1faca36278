"""Claims of the theory-side papers (RAF, attention, diffusion / associative memory, SDPI) and their
measurements, each a call of the system's own API.

Budgets: ``quick`` uses small sizes (a few seconds per claim); ``full`` the sizes of the docs pages.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from raflab.core.seeding import point_rng
from raflab.ledger.registry import Claim, Rule

QUICK = "quick"


# --------------------------------------------------------------------------- RAF (Farné et al.)

def _linear_capacity(eps: float) -> float:
    from raflab.raf.theory.capacity import capacity_alpha
    from raflab.raf.theory.priors import RidgePrior

    return capacity_alpha(RidgePrior(), eps)[0]


def raf_gardner_capacity(budget, seed):
    """alpha_c of the linear learner at eps = 1 (pure facts): Gardner's 2."""
    return _linear_capacity(1.0)


def raf_capacity_falls_with_facts(budget, seed):
    """The smaller of alpha_c(0.1) - alpha_c(0.5) and alpha_c(0.5) - alpha_c(1): > 0 when capacity falls."""
    a1, a5, a10 = (_linear_capacity(e) for e in (0.1, 0.5, 1.0))
    return min(a1 - a5, a5 - a10)


def _theory_point(loss, alpha, eps, lam):
    from raflab.raf.theory.erm import linear_erm_theory

    return linear_erm_theory(loss, [alpha], eps=eps, lam=lam).iloc[0]


def _fit_minus_theory(loss, metric, budget, seed, alpha=2.0, eps=0.2, lam=0.1):
    from raflab.raf.experiments.simulate import simulate_linear_erm

    d = 400 if budget == QUICK else 1000
    fit = simulate_linear_erm(loss, [alpha], eps=eps, lam=lam, d=d, seeds=1, seed=seed).iloc[0]
    return float(fit[metric] - _theory_point(loss, alpha, eps, lam)[metric])


def raf_square_theory_matches_fits(budget, seed):
    return _fit_minus_theory("square", "gen_error", budget, seed)


def raf_hinge_theory_matches_fits(budget, seed):
    return _fit_minus_theory("hinge", "fact_memorization_error", budget, seed, lam=0.05)


def raf_ridge_helps_rule_not_facts(budget, seed):
    """Square loss, alpha 2, eps 0.2: the ridge that minimizes the rule's test error, on a lam grid."""
    from raflab.raf.theory.erm import linear_erm_theory

    lams = np.logspace(-4, 1, 41)
    table = linear_erm_theory("square", [2.0], eps=0.2, lam=lams)
    return float(table.loc[table["gen_error"].idxmin(), "lam"])


def raf_memorization_needs_small_ridge(budget, seed):
    """Fact memorization error at lam = 1 minus at lam = 1e-3 (square loss, alpha 2, eps 0.2)."""
    return float(_theory_point("square", 2.0, 0.2, 1.0)["fact_memorization_error"]
                 - _theory_point("square", 2.0, 0.2, 1e-3)["fact_memorization_error"])


def raf_features_store_more(budget, seed):
    """Random features (relu): alpha_c at kappa = 4 minus at kappa = 1, eps = 0.5."""
    from raflab.raf.theory.capacity import capacity_alpha
    from raflab.raf.theory.erm import make_prior

    return float(capacity_alpha(make_prior("rf", kappa=4.0, activation="relu"), 0.5)[0]
                 - capacity_alpha(make_prior("rf", kappa=1.0, activation="relu"), 0.5)[0])


# --------------------------------------------------------------------------- attention (Liao et al.)

REVERSAL = dict(c=1.0, gamma=1.0, f="relu_centered", snr=1.0, align=1.0)


def _attention_gap(c, gamma, f, snr, align):
    from raflab.attention.theory import attention_theory

    r = attention_theory([c], [gamma], f, snr=snr, align=align)[0]
    return r["memorization_error_attention"] - r["memorization_error_ridge"]


def attention_reversal_with_alignment(budget, seed):
    return _attention_gap(**REVERSAL)


def attention_worse_without_structure(budget, seed):
    return _attention_gap(1.0, 0.1, "tanh", 0.0, 0.0)


def _attention_draw(budget, seed):
    from raflab.attention.simulate import one_draw

    n = 400 if budget == QUICK else 1000
    p = int(round(REVERSAL["c"] * n))
    args = (REVERSAL["f"], REVERSAL["snr"], REVERSAL["align"])
    a, r = one_draw(p, n, [REVERSAL["gamma"]], *args, rng=point_rng(seed, p, n, REVERSAL["snr"], REVERSAL["align"]))
    return float(a[0]), float(r[0])


def attention_theory_matches_monte_carlo(budget, seed):
    """Monte Carlo minus theory of E_attention at the reversal point."""
    from raflab.attention.theory import attention_theory

    theory = attention_theory([REVERSAL["c"]], [REVERSAL["gamma"]], REVERSAL["f"], snr=REVERSAL["snr"],
                              align=REVERSAL["align"])[0]["memorization_error_attention"]
    return _attention_draw(budget, seed)[0] - theory


def attention_ridge_closed_form(budget, seed):
    """Monte Carlo minus the Marchenko-Pastur closed form of E_ridge at the reversal point."""
    from raflab.attention.theory import ridge_memorization_error

    closed = float(ridge_memorization_error(REVERSAL["c"], REVERSAL["gamma"], REVERSAL["snr"]))
    return _attention_draw(budget, seed)[1] - closed


# --------------------------------------------------------------------------- associative memory, diffusion

def hopfield_capacity(budget, seed):
    from raflab.memory.hopfield_theory import capacity_alpha_c

    return capacity_alpha_c()["alpha_c"]


def hopfield_dense_exponent(budget, seed):
    """log10 of K(N=1e5) / K(N=1e4) for F(x) = x^3: the capacity exponent, n - 1 = 2 up to a log."""
    from raflab.memory.hopfield_theory import dense_am_capacity_polynomial

    return float(np.log10(dense_am_capacity_polynomial(100_000, 3) / dense_am_capacity_polynomial(10_000, 3)))


DIFFUSION_KS = (2, 16, 1000)


@functools.lru_cache(maxsize=16)
def _diffusion_fractions(budget, seed):
    import torch

    from raflab.memory.experiments import diffusion_phases

    threads = torch.get_num_threads()
    steps, samples = (1000, 300) if budget == QUICK else (2000, 1000)
    try:
        rows = diffusion_phases("ring", list(DIFFUSION_KS), steps=steps, samples=samples, seed=seed)
    finally:
        torch.set_num_threads(threads)
    return {r["K"]: r for r in rows}


def diffusion_memorizes_small_K(budget, seed):
    return float(_diffusion_fractions(budget, seed)[DIFFUSION_KS[0]]["memorized_fraction"])


def diffusion_generalizes_large_K(budget, seed):
    return float(_diffusion_fractions(budget, seed)[DIFFUSION_KS[-1]]["generalized_fraction"])


def diffusion_spurious_at_transition(budget, seed):
    """Spurious fraction at the transition (K = 16) minus the larger at the two ends (K = 2, 1000)."""
    rows = _diffusion_fractions(budget, seed)
    ends = max(rows[DIFFUSION_KS[0]]["spurious_fraction"], rows[DIFFUSION_KS[-1]]["spurious_fraction"])
    return float(rows[DIFFUSION_KS[1]]["spurious_fraction"] - ends)


def diffusion_optimal_denoiser_memorizes(budget, seed):
    """The exact (empirical) optimal denoiser = a dense associative memory: memorized fraction at K = 100."""
    from raflab.memory.experiments import diffusion_phases

    samples = 300 if budget == QUICK else 1000
    return float(diffusion_phases("ring", [100], exact=True, samples=samples, seed=seed)[0]["memorized_fraction"])


# --------------------------------------------------------------------------- SDPI (Feldman et al.)

def _gaussian_bound(d, n=4, error=0.25):
    from raflab.bounds.theory import sdpi_bound

    return sdpi_bound("gaussian", d, [n], error, sigma2=math.sqrt(d)).iloc[0]


def sdpi_omega_d_bits(budget, seed):
    """The exponent of d in the Gaussian clustering bound at constant n (sigma^2 = sqrt d, error 1/4)."""
    return float(np.log(_gaussian_bound(4096)["lower_bound_bits"] / _gaussian_bound(1024)["lower_bound_bits"])
                 / np.log(4))


def sdpi_bound_is_tight(budget, seed):
    """Memorization of the matching algorithm (noisy mean) over the bound, d = 1024, n = 4."""
    return float(_gaussian_bound(1024)["matching_ratio"])


def _claim(id, paper, claim, quantity, rule, fn, exact=False, source="", note="", **kw):
    return Claim(id=id, paper=paper, claim=claim, quantity=quantity, rule=rule, measure=fn, exact=exact,
                 source=source, note=note, **kw)


THEORY_CLAIMS = (
    _claim("raf.gardner-capacity", "raf", "with only facts (eps = 1) a linear classifier stores at most "
           "alpha = 2 examples per weight (Gardner)", "alpha_c(eps = 1), linear learner",
           Rule(2.0, "within", 1e-6), raf_gardner_capacity, exact=True, source="raflab capacity"),
    _claim("raf.capacity-falls-with-facts", "raf", "the more facts, the fewer examples can all be stored: "
           "alpha_c falls with eps towards 2", "min(alpha_c(0.1) - alpha_c(0.5), alpha_c(0.5) - alpha_c(1))",
           Rule(0.0, "above"), raf_capacity_falls_with_facts, exact=True, source="raflab capacity"),
    _claim("raf.square-theory-matches-fits", "raf", "the replica formulas give the rule's test error of "
           "ridge-regularized square-loss fits", "fit minus theory, rule test error (alpha 2, eps 0.2, lam 0.1)",
           Rule(0.0, "within", 0.02), raf_square_theory_matches_fits, source="raflab compare --loss square",
           seeds={"quick": 8, "full": 10},
           note="d = 400 (quick), 1000 (full)"),
    _claim("raf.hinge-theory-matches-fits", "raf", "the replica formulas give the fact memorization error "
           "of hinge-loss fits", "fit minus theory, fact memorization error (alpha 2, eps 0.2, lam 0.05)",
           Rule(0.0, "within", 0.03), raf_hinge_theory_matches_fits, source="raflab compare --loss hinge",
           seeds={"quick": 16, "full": 10},
           note="d = 400 (quick), 1000 (full)"),
    _claim("raf.ridge-helps-the-rule", "raf", "with facts in the data, the rule generalizes best at a "
           "positive ridge (facts act as label noise for the rule)", "argmin over lam of the rule test "
           "error (square, alpha 2, eps 0.2)", Rule(1e-3, "above"), raf_ridge_helps_rule_not_facts, exact=True,
           source="raflab phase"),
    _claim("raf.memorization-needs-small-ridge", "raf", "memorizing facts needs a small ridge: the fact "
           "error grows with lam", "fact memorization error at lam 1 minus at lam 1e-3 (square, alpha 2, "
           "eps 0.2)", Rule(0.0, "above"), raf_memorization_needs_small_ridge, exact=True, source="raflab phase"),
    _claim("raf.features-store-more-facts", "raf", "random features with more features (kappa) store "
           "more: capacity grows with kappa", "alpha_c(kappa 4) - alpha_c(kappa 1), relu, eps 0.5",
           Rule(0.0, "above"), raf_features_store_more, exact=True, source="raflab capacity --model rf"),
    _claim("attention.reversal-with-alignment", "attention", "with signal aligned to the attention "
           "weights, nonlinear attention memorizes better than linear ridge", "E_attention - E_ridge "
           "(c 1, gamma 1, relu, snr 1, align 1)", Rule(0.0, "below"), attention_reversal_with_alignment,
           exact=True, source="raflab attention map",
           note="at equal penalty gamma; with the penalty matched to the attention features' scale (2.59x the "
                "tokens' energy at c = 1) attention loses here and reverses only from gamma >= 2.01 "
                "(docs/attention.md, Reversal map)"),
    _claim("attention.worse-without-structure", "attention", "without structure in the tokens, nonlinear "
           "attention memorizes worse than linear ridge", "E_attention - E_ridge (c 1, gamma 0.1, tanh, "
           "snr 0)", Rule(0.0, "above"), attention_worse_without_structure, exact=True,
           source="raflab attention theory"),
    _claim("attention.theory-matches-monte-carlo", "attention", "the deterministic equivalent gives the "
           "memorization error of finite attention", "Monte Carlo minus theory, E_attention at the "
           "reversal point", Rule(0.0, "within", 0.02), attention_theory_matches_monte_carlo, seeds={"quick": 10, "full": 20},
           source="raflab attention compare", note="n = 400 (quick), 1000 (full)"),
    _claim("attention.ridge-closed-form", "attention", "linear ridge's memorization error has a "
           "Marchenko-Pastur closed form", "Monte Carlo minus closed form, E_ridge", Rule(0.0, "within", 0.02),
           attention_ridge_closed_form, source="raflab attention compare", seeds={"quick": 16, "full": 20}),
    _claim("hopfield.capacity-0138", "diffusion", "the Hopfield network retrieves up to 0.138 N patterns "
           "(Amit-Gutfreund-Sompolinsky), the associative memory the paper starts from",
           "alpha_c of the replica-symmetric retrieval solution", Rule(0.138, "within", 5e-4),
           hopfield_capacity, exact=True, source="raflab hopfield capacity"),
    _claim("hopfield.dense-capacity-exponent", "diffusion", "a dense associative memory F(x) = x^n stores "
           "of order N^(n-1) patterns", "log10 K(1e5) / K(1e4) at n = 3 (2 up to a log factor)",
           Rule(2.0, "within", 0.15), hopfield_dense_exponent, exact=True, source="raflab hopfield dense"),
    _claim("diffusion.memorization-at-small-K", "diffusion", "with few training points a diffusion model "
           "reproduces them (memorization)", "memorized fraction at K = 2 (ring)", Rule(0.9, "above"),
           diffusion_memorizes_small_K, source="raflab diffusion phases --data ring"),
    _claim("diffusion.generalization-at-large-K", "diffusion", "with many training points it generates "
           "new points of the data manifold (generalization)", "generalized fraction at K = 1000 (ring)",
           Rule(0.5, "above"), diffusion_generalizes_large_K, source="raflab diffusion phases --data ring"),
    _claim("diffusion.spurious-at-transition", "diffusion", "spurious states peak between memorization "
           "and generalization", "spurious fraction at K = 16 minus the larger at K = 2 and 1000 (ring)",
           Rule(0.0, "above"), diffusion_spurious_at_transition, source="raflab diffusion phases --data ring"),
    _claim("diffusion.optimal-denoiser-memorizes", "diffusion", "the exact empirical denoiser is a dense "
           "associative memory of the training set: it only reproduces training points",
           "memorized fraction of the exact denoiser at K = 100 (ring)", Rule(0.99, "above"),
           diffusion_optimal_denoiser_memorizes, source="raflab diffusion phases --exact"),
    _claim("sdpi.omega-d-bits-at-constant-n", "sdpi", "an accurate learner must memorize Omega(d) bits of "
           "its sample at constant n (Gaussian clustering, sigma^2 = sqrt d)", "exponent of d in the lower "
           "bound, d 1024 -> 4096, n 4", Rule(1.0, "within", 0.05), sdpi_omega_d_bits, exact=True,
           source="raflab sdpi bound"),
    _claim("sdpi.bound-is-tight", "sdpi", "the bound is attained up to a constant factor (a noisy-mean "
           "learner memorizes within a small factor of it)", "matching algorithm's bits / bound (d 1024, "
           "n 4, error 1/4)", Rule(3.0, "below"), sdpi_bound_is_tight, exact=True, source="raflab sdpi bound"),
)

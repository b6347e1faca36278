"""The memorization atlas: every system on one pair of axes, stored fact bits per parameter against
the fraction of facts in the training data (eps).

Two kinds of rows:

- **curves** from the RAF theory (:mod:`raflab.raf.theory.capacity`): the max-margin learner at its
  storage capacity alpha_c(eps) holds every training label, of which a fraction eps are facts (fair
  coins, one bit each), so it stores ``eps * alpha_c(eps)`` fact bits per input dimension d; per
  trainable parameter that is ``eps * alpha_c`` for the linear learner (d weights; Gardner's 2 at
  eps = 1) and ``eps * alpha_c / kappa`` for random features (p = kappa d second-layer weights; Cover's
  2 at eps = 1). The rule's generalization error there is arccos(c) / pi with c the student-teacher
  correlation at capacity (:func:`raflab.raf.metrics.generalization_error_from_overlaps`).
- **points**: associative memories from their capacity theory (:mod:`raflab.memory.hopfield_theory`)
  and trained networks from the measurements reported in the docs pages (each row names its source;
  the measured numbers are typed in from those pages, the counts that can be derived here are
  computed: Too Big to Think's fact fraction from the task's own line lists, the diffusion MLP's
  parameter count from the model class).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
from scipy.special import comb

from raflab.core.checks import in_range
from raflab.raf.metrics import generalization_error_from_overlaps

DEFAULT_KAPPAS = (0.5, 1.0, 2.0, 4.0)
DEFAULT_DENSE_N = 100
POINT_COLUMNS = ["system", "eps", "bits_per_parameter", "ci95_low", "ci95_high", "stored_bits", "parameters",
                 "gen_error", "gen_error_definition", "kind", "source", "note"]


def raf_capacity_curves(kappas=DEFAULT_KAPPAS, eps=None) -> pd.DataFrame:
    """Fact bits per parameter of the linear and random-feature (ReLU) learners at capacity, over eps.

    One row per (learner, eps): ``model, kappa, eps, alpha_c, bits_per_parameter, gen_error, source``.
    kappa is NaN for the linear learner.
    """
    from raflab.raf.theory.capacity import capacity_alpha
    from raflab.raf.theory.erm import make_prior

    eps = np.linspace(0.05, 1.0, 20) if eps is None else np.atleast_1d(np.asarray(eps, dtype=float))
    if eps.size == 0:
        raise ValueError("eps: give at least one value")
    eps = np.array([in_range(e, "eps", 0.0, 1.0, low_open=True) for e in eps.tolist()])  # eps = 0: no facts to store
    kappas = [in_range(k, "kappa", 0.0, low_open=True) for k in np.atleast_1d(np.asarray(kappas, dtype=float)).tolist()]
    learners = [("linear", math.nan, make_prior("linear"))]
    learners += [("rf", k, make_prior("rf", kappa=k, activation="relu")) for k in kappas]
    rows = []
    for model, kappa, prior in learners:
        parameters_per_dimension = 1.0 if model == "linear" else kappa
        for e in eps:
            alpha_c, c = capacity_alpha(prior, float(e))
            rows.append({"model": model, "kappa": kappa, "eps": float(e), "alpha_c": alpha_c,
                         "bits_per_parameter": float(e) * alpha_c / parameters_per_dimension,
                         "gen_error": float(generalization_error_from_overlaps(c, 1.0)),
                         "source": "raflab.raf.theory.capacity.capacity_alpha"})
    return pd.DataFrame(rows)


def _row(system, eps, bits_per_parameter, source, kind, *, low=math.nan, high=math.nan, stored_bits=math.nan,
         parameters=math.nan, gen_error=math.nan, gen_error_definition="", note=""):
    return {"system": system, "eps": float(eps), "bits_per_parameter": float(bits_per_parameter),
            "ci95_low": float(low), "ci95_high": float(high), "stored_bits": float(stored_bits),
            "parameters": float(parameters), "gen_error": float(gen_error),
            "gen_error_definition": gen_error_definition if np.isfinite(gen_error) else "", "kind": kind,
            "source": source, "note": note}


@functools.lru_cache(maxsize=1)
def _hopfield_alpha_c() -> float:
    from raflab.memory.hopfield_theory import capacity_alpha_c

    return capacity_alpha_c()["alpha_c"]


def associative_memory_points(N: int = DEFAULT_DENSE_N, degrees=(2, 3, 4)) -> list[dict]:
    """Hopfield at alpha_c (bits over the N^2 / 2 symmetric weights) and dense associative memories
    F(x) = x^n at their one-pattern capacity (bits over the C(N, n) couplings of the n-body energy)."""
    from raflab.memory.hopfield_theory import dense_am_capacity_polynomial

    if int(N) != N or N < 4:
        raise ValueError(f"N must be an integer >= 4 (got {N})")
    alpha_c = _hopfield_alpha_c()
    rows = [_row("Hopfield (T = 0, alpha_c)", 1.0, 2.0 * alpha_c, "raflab.memory.hopfield_theory.capacity_alpha_c",
                 "theory", note=f"alpha_c N patterns of N bits over N^2/2 weights: 2 alpha_c, alpha_c = {alpha_c:.4f} "
                                "(retrieval with ~1.6% wrong bits)")]
    for n in degrees:
        K = float(dense_am_capacity_polynomial(N, n, criterion="pattern"))
        couplings = float(comb(N, n, exact=True))
        rows.append(_row(f"dense AM x^{n}, N = {N}", 1.0, K * N / couplings,
                         "raflab.memory.hopfield_theory.dense_am_capacity_polynomial", "theory",
                         stored_bits=K * N, parameters=couplings,
                         note=f"K = {K:.1f} patterns of N bits over the C(N, {n}) couplings of the {n}-body energy "
                              "(counting the K x N pattern matrix instead gives 1 bit/param)"))
    return rows


def _too_big_to_think_counts() -> tuple[int, int]:
    from raflab.seq.tasks.chars import arithmetic_lines, capital_facts

    return len(arithmetic_lines(1)[0]), len(capital_facts())


def _diffusion_mlp_parameters(width: int = 256, pixels: int = 64) -> int:
    from raflab.memory.diffusion_models import TimeMLP

    return sum(p.numel() for p in TimeMLP(pixels, width=width).parameters())


DOCUMENTED = "documented"
STORED = "measured (store)"


def _bits_point(store) -> dict:
    from raflab.ledger.atlas_store import stored_bits_fit

    name = "GPT, random strings (bits study fit)"
    fit = stored_bits_fit(store) if store is not None else None
    if fit is None:
        return _row(name, 1.0, 1.56, "docs/sequence.md, Bits per parameter", DOCUMENTED, low=1.51, high=1.61,
                    note="1-layer GPTs, 732-8,112 params, 512 strings of 32 tokens over 16 symbols, plateau; "
                         "fit through the origin over 9 runs (3 seeds)")
    return _row(name, 1.0, fit["slope"], f"{store}: {fit['sweep']}", STORED, low=fit["ci_low"], high=fit["ci_high"],
                note=f"fit through the origin over {fit['runs']} runs ({fit['n_seeds']} seeds), "
                     f"{fit['params_min']:,}-{fit['params_max']:,} params, {fit['runs_saturated']} at a plateau")


def _capacity_point(store) -> dict:
    from raflab.ledger.atlas_store import stored_capacity_triplets

    name = "GPT, random graph triplets (Capacity Matters)"
    found = stored_capacity_triplets(store) if store is not None else None
    if found is None:
        facts, bits_per_fact, params = 870, math.log2(100), 5_072
        return _row(name, 1.0, facts * bits_per_fact / params, "docs/sequence.md, Capacity Matters", DOCUMENTED,
                    stored_bits=facts * bits_per_fact, parameters=params,
                    note="~870 of 2,000 (node, edge) -> node facts of log2(100) bits, 1 layer width 16, 300 steps")
    return _row(name, 1.0, found["bits_per_parameter"], f"{store}: {found['sweep']}", STORED,
                low=found["ci95_low"], high=found["ci95_high"], stored_bits=found["stored_bits"],
                parameters=found["parameters"],
                note=f"~{found['facts']:.0f} of 2,000 facts of log2({found['entities']}) bits, 1 layer width 16, "
                     f"{found['steps']} steps, {found['n_seeds']} seeds")


def _too_big_to_think_points(store) -> list[dict]:
    from raflab.ledger.atlas_store import stored_too_big_to_think

    arithmetic, capitals = _too_big_to_think_counts()
    bits_per_capital = math.log2(capitals)
    rows = []
    for regime, eps, stored, params, heldout in (("facts", 1.0, 0.98, 24_080, math.nan),
                                                 ("both", capitals / (capitals + arithmetic), 0.92, 24_920, 0.20)):
        found = stored_too_big_to_think(store, regime) if store is not None else None
        low = high = math.nan
        source, kind, seeds = "docs/sequence.md, Too Big to Think (reduced run)", DOCUMENTED, "seeds 0-4"
        if found is not None:
            stored, params, heldout = found["fact_accuracy"], found["parameters"], found["heldout_accuracy"]
            scale = capitals * bits_per_capital / params
            low, high = found["ci95_low"] * scale, found["ci95_high"] * scale
            source, kind = f"{store}: {found['sweep']}", STORED
            seeds = f"{found['n_seeds']} seeds, {found['steps']} steps"
        stored_bits = stored * capitals * bits_per_capital
        gen = 1 - heldout if regime == "both" else math.nan
        rows.append(_row(f"GPT width 56, Too Big to Think ({regime})", eps, stored_bits / params, source, kind,
                         low=low, high=high, stored_bits=stored_bits, parameters=params, gen_error=gen,
                         gen_error_definition="held-out exact-match error (4 lines)",
                         note=f"{stored:.2f} of {capitals} capitals stored, log2({capitals}) bits each (a lower "
                              f"bound on the characters stored), {seeds}; " + (
                                  f"eps = {capitals} facts / {capitals + arithmetic} training lines; gen_error = 1 - "
                                  f"held-out 5&7 accuracy ({heldout:.2f})" if regime == "both" else "facts only")))
    return rows


def sequence_and_diffusion_points(store=None) -> list[dict]:
    """Measured points of trained networks: the sequence-model studies' from ``store`` where it holds
    them (:mod:`raflab.ledger.atlas_store`, kind "measured (store)"), else the numbers documented in
    docs/sequence.md (kind "documented"); the diffusion MLP's from docs/diffusion.md."""
    rows = [_bits_point(store), _capacity_point(store), *_too_big_to_think_points(store)]
    params = _diffusion_mlp_parameters()
    K, bits_per_image = 8, 64 * math.log2(17)
    rows.append(_row("diffusion MLP, 8x8 digits (transition K ~ 8)", 1.0, K * bits_per_image / params,
                     "docs/diffusion.md, Figures (digits)", DOCUMENTED, stored_bits=K * bits_per_image,
                     parameters=params,
                     note=f"K = 8 images at the memorized -> generalized crossing (3000 steps), 64 pixels of "
                          f"log2(17) bits each (an upper bound), K per parameter = {K / params:.2e}; "
                          "eps = 1 by convention (every memorized image is a fact)"))
    return rows


def raf_sequence_points(runs: pd.DataFrame | None = None) -> list[dict]:
    """Atlas rows of the RAF task through sequence models (:mod:`raflab.ledger.atlas_seq`): mean over
    seeds with a 95% t-interval; the shipped runs unless ``runs`` is given."""
    from raflab.ledger.atlas_seq import MIXER_NAMES, SHIPPED_RUNS, raf_sequence_summary

    rows = []
    for _, r in raf_sequence_summary(runs).iterrows():
        name = f"{MIXER_NAMES.get(r['mixer'], r['mixer'])} on RAF data, width {r['width']:g}, ε = {r['eps']:g}"
        rows.append(_row(name, r["eps"], r["bits_per_parameter"],
                         f"raflab.ledger.atlas_seq.train_raf_sequence ({SHIPPED_RUNS})", "measured",
                         low=r["bits_per_parameter_ci95_low"], high=r["bits_per_parameter_ci95_high"],
                         stored_bits=r["stored_bits"], parameters=r["parameters"],
                         gen_error=r["gen_error"] if r["eps"] < 1 else np.nan,
                         gen_error_definition="rule sign error (the RAF theory's)",
                         note=f"d = {r['d']:g}, n = {r['alpha'] * r['d']:g}, {r['steps']:g} full-batch Adam steps, "
                              f"fact error {r['fact_error']:.3f}, {r['n_seeds']:g} seeds; bits = n_facts (1 - h2(fact "
                              "error)); gen_error = rule sign error on fresh inputs"))
    return rows


def atlas_points(N: int = DEFAULT_DENSE_N, store=None) -> pd.DataFrame:
    """Every system's point: associative memories from theory, trained networks as measured (the
    sequence-model studies from ``store`` where it holds them, else as documented; the RAF task through
    sequence models from the shipped runs of :mod:`raflab.ledger.atlas_seq`)."""
    rows = associative_memory_points(N) + sequence_and_diffusion_points(store) + raf_sequence_points()
    frame = pd.DataFrame(rows, columns=POINT_COLUMNS)
    if frame["source"].eq("").any():
        raise RuntimeError("an atlas point has no source")
    return frame

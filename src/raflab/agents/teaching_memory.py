"""Learning by teaching as a mechanism: the child's memory of the lesson items, with forgetting, and the
retrieval events that each activity makes it perform (issue 22, part 4; model documented in
``docs/teaching.md``, section "Teaching as a mechanism").

The flat model of :mod:`raflab.agents.teaching` gives the teaching child a per-condition correction gain,
so its headline (teaching beats self-practice) is an input. Here both conditions share ONE learning rule
with the same parameters; only the activity differs, and the advantage (or disadvantage) of teaching is
whatever the events that the activity generates add up to.

Memory of item ``j`` (one trace per lesson item): encoding strength ``m`` in [0, 1], stability ``S``
(in episodes) and the time ``tau`` of its last study. Recall probability at time ``t`` (the forgetting
curve, exponential with a stability that retrieval raises, as in spacing-effect models)::

    p(t) = m * exp(-forgetting_rate * (t - tau) / S)

One episode studies one item (chosen at random or adaptively, as in the flat model). At episode ``t``:

1. the child attempts to retrieve the item: it succeeds with probability ``p(t)`` (measured: retrievals);
2. the activity:

   * self-practice: the child answers the item itself: a successful retrieval is a production, effort 1;
   * teaching: the tutee answers, wrong with probability ``tutee_error_rate`` (measured: tutee errors).
     The child judges the answer: if it retrieved the item the judgment is right, otherwise a coin flip.
     Judging a shown answer after retrieving one's own is a recognition, effort ``judging_effort``; when
     the tutee was wrong and the child retrieved the item it says "incorrect" and produces the right
     answer for the tutee (an explanation), effort 1 more (measured: corrections);

3. the same learning rule in both conditions: ``S <- S + retrieval_strength * effort * (S0 + gap)``,
   where ``gap = t - tau`` is the spacing since the item's last study (longer gaps, bigger stability
   gains: the spacing effect; measured: mean gap); then the right answer is shown (the app reveals it):
   ``m <- m + encoding_rate (1 - m)`` and ``tau <- t``.

Tests: immediately after the last episode (``t = episodes``) and after ``delay`` more episodes of no study;
the score is the mean recall probability over the lesson items. Known items start at ``m = 1``, unknown ones
at ``m = 0``; all at ``S = S0``, ``tau = 0``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from raflab.agents.teaching import CHOICES, _unit
from raflab.core.checks import in_range, one_of
from raflab.core.seeding import integer_rng
from raflab.core.summary import summarize

#: the per-seed measures of a grid point; ``*_advantage`` is teaching minus self-practice on the same
#: lesson (common random numbers), so its interval is that of a paired difference
MEASURES = ("pretest", "immediate_teaching", "immediate_practice", "delayed_teaching", "delayed_practice",
            "immediate_advantage", "delayed_advantage")
COUNTS = ("retrievals_teaching", "retrievals_practice", "corrections", "tutee_errors", "effort_teaching",
          "effort_practice", "gap_teaching", "gap_practice", "stability_teaching", "stability_practice")
AXES = ("teacher_knowledge", "retrieval_strength", "forgetting_rate", "tutee_error_rate", "judging_effort")


@dataclass(frozen=True)
class MemoryParams:
    """The child's learning rule and forgetting curve: the same in both conditions.

    ``encoding_rate``: ``m <- m + encoding_rate (1 - m)`` each time the right answer is shown;
    ``initial_stability``: ``S0`` (episodes); ``retrieval_strength``: stability gained per unit of retrieval
    effort, in units of ``S0 + gap``; ``forgetting_rate``: ``f`` of ``exp(-f t / S)`` (0: no forgetting);
    ``judging_effort``: the effort of judging a shown answer relative to producing one (1).
    """

    encoding_rate: float = 0.3
    initial_stability: float = 50.0
    retrieval_strength: float = 0.5
    forgetting_rate: float = 1.0
    judging_effort: float = 0.5

    def __post_init__(self):
        _unit(self.encoding_rate, "encoding rate")
        in_range(self.initial_stability, "initial stability", 0, None, low_open=True)
        for name in ("retrieval_strength", "forgetting_rate"):
            value = np.atleast_1d(np.asarray(getattr(self, name), dtype=float))
            if not np.all(np.isfinite(value)) or np.any(value < 0):
                raise ValueError(f"{name.replace('_', ' ')} must be >= 0 (got "
                                 f"{', '.join(f'{v:g}' for v in value)})")
        _unit(self.judging_effort, "judging effort")


def recall_probability(strength, stability, forgetting_rate, elapsed):
    """The forgetting curve ``m exp(-f elapsed / S)`` (elementwise; ``S > 0``)."""
    strength, stability = np.asarray(strength, float), np.asarray(stability, float)
    return strength * np.exp(-np.asarray(forgetting_rate, float) * np.asarray(elapsed, float) / stability)


def _column(x, B):
    return np.broadcast_to(np.asarray(x, dtype=float), (B,))[:, None]


def run_lessons(teaching: bool, known: np.ndarray, *, episodes: int, delay: float, choice: str,
                rng_choice: np.random.Generator, rng_events: np.random.Generator, encoding_rate=0.3,
                initial_stability=50.0, retrieval_strength=0.5, forgetting_rate=1.0, judging_effort=0.5,
                tutee_error_rate=0.5) -> dict:
    """One batch of lessons, run ``b`` over items ``known[b]`` (bool, (B, n)); every parameter a scalar or a
    (B,) array (each run its own grid point). Returns per-run arrays: ``pretest``, ``immediate``,
    ``delayed`` and the event counts ``retrievals``, ``corrections``, ``tutee_errors``, ``effort`` (summed
    retrieval effort), ``gap`` (mean spacing of re-studies), ``stability`` (mean final S).

    Each episode draws the same random numbers in both conditions (item choice from ``rng_choice``; recall,
    guess and tutee draws from ``rng_events``), so two calls with equal generators are paired lessons."""
    B, n = known.shape
    alpha, s0 = _column(encoding_rate, B)[:, 0], _column(initial_stability, B)[:, 0]
    rho, f = _column(retrieval_strength, B)[:, 0], _column(forgetting_rate, B)[:, 0]
    judge, err = _column(judging_effort, B)[:, 0], _column(tutee_error_rate, B)[:, 0]
    m = known.astype(float)
    S = np.repeat(s0[:, None], n, axis=1)
    last = np.zeros((B, n))
    flag = np.ones((B, n), dtype=bool)  # adaptive choice: not yet studied, or last judged / answered wrong
    runs = np.arange(B)
    retrievals, corrections, tutee_errors, effort_sum = (np.zeros(B) for _ in range(4))
    gap_sum, restudies = np.zeros(B), np.zeros(B)
    studied = np.zeros((B, n), dtype=bool)
    for t in range(episodes):
        u_choice = rng_choice.random((B, n))
        j = np.argmax(u_choice + flag, axis=1) if choice == "adaptive" else np.argmax(u_choice, axis=1)
        u_recall, u_guess, u_tutee = rng_events.random((3, B))
        gap = t - last[runs, j]
        p = recall_probability(m[runs, j], S[runs, j], f, gap)
        recalled = u_recall < p
        retrievals += recalled
        if teaching:
            tutee_wrong = u_tutee < err
            judged_right = recalled | (u_guess < 0.5)
            correction = tutee_wrong & recalled
            tutee_errors += tutee_wrong
            corrections += correction
            effort = judge * recalled + correction
            flag[runs, j] = tutee_wrong == judged_right  # the child said "incorrect"
        else:
            effort = recalled.astype(float)
            flag[runs, j] = ~(recalled | (u_guess < 0.5))  # the child's own answer was wrong
        effort_sum += effort
        again = studied[runs, j]
        gap_sum += np.where(again, gap, 0.0)
        restudies += again
        studied[runs, j] = True
        S[runs, j] += rho * effort * (s0 + gap)
        m[runs, j] += alpha * (1 - m[runs, j])
        last[runs, j] = t
    elapsed = episodes - last
    immediate = recall_probability(m, S, f[:, None], elapsed).mean(1)
    delayed = recall_probability(m, S, f[:, None], elapsed + delay).mean(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        gap_mean = np.where(restudies > 0, gap_sum / np.maximum(restudies, 1), np.nan)
    return {"pretest": known.mean(1), "immediate": immediate, "delayed": delayed, "retrievals": retrievals,
            "corrections": corrections, "tutee_errors": tutee_errors, "effort": effort_sum, "gap": gap_mean,
            "stability": S.mean(1)}


def _values(x, name: str) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(x, dtype=float))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name}: give one value or a list of values")
    return arr


def _check(episodes, seeds, n_taught, delay):
    if int(episodes) != episodes or episodes < 1:
        raise ValueError(f"episodes must be an integer >= 1 (got {episodes})")
    if int(seeds) != seeds or seeds < 2:
        raise ValueError(f"seeds must be an integer >= 2: the intervals need two (got {seeds})")
    if int(n_taught) != n_taught or n_taught < 1:
        raise ValueError(f"taught items must be an integer >= 1 (got {n_taught})")
    in_range(delay, "delay", 0, None)


def memory_seed_records(teacher_knowledge=(0.3,), *, retrieval_strength=0.5, forgetting_rate=1.0,
                        tutee_error_rate=0.5, judging_effort=0.5, encoding_rate: float = 0.3,
                        initial_stability: float = 50.0, episodes: int = 400, delay: float = 400,
                        seeds: int = 10, seed: int = 0, choice: str = "adaptive",
                        n_taught: int = 40) -> pd.DataFrame:
    """Both conditions at every point of the grid ``teacher_knowledge x retrieval_strength x
    forgetting_rate x tutee_error_rate x judging_effort`` (each a value or a list), ``seeds`` paired
    lessons per point, all in one numpy batch. One row per (point, seed): the scores, the teaching
    advantage (teaching - practice) and the event counts of each condition."""
    one_of(choice, CHOICES, "item choice")
    _check(episodes, seeds, n_taught, delay)
    axes = {"teacher_knowledge": _values(teacher_knowledge, "teacher knowledge"),
            "retrieval_strength": _values(retrieval_strength, "retrieval strength"),
            "forgetting_rate": _values(forgetting_rate, "forgetting rate"),
            "tutee_error_rate": _values(tutee_error_rate, "tutee error rate"),
            "judging_effort": _values(judging_effort, "judging effort")}
    _unit(axes["teacher_knowledge"], "teacher knowledge")
    _unit(axes["tutee_error_rate"], "tutee error rate")
    MemoryParams(encoding_rate=encoding_rate, initial_stability=initial_stability,
                 retrieval_strength=axes["retrieval_strength"], forgetting_rate=axes["forgetting_rate"],
                 judging_effort=0.5)  # checks the shared parameters
    _unit(axes["judging_effort"], "judging effort")
    seeds, episodes = int(seeds), int(episodes)
    grid = np.array(np.meshgrid(*axes.values(), indexing="ij")).reshape(len(axes), -1).T  # (P, 5)
    P = len(grid)
    point = np.repeat(grid, seeds, axis=0)  # run b = point * seeds + s
    seed_of = np.tile(np.arange(seeds), P)
    u = integer_rng(seed, 22, 4, 0).random((seeds, int(n_taught)))  # the knowledge draw, nested across levels
    known = u[seed_of] < point[:, [0]]
    params = dict(retrieval_strength=point[:, 1], forgetting_rate=point[:, 2], tutee_error_rate=point[:, 3],
                  judging_effort=point[:, 4], encoding_rate=encoding_rate, initial_stability=initial_stability)
    out = {}
    for teaching, name in ((True, "teaching"), (False, "practice")):
        out[name] = run_lessons(teaching, known, episodes=episodes, delay=float(delay), choice=choice,
                                rng_choice=integer_rng(seed, 22, 4, 1), rng_events=integer_rng(seed, 22, 4, 2),
                                **params)
    T, Q = out["teaching"], out["practice"]
    df = pd.DataFrame(point, columns=list(axes))
    df.insert(0, "seed", seed_of)
    df = df.assign(choice=choice, episodes=episodes, delay=float(delay), pretest=T["pretest"],
                   immediate_teaching=T["immediate"], immediate_practice=Q["immediate"],
                   delayed_teaching=T["delayed"], delayed_practice=Q["delayed"],
                   immediate_advantage=T["immediate"] - Q["immediate"],
                   delayed_advantage=T["delayed"] - Q["delayed"],
                   retrievals_teaching=T["retrievals"], retrievals_practice=Q["retrievals"],
                   corrections=T["corrections"], tutee_errors=T["tutee_errors"],
                   effort_teaching=T["effort"], effort_practice=Q["effort"],
                   gap_teaching=T["gap"], gap_practice=Q["gap"],
                   stability_teaching=T["stability"], stability_practice=Q["stability"])
    return df


def verdict(low: float, high: float) -> str:
    """Which condition a 95% interval of (teaching - practice) favours."""
    if low > 0:
        return "teaching"
    if high < 0:
        return "practice"
    return "neither"


def memory_records(per_seed: pd.DataFrame) -> pd.DataFrame:
    """One record per grid point: the mean over seeds of every measure and count, with standard errors,
    the 95% Student-t interval of each score and advantage (:func:`raflab.core.summary.summarize`), and
    ``immediate_winner`` / ``delayed_winner``: the condition whose advantage interval excludes 0."""
    keys = [*AXES, "choice", "episodes", "delay"]
    out = summarize(per_seed, keys, [*MEASURES, *COUNTS], stderr_of=[m for m in MEASURES if m != "pretest"],
                    ci95_of=[m for m in MEASURES if m != "pretest"])
    for when in ("immediate", "delayed"):
        out[f"{when}_winner"] = [verdict(lo, hi) for lo, hi in zip(out[f"{when}_advantage_ci95_low"],
                                                                   out[f"{when}_advantage_ci95_high"])]
    return out


def teaching_mechanism(teacher_knowledge=(0.3,), **options) -> pd.DataFrame:
    """:func:`memory_seed_records` summarized by :func:`memory_records`: one record per grid point."""
    return memory_records(memory_seed_records(teacher_knowledge, **options))

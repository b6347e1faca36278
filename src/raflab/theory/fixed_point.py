"""One damped fixed-point loop for every model: vectorized over parameter points, with flags.

The loop knows nothing about priors, channels or losses: it iterates ``state <- (1-d) state +
d update(state)`` on an array of shape (P, K), keeps iterating only the points that have not yet
converged, and returns per point whether it converged, after how many iterations, and the last
residual. The damping of a point is halved whenever its residual grows (an oscillating point) and
relaxed back towards 1 while it shrinks, so easy points take near-Newton-free plain iterations and
XX
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np


class ConvergenceWarning(RuntimeWarning):
    """A fixed point (or a solver) stopped before reaching its tolerance."""


@dataclass
class FixedPointResult:
    state: np.ndarray  # (P, K)
    converged: np.ndarray  # (P,) bool
    iterations: np.ndarray  # (P,) int
    residual: np.ndarray  # (P,) float: max relative change of the undamped update at the end


def relative_residual(new: np.ndarray, old: np.ndarray) -> np.ndarray:
    """max_k |new_k - old_k| / (1 + |old_k|), per row; non-finite values count as infinite."""
    r = np.max(np.abs(new - old) / (1.0 + np.abs(old)), axis=-1)
    return np.where(np.isfinite(r), r, np.inf)


def solve_fixed_point(
    update: Callable[[np.ndarray, np.ndarray], np.ndarray],
    init: np.ndarray,
    *,
    tol: float = 1e-10,
    max_iter: int = 5000,
    damping: float = 1.0,
    diverged: Callable[[np.ndarray], np.ndarray] | None = None,
    admissible: Callable[[np.ndarray], np.ndarray] | None = None,
) -> FixedPointResult:
    """Iterate ``update`` to a fixed point, point by point but vectorized.

    Parameters
    ----------
    update : callable(state, index) -> new_state
        ``state`` has shape (A, K) for the A active points whose positions in the full problem are
        ``index``; it returns the undamped update of the same shape.
    init : array (P, K)
        Starting state (a warm start when available).
    tol : float
        Convergence when ``relative_residual(update(x), x) < tol``.
    diverged : callable(state) -> bool array, optional
        Marks updates that left the admissible region (or blew up): those points stop iterating
        and are reported as not converged.
    admissible : callable(state) -> bool array, optional
        Checked on a converged point: an inadmissible root (a degenerate solution of the equations)
        is reported as not converged rather than accepted.
    """
    state = np.array(init, dtype=float, copy=True)
    P = state.shape[0]
    converged = np.zeros(P, dtype=bool)
    stopped = np.zeros(P, dtype=bool)
    iterations = np.zeros(P, dtype=int)
    residual = np.full(P, np.inf)
    for _ in range(max_iter):
        active = np.flatnonzero(~stopped)
        if active.size == 0:
            break
        old = state[active]
        with np.errstate(all="ignore"):
            new = update(old, active)
        res = relative_residual(new, old)
        iterations[active] += 1
        bad = ~np.isfinite(res)
        if diverged is not None:
            bad |= diverged(new)
        done = (res < tol) & ~bad
        if admissible is not None:
            spurious = done & ~admissible(new)
            bad |= spurious
            done &= ~spurious
        residual[active] = res
        state[active] = np.where(done[:, None], new, (1.0 - damping) * old + damping * new)
        converged[active[done]] = True
        stopped[active[done]] = True
        stopped[active[bad]] = True
    return FixedPointResult(state, converged, iterations, residual)


def warn_unconverged(result: FixedPointResult, what: str) -> None:
    """Emit one ConvergenceWarning naming how many points failed and the worst residual."""
    n_bad = int((~result.converged).sum())
    if n_bad:
        worst = float(np.max(result.residual[~result.converged]))
        warnings.warn(
            f"{what}: {n_bad} of {result.converged.size} points did not converge "
            f"(worst residual {worst:.2e}); they are flagged converged=False",
            ConvergenceWarning,
            stacklevel=3,
        )

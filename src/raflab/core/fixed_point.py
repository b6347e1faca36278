"""One fixed-point loop for every model: vectorized over parameter points, with flags.

The loop knows nothing about priors, channels or losses. It iterates ``state <- update(state)`` on
an array of shape (P, K), keeps iterating only the points that have not yet converged, and returns
per point whether it converged, after how many iterations, and the last residual.

Steps are Anderson-accelerated (type II, a few past steps, each point its own history) in
coordinates where positive components are iterated in log scale; a proposal that leaves the
admissible region falls back to the plain (optionally damped) step and clears that point's
history. Plain iteration of the RAF maps converges linearly, and very slowly near an interpolation
threshold; Anderson mixing cuts the number of passes several-fold there.
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
    stalled: np.ndarray | None = None  # (P,) bool: stopped because the residual stopped improving


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
    positive: tuple[int, ...] = (),
    anderson: int = 3,
    patience: int | None = None,
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
    positive : tuple of int
        Components known to be positive: accelerated in log scale, so they stay positive.
    anderson : int
        Number of past steps in the Anderson mixing (0: plain damped iteration).
    patience : int, optional
        Stop a point whose best residual has not improved tenfold in this many iterations (a cycle,
        not a slow linear approach, which keeps improving): reported as ``stalled``, so a caller
        can restart it damped instead of spending the whole budget.
    """
    state = np.array(init, dtype=float, copy=True)
    P, K = state.shape
    converged = np.zeros(P, dtype=bool)
    stopped = np.zeros(P, dtype=bool)
    iterations = np.zeros(P, dtype=int)
    residual = np.full(P, np.inf)
    residual_prev = np.full(P, np.inf)
    stalled = np.zeros(P, dtype=bool)
    mark = np.full(P, np.inf)  # residual at the last tenfold improvement
    mark_iter = np.zeros(P, dtype=int)
    accel = _Anderson(P, K, anderson, positive, damping) if anderson > 0 else None
    for _ in range(max_iter):
        active = np.flatnonzero(~stopped)
        if active.size == 0:
            break
        old = state[active]
        with np.errstate(all="ignore"):
            new = update(old, active)
        res, done, bad = _judge_step(new, old, tol, diverged, admissible)
        iterations[active] += 1
        residual[active] = res
        plain = (1.0 - damping) * old + damping * new
        if accel is not None:
            # restart the mixing of a point whose residual jumped: its history misleads
            accel.reset(active[res > 10.0 * residual_prev[active]])
            residual_prev[active] = np.minimum(residual_prev[active], res)
            with np.errstate(all="ignore"):
                proposal = accel.step(active, old, new)
            reject = ~np.all(np.isfinite(proposal), axis=1)
            if diverged is not None:
                reject |= diverged(proposal)
            accel.reset(active[reject])
            plain = np.where(reject[:, None], plain, proposal)
        state[active] = np.where(done[:, None], new, plain)
        converged[active[done]] = True
        stopped[active[done]] = True
        stopped[active[bad]] = True
        if patience is not None:
            better = res < 0.1 * mark[active]
            mark[active[better]] = res[better]
            mark_iter[active[better]] = iterations[active[better]]
            stuck = ~done & ~bad & (iterations[active] - mark_iter[active] > patience)
            stalled[active[stuck]] = True
            stopped[active[stuck]] = True
    return FixedPointResult(state, converged, iterations, residual, stalled)


def _judge_step(new, old, tol, diverged, admissible):
    """(residual, converged, failed) of one step of the active points: a non-finite residual or a
    ``diverged`` state fails; a converged state outside the ``admissible`` region fails too."""
    res = relative_residual(new, old)
    bad = ~np.isfinite(res)
    if diverged is not None:
        bad |= diverged(new)
    done = (res < tol) & ~bad
    if admissible is not None:
        spurious = done & ~admissible(new)
        bad |= spurious
        done &= ~spurious
    return res, done, bad


def solve_fixed_point_newton(
    update: Callable[[np.ndarray, np.ndarray], np.ndarray],
    init: np.ndarray,
    *,
    tol: float = 1e-10,
    max_iter: int = 100,
    damping: float = 1.0,
    diverged: Callable[[np.ndarray], np.ndarray] | None = None,
    admissible: Callable[[np.ndarray], np.ndarray] | None = None,
    positive: tuple[int, ...] = (),
    fd_step: float = 1e-7,
) -> FixedPointResult:
    """Newton's method on ``update(x) - x``, vectorized over points: for cheap, smooth maps.

    Same arguments, convergence test and result as :func:`solve_fixed_point`. Each iteration calls
    ``update`` once on 1 + K copies of the active points (the state and K forward-difference
    perturbations, stacked), so the Jacobian costs one vectorized call; positive components are
    handled in log scale. A Newton step longer than a factor e on a log component (1 + |x| on
    another) is shortened to that length; one that is not finite or leaves the admissible region
    (``diverged``) is replaced by the plain (damped) step. Near a root it converges quadratically up
    to the forward-difference error, where plain iteration of a map whose slope is close to 1 (near
    a threshold) crawls.
    """
    state = np.array(init, dtype=float, copy=True)
    P, K = state.shape
    pos = np.zeros(K, dtype=bool)
    pos[list(positive)] = True
    to_u = lambda x: np.where(pos, np.log(np.where(pos, np.abs(x), 1.0)), x)  # noqa: E731
    from_u = lambda u: np.where(pos, np.exp(np.where(pos, u, 0.0)), u)  # noqa: E731
    converged = np.zeros(P, dtype=bool)
    stopped = np.zeros(P, dtype=bool)
    iterations = np.zeros(P, dtype=int)
    residual = np.full(P, np.inf)
    eye = np.eye(K)
    for _ in range(max_iter):
        active = np.flatnonzero(~stopped)
        if active.size == 0:
            break
        A = active.size
        old = state[active]
        u = to_u(old)
        h = fd_step * (1.0 + np.abs(u))  # (A, K)
        probes = u[None, :, :] + h[None, :, :] * eye[:, None, :]  # (K, A, K): probe j moves component j
        batch = np.concatenate([old, from_u(probes).reshape(K * A, K)])
        with np.errstate(all="ignore"):
            out = update(batch, np.tile(active, K + 1))
        new, moved = out[:A], out[A:].reshape(K, A, K)
        res, done, bad = _judge_step(new, old, tol, diverged, admissible)
        iterations[active] += 1
        residual[active] = res
        with np.errstate(all="ignore"):
            g = to_u(new) - u  # G(u) = T(update) - u
            g_moved = to_u(moved) - probes  # (K, A, K)
            jac = ((g_moved - g[None]) / h.T[:, :, None]).transpose(1, 2, 0)  # (A, K, K): dG_i/du_j
            ok = np.all(np.isfinite(jac), axis=(1, 2)) & np.isfinite(g).all(axis=1)
            step = np.zeros_like(u)
            if ok.any():
                try:
                    step[ok] = np.linalg.solve(jac[ok], -g[ok][:, :, None])[:, :, 0]
                except np.linalg.LinAlgError:  # a singular Jacobian somewhere: least squares
                    step[ok] = (np.linalg.pinv(jac[ok]) @ -g[ok][:, :, None])[:, :, 0]
            limit = np.where(pos, 1.0, 1.0 + np.abs(u))
            scale = np.min(np.where(np.abs(step) > limit, limit / np.abs(step), 1.0), axis=1)
            proposal = from_u(u + scale[:, None] * step)
        reject = ~ok | ~np.all(np.isfinite(proposal), axis=1)
        if diverged is not None:
            reject |= diverged(proposal)
        plain = (1.0 - damping) * old + damping * new
        step_to = np.where(reject[:, None], plain, proposal)
        state[active] = np.where(done[:, None], new, step_to)
        converged[active[done]] = True
        stopped[active[done | bad]] = True
    return FixedPointResult(state, converged, iterations, residual, np.zeros(P, dtype=bool))


class _Anderson:
    """Per-point Anderson mixing histories, updated for the active points only."""

    def __init__(self, P: int, K: int, memory: int, positive: tuple[int, ...], beta: float):
        self.memory, self.beta = memory, beta
        self.positive = np.zeros(K, dtype=bool)
        self.positive[list(positive)] = True
        self.dU = np.zeros((P, memory, K))
        self.dG = np.zeros((P, memory, K))
        self.last_u = np.full((P, K), np.nan)
        self.last_g = np.full((P, K), np.nan)

    def _to(self, x):
        return np.where(self.positive, np.log(np.where(self.positive, x, 1.0)), x)

    def _from(self, u):
        return np.where(self.positive, np.exp(np.where(self.positive, u, 0.0)), u)

    def reset(self, idx):
        self.dU[idx] = 0.0
        self.dG[idx] = 0.0
        self.last_u[idx] = np.nan

    def step(self, idx, old, new):
        u, g = self._to(old), self._to(new) - self._to(old)
        fresh = np.isfinite(self.last_u[idx]).all(axis=1)
        du = np.where(fresh[:, None], u - self.last_u[idx], 0.0)
        dg = np.where(fresh[:, None], g - self.last_g[idx], 0.0)
        dU = np.concatenate([du[:, None], self.dU[idx, :-1]], axis=1)
        dG = np.concatenate([dg[:, None], self.dG[idx, :-1]], axis=1)
        self.dU[idx], self.dG[idx], self.last_u[idx], self.last_g[idx] = dU, dG, u, g
        # gamma = argmin |g - dG^T gamma|, ridge-regularized so empty history slots give gamma = 0
        gram = dG @ dG.transpose(0, 2, 1)
        reg = 1e-10 * (np.trace(gram, axis1=1, axis2=2) + 1e-300)[:, None, None]
        gram = gram + reg * np.eye(self.memory)
        gamma = np.linalg.solve(gram, (dG @ g[:, :, None]))[:, :, 0]
        u_next = u + self.beta * g - np.einsum("pm,pmk->pk", gamma, dU + self.beta * dG)
        # Trust region: at most a factor e per step on log components (and |dm| <= 1 + |m|); a
        # longer extrapolation is where mixing overshoots into another basin near a threshold.
        too_far = np.any(np.abs(u_next - u) > np.where(self.positive, 1.0, 1.0 + np.abs(u)), axis=1)
        u_next[too_far] = np.nan
        return self._from(u_next)


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

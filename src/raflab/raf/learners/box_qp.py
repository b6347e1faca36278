"""The hinge dual box QP of the ERM and kernel fits, solved by our own method with our own stop.

    min_a  f(a) = a^T Q a / (2 lam) - sum(a),   0 <= a <= upper   (upper = inf: max-margin),

given A with Q = A A^T. A spectral projected gradient (Barzilai-Borwein steps, nonmonotone Armijo)
finds the active set; on the hard cases a projected L-BFGS on the free variables, with a plain
projected-gradient step every tenth step so that convergence never rests on the quasi-Newton steps,
takes over; exact active-set solves (``_polish``) finish to a KKT certificate. The KKT violation is
checked on a freshly computed gradient before anything is returned. No library optimizer's
internals decide convergence (L-BFGS-B's did until SciPy 1.16 changed them).
"""

from __future__ import annotations

import numpy as np
from scipy import linalg


class _Gram:
    """Rows of A A^T on demand. Successive active-set solves revisit nearly the same free set, so
    its Gram block is computed once and extended, never recomputed."""

    def __init__(self, A):
        self.A, self.pos, self.idx, self.G = A, np.full(A.shape[0], -1), np.empty(0, int), np.empty((0, 0))

    def block(self, F):
        new = F[self.pos[F] < 0]
        if new.size:
            B = self.A[new]
            cross = self.A[self.idx] @ B.T
            self.G = np.block([[self.G, cross], [cross.T, B @ B.T]])
            self.pos[new] = np.arange(self.idx.size, self.idx.size + new.size)
            self.idx = np.concatenate([self.idx, new])
        p = self.pos[F]
        return self.G[np.ix_(p, p)]


def _kkt_violation(a, grad, upper) -> float:
    """Largest violation of the box-QP optimality conditions: the projected gradient, and the
    bounds themselves (an active-set solve can land outside the box)."""
    proj = np.where(a <= 0, np.minimum(grad, 0.0), np.where(a >= upper, np.maximum(grad, 0.0), grad))
    return float(max(np.max(np.abs(proj), initial=0.0), np.max(np.maximum(-a, a - upper), initial=0.0)))


def _active_sets(a, grad, upper):
    """Primal-dual active-set guess: bounds that bind at the projection of a - grad."""
    z = a - grad
    return z > upper, z >= 0  # at the upper bound, not at the lower bound


def _polish(A, a, grad, upper, tol, gram, max_solves: int = 10):
    """Primal-dual active-set (semismooth Newton) steps from (a, grad): fix the binding bounds,
    solve for the free variables exactly, repeat while either the KKT violation or the number of
    guesses that flip goes down (the first step from a first-order iterate often raises the
    violation yet lands on nearly the right sets). Returns (a, grad, kkt violation, solves)."""
    best = (_kkt_violation(a, grad, upper), a, grad)
    sets, flips = np.stack(_active_sets(a, grad, upper)), np.inf
    for solve in range(1, max_solves + 1):
        at_upper, not_lower = sets
        free = np.flatnonzero(not_lower & ~at_upper)
        a = np.where(at_upper, upper, 0.0)
        if free.size:
            rhs = 1.0 - (A @ (A.T @ a))[free]
            G = gram.block(free)
            try:
                if free.size > A.shape[1]:  # rank <= d: raise to the least-squares branch
                    raise linalg.LinAlgError
                a[free] = linalg.cho_solve(linalg.cho_factor(G, check_finite=False), rhs, check_finite=False)
            except linalg.LinAlgError:
                # Singular free block: more free points than dimensions, or degenerate ones. The
                # dual weights are then not unique (w still is); take the minimum-norm solution.
                a[free] = linalg.lstsq(G, rhs, cond=1e-12, check_finite=False)[0]
        grad = A @ (A.T @ a) - 1.0
        kkt = _kkt_violation(a, grad, upper)
        new_sets = np.stack(_active_sets(a, grad, upper))
        new_flips = np.count_nonzero(new_sets != sets)
        if kkt < best[0]:
            best = (kkt, a, grad)
        elif new_flips >= flips:  # neither measure improves: the guesses cycle
            break
        if kkt <= tol:
            break
        sets, flips = new_sets, new_flips
    return best[1], best[2], best[0], solve


def _lbfgs_direction(g, F, S, Y, rho):
    """-H g on the free coordinates F (zero elsewhere), H the limited-memory BFGS inverse Hessian of
    the pairs (rows of S, Y, oldest first; rho = 1 / s.y) restricted to F: two-loop recursion."""
    S, Y = S[:, F], Y[:, F]
    q, alphas = g[F], np.empty(len(rho))
    for k in range(len(rho) - 1, -1, -1):
        alphas[k] = rho[k] * (S[k] @ q)
        q -= alphas[k] * Y[k]
    r = q / (rho[-1] * (Y[-1] @ Y[-1]))  # initial scaling s.y / y.y of the newest pair
    for k in range(len(rho)):
        r += (alphas[k] - rho[k] * (Y[k] @ r)) * S[k]
    d = np.zeros_like(g)
    d[F] = -r
    return d


def box_qp(A, upper: float, tol: float, max_iter: int, memory: int = 10, window: int = 10,
            spacer: int = 10, armijo: float = 1e-4):
    """min_a f(a) = |A^T a|^2 / 2 - sum(a) over 0 <= a <= upper (upper may be inf).

    With A = y Z / sqrt(lam) this is the hinge dual, whose gradient is margins - 1. Cold, the
    active-set method cycles on these problems (the guessed sets flip back and forth), so a
    first-order method finds the active set and exact active-set solves (:func:`_polish`) finish
    to a KKT certificate (violation ~ 1e-14). Every iteration costs two products with A.

    * Spectral projected gradient (Birgin, Martinez & Raydan 2000): steps along the projected
      Barzilai-Borwein direction with a nonmonotone Armijo search over the last ``window``
      objective values; the objective along a segment is known exactly (f is quadratic), so
      differences are computed from g.s and |A^T s|^2, free of cancellation. Globally convergent
      to the minimum (f is convex and bounded below on the box), with no tuning: it finishes
      most problems (n = 2000, d = 1000: 10-90 iterations before the polish).
    * Once a polish has failed (near-singular free blocks: about d points on the margin, as with
      random labels above capacity at lam ~ 1e-3, where gradient steps crawl), projected L-BFGS
      takes over: a quasi-Newton step on the variables not held by a bound (two-metric
      projection; ``memory`` pairs), a monotone Armijo search along the projected path, back to
      a gradient step when that search fails. Every ``spacer``-th step of that phase is a
      monotone projected-gradient step: with f nonincreasing, these spacer steps alone make
      every limit point optimal (Bertsekas, Nonlinear Programming, spacer-step theorem),
      whatever the quasi-Newton steps do.
    * Whenever the active-set guess has settled (at most ``threshold`` changes in one iteration)
      active-set solves try to finish the job exactly; a failed try leaves the iteration running,
      with a stricter threshold and the next try spaced out so that tries cost a bounded fraction
      of the time.

    The stopping test is ours: the KKT violation of :func:`_kkt_violation` <= tol, measured on the
    returned point. Returns (a, iterations, kkt violation); iterations count gradient or
    quasi-Newton steps plus active-set solves.
    """
    n = A.shape[0]
    a, w, g = np.zeros(n), np.zeros(A.shape[1]), -np.ones(n)  # w = A^T a, g = A w - 1
    gram = _Gram(A)
    S, Y, rho = np.empty((memory, n)), np.empty((memory, n)), np.empty(memory)  # ring of pairs
    order: list = []  # their rows, oldest first
    sets, threshold, next_try = None, max(2, n // 100), 0
    Ag = A.T @ g
    step = (g @ g) / max(Ag @ Ag, np.finfo(float).tiny)  # exact line minimum along -g
    f, history, quasi_newton = 0.0, [0.0], False  # f: objective (f(0) = 0)
    it = 0
    while True:
        # a is feasible, so its KKT violation is the largest |g| off the bounds that hold
        free = ~(((a <= 0) & (g > 0)) | ((a >= upper) & (g < 0)))
        if np.max(np.abs(g[free]), initial=0.0) <= tol:  # confirmed on a fresh gradient
            w = A.T @ a
            g = A @ w - 1.0
            kkt = _kkt_violation(a, g, upper)
            if kkt <= tol:
                return a, it, kkt
            free = ~(((a <= 0) & (g > 0)) | ((a >= upper) & (g < 0)))
        if it >= max_iter:
            return a, it, _kkt_violation(a, A @ (A.T @ a) - 1.0, upper)
        it += 1
        s = None
        if quasi_newton and it % spacer == 0:  # a monotone projected-gradient step
            history = [f]
        elif quasi_newton:
            d = _lbfgs_direction(g, np.flatnonzero(free), S[order], Y[order], rho[order])
            t = 1.0
            for _ in range(50):
                a_new = np.clip(a + t * d, 0.0, upper)
                trial = a_new - a
                Atrial = A.T @ trial
                gs = g @ trial
                decrease = gs + 0.5 * (Atrial @ Atrial)
                if gs < 0 and decrease <= armijo * gs:
                    s, ws = trial, Atrial
                    break
                t *= 0.5
            if s is None:  # no quasi-Newton progress: a gradient step instead, memory reset
                order, history = order[-1:], [f]
        if s is None:
            target = np.clip(a - step * g, 0.0, upper)
            d = target - a
            Ad = A.T @ d
            gd, dAd = g @ d, Ad @ Ad
            t, reference = 1.0, max(history[-window:])
            while f + t * gd + 0.5 * t * t * dAd > reference + armijo * t * gd:
                # the exact minimum along d, safeguarded to [0.1 t, 0.5 t]
                t = min(0.5 * t, max(0.1 * t, -gd / dAd))
            a_new = target if t == 1.0 else np.clip(a + t * d, 0.0, upper)  # bounds hit exactly
            s, ws, decrease = a_new - a, t * Ad, t * gd + 0.5 * t * t * dAd
        a = a_new
        # w = A^T a by updates, refreshed now and then so that rounding cannot accumulate
        w = w + ws if it % 64 else A.T @ a
        g_new = A @ w - 1.0
        y, g = g_new - g, g_new
        f += decrease
        history.append(f)
        sy, ss = s @ y, s @ s  # s.y = |A^T s|^2
        step = min(max(ss / sy, 1e-10), 1e10) if sy > 0 else 1e10
        if sy > 1e-12 * ss:
            row = order.pop(0) if len(order) == memory else len(order)
            if row in order:  # after a reset: take a row no pair uses
                row = next(k for k in range(memory) if k not in order)
            S[row], Y[row], rho[row] = s, y, 1.0 / sy
            order.append(row)
        at_upper, not_lower = _active_sets(a, g, upper)
        if sets is not None:
            changes = np.count_nonzero(at_upper != sets[0]) + np.count_nonzero(not_lower != sets[1])
        else:
            changes = n
        sets = (at_upper, not_lower)
        if changes <= threshold and it >= next_try:
            a_polished, _, kkt_polished, solves = _polish(A, a, g, upper, tol, gram)
            it += solves
            if kkt_polished <= tol:  # certified again once clipped into the box
                a_polished = np.clip(a_polished, 0.0, upper)
                kkt_polished = _kkt_violation(a_polished, A @ (A.T @ a_polished) - 1.0, upper)
                if kkt_polished <= tol:
                    return a_polished, it, kkt_polished
            quasi_newton = quasi_newton or bool(order)
            threshold //= 2
            next_try = int(1.5 * it) + 5


# ---------------------------------------------------------------------------------------------
# Logistic: Newton-CG; separability

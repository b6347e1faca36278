"""Exact asymptotics of linear ERM on the Rules-and-Facts model (d -> infinity, alpha = n/d fixed).

The fixed point of ``shared/raf_model.md`` is split, as in GCMProject, into

* a **prior** (:class:`RidgePrior`): how the ridge penalty turns conjugates (m^, q^, V^) into the
  overlaps m = w.w*/d, q = |w|^2/d and the susceptibility V;
* a **channel** (:class:`RAFChannel`): how the loss and the RAF labels (a rule with probability
  1-eps, a fair coin with probability eps) turn overlaps into conjugates;

and one loop iterates them, vectorized over a grid and warm-started along alpha. Square and hinge
loss (piecewise-affine proximal maps) get the channel in closed form
(:class:`raflab.raf.theory.closed_form.PiecewiseAffineChannel`) and Newton's method
(:func:`raflab.core.fixed_point.solve_fixed_point_newton`); the linear square-loss fixed point is
solved outright. Other losses (logistic), and every loss with ``quadrature=True``, integrate the
channel by Gauss-Legendre and iterate with Anderson mixing
(:func:`raflab.core.fixed_point.solve_fixed_point`). Adding a loss means adding a proximal map to
``raflab.raf.losses``. At lam = 0 the phase of a margin loss (interpolating max-margin below the
capacity alpha_c(eps), plain lam = 0 ERM above it) comes from :mod:`raflab.raf.theory.capacity`.

Symmetry used throughout: z(-y, -omega) = -z(y, omega), so every average over y reduces to y = +1.
With xi ~ N(0,1), omega = sqrt(q) xi and a = (m/sqrt q) / s, s = sqrt(1 - m^2/q):
rule samples weigh y = +1 by 2 Phi(a xi), facts by 1, and
m^ = 2 alpha (1-eps) E[f(+1, omega) phi(a xi)] / s.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.special import ndtr

from raflab.core.checks import one_of
from raflab.core.fixed_point import (ConvergenceWarning, FixedPointResult, relative_residual, solve_fixed_point,
                                     solve_fixed_point_newton, warn_unconverged)
from raflab.core.memory import BYTES_PER_RECORD, require_memory
from raflab.core.quadrature import gaussian_nodes
from raflab.raf.activations import gaussian_moments
from raflab.raf.config import ERM_MODELS, check_raf_params
from raflab.raf.kernel_functions import get_kernel
from raflab.raf.learner_spec import LearnerSpec, learner_spec
from raflab.raf.losses import Loss, SquareLoss, get_loss
from raflab.raf.metrics import generalization_error_from_overlaps, misclassified, undefined_errors
from raflab.raf.theory.bayes import bayes_optimal_theory
from raflab.raf.theory.closed_form import PiecewiseAffineChannel, has_closed_form, square_ridge_fixed_point
from raflab.raf.theory.priors import KernelPrior, RandomFeaturesPrior, RidgePrior

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)
#: a start inside the basin of every loss and regime tried (V of order 1, m < sqrt q)
DEFAULT_INIT = (0.3, 1.0, 1.0)
#: q beyond this means the interpolating (lam -> 0+) fixed point does not exist: data not separable
_Q_DIVERGED_INTERPOLATING = 1e7
_Q_DIVERGED = 1e14
#: iterations without a tenfold residual improvement after which an undamped point counts as cycling
_PATIENCE = 1000
_V_TILDE_MIN = 1e-8
#: Newton iterations before a point falls back to Anderson / damped iteration
_NEWTON_MAX_ITER = 30


class RAFChannel:
    """Rule (sign teacher) with probability 1-eps, fact (fair coin) with probability eps.

    Parameters
    ----------
    loss : Loss or str
    interpolating : bool
        Use the lam -> 0+ limit in the interpolating phase: V is then the rescaled V_tilde = lam V,
        the proximal map is the projection on zero-loss scores, and the prior takes lam = 1.
    nodes_per_piece : int
        Gauss-Legendre nodes per smooth piece of each integrand.
    """

    def __init__(self, loss: Loss | str, interpolating: bool = False, nodes_per_piece: int = 10):
        self.loss = get_loss(loss)
        self.interpolating = interpolating
        self.nodes_per_piece = nodes_per_piece

    def _proximal(self, omega, V):
        if self.interpolating:
            return self.loss.interpolation_projection(omega)
        return self.loss.proximal(omega, V)

    def _integration_grid(self, m, q, V):
        """Nodes xi (P, N), weights, omega, the rule weight 2 Phi(a xi) and phi(a xi)/s."""
        sqrt_q = np.sqrt(q)
        cos = np.clip(m / sqrt_q, -1.0 + 1e-15, 1.0 - 1e-15)
        s = np.sqrt(1.0 - cos**2)
        a = cos / s
        # Kinks of the proximal map, the decision threshold, and the steep part of Phi(a xi).
        if self.interpolating:
            kinks = [np.full_like(q, k) for k in self.loss.interpolation_kinks()]
        else:
            kinks = list(self.loss.kinks(V)) + [self.loss.zero_crossing(V)]
        with np.errstate(divide="ignore"):
            inv_a = np.abs(1.0 / a)
        breaks = [k / sqrt_q for k in kinks] + [np.zeros_like(q)]
        breaks += [c * inv_a for c in (-4.0, -1.5, 1.5, 4.0)]
        xi, w = gaussian_nodes(np.stack(breaks, axis=1), self.nodes_per_piece)
        omega = sqrt_q[:, None] * xi
        rule_weight = 2.0 * ndtr(a[:, None] * xi)
        teacher_density = np.exp(-0.5 * (a[:, None] * xi) ** 2) * _INV_SQRT_2PI / s[:, None]
        return xi, w, omega, rule_weight, teacher_density

    def conjugates(self, alpha, eps, m, q, V):
        """(m^, q^, V^) for arrays of shape (P,)."""
        _, w, omega, rule_weight, teacher_density = self._integration_grid(m, q, V)
        z, slope = self._proximal(omega, V[:, None])
        f = (z - omega) / V[:, None]
        mix = (1.0 - eps)[:, None] * rule_weight + eps[:, None]
        V_hat = alpha * np.sum(w * mix * (1.0 - slope), axis=1) / V
        q_hat = alpha * np.sum(w * mix * f**2, axis=1)
        m_hat = 2.0 * alpha * (1.0 - eps) * np.sum(w * f * teacher_density, axis=1)
        return m_hat, q_hat, V_hat

    def observables(self, eps, m, q, V) -> dict[str, np.ndarray]:
        """The RAF errors and the mean training loss at a fixed point."""
        _, w, omega, rule_weight, _ = self._integration_grid(m, q, V)
        z, _ = self._proximal(omega, V[:, None])
        wrong = misclassified(1.0, z)
        mix = (1.0 - eps)[:, None] * rule_weight + eps[:, None]
        if self.interpolating:
            # Every training sample sits at zero loss (logistic: its scores diverge with 1/lam).
            train_loss = np.zeros_like(m)
        else:
            train_loss = np.sum(w * mix * self.loss.value(1.0, z), axis=1)
        return {
            "gen_error": generalization_error_from_overlaps(m, q),
            "rule_train_error": np.sum(w * rule_weight * wrong, axis=1),
            "fact_memorization_error": np.sum(w * wrong, axis=1),
            "train_loss": train_loss,
        }


def make_channel(loss: Loss | str, interpolating: bool = False, nodes_per_piece: int = 10,
                 quadrature: bool = False):
    """The channel step: in closed form where the proximal map is piecewise affine (square, hinge;
    :mod:`raflab.raf.theory.closed_form`), else (or with ``quadrature``) by Gauss-Legendre."""
    if not quadrature and has_closed_form(loss):
        return PiecewiseAffineChannel(loss, interpolating)
    return RAFChannel(loss, interpolating, nodes_per_piece)


def _solve_points(channel, prior, alpha, eps, lam, init, tol, max_iter, damping):
    channel_alpha = prior.channel_alpha(alpha)

    def update(state, idx):
        m_hat, q_hat, V_hat = channel.conjugates(channel_alpha[idx], eps[idx], *state.T)
        return np.stack(prior.overlaps(m_hat, q_hat, V_hat, lam[idx]), axis=1)

    q_max = _Q_DIVERGED_INTERPOLATING if channel.interpolating else _Q_DIVERGED

    newton = isinstance(channel, PiecewiseAffineChannel)
    # Newton's steps can walk (a factor e per step) towards the degenerate V_tilde -> 0 root of the
    # interpolating map without q blowing up: stop them there (it is inadmissible anyway)
    V_min = _V_TILDE_MIN if channel.interpolating and newton else 0.0

    def diverged(state):
        m, q, V = state.T
        return ~((V > V_min) & (q > 0) & (q < q_max) & (m**2 <= q * (1 + 1e-12)))

    def admissible(state):
        # Where interpolation is impossible the rescaled map's only root is the degenerate
        # V_tilde = lam V = 0 (linear: V_tilde = 1 - alpha P(margin constraint active)).
        return state[:, 2] > _V_TILDE_MIN if channel.interpolating else np.ones(len(state), bool)

    def solve(init, damping, index=None, max_iter=max_iter, patience=None, newton=newton):
        index = np.arange(len(init)) if index is None else index
        if newton:  # a closed-form channel is cheap and smooth: Newton, Jacobian by differences
            return solve_fixed_point_newton(lambda state, idx: update(state, index[idx]), init, tol=tol,
                                            max_iter=min(max_iter, _NEWTON_MAX_ITER), damping=damping,
                                            diverged=diverged, admissible=admissible, positive=(1, 2))
        return solve_fixed_point(lambda state, idx: update(state, index[idx]), init, tol=tol,
                                 max_iter=max_iter, damping=damping, diverged=diverged,
                                 admissible=admissible, positive=(1, 2),
                                 # the interpolating map also attracts to the degenerate V_tilde -> 0,
                                 # q -> inf; extrapolating steps can jump there, plain steps do not
                                 anderson=0 if channel.interpolating else 3, patience=patience)

    patience = _PATIENCE if damping > 0.3 else None
    result = solve(init, damping, patience=patience)
    if newton:
        # points that ran out of Newton iterations go to the iteration below from their start;
        # points whose plain update left the admissible region stay failed (as in the iteration)
        left = np.flatnonzero(~result.converged & (result.iterations >= min(max_iter, _NEWTON_MAX_ITER)))
        if left.size:
            again = solve(np.asarray(init)[left], damping, left, patience=patience, newton=False)
            for field in ("state", "converged", "residual", "stalled"):
                getattr(result, field)[left] = getattr(again, field)
            result.iterations[left] += again.iterations
        newton = False
    # A point that ran out of iterations, or whose residual stopped improving, without diverging is
    # cycling (seen for random features at n/p >> 1, where the hinge map has a stable 4-cycle, and
    # for hinge at small lam and eps = 0): a damped restart from its start settles it.
    cycling = np.flatnonzero(~result.converged & ((result.iterations >= max_iter) | result.stalled))
    if cycling.size and damping > 0.3:
        # a cycle settles within tens of damped steps; a point still creeping after this is
        # genuinely critical (e.g. min-norm square loss at n = p), not worth another full budget
        retry = solve(np.asarray(init)[cycling], 0.3, cycling, max_iter=max(min(200, max_iter), max_iter // 20),
                      newton=False)
        for field in ("state", "converged", "residual"):
            getattr(result, field)[cycling] = getattr(retry, field)
        result.iterations[cycling] += retry.iterations
    return result


def _exact_square_ridge(channel, alpha, eps, lam, tol) -> FixedPointResult:
    """Square loss, linear student: the closed-form fixed point, checked by one pass of the map."""
    state = square_ridge_fixed_point(alpha, eps, lam, channel.interpolating)
    ok = np.all(np.isfinite(state), axis=1)
    if channel.interpolating:
        ok &= state[:, 2] > _V_TILDE_MIN
    residual = np.full(len(state), np.inf)
    if ok.any():
        x = state[ok]
        new = np.stack(RidgePrior.overlaps(*channel.conjugates(alpha[ok], eps[ok], *x.T), lam[ok]), axis=1)
        residual[ok] = relative_residual(new, x)
    state = np.where(ok[:, None], state, np.nan)
    return FixedPointResult(state, ok & (residual < max(tol, 1e-12)), np.zeros(len(state), int), residual)


def _warm_start_lines(solve, alpha_lines: np.ndarray) -> FixedPointResult:
    """Solve L lines of A alpha values each: coarse points cold, then all points warm.

    The coarse pass (about sqrt(A) points per line, endpoints included) starts from DEFAULT_INIT;
    every other point starts from the interpolation, along alpha, of its line's coarse solution
    (m linearly, q and V in log scale). Both passes are vectorized over all lines.
    """
    L, A = alpha_lines.shape
    flat_init = np.tile(DEFAULT_INIT, (L * A, 1))
    if A <= 3:
        return solve(np.arange(L * A), flat_init)
    coarse = np.unique(np.round(np.linspace(0, A - 1, max(3, int(np.ceil(np.sqrt(A)))))).astype(int))
    coarse_idx = (np.arange(L)[:, None] * A + coarse[None, :]).ravel()
    first = solve(coarse_idx, flat_init[coarse_idx])
    init = flat_init.reshape(L, A, 3).copy()
    cs = first.state.reshape(L, coarse.size, 3)
    ok = first.converged.reshape(L, coarse.size)
    for line in range(L):
        good = ok[line]
        if good.sum() < 2:
            continue
        xs, x_all = alpha_lines[line, coarse[good]], alpha_lines[line]
        init[line, :, 0] = np.interp(x_all, xs, cs[line, good, 0])
        init[line, :, 1] = np.exp(np.interp(x_all, xs, np.log(cs[line, good, 1])))
        init[line, :, 2] = np.exp(np.interp(x_all, xs, np.log(cs[line, good, 2])))
    rest_mask = np.ones(L * A, dtype=bool)
    rest_mask[coarse_idx] = False
    rest_idx = np.flatnonzero(rest_mask)
    second = solve(rest_idx, init.reshape(-1, 3)[rest_idx])
    out = FixedPointResult(np.empty((L * A, 3)), np.empty(L * A, bool), np.empty(L * A, int),
                           np.empty(L * A))
    for idx, res in ((coarse_idx, first), (rest_idx, second)):
        out.state[idx], out.converged[idx] = res.state, res.converged
        out.iterations[idx], out.residual[idx] = res.iterations, res.residual
    _continue_failed(solve, alpha_lines, out)
    return out


def _continue_failed(solve, alpha_lines: np.ndarray, out: FixedPointResult) -> None:
    """Continuation for points that failed from an interpolated start (in place).

    Near a threshold (an interpolation or capacity edge) the root still exists but its basin is
    narrow: undamped steps from a start a little off overshoot to q -> inf. Walking up alpha from
    the last converged point of the line, one point at a time, stays in the basin. The walk stops at
    the first point that fails from its neighbour too: that is where the root really ends.
    """
    L, A = alpha_lines.shape
    for line in range(L):
        order = np.argsort(alpha_lines[line])
        flat = line * A + order
        last = None
        for i in flat:
            if out.converged[i]:
                last = i
                continue
            if last is None:
                continue
            res = solve(np.array([i]), out.state[[last]])
            out.iterations[i] += res.iterations[0]
            if not res.converged[0]:
                break
            out.state[i], out.converged[i], out.residual[i] = res.state[0], True, res.residual[0]
            last = i


def make_prior(model: str = "linear", kappa: float = 1.0, activation="relu", kernel="arccos",
               **kernel_params):
    """The prior step of a learner: ``linear``, ``rf`` (activation, kappa) or ``kernel``."""
    if one_of(model, ERM_MODELS, "model") == "linear":
        return RidgePrior()
    if model == "rf":
        moments = gaussian_moments(activation)
        return RandomFeaturesPrior(kappa, moments.mu1, moments.mu_star)
    moments = get_kernel(kernel, **kernel_params).moments()
    return KernelPrior(moments.mu1, moments.mu_star)


def learner_prior(learner: LearnerSpec | dict, kappa=None):
    """The prior step of a learner (a :class:`LearnerSpec` or its keywords): one ``kappa`` for rf,
    given here or the spec's single value."""
    learner = learner if isinstance(learner, LearnerSpec) else learner_spec(**learner)
    if learner.model == "rf":
        kappas = np.atleast_1d(np.asarray(learner.kappa if kappa is None else kappa, dtype=float)).ravel()
        if kappas.size != 1:
            raise ValueError(f"one prior is one kappa (got {kappas.size} values)")
        return make_prior("rf", kappa=float(kappas[0]), activation=learner.activation)
    if learner.model == "kernel":
        return make_prior("kernel", kernel=learner.kernel, **learner.kernel_params)
    return make_prior(learner.model)


def erm_theory(
    loss: str | Loss,
    alpha,
    eps=0.0,
    lam=0.0,
    *,
    model: str = "linear",
    kappa=1.0,
    activation="relu",
    kernel="arccos",
    kernel_params: dict | None = None,
    tol: float = 1e-10,
    max_iter: int = 20_000,
    damping: float = 1.0,
    warm_start: bool = True,
    nodes_per_piece: int = 10,
    quadrature: bool = False,
    learner: LearnerSpec | None = None,
) -> pd.DataFrame:
    """Asymptotic errors of ERM on the RAF model over the grid alpha x eps x lam (x kappa for rf).

    Parameters
    ----------
    loss : {'square', 'hinge', 'logistic'}
    alpha, eps, lam : float or 1-d array-like
        Sample ratio n/d (> 0), fact fraction (in [0, 1]), ridge penalty (>= 0). ``lam = 0`` is the
        lam -> 0+ limit: max-margin (hinge, and the direction of logistic) or min-norm (square)
        where the data can be interpolated, plain unregularized ERM where they cannot.
    model : {'linear', 'rf', 'kernel', 'bayes'}
        Linear student on x; random features sigma(F x / sqrt d) with p = kappa d; or a dot-product
        kernel (see :mod:`raflab.raf.theory.priors` for the equations). ``'bayes'`` is the
        Bayes-optimal baseline (:func:`raflab.raf.theory.bayes.bayes_optimal_theory`): loss and lam do
        not enter it and its records have no loss or lam column.
    kappa : float or 1-d array-like
        Features per input dimension p/d (> 0), ``model='rf'`` only.
    activation : str or callable
        Random-feature activation (``raflab.raf.activations``), ``model='rf'`` only.
    kernel : str or callable, kernel_params : dict
        Kernel (``raflab.raf.kernel_functions``) and its parameters, ``model='kernel'`` only.
    learner : LearnerSpec, optional
        The learner as one validated object (:mod:`raflab.raf.learner_spec`), instead of ``model``,
        ``kappa``, ``activation``, ``kernel`` and ``kernel_params``.
    tol : float
        Relative fixed-point residual at which a point counts as converged.
    warm_start : bool
        Solve a coarse subset of alpha first and start the rest from its interpolation.
    quadrature : bool
        Integrate the channel by Gauss-Legendre quadrature (``nodes_per_piece`` nodes per smooth
        piece) even for square and hinge loss, whose channel is otherwise evaluated in closed form
        (and whose linear square-loss fixed point is solved in closed form): the slow reference path.

    Returns
    -------
    pandas.DataFrame
        One row per grid point, ordered by (kappa, eps, lam, alpha), with the record columns
        ``model, loss, alpha, eps, lam, gen_error, rule_train_error, fact_memorization_error,
        train_loss, m, q, V, converged, iterations, residual`` (plus ``kappa, activation`` for rf,
        ``kernel`` for kernels). m and q are the overlaps of the student's prediction:
        m = E[f(x) w*.x/sqrt d], q = E[f(x)^2]. The fact memorization error at eps = 0 and the rule
        training error at eps = 1 are undefined (NaN): there are no such samples, exactly as in a
        simulation. Points whose fixed point did not converge are flagged ``converged=False`` and a
        :class:`ConvergenceWarning` is emitted.

    Examples
    --------
    >>> df = erm_theory("square", alpha=2.0, eps=0.2, lam=0.1)
    >>> round(float(df.gen_error[0]), 3)
    0.268
    >>> rf = erm_theory("hinge", alpha=2.0, eps=0.2, lam=0.1, model="rf", kappa=2.0, activation="tanh")
    >>> list(rf.columns[:4])
    ['model', 'loss', 'alpha', 'eps']
    """
    if not (np.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be a number > 0 (got {tol:g})")
    learner = learner_spec(model if learner is None else learner, kappa, activation, kernel, kernel_params or {})
    model = learner.model
    _require_grid_memory(alpha, eps, lam, learner.kappa if model == "rf" else 1.0)
    if model == "bayes":  # the baseline every learner is measured against; loss and lam do not enter
        check_raf_params(lam=lam)
        return bayes_optimal_theory(alpha, eps, tol=min(tol, 1e-10), max_iter=max_iter)
    loss = get_loss(loss)
    alpha, eps, lam = (np.atleast_1d(np.asarray(v, dtype=float)).ravel() for v in (alpha, eps, lam))
    check_raf_params(alpha=alpha, eps=eps, lam=lam)
    if model == "rf":
        frames = []
        for k in np.atleast_1d(np.asarray(learner.kappa, dtype=float)).ravel():
            prior = learner_prior(learner, k)
            df = _erm_theory_grid(loss, prior, alpha, eps, lam, tol, max_iter, damping, warm_start,
                                  nodes_per_piece, quadrature)
            df.insert(5, "kappa", k)
            df.insert(6, "activation", _label(learner.activation))
            frames.append(df)
        return pd.concat(frames, ignore_index=True)
    prior = learner_prior(learner)
    df = _erm_theory_grid(loss, prior, alpha, eps, lam, tol, max_iter, damping, warm_start,
                          nodes_per_piece, quadrature)
    if model == "kernel":
        df.insert(5, "kernel", _label(learner.kernel))
    return df


def _require_grid_memory(*axes) -> None:
    points = int(np.prod([np.size(a) for a in axes], dtype=float))
    require_memory(points * BYTES_PER_RECORD, f"a theory grid of {points:,} points")


def linear_erm_theory(loss, alpha, eps=0.0, lam=0.0, **options) -> pd.DataFrame:
    """:func:`erm_theory` for the linear learner (``model='linear'``)."""
    return erm_theory(loss, alpha, eps, lam, model="linear", **options)


def _label(thing) -> str:
    """Record label of an activation or kernel given by name or as a callable."""
    return thing if isinstance(thing, str) else getattr(thing, "name", getattr(thing, "__name__", "callable"))


def _erm_theory_grid(loss, prior, alpha, eps, lam, tol, max_iter, damping, warm_start,
                     nodes_per_piece, quadrature=False) -> pd.DataFrame:
    E, Lm, A = np.meshgrid(eps, lam, alpha, indexing="ij")  # lines along alpha
    a_flat, e_flat, l_flat = A.ravel(), E.ravel(), Lm.ravel()
    n_lines = eps.size * lam.size

    result = FixedPointResult(np.empty((a_flat.size, 3)), np.zeros(a_flat.size, bool),
                              np.zeros(a_flat.size, int), np.full(a_flat.size, np.inf))
    interpolating = np.zeros(a_flat.size, dtype=bool)

    def channel(interpolating):
        return make_channel(loss, interpolating, nodes_per_piece, quadrature)

    exact = not quadrature and loss.name == "square" and isinstance(prior, RidgePrior)

    def run(channel, lam_eff, subset):
        """Solve the points ``subset`` (a mask over the flat grid) line by line along alpha."""
        if exact:
            return _exact_square_ridge(channel, a_flat[subset], e_flat[subset], lam_eff[subset], tol)

        def solve(idx, init):
            sel = np.flatnonzero(subset)[idx]
            return _solve_points(channel, prior, a_flat[sel], e_flat[sel], lam_eff[sel], init,
                                 tol, max_iter, damping)

        n = int(subset.sum())
        if n == 0:
            return None
        per_line = subset.reshape(n_lines, alpha.size)
        if warm_start and np.all(per_line.sum(axis=1) == per_line.sum(axis=1)[0]):
            lines = a_flat[subset].reshape(-1, per_line.sum(axis=1)[0])
            return _warm_start_lines(solve, lines)
        return solve(np.arange(n), np.tile(DEFAULT_INIT, (n, 1)))

    def store(res, subset, flag):
        idx = np.flatnonzero(subset)
        result.state[idx], result.converged[idx] = res.state, res.converged
        result.iterations[idx] += res.iterations
        result.residual[idx] = res.residual
        interpolating[idx] = flag

    zero = l_flat == 0
    regular = run(channel(False), l_flat, ~zero)
    if regular is not None:
        store(regular, ~zero, False)
    alpha_c = np.full(a_flat.size, np.nan)
    if zero.any():
        # lam -> 0+: the interpolating (rescaled) fixed point where the data can be interpolated,
        # plain lam = 0 ERM (a finite fixed point) where they cannot. For margin losses the phase
        # is known in advance: separable iff alpha < alpha_c(eps) (raflab.raf.theory.capacity).
        alpha_c[zero] = _separability_threshold(loss, prior, e_flat[zero])
        known = zero & np.isfinite(alpha_c) & (not quadrature)
        # exactly on the capacity line neither fixed point is finite (see _warn_at_threshold): not
        # solved, reported as NaN with converged=False
        on_line = known & (np.abs(a_flat / alpha_c - 1.0) < 1e-9)
        result.state[on_line] = np.nan
        known &= ~on_line
        below, above = known & (a_flat < alpha_c), known & (a_flat >= alpha_c)
        for subset, flag, lam_eff in ((below, True, np.ones_like(l_flat)), (above, False, l_flat)):
            if subset.any():
                store(run(channel(flag), lam_eff, subset), subset, flag)
        # otherwise: try the interpolating fixed point; where it does not exist plain lam = 0 ERM
        unknown = zero & ~known & ~on_line
        if unknown.any():
            store(run(channel(True), np.ones_like(l_flat), unknown), unknown, True)
            failed = unknown & ~result.converged
            if failed.any():
                store(run(channel(False), l_flat, failed), failed, False)

    m, q, V = result.state.T
    obs = {k: np.empty_like(m) for k in ("gen_error", "rule_train_error", "fact_memorization_error", "train_loss")}
    for flag in (False, True):
        sel = interpolating == flag
        if sel.any():
            part = channel(flag).observables(e_flat[sel], m[sel], q[sel], V[sel])
            for k, v in part.items():
                obs[k][sel] = v
    for k, undefined in undefined_errors(e_flat).items():
        obs[k] = np.where(undefined, np.nan, obs[k])
    # In the interpolating phase the state holds V_tilde = lam V; the reported V is the true one.
    V_report = np.where(interpolating, np.inf, V)
    df = pd.DataFrame({
        "model": prior.name, "loss": loss.name, "alpha": a_flat, "eps": e_flat, "lam": l_flat,
        **obs, "m": m, "q": q, "V": V_report,
        "converged": result.converged, "iterations": result.iterations, "residual": result.residual,
    })
    warn_unconverged(result, f"{prior.name} {loss.name} theory")
    _warn_at_threshold(result.converged, a_flat, e_flat, alpha_c)
    return df


#: relative distance to alpha_c within which a lam -> 0+ point counts as on the capacity line
THRESHOLD_BAND = 1e-3


def _separability_threshold(loss, prior, eps: np.ndarray) -> np.ndarray:
    """alpha_c(eps) below which the lam -> 0+ limit of a margin loss interpolates (max-margin);
    NaN where not known (square loss: its threshold is n = p, found by trying)."""
    if isinstance(loss, SquareLoss):
        return np.full(eps.size, np.nan)
    from raflab.raf.theory.capacity import capacity_alpha

    values, inverse = np.unique(eps, return_inverse=True)
    try:
        return np.array([capacity_alpha(prior, float(e))[0] for e in values])[inverse]
    except (TypeError, ValueError):  # a prior without a capacity: fall back to trying both phases
        return np.full(eps.size, np.nan)


def _warn_at_threshold(converged, alpha, eps, alpha_c) -> None:
    """Name the unconverged lam -> 0+ points that lie on the capacity line, and why they must."""
    at = ~converged & (np.abs(alpha / alpha_c - 1.0) < THRESHOLD_BAND)
    if at.any():
        where = ", ".join(f"(alpha={a:g}, eps={e:g}; alpha_c={c:.6g})" for a, e, c in
                          zip(alpha[at][:5], eps[at][:5], alpha_c[at][:5]))
        warnings.warn(
            f"{int(at.sum())} lam -> 0+ point(s) lie on the capacity line alpha = alpha_c(eps) {where}: "
            "there the max-margin margin is 0 and the plain lam = 0 minimizer's norm is infinite, so "
            "neither fixed point is finite (q -> inf from both sides); they stay converged=False",
            ConvergenceWarning, stacklevel=3)

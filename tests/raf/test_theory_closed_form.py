"""The closed-form (square, hinge) channel and Newton solver against the quadrature path and the
paper's own code (SPOC-group/RAF, when a checkout and numba are at hand)."""

import os
import sys
import warnings

import numpy as np
import pytest

from raflab.core.fixed_point import solve_fixed_point_newton
from raflab.raf.theory import ConvergenceWarning, erm_theory, linear_erm_theory
from raflab.raf.theory.capacity import capacity_alpha
from raflab.raf.theory.closed_form import PiecewiseAffineChannel, has_closed_form, square_ridge_fixed_point
from raflab.raf.theory.erm import RAFChannel, RidgePrior

STATE = ["m", "q", "V"]
ERRORS = ["gen_error", "rule_train_error", "fact_memorization_error", "train_loss"]


def _random_states(P=1500, seed=0):
    rng = np.random.default_rng(seed)
    q = np.exp(rng.uniform(-3, 6, P))
    cos = rng.uniform(-0.999, 0.99999, P)
    return (rng.uniform(0.1, 8, P), rng.uniform(0, 1, P), cos * np.sqrt(q), q, np.exp(rng.uniform(-4, 4, P)))


@pytest.mark.parametrize("loss", ["square", "hinge"])
@pytest.mark.parametrize("interpolating", [False, True])
def test_closed_form_channel_equals_quadrature(loss, interpolating):
    """Owen's T closed forms vs 30-node Gauss-Legendre pieces, over 1500 random (alpha, eps, m, q, V)."""
    alpha, eps, m, q, V = _random_states()
    exact, quad = PiecewiseAffineChannel(loss, interpolating), RAFChannel(loss, interpolating, nodes_per_piece=30)
    for a, b in zip(exact.conjugates(alpha, eps, m, q, V), quad.conjugates(alpha, eps, m, q, V)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    oa, ob = exact.observables(eps, m, q, V), quad.observables(eps, m, q, V)
    for key in ERRORS:
        np.testing.assert_allclose(oa[key], ob[key], rtol=1e-9, atol=1e-12, err_msg=key)


def test_which_losses_have_closed_forms():
    assert has_closed_form("square") and has_closed_form("hinge") and not has_closed_form("logistic")
    with pytest.raises(ValueError, match="no piecewise-affine"):
        PiecewiseAffineChannel("logistic")


@pytest.mark.parametrize("loss", ["square", "hinge"])
@pytest.mark.parametrize("lam", [0.01, 0.1, 1.0])
def test_fast_path_equals_quadrature_path(loss, lam):
    """Closed form + Newton (+ exact square ridge) vs Gauss-Legendre + Anderson, both at tol 1e-12.

    30 nodes per piece: the default 10 leave ~1e-9 relative error in the hinge conjugates at
    alpha = 6, eps = 0 (the rule weight 2 Phi(a xi) is steep there), 3e-8 in q, which the closed form
    does not have (it agrees with 40 nodes to 1e-14).
    """
    alpha, eps = np.linspace(0.3, 6, 12), [0.0, 0.3, 1.0]
    fast = linear_erm_theory(loss, alpha, eps, lam, tol=1e-12)
    slow = linear_erm_theory(loss, alpha, eps, lam, tol=1e-12, quadrature=True, nodes_per_piece=30)
    assert fast.converged.all() and slow.converged.all()
    np.testing.assert_allclose(fast[STATE].values, slow[STATE].values, rtol=1e-8)
    np.testing.assert_allclose(fast[ERRORS].values, slow[ERRORS].values, atol=1e-9)


def test_square_closed_form_fixed_point_is_a_fixed_point():
    alpha, eps, lam = np.array([0.3, 0.9, 1.5, 4.0]), np.array([0.0, 0.2, 0.5, 1.0]), np.array([0.0, 0.1, 0.0, 3.0])
    state = square_ridge_fixed_point(alpha, eps, lam)
    ok = np.isfinite(state).all(axis=1)
    assert list(ok) == [False, True, True, True]  # lam = 0 below alpha = 1: no finite V (interpolation)
    channel = PiecewiseAffineChannel("square")
    new = np.stack(RidgePrior.overlaps(*channel.conjugates(alpha[ok], eps[ok], *state[ok].T), lam[ok]), axis=1)
    np.testing.assert_allclose(new, state[ok], rtol=1e-13)
    # the min-norm interpolator in V_tilde = lam V: exists below alpha = 1 only
    interp = square_ridge_fixed_point(alpha, eps, np.ones(4), interpolating=True)
    assert list(np.isfinite(interp).all(axis=1)) == [True, True, False, False]
    np.testing.assert_allclose(interp[:2, 2], 1.0 - alpha[:2])


def test_square_at_the_interpolation_threshold_is_flagged():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = linear_erm_theory("square", [0.5, 1.0, 2.0], 0.2, 0.0)
    assert list(df.converged) == [True, False, True]
    assert any(issubclass(w.category, ConvergenceWarning) for w in caught)


def test_lam_zero_plane_fully_converged_and_equal_to_quadrature_path():
    """lam -> 0+ hinge: phases from alpha_c(eps); every point converges except on the capacity line."""
    alpha, eps = np.linspace(0.25, 6, 12), np.array([0.0, 0.1, 0.3, 0.6, 0.9])
    fast = linear_erm_theory("hinge", alpha, eps, 0.0, tol=1e-12)
    assert fast.converged.all()
    a_c = np.array([capacity_alpha(RidgePrior(), e)[0] for e in fast.eps])
    np.testing.assert_array_equal(np.isinf(fast.V), fast.alpha < a_c)  # interpolating iff separable
    assert (fast.fact_memorization_error[np.isinf(fast.V)].fillna(0) == 0).all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        slow = linear_erm_theory("hinge", alpha, eps, 0.0, tol=1e-12, quadrature=True, nodes_per_piece=30)
    both = slow.converged.values
    assert both.mean() > 0.9
    np.testing.assert_allclose(fast[STATE].values[both], slow[STATE].values[both], rtol=1e-8)
    np.testing.assert_allclose(fast[ERRORS].values[both], slow[ERRORS].values[both], atol=1e-9)


def test_capacity_line_point_is_flagged_with_its_reason():
    """alpha = alpha_c(eps = 1) = 2 exactly: no finite lam -> 0+ fixed point on either side."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = linear_erm_theory("hinge", [1.5, 2.0, 2.5], 1.0, 0.0)
    assert list(df.converged) == [True, False, True]
    assert any("capacity line" in str(w.message) and "alpha=2" in str(w.message) for w in caught)


def test_newton_solver_finds_a_vectorized_fixed_point():
    """x = (cos x0, 1 + exp(-x1)/2) for many starts, second component positive (log scale)."""
    update = lambda s, idx: np.stack([np.cos(s[:, 0]), 1.0 + 0.5 * np.exp(-s[:, 1])], axis=1)  # noqa: E731
    init = np.column_stack([np.linspace(-1, 1, 7), np.linspace(0.5, 3, 7)])
    res = solve_fixed_point_newton(update, init, tol=1e-13, positive=(1,))
    assert res.converged.all() and res.iterations.max() <= 8
    np.testing.assert_allclose(res.state[:, 0], 0.7390851332151607, rtol=1e-12)
    np.testing.assert_allclose(res.state[:, 1], 1.0 + 0.5 * np.exp(-res.state[:, 1]), rtol=1e-12)


def _spoc_peer():
    """SPOC-group/RAF's perceptron_SE (numba), from RAF_SPOC_DIR; None when not at hand."""
    path = os.environ.get("RAF_SPOC_DIR", "")
    if not (path and os.path.isfile(os.path.join(path, "perceptron_SE.py"))):
        return None
    pytest.importorskip("numba")
    sys.path.insert(0, path)
    import perceptron_SE  # noqa: PLC0415

    return perceptron_SE


@pytest.mark.parametrize("loss", ["square", "hinge"])
def test_agrees_with_the_papers_code(loss):
    """The paper's numba fixed point at tol 1e-12 (set RAF_SPOC_DIR to a SPOC-group/RAF checkout)."""
    peer = _spoc_peer()
    if peer is None:
        pytest.skip("RAF_SPOC_DIR (a SPOC-group/RAF checkout) not set")
    alpha = np.linspace(0.5, 5, 10)
    ours = linear_erm_theory(loss, alpha, 0.2, 0.1, tol=1e-12)
    theirs = np.array([peer.perceptron_SE_solution(loss, a, 0.2, 0.1, tol=1e-12)[0][:3] for a in alpha])
    np.testing.assert_allclose(ours[STATE].values, theirs, rtol=1e-8)


@pytest.mark.parametrize("loss", ["square", "hinge"])
@pytest.mark.parametrize("options", [dict(model="rf", kappa=2.0, activation="relu"), dict(model="kernel")])
def test_fast_path_equals_quadrature_path_for_other_priors(loss, options):
    """Random features and kernels: the closed-form channel with Newton vs quadrature + Anderson."""
    alpha, eps = np.linspace(0.5, 5, 6), [0.0, 0.4]
    fast = erm_theory(loss, alpha, eps, 0.05, tol=1e-12, **options)
    slow = erm_theory(loss, alpha, eps, 0.05, tol=1e-12, quadrature=True, nodes_per_piece=30, **options)
    assert fast.converged.all() and slow.converged.all()
    np.testing.assert_allclose(fast[STATE].values, slow[STATE].values, rtol=1e-8)
    np.testing.assert_allclose(fast[ERRORS].values, slow[ERRORS].values, atol=1e-9)


def test_random_features_lam_zero_phases_from_capacity():
    """rf hinge at lam -> 0+: interpolating iff alpha < alpha_c(eps) (Cover's 2 kappa at eps = 1)."""
    from raflab.raf.theory.erm import make_prior

    opts = dict(model="rf", kappa=2.0, activation="relu")
    alpha, eps = np.array([1.0, 2.5, 3.5, 4.5, 6.0]), np.array([0.2, 1.0])
    fast = erm_theory("hinge", alpha, eps, 0.0, tol=1e-12, **opts)
    assert fast.converged.all()
    a_c = np.array([capacity_alpha(make_prior(**opts), e)[0] for e in fast.eps])
    np.testing.assert_array_equal(np.isinf(fast.V), fast.alpha < a_c)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        slow = erm_theory("hinge", alpha, eps, 0.0, tol=1e-12, quadrature=True, nodes_per_piece=30, **opts)
    both = slow.converged.values
    assert both.sum() >= 8
    np.testing.assert_allclose(fast[STATE].values[both], slow[STATE].values[both], rtol=1e-8)

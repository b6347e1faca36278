"""A cycling point is reported as stalled early (patience), not after the whole budget, and the ERM
solver's damped restart then settles it."""

import numpy as np

from raflab.core.fixed_point import solve_fixed_point


def test_two_cycle_is_reported_stalled_and_damping_settles_it():
    # x -> 1/x cycles 2, 1/2, 2, ... undamped; its fixed point is 1
    update = lambda state, idx: 1.0 / state  # noqa: E731
    plain = solve_fixed_point(update, np.array([[2.0]]), max_iter=10_000, anderson=0, patience=50)
    assert not plain.converged[0] and plain.stalled[0]
    assert plain.iterations[0] < 100  # stopped by patience, not by the 10,000-iteration budget
    damped = solve_fixed_point(update, np.array([[2.0]]), max_iter=10_000, anderson=0, damping=0.5)
    assert damped.converged[0] and abs(damped.state[0, 0] - 1.0) < 1e-9


def test_slow_linear_approach_is_not_stalled():
    # x -> 0.99 x + 0.01: converges linearly (factor 0.99), a tenfold gain every ~230 steps
    update = lambda state, idx: 0.99 * state + 0.01  # noqa: E731
    result = solve_fixed_point(update, np.array([[0.0]]), tol=1e-10, max_iter=10_000, anderson=0, patience=300)
    assert result.converged[0] and not result.stalled[0]

"""Exact high-dimensional asymptotics, one module per model."""

from raflab.theory.erm import RAFChannel, RidgePrior, linear_erm_theory
from raflab.theory.fixed_point import ConvergenceWarning, solve_fixed_point

__all__ = ["RAFChannel", "RidgePrior", "linear_erm_theory", "ConvergenceWarning", "solve_fixed_point"]

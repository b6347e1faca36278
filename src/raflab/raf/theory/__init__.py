"""Exact high-dimensional asymptotics, one module per model."""

from raflab.core.fixed_point import ConvergenceWarning, solve_fixed_point
from raflab.raf.theory.erm import RAFChannel, erm_theory, learner_prior, linear_erm_theory, make_prior
from raflab.raf.theory.priors import KernelPrior, RandomFeaturesPrior, RidgePrior

__all__ = ["RAFChannel", "RidgePrior", "RandomFeaturesPrior", "KernelPrior", "erm_theory", "make_prior", "learner_prior",
           "linear_erm_theory", "ConvergenceWarning", "solve_fixed_point"]

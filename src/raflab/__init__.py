"""raflab: rules and facts — exact theory and finite-size experiments of memorization."""

__version__ = "0.1.0"

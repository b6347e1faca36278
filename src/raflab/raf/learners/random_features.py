"""Random-features learners: phi(x) = sigma(F x / sqrt d), F (p x d) i.i.d. N(0, 1), p = kappa d.

The weights on phi are fitted by :class:`raflab.raf.learners.erm.LinearERM` (score w.phi(x) / sqrt p,
penalty lam |w|^2 / 2), so every loss and the lam -> 0+ limits (max-margin, min-norm) come for free.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from sklearn.base import BaseEstimator

from raflab.core.device import resolve_device
from raflab.raf.activations import get_activation
from raflab.raf.learners.erm import LinearERM, _check_Xy


def random_feature_matrix(n_features: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """F (n_features x d) with i.i.d. standard Gaussian entries."""
    return rng.standard_normal((n_features, d))


def random_features(X, F, activation: str | Callable = "relu", chunk: int = 4096, device: str = "cpu") -> np.ndarray:
    """sigma(X F^T / sqrt d) in chunks of rows (bounded temporary memory).

    ``device='cuda'`` (or ``'auto'`` with a GPU present) computes a named activation on the GPU in
    float64 with PyTorch; a user callable always runs in numpy on the CPU.
    """
    X = np.asarray(X, dtype=float)
    device = resolve_device(device)
    if device != "cpu" and isinstance(activation, str):
        get_activation(activation)
        return torch_random_features(X, F, activation, device, chunk)
    sigma = get_activation(activation)
    d = X.shape[1]
    out = np.empty((X.shape[0], F.shape[0]))
    for start in range(0, X.shape[0], chunk):
        out[start:start + chunk] = sigma(X[start:start + chunk] @ F.T / np.sqrt(d))
    return out


def torch_random_features(X, F, activation: str, device: str, chunk: int = 4096) -> np.ndarray:
    """The same features computed by PyTorch on ``device`` (float64, so results match numpy)."""
    import torch

    sigma = {"relu": torch.relu, "tanh": torch.tanh, "erf": torch.special.erf, "linear": lambda z: z,
             "sign": lambda z: torch.where(z >= 0, 1.0, -1.0).to(z.dtype)}[activation]
    Ft = torch.as_tensor(np.asarray(F, dtype=float), device=device)
    scale = 1.0 / np.sqrt(X.shape[1])
    parts = [sigma(torch.as_tensor(X[s:s + chunk], device=device) @ Ft.T * scale).cpu().numpy()
             for s in range(0, X.shape[0], chunk)]
    return np.concatenate(parts, axis=0)


class RandomFeaturesERM(BaseEstimator):
    """ERM on random features, a scikit-learn estimator (get/set_params, repr and clone from
    ``BaseEstimator``; ``__init__`` only stores the parameters, ``fit`` checks them).

    Parameters
    ----------
    kappa : float
        Features per input dimension, p = round(kappa d) (at least 1).
    activation : str or callable
        relu, tanh, erf, sign, linear (``raflab.raf.activations``) or any vectorized callable.
    loss : {'square', 'hinge', 'logistic'}
    lam : float
        Ridge penalty; 0 is the lam -> 0+ limit (see :class:`LinearERM`).
    random_state : int, numpy Generator or None
        Source of F. Pass the experiment's Generator to keep data and features in one stream.
    device : {'auto', 'cpu', 'cuda'}
        Where the features are computed (the weights are fitted by LinearERM in numpy).

    Attributes
    ----------
    features_ : ndarray (p, d)
        The projection F.
    coef_ : ndarray (p,)
        Weights on the features.
    train_scores_ : ndarray (n,)
        w.phi(x_i) / sqrt p on the training inputs.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 20)); y = np.sign(X[:, 0])
    >>> est = RandomFeaturesERM(kappa=2.0, activation="tanh", loss="hinge", lam=0.1, random_state=1)
    >>> est.fit(X, y).features_.shape
    (40, 20)
    """

    def __init__(self, kappa: float = 2.0, activation: str | Callable = "relu", loss: str = "square",
                 lam: float = 1.0, random_state=None, tol: float = 1e-9, max_iter: int = 20000,
                 device: str = "auto"):
        self.kappa = kappa
        self.activation = activation
        self.loss = loss
        self.lam = lam
        self.random_state = random_state
        self.tol = tol
        self.max_iter = max_iter
        self.device = device

    def _n_features(self, d: int) -> int:
        if not (np.isfinite(self.kappa) and self.kappa > 0):
            raise ValueError(f"kappa must be > 0 (got {self.kappa})")
        return max(1, int(round(self.kappa * d)))

    def transform(self, X) -> np.ndarray:
        """The features sigma(F x / sqrt d) of the rows of X."""
        return random_features(X, self.features_, self.activation, device=self.device)

    def fit(self, X, y) -> "RandomFeaturesERM":
        X, y = _check_Xy(X, y)
        get_activation(self.activation)  # an unknown name fails before any work
        rng = self.random_state if isinstance(self.random_state, np.random.Generator) \
            else np.random.default_rng(self.random_state)
        self.features_ = random_feature_matrix(self._n_features(X.shape[1]), X.shape[1], rng)
        return self.fit_features(self.transform(X), y)

    def fit_features(self, Phi, y) -> "RandomFeaturesERM":
        """Fit the weights on already computed training features (``features_`` must be set)."""
        linear = LinearERM(loss=self.loss, lam=self.lam, tol=self.tol, max_iter=self.max_iter).fit(Phi, y)
        self.coef_ = linear.coef_
        self.converged_, self.n_iter_, self.objective_ = linear.converged_, linear.n_iter_, linear.objective_
        self.train_scores_ = Phi @ self.coef_ / np.sqrt(Phi.shape[1])
        return self

    def decision_function(self, X) -> np.ndarray:
        Phi = self.transform(X)
        return Phi @ self.coef_ / np.sqrt(Phi.shape[1])

    def predict(self, X) -> np.ndarray:
        return np.where(self.decision_function(X) >= 0, 1.0, -1.0)

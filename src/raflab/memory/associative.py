"""Associative memories: the classical Hopfield network and the dense (modern) Hopfield network.

Classical Hopfield network (:class:`HopfieldNetwork`, :func:`simulate_hopfield`)
------------------------------------------------------------------------------
P patterns xi^mu in {-1, +1}^N, Hebbian couplings W = sum_mu xi^mu xi^mu^T / N with zero diagonal,
sign dynamics x_i <- sign(h_i), h = W x (a tie h_i = 0 keeps x_i).

The dynamics is **asynchronous** (random sequential, zero temperature). Why: with a symmetric,
zero-diagonal W every single-spin flip lowers E(x) = -x^T W x / 2 strictly, so the dynamics stops on
a fixed point (a local minimum of E), which is what the T = 0 replica theory of
:mod:`raflab.memory.hopfield_theory` describes; synchronous updates can end in two-cycles instead.
Picking a site uniformly at random and skipping the no-ops (a spin already aligned with its field)
is the same as flipping a spin chosen uniformly among the *unstable* ones, so each step below
flips exactly one unstable spin per start that still has one, all starts at once (a batch of
starts is a batch of rows; the local fields are kept up to date by a rank-one row update, so a
flip costs O(N)). Field arithmetic is on integers (W is stored unnormalized, N W), exact in the
floating type chosen, so ties and signs are never rounding artefacts.

Dense associative memory (:class:`DenseAM`, :func:`label_fixed_points`)
------------------------------------------------------------------------
Continuous patterns xi_1..xi_K in R^d (rows of X), inverse temperature beta. Two similarities:

- ``"distance"`` (default; the optimal diffusion denoiser at beta = 1 / (2 sigma^2)):
  E(x) = -(1/beta) log sum_mu exp(-beta |x - xi_mu|^2), update x <- sum_mu p_mu xi_mu with
  p = softmax(-beta |x - xi_mu|^2). The update is the concave-convex step of E = |x|^2 - lse(...)
  (it sets the gradient of the convex part at the new point to that of the concave part at the
  old one), so E decreases monotonically; its fixed points are the stationary points of E.
- ``"dot"`` (Ramsauer et al.): E(x) = |x|^2 / 2 - (1/beta) log sum_mu exp(beta xi_mu . x),
  update x <- X^T softmax(beta X x). For patterns of equal norm it equals ``"distance"`` at beta / 2.

At a fixed point x* the Hessian is 2 I - 4 beta Cov_p(xi) (distance) or I - beta Cov_p(xi) (dot),
Cov_p the covariance of the patterns under the softmax weights p(x*): x* is a local minimum (an
attractor) iff the largest eigenvalue of Cov_p is <= 1 / (2 beta) (resp. 1 / beta). Equality is a
flat direction: on densely sampled data the minima form a continuum (the ring at large K), each of
whose points is a marginal attractor, counted as stable.

Labelling rule (:func:`label_fixed_points`), with s the RMS distance of the patterns to their mean
xi_bar, xi_n the pattern nearest to the fixed point a, and Delta_n the distance of xi_n to its
nearest other (distinct) pattern:

1. ``"stored"`` if |a - xi_n| <= rtol_stored * min(Delta_n, s) (default rtol_stored = 0.1): the
   attractor sits on one memory, much closer to it than the memories are to each other;
2. else ``"mean"`` if |a - xi_bar| <= rtol_mean * s (default rtol_mean = 0.05): the global mean
   (the only attractor at small beta);
3. else ``"spurious"``: a mixture of several memories that is none of them.

The tolerances are relative to the data's own scales, so the rule does not depend on units or on
the number of memories; a K = 1 data set has only the stored kind.

Example
-------
>>> import numpy as np
>>> X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 3.0]])
>>> am = DenseAM(beta=5.0, device="cpu").fit(X)
>>> att = am.attractors(n_starts=64, rng=np.random.default_rng(0))
>>> sorted(att["kind"].tolist())
['stored', 'stored', 'stored']
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from raflab.core.checks import one_of
from raflab.core.device import resolve_device
from raflab.core.memory import FLOAT64, require_memory
from raflab.core.progress import track_rows
from raflab.core.seeding import point_rng, torch_generator
from raflab.core.summary import summarize
from raflab.memory.hopfield_theory import retrieval_overlap

KINDS = ("stored", "spurious", "mean")
#: the similarities of the dense AM, the array back ends, the binary dense AM's separation functions
SIMILARITIES = ("distance", "dot")
BACKENDS = ("auto", "torch")
SEPARATIONS = ("polynomial", "exponential")


def _torch():
    import torch

    return torch


def _backend(device: str, backend: str) -> tuple[str, bool]:
    """(device, use torch): numpy arrays on the CPU, torch tensors on CUDA, unless ``backend``
    is ``"torch"`` (torch on either device: how the tests run the CUDA code on a CPU machine)."""
    one_of(backend, BACKENDS, "backend")
    dev = resolve_device(device)
    return dev, dev == "cuda" or backend == "torch"


# ----------------------------------------------------------------------------------------------
# Classical Hopfield network


class HopfieldNetwork:
    """Hebbian Hopfield network with zero-temperature asynchronous sign dynamics.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda"}
        Where the couplings and states live (:func:`raflab.core.device.resolve_device`). On the CPU the
        arrays are numpy's: the dynamics is a loop of small row operations, where numpy's per-call
        cost is a third of torch's (and torch's CPU threads fight over two cores); on CUDA they
        are torch tensors. The code is the same for both.
    backend : {"auto", "torch"}
        ``"torch"`` uses torch tensors on the CPU too (the tests run the CUDA code path this way).

    Attributes
    ----------
    patterns_ : array (P, N) of +-1
    couplings_ : array (N, N): N W = sum_mu xi^mu xi^mu^T with zero diagonal (integers).

    Example
    -------
    >>> import numpy as np
    >>> xi = np.random.default_rng(0).choice([-1.0, 1.0], size=(5, 200))
    >>> net = HopfieldNetwork(device="cpu").fit(xi)
    >>> final, flips = net.recall(xi, np.random.default_rng(1))
    >>> bool(np.all(net.overlaps(final) > 0.99))
    True
    """

    def __init__(self, device: str = "auto", backend: str = "auto"):
        self.device, self.backend = device, backend

    def fit(self, patterns) -> "HopfieldNetwork":
        xi = np.asarray(patterns, dtype=float)
        if xi.ndim != 2 or xi.shape[0] < 1 or xi.shape[1] < 2:
            raise ValueError(f"patterns must be a (P >= 1, N >= 2) array, got shape {xi.shape}")
        if not np.all(np.abs(xi) == 1):
            raise ValueError("Hopfield patterns must have entries +1 or -1")
        P, N = xi.shape
        self.device_, self.torch_ = _backend(self.device, self.backend)
        # Integer fields |h| <= N P must be exact: float32 holds integers up to 2^24.
        exact32 = N * P < 2**24
        if self.torch_:
            torch = _torch()
            self.dtype_ = torch.float32 if exact32 else torch.float64
        else:
            self.dtype_ = np.float32 if exact32 else np.float64
        self.patterns_ = self._array(xi)
        W = self.patterns_.T @ self.patterns_
        if self.torch_:
            W.fill_diagonal_(0)
        else:
            np.fill_diagonal(W, 0)
        self.couplings_ = W
        return self

    def _array(self, a):
        if self.torch_:
            torch = _torch()
            return torch.as_tensor(np.asarray(a, dtype=float), dtype=self.dtype_, device=self.device_)
        return np.array(a, dtype=self.dtype_)

    @staticmethod
    def _numpy(a) -> np.ndarray:
        return a.cpu().numpy() if hasattr(a, "cpu") else np.asarray(a)

    def energy(self, states) -> np.ndarray:
        """E(x) = -x^T W x / 2 with W = couplings_ / N, per row of ``states``."""
        x = self._array(states)
        return self._numpy(-0.5 * ((x @ self.couplings_) * x).sum(1) / x.shape[1]).astype(float)

    def overlaps(self, states, targets=None) -> np.ndarray:
        """m = x . xi / N of each row with its target (default: the pattern of the same row)."""
        x = self._array(states)
        t = self.patterns_[: x.shape[0]] if targets is None else self._array(targets)
        return self._numpy((x * t).sum(1) / x.shape[1]).astype(float)

    def recall(self, states, rng: np.random.Generator, max_flips: int | None = None):
        """Run the asynchronous dynamics from each row of ``states`` until no spin is unstable.

        Returns
        -------
        final : numpy array (S, N) of +-1, the fixed points reached.
        flips : numpy array (S,) of int, spins flipped on the way from each start.

        Each step flips, in every start that still has one, a spin drawn uniformly among its
        unstable spins (x_i h_i < 0): random sequential updating with the no-op visits skipped.
        Starts that have stopped leave the working arrays, so late steps cost only what is left.
        """
        if self.torch_:
            torch, dev = _torch(), self.device_
            gen = torch_generator(int(rng.integers(2**62)), dev)
            uniform = lambda shape: torch.rand(shape, generator=gen, device=dev, dtype=self.dtype_)  # noqa: E731
            arange = lambda n: torch.arange(n, device=dev)  # noqa: E731
        else:
            uniform = lambda shape: rng.random(shape, dtype=self.dtype_)  # noqa: E731
            arange = np.arange
        x = self._array(states)
        x = x.clone() if self.torch_ else x  # np.array already copied
        S, N = x.shape
        max_flips = 50 * N if max_flips is None else int(max_flips)
        flips = np.zeros(S, dtype=int)
        active = arange(S)  # rows of x still being updated; xa, fa are their states and fields
        xa, fa = x, x @ self.couplings_
        for _ in range(max_flips + 1):
            unstable = fa * xa < 0
            keep = unstable.any(1)
            if not bool(keep.all()):
                x[active[~keep]] = xa[~keep]
                active, xa, fa, unstable = active[keep], xa[keep], fa[keep], unstable[keep]
                if len(active) == 0:
                    break
            # uniform choice among the unstable spins of each row: argmax of uniform keys on them
            keys = uniform(tuple(unstable.shape))
            keys[~unstable] = -1.0
            site = keys.argmax(1)
            rows = arange(len(active))
            delta = -2.0 * xa[rows, site]
            xa[rows, site] += delta
            fa += delta[:, None] * self.couplings_[site]
            flips[self._numpy(active)] += 1
        else:
            raise RuntimeError(f"asynchronous dynamics did not stop within {max_flips} flips per start")
        return self._numpy(x).astype(float), flips


def hopfield_overlap(n: int, alpha: float, rng: np.random.Generator, starts: int | None = None,
                     device: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """One network of P = round(alpha n) random patterns, recalled from its own patterns.

    Returns the final overlaps (one per start: the first ``starts`` patterns, all by default)
    and the flips per start.
    """
    P = max(1, int(round(alpha * n)))
    xi = rng.choice(np.array([-1.0, 1.0]), size=(P, n))
    net = HopfieldNetwork(device=device).fit(xi)
    S = P if starts is None else max(1, min(int(starts), P))
    final, flips = net.recall(xi[:S], rng)
    return net.overlaps(final), flips


def simulate_hopfield(alphas, n: int = 1000, seeds: int = 5, seed: int = 0, starts: int | None = None,
                      device: str = "auto", progress: bool = False) -> pd.DataFrame:
    """Final overlap against load at N = n: mean and standard error over seeds, theory beside.

    Each seed is one network (``point_rng(seed + s, alpha, n)``) recalled from ``starts`` of its
    stored patterns (all of them by default); the seed's overlap is the mean over its starts and
    ``overlap_stderr`` is the standard error of those per-network means across seeds
    (:func:`raflab.core.summary.summarize`).

    Returns a DataFrame with alpha, n, P, starts, overlap, flips (mean per start), overlap_stderr,
    n_seeds, overlap_theory, retrieval_theory (the retrieval solution exists at this alpha).
    """
    alphas = np.atleast_1d(np.asarray(alphas, dtype=float))
    if np.any(alphas <= 0) or not np.all(np.isfinite(alphas)):
        raise ValueError(f"alpha must be > 0 (got {alphas.tolist()})")
    if n < 2:
        raise ValueError(f"n must be >= 2 (got {n})")
    if seeds < 2:
        raise ValueError(f"seeds must be >= 2 for a standard error (got {seeds})")
    if starts is not None and starts < 1:
        raise ValueError(f"starts must be >= 1 (got {starts})")
    P = max(1, int(round(float(alphas.max()) * n)))
    require_memory(FLOAT64 * (n * n + 3 * P * n), f"a Hopfield network of N={n} neurons and P={P} patterns")
    device = resolve_device(device)
    theory = retrieval_overlap(alphas)
    rows = []
    for k, alpha in track_rows(list(enumerate(alphas)), f"Hopfield recall (N={n}, {seeds} networks per load)",
                               enabled=progress, unit="loads"):
        P = max(1, int(round(alpha * n)))
        for s in range(seeds):
            m, f = hopfield_overlap(n, float(alpha), point_rng(seed + s, alpha, n), starts, device)
            rows.append({"point": k, "alpha": float(alpha), "n": n, "P": P,
                         "starts": P if starts is None else min(starts, P), "seed": seed + s,
                         "overlap": float(m.mean()), "flips": float(f.mean())})
    df = summarize(pd.DataFrame(rows), ["point", "alpha", "n", "P", "starts"], ["overlap", "flips"],
                   stderr_of=["overlap"])
    df["overlap_theory"] = [float(theory["overlap"][k]) for k in df["point"]]
    df["retrieval_theory"] = [bool(theory["retrieval"][k]) for k in df["point"]]
    return df.drop(columns="point")


# ----------------------------------------------------------------------------------------------
# Binary dense associative memory (Krotov-Hopfield), for the capacity checks


def dense_binary_flip_fraction(patterns, n: int | None = None, cues=None, targets=None,
                               separation: str = "polynomial") -> np.ndarray:
    """One synchronous update of the binary dense AM, E = -sum_mu F(xi^mu . sigma); per cue, the
    fraction of spins that end different from the target pattern.

    sigma_i <- sign(sum_mu [F(xi_i^mu + S_mu,i) - F(-xi_i^mu + S_mu,i)]), S_mu,i = sum_{j != i} xi_j^mu sigma_j,
    with F(x) = x^n (``separation="polynomial"``) or F(x) = exp(x) (``"exponential"``, evaluated
    relative to the largest exponent so nothing overflows). ``cues`` default to the patterns
    themselves and ``targets`` to the cues' own patterns (row for row).
    """
    xi = np.asarray(patterns, dtype=float)
    cues = xi if cues is None else np.asarray(cues, dtype=float)
    targets = xi[: cues.shape[0]] if targets is None else np.asarray(targets, dtype=float)
    ov = cues @ xi.T  # (C, K): xi^mu . sigma
    # S_mu,i = ov_mu - xi_i^mu sigma_i: per cue an (K, N) array; loop over cues keeps memory O(K N)
    out = np.empty(cues.shape[0])
    for c in range(cues.shape[0]):
        S = ov[c][:, None] - xi * cues[c][None, :]
        if separation == "polynomial":
            if n is None or int(n) != n or n < 2:
                raise ValueError("polynomial separation needs an integer n >= 2")
            field = ((S + xi) ** n - (S - xi) ** n).sum(0)
        elif separation == "exponential":
            top = (S + np.abs(xi)).max()
            field = (np.exp(S + xi - top) - np.exp(S - xi - top)).sum(0)
        else:
            one_of(separation, SEPARATIONS, "separation")
        new = np.where(field > 0, 1.0, np.where(field < 0, -1.0, cues[c]))
        out[c] = np.mean(new != targets[c])
    return out


# ----------------------------------------------------------------------------------------------
# Dense (modern) Hopfield network


class DenseAM:
    """Dense associative memory with a softmax update at inverse temperature beta.

    Parameters
    ----------
    beta : float
        Inverse temperature, > 0.
    similarity : {"distance", "dot"}
        Softmax of -beta |x - xi|^2 (the diffusion denoiser) or of beta xi . x (attention).
    device : {"auto", "cpu", "cuda"}
        numpy arrays on the CPU (small per-call cost; torch's CPU threads contend on two cores),
        torch tensors on CUDA; float64 on both.
    chunk : int
        Largest (starts x memories) block held at once: bounds memory for large K.
    backend : {"auto", "torch"}
        ``"torch"`` uses torch tensors on the CPU too (the tests run the CUDA code path this way).

    Attributes
    ----------
    patterns_ : array (K, d), float64
    mean_ : numpy (d,), scale_ : float (RMS distance of the patterns to their mean)
    """

    def __init__(self, beta: float, similarity: str = "distance", device: str = "auto", chunk: int = 2**22,
                 backend: str = "auto"):
        self.beta, self.similarity, self.device, self.chunk, self.backend = beta, similarity, device, chunk, backend

    def fit(self, patterns) -> "DenseAM":
        if not (isinstance(self.beta, (int, float)) and math.isfinite(self.beta) and self.beta > 0):
            raise ValueError(f"beta must be > 0 (got {self.beta})")
        one_of(self.similarity, SIMILARITIES, "similarity")
        X = np.asarray(patterns, dtype=float)
        if X.ndim != 2 or X.shape[0] < 1 or not np.all(np.isfinite(X)):
            raise ValueError(f"patterns must be a finite (K >= 1, d) array, got shape {X.shape}")
        self.device_, self.torch_ = _backend(self.device, self.backend)
        self.patterns_ = self._array(X)
        self.sqnorm_ = (self.patterns_**2).sum(1)
        self.mean_ = X.mean(0)
        self.scale_ = float(np.sqrt(np.mean(np.sum((X - self.mean_) ** 2, axis=1))))
        if self.scale_ == 0:
            self.scale_ = float(max(1.0, np.abs(X).max()))
        return self

    # -- backend: numpy on the CPU, torch on CUDA ---------------------------------------------
    def _array(self, x):
        if self.torch_:
            torch = _torch()
            return torch.as_tensor(np.asarray(x, dtype=float), dtype=torch.float64, device=self.device_)
        return np.array(x, dtype=float)

    @staticmethod
    def _numpy(a) -> np.ndarray:
        return a.cpu().numpy() if hasattr(a, "cpu") else np.asarray(a)

    @staticmethod
    def _rowmax(a):
        return a.amax(1, keepdim=True) if hasattr(a, "amax") else a.max(1, keepdims=True)

    def _softmax(self, z):
        e = (z - self._rowmax(z))
        e = e.exp() if hasattr(e, "exp") else np.exp(e)
        return e / e.sum(1)[:, None]

    def _logits(self, x):
        dots = x @ self.patterns_.T
        if self.similarity == "dot":
            return self.beta * dots
        # -beta |x - xi|^2 up to the per-row constant -beta |x|^2, which softmax ignores
        return self.beta * (2.0 * dots - self.sqnorm_[None, :])

    def _blocks(self, S: int):
        step = max(1, self.chunk // max(1, self.patterns_.shape[0]))
        return [slice(i, i + step) for i in range(0, S, step)]

    def _index(self, idx: np.ndarray):
        """numpy integer indices as the backend wants them."""
        return _torch().as_tensor(idx, device=self.device_) if self.torch_ else idx

    def _concat(self, parts):
        return _torch().cat(parts) if self.torch_ else np.concatenate(parts)

    def weights(self, x) -> np.ndarray:
        """Softmax weights p(x), shape (S, K)."""
        x = self._array(np.atleast_2d(x))
        return self._numpy(self._concat([self._softmax(self._logits(x[b])) for b in self._blocks(x.shape[0])]))

    def _update(self, x):
        return self._concat([self._softmax(self._logits(x[b])) @ self.patterns_ for b in self._blocks(x.shape[0])])

    def update(self, x) -> np.ndarray:
        """One step x <- X^T p(x), per row of ``x``."""
        return self._numpy(self._update(self._array(np.atleast_2d(x))))

    def energy(self, x) -> np.ndarray:
        """E(x) per row (distance: -(1/beta) lse(-beta |x - xi|^2); dot: |x|^2/2 - (1/beta) lse(beta X x))."""
        x = self._array(np.atleast_2d(x))
        z = self._logits(x)
        top = self._rowmax(z)
        e = z - top
        total = (e.exp() if hasattr(e, "exp") else np.exp(e)).sum(1)
        lse = (top[:, 0] + (total.log() if hasattr(total, "log") else np.log(total))) / self.beta
        sq = (x**2).sum(1)
        return self._numpy(sq - lse if self.similarity == "distance" else 0.5 * sq - lse)

    def run(self, starts, tol: float = 1e-10, max_iter: int = 10_000):
        """Iterate the update from each row of ``starts`` to a fixed point.

        Convergence: max_i |x_new - x|_inf <= tol * scale_. Returns (fixed points (S, d) numpy,
        converged (S,) bool, iterations (S,) int). Converged rows leave the working array.
        """
        x = self._array(np.atleast_2d(starts))
        S = x.shape[0]
        converged = np.zeros(S, dtype=bool)
        iterations = np.zeros(S, dtype=int)
        active = np.arange(S)
        xa = x
        for _ in range(max_iter):
            if active.size == 0:
                break
            new = self._update(xa)
            step = abs(new - xa)
            step = self._numpy(self._rowmax(step)[:, 0])
            done = step <= tol * self.scale_
            iterations[active] += 1
            xa = new
            if done.any():
                converged[active[done]] = True
                x[self._index(active[done])] = xa[self._index(np.flatnonzero(done))]
                keep = np.flatnonzero(~done)
                active, xa = active[keep], xa[self._index(keep)]
        if active.size:
            x[self._index(active)] = xa
        return self._numpy(x).copy(), converged, iterations

    def curvature(self, x) -> np.ndarray:
        """Largest eigenvalue of Cov_p(xi) at each row of x, in units of the stability bound.

        <= 1: a local minimum of E (1: a flat direction); > 1: a saddle or maximum.
        """
        p = self.weights(x)
        X = self._numpy(self.patterns_)
        bound = 1.0 / (2.0 * self.beta) if self.similarity == "distance" else 1.0 / self.beta
        out = np.empty(p.shape[0])
        for s in range(p.shape[0]):
            keep = p[s] > 1e-15 * p[s].max()
            w = p[s][keep] / p[s][keep].sum()
            A = np.sqrt(w)[:, None] * (X[keep] - w @ X[keep])
            # Cov_p = A^T A: the top eigenvalue from the smaller of A A^T and A^T A
            G = A @ A.T if A.shape[0] <= A.shape[1] else A.T @ A
            out[s] = np.linalg.eigvalsh(G)[-1] / bound
        return out

    def default_starts(self, n_starts: int, rng: np.random.Generator) -> np.ndarray:
        """Half the starts on memories (all of them if K is small), half from a broad Gaussian.

        The memory starts find every stored attractor and, where a memory is not an attractor,
        the mixture it falls into; the Gaussian ones (mean and per-coordinate spread of the data,
        widened 1.5x) find the mean and mixtures away from memories.
        """
        X = self._numpy(self.patterns_)
        K = X.shape[0]
        on_memories = min(K, n_starts // 2)
        idx = rng.choice(K, size=on_memories, replace=False)
        spread = X.std(0) if K > 1 else np.full(X.shape[1], self.scale_)
        spread = np.where(spread > 0, spread, self.scale_)
        broad = self.mean_ + 1.5 * spread * rng.standard_normal((n_starts - on_memories, X.shape[1]))
        return np.concatenate([X[idx], broad])

    def attractors(self, n_starts: int = 512, rng: np.random.Generator | None = None, starts=None,
                   tol: float = 1e-10, max_iter: int = 10_000, merge_tol: float = 1e-4,
                   rtol_stored: float = 0.1, rtol_mean: float = 0.05) -> pd.DataFrame:
        """Enumerate attractors: iterate from many starts, deduplicate, keep minima, label each.

        Fixed points within ``merge_tol * scale_`` of each other are one attractor (greedy:
        the first unassigned point claims everything within the radius, so clusters never chain).
        A fixed point whose curvature exceeds the stability bound (by more than 1e-6 relative) is a
        saddle: it is dropped. Unconverged runs are dropped too (their count is in ``attrs``).

        Returns a DataFrame, one row per attractor: coordinates ``x0..``, ``kind``, ``count``
        (starts that ended there), ``energy``, ``curvature``, ``nearest`` (index of the nearest
        memory), ``distance_nearest``, ``distance_mean``. ``df.attrs`` holds n_starts,
        unconverged and saddles.
        """
        if starts is None:
            if n_starts < 1:
                raise ValueError(f"n_starts must be >= 1 (got {n_starts})")
            starts = self.default_starts(n_starts, rng if rng is not None else np.random.default_rng(0))
        pts, conv, _ = self.run(starts, tol=tol, max_iter=max_iter)
        fixed = pts[conv]
        reps, counts = _greedy_clusters(fixed, merge_tol * self.scale_)
        curv = self.curvature(reps) if len(reps) else np.empty(0)
        stable = curv <= 1.0 + 1e-6
        reps, counts, curv = reps[stable], counts[stable], curv[stable]
        X = self._numpy(self.patterns_)
        labels = label_fixed_points(X, reps, rtol_stored=rtol_stored, rtol_mean=rtol_mean)
        df = pd.DataFrame(reps, columns=[f"x{i}" for i in range(X.shape[1])]) if X.shape[1] <= 16 else \
            pd.DataFrame({"x": list(reps)})
        df = pd.concat([df, labels], axis=1)
        df["count"] = counts
        df["energy"] = self.energy(reps) if len(reps) else np.empty(0)
        df["curvature"] = curv
        df.attrs.update(n_starts=len(pts), unconverged=int((~conv).sum()), saddles=int((~stable).sum()))
        return df


def _greedy_clusters(points: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Representatives (first member) and sizes of greedy radius-``radius`` clusters."""
    if len(points) == 0:
        return points.reshape(0, points.shape[1] if points.ndim == 2 else 0), np.zeros(0, dtype=int)
    unassigned = np.ones(len(points), dtype=bool)
    reps, counts = [], []
    for i in range(len(points)):
        if not unassigned[i]:
            continue
        near = unassigned & (np.linalg.norm(points - points[i], axis=1) <= radius)
        reps.append(points[i])
        counts.append(int(near.sum()))
        unassigned &= ~near
    return np.array(reps), np.array(counts)


def label_fixed_points(patterns, points, rtol_stored: float = 0.1, rtol_mean: float = 0.05) -> pd.DataFrame:
    """Label each point "stored", "mean" or "spurious" by the rule of the module docstring.

    Returns a DataFrame with ``kind``, ``nearest``, ``distance_nearest``, ``distance_mean``.

    Example
    -------
    >>> X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0]])
    >>> label_fixed_points(X, [[0.99, 0.0], [0.0, 0.66], [0.5, 1.0]])["kind"].tolist()
    ['stored', 'mean', 'spurious']
    """
    X = np.asarray(patterns, dtype=float)
    A = np.atleast_2d(np.asarray(points, dtype=float)).reshape(-1, X.shape[1])
    mean = X.mean(0)
    scale = float(np.sqrt(np.mean(np.sum((X - mean) ** 2, axis=1))))
    scale = scale if scale > 0 else float(max(1.0, np.abs(X).max()))
    d = np.sqrt(np.maximum(((A**2).sum(1)[:, None] - 2.0 * A @ X.T + (X**2).sum(1)[None, :]), 0.0))
    nearest = d.argmin(1) if len(A) else np.zeros(0, dtype=int)
    d_near = d[np.arange(len(A)), nearest] if len(A) else np.zeros(0)
    # spacing of each memory: distance to its nearest distinct other memory (inf if none)
    spacing = np.full(len(X), np.inf)
    for mu in np.unique(nearest):
        dm = np.linalg.norm(X - X[mu], axis=1)
        others = dm[dm > 0]
        spacing[mu] = others.min() if others.size else np.inf
    local = np.minimum(spacing[nearest], scale)
    d_mean = np.linalg.norm(A - mean, axis=1)
    kind = np.where(d_near <= rtol_stored * local, "stored",
                    np.where(d_mean <= rtol_mean * scale, "mean", "spurious"))
    return pd.DataFrame({"kind": kind, "nearest": nearest, "distance_nearest": d_near, "distance_mean": d_mean})


def require_attractor_memory(K: int, dim: int, n_starts: int) -> None:
    """Refuse attractor counting whose arrays (K memories of dimension dim, a few copies; the
    n_starts x K similarities of the softmax update, a few copies; float64) cannot fit in memory."""
    require_memory(FLOAT64 * (3 * K * dim + 4 * n_starts * K + 3 * n_starts * dim),
                   f"attractors of K={K:,} memories (dimension {dim}) from {n_starts} starts")


def attractor_counts(patterns, beta: float, n_starts: int = 512, rng: np.random.Generator | None = None,
                     similarity: str = "distance", device: str = "auto", **kwargs) -> dict:
    """Counts of distinct attractors by kind and the fraction of starts ending on each kind."""
    att = DenseAM(beta, similarity=similarity, device=device).fit(patterns).attractors(
        n_starts=n_starts, rng=rng, **kwargs)
    total = max(1, int(att["count"].sum()))
    out = {}
    for kind in KINDS:
        sel = att["kind"] == kind
        out[f"n_{kind}"] = int(sel.sum())
        out[f"fraction_{kind}"] = float(att.loc[sel, "count"].sum() / total)
    out.update(n_starts=att.attrs["n_starts"], unconverged=att.attrs["unconverged"], saddles=att.attrs["saddles"])
    return out

"""Benchmark: one p = n = 2000 attention point over 20 gammas.

raflab's path (one eigendecomposition of M^T M / n reused across gamma) vs a plain numpy
implementation forming X K K^T X^T + n gamma I and solving per gamma. Prints the ratio and max diff.
Run: ``.venv/bin/python benchmarks/bench_attention.py``
"""

import time

import numpy as np

from raflab.attention.simulate import attention_kernel, memorization_errors
from raflab.attention.tokens import make_tokens

p = n = 2000
gammas = np.logspace(-2, 1, 20)
X, y, _, wK, wQ = make_tokens(p, n, 1.0, 0.5, 1.0, np.random.default_rng(0))

t0 = time.perf_counter()
fast = memorization_errors(X @ attention_kernel(X, np.tanh, wK, wQ), y, gammas)
t_fast = time.perf_counter() - t0

t0 = time.perf_counter()
slow = []
for g in gammas:
    W = np.eye(p) + np.outer(wK, wQ)
    K = np.tanh(X.T @ W @ X / np.sqrt(p)) / np.sqrt(p)
    M = X @ K
    w = np.linalg.solve(M @ M.T + n * g * np.eye(p), M @ y)
    slow.append(np.sum((y - M.T @ w) ** 2) / n)
t_plain = time.perf_counter() - t0
print(f"raflab {t_fast:.2f}s  plain {t_plain:.2f}s  ratio {t_plain / t_fast:.1f}x  "
      f"max|diff| {np.max(np.abs(fast - np.array(slow))):.2e}")

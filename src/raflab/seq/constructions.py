"""Hand-set weights that solve MQAR in the selective scan (S6), and what a fixed-step SSM (S4D) can do.

What is constructed (at the level of the scan, with a fixed token code, not a trained model):
MQAR sequences in Zoology's paper format (``random_non_queries=False``: the positions between the
queries hold token 0), vocabulary V, keys 1 .. V/2 - 1 (K = V/2 - 1 of them), values V/2 .. V - 1.

- **S6** (:func:`s6_recall_scores`): the Mamba scan :func:`raflab.seq.nets.selective_scan`, run with
  D = V/2 channels (one per value) and state size N per channel. Each key has a *slot* in the state,
  ``(key - 1) mod N``. At step t: the input u_t is the one-hot value code of token x_t (zero for a
  non-value); B_t is the one-hot slot of the *previous* token x_{t-1} (zero for a non-key: what the
  Mamba block's short causal convolution supplies, a kernel with weight 1 at lag 1); C_t is the
  one-hot slot of x_t (zero for a non-key); the step Delta_t = 1 and A = -1e-300 (no decay: the state
  is the running sum). So the state is sum_j (value v_j) x (slot of k_j), written once per context
  pair (a query is never preceded by a key, and the token after it is 0, coded as zero), and the
  read at a query k returns the values stored in k's slot. Input dependence of B_t and C_t
  (selectivity) is what makes the write keyed by the key and the read keyed by the query.
  **Exact when N >= K** (every key its own slot): accuracy 1.0 on every sequence, any number of pairs.
  With N < K, keys share slots and a query is answered exactly when no other key of its sequence
  shares its slot (:func:`slot_collision_free`); two stored values then tie and the answer counts as
  wrong. With N < kappa, every sequence has a collision (pigeonhole): accuracy < 1 always.
- **S4D** (:func:`s4d_recall_scores`): the same code and scan with the selectivity removed: B and C
  fixed over time (ones), one decaying mode A = -1 per channel (input-independent step 1). Then
  y_t = sum_s exp(-(t - s)) u_s does not depend on which key is asked: the read returns the most
  recent value, so **exactly one query per sequence is right: accuracy 1/kappa** (with no decay, all
  stored values tie and accuracy is 0). Any fixed B, C, A keeps the read independent of the query key;
  this recency read is the one that gets the last pair right.

Scores are [batch, length, V/2] (one per value); a query counts as right only when the paired value's
score is strictly the largest (:func:`recall_accuracy`).

Example
-------
>>> import numpy as np
>>> from raflab.seq.tasks.mqar import MQARConfig, mqar_task
>>> task = mqar_task(MQARConfig(vocab_size=32, seq_len=32, num_pairs=4, num_examples=64, num_heldout=0,
...                             random_non_queries=False), np.random.default_rng(0))
>>> split = task.train
>>> recall_accuracy(s6_recall_scores(split.inputs, 32, d_state=15), split.targets, 32)
1.0
>>> recall_accuracy(s4d_recall_scores(split.inputs, 32), split.targets, 32)
0.25
"""

from __future__ import annotations

import numpy as np
import torch

from raflab.core.checks import in_range
from raflab.seq.nets import selective_scan
from raflab.seq.tasks.tokens import IGNORE_INDEX

#: A of the S6 construction: negative (as Mamba's A = -exp(A_log)) and small enough that
#: exp(Delta A) is exactly 1 in float64: no decay
NO_DECAY = -1e-300


def _check(inputs, vocab_size: int) -> np.ndarray:
    inputs = np.asarray(inputs)
    if inputs.ndim != 2:
        raise ValueError(f"inputs must be [batch, length] tokens, got shape {inputs.shape}")
    in_range(vocab_size, "vocab_size", low=4)
    if inputs.size and (inputs.min() < 0 or inputs.max() >= vocab_size):
        raise ValueError(f"tokens must lie in 0 .. {vocab_size - 1}")
    return inputs


def number_of_keys(vocab_size: int) -> int:
    """K: the key tokens of an MQAR vocabulary (1 .. V/2 - 1)."""
    return vocab_size // 2 - 1


def _value_code(inputs: np.ndarray, vocab_size: int) -> torch.Tensor:
    """[batch, length, V/2]: one-hot of the value tokens, zero elsewhere."""
    half = vocab_size // 2
    is_value = inputs >= half
    code = np.zeros(inputs.shape + (vocab_size - half,))
    b, t = np.nonzero(is_value)
    code[b, t, inputs[b, t] - half] = 1.0
    return torch.from_numpy(code)


def _slot_code(tokens: np.ndarray, vocab_size: int, d_state: int) -> torch.Tensor:
    """[batch, length, N]: one-hot of the key's slot (key - 1) mod N, zero for a non-key."""
    is_key = (tokens >= 1) & (tokens < vocab_size // 2)
    code = np.zeros(tokens.shape + (d_state,))
    b, t = np.nonzero(is_key)
    code[b, t, (tokens[b, t] - 1) % d_state] = 1.0
    return torch.from_numpy(code)


def s6_recall_scores(inputs, vocab_size: int, d_state: int) -> np.ndarray:
    """The S6 construction's value scores [batch, length, V/2] (see the module docstring)."""
    inputs = _check(inputs, vocab_size)
    if isinstance(d_state, bool) or not isinstance(d_state, int) or d_state < 1:
        raise ValueError(f"d_state must be an integer >= 1, got {d_state!r}")
    previous = np.concatenate([np.zeros_like(inputs[:, :1]), inputs[:, :-1]], axis=1)
    u = _value_code(inputs, vocab_size)
    B = _slot_code(previous, vocab_size, d_state)  # the short convolution: the key one step back
    C = _slot_code(inputs, vocab_size, d_state)
    delta = torch.ones_like(u)
    A = torch.full((u.shape[-1], d_state), NO_DECAY, dtype=torch.float64)
    return selective_scan(u, delta, A, B, C).numpy()


def s4d_recall_scores(inputs, vocab_size: int, decay: float = 1.0) -> np.ndarray:
    """The fixed-step counterpart: B = C = 1 for every token, one mode A = -``decay`` per channel, step 1
    (a linear time-invariant convolution y_t = sum_s exp(-decay (t - s)) u_s); ``decay = 0`` integrates."""
    inputs = _check(inputs, vocab_size)
    in_range(decay, "decay", low=0)
    u = _value_code(inputs, vocab_size)
    ones = torch.ones(inputs.shape + (1,), dtype=torch.float64)
    A = torch.full((u.shape[-1], 1), -float(decay) if decay > 0 else NO_DECAY, dtype=torch.float64)
    return selective_scan(u, torch.ones_like(u), A, ones, ones).numpy()


def recall_accuracy(scores, targets, vocab_size: int) -> float:
    """Fraction of query positions (targets != -100) where the paired value's score is strictly the
    largest of the V/2 value scores (a tie is wrong)."""
    scores, targets = np.asarray(scores), np.asarray(targets)
    rows, cols = np.nonzero(targets != IGNORE_INDEX)
    if rows.size == 0:
        raise ValueError("no query positions (every target is -100)")
    query = scores[rows, cols]  # [queries, V/2]
    truth = targets[rows, cols] - vocab_size // 2
    right = query[np.arange(len(truth)), truth]
    query = query.copy()
    query[np.arange(len(truth)), truth] = -np.inf
    return float(np.mean(right > query.max(axis=1)))


def slot_collision_free(inputs, targets, vocab_size: int, d_state: int) -> np.ndarray:
    """Per query position (row-major over targets != -100): True when no other key of the sequence's
    context shares the query key's slot, (key - 1) mod N: where the S6 construction answers exactly."""
    inputs, targets = np.asarray(inputs), np.asarray(targets)
    rows, cols = np.nonzero(targets != IGNORE_INDEX)
    out = np.empty(len(rows), dtype=bool)
    for i, (r, c) in enumerate(zip(rows, cols)):
        pairs = int((targets[r] != IGNORE_INDEX).sum())
        slots = (inputs[r, 0:2 * pairs:2] - 1) % d_state
        out[i] = int(np.sum(slots == (inputs[r, c] - 1) % d_state)) == 1
    return out


def expected_s6_accuracy(vocab_size: int, pairs: int, d_state: int) -> float:
    """The S6 construction's expected accuracy over MQAR sequences: the chance that a query's key shares
    its slot with none of the other pairs - 1 keys (drawn without replacement from the K keys):
    sum over slots s of (c_s / K) C(K - c_s, pairs - 1) / C(K - 1, pairs - 1), c_s the keys in slot s."""
    from math import comb

    K = number_of_keys(vocab_size)
    sizes = np.bincount(np.arange(K) % d_state, minlength=d_state)
    total = comb(K - 1, pairs - 1)
    return float(sum(c / K * comb(K - c, pairs - 1) / total for c in sizes if c))


__all__ = ["s6_recall_scores", "s4d_recall_scores", "recall_accuracy", "slot_collision_free",
           "expected_s6_accuracy", "number_of_keys", "NO_DECAY"]

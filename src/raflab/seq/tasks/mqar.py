"""Multi-query associative recall with Zoology's semantics (Arora et al.)."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from raflab.seq.tasks.tokens import IGNORE_INDEX, SequenceTask, TokenSplit


class MQARConfig(BaseModel):
    """One MQAR instance, Zoology's ``multiquery_ar`` semantics.

    Each sequence opens with ``num_pairs`` key-value pairs (keys drawn without replacement from
    ``1 .. vocab_size//2 - 1``, values from ``vocab_size//2 .. vocab_size - 1``); every key then
    reappears once as a query at an even offset ``2 g`` after the context, the gaps ``g`` drawn
    without replacement with ``p(g) ~ g^(power_a - 1)``; the target right at each query is its value.

    Examples
    --------
    >>> MQARConfig(vocab_size=64, seq_len=32, num_pairs=4).num_pairs
    4
    """

    model_config = ConfigDict(frozen=True)

    vocab_size: int = Field(256, ge=4, description="tokens; keys from the lower half, values from the upper")
    seq_len: int = Field(64, ge=4, description="tokens per sequence (even)")
    num_pairs: int = Field(8, ge=1, description="key-value pairs per sequence (all of them queried)")
    num_examples: int = Field(10_000, ge=1, description="training sequences")
    num_heldout: int = Field(1_000, ge=0, description="fresh sequences to test in-context recall")
    power_a: float = Field(0.01, gt=0, allow_inf_nan=False, description="gap law p(g) ~ g^(a-1); 1 = uniform")
    random_non_queries: bool = Field(True, description="fill the non-query positions with random tokens")

    @model_validator(mode="after")
    def _fits(self):
        if self.seq_len % 2:
            raise ValueError(f"seq_len must be even, got {self.seq_len}")
        if 4 * self.num_pairs > self.seq_len:
            raise ValueError(f"num_pairs={self.num_pairs} does not fit in seq_len={self.seq_len} "
                             f"(the pairs and their queries need 4*num_pairs <= seq_len)")
        if self.num_pairs > self.vocab_size // 2 - 1:
            raise ValueError(f"vocab_size={self.vocab_size} is too small for num_pairs={self.num_pairs} "
                             f"distinct keys (needs vocab_size//2 - 1 >= num_pairs)")
        return self


def _distinct_rows(n: int, low: int, high: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """n rows of k distinct integers, each row uniform among ordered k-subsets of [low, high)."""
    pop = high - low
    if k * k > 6 * pop:
        # rejection would rarely succeed: argsort random keys (pop is small here)
        return low + np.argsort(rng.random((n, pop)), axis=1)[:, :k]
    out = rng.integers(low, high, size=(n, k))
    while True:
        s = np.sort(out, axis=1)
        bad = np.flatnonzero((s[:, 1:] == s[:, :-1]).any(axis=1))
        if bad.size == 0:
            return out
        out[bad] = rng.integers(low, high, size=(bad.size, k))


def _mqar_split(config: MQARConfig, n: int, rng: np.random.Generator) -> TokenSplit:
    V, T, k = config.vocab_size, config.seq_len, config.num_pairs
    context = 2 * k
    keys = _distinct_rows(n, 1, V // 2, k, rng)
    values = _distinct_rows(n, V // 2, V, k, rng)
    # gaps 0..space-1 drawn without replacement, weight (g+1)^(a-1): Gumbel top-k is exactly
    # successive weighted sampling without replacement, vectorized over the rows
    space = (T - context) // 2
    logw = (config.power_a - 1.0) * np.log(np.arange(1, space + 1))
    gaps = np.argsort(-(logw + rng.gumbel(size=(n, space))), axis=1)[:, :k]
    query_pos = context + 2 * gaps  # even offsets after the context; all < T - 1
    rows = np.arange(n)[:, None]

    inputs = np.zeros((n, T), dtype=np.int64)
    inputs[:, 0:context:2] = keys
    inputs[:, 1:context:2] = values
    inputs[rows, query_pos] = keys
    targets = np.full((n, T), IGNORE_INDEX, dtype=np.int64)
    targets[rows, query_pos] = values
    if config.random_non_queries:
        # as in Zoology: uniform over the whole vocabulary, so filler may repeat a key or a value
        filler = np.ones((n, T), dtype=bool)
        filler[:, :context] = False
        filler[rows, query_pos] = False
        inputs[filler] = rng.integers(0, V, size=int(filler.sum()))
    return TokenSplit(inputs, targets, targets != IGNORE_INDEX)


def mqar_task(config: MQARConfig, rng: np.random.Generator) -> SequenceTask:
    """Multi-query associative recall: training sequences, then fresh held-out ones (in-context recall).

    Examples
    --------
    >>> task = mqar_task(MQARConfig(vocab_size=64, seq_len=32, num_pairs=4, num_examples=10,
    ...                             num_heldout=5), np.random.default_rng(0))
    >>> task.train.inputs.shape, int(task.train.answer_mask.sum(axis=1)[0])
    ((10, 32), 4)
    """
    train = _mqar_split(config, config.num_examples, rng)
    heldout = _mqar_split(config, config.num_heldout, rng) if config.num_heldout else None
    return SequenceTask("mqar", config.vocab_size, config.seq_len, train, heldout, None,
                        {**config.model_dump(), "num_train": config.num_examples})

"""Uniformly random token strings: capacity in bits (Morris et al.)."""

from __future__ import annotations

import math

import numpy as np

from raflab.seq.tasks.tokens import SequenceTask, TokenSplit


def random_strings_task(num_strings: int, length: int, vocab_size: int, rng: np.random.Generator,
                        num_heldout: int = 0) -> SequenceTask:
    """Uniformly random token strings; every token after the first is a trained target.

    ``info["entropy_bits"] = num_strings * (length - 1) * log2(vocab_size)``: the information in the
    ``length - 1`` predicted tokens of each string (tokens 2..length; the first has no context and
    is not predicted). ``num_heldout`` fresh strings give the model's cross-entropy on unseen data.
    """
    for name, value, low in (("num_strings", num_strings, 1), ("length", length, 2),
                             ("vocab_size", vocab_size, 2), ("num_heldout", num_heldout, 0)):
        if value < low:
            raise ValueError(f"{name} must be >= {low}, got {value}")

    def split(n):
        s = rng.integers(0, vocab_size, size=(n, length), dtype=np.int64)
        return TokenSplit(s[:, :-1].copy(), s[:, 1:].copy(), np.ones((n, length - 1), dtype=bool))

    train = split(num_strings)
    heldout = split(num_heldout) if num_heldout else None
    info = {"num_strings": num_strings, "length": length, "num_heldout": num_heldout,
            "entropy_bits": num_strings * (length - 1) * math.log2(vocab_size),
            "predicted_tokens": "tokens 2..length of each string (the first is not predicted)"}
    return SequenceTask("random", vocab_size, length - 1, train, heldout, None, info)

"""The token arrays every sequence task produces: a :class:`TokenSplit` per split, a :class:`SequenceTask`.

``inputs[n, t]`` is the token at position t and ``targets[n, t]`` the token to predict there
(``IGNORE_INDEX`` where nothing is trained), ``answer_mask[n, t]`` the positions scored for exact match.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

IGNORE_INDEX = -100


@dataclass(frozen=True)
class TokenSplit:
    """Padded token arrays of one split.

    ``inputs`` and ``targets`` are int64 ``[N, T]``; ``targets`` is the next token, ``IGNORE_INDEX``
    where nothing is trained. ``answer_mask`` (bool ``[N, T]``) marks the positions scored for exact
    match: a sequence is exact-matched when the argmax equals ``targets`` at all of them, which is
    what greedy generation from the prompt reproduces (by induction on the prefix).
    """

    inputs: np.ndarray
    targets: np.ndarray
    answer_mask: np.ndarray

    def __len__(self) -> int:
        return int(self.inputs.shape[0])


@dataclass(frozen=True)
class SequenceTask:
    """A named task: vocabulary, block size ``T``, a training split and an optional held-out one."""

    name: str
    vocab_size: int
    block_size: int
    train: TokenSplit
    heldout: TokenSplit | None
    itos: tuple[str, ...] | None  # token strings for decoding; None for integer tasks
    info: dict = field(default_factory=dict)
    # the rows a network is trained on when they differ from the evaluated ``train`` rows: the
    # character tasks' windows of one text stream, as nanoGPT (and the paper) trains; None = train
    fit: TokenSplit | None = None

    @property
    def fit_split(self) -> TokenSplit:
        return self.train if self.fit is None else self.fit

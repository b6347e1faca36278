"""A hand-set Mamba-2 mixer that solves MQAR, exactly when its state holds every key.

The construction (ours, in the spirit of the associative-recall constructions of Huang et al.,
"Understanding Input Selectivity in Mamba", arXiv 2506.11891, Sec. on MQAR; their Mamba-2 statement
is not reproduced verbatim here): one :class:`raflab.seq.ssd.Mamba2Mixer` reads one-hot tokens
(``n_embd = vocab``) and writes the recalled value's score into that value's coordinate.

- **key code** (B and C, state size N): key token k -> the unit vector of slot ``k mod N``; any other
  token -> 0. With N >= the number of keys (``vocab // 2``) the slots are distinct and the codes
  orthogonal; with fewer, keys share slots.
- **the convolution** (width ``d_conv >= 2``) shifts the key code one step: at a value position
  B_t = code(token_{t-1}), the key it is paired with, while C_t = code(token_t) and the input
  x_t = the one-hot of the value token t (0 for every other token). SiLU maps each 1 to silu(1).
- **no forgetting**: A = -exp(-50) per head, so every decay exp(dt A) rounds to exactly 1 in double
  precision; dt = softplus(0) = log 2 for every token: the selectivity is in x and B, which vanish
  except where a value follows its key. (Every pair is then stored with the same weight, so two
  values recalled by one query tie exactly and the query counts as wrong.)
- **readout**: the state is sum_i x(v_i) code(k_i)^T (one write per pair); a query key q reads
  y = sum_i [slot(k_i) = slot(q)] x(v_i) silu(1)^3 log 2, the gate z is a constant (bias 1), the
  gated RMSNorm rescales y by a positive number, and out_proj copies value channel j to the
  coordinate of value token j. The prediction is the unique largest value coordinate.

So a query is answered exactly when no other key of its sequence shares its slot: accuracy 1.0 for
N >= the number of keys, and for smaller N exactly the fraction of queries without a slot collision
(:func:`collision_free_fraction`), which falls as the pairs grow against N. The recurrent state is
heads x headdim x N = (inner width) x N; the inner width must hold the ``vocab // 2`` value channels.
The filler tokens between queries must be 0 (``MQARConfig(random_non_queries=False)``): a random
filler key followed by a random filler value would write a spurious pair.
"""

from __future__ import annotations

import numpy as np
import torch

from raflab.seq.nets import NetConfig
from raflab.seq.ssd import Mamba2Mixer


def mqar_mamba2_config(vocab_size: int, d_state: int, headdim: int | None = None, d_conv: int = 2) -> NetConfig:
    """The NetConfig of the hand-set mixer: width = vocab (one-hot tokens), expand 1, biases on."""
    return NetConfig(vocab_size=vocab_size, block_size=2, mixer="mamba2", n_embd=vocab_size, expand=1,
                     d_state=d_state, d_conv=d_conv, headdim=headdim, bias=True, mlp_ratio=0.0)


def key_slot(vocab_size: int, d_state: int) -> np.ndarray:
    """The state slot of each token's key code (-1 for tokens that are not keys: 0 and the values)."""
    slots = np.full(vocab_size, -1)
    keys = np.arange(1, vocab_size // 2)
    slots[keys] = keys % d_state
    return slots


@torch.no_grad()
def hand_set_mamba2_mixer(vocab_size: int, d_state: int, headdim: int | None = None, d_conv: int = 2,
                          dtype=torch.float64) -> Mamba2Mixer:
    """The Mamba-2 mixer of the module docstring, every weight set by hand."""
    if d_conv < 2:
        raise ValueError(f"d_conv must be >= 2 to pair a value with the key before it, got {d_conv}")
    config = mqar_mamba2_config(vocab_size, d_state, headdim, d_conv)
    mixer = Mamba2Mixer(config).to(dtype)
    for p in mixer.parameters():
        p.zero_()
    V, E, N, H = vocab_size, mixer.inner, d_state, mixer.n_heads
    half = V // 2
    if E < V - half:
        raise ValueError(f"the inner width {E} cannot hold the {V - half} value channels")
    # in_proj rows: z [0, E), x [E, 2E), B [2E, 2E+N), C [2E+N, 2E+2N), dt [2E+2N, 2E+2N+H)
    W, bias = mixer.in_proj.weight, mixer.in_proj.bias
    bias[:E] = 1.0  # the gate z: a constant
    values = torch.arange(half, V)
    W[E + values - half, values] = 1.0  # x: one-hot of the value token
    slots = key_slot(V, N)
    for token in np.flatnonzero(slots >= 0):
        W[2 * E + slots[token], token] = 1.0  # B's key code (shifted by the convolution)
        W[2 * E + N + slots[token], token] = 1.0  # C's key code
    # depthwise convolution, taps ordered oldest .. current: x and C take the current token, B the one before
    conv = mixer.conv1d.weight  # [E + 2N, 1, d_conv]
    conv[:E, 0, -1] = 1.0
    conv[E:E + N, 0, -2] = 1.0
    conv[E + N:, 0, -1] = 1.0
    mixer.A_log.fill_(-50.0)  # A = -exp(-50): every decay is exactly 1 in float64
    mixer.dt_bias.zero_()  # dt = softplus(0) = log 2 for every token
    mixer.norm.weight.fill_(1.0)
    mixer.out_proj.weight[values, values - half] = 1.0  # value channel j -> value token's coordinate
    return mixer


def one_hot_tokens(inputs, vocab_size: int, dtype=torch.float64) -> torch.Tensor:
    return torch.nn.functional.one_hot(torch.as_tensor(inputs), vocab_size).to(dtype)


@torch.no_grad()
def construction_predictions(mixer: Mamba2Mixer, inputs) -> np.ndarray:
    """[n, T] predicted value token per position: the unique largest value coordinate, -1 on a tie."""
    vocab = mixer.out_proj.out_features
    out = mixer(one_hot_tokens(inputs, vocab, mixer.A_log.dtype))[..., vocab // 2:]
    top = out.max(dim=-1, keepdim=True).values
    unique = (out == top).sum(dim=-1) == 1
    return torch.where(unique, out.argmax(dim=-1) + vocab // 2, -1).numpy()


def construction_accuracy(mixer: Mamba2Mixer, split) -> float:
    """MQAR accuracy (at the query positions) of the hand-set mixer on a task split."""
    predictions = construction_predictions(mixer, split.inputs)
    mask = split.answer_mask
    return float((predictions[mask] == split.targets[mask]).mean())


def collision_free_fraction(split, vocab_size: int, d_state: int) -> float:
    """The fraction of queries whose key shares its slot with no other key of its sequence: the
    accuracy the construction must have, computed from the data alone."""
    slots = key_slot(vocab_size, d_state)
    inputs, mask = np.asarray(split.inputs), np.asarray(split.answer_mask)
    n_pairs = int(mask[0].sum())
    key_slots = slots[inputs[:, 0:2 * n_pairs:2]]  # the context's keys, [n, pairs]
    query_slots = slots[inputs[mask].reshape(len(inputs), n_pairs)]
    shared = (query_slots[:, :, None] == key_slots[:, None, :]).sum(axis=-1)  # 1 = only its own key
    return float((shared == 1).mean())


__all__ = ["mqar_mamba2_config", "key_slot", "hand_set_mamba2_mixer", "construction_predictions",
           "construction_accuracy", "collision_free_fraction", "one_hot_tokens"]

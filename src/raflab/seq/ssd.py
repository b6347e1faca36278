"""The Mamba-2 mixer and its scan, computed by state space duality (SSD; Dao & Gu 2024, "Transformers
are SSMs").

The recurrence (one scalar decay per head h, state [headdim P, state N] per head):

    h_t = exp(dt_t A_h) h_{t-1} + dt_t x_t B_t^T,     y_t = h_t C_t + D_h x_t,     h_{-1} = 0,

with x_t in R^P the head's input, B_t, C_t in R^N shared by the heads (one group) and A_h < 0.
Because the decay is a scalar per head, the map x -> y is a masked "attention" y = (L o C B^T) (dt x)
with L_ts = exp(sum_{k=s+1..t} dt_k A) for s <= t (0 above the diagonal). :func:`ssd_scan` splits
time into chunks of Q steps and uses that quadratic form inside each chunk, the recurrence between
chunks:

1. inside a chunk: the masked matmul (C B^T o L) (dt x) (the diagonal blocks);
2. each chunk's own end state: sum_s L_{Q-1,s} dt_s x_s B_s^T (L's last row);
3. the state at each chunk's end, a short recurrence over the chunks, written as the same masked
   product with the chunks' total decays (a segment sum over chunks);
4. what the state entering a chunk adds to its outputs: exp(sum_{k<=t} dt_k A) h_in C_t.

Every decay is the exponential of a *segment sum* (:func:`segment_sum`) built by a masked cumulative
sum, never a difference of two cumulative sums: with A < 0 each exponent is <= 0, nothing overflows,
and a strong decay underflows to 0, its value. :func:`ssd_scan_reference` is the loop over time that
the scan is tested against.

Example
-------
>>> import torch
>>> g = torch.Generator().manual_seed(0)
>>> x, dt = torch.randn(2, 10, 3, 4, generator=g), torch.rand(2, 10, 3, generator=g)
>>> B, C = torch.randn(2, 10, 5, generator=g), torch.randn(2, 10, 5, generator=g)
>>> A = -torch.tensor([1.0, 2.0, 3.0])
>>> bool((ssd_scan(x, dt, A, B, C, chunk=4) - ssd_scan_reference(x, dt, A, B, C)).abs().max() < 1e-5)
True
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

#: the default chunk length Q of :func:`ssd_scan` on a GPU (any value gives the same result)
CHUNK = 64
#: the default on a CPU: the quadratic blocks cost O(length Q), the chunk states O(length P N / Q);
#: without a GPU's parallel width the short chunk wins (batch 32, length 256, 4 heads of 16, state 16,
#: 2 threads: forward + backward about 3x faster at Q = 16 than at Q = 64, benchmarks/bench_ssd.py)
CPU_CHUNK = 16


def ssd_scan_reference(x, dt, A, B, C, D=None):
    """The Mamba-2 recurrence, one time step at a time (for tests and the benchmark).

    Parameters
    ----------
    x : Tensor [batch, length, heads, P]
        Input per head.
    dt : Tensor [batch, length, heads]
        Step (>= 0) per head.
    A : Tensor [heads]
        Scalar state matrix per head (negative for a decaying state).
    B, C : Tensor [batch, length, N]
        Input and output projections, shared by the heads.
    D : Tensor [heads] or None
        Skip connection.

    Returns
    -------
    Tensor [batch, length, heads, P]
    """
    decay = torch.exp(dt * A)  # [b, l, h]
    h = x.new_zeros(x.shape[0], x.shape[2], x.shape[3], B.shape[-1])  # [b, heads, P, N]
    ys = []
    for x_t, dt_t, decay_t, B_t, C_t in zip(x.unbind(1), dt.unbind(1), decay.unbind(1), B.unbind(1), C.unbind(1)):
        drive = (dt_t.unsqueeze(-1) * x_t).unsqueeze(-1) * B_t[:, None, None, :]
        h = decay_t[..., None, None] * h + drive
        ys.append(torch.einsum("bhpn,bn->bhp", h, C_t))
    y = torch.stack(ys, dim=1)
    return y if D is None else y + x * D[:, None]


def segment_sum(a):
    """S [..., T, T] from a [..., T]: S_ts = a_{s+1} + ... + a_t for s <= t (0 on the diagonal), -inf above.

    Built as a cumulative sum down each column of a masked copy of ``a`` (entry (t, s) holds a_t
    where t > s), so every entry is a sum of the terms it names: exp(S) is the decay from step s to
    step t without forming a difference of two long cumulative sums (which would lose the small
    sums to cancellation and, with a positive a, could overflow).
    """
    sums, above = _masked_cumsum(a)
    return sums.masked_fill(above, -math.inf)


def _masked_cumsum(a):
    """The segment sums of :func:`segment_sum` with 0 above the diagonal, and that upper triangle."""
    steps = a.shape[-1]
    below = torch.ones(steps, steps, dtype=torch.bool, device=a.device).tril(-1)
    terms = a.unsqueeze(-1).expand(*a.shape, steps).masked_fill(~below, 0.0)  # (t, s) -> a_t if t > s
    return terms.cumsum(dim=-2), torch.ones_like(below).triu(1)


def segment_decay(a):
    """exp(:func:`segment_sum` (a)): the decay from step s to step t, 0 above the diagonal.

    The exponential is taken of the sums with 0 above the diagonal, then those entries are set to 0
    (the same values as exp(-inf), and gradient 0 there; exp of -inf is several times slower on CPU).
    """
    sums, above = _masked_cumsum(a)
    return torch.exp(sums).masked_fill(above, 0.0)


def ssd_scan(x, dt, A, B, C, D=None, chunk: int | None = None, return_state: bool = False):
    """The recurrence of :func:`ssd_scan_reference` by the chunked SSD algorithm (no loop over time).

    Same arguments and result; ``chunk`` is the chunk length Q (default ``CPU_CHUNK`` on a CPU,
    ``CHUNK`` elsewhere; a length that is not a multiple of Q
    is padded at the end with steps that change nothing: dt = 0, x = 0). With ``return_state`` also
    the final state [batch, heads, P, N]. Work: O(length Q) for the quadratic blocks plus
    O(length / Q) chunk states; memory about [batch, heads, length, Q] plus the chunk states
    [batch, length / Q, heads, P, N].
    """
    if chunk is None:
        chunk = CPU_CHUNK if x.device.type == "cpu" else CHUNK
    if not isinstance(chunk, int) or isinstance(chunk, bool) or chunk < 1:
        raise ValueError(f"chunk must be an integer >= 1, got {chunk!r}")
    batch, length, heads, P = x.shape
    chunk = min(chunk, length)
    pad = -length % chunk
    if pad:
        x, B, C = (F.pad(t, (0, 0) * (t.dim() - 2) + (0, pad)) for t in (x, B, C))
        dt = F.pad(dt, (0, 0, 0, pad))
    n_chunks = (length + pad) // chunk
    # chunked views, heads first so that every product below is a plain batched matmul over
    # (batch, head, chunk): x dt [b, h, c, q, p]; log decays a [b, h, c, q]; B, C [b, 1, c, q, n]
    xdt = (x * dt.unsqueeze(-1)).reshape(batch, n_chunks, chunk, heads, P).permute(0, 3, 1, 2, 4)
    a = (dt * A).reshape(batch, n_chunks, chunk, heads).permute(0, 3, 1, 2)
    B = B.reshape(batch, 1, n_chunks, chunk, -1)
    C = C.reshape(batch, 1, n_chunks, chunk, -1)

    # 1. inside each chunk: y_t = sum_{s <= t} L_ts (C_t . B_s) dt_s x_s
    decay = segment_decay(a)  # L [b, h, c, t, s]
    scores = C @ B.transpose(-1, -2)  # [b, 1, c, t, s]
    y = (decay * scores) @ xdt  # [b, h, c, t, p]

    # 2. each chunk's end state from its own inputs: sum_s L_{q-1,s} dt_s x_s B_s^T  [b, h, c, p, n]
    chunk_states = (xdt * decay[..., -1, :].unsqueeze(-1)).transpose(-1, -2) @ B

    # 3. the state at the end of each chunk: chunk z adds its own state, decayed over chunks z+1..c
    total = a.sum(dim=-1)  # [b, h, c]: log decay across each chunk
    carry = segment_decay(total)  # [b, h, c, z]
    end_states = (carry @ chunk_states.flatten(-2)).view(batch, heads, n_chunks, P, -1)
    entering = torch.cat([torch.zeros_like(end_states[:, :, :1]), end_states[:, :, :-1]], dim=2)

    # 4. what the entering state adds: exp(a_0 + ... + a_t) (h_in C_t)
    from_start = torch.exp(a.cumsum(dim=-1)).unsqueeze(-1)  # [b, h, c, t, 1]
    y = y + from_start * (C @ entering.transpose(-1, -2))
    y = y.permute(0, 2, 3, 1, 4)  # [b, c, t, h, p]

    y = y.reshape(batch, n_chunks * chunk, heads, P)[:, :length]
    if D is not None:
        y = y + x[:, :length] * D[:, None]
    return (y, end_states[:, :, -1]) if return_state else y


# --------------------------------------------------------------------------- the Mamba-2 mixer


def default_headdim(inner: int, largest: int = 16) -> int:
    """The head size P used when none is given: the largest divisor of the inner width up to ``largest``.

    >>> default_headdim(128), default_headdim(28), default_headdim(6)
    (16, 14, 6)
    """
    return max(p for p in range(1, min(largest, inner) + 1) if inner % p == 0)


class Mamba2Mixer(nn.Module):
    """The Mamba-2 block's mixer (Dao & Gu 2024), one group of B and C shared by the heads.

    in_proj -> (z, x, B, C, dt); (x, B, C) -> causal depthwise conv -> SiLU; dt -> softplus(dt +
    dt_bias) per head; the SSD scan with A = -exp(A_log) (a scalar per head) and skip D per head;
    then the gated RMSNorm of Mamba-2, RMSNorm(y * SiLU(z)) with a learned scale, and out_proj.
    Inner width E = expand x n_embd, heads H = E / headdim, state N = d_state.

    Initialization as Mamba-2: A ~ U[1, 16] per head, softplus(dt_bias) ~ logU[1e-3, 1e-1] (floor
    1e-4), D = 1, the convolution's PyTorch default (with bias), RMSNorm scale 1. The scan runs in
    float32 at least (a half-precision caller gets its dtype back).
    """

    def __init__(self, config):  # a raflab.seq.nets.NetConfig (nets imports this module)
        super().__init__()
        inner, n_state = config.d_inner, config.d_state
        self.headdim, self.n_state = config.head_dim, n_state
        self.n_heads = inner // config.head_dim
        self.inner = inner
        self.in_proj = nn.Linear(config.n_embd, 2 * inner + 2 * n_state + self.n_heads, bias=config.bias)
        conv_width = inner + 2 * n_state
        self.conv1d = nn.Conv1d(conv_width, conv_width, config.d_conv, groups=conv_width, padding=config.d_conv - 1)
        self.dt_bias = nn.Parameter(torch.empty(self.n_heads))
        self.A_log = nn.Parameter(torch.empty(self.n_heads))
        self.D = nn.Parameter(torch.empty(self.n_heads))
        self.norm = nn.RMSNorm(inner, eps=1e-5)
        self.out_proj = nn.Linear(inner, config.n_embd, bias=config.bias)

    @torch.no_grad()
    def reset_ssm_parameters(self):
        heads = self.n_heads
        self.A_log.copy_(torch.log(torch.empty(heads).uniform_(1.0, 16.0)))
        dt = torch.exp(torch.empty(heads).uniform_(math.log(1e-3), math.log(1e-1))).clamp(min=1e-4)
        self.dt_bias.copy_(dt + torch.log(-torch.expm1(-dt)))  # inverse of softplus
        self.D.fill_(1.0)
        self.conv1d.reset_parameters()
        self.norm.reset_parameters()

    def forward(self, u):
        batch, length, _ = u.shape
        z, xBC, dt = self.in_proj(u).split([self.inner, self.inner + 2 * self.n_state, self.n_heads], dim=-1)
        # left padding d_conv - 1 and cropping to length: position t sees t - d_conv + 1 .. t only
        xBC = F.silu(self.conv1d(xBC.transpose(1, 2))[..., :length].transpose(1, 2))
        # the scan runs in float32 at least: products of many decays lose a half-precision state
        scan_dtype = torch.promote_types(u.dtype, torch.float32)
        x, B, C = xBC.to(scan_dtype).split([self.inner, self.n_state, self.n_state], dim=-1)
        dt = F.softplus(dt.to(scan_dtype) + self.dt_bias.to(scan_dtype))
        A = -torch.exp(self.A_log.to(scan_dtype))
        y = ssd_scan(x.reshape(batch, length, self.n_heads, self.headdim), dt, A, B, C, self.D.to(scan_dtype))
        y = y.reshape(batch, length, self.inner) * F.silu(z.to(scan_dtype))
        y = F.rms_norm(y, (self.inner,), self.norm.weight.to(scan_dtype), self.norm.eps)
        return self.out_proj(y.to(u.dtype))


def mamba2_parameter_count(config) -> int:
    """Parameters of one :class:`Mamba2Mixer` of a ``NetConfig``: width C, inner E, heads H, state N,
    bias b (1 or 0):
    in_proj (C + b)(2 E + 2 N + H), conv (E + 2 N)(d_conv + 1), dt_bias, A_log and D 3 H, RMSNorm E,
    out_proj E C + b C."""
    C, E, N, b = config.n_embd, config.d_inner, config.d_state, int(config.bias)
    H = E // config.head_dim
    return (C + b) * (2 * E + 2 * N + H) + (E + 2 * N) * (config.d_conv + 1) + 3 * H + E + E * C + b * C


__all__ = ["CHUNK", "CPU_CHUNK", "ssd_scan", "ssd_scan_reference", "segment_sum", "segment_decay", "default_headdim", "Mamba2Mixer",
           "mamba2_parameter_count"]

"""Small sequence models: a GPT and two state-space mixers in the same pre-LN block.

One model, :class:`SequenceModel`, configured by :class:`NetConfig`. The token-mixing layer of each
block is chosen by ``mixer``:

- ``"attention"``: causal multi-head softmax attention, as in nanoGPT (pre-LN, tied embeddings).
- ``"s4d"``: a diagonal state-space model with a fixed (learned, input-independent) step per channel,
  S4D-Lin initialization (Gu et al. 2022): complex diagonal A_n = -1/2 + i pi n, ``d_state / 2``
  complex modes per channel whose conjugates make a real state of size ``d_state``. The layer is a
  causal convolution with the kernel K_l = 2 Re sum_n C_n (exp(dt A_n) - 1) / A_n exp(dt A_n l)
  (zero-order hold), computed by FFT.
- ``"mamba"``: the selective SSM (S6) inside a Mamba block (Gu & Dao 2023): input-dependent step,
  B and C; short causal depthwise convolution; SiLU gate. Its recurrence runs through
  :func:`raflab.seq.scan.selective_scan` (a chunked scan in pure PyTorch with a hand-written
  backward pass).
- ``"mamba2"``: the Mamba-2 mixer (Dao & Gu 2024), a selective SSM with one scalar decay per head of
  ``headdim`` channels, computed by the chunked state-space-duality algorithm
  (:class:`raflab.seq.ssd.Mamba2Mixer`, :func:`raflab.seq.ssd.ssd_scan`).

Each block is ``x + mixer(ln_1(x))`` then ``x + mlp(ln_2(x))`` (the MLP is left out when
``mlp_ratio = 0``). The output head shares its weight with the token embedding.

Example
-------
>>> import torch
>>> model = make_model(NetConfig(vocab_size=17, block_size=9, n_embd=14, mlp_ratio=1.0), seed=0)
>>> count_parameters(model) == parameter_count(model.config)
True
>>> logits, loss = model(torch.zeros(2, 9, dtype=torch.long), torch.ones(2, 9, dtype=torch.long))
>>> tuple(logits.shape)
(2, 9, 17)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from raflab.core.checks import one_of
from raflab.core.device import resolve_device
from raflab.core.seeding import stream_seeds
from raflab.seq.scan import linear_scan, selective_scan, selective_scan_reference  # noqa: F401 (re-exported)
from raflab.seq.ssd import Mamba2Mixer, default_headdim, mamba2_parameter_count

IGNORE_INDEX = -100
MIXERS = ("attention", "s4d", "mamba", "mamba2")
ACTIVATIONS = ("relu", "gelu", "rrelu", "softmax")
#: the torch streams of one training run, each seeded by its own integer derived from the run's seed
#: (:func:`raflab.core.seeding.stream_seeds`): the initial weights, the order of the batches and the
#: noise of training mode (dropout, RReLU's slopes)
RUN_STREAMS = ("weights", "batches", "noise")


def run_stream_seed(seed: int, stream: str) -> int:
    """The seed of ``stream`` (one of :data:`RUN_STREAMS`) in the run seeded ``seed``: the run's one
    integer never seeds two streams, so the weights and the batch order are independent draws.

    >>> run_stream_seed(0, "weights") != run_stream_seed(0, "batches")
    True
    """
    return stream_seeds(seed, RUN_STREAMS)[one_of(stream, RUN_STREAMS, "stream")]


@dataclass
class NetConfig:
    """Everything that defines a network; the defaults are a 1-layer, 32-wide GPT.

    Parameters
    ----------
    vocab_size, block_size : int
        Number of tokens; longest sequence (the number of learned positions).
    mixer : str
        ``"attention"``, ``"s4d"``, ``"mamba"`` or ``"mamba2"``.
    n_layer, n_head, n_embd : int
        Blocks, attention heads (attention only), width.
    mlp_ratio : float
        MLP hidden width = ``round(mlp_ratio * n_embd)``; 0 leaves the MLP (and its LayerNorm) out.
    activation : str
        MLP activation: ``"relu"``, ``"gelu"``, ``"rrelu"`` or ``"softmax"`` (a softmax over the
        hidden units).
    bias : bool
        Biases in the Linear layers and LayerNorms.
    dropout : float
        Dropout on attention weights and on each residual branch.
    d_state : int
        SSM state size per channel (S4D: ``d_state / 2`` complex conjugate modes, so it must be even).
    d_conv, expand : int
        Mamba / Mamba-2: width of the causal depthwise convolution; inner width = ``expand * n_embd``
        (Mamba's step has a low-rank projection of rank ``ceil(n_embd / 16)``, as in Mamba).
    headdim : int or None
        Mamba-2: channels per head (heads = inner width / headdim, each with one decay and a state
        of headdim x d_state); None means the largest divisor of the inner width up to 16.
    positional : bool or None
        Learned absolute position embeddings; None means on for attention, off for the SSMs.
    """

    vocab_size: int
    block_size: int
    mixer: str = "attention"
    n_layer: int = 1
    n_head: int = 1
    n_embd: int = 32
    mlp_ratio: float = 4.0
    activation: str = "gelu"
    bias: bool = False
    dropout: float = 0.0
    d_state: int = 16
    d_conv: int = 4
    expand: int = 2
    positional: bool | None = None
    headdim: int | None = None

    def __post_init__(self):
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd", "d_state", "d_conv", "expand"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        one_of(self.mixer, MIXERS, "mixer")
        one_of(self.activation, ACTIVATIONS, "activation")
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd {self.n_embd} is not divisible by n_head {self.n_head}")
        if not self.mlp_ratio >= 0:
            raise ValueError(f"mlp_ratio must be >= 0, got {self.mlp_ratio!r}")
        if self.mlp_ratio > 0 and self.mlp_hidden < 1:
            raise ValueError(f"mlp_ratio {self.mlp_ratio} gives an MLP of width 0 at n_embd {self.n_embd}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if self.mixer == "s4d" and self.d_state % 2:
            raise ValueError(f"d_state {self.d_state} is odd; s4d needs an even d_state (complex conjugate pairs)")
        if self.headdim is not None and (not isinstance(self.headdim, int) or isinstance(self.headdim, bool)
                                         or self.headdim < 1):
            raise ValueError(f"headdim must be an integer >= 1 or None, got {self.headdim!r}")
        if self.mixer == "mamba2":
            if self.headdim is not None and self.d_inner % self.headdim:
                raise ValueError(f"headdim {self.headdim} does not divide the inner width {self.d_inner} "
                                 f"(expand {self.expand} x n_embd {self.n_embd})")
        if self.positional is None:
            self.positional = self.mixer == "attention"

    @property
    def mlp_hidden(self) -> int:
        return round(self.mlp_ratio * self.n_embd)

    @property
    def head_dim(self) -> int:
        """Mamba-2's channels per head: ``headdim``, or the default for this width when it is None
        (resolved here, not stored, so a copy at another width gets its own default)."""
        return self.headdim if self.headdim is not None else default_headdim(self.d_inner)

    @property
    def d_inner(self) -> int:
        return self.expand * self.n_embd

    @property
    def dt_rank(self) -> int:
        return math.ceil(self.n_embd / 16)


# --------------------------------------------------------------------------- token mixers


class CausalSelfAttention(nn.Module):
    """Multi-head softmax attention over the current and earlier positions."""

    def __init__(self, config: NetConfig):
        super().__init__()
        self.n_head = config.n_head
        self.dropout = config.dropout
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)

    def forward(self, x):
        batch, length, width = x.shape
        q, k, v = self.c_attn(x).split(width, dim=2)
        q, k, v = (t.view(batch, length, self.n_head, width // self.n_head).transpose(1, 2) for t in (q, k, v))
        dropout = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout, is_causal=True)
        return self.c_proj(y.transpose(1, 2).reshape(batch, length, width))


class S4DMixer(nn.Module):
    """Diagonal SSM with a learned step per channel (S4D-Lin), as an FFT convolution.

    Per channel: log step ~ U[log 1e-3, log 1e-1], A_n = -exp(log_A_real) + i A_imag with
    A_n = -1/2 + i pi n at init, C_n complex standard normal, B_n = 1 (folded into C), skip D.
    Output: ``out_proj(gelu(y))``.
    """

    def __init__(self, config: NetConfig):
        super().__init__()
        width, modes = config.n_embd, config.d_state // 2
        self.log_dt = nn.Parameter(torch.empty(width))
        self.log_A_real = nn.Parameter(torch.empty(width, modes))
        self.A_imag = nn.Parameter(torch.empty(width, modes))
        self.C = nn.Parameter(torch.empty(width, modes, 2))  # real and imaginary parts
        self.D = nn.Parameter(torch.empty(width))
        self.out_proj = nn.Linear(width, width, bias=config.bias)

    @torch.no_grad()
    def reset_ssm_parameters(self):
        width, modes = self.log_A_real.shape
        self.log_dt.uniform_(math.log(1e-3), math.log(1e-1))
        self.log_A_real.fill_(math.log(0.5))
        self.A_imag.copy_(math.pi * torch.arange(modes).expand(width, modes))
        self.C.normal_(0.0, 0.5**0.5)  # complex normal of unit variance
        self.D.normal_()

    def kernel(self, length: int):
        """K [width, length]: the response of each channel to a unit impulse at time 0."""
        dt = torch.exp(self.log_dt)
        A = torch.complex(-torch.exp(self.log_A_real), self.A_imag)
        dtA = A * dt.unsqueeze(-1)
        C = torch.view_as_complex(self.C) * (torch.exp(dtA) - 1.0) / A
        powers = torch.exp(dtA.unsqueeze(-1) * torch.arange(length, device=dt.device))
        return 2.0 * torch.einsum("hn,hnl->hl", C, powers).real

    def forward(self, x):
        length = x.shape[1]
        # the FFT runs in float32 at least (half-precision FFTs are inexact or unsupported)
        u = x.transpose(1, 2).to(torch.promote_types(x.dtype, torch.float32))  # [b, width, l]
        # zero padding to 2 length makes the FFT product a linear (not circular), causal convolution
        k_f = torch.fft.rfft(self.kernel(length), n=2 * length)
        y = torch.fft.irfft(torch.fft.rfft(u, n=2 * length) * k_f, n=2 * length)[..., :length]
        y = y + u * self.D.unsqueeze(-1)
        return self.out_proj(F.gelu(y.transpose(1, 2)).to(x.dtype))


class MambaMixer(nn.Module):
    """The Mamba block's mixer: in_proj -> (x, z); x -> causal conv -> SiLU -> S6; y * SiLU(z) -> out_proj.

    The convolution always has a bias (as in Mamba); dt_proj's bias sets the initial step,
    softplus(bias) ~ logU[1e-3, 1e-1]; A = -exp(A_log) with A_log = log(1..N) (S4D-Real).
    Initialization as in the Mamba reference code (``mamba_ssm``'s ``_init_weights``, which Zoology's
    MQAR runs use too), not GPT-2's N(0, 0.02): in_proj and x_proj keep PyTorch's default
    (Kaiming-uniform) weights, out_proj the same divided by sqrt(n_layer), linear biases zero. With
    N(0, 0.02) the input-dependent B and C start near 0 and MQAR training stays on its plateau
    (docs/sequence.md, MQAR).
    """

    def __init__(self, config: NetConfig):
        super().__init__()
        inner, n_state, rank = config.d_inner, config.d_state, config.dt_rank
        self.n_state, self.dt_rank, self.n_layer = n_state, rank, config.n_layer
        self.in_proj = nn.Linear(config.n_embd, 2 * inner, bias=config.bias)
        self.conv1d = nn.Conv1d(inner, inner, config.d_conv, groups=inner, padding=config.d_conv - 1)
        self.x_proj = nn.Linear(inner, rank + 2 * n_state, bias=False)
        self.dt_proj = nn.Linear(rank, inner, bias=True)
        self.A_log = nn.Parameter(torch.empty(inner, n_state))
        self.D = nn.Parameter(torch.empty(inner))
        self.out_proj = nn.Linear(inner, config.n_embd, bias=config.bias)

    @torch.no_grad()
    def reset_ssm_parameters(self):
        inner, n_state = self.A_log.shape
        self.A_log.copy_(torch.log(torch.arange(1, n_state + 1, dtype=torch.float32)).expand(inner, n_state))
        self.D.fill_(1.0)
        self.dt_proj.weight.uniform_(-self.dt_rank**-0.5, self.dt_rank**-0.5)
        dt = torch.exp(torch.empty(inner).uniform_(math.log(1e-3), math.log(1e-1)))
        self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))  # inverse of softplus
        self.conv1d.reset_parameters()
        for linear in (self.in_proj, self.x_proj, self.out_proj):
            linear.reset_parameters()  # PyTorch's default, as mamba_ssm leaves its Linear weights
            if linear.bias is not None:
                linear.bias.zero_()
        self.out_proj.weight.div_(math.sqrt(self.n_layer))  # mamba_ssm: rescale_prenorm_residual

    def forward(self, x):
        length = x.shape[1]
        x, z = self.in_proj(x).chunk(2, dim=-1)
        # left padding d_conv - 1 and cropping to length: position t sees t - d_conv + 1 .. t only
        x = F.silu(self.conv1d(x.transpose(1, 2))[..., :length].transpose(1, 2))
        dt, B, C = self.x_proj(x).split([self.dt_rank, self.n_state, self.n_state], dim=-1)
        delta = F.softplus(self.dt_proj(dt))
        # the scan runs in float32 at least: products of many decays lose a half-precision state
        scan_dtype = torch.promote_types(x.dtype, torch.float32)
        x, delta, B, C = (t.to(scan_dtype) for t in (x, delta, B, C))
        y = selective_scan(x, delta, -torch.exp(self.A_log.to(scan_dtype)), B, C, self.D.to(scan_dtype))
        return self.out_proj((y * F.silu(z.to(scan_dtype))).to(z.dtype))


MIXER_CLASSES = {"attention": CausalSelfAttention, "s4d": S4DMixer, "mamba": MambaMixer, "mamba2": Mamba2Mixer}


# --------------------------------------------------------------------------- block and model


def _activation(name: str) -> nn.Module:
    return {"relu": nn.ReLU(), "gelu": nn.GELU(), "rrelu": nn.RReLU(), "softmax": nn.Softmax(dim=-1)}[name]


class MLP(nn.Module):
    def __init__(self, config: NetConfig):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, config.mlp_hidden, bias=config.bias)
        self.act = _activation(config.activation)
        self.c_proj = nn.Linear(config.mlp_hidden, config.n_embd, bias=config.bias)

    def forward(self, x):
        return self.c_proj(self.act(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, config: NetConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mixer = MIXER_CLASSES[config.mixer](config)
        self.drop = nn.Dropout(config.dropout)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias) if config.mlp_ratio > 0 else None
        self.mlp = MLP(config) if config.mlp_ratio > 0 else None

    def forward(self, x):
        x = x + self.drop(self.mixer(self.ln_1(x)))
        if self.mlp is not None:
            x = x + self.drop(self.mlp(self.ln_2(x)))
        return x


class SequenceModel(nn.Module):
    """Token embedding (+ learned positions) -> blocks -> final LayerNorm -> tied output head."""

    def __init__(self, config: NetConfig):
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.block_size, config.n_embd) if config.positional else None
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight
        self.apply(self._init_weights)
        for name, p in self.named_parameters():  # GPT-2: residual projections scaled by depth
            if name.endswith(("c_proj.weight", "out_proj.weight")):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * config.n_layer))
        for module in self.modules():
            if hasattr(module, "reset_ssm_parameters"):
                module.reset_ssm_parameters()

    @staticmethod
    def _init_weights(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, 0.0, 0.02)
            if getattr(module, "bias", None) is not None:
                nn.init.zeros_(module.bias)

    def forward(self, idx, targets=None):
        """Logits [batch, length, vocab] and the mean cross-entropy over targets != IGNORE_INDEX.

        The loss is None without targets (and NaN if every target is ignored).
        """
        length = idx.shape[1]
        if length > self.config.block_size:
            raise ValueError(f"sequence length {length} exceeds block_size {self.config.block_size}")
        x = self.wte(idx)
        if self.wpe is not None:
            x = x + self.wpe(torch.arange(length, device=idx.device))
        x = self.drop(x)
        for block in self.blocks:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=IGNORE_INDEX)
        return logits, loss

    @torch.no_grad()
    def generate(self, idx, max_new_tokens: int, stop_token: int | None = None):
        """Greedy (argmax) continuation of idx [batch, length]; returns [batch, length + new].

        Only the last ``block_size`` tokens condition each step. With ``stop_token``, generation
        ends once every row has produced it, and rows that stopped earlier are padded with it.
        """
        done = torch.zeros(idx.shape[0], dtype=torch.bool, device=idx.device)
        for _ in range(max_new_tokens):
            logits, _ = self(idx[:, -self.config.block_size:])
            nxt = logits[:, -1].argmax(dim=-1)
            if stop_token is not None:
                nxt = torch.where(done, torch.full_like(nxt, stop_token), nxt)
                done |= nxt == stop_token
            idx = torch.cat([idx, nxt.unsqueeze(1)], dim=1)
            if stop_token is not None and bool(done.all()):
                break
        return idx


def make_model(config: NetConfig, seed: int = 0, device: str = "cpu") -> SequenceModel:
    """A freshly initialized model; the same seed gives the same weights (the global RNG is untouched).

    ``seed`` is the run's seed: the weights come from its ``"weights"`` stream (:func:`run_stream_seed`).
    """
    device = resolve_device(device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(run_stream_seed(seed, "weights"))
        model = SequenceModel(config)
    return model.to(device)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars, each shared tensor (the tied embedding) counted once."""
    return sum(p.numel() for p in model.parameters())


def parameter_count(config: NetConfig) -> int:
    """The closed formula for ``count_parameters(make_model(config))``.

    Width C, vocab V, MLP width H, bias b (1 or 0): embeddings V C (+ block_size C with positions),
    final LayerNorm C (1 + b), and per block LayerNorm C (1 + b) plus the mixer:
    attention 4 C^2 + 4 b C; s4d C^2 + b C + C (2 N + 2);
    mamba (inner E, rank R) 2 C E + 2 b E + E (d_conv + 1) + E (R + 2 N) + R E + E + E N + E + E C + b C;
    mamba2 (heads H) (C + b)(2 E + 2 N + H) + (E + 2 N)(d_conv + 1) + 3 H + E + E C + b C
    (:func:`raflab.seq.ssd.mamba2_parameter_count`);
    plus, when H > 0, a second LayerNorm C (1 + b) and the MLP 2 C H + b (H + C).
    """
    C, V, H, b = config.n_embd, config.vocab_size, config.mlp_hidden, int(config.bias)
    N = config.d_state
    if config.mixer == "attention":
        mixer = 4 * C * C + 4 * b * C
    elif config.mixer == "s4d":
        mixer = C * C + b * C + C * (2 * N + 2)
    elif config.mixer == "mamba2":
        mixer = mamba2_parameter_count(config)
    else:
        E, R = config.d_inner, config.dt_rank
        mixer = (2 * C * E + 2 * b * E) + E * (config.d_conv + 1) + E * (R + 2 * N) + (R * E + E) \
            + E * N + E + (E * C + b * C)
    layer_norm = C * (1 + b)
    block = layer_norm + mixer
    if config.mlp_ratio > 0:
        block += layer_norm + 2 * C * H + b * (H + C)
    positions = config.block_size * C if config.positional else 0
    return V * C + positions + config.n_layer * block + layer_norm



"""The SSD scan against its loop over time, and the Mamba-2 mixer built on it (raflab.seq.ssd)."""

import copy
import json
import math

import pytest
import torch
import torch.nn.functional as F
from typer.testing import CliRunner

from raflab.cli import app
from raflab.seq.nets import IGNORE_INDEX, NetConfig, count_parameters, make_model, parameter_count
from raflab.seq.ssd import Mamba2Mixer, segment_sum, ssd_scan, ssd_scan_reference

torch.set_num_threads(1)


def _inputs(batch, length, heads, headdim, n_state, seed=0, dtype=torch.float64, step_shift=-1.0, a_scale=4.0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, length, heads, headdim, generator=g, dtype=dtype)
    dt = F.softplus(torch.randn(batch, length, heads, generator=g, dtype=dtype) + step_shift)
    A = -(0.1 + a_scale * torch.rand(heads, generator=g, dtype=dtype))
    B = torch.randn(batch, length, n_state, generator=g, dtype=dtype)
    C = torch.randn(batch, length, n_state, generator=g, dtype=dtype)
    D = torch.randn(heads, generator=g, dtype=dtype)
    return [t.requires_grad_() for t in (x, dt, A, B, C, D)]


def _values_and_gradients(scan, inputs, **kwargs):
    y = scan(*inputs, **kwargs)
    weights = torch.cos(torch.arange(y.numel(), dtype=y.dtype)).reshape(y.shape)  # a fixed, generic cotangent
    return [y, *torch.autograd.grad((y * weights).sum(), inputs)]


# --------------------------------------------------------------------------- the scan


def test_segment_sum_holds_the_sums_between_steps():
    a = torch.tensor([1.0, 2.0, 4.0, 8.0], dtype=torch.float64)
    S = segment_sum(a)
    assert S[3, 0] == 14.0 and S[3, 2] == 8.0 and S[2, 1] == 4.0  # a_{s+1} + ... + a_t
    assert (S.diagonal() == 0).all() and S[0, 1] == -math.inf and S[1, 3] == -math.inf


@pytest.mark.parametrize("length, chunk", [(1, 64), (1, 1), (5, 2), (16, 4), (37, 8), (64, 64), (50, 16), (9, 100)])
def test_ssd_scan_equals_the_loop_in_float64_values_and_gradients(length, chunk):
    # lengths that are not multiples of the chunk, length 1, one chunk longer than the sequence
    inputs = _inputs(2, length, 3, 4, 5, seed=length)
    got = _values_and_gradients(ssd_scan, inputs, chunk=chunk)
    expected = _values_and_gradients(ssd_scan_reference, inputs)
    for name, a, b in zip(("y", "x", "dt", "A", "B", "C", "D"), got, expected):
        assert a.shape == b.shape
        assert (a - b).abs().max() < 1e-10, name
    assert expected[0].abs().max() > 0.1  # not a trivially small output


def test_ssd_scan_without_skip_and_its_final_state():
    x, dt, A, B, C, _ = _inputs(2, 23, 2, 3, 4, seed=7)
    y, state = ssd_scan(x, dt, A, B, C, chunk=5, return_state=True)
    h = torch.zeros(2, 2, 3, 4, dtype=torch.float64)  # the recurrence's last state, written out
    for t in range(23):
        h = torch.exp(dt[:, t] * A)[..., None, None] * h + (dt[:, t, :, None] * x[:, t])[..., None] * B[:, t, None, None]
    assert (state - h).abs().max() < 1e-12
    assert (y - ssd_scan_reference(x, dt, A, B, C)).abs().max() < 1e-12
    assert (y[:, -1] - torch.einsum("bhpn,bn->bhp", h, C[:, -1])).abs().max() < 1e-12


def test_ssd_scan_under_strong_decay_stays_finite_and_exact():
    # dt A down to -1e6 per step: every decay past one step vanishes (or underflows to 0), nothing overflows,
    # so y_t = dt_t (C_t . B_t) x_t + D x_t, the state forgetting everything before step t
    for dtype, tol in ((torch.float64, 1e-10), (torch.float32, 1e-4)):
        x, dt, _, B, C, D = _inputs(2, 40, 3, 4, 5, dtype=dtype, step_shift=4.0)  # dt >= about 1
        A = torch.tensor([-1e3, -1e4, -1e5], dtype=dtype, requires_grad=True)
        y = ssd_scan(x, dt, A, B, C, D, chunk=16)
        grads = torch.autograd.grad(y.square().sum(), [x, dt, A, B, C, D])
        assert torch.isfinite(y).all() and all(torch.isfinite(g).all() for g in grads)
        assert dt.min() > 0.1  # so exp(dt A) <= exp(-100) per step: 0 at the tolerance below
        local = (dt * (C * B).sum(-1, keepdim=True)).unsqueeze(-1) * x + x * D[:, None]
        assert (y - local).abs().max() < tol * (1 + local.abs().max())


def test_ssd_scan_float32_within_1e4_of_the_float64_loop_at_length_1024():
    inputs = [t.detach() for t in _inputs(2, 1024, 4, 8, 16, seed=3)]
    expected = ssd_scan_reference(*inputs)
    got = ssd_scan(*(t.float() for t in inputs))
    assert (got.double() - expected).abs().max() < 1e-4 * expected.abs().max()


def test_bad_chunk_is_one_clear_error():
    x, dt, A, B, C, D = (t.detach() for t in _inputs(1, 4, 1, 2, 2))
    with pytest.raises(ValueError, match="chunk must be an integer >= 1, got 0"):
        ssd_scan(x, dt, A, B, C, D, chunk=0)


# --------------------------------------------------------------------------- the mixer and the model


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("mlp_ratio, headdim", [(0.0, None), (1.5, 5), (1.5, 60)])
def test_mamba2_parameter_count_equals_the_built_model(bias, mlp_ratio, headdim):
    config = NetConfig(vocab_size=11, block_size=7, mixer="mamba2", n_layer=2, n_embd=20, mlp_ratio=mlp_ratio,
                       bias=bias, d_state=6, d_conv=3, expand=3, headdim=headdim)
    assert count_parameters(make_model(config)) == parameter_count(config)


def test_mamba2_heads_follow_headdim():
    config = NetConfig(vocab_size=5, block_size=4, mixer="mamba2", n_embd=32)  # inner 64
    assert config.head_dim == 16
    mixer = Mamba2Mixer(NetConfig(vocab_size=5, block_size=4, mixer="mamba2", n_embd=32, headdim=8))
    assert mixer.n_heads == 8 and mixer.A_log.shape == (8,) and mixer.in_proj.out_features == 2 * 64 + 2 * 16 + 8
    assert NetConfig(vocab_size=5, block_size=4, mixer="mamba2", n_embd=14).head_dim == 14  # inner 28


def test_mamba2_initialization_is_mamba2s():
    model = make_model(NetConfig(vocab_size=5, block_size=4, mixer="mamba2", n_embd=64, n_layer=4), seed=2)
    A = torch.cat([-torch.exp(b.mixer.A_log) for b in model.blocks])
    dt = torch.cat([F.softplus(b.mixer.dt_bias) for b in model.blocks])
    assert A.min() >= -16 and A.max() <= -1 and A.max() - A.min() > 5  # U[1, 16] over 32 heads
    assert dt.min() >= 1e-3 * (1 - 1e-5) and dt.max() <= 1e-1 * (1 + 1e-5)
    assert all((b.mixer.D == 1).all() for b in model.blocks)


@pytest.mark.parametrize("kwargs, message", [
    (dict(mixer="mamba2", n_embd=8, headdim=3), "headdim 3 does not divide the inner width 16"),
    (dict(mixer="mamba2", headdim=0), "headdim must be an integer >= 1 or None, got 0"),
])
def test_bad_mamba2_config_is_one_clear_line(kwargs, message):
    with pytest.raises(ValueError, match=message):
        NetConfig(vocab_size=5, block_size=4, **kwargs)


def test_mamba2_is_causal():
    config = NetConfig(vocab_size=13, block_size=40, mixer="mamba2", n_layer=2, n_embd=16, headdim=8)
    model = make_model(config, seed=1).eval()
    idx = torch.randint(0, 13, (2, 40), generator=torch.Generator().manual_seed(0))
    changed = idx.clone()
    changed[:, 29] = (changed[:, 29] + 5) % 13
    with torch.no_grad():
        before, _ = model(idx)
        after, _ = model(changed)
    assert (before[:, :29] - after[:, :29]).abs().max() < 1e-6
    assert (before[:, 29:] - after[:, 29:]).abs().max() > 1e-3


def test_mamba2_mixer_under_bfloat16_scans_in_float32_and_returns_bfloat16():
    config = NetConfig(vocab_size=5, block_size=8, mixer="mamba2", n_embd=16, headdim=8)
    mixer = make_model(config).blocks[0].mixer
    u = torch.randn(2, 8, 16, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        full = mixer(u)
        half = copy.deepcopy(mixer).to(torch.bfloat16)(u.to(torch.bfloat16))
    assert half.dtype == torch.bfloat16 and torch.isfinite(half).all()
    assert (half.float() - full).abs().max() < 0.05 * full.abs().max()


def test_a_tiny_mamba2_model_learns_a_fixed_batch():
    # next token = previous token + 1 (mod V) needs the mixer to pass token t-1 to position t
    config = NetConfig(vocab_size=8, block_size=12, mixer="mamba2", n_embd=16, mlp_ratio=2.0, headdim=8)
    model = make_model(config, seed=0)
    idx = torch.randint(0, 8, (8, 12), generator=torch.Generator().manual_seed(0))
    targets = (torch.roll(idx, 1, dims=1) + 1) % 8
    targets[:, 0] = IGNORE_INDEX
    opt = torch.optim.AdamW(model.parameters(), lr=3e-2)
    first = None
    for _ in range(150):
        _, loss = model(idx, targets)
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert first > 1.5 and loss.item() < 0.1  # from about log 8 = 2.08


def test_cli_trains_mamba2_and_takes_its_state_size():
    result = CliRunner().invoke(app, ["seq", "train", "--task", "mqar", "--model", "mamba2", "--width", "16",
                                      "--d-state", "8", "--layers", "2", "--mlp-ratio", "0", "--vocab", "64", "--seq-len", "32",
                                      "--pairs", "2", "--steps", "3", "--eval-every", "3", "--examples", "64", "--quiet", "--device", "cpu", "--format", "json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)[0]
    config = NetConfig(vocab_size=64, block_size=32, mixer="mamba2", n_layer=2, n_embd=16, mlp_ratio=0.0, d_state=8)
    assert record["model"] == "mamba2" and record["steps"] == 3 and record["params"] == parameter_count(config)


#: a small MQAR that mamba2 solves: 2 pairs in 16 tokens (the TINY size of test_mqar.py), width 64, lr 1e-2.
#: Measured (1 thread, loaded 2-core machine): held-out 0.953 / 0.969 / 0.953 for seeds 0 / 1 / 2, each
#: stopping at step 600 (training accuracy >= 0.99), 40-64 s a run
MAMBA2_TINY_MQAR = dict(layers=2, width=64, mlp_ratio=0.0, pairs=2, seq_len=16, vocab=32, examples=2000, heldout=128,
                        steps=800, lr=1e-2, min_lr=1e-3, warmup=100, batch=64, eval_every=200, target=0.99,
                        device="cpu")


@pytest.mark.slow  # 54 s measured for the 3 seeds (up to ~3 min on 2 loaded cores)
def test_mamba2_recalls_on_a_tiny_mqar_for_every_seed():
    from raflab.seq.studies import run_sequence_experiment, seq_run

    heldout = [run_sequence_experiment(seq_run("mqar", model="mamba2", seed=s, **MAMBA2_TINY_MQAR))["heldout_accuracy"]
               for s in (0, 1, 2)]
    assert min(heldout) >= 0.9, heldout

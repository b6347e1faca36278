import math

import pytest
import torch
import torch.nn.functional as F

from raflab.seq.nets import (
    IGNORE_INDEX,
    NetConfig,
    S4DMixer,
    count_parameters,
    linear_scan,
    make_model,
    parameter_count,
    selective_scan,
    selective_scan_reference,
)

torch.set_num_threads(1)


def _scan_inputs(batch, length, channels, n_state, seed=0, step_shift=-2.0):
    g = torch.Generator().manual_seed(seed)
    u = torch.randn(batch, length, channels, generator=g)
    delta = F.softplus(torch.randn(batch, length, channels, generator=g) + step_shift)
    A = -torch.rand(channels, n_state, generator=g) * n_state
    B = torch.randn(batch, length, n_state, generator=g)
    C = torch.randn(batch, length, n_state, generator=g)
    D = torch.randn(channels, generator=g)
    return u, delta, A, B, C, D


# --------------------------------------------------------------------------- parameter counts


def test_parameter_counts_of_the_arithmetic_gpts_match_nanogpt_bookkeeping():
    # 1 layer, 1 head, MLP ratio 1, no bias, vocab 17, block 9: V C + 9 C + 3 C (LayerNorms) + 6 C^2
    for width, expected in [(14, 1582), (28, 5516), (56, 20440)]:
        config = NetConfig(vocab_size=17, block_size=9, n_embd=width, mlp_ratio=1.0)
        assert expected == 17 * width + 9 * width + 3 * width + 6 * width**2
        assert parameter_count(config) == expected
        assert count_parameters(make_model(config)) == expected


@pytest.mark.parametrize("mixer", ["attention", "s4d", "mamba"])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("mlp_ratio", [0.0, 1.5])
def test_parameter_count_formula_equals_the_built_model(mixer, bias, mlp_ratio):
    config = NetConfig(vocab_size=11, block_size=7, mixer=mixer, n_layer=2, n_head=2, n_embd=20,
                       mlp_ratio=mlp_ratio, bias=bias, d_state=6, d_conv=3, expand=3)
    model = make_model(config)
    assert model.lm_head.weight is model.wte.weight  # tied: counted once
    assert count_parameters(model) == parameter_count(config)


# --------------------------------------------------------------------------- causality


@pytest.mark.parametrize("mixer", ["attention", "s4d", "mamba"])
def test_changing_a_future_token_leaves_earlier_logits_unchanged(mixer):
    config = NetConfig(vocab_size=13, block_size=16, mixer=mixer, n_layer=2, n_head=2, n_embd=16)
    model = make_model(config, seed=1).eval()
    idx = torch.randint(0, 13, (2, 16), generator=torch.Generator().manual_seed(0))
    changed = idx.clone()
    changed[:, 9] = (changed[:, 9] + 5) % 13
    with torch.no_grad():
        before, _ = model(idx)
        after, _ = model(changed)
    assert torch.equal(before[:, :9], after[:, :9]) or (before[:, :9] - after[:, :9]).abs().max() < 1e-6
    assert (before[:, 9:] - after[:, 9:]).abs().max() > 1e-3  # the change is seen from position 9 on


# --------------------------------------------------------------------------- the scan


def test_linear_scan_equals_the_recurrence_at_odd_lengths():
    g = torch.Generator().manual_seed(3)
    for length in (1, 2, 7, 37):
        a, b = torch.rand(2, length, 3, generator=g), torch.randn(2, length, 3, generator=g)
        h, expected = torch.zeros(2, 3), []
        for t in range(length):
            h = a[:, t] * h + b[:, t]
            expected.append(h)
        assert torch.allclose(linear_scan(a, b), torch.stack(expected, 1), atol=1e-6)


def test_selective_scan_equals_the_loop_at_length_1024_values_and_gradients():
    inputs = [t.double().requires_grad_() for t in _scan_inputs(2, 1024, 6, 4)]
    fast = selective_scan(*inputs)
    slow = selective_scan_reference(*inputs)
    weights = torch.randn(fast.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    grads_fast = torch.autograd.grad((fast * weights).sum(), inputs)
    grads_slow = torch.autograd.grad((slow * weights).sum(), inputs)
    assert (fast - slow).abs().max() < 1e-10
    for gf, gs in zip(grads_fast, grads_slow):
        assert (gf - gs).abs().max() < 1e-9 * max(1.0, gs.abs().max())


def test_selective_scan_float32_within_1e5_of_the_loop_at_length_1024():
    inputs = [t.requires_grad_() for t in _scan_inputs(2, 1024, 6, 4, seed=2)]
    fast, slow = selective_scan(*inputs), selective_scan_reference(*inputs)
    scale = slow.abs().max()
    assert (fast - slow).abs().max() < 1e-5 * scale
    grads_fast = torch.autograd.grad(fast.square().sum(), inputs)
    grads_slow = torch.autograd.grad(slow.square().sum(), inputs)
    for gf, gs in zip(grads_fast, grads_slow):
        assert (gf - gs).abs().max() < 1e-5 * gs.abs().max()


def test_selective_scan_with_huge_steps_stays_finite():
    # delta A ~ -10^3 per step: exp(-delta A) would overflow; the scan only multiplies decays
    u, delta, A, B, C, D = _scan_inputs(1, 300, 3, 4, step_shift=40.0)
    fast, slow = selective_scan(u, delta, A, B, C, D), selective_scan_reference(u, delta, A, B, C, D)
    assert torch.isfinite(fast).all()
    assert (fast - slow).abs().max() < 1e-5 * slow.abs().max()


# --------------------------------------------------------------------------- S4D


def test_s4d_convolution_equals_its_complex_diagonal_recurrence():
    config = NetConfig(vocab_size=5, block_size=40, mixer="s4d", n_embd=3, d_state=8)
    mixer = make_model(config, seed=4).blocks[0].mixer
    assert isinstance(mixer, S4DMixer)
    u = torch.randn(2, 40, 3, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    mixer = mixer.double()
    dt = torch.exp(mixer.log_dt)
    A = torch.complex(-torch.exp(mixer.log_A_real), mixer.A_imag)
    decay, gain = torch.exp(A * dt[:, None]), (torch.exp(A * dt[:, None]) - 1) / A
    Cc = torch.view_as_complex(mixer.C)
    h = torch.zeros(2, 3, A.shape[1], dtype=torch.complex128)
    ys = []
    for t in range(40):
        h = decay * h + gain * u[:, t, :, None]
        ys.append(2 * (Cc * h).sum(-1).real + mixer.D * u[:, t])
    expected = mixer.out_proj(F.gelu(torch.stack(ys, 1)))
    with torch.no_grad():
        assert (mixer(u) - expected).abs().max() < 1e-10


# --------------------------------------------------------------------------- loss, init, generation


def test_loss_is_the_mean_cross_entropy_over_kept_targets():
    model = make_model(NetConfig(vocab_size=7, block_size=5, n_embd=8), seed=2)
    g = torch.Generator().manual_seed(0)
    idx, targets = torch.randint(0, 7, (3, 5), generator=g), torch.randint(0, 7, (3, 5), generator=g)
    targets[0, :3] = IGNORE_INDEX
    targets[2, 4] = IGNORE_INDEX
    logits, loss = model(idx, targets)
    keep = targets != IGNORE_INDEX
    log_p = torch.log_softmax(logits, -1).gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    assert math.isclose(loss.item(), -(log_p[keep]).mean().item(), rel_tol=1e-6)
    assert model(idx)[1] is None


def test_make_model_is_reproducible_and_leaves_the_global_rng_alone():
    config = NetConfig(vocab_size=9, block_size=6, mixer="mamba", n_embd=8)
    state = torch.get_rng_state()
    a, b, c = make_model(config, seed=3), make_model(config, seed=3), make_model(config, seed=4)
    assert torch.equal(torch.get_rng_state(), state)
    pa, pb, pc = (torch.cat([p.flatten() for p in m.parameters()]) for m in (a, b, c))
    assert torch.equal(pa, pb) and not torch.equal(pa, pc)


def test_generate_is_greedy_and_pads_after_the_stop_token():
    model = make_model(NetConfig(vocab_size=6, block_size=4, n_embd=8), seed=0).eval()
    idx = torch.tensor([[1, 2], [3, 4]])
    out = model.generate(idx, 5)
    manual = idx
    for _ in range(5):
        logits, _ = model(manual[:, -4:])
        manual = torch.cat([manual, logits[:, -1].argmax(-1, keepdim=True)], 1)
    assert torch.equal(out, manual)
    stop = int(out[0, 2])  # row 0 emits it at its first step
    stopped = model.generate(idx, 5, stop_token=stop)
    assert stopped[0, 2] == stop and (stopped[0, 2:] == stop).all()


@pytest.mark.parametrize("mixer", ["attention", "s4d", "mamba"])
def test_each_mixer_learns_a_fixed_batch(mixer):
    # next token = previous token + 1 (mod V) needs the mixer to pass token t-1 to position t
    config = NetConfig(vocab_size=8, block_size=12, mixer=mixer, n_embd=16, mlp_ratio=2.0)
    model = make_model(config, seed=0)
    idx = torch.randint(0, 8, (8, 12), generator=torch.Generator().manual_seed(0))
    targets = (torch.roll(idx, 1, dims=1) + 1) % 8
    targets[:, 0] = IGNORE_INDEX
    opt = torch.optim.AdamW(model.parameters(), lr=3e-2)
    for _ in range(150):
        _, loss = model(idx, targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.1  # from log 8 = 2.08


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("kwargs, message", [
    (dict(n_embd=30, n_head=4), "n_embd 30 is not divisible by n_head 4"),
    (dict(mixer="lstm"), "unknown mixer 'lstm'"),
    (dict(activation="tanh"), "unknown activation 'tanh'"),
    (dict(n_layer=0), "n_layer must be an integer >= 1, got 0"),
    (dict(mixer="s4d", d_state=5), "d_state 5 is odd"),
    (dict(dropout=1.0), "dropout must be in"),
])
def test_bad_config_raises_one_clear_line(kwargs, message):
    with pytest.raises(ValueError, match=message):
        NetConfig(vocab_size=5, block_size=4, **kwargs)


def test_too_long_input_is_rejected():
    model = make_model(NetConfig(vocab_size=5, block_size=4, n_embd=8))
    with pytest.raises(ValueError, match="sequence length 5 exceeds block_size 4"):
        model(torch.zeros(1, 5, dtype=torch.long))

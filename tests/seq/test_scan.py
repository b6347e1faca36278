"""The chunked selective scan (raflab.seq.scan) against the loop over time: values and all gradients."""

import pytest
import torch
import torch.nn.functional as F

from raflab.seq import nets
from raflab.seq.scan import default_chunk, selective_scan, selective_scan_reference

torch.set_num_threads(1)


def _inputs(batch, length, channels, n_state, seed=0, dtype=torch.float64, step_shift=-2.0, decay=None):
    g = torch.Generator().manual_seed(seed)
    u = torch.randn(batch, length, channels, generator=g, dtype=dtype)
    delta = F.softplus(torch.randn(batch, length, channels, generator=g, dtype=dtype) + step_shift)
    if decay is None:
        A = -torch.rand(channels, n_state, generator=g, dtype=dtype) * n_state
    else:
        A = torch.full((channels, n_state), decay, dtype=dtype)
    B = torch.randn(batch, length, n_state, generator=g, dtype=dtype)
    C = torch.randn(batch, length, n_state, generator=g, dtype=dtype)
    D = torch.randn(channels, generator=g, dtype=dtype)
    return [t.requires_grad_() for t in (u, delta, A, B, C, D)]


def _values_and_grads(scan, inputs, seed=1):
    y = scan(*inputs)
    weights = torch.randn(y.shape, generator=torch.Generator().manual_seed(seed), dtype=y.dtype)
    return y, torch.autograd.grad((y * weights).sum(), inputs)


def _assert_matches_loop(inputs, tol=1e-10, **kwargs):
    y, grads = _values_and_grads(lambda *t: selective_scan(*t, **kwargs), inputs)
    y_loop, grads_loop = _values_and_grads(selective_scan_reference, inputs)
    assert torch.isfinite(y).all()
    assert (y - y_loop).abs().max() <= tol * max(1.0, y_loop.abs().max())
    for name, g, g_loop in zip("u delta A B C D".split(), grads, grads_loop):
        assert torch.isfinite(g).all(), name
        assert (g - g_loop).abs().max() <= tol * max(1.0, g_loop.abs().max()), name


@pytest.mark.parametrize("length, chunk", [(37, 8), (37, 5), (64, 16), (100, None), (13, 64)])
def test_float64_values_and_all_gradients_equal_the_loop(length, chunk):
    # lengths not divisible by the chunk, a chunk longer than the sequence
    _assert_matches_loop(_inputs(3, length, 5, 4, seed=length + (chunk or 0)), chunk=chunk)


def test_default_chunk_fills_the_cache_per_thread_within_4_to_64_steps():
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        assert default_chunk(32, 64, 16) == 8  # 128 KiB a step, 512 KiB a thread
        assert default_chunk(32, 64, 16, torch.float64) == 4
        assert default_chunk(1, 8, 4) == 64
        assert default_chunk(512, 64, 16) == 4
        assert default_chunk(32, 64, 16, device="meta") == 32
    finally:
        torch.set_num_threads(threads)


def test_batch_1_and_length_1():
    _assert_matches_loop(_inputs(1, 29, 4, 3, seed=2))
    _assert_matches_loop(_inputs(2, 1, 4, 3, seed=3))
    _assert_matches_loop(_inputs(1, 1, 1, 1, seed=4), chunk=1)


def test_strong_decay_and_long_steps_stay_finite_and_exact():
    # A = -50, delta up to ~5: one step decays by exp(-250); over a chunk exp(-2000) underflows to 0
    inputs = _inputs(2, 40, 3, 4, seed=5, step_shift=3.0, decay=-50.0)
    assert inputs[1].max() > 4.5
    _assert_matches_loop(inputs)
    inputs32 = [t.detach().float().requires_grad_() for t in inputs]
    y, grads = _values_and_grads(selective_scan, inputs32)
    assert torch.isfinite(y).all() and all(torch.isfinite(g).all() for g in grads)


def test_gradcheck_on_a_tiny_case():
    inputs = _inputs(2, 5, 2, 3, seed=6)
    assert torch.autograd.gradcheck(lambda *t: selective_scan(*t, chunk=2), inputs)
    assert torch.autograd.gradcheck(lambda *t: selective_scan(*t[:5], chunk=3), inputs[:5])  # D = None


def test_only_some_inputs_need_gradients():
    inputs = _inputs(2, 20, 3, 2, seed=7)
    frozen = [inputs[0].detach(), inputs[1], inputs[2].detach(), inputs[3].detach(), inputs[4], None]
    y = selective_scan(*frozen, chunk=6)
    y_loop = selective_scan_reference(*frozen)
    g = torch.autograd.grad(y.square().sum(), [inputs[1], inputs[4]])
    g_loop = torch.autograd.grad(y_loop.square().sum(), [inputs[1], inputs[4]])
    for a, b in zip(g, g_loop):
        assert (a - b).abs().max() < 1e-10 * b.abs().max()


def test_skip_term_gradient_alone_and_with_frozen_u_equal_the_loop():
    # the skip term u * D is added inside the autograd function: D's gradient is written by hand
    inputs = _inputs(3, 21, 4, 3, seed=11)
    detached = [t.detach() for t in inputs]
    for needs in ([5], [1, 5], [0]):
        leaves = [t.clone().requires_grad_(i in needs) for i, t in enumerate(detached)]
        y = selective_scan(*leaves, chunk=4)
        y_loop = selective_scan_reference(*leaves)
        assert (y - y_loop).abs().max() < 1e-10 * y_loop.abs().max()
        wanted = [leaves[i] for i in needs]
        g = torch.autograd.grad(y.square().sum(), wanted)
        g_loop = torch.autograd.grad(y_loop.square().sum(), wanted)
        for a, b in zip(g, g_loop):
            assert (a - b).abs().max() < 1e-10 * b.abs().max()


def test_no_grad_forward_equals_the_autograd_forward():
    inputs = _inputs(2, 33, 4, 3, seed=8)
    with torch.no_grad():
        y_plain = selective_scan(*inputs)
    assert torch.equal(y_plain, selective_scan(*inputs))


def test_parallel_method_stays_reachable_and_agrees():
    inputs = _inputs(2, 50, 3, 4, seed=9)
    y_parallel = selective_scan(*inputs, method="parallel")
    assert (y_parallel - selective_scan(*inputs)).abs().max() < 1e-12 * y_parallel.abs().max()


def test_half_precision_inputs_are_scanned_in_float32():
    inputs = [t.detach().float() for t in _inputs(2, 24, 4, 3, seed=10)]
    y32 = selective_scan(*inputs)
    y16 = selective_scan(*[t.bfloat16() for t in inputs])
    assert y16.dtype == torch.bfloat16
    # the inputs' rounding to bfloat16 (8 bits of mantissa) is the only error
    assert (y16.float() - y32).abs().max() < 0.05 * y32.abs().max()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y_auto = selective_scan(*inputs)
    assert y_auto.dtype == torch.float32
    assert (y_auto - y32).abs().max() < 1e-6 * y32.abs().max()


def test_nets_reexports_the_scan():
    assert nets.selective_scan is selective_scan
    assert nets.selective_scan_reference is selective_scan_reference


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda t: [t[0][0], *t[1:]], "u must have shape"),
        (lambda t: [t[0], t[1][:, :-1], *t[2:]], "delta must have the shape"),
        (lambda t: [*t[:2], t[2][:-1], *t[3:]], "A must have shape"),
        (lambda t: [*t[:3], t[3][..., :-1], *t[4:]], "B must have shape"),
        (lambda t: [*t[:5], t[5][:-1]], "D must have shape"),
        (lambda t: [t[0][:, :0], t[1][:, :0], t[2], t[3][:, :0], t[4][:, :0], t[5]], "at least 1"),
    ],
)
def test_bad_shapes_raise_value_errors(change, message):
    with pytest.raises(ValueError, match=message):
        selective_scan(*change([t.detach() for t in _inputs(2, 6, 3, 2)]))


def test_bad_method_and_chunk_raise_value_errors():
    inputs = [t.detach() for t in _inputs(2, 6, 3, 2)]
    with pytest.raises(ValueError, match="unknown scan method"):
        selective_scan(*inputs, method="fft")
    with pytest.raises(ValueError, match="chunk must be a positive integer"):
        selective_scan(*inputs, chunk=0)


@pytest.mark.parametrize("workers, batch", [(2, 5), (3, 7), (4, 2)])
def test_batch_split_over_threads_equals_the_loop_and_restores_the_thread_count(workers, batch):
    # the batch is cut into parts scanned on parallel threads (uneven parts, more workers than rows)
    threads = torch.get_num_threads()
    _assert_matches_loop(_inputs(batch, 29, 4, 3, seed=workers), chunk=6, workers=workers)
    with torch.no_grad():
        y = selective_scan(*[t.detach() for t in _inputs(batch, 29, 4, 3)], workers=workers)
    assert not y.requires_grad
    assert torch.get_num_threads() == threads


def test_batch_workers_follow_torch_threads_on_cpu_only():
    from raflab.seq.scan import batch_workers
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        assert batch_workers(32, "cpu") == 2
        assert batch_workers(1, "cpu") == 1
        assert batch_workers(32, "meta") == 1
    finally:
        torch.set_num_threads(threads)
    with pytest.raises(ValueError, match="workers"):
        selective_scan(*[t.detach() for t in _inputs(2, 4, 2, 2)], workers=0)


def test_compiled_kernels_equal_the_python_functions_and_the_loop():
    # both passes run compiled by TorchScript (so that batch parts run without the interpreter lock)
    from raflab.seq.scan import _chunked_backward, _chunked_forward, _kernel
    forward, backward = _kernel("forward"), _kernel("backward")
    assert isinstance(forward, torch.jit.ScriptFunction) and isinstance(backward, torch.jit.ScriptFunction)
    assert _kernel("forward", "meta") is _chunked_forward  # uncompiled off the CPU
    u, delta, A, B, C, _ = [t.detach() for t in _inputs(3, 23, 4, 3, seed=12)]
    dy = torch.randn(3, 23, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    for chunk, keep in ((5, True), (4, False), (64, True)):
        y, states = forward(u, delta, A, B, C, chunk, keep)
        y_py, states_py = _chunked_forward(u, delta, A, B, C, chunk, keep)
        assert torch.equal(y, y_py)
        assert (states is None) == (not keep) and (states is None or torch.equal(states, states_py))
        if keep:
            for needs in ([True] * 5, [False, True, False, False, True]):
                grads = backward(dy, u, delta, A, B, C, states, chunk, needs)
                grads_py = _chunked_backward(dy, u, delta, A, B, C, states_py, chunk, needs)
                for g, g_py, need in zip(grads, grads_py, needs):
                    assert (g is None and g_py is None and not need) or torch.equal(g, g_py)
    y_loop = selective_scan_reference(u, delta, A, B, C)
    assert (y.transpose(0, 1) - y_loop).abs().max() < 1e-10 * y_loop.abs().max()


def test_default_splits_the_batch_over_two_threads_and_equals_the_loop(monkeypatch):
    from raflab.seq import scan
    from raflab.seq.scan import default_workers
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        assert default_workers(32, "cpu") == 2
        assert default_workers(1, "cpu") == 1
        assert default_workers(32, "meta") == 1
        assert default_workers(32, "cpu", 32 * 256 * 64 * 16) == 2  # the benchmark size
        assert default_workers(64, "cpu", 64 * 16 * 68 * 8) == 1  # the MQAR size: too small to split
        # forward and backward in two batch parts: values and all gradients, with and without autograd
        # (the size threshold lowered so that this small scan is split by default)
        monkeypatch.setattr(scan, "MIN_SPLIT_ENTRIES", 1)
        calls = []
        run_parts = scan._run_parts
        monkeypatch.setattr(scan, "_run_parts", lambda tasks: calls.append(len(tasks)) or run_parts(tasks))
        _assert_matches_loop(_inputs(5, 37, 4, 3, seed=13), chunk=6)
        inputs = [t.detach() for t in _inputs(5, 37, 4, 3, seed=14)]
        with torch.no_grad():
            y = selective_scan(*inputs)
        y_loop = selective_scan_reference(*inputs)
        assert (y - y_loop).abs().max() < 1e-10 * y_loop.abs().max()
        assert calls == [2, 2, 2]  # forward and backward with autograd, then the no-grad forward
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)


def _scan_in_child(queue):
    inputs = [t.detach() for t in _inputs(4, 9, 3, 2, seed=15)]
    y = selective_scan(*inputs, workers=2)
    queue.put(float((y - selective_scan_reference(*inputs)).abs().max()))


def test_a_forked_child_can_split_the_batch_after_its_parent_did():
    # the parent's pool threads do not exist in a forked child: it must start its own, not wait forever
    import multiprocessing
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork start method here")
    selective_scan(*[t.detach() for t in _inputs(4, 9, 3, 2)], workers=2)  # the parent's pool exists
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_scan_in_child, args=(queue,))
    child.start()
    child.join(timeout=60)
    alive = child.is_alive()
    if alive:
        child.kill()
    assert not alive and child.exitcode == 0
    assert queue.get(timeout=5) < 1e-10


@pytest.mark.parametrize("needs", [(1, 4), (0, 2, 5), (5,)])
def test_batch_split_with_some_gradients_equals_the_loop(needs):
    # each part's thread writes its rows of the gradients it is asked for (the skip term's share of u's too)
    inputs = [t.detach() for t in _inputs(5, 20, 3, 2, seed=16)]
    for D_given in (True, False):
        if not D_given and needs == (5,):
            continue
        leaves = [t.clone().requires_grad_(i in needs) for i, t in enumerate(inputs)]
        if not D_given:
            leaves[5] = None
        y = selective_scan(*leaves, chunk=6, workers=2)
        y_loop = selective_scan_reference(*leaves)
        assert (y - y_loop).abs().max() < 1e-10 * y_loop.abs().max()
        wanted = [leaves[i] for i in needs if leaves[i] is not None]
        g = torch.autograd.grad(y.square().sum(), wanted)
        g_loop = torch.autograd.grad(y_loop.square().sum(), wanted)
        for a, b in zip(g, g_loop):
            assert (a - b).abs().max() < 1e-10 * b.abs().max()

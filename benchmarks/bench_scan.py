"""Benchmark: raflab's parallel selective scan against a Python loop over time.

The peer is :func:`raflab.seq.nets.selective_scan_reference`, written like Mamba's
``selective_scan_ref`` (decays and inputs precomputed for all steps, then one loop step per time
step). Both compute the same S6 recurrence; the script checks that they agree and prints the time
of the forward pass and of forward + backward, and the loop / raflab ratio, at each length.

Default sizes: batch 4, 64 channels (a Mamba block of width 32, expand 2), state 16, float32.
Run: ``.venv/bin/python benchmarks/bench_scan.py [--device auto|cpu|cuda] [--threads N]``
"""

import argparse
import time

import torch
import torch.nn.functional as F

from raflab.core.device import resolve_device
from raflab.seq.nets import selective_scan, selective_scan_reference


def scan_inputs(batch, length, channels, n_state, device, seed=0):
    """Mamba-like inputs: softplus steps around 0.13, A = -(1..N) per channel, leaf tensors."""
    g = torch.Generator().manual_seed(seed)
    u = torch.randn(batch, length, channels, generator=g)
    delta = F.softplus(torch.randn(batch, length, channels, generator=g) - 2.0)
    A = -torch.arange(1, n_state + 1, dtype=torch.float32).expand(channels, n_state).clone()
    B = torch.randn(batch, length, n_state, generator=g)
    C = torch.randn(batch, length, n_state, generator=g)
    D = torch.ones(channels)
    return [t.to(device).requires_grad_() for t in (u, delta, A, B, C, D)]


def best_time(fn, device, repeats, budget_s=10.0):
    """Best of ``repeats`` runs, fewer once ``budget_s`` seconds are spent (at least one run)."""
    best, spent = float("inf"), 0.0
    for _ in range(repeats):
        if spent > budget_s:
            break
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - start
        best, spent = min(best, elapsed), spent + elapsed
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--lengths", type=int, nargs="+", default=[256, 1024])
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--state", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    torch.set_num_threads(args.threads)
    print(f"selective scan | device {device}, torch threads {torch.get_num_threads()}, batch {args.batch}, "
          f"channels {args.channels}, state {args.state}, float32, best of {args.repeats}")
    print(f"{'length':>6s} {'pass':>9s} {'loop':>10s} {'raflab':>10s} {'ratio':>7s}   max|diff| (y, grads, relative)")
    for length in args.lengths:
        inputs = scan_inputs(args.batch, length, args.channels, args.state, device)
        y_loop, y_fast = selective_scan_reference(*inputs), selective_scan(*inputs)
        g_loop = torch.autograd.grad(y_loop.square().sum(), inputs)
        g_fast = torch.autograd.grad(y_fast.square().sum(), inputs)
        diff_y = ((y_fast - y_loop).abs().max() / y_loop.abs().max()).item()
        diff_g = max(((a - b).abs().max() / b.abs().max()).item() for a, b in zip(g_fast, g_loop))

        def forward(scan):
            with torch.no_grad():
                scan(*inputs)

        def forward_backward(scan):
            scan(*inputs).square().sum().backward()

        for label, run in (("fwd", forward), ("fwd+bwd", forward_backward)):
            run(selective_scan)  # warm-up (allocator, kernels)
            t_loop = best_time(lambda: run(selective_scan_reference), device, args.repeats)
            t_fast = best_time(lambda: run(selective_scan), device, args.repeats)
            note = f"   {diff_y:.1e}, {diff_g:.1e}" if label == "fwd" else ""
            print(f"{length:6d} {label:>9s} {t_loop * 1e3:8.1f}ms {t_fast * 1e3:8.1f}ms {t_loop / t_fast:6.1f}x{note}")


if __name__ == "__main__":
    main()

"""Benchmark: raflab's chunked selective scan against the loop over time and Mamba's own reference.

Three implementations of the same S6 recurrence (Mamba-1, per-channel per-state diagonal A), timed
in the same run (best, or with ``--stat median`` the median, of ``--repeats``; loop and raflab
interleaved round by round, the official reference in its own rounds after them), forward alone (no
autograd) and forward + backward:

- ``loop``: :func:`raflab.seq.scan.selective_scan_reference`, a Python step per time step, written
  like Mamba's ``selective_scan_ref`` but with ``unbind`` (its backward is linear in length);
- ``official``: ``selective_scan_ref`` of state-spaces/mamba (``mamba_ssm/ops/selective_scan_interface.py``),
  its layout u, delta [B, D, L], B, C [B, N, L]. Only that function is taken from the file (parsed
  with ``ast`` and executed with torch, F and einops): the file's CUDA-only imports are never run and
  nothing of mamba is installed or copied into raflab. Give the peer with ``--mamba-repo DIR`` (a
  checkout, a bare git directory such as the one the session tool ``fetch github:state-spaces/mamba``
  gives, or the file itself) or the environment variable ``RAF_MAMBA_REPO``; it needs einops
  (``pip install -r benchmarks/requirements.txt``). Without it the column is skipped.
- ``raflab``: :func:`raflab.seq.scan.selective_scan` (chunked, hand-written backward).

All three are checked to agree (values and the gradients of u, delta, A, B, C, D) before timing.
Defaults: batch 32, length 256, 64 channels, state 16, float32, 2 torch threads.
Run: ``python benchmarks/bench_scan.py [--mamba-repo DIR] [--device auto|cpu|cuda] [--threads N]``
"""

from __future__ import annotations

import argparse
import ast
import os
import statistics
import subprocess
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from raflab.core.device import resolve_device
from raflab.seq.scan import selective_scan, selective_scan_reference

MAMBA_FILE = "mamba_ssm/ops/selective_scan_interface.py"


def load_official_ref(source: str):
    """``selective_scan_ref`` from a mamba checkout, a bare git directory, or the file itself."""
    path = Path(source)
    if path.is_file():
        text = path.read_text()
    elif (path / MAMBA_FILE).is_file():
        text = (path / MAMBA_FILE).read_text()
    elif path.is_dir() and ((path / "HEAD").is_file() or (path / ".git").exists()):
        git_dir = path if (path / "HEAD").is_file() else path / ".git"
        text = subprocess.run(["git", f"--git-dir={git_dir}", "show", f"HEAD:{MAMBA_FILE}"], check=True,
                              capture_output=True, text=True).stdout
    else:
        raise SystemExit(f"--mamba-repo {source}: no {MAMBA_FILE} there (nor a git directory holding it)")
    try:
        import einops
    except ImportError as exc:
        raise SystemExit("the official reference needs einops: pip install -r benchmarks/requirements.txt") from exc
    tree = ast.parse(text)
    found = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "selective_scan_ref"]
    if not found:
        raise SystemExit(f"{source}: no function selective_scan_ref in {MAMBA_FILE}")
    namespace = {"torch": torch, "F": F, "rearrange": einops.rearrange, "repeat": einops.repeat}
    exec(compile(ast.Module(body=found, type_ignores=[]), MAMBA_FILE, "exec"), namespace)
    return namespace["selective_scan_ref"]


def scan_inputs(batch, length, channels, n_state, device, seed=0):
    """Mamba-like inputs: softplus steps around 0.13, A = -(1..N) per channel (S4D-Real), leaf tensors."""
    g = torch.Generator().manual_seed(seed)
    u = torch.randn(batch, length, channels, generator=g)
    delta = F.softplus(torch.randn(batch, length, channels, generator=g) - 2.0)
    A = -torch.arange(1, n_state + 1, dtype=torch.float32).expand(channels, n_state).clone()
    B = torch.randn(batch, length, n_state, generator=g)
    C = torch.randn(batch, length, n_state, generator=g)
    D = torch.ones(channels)
    return [t.to(device).requires_grad_() for t in (u, delta, A, B, C, D)]


def official_layout(inputs):
    """The same inputs as new leaves in the official layout: u, delta [B, D, L]; B, C [B, N, L]."""
    u, delta, A, B, C, D = (t.detach() for t in inputs)
    moved = [u.transpose(1, 2), delta.transpose(1, 2), A, B.transpose(1, 2), C.transpose(1, 2), D]
    return [t.contiguous().requires_grad_() for t in moved]


def to_raflab_layout(y, grads):
    """The official result and gradients back in raflab's layout [B, L, .]."""
    g_u, g_delta, g_A, g_B, g_C, g_D = grads
    return y.transpose(1, 2), [g_u.transpose(1, 2), g_delta.transpose(1, 2), g_A, g_B.transpose(1, 2),
                               g_C.transpose(1, 2), g_D]


def values_and_grads(scan, inputs):
    y = scan(*inputs)
    return y.detach(), [g.detach() for g in torch.autograd.grad(y.square().sum(), inputs)]


def relative_difference(result, reference):
    y, grads = result
    y_ref, grads_ref = reference
    diff_y = ((y - y_ref).abs().max() / y_ref.abs().max()).item()
    diff_g = max(((g - r).abs().max() / r.abs().max()).item() for g, r in zip(grads, grads_ref))
    return diff_y, diff_g


def timed(fn, device, clock=time.perf_counter):
    if device == "cuda":
        torch.cuda.synchronize()
    start = clock()
    fn()
    if device == "cuda":
        torch.cuda.synchronize()
    return clock() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mamba-repo", default=os.environ.get("RAF_MAMBA_REPO"),
                        help="state-spaces/mamba checkout, bare git dir or the file (or env RAF_MAMBA_REPO)")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--lengths", type=int, nargs="+", default=[256])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--state", type=int, default=16)
    parser.add_argument("--chunk", type=int, default=None, help="raflab's chunk length (default: its own)")
    parser.add_argument("--parallel", action="store_true", help="also time raflab's odd-even parallel scan")
    parser.add_argument("--repeats", type=int, default=7, help="best of this many interleaved rounds")
    parser.add_argument("--stat", choices=["best", "median"], default="best",
                        help="the best round (default), or the median round (steadier on a loaded machine)")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="wall time, or this process's CPU time (steadier on a loaded machine, 1 thread)")
    parser.add_argument("--budget", type=float, default=20.0, help="stop a peer's rounds after this many s")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    torch.set_num_threads(args.threads)
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    official = load_official_ref(args.mamba_repo) if args.mamba_repo else None
    chunk = {} if args.chunk is None else {"chunk": args.chunk}
    scans = {"loop": selective_scan_reference, "raflab": lambda *t: selective_scan(*t, **chunk)}
    if args.parallel:
        scans["parallel"] = lambda *t: selective_scan(*t, method="parallel")
    if official is not None:
        scans["official"] = lambda *t: official(*t)
    print(f"selective scan | device {device}, torch threads {torch.get_num_threads()}, batch {args.batch}, "
          f"channels {args.channels}, state {args.state}, float32, {args.clock} time, {args.stat} of {args.repeats} "
          f"rounds, load average {os.getloadavg()[0]:.1f}"
          + ("" if official else " | no --mamba-repo: the official reference is skipped"))
    names = list(scans)
    head = " ".join(f"{n:>10s}" for n in names)
    ratios = " ".join(f"{n + '/raflab':>16s}" for n in names if n != "raflab")
    print(f"{'length':>6s} {'pass':>8s} {head}   {ratios}")
    for length in args.lengths:
        inputs = scan_inputs(args.batch, length, args.channels, args.state, device)
        layouts = {n: official_layout(inputs) if n == "official" else inputs for n in names}
        reference = values_and_grads(selective_scan_reference, inputs)
        for n in names:
            result = values_and_grads(scans[n], layouts[n])
            if n == "official":
                result = to_raflab_layout(*result)
            diff_y, diff_g = relative_difference(result, reference)
            print(f"{'':6s} check  {n} vs loop: max relative difference {diff_y:.1e} (y), {diff_g:.1e} (grads)")

        def forward(n):
            with torch.no_grad():
                scans[n](*layouts[n])

        def forward_backward(n):
            scans[n](*layouts[n]).square().sum().backward()

        for label, run in (("fwd", forward), ("fwd+bwd", forward_backward)):
            rounds = {n: [] for n in names}
            spent = {n: 0.0 for n in names}
            # the official reference runs in its own rounds after the others: its backward writes a
            # full-size gradient for each of the L slices deltaA[:, :, i] (gigabytes of fresh memory),
            # and raflab's fwd+bwd measured 2.4 s interleaved with it, 83 ms without it (2 threads, loaded machine)
            for group in ([n for n in names if n != "official"], [n for n in names if n == "official"]):
                for n in group:
                    run(n)  # warm-up (allocator, kernels)
                for _ in range(args.repeats):
                    for n in group:
                        if spent[n] < args.budget:
                            elapsed = timed(lambda: run(n), device, clock)
                            rounds[n].append(elapsed)
                            spent[n] += elapsed
            best = {n: min(r) if args.stat == "best" else statistics.median(r) for n, r in rounds.items()}
            times = " ".join(f"{best[n] * 1e3:8.1f}ms" for n in names)
            ratio = " ".join(f"{best[n] / best['raflab']:15.1f}x" for n in names if n != "raflab")
            print(f"{length:6d} {label:>8s} {times}   {ratio}   (load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()

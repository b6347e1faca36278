"""Benchmark: raflab's chunked SSD scan (Mamba-2) against its loop over time, and the official minimal SSD.

The peers: :func:`raflab.seq.ssd.ssd_scan_reference` (the Mamba-2 recurrence, one step at a time),
and, with ``--mamba``, ``ssd_minimal_discrete`` from state-spaces/mamba's
``mamba_ssm/modules/ssd_minimal.py`` (Listing 1 of Dao & Gu 2024), loaded at run time from a
checkout, the file, or a bare git directory (``git show HEAD:...``); it needs einops
(benchmarks/requirements.txt), not mamba_ssm: its one import of mamba_ssm's Triton kernels (used by
its own self-test only) is left out when it is loaded. Nothing of it is copied into raflab.

All compute y_t = C_t h_t with h_t = exp(dt_t A_h) h_{t-1} + dt_t x_t B_t^T (no D); the script
checks they agree, then prints the best time of the forward pass and of forward + backward for each,
and the loop / raflab ratio. Default sizes: batch 32, length 256, 4 heads x headdim 16 (64 channels),
state 16, chunk: raflab's default for the device (16 on a CPU; the official minimal SSD gets the same), float32, 2 threads.
Run: ``.venv/bin/python benchmarks/bench_ssd.py [--mamba /path/to/mamba] [--device cuda] [--threads 2]``
"""

import argparse
import importlib.util
import subprocess
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from raflab.core.device import resolve_device
from raflab.seq.ssd import CHUNK, CPU_CHUNK, ssd_scan, ssd_scan_reference

MINIMAL = "mamba_ssm/modules/ssd_minimal.py"


def load_ssd_minimal(source: str):
    """The official ``ssd_minimal`` module, without its import of mamba_ssm's Triton kernels."""
    path = Path(source)
    if path.is_dir() and (path / "HEAD").exists() and not (path / MINIMAL).exists():
        text = subprocess.run(["git", f"--git-dir={path}", "show", f"HEAD:{MINIMAL}"], check=True,
                              capture_output=True, text=True).stdout
    else:
        path = path / MINIMAL if path.is_dir() else path
        if not path.is_file():
            raise ValueError(f"--mamba {source}: no {MINIMAL} there")
        text = path.read_text()
    text = "\n".join(line for line in text.splitlines() if not line.startswith("from mamba_ssm"))
    tmp = Path(tempfile.mkdtemp(prefix="ssd_minimal_")) / "ssd_minimal.py"
    tmp.write_text(text)
    spec = importlib.util.spec_from_file_location("ssd_minimal_peer", tmp)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ssd_inputs(batch, length, heads, headdim, n_state, device, seed=0):
    """Mamba-2-like inputs: softplus steps around 0.13, A in [-16, -1] per head, leaf tensors."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, length, heads, headdim, generator=g)
    dt = F.softplus(torch.randn(batch, length, heads, generator=g) - 2.0)
    A = -torch.linspace(1.0, 16.0, heads)
    B = torch.randn(batch, length, n_state, generator=g)
    C = torch.randn(batch, length, n_state, generator=g)
    return [t.to(device).requires_grad_() for t in (x, dt, A, B, C)]


def best_time(fn, device, repeats, budget_s=20.0):
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
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--length", type=int, default=256)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--headdim", type=int, default=16)
    parser.add_argument("--state", type=int, default=16)
    parser.add_argument("--chunk", type=int, default=None, help="chunk length (default: raflab's for the device)")
    parser.add_argument("--repeats", type=int, default=5, help="best of this many rounds (peers interleaved)")
    parser.add_argument("--mamba", default=None, help="state-spaces/mamba checkout, bare git dir or ssd_minimal.py")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    torch.set_num_threads(args.threads)
    inputs = ssd_inputs(args.batch, args.length, args.heads, args.headdim, args.state, device)
    if args.chunk is None:
        args.chunk = CPU_CHUNK if torch.device(device).type == "cpu" else CHUNK
    scans = {"loop": ssd_scan_reference, "raflab": lambda *t: ssd_scan(*t, chunk=args.chunk)}
    if args.mamba:
        minimal = load_ssd_minimal(args.mamba)

        def official(x, dt, A, B, C):  # its layout: B, C per head, the step folded into x and A
            B, C = (t.unsqueeze(2).expand(-1, -1, x.shape[2], -1) for t in (B, C))
            return minimal.ssd_minimal_discrete(x * dt.unsqueeze(-1), A * dt, B, C, args.chunk)[0]

        scans["official"] = official
    print(f"SSD scan | device {device}, torch threads {torch.get_num_threads()}, batch {args.batch}, length "
          f"{args.length}, {args.heads} heads x {args.headdim}, state {args.state}, chunk {args.chunk}, float32")
    outputs = {name: scan(*inputs) for name, scan in scans.items()}
    grads = {name: torch.autograd.grad(y.square().sum(), inputs) for name, y in outputs.items()}
    for name in scans:
        if name != "loop":
            diff_y = ((outputs[name] - outputs["loop"]).abs().max() / outputs["loop"].abs().max()).item()
            diff_g = max(((a - b).abs().max() / b.abs().max()).item() for a, b in zip(grads[name], grads["loop"]))
            print(f"  {name} vs loop: max relative difference y {diff_y:.1e}, gradients {diff_g:.1e}")

    def forward(scan):
        with torch.no_grad():
            scan(*inputs)

    def forward_backward(scan):
        scan(*inputs).square().sum().backward()

    print(f"{'pass':>9s} " + " ".join(f"{name:>10s}" for name in scans) + "   loop / raflab"
          + ("   official / raflab" if "official" in scans else ""))
    for label, run in (("fwd", forward), ("fwd+bwd", forward_backward)):
        best = {name: float("inf") for name in scans}
        for name, scan in scans.items():
            run(scan)  # warm-up (allocator, kernels)
        for _ in range(args.repeats):  # rounds of every peer in turn: a load change hits them all
            for name, scan in scans.items():
                best[name] = min(best[name], best_time(lambda: run(scan), device, 1))
        line = f"{label:>9s} " + " ".join(f"{best[name] * 1e3:8.1f}ms" for name in scans)
        line += f"   {best['loop'] / best['raflab']:6.1f}x"
        if "official" in scans:
            line += f"   {best['official'] / best['raflab']:6.2f}x"
        print(line)


if __name__ == "__main__":
    main()

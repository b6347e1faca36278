"""Benchmark: GPT training throughput (tokens/s), raflab's model beside karpathy/nanoGPT's.

Both models are built at the same size (nanoGPT's MLP is fixed at 4x, so raflab runs with
``mlp_ratio = 4``, GELU, learned positions, tied embeddings; the parameter counts are checked equal)
and trained for the same number of AdamW steps on the same random token batches; the runs alternate
(raflab, nanoGPT, raflab, ...) so that a load change on the machine hits both. Reported: tokens/s
of each (best round) and the raflab / nanoGPT ratio. Float32, no ``torch.compile``, for both.

nanoGPT is a peer, never a raflab dependency: its ``model.py`` is loaded at run time from
``--nanogpt``, which may be the file itself, a checkout holding it, or a bare git directory (the
session tool ``fetch github:karpathy/nanoGPT`` gives one), from which ``HEAD:model.py`` is extracted
into a temporary directory. Without it the script times raflab alone and says so.

Run: ``.venv/bin/python benchmarks/bench_gpt_throughput.py --nanogpt /path/to/nanoGPT [--device cuda]``
"""

import argparse
import contextlib
import importlib.util
import io
import os
import subprocess
import tempfile
import time
from pathlib import Path

import torch

from raflab.core.device import resolve_device
from raflab.seq.nets import NetConfig, count_parameters, make_model

# name: (n_layer, n_head, n_embd, vocab, block, batch); "paper" is nanoGPT's shakespeare-char model,
# the 10.6M-parameter reference of "Too Big to Think"
SIZES = {
    "tiny": (1, 1, 56, 17, 9, 256),
    "small": (2, 2, 64, 256, 64, 64),
    "medium": (4, 4, 128, 256, 128, 32),
    "paper": (6, 6, 384, 65, 256, 64),
}


def load_nanogpt(source: str):
    """nanoGPT's ``model`` module from a model.py, a directory holding it, or a bare git directory."""
    path = Path(source)
    if path.is_dir() and not (path / "model.py").exists():
        if not (path / "HEAD").exists():
            raise ValueError(f"--nanogpt {source}: neither model.py nor a git directory")
        tmp = Path(tempfile.mkdtemp(prefix="nanogpt_"))
        text = subprocess.run(["git", f"--git-dir={path}", "show", "HEAD:model.py"], check=True,
                              capture_output=True, text=True).stdout
        path = tmp / "model.py"
        path.write_text(text)
    elif path.is_dir():
        path = path / "model.py"
    if not path.is_file():
        raise ValueError(f"--nanogpt {source}: no model.py there")
    spec = importlib.util.spec_from_file_location("nanogpt_model_peer", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_models(size, device, nanogpt, seed=0):
    n_layer, n_head, n_embd, vocab, block, _ = size
    models = {"raflab": make_model(NetConfig(vocab_size=vocab, block_size=block, n_layer=n_layer, n_head=n_head,
                                             n_embd=n_embd, mlp_ratio=4.0, activation="gelu", bias=False),
                                   seed=seed, device=device)}
    if nanogpt is not None:
        with torch.random.fork_rng(devices=[]), contextlib.redirect_stdout(io.StringIO()):
            torch.manual_seed(seed)
            config = nanogpt.GPTConfig(block_size=block, vocab_size=vocab, n_layer=n_layer, n_head=n_head,
                                       n_embd=n_embd, dropout=0.0, bias=False)
            models["nanoGPT"] = nanogpt.GPT(config).to(device)
    return models


def train_steps(model, batches, device):
    """Seconds for len(batches) AdamW steps (forward, loss, backward, update)."""
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1)
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for idx, targets in batches:
        _, loss = model(idx, targets)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nanogpt", default=os.environ.get("RAF_NANOGPT"),
                        help="nanoGPT's model.py, its directory or a bare git dir (or env RAF_NANOGPT)")
    parser.add_argument("--device", default="cpu", help="auto | cpu | cuda")
    parser.add_argument("--sizes", nargs="+", default=None, choices=sorted(SIZES),
                        help="default: tiny small medium on CPU, and paper too on CUDA")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the best is kept")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    torch.set_num_threads(args.threads)
    nanogpt = load_nanogpt(args.nanogpt) if args.nanogpt else None
    sizes = args.sizes or (["tiny", "small", "medium"] + (["paper"] if device == "cuda" else []))
    print(f"GPT training throughput | device {device}, torch threads {torch.get_num_threads()}, float32, "
          f"{args.steps} steps x best of {args.rounds} rounds" + ("" if nanogpt else " | no --nanogpt: raflab only"))
    print(f"{'size':>7s} {'layers x width':>15s} {'batch x block':>14s} {'params':>10s} "
          f"{'raflab tok/s':>13s} {'nanoGPT tok/s':>14s} {'ratio':>6s}")
    for name in sizes:
        size = SIZES[name]
        n_layer, _, n_embd, vocab, block, batch = size
        models = build_models(size, device, nanogpt)
        counts = {k: count_parameters(m) for k, m in models.items()}
        if len(set(counts.values())) != 1:
            raise RuntimeError(f"parameter counts differ at size {name}: {counts}")
        g = torch.Generator().manual_seed(1)
        batches = [(torch.randint(0, vocab, (batch, block), generator=g).to(device),
                    torch.randint(0, vocab, (batch, block), generator=g).to(device)) for _ in range(args.steps)]
        for model in models.values():  # warm-up: allocator, kernels, optimizer state
            train_steps(model, batches[:3], device)
        best = {k: float("inf") for k in models}
        for _ in range(args.rounds):
            for key, model in models.items():
                best[key] = min(best[key], train_steps(model, batches, device))
        rate = {k: args.steps * batch * block / t for k, t in best.items()}
        peer = f"{rate['nanoGPT']:14.0f} {rate['raflab'] / rate['nanoGPT']:5.2f}x" if "nanoGPT" in rate else f"{'-':>14s}"
        print(f"{name:>7s} {f'{n_layer} x {n_embd}':>15s} {f'{batch} x {block}':>14s} {counts['raflab']:10d} "
              f"{rate['raflab']:13.0f} {peer}")


if __name__ == "__main__":
    main()

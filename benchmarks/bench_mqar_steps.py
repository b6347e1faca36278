"""Benchmark: training steps per second of every sequence mixer at the shipped MQAR default.

The setting is the shipped MQAR study's (``src/raflab/seq/configs/seq_mqar.yaml``): its ``base`` (2
layers, no MLP, 16 tokens, vocabulary 32, batch 64, d_state 8) at one size of its grid (``--params``,
default 20,000: each mixer at the width whose parameter count is closest, ``raflab.seq.sizing``) and
``--pairs`` key-value pairs (default 4), with each mixer's learning rate from the grid. A step is one
step of raflab's training loop (``raflab.seq.train.train_model``: a random batch of the training set,
forward, backward, gradient clipping, AdamW), the evaluations left out. The mixers are timed in
alternating rounds (attention, S4D, Mamba, Mamba-2, attention, ...) so a load change on a shared
machine hits them all; the best round is kept. Float32, no ``torch.compile``.

Run: ``python benchmarks/bench_mqar_steps.py [--threads 1|2] [--steps 20] [--rounds 3] [--device cpu]``
"""

from __future__ import annotations

import argparse

import torch

from raflab.core.device import resolve_device
from raflab.seq.nets import count_parameters, make_model
from raflab.seq.studies import (build_task, load_study_config, net_config, shipped_study_config, sized_run,
                                train_config)
from raflab.seq.train import train_model

MODELS = ("gpt", "s4d", "mamba", "mamba2")


def mqar_default_run(model: str, params: int, pairs: int, device: str):
    """The shipped study's run of ``model`` at ``params`` parameters and ``pairs`` pairs (seed 0)."""
    config = load_study_config(shipped_study_config("mqar"))
    found = [r for r in config.runs() if (r.model, r.target_params, r.pairs, r.seed) == (model, params, pairs, 0)]
    if not found:
        raise SystemExit(f"the shipped MQAR study has no {model} run at {params} parameters and {pairs} pairs")
    return found[0].model_copy(update={"device": device})


def time_steps(run, task, steps: int, device: str) -> float:
    """Seconds per training step of ``run`` (``steps`` steps after 3 untimed ones; no evaluation)."""
    model = make_model(net_config(run, task), seed=run.seed, device=device)
    data = {"idx": task.train.inputs, "targets": task.train.targets}
    warm = train_config(run).model_copy(update={"steps": 3, "eval_every": 10**9, "target": None, "device": device})
    train_model(model, data, warm)
    timed = warm.model_copy(update={"steps": steps})
    result = train_model(model, data, timed)
    return result.wall_s / steps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", type=int, default=20000, help="a size of the shipped grid (8000 | 20000 | 50000)")
    parser.add_argument("--pairs", type=int, default=4, help="key-value pairs (1 | 2 | 4)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the best is kept")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--device", default="cpu", help="auto | cpu | cuda")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = str(resolve_device(args.device))
    runs = {m: mqar_default_run(m, args.params, args.pairs, device) for m in MODELS}
    task = build_task(runs["gpt"])  # the data depend on the seed and the task options only
    runs = {m: sized_run(r, task) for m, r in runs.items()}
    best = {m: float("inf") for m in MODELS}
    for _ in range(args.rounds):
        for m in MODELS:
            best[m] = min(best[m], time_steps(runs[m], task, args.steps, device))
    print(f"MQAR training steps/s | shipped study, ~{args.params:,} parameters, {args.pairs} pairs, "
          f"{runs['gpt'].seq_len} tokens, batch {runs['gpt'].batch} | device {device}, torch threads "
          f"{torch.get_num_threads()}, float32, best of {args.rounds} x {args.steps} steps")
    print(f"{'model':>7s} {'width':>6s} {'params':>8s} {'ms/step':>9s} {'steps/s':>8s}")
    for m in MODELS:
        params = count_parameters(make_model(net_config(runs[m], task), seed=0, device="cpu"))
        print(f"{m:>7s} {runs[m].width:6d} {params:8d} {1e3 * best[m]:9.1f} {1 / best[m]:8.1f}")


if __name__ == "__main__":
    main()

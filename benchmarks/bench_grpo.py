"""Benchmark: GRPO steps per second of the schema-linking policy against the group size G.

One GRPO step = sample G completions for each of ``prompts_per_step`` questions, render and reward them
(the authors' rule-based reward on the text), group-normalize, ``inner_steps`` clipped-surrogate
updates with the KL to the reference. Run on the default synthetic data after a short SFT cold start.
Run: ``python benchmarks/bench_grpo.py [--threads 2] [--groups 2,4,8,16] [--steps 40] [--device cpu]``
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np
import torch

from raflab.agents.schema.data import SchemaDataConfig, make_splits
from raflab.agents.schema.linker import SchemaTrainConfig, SchemaTrainer, encode_splits


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--groups", default="2,4,8,16")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--prompts", type=int, default=16, help="questions per GRPO step")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    encoded = encode_splits(make_splits(SchemaDataConfig(), np.random.default_rng(0)))
    print(f"{args.threads} torch threads, {args.prompts} questions per step, device {args.device}, "
          f"{len(encoded['train'])} training questions")
    print(f"{'G':>4} {'completions/step':>17} {'steps/s':>8} {'ms/step':>8} {'completions/s':>14} {'reward ms/step':>15}")
    for G in (int(g) for g in args.groups.split(",")):
        cfg = SchemaTrainConfig(group_size=G, prompts_per_step=args.prompts, sft_steps=50)
        tr = SchemaTrainer(encoded, cfg, seed=0, device=args.device)
        tr.sft(50)
        ref = copy.deepcopy(tr.policy)
        train = tr.enc["train"]
        batches = [train.take(tr.rng.integers(0, len(train), args.prompts)) for _ in range(args.steps + 3)]
        for b in batches[:3]:  # warm-up
            tr.grpo_step(b, ref)
        from raflab.agents.schema.linker import linker as mod

        reward_time = [0.0]
        inner = mod._rewards

        def timed(*a):
            t = time.perf_counter()
            out = inner(*a)
            reward_time[0] += time.perf_counter() - t
            return out

        mod._rewards = timed
        t0 = time.perf_counter()
        for b in batches[3:]:
            tr.grpo_step(b, ref)
        if args.device == "cuda":
            torch.cuda.synchronize()
        dt = time.perf_counter() - t0
        mod._rewards = inner
        print(f"{G:>4} {G * args.prompts:>17} {args.steps / dt:>8.2f} {1e3 * dt / args.steps:>8.1f} "
              f"{G * args.prompts * args.steps / dt:>14.0f} {1e3 * reward_time[0] / args.steps:>15.1f}")


if __name__ == "__main__":
    main()

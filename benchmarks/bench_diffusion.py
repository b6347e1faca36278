"""Benchmark: the exact empirical denoiser and score-network training throughput.

1. Exact denoiser, 4096 queries, K = 1e4 training points, d = 784 (MNIST size): raflab's streamed
   logsumexp over chunks of K (torch, float32) against two plain numpy implementations of the same
   posterior mean: one full (queries x K) distance matrix with scipy's softmax (float64, the textbook
   vectorized form) and a per-query loop (float64, timed on a subset and scaled). Peak extra
   resident memory of each (Linux VmHWM, reset before each run).
2. Training throughput (steps/s) of the score networks: the ring MLP, the 8x8-digits MLP and U-Net, on
   CPU, and on CUDA when present.

Run: ``.venv/bin/python benchmarks/bench_diffusion.py [--threads N] [--quick] [--skip-denoiser]``
"""

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from _common import cap_blas_threads
from scipy.special import softmax

from raflab.memory.diffusion import exact_denoiser
from raflab.memory.diffusion_models import TrainConfig, train_score_model
from raflab.memory.experiments import training_points


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    return 0


def measured(fn):
    """(result, seconds, peak extra resident MiB) of ``fn()``; memory is best effort (Linux only)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets the high-water mark VmHWM
        base = _rss_kib("VmRSS:")
    except OSError:
        base = None
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    peak = (_rss_kib("VmHWM:") - base) / 1024 if base is not None else float("nan")
    return out, seconds, peak


def numpy_matrix(x, train, sigma):
    sq = (x**2).sum(1)[:, None] - 2 * x @ train.T + (train**2).sum(1)[None]
    return softmax(-sq / (2 * sigma**2), axis=1) @ train


def numpy_loop(x, train, sigma):
    out = np.empty_like(x)
    for i, xi in enumerate(x):
        w = softmax(-((train - xi) ** 2).sum(1) / (2 * sigma**2))
        out[i] = w @ train
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=None, help="cap BLAS and torch threads (default: all)")
    parser.add_argument("--skip-denoiser", action="store_true", help="only the training throughput")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args()
    blas = cap_blas_threads(args.threads)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if not args.skip_denoiser:
        bench_denoiser(args.quick, blas)
    bench_training(args.quick)


def bench_denoiser(quick, blas):
    n, K, d = (512, 2000, 784) if quick else (4096, 10_000, 784)
    rng = np.random.default_rng(0)
    train = rng.uniform(-1, 1, (K, d))
    x = train[rng.integers(0, K, n)] + 3.0 * rng.standard_normal((n, d))
    sigma = 3.0
    print(f"exact denoiser: {n} queries, K={K}, d={d}, sigma={sigma} | BLAS threads {blas}, torch threads "
          f"{torch.get_num_threads()}")
    tx, ttrain = torch.tensor(x, dtype=torch.float32), torch.tensor(train, dtype=torch.float32)
    exact_denoiser(tx[:64], ttrain, 1.0, sigma)  # warm-up
    fast, t_fast, m_fast = measured(lambda: exact_denoiser(tx, ttrain, 1.0, sigma).numpy())
    plain, t_plain, m_plain = measured(lambda: numpy_matrix(x, train, sigma))
    n_loop = min(256, n)
    _, t_loop_part, m_loop = measured(lambda: numpy_loop(x[:n_loop], train, sigma))
    t_loop = t_loop_part * n / n_loop
    print(f"  raflab (torch float32, chunked)    {t_fast:7.2f} s   peak +{m_fast:7.0f} MiB")
    print(f"  numpy full matrix (float64)        {t_plain:7.2f} s   peak +{m_plain:7.0f} MiB   "
          f"ratio {t_plain / t_fast:5.1f}x")
    print(f"  numpy per-query loop (float64)     {t_loop:7.2f} s   peak +{m_loop:7.0f} MiB   "
          f"ratio {t_loop / t_fast:5.1f}x   (timed on {n_loop} queries, scaled)")
    print(f"  max |raflab - numpy| = {np.max(np.abs(fast - plain)):.2e} (float32 vs float64)")


def bench_training(quick):
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print("training throughput (after 10 warm-up steps, batch 128):")
    for device in devices:
        for label, data, net, width, steps in (("ring MLP (width 128)", "ring", "mlp", 128, 300),
                                               ("digits MLP (width 256)", "digits", "mlp", 256, 300),
                                               ("digits U-Net (base 16)", "digits", "unet", 16, 60)):
            steps = steps // 3 if quick else steps
            points, shape = training_points(data, 1000)
            train_score_model(points, TrainConfig(net=net, width=width, steps=10), device=device, image_shape=shape)
            model, rec = train_score_model(points, TrainConfig(net=net, width=width, steps=steps), device=device,
                                           image_shape=shape)
            n_params = sum(p.numel() for p in model.parameters())
            print(f"  {device:4s} {label:24s} {n_params:8d} params   {rec['steps_per_s']:7.1f} steps/s "
                  f"({steps} steps)")


if __name__ == "__main__":
    main()

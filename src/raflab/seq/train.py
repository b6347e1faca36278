"""One training loop for every network of the sequence lab (and any model with the same contract).

The contract: ``model(**batch)`` returns ``(logits, loss)``, where ``batch`` holds random rows of
every array in ``data``. The loop is plain code, readable top to bottom (nanoGPT's spirit):
AdamW, linear warm-up then cosine decay to ``min_lr``, gradient clipping, an evaluation hook every
``eval_every`` steps, an early stop when a target metric is reached, and checkpoints that resume
exactly (model, optimizer, the batch sampler's random state and the history all saved).

Reproducible on the CPU: ``config.seed`` is the run's seed; the batches come from a ``torch.Generator``
seeded by its ``"batches"`` stream, the noise of training mode (dropout, RReLU) from its ``"noise"``
stream, and :func:`raflab.seq.nets.make_model` draws the initial weights from its ``"weights"`` stream
(:func:`raflab.seq.nets.run_stream_seed`, from :func:`raflab.core.seeding.stream_seeds`): one integer
never seeds two streams. The global generators that dropout draws from are seeded only while the loop
runs and restored afterwards (:func:`training_noise`).
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator

from raflab.core.checkpoints import load_checkpoint
from raflab.core.device import resolve_device
from raflab.core.progress import rows_progress
from raflab.core.seeding import torch_generator
from raflab.seq import metrics
from raflab.seq.nets import run_stream_seed


class TrainConfig(BaseModel):
    """Optimisation settings; validated (a bad value is one clear error)."""

    model_config = ConfigDict(extra="forbid")

    steps: int = Field(1000, ge=1)
    lr: float = Field(3e-3, gt=0)
    min_lr: float | None = Field(None, ge=0, description="end of the cosine; None = lr / 10")
    warmup: int = Field(50, ge=0)
    batch_size: int = Field(64, ge=1, description="rows per step; >= the data size = the whole data set")
    weight_decay: float = Field(0.0, ge=0)
    beta1: float = Field(0.9, ge=0, lt=1)
    beta2: float = Field(0.99, ge=0, lt=1)
    grad_clip: float | None = Field(1.0, gt=0, description="max global gradient norm; None = no clipping")
    eval_every: int = Field(100, ge=1)
    target: float | None = Field(None, description="stop once target_metric reaches this value")
    seed: int = 0
    device: str = "auto"
    checkpoint: str | None = Field(None, description="file to save to at each evaluation and resume from")
    progress: bool = False

    @model_validator(mode="after")
    def _check(self):
        if self.min_lr is not None and self.min_lr > self.lr:
            raise ValueError(f"min_lr must be <= lr (got min_lr={self.min_lr:g}, lr={self.lr:g})")
        resolve_device(self.device)
        return self


@dataclass
class TrainResult:
    model: torch.nn.Module
    history: pd.DataFrame          # one row per evaluation: step, lr, train_loss, the hook's metrics, elapsed_s
    final: dict = field(default_factory=dict)  # the last evaluation
    steps: int = 0
    wall_s: float = 0.0
    tokens_per_s: float = float("nan")


def learning_rate(step: int, config: TrainConfig) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine from ``lr`` down to ``min_lr``."""
    min_lr = config.lr / 10 if config.min_lr is None else config.min_lr
    if step < config.warmup:
        return config.lr * (step + 1) / config.warmup
    span = max(1, config.steps - config.warmup)
    progress = min(1.0, (step - config.warmup) / span)
    return min_lr + 0.5 * (config.lr - min_lr) * (1.0 + math.cos(math.pi * progress))


def _as_tensors(data: dict, device: str) -> dict[str, torch.Tensor]:
    out = {}
    for name, array in data.items():
        tensor = array if isinstance(array, torch.Tensor) else torch.as_tensor(np.asarray(array))
        out[name] = tensor.to(device)
    sizes = {name: len(t) for name, t in out.items()}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"every array in data needs the same number of rows (got {sizes})")
    if not sizes or next(iter(sizes.values())) == 0:
        raise ValueError("no training rows")
    return out


#: what a training checkpoint holds (written at every evaluation); it also holds "noise" (the state of
#: the training noise, :func:`training_noise`), which a checkpoint written before it was kept may lack
CHECKPOINT_KEYS = ("model", "optimizer", "sampler", "history", "step")


def _noise_devices(device: torch.device) -> list[int]:
    if device.type != "cuda":
        return []
    return [device.index if device.index is not None else torch.cuda.current_device()]


@contextmanager
def training_noise(seed: int, device, state: dict | None = None):
    """Dropout and RReLU draw from the global generators (the CPU's and, on ``cuda``, the GPU's the
    model is on): inside this block they are seeded by ``seed`` (a run's ``"noise"`` stream), or set to
    ``state`` (:func:`noise_state` of a checkpoint); outside it they are as they were."""
    cuda = _noise_devices(torch.device(device))
    with torch.random.fork_rng(devices=cuda, device_type="cuda"):
        torch.random.default_generator.manual_seed(int(seed))
        for index in cuda:
            with torch.cuda.device(index):
                torch.cuda.manual_seed(int(seed))
        if state is not None:
            torch.set_rng_state(state["cpu"].cpu())
            for index in cuda:
                torch.cuda.set_rng_state(state["cuda"].cpu(), index)
        yield


def noise_state(device) -> dict:
    """The state of the generators :func:`training_noise` seeds, for a checkpoint."""
    cuda = _noise_devices(torch.device(device))
    state = {"cpu": torch.get_rng_state()}
    if cuda:
        state["cuda"] = torch.cuda.get_rng_state(cuda[0])
    return state


def train_model(model: torch.nn.Module, data: dict, config: TrainConfig | None = None,
                evaluate: Callable[[torch.nn.Module], dict] | None = None,
                target_metric: str = "train_accuracy") -> TrainResult:
    """Train ``model`` on ``data``; evaluate with ``evaluate(model)`` every ``eval_every`` steps.

    Parameters
    ----------
    model : torch.nn.Module
        ``model(**batch) -> (logits, loss)``.
    data : dict of arrays
        Same number of rows each (e.g. ``{"idx": inputs, "targets": targets}``).
    config : TrainConfig
    evaluate : callable, optional
        Returns a flat dict of metrics; it runs in ``eval`` mode without gradients. Its keys win
        over the loop's own (``train_loss`` = mean batch loss since the last evaluation, unless
        ``evaluate`` measures it on the whole training set).
    target_metric : str
        The metric compared with ``config.target`` for the early stop.

    Returns
    -------
    TrainResult
    """
    config = config or TrainConfig()
    device = resolve_device(config.device)
    model.to(device)
    tensors = _as_tensors(data, device)
    n_rows = len(next(iter(tensors.values())))
    batch_size = min(config.batch_size, n_rows)
    tokens_per_batch = batch_size * (tensors["idx"][0].numel() if "idx" in tensors else 1)

    decay, no_decay = [], []  # weight decay on matrices only, as in GPT-2 training
    for p in model.parameters():
        if p.requires_grad:
            (decay if p.dim() >= 2 else no_decay).append(p)
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": config.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}],
                                  lr=config.lr, betas=(config.beta1, config.beta2))
    # on the CPU: the same batches on any device
    sampler = torch_generator(run_stream_seed(config.seed, "batches"))
    history: list[dict] = []
    step = 0
    resumed_noise = None
    checkpoint = Path(config.checkpoint) if config.checkpoint else None
    if checkpoint is not None and checkpoint.exists():
        state = load_checkpoint(checkpoint, what="raflab seq train", map_location=device,
                                required=CHECKPOINT_KEYS)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        sampler.set_state(state["sampler"])
        history, step = state["history"], state["step"]
        resumed_noise = state.get("noise")

    def run_evaluation(loss_sum: float, loss_count: int) -> dict:
        row = {"step": step, "lr": learning_rate(max(step - 1, 0), config),
               "train_loss": float(loss_sum) / loss_count if loss_count else float("nan")}
        if evaluate is not None:
            model.eval()
            with torch.no_grad():
                row.update(evaluate(model))
            model.train()
        row["elapsed_s"] = elapsed + time.perf_counter() - start
        history.append(row)
        if checkpoint is not None:
            checkpoint.parent.mkdir(parents=True, exist_ok=True)
            tmp = checkpoint.with_suffix(checkpoint.suffix + ".tmp")
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "sampler": sampler.get_state(), "noise": noise_state(device), "history": history,
                        "step": step, "config": config.model_dump()}, tmp)
            tmp.replace(checkpoint)  # atomic: a crash mid-write leaves the previous checkpoint
        return row

    def reached(row: dict) -> bool:
        return config.target is not None and row.get(target_metric, -math.inf) >= config.target

    elapsed = history[-1]["elapsed_s"] if history else 0.0
    start, steps_at_start = time.perf_counter(), step
    model.train()
    loss_sum, loss_count = 0.0, 0
    done = bool(history) and reached(history[-1])
    with (training_noise(run_stream_seed(config.seed, "noise"), device, resumed_noise),
          rows_progress("training", config.steps, enabled=config.progress, unit="steps") as advance):
        advance(step)
        while step < config.steps and not done:
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(step, config)
            if batch_size == n_rows:
                batch = tensors
            else:
                rows = torch.randperm(n_rows, generator=sampler)[:batch_size].to(device)
                batch = {name: t[rows] for name, t in tensors.items()}
            _, loss = model(**batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            step += 1
            # summed on the device: a float() per step would synchronise a GPU every step
            loss_sum, loss_count = loss_sum + loss.detach(), loss_count + 1
            status = None
            if step % config.eval_every == 0 or step == config.steps:
                row = run_evaluation(loss_sum, loss_count)
                loss_sum, loss_count = 0.0, 0
                done = reached(row)
                status = " ".join(f"{k} {v:.3g}" for k, v in row.items()
                                  if k in ("train_loss", target_metric) and isinstance(v, float))
            advance(1, status=status)
    wall = time.perf_counter() - start
    trained = step - steps_at_start
    return TrainResult(model=model, history=pd.DataFrame(history), final=dict(history[-1]) if history else {},
                       steps=step, wall_s=elapsed + wall,
                       tokens_per_s=trained * tokens_per_batch / wall if trained and wall > 0 else float("nan"))


# --- evaluation of token sequences (the data of raflab.seq.tasks) ---------------------------

@torch.no_grad()
def sequence_outputs(model: torch.nn.Module, inputs, targets, batch_size: int = 512):
    """Argmax predictions and per-token cross-entropy (nats) of a model, both [N, T] numpy arrays.

    Positions whose target is IGNORE_INDEX get a loss of 0.
    """
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    predictions, losses = [], []
    for i in range(0, len(inputs), batch_size):
        idx = torch.as_tensor(np.asarray(inputs[i:i + batch_size])).to(device)
        tgt = torch.as_tensor(np.asarray(targets[i:i + batch_size])).to(device)
        logits, _ = model(idx)
        nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2).float(), tgt,
                                                ignore_index=metrics.IGNORE_INDEX, reduction="none")
        predictions.append(logits.argmax(-1).cpu().numpy())
        losses.append(nll.cpu().numpy())
    model.train(was_training)
    return np.concatenate(predictions), np.concatenate(losses)


def evaluate_split(model: torch.nn.Module, split, prefix: str = "train") -> dict:
    """Loss, token accuracy, exact-match accuracy and capacity of a model on a TokenSplit."""
    predictions, nll = sequence_outputs(model, split.inputs, split.targets)
    scored = np.asarray(split.targets) != metrics.IGNORE_INDEX
    hits = metrics.exact_match(predictions, split.targets, split.answer_mask)
    return {f"{prefix}_loss": float(nll[scored].mean()) if scored.any() else float("nan"),
            f"{prefix}_token_accuracy": metrics.token_accuracy(predictions, split.targets),
            f"{prefix}_accuracy": float(hits.mean()),
            f"{prefix}_exact": metrics.capacity(hits)}


def config_record(config: TrainConfig) -> dict:
    """The settings that identify a run, for records (device and bookkeeping left out)."""
    keep = ("steps", "lr", "batch_size", "seed")
    return {k: v for k, v in config.model_dump().items() if k in keep}


__all__ = ["TrainConfig", "TrainResult", "train_model", "learning_rate", "sequence_outputs", "evaluate_split",
           "config_record", "training_noise", "noise_state"]

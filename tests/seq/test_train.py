"""The training loop: schedule, reproducibility, exact resume, early stop, validation."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from raflab.seq.nets import RUN_STREAMS, run_stream_seed
from raflab.seq.train import TrainConfig, evaluate_split, learning_rate, train_model

torch.set_num_threads(1)


class Bigram(torch.nn.Module):
    """Next token from the current one: enough to learn a fixed permutation exactly."""

    def __init__(self, vocab: int, seed: int = 0):
        super().__init__()
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            self.table = torch.nn.Embedding(vocab, vocab)

    def forward(self, idx, targets=None):
        logits = self.table(idx)
        loss = None if targets is None else torch.nn.functional.cross_entropy(
            logits.transpose(1, 2), targets, ignore_index=-100)
        return logits, loss


def _permutation_data(vocab=12, rows=40, length=6, seed=0):
    rng = np.random.default_rng(seed)
    perm = rng.permutation(vocab)
    idx = rng.integers(0, vocab, size=(rows, length))
    return {"idx": idx, "targets": perm[idx]}, perm


def test_schedule_warmup_then_cosine_to_min_lr():
    cfg = TrainConfig(steps=110, lr=1e-2, min_lr=1e-4, warmup=10)
    assert learning_rate(0, cfg) == pytest.approx(1e-3)
    assert learning_rate(9, cfg) == pytest.approx(1e-2)
    assert learning_rate(60, cfg) == pytest.approx(1e-4 + 0.5 * (1e-2 - 1e-4))  # half way: the mean
    assert learning_rate(110, cfg) == pytest.approx(1e-4)


def test_same_seed_same_weights_and_resume_is_exact(tmp_path):
    data, _ = _permutation_data()
    cfg = dict(steps=60, lr=0.05, batch_size=8, eval_every=20, seed=3, device="cpu")
    full = train_model(Bigram(12), data, TrainConfig(**cfg)).model.table.weight.detach().clone()
    again = train_model(Bigram(12), data, TrainConfig(**cfg)).model.table.weight.detach()
    assert torch.equal(full, again)
    other = train_model(Bigram(12), data, TrainConfig(**{**cfg, "seed": 4})).model.table.weight.detach()
    assert not torch.equal(full, other)  # the seed drives the batches
    ckpt = tmp_path / "run.pt"
    train_model(Bigram(12), data, TrainConfig(**{**cfg, "steps": 60, "checkpoint": str(ckpt)}),
                ).model  # writes at steps 20, 40, 60
    state = torch.load(ckpt, weights_only=False)
    assert state["step"] == 60
    # crash after step 40: rebuild the checkpoint of step 40 by training 40 steps with the same schedule
    ckpt40 = tmp_path / "crash.pt"
    partial = TrainConfig(**{**cfg, "checkpoint": str(ckpt40)})
    model = Bigram(12)
    _interrupted_training(model, data, partial, stop_after=40)
    resumed = train_model(Bigram(12), data, partial)
    assert resumed.steps == 60
    assert torch.equal(resumed.model.table.weight.detach(), full)
    assert list(resumed.history["step"]) == [20, 40, 60]


class NoisyBigram(Bigram):
    """A Bigram with dropout: training draws from the global generator."""

    def forward(self, idx, targets=None):
        logits = torch.nn.functional.dropout(self.table(idx), 0.3, self.training)
        loss = None if targets is None else torch.nn.functional.cross_entropy(
            logits.transpose(1, 2), targets, ignore_index=-100)
        return logits, loss


def test_training_noise_comes_from_the_seed_and_leaves_the_global_generator_alone(tmp_path):
    """Dropout draws from the run's "noise" stream: the same seed trains the same weights, whatever the
    global generator holds, which training leaves as it was; a resumed run is exact with the noise."""
    data, _ = _permutation_data()
    cfg = dict(steps=60, lr=0.05, batch_size=8, eval_every=20, seed=3, device="cpu")
    before = torch.get_rng_state()
    full = train_model(NoisyBigram(12), data, TrainConfig(**cfg)).model.table.weight.detach().clone()
    assert torch.equal(torch.get_rng_state(), before)
    torch.rand(7)  # the global generator moves on; the run does not depend on it
    again = train_model(NoisyBigram(12), data, TrainConfig(**cfg)).model.table.weight.detach()
    assert torch.equal(full, again)
    partial = TrainConfig(**{**cfg, "checkpoint": str(tmp_path / "crash.pt")})
    _interrupted_training(NoisyBigram(12), data, partial, stop_after=40)
    resumed = train_model(NoisyBigram(12), data, partial)
    assert resumed.steps == 60 and torch.equal(resumed.model.table.weight.detach(), full)


def test_one_run_seed_gives_each_stream_its_own_seed():
    seeds = [run_stream_seed(0, name) for name in RUN_STREAMS]
    assert len(set(seeds)) == len(RUN_STREAMS) and 0 not in seeds
    assert run_stream_seed(0, "weights") != run_stream_seed(1, "weights")
    with pytest.raises(ValueError, match="unknown stream 'data'"):
        run_stream_seed(0, "data")


def _interrupted_training(model, data, config, stop_after):
    """Run until ``stop_after`` steps, then raise as a crash would (the checkpoint stays)."""
    def evaluate(m):
        if evaluate.calls * config.eval_every >= stop_after:
            raise KeyboardInterrupt
        evaluate.calls += 1
        return {}
    evaluate.calls = 0
    with pytest.raises(KeyboardInterrupt):
        train_model(model, data, config, evaluate=evaluate)


def test_learns_a_permutation_and_stops_at_the_target():
    data, perm = _permutation_data()
    split = SimpleNamespace(inputs=data["idx"], targets=data["targets"],
                       answer_mask=np.ones_like(data["idx"], dtype=bool))
    result = train_model(Bigram(12), data, TrainConfig(steps=2000, lr=0.1, eval_every=10, batch_size=40,
                                                       target=1.0, device="cpu"),
                         evaluate=lambda m: evaluate_split(m, split))
    assert result.final["train_accuracy"] == 1.0
    assert result.final["train_exact"] == 40
    assert result.steps < 2000  # stopped early
    assert result.steps % 10 == 0 and len(result.history) == result.steps // 10
    assert math.isfinite(result.tokens_per_s) and result.tokens_per_s > 0


@pytest.mark.parametrize("bad", [dict(steps=0), dict(lr=0), dict(min_lr=1.0, lr=0.1), dict(device="tpu"),
                                 dict(batch_size=0), dict(unknown=1)])
def test_bad_settings_are_rejected(bad):
    with pytest.raises((ValidationError, ValueError)):
        TrainConfig(**bad)


def test_rows_must_agree():
    with pytest.raises(ValueError, match="same number of rows"):
        train_model(Bigram(4), {"idx": np.zeros((3, 2), int), "targets": np.zeros((2, 2), int)},
                    TrainConfig(steps=1, device="cpu"))

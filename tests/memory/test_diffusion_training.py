"""Trained denoisers: checkpoint resume, U-Net shapes, and memorization vs generalization on the ring."""

import pytest
import torch

from raflab.memory.diffusion import VESchedule, phase_fractions, schedule_for
from raflab.memory.diffusion_models import SmallUNet, TrainConfig, load_score_model, train_score_model
from raflab.memory.experiments import generate, training_points


def test_resume_from_checkpoint_equals_uninterrupted_run(tmp_path):
    train, _ = training_points("ring", 16, seed=3)
    cfg = TrainConfig(steps=40, width=32, seed=3)
    straight, rec = train_score_model(train, cfg, checkpoint=tmp_path / "a.pt", checkpoint_every=7)
    _, rec_half = train_score_model(train, cfg, checkpoint=tmp_path / "b.pt", stop_at=17)
    assert rec_half["steps"] == 17
    resumed, rec_b = train_score_model(train, cfg, checkpoint=tmp_path / "b.pt")
    assert rec["steps"] == rec_b["steps"] == 40
    for (name, p), q in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(p, q), name
    loaded, points, state = load_score_model(tmp_path / "b.pt")
    assert torch.equal(points, train) and state["step"] == 40
    x = torch.randn(5, 2, dtype=torch.float32)
    assert torch.equal(loaded(x, 1.0, 0.3), resumed(x, 1.0, 0.3))


def test_resume_with_another_configuration_is_refused(tmp_path):
    train, _ = training_points("ring", 4)
    train_score_model(train, TrainConfig(steps=3, width=16), checkpoint=tmp_path / "c.pt")
    with pytest.raises(ValueError, match="another configuration"):
        train_score_model(train, TrainConfig(steps=6, width=32), checkpoint=tmp_path / "c.pt")


@pytest.mark.parametrize("shape", [(1, 8, 8), (1, 28, 28), (3, 32, 32)])
def test_unet_maps_flat_images_to_flat_images(shape):
    net = SmallUNet(shape, base=8)
    d = shape[0] * shape[1] * shape[2]
    out = net(torch.randn(3, d), torch.zeros(3))
    assert out.shape == (3, d) and net.levels == 2


def test_unet_trains_on_digits():
    train, shape = training_points("digits", 32)
    assert shape == (1, 8, 8) and train.shape == (32, 64) and float(train.min()) == -1.0
    model, rec = train_score_model(train, TrainConfig(net="unet", width=8, steps=30, batch_size=16), image_shape=shape)
    assert rec["steps"] == 30 and rec["loss"] < 2.0
    x = generate(model, train, 8, VESchedule(), sample_steps=5)
    assert x.shape == (8, 64) and torch.isfinite(x).all()


def _ring_fractions(K, steps, width, batch_size=128, samples=500, sample_steps=50, seed=0):
    train, _ = training_points("ring", K, seed)
    model, _ = train_score_model(train, TrainConfig(steps=steps, width=width, batch_size=batch_size, seed=seed))
    x = generate(model, train, samples, schedule_for("ve", train), seed, sample_steps=sample_steps)
    return phase_fractions(x, train)


def test_reduced_trained_network_memorizes_small_K_generalizes_large_K():
    # a quarter of the slow test's budget: the same two ends of the transition, looser bounds
    small = _ring_fractions(2, 800, 64, batch_size=64, samples=300, sample_steps=30)
    large = _ring_fractions(1000, 800, 64, batch_size=64, samples=300, sample_steps=30)
    assert small["memorized_fraction"] >= 0.85 and small["generalized_fraction"] <= 0.02
    assert large["generalized_fraction"] >= 0.7 and large["memorized_fraction"] <= 0.1


@pytest.mark.slow
def test_trained_network_memorizes_K2_and_generalizes_K1000():
    # the CLI defaults (width 128, 2000 steps, 1000 samples): the ends of docs/figures/diffusion_phases_ring.png
    small, large = _ring_fractions(2, 2000, 128, samples=1000), _ring_fractions(1000, 2000, 128, samples=1000)
    assert small["memorized_fraction"] >= 0.95
    assert large["generalized_fraction"] >= 0.75 and large["memorized_fraction"] <= 0.1


def test_training_progress_is_the_shared_bar_drawn_only_on_a_terminal(tmp_path, capsys, monkeypatch):
    import io
    import sys

    train, _ = training_points("ring", 4)
    cfg = TrainConfig(steps=60, width=16)
    train_score_model(train, cfg, quiet=False, checkpoint=tmp_path / "p.pt", stop_at=10)
    assert capsys.readouterr().err == ""  # asked for, but stderr is not a terminal: nothing drawn

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setenv("COLUMNS", "200")  # rich folds a bar narrower than its columns (a narrow pane)
    _, record = train_score_model(train, cfg, quiet=False, checkpoint=tmp_path / "p.pt")  # resumed at 10
    assert record["steps"] == 60
    drawn = terminal.getvalue()
    assert "train K=4" in drawn and "60/60" in drawn
    assert f"loss {record['loss']:.4f}" in drawn  # the status: the mean loss of the last 100 steps

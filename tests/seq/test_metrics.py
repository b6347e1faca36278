"""The sequence-lab metrics on hand-built cases (raflab.seq.metrics)."""

import numpy as np
import pytest

from raflab.seq import metrics

IGN = metrics.IGNORE_INDEX


def test_exact_match_needs_every_answer_position_and_ignores_the_rest():
    targets = np.array([[5, 6, 7], [5, 6, 7], [5, 6, 7]])
    mask = np.array([[False, True, True]] * 3)
    preds = np.array([[0, 6, 7],    # wrong outside the answer: still a match
                      [5, 6, 0],    # last answer token wrong
                      [5, 6, 7]])
    assert list(metrics.exact_match(preds, targets, mask)) == [True, False, True]
    assert metrics.exact_match_accuracy(preds, targets, mask) == pytest.approx(2 / 3)
    assert metrics.capacity(metrics.exact_match(preds, targets, mask)) == 2
    with pytest.raises(ValueError, match="at least one answer"):
        metrics.exact_match(preds, targets, np.zeros_like(mask))


def test_token_accuracy_counts_labelled_positions_only():
    targets = np.array([[IGN, 3, IGN, 4], [IGN, IGN, 2, IGN]])
    preds = np.array([[3, 3, 9, 0], [0, 0, 2, 2]])
    assert metrics.token_accuracy(preds, targets) == pytest.approx(2 / 3)
    assert np.isnan(metrics.token_accuracy(preds, np.full_like(targets, IGN)))


def test_multiple_choice_perfect_uniform_and_ties():
    correct = np.array([0, 3, 1, 2])
    perfect = np.full((4, 4), -50.0)
    perfect[np.arange(4), correct] = 0.0  # all mass on the right option
    assert metrics.multiple_choice_accuracy(perfect, correct) == 1.0
    assert metrics.multiple_choice_accuracy(np.zeros((4, 4)), correct) == pytest.approx(0.25)
    assert metrics.multiple_choice_accuracy(np.zeros((7, 10)), np.arange(7)) == pytest.approx(0.1)
    two_way = np.array([[0.0, 0.0, -1.0, -1.0]])
    assert metrics.multiple_choice_accuracy(two_way, [1]) == pytest.approx(0.5)


def test_memorized_bits_uniform_perfect_and_clipped():
    vocab = 16
    n, t = 5, 8
    uniform = np.full((n, t), np.log(vocab))
    assert metrics.memorized_bits(uniform, vocab) == pytest.approx(0.0)
    perfect = np.zeros((n, t))
    assert metrics.memorized_bits(perfect, vocab) == pytest.approx(n * t * 4.0)  # log2 16 = 4 bits a token
    worse = np.full((n, t), 2 * np.log(vocab))  # coded worse than uniform: clipped to 0 per string
    mixed = np.vstack([perfect[:1], worse[:1]])
    assert metrics.memorized_bits(mixed, vocab) == pytest.approx(t * 4.0)
    targets = np.zeros((n, t), int)
    targets[:, 0] = IGN  # the first token of a string cannot be predicted: not counted
    assert metrics.memorized_bits(perfect, vocab, targets) == pytest.approx(n * (t - 1) * 4.0)
    assert metrics.bits_per_parameter(100.0, 50) == 2.0


def test_extraction_rate_and_mac():
    gen = np.array([[1, 2, 3], [1, 2, 4], [0, 0, 0]])
    ref = np.array([[1, 2, 3], [1, 2, 3], [0, 0, 0]])
    assert metrics.extraction_rate(gen, ref) == pytest.approx(2 / 3)
    assert metrics.maximum_attainable_capacity([3, 9, 7]) == 9


def test_teacher_forced_exact_match_is_greedy_generation():
    """The identity exact_match relies on: for a partly trained model, a line counts as matched exactly
    when greedy decoding from its prompt writes its answer (checked line by line)."""
    import torch

    from raflab.seq.nets import make_model
    from raflab.seq.studies import build_task, net_config, seq_run, train_config
    from raflab.seq.train import sequence_outputs, train_model

    torch.set_num_threads(1)
    run = seq_run("arithmetic", width=14, steps=150, layout="lines", device="cpu", eval_every=150)
    task = build_task(run)
    model = make_model(net_config(run, task), seed=0)
    split = task.train
    train_model(model, {"idx": split.inputs, "targets": split.targets}, train_config(run))
    predictions, _ = sequence_outputs(model, split.inputs, split.targets)
    teacher_forced = metrics.exact_match(predictions, split.targets, split.answer_mask)
    greedy = []
    for inputs, targets, mask in zip(split.inputs, split.targets, split.answer_mask):
        first = int(np.argmax(mask))  # position whose prediction is the answer's first token
        answer = targets[mask]
        prompt = torch.as_tensor(inputs[None, :first + 1])
        written = model.generate(prompt, max_new_tokens=len(answer))[0, first + 1:].numpy()
        greedy.append(bool(np.array_equal(written, answer)))
    assert 0 < teacher_forced.sum() < len(teacher_forced)  # a mixed case, not all right or all wrong
    assert list(teacher_forced) == greedy

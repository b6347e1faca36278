"""Sequence-lab metrics: exact match, token accuracy, capacity, memorized bits. With the per-token
losses of the model, these functions define what is counted."""

from __future__ import annotations

import numpy as np

#: targets equal to this are not scored (PyTorch's cross-entropy convention)
IGNORE_INDEX = -100


def exact_match(predictions, targets, answer_mask) -> np.ndarray:
    """Per sequence: True when the argmax prediction equals the target at every answer position.

    With teacher forcing this is exactly "greedy generation reproduces the answer": if every
    answer token is the argmax given the true prefix, greedy decoding writes that prefix itself.
    """
    predictions, targets = np.asarray(predictions), np.asarray(targets)
    answer_mask = np.asarray(answer_mask, dtype=bool)
    if predictions.shape != targets.shape or targets.shape != answer_mask.shape:
        raise ValueError(f"shapes differ: predictions {predictions.shape}, targets {targets.shape}, "
                         f"answer_mask {answer_mask.shape}")
    if not answer_mask.reshape(len(answer_mask), -1).any(axis=1).all():
        raise ValueError("every sequence needs at least one answer position")
    wrong = (predictions != targets) & answer_mask
    return ~wrong.reshape(len(wrong), -1).any(axis=1)


def exact_match_accuracy(predictions, targets, answer_mask) -> float:
    """Fraction of sequences whose whole answer is predicted (NaN for no sequences)."""
    hits = exact_match(predictions, targets, answer_mask)
    return float(hits.mean()) if hits.size else float("nan")


def token_accuracy(predictions, targets, ignore_index: int = IGNORE_INDEX) -> float:
    """Accuracy over the labelled positions (e.g. MQAR's query positions); NaN when none is labelled."""
    predictions, targets = np.asarray(predictions), np.asarray(targets)
    scored = targets != ignore_index
    return float((predictions[scored] == targets[scored]).mean()) if scored.any() else float("nan")


def capacity(exact_hits) -> int:
    """Capacity of a model on a set of items: how many it predicts exactly (Changalidis & Härmä)."""
    return int(np.sum(np.asarray(exact_hits, dtype=bool)))


def maximum_attainable_capacity(capacities) -> int:
    """MAC: the best capacity reached at any evaluation during training."""
    capacities = np.asarray(capacities)
    if capacities.size == 0:
        raise ValueError("no capacities recorded")
    return int(np.max(capacities))


def memorized_bits(token_nll_nats, vocab_size: int, targets=None, ignore_index: int = IGNORE_INDEX) -> float:
    """Bits a model holds about uniformly random strings (Morris et al. 2025, random-string protocol).

    Per string, log2(V) bits per predicted token minus the model's code length (its cross-entropy in
    bits), clipped at 0: a string the model codes worse than uniformly can always be sent with the
    uniform code, so no string contributes negative information. ``token_nll_nats`` is [N, T]
    (per-token cross-entropy); positions whose target is ``ignore_index`` are not counted.
    """
    nll = np.asarray(token_nll_nats, dtype=float)
    counted = np.ones_like(nll, dtype=bool) if targets is None else np.asarray(targets) != ignore_index
    if vocab_size < 2:
        raise ValueError(f"vocab_size must be >= 2 (got {vocab_size})")
    saved = np.where(counted, np.log2(vocab_size) - nll / np.log(2.0), 0.0)
    return float(np.clip(saved.reshape(len(saved), -1).sum(axis=1), 0.0, None).sum())


def bits_per_parameter(bits: float, n_parameters: int) -> float:
    if n_parameters <= 0:
        raise ValueError(f"n_parameters must be > 0 (got {n_parameters})")
    return float(bits) / n_parameters


def extraction_rate(generated, reference) -> float:
    """k/k extraction: fraction of prompts whose greedy k-token continuation equals the true one."""
    generated, reference = np.asarray(generated), np.asarray(reference)
    if generated.shape != reference.shape:
        raise ValueError(f"generated {generated.shape} and reference {reference.shape} differ in shape")
    return float((generated == reference).all(axis=1).mean()) if len(generated) else float("nan")


def multiple_choice_accuracy(option_logliks, correct_index) -> float:
    """Accuracy of picking the option with the highest log-likelihood; ties share the credit.

    Sharing the credit among tied options makes a model that scores every option alike (uniform)
    score exactly chance, 1/K, instead of favouring the first option.
    """
    logliks = np.asarray(option_logliks, dtype=float)
    correct_index = np.asarray(correct_index, dtype=int)
    if logliks.ndim != 2 or len(logliks) != len(correct_index):
        raise ValueError(f"option_logliks must be [N, K] with N = len(correct_index) "
                         f"(got {logliks.shape} and {correct_index.shape})")
    best = logliks == logliks.max(axis=1, keepdims=True)
    credit = best[np.arange(len(best)), correct_index] / best.sum(axis=1)
    return float(credit.mean()) if len(credit) else float("nan")


def plateau_reached(curve, window: int, rel_tol: float) -> bool:
    """True when a growing curve (e.g. memorized bits at successive evaluations) has stopped growing:
    over its last ``window`` evaluations it rose by at most ``rel_tol`` of its value ``window``
    evaluations ago, ``curve[-1] - curve[-1 - window] <= rel_tol * |curve[-1 - window]|``.

    False while the curve has ``window`` evaluations or fewer, and while it is still at 0 (nothing
    learned yet is not a plateau). A curve that falls over the window counts as stopped.

    >>> plateau_reached([100, 200, 260, 261, 262], window=2, rel_tol=0.01)
    True
    >>> plateau_reached([100, 200, 260, 261, 262], window=3, rel_tol=0.01)
    False
    """
    values = np.asarray(curve, dtype=float)
    if values.ndim != 1:
        raise ValueError(f"curve must be one-dimensional, got shape {values.shape}")
    if isinstance(window, bool) or int(window) != window or window < 1:
        raise ValueError(f"window must be an integer >= 1, got {window!r}")
    if not rel_tol >= 0:
        raise ValueError(f"rel_tol must be >= 0, got {rel_tol!r}")
    if not np.isfinite(values).all():
        raise ValueError("curve has NaN or infinite values")
    if len(values) <= window:
        return False
    start, end = values[-1 - int(window)], values[-1]
    if start == 0 and end == 0:
        return False
    return bool(end - start <= rel_tol * abs(start))

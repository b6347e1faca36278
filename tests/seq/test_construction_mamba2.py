"""The hand-set Mamba-2 mixer on MQAR: exact recall when the state holds every key, and exactly the
collision-free fraction of the queries when it does not (raflab.seq.construction_mamba2)."""

import numpy as np
import pytest
import torch

from raflab.seq.construction_mamba2 import (
    collision_free_fraction,
    construction_accuracy,
    construction_predictions,
    hand_set_mamba2_mixer,
)
from raflab.seq.tasks.mqar import MQARConfig, mqar_task

torch.set_num_threads(1)


def _split(vocab, seq_len, pairs, n=200, seed=0, random_non_queries=False):
    config = MQARConfig(vocab_size=vocab, seq_len=seq_len, num_pairs=pairs, num_examples=n, num_heldout=0,
                        random_non_queries=random_non_queries)
    return mqar_task(config, np.random.default_rng(seed)).train


@pytest.mark.parametrize("vocab, seq_len, pairs, n", [(64, 32, 4, 200), (64, 64, 8, 200), (128, 160, 32, 16)])
def test_a_state_with_a_slot_per_key_recalls_every_query(vocab, seq_len, pairs, n):
    # 160 tokens: three chunks of the SSD scan
    split = _split(vocab, seq_len, pairs, n=n)
    mixer = hand_set_mamba2_mixer(vocab, d_state=vocab // 2)
    predictions = construction_predictions(mixer, split.inputs)
    assert (predictions[split.answer_mask] == split.targets[split.answer_mask]).all()
    assert construction_accuracy(mixer, split) == 1.0


def test_a_small_state_degrades_to_exactly_the_collision_free_fraction():
    split = _split(64, 64, 8)
    measured = {n: construction_accuracy(hand_set_mamba2_mixer(64, d_state=n), split) for n in (32, 16, 8, 4, 2)}
    expected = {n: collision_free_fraction(split, 64, n) for n in measured}
    assert measured == expected  # exact: the recall is decided by the key codes alone
    assert measured[32] == 1.0 and measured[16] < 0.85 and measured[4] < 0.2 and measured[2] < 0.02
    assert list(measured.values()) == sorted(measured.values(), reverse=True)
    # at a fixed state, more pairs means more collisions
    assert collision_free_fraction(_split(64, 32, 4), 64, 8) > collision_free_fraction(split, 64, 8) + 0.1


def test_the_mixer_output_is_the_value_score_alone():
    split = _split(64, 32, 4, n=20)
    mixer = hand_set_mamba2_mixer(64, d_state=32)
    with torch.no_grad():
        out = mixer(torch.nn.functional.one_hot(torch.as_tensor(split.inputs), 64).double())
    at_queries = out[torch.as_tensor(split.answer_mask)]
    assert (at_queries[:, :32] == 0).all()  # nothing outside the value coordinates
    assert ((at_queries > 0).sum(dim=-1) == 1).all()  # one value recalled per query
    assert (out[torch.as_tensor(~split.answer_mask)][:, 32:].abs().sum(dim=-1)[-10:] == 0).all()  # fillers read 0


def test_random_filler_pairs_can_only_lower_the_recall():
    split = _split(64, 64, 8, random_non_queries=True)
    accuracy = construction_accuracy(hand_set_mamba2_mixer(64, d_state=32), split)
    assert 0.85 < accuracy < 1.0  # a filler key followed by a filler value writes a spurious pair


def test_bad_construction_sizes_are_clear_errors():
    with pytest.raises(ValueError, match="d_conv must be >= 2"):
        hand_set_mamba2_mixer(64, 32, d_conv=1)

"""Hand-set MQAR solutions in the selective scan, checked exactly on generated sequences."""

import numpy as np
import pytest

from raflab.seq.constructions import (
    expected_s6_accuracy,
    number_of_keys,
    recall_accuracy,
    s4d_recall_scores,
    s6_recall_scores,
    slot_collision_free,
)
from raflab.seq.tasks.mqar import MQARConfig, mqar_task

VOCAB = 64  # 31 keys, 32 values


def _split(pairs: int, n: int = 64, seed: int = 0):
    config = MQARConfig(vocab_size=VOCAB, seq_len=max(32, 4 * pairs), num_pairs=pairs, num_examples=n, num_heldout=0,
                        random_non_queries=False)
    return mqar_task(config, np.random.default_rng(seed)).train


@pytest.mark.parametrize("pairs", [1, 2, 4, 8, 16])
def test_s6_with_a_slot_per_key_recalls_every_query(pairs):
    split = _split(pairs)
    for d_state in (number_of_keys(VOCAB), 40):
        assert recall_accuracy(s6_recall_scores(split.inputs, VOCAB, d_state), split.targets, VOCAB) == 1.0


@pytest.mark.parametrize("pairs", [2, 4, 8, 16])
@pytest.mark.parametrize("d_state", [4, 8, 16])
def test_s6_with_shared_slots_fails_exactly_where_keys_collide(pairs, d_state):
    split = _split(pairs, seed=pairs + d_state)
    scores = s6_recall_scores(split.inputs, VOCAB, d_state)
    collision_free = slot_collision_free(split.inputs, split.targets, VOCAB, d_state)
    rows, cols = np.nonzero(split.targets != -100)
    # the construction is right at a query exactly when its key owns its slot in this sequence
    right = [recall_accuracy(scores[r:r + 1, c:c + 1], split.targets[r:r + 1, c:c + 1], VOCAB) == 1.0
             for r, c in zip(rows, cols)]
    assert np.array_equal(np.array(right), collision_free)
    accuracy = recall_accuracy(scores, split.targets, VOCAB)
    assert accuracy < 1.0
    if d_state < pairs:  # pigeonhole: every sequence loses at least two queries
        per_row = collision_free.reshape(len(split.inputs), pairs).sum(axis=1)
        assert per_row.max() <= pairs - 2


def test_expected_s6_accuracy_by_hand_and_against_sampling():
    # V = 8: keys 1, 2, 3 in slots 0, 1, 0 (N = 2); a query loses when its partner shares its slot:
    # key 1 (partner 3 of {2, 3}) 1/2, key 2 never, key 3 1/2: mean 2/3
    assert expected_s6_accuracy(8, 2, 2) == pytest.approx(2 / 3)
    assert expected_s6_accuracy(VOCAB, 4, number_of_keys(VOCAB)) == pytest.approx(1.0)
    split = _split(8, n=500, seed=3)
    measured = recall_accuracy(s6_recall_scores(split.inputs, VOCAB, 8), split.targets, VOCAB)
    # 4000 queries (correlated within a row; s.e. about 0.01): inside 0.03 of the expectation 0.450
    assert measured == pytest.approx(expected_s6_accuracy(VOCAB, 8, 8), abs=0.03)


@pytest.mark.parametrize("pairs", [2, 4, 8, 16])
def test_s4d_reads_the_same_for_every_key_so_one_query_per_sequence_is_right(pairs):
    split = _split(pairs)
    assert recall_accuracy(s4d_recall_scores(split.inputs, VOCAB), split.targets, VOCAB) == pytest.approx(1 / pairs)
    assert recall_accuracy(s4d_recall_scores(split.inputs, VOCAB, decay=0.0), split.targets, VOCAB) == 0.0


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="d_state"):
        s6_recall_scores(np.zeros((1, 4), dtype=int), VOCAB, 0)
    with pytest.raises(ValueError, match="tokens must lie"):
        s6_recall_scores(np.full((1, 4), VOCAB), VOCAB, 4)
    with pytest.raises(ValueError, match="no query positions"):
        recall_accuracy(np.zeros((1, 4, 32)), np.full((1, 4), -100), VOCAB)

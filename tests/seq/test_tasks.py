import importlib.util
import math

import numpy as np
import pytest

from raflab.seq.tasks import (
    IGNORE_INDEX,
    TASKS,
    MQARConfig,
    arithmetic_and_facts_task,
    arithmetic_lines,
    arithmetic_task,
    decode,
    encode,
    facts_task,
    kg_triplet_task,
    kg_walk_task,
    make_task,
    mqar_task,
    one_tail_per_pair,
    random_kg,
    random_strings_task,
    umls_graph,
)


def _answers(task, split):
    """The decoded answer span of every row of a split."""
    return [decode(task, np.where(m, y, IGNORE_INDEX)) for y, m in zip(split.targets, split.answer_mask)]


def _lines(task, split):
    return [decode(task, y).rstrip("\n") for y in split.targets]


def test_arithmetic_counts_heldout_and_answers():
    task = arithmetic_task()
    assert (task.vocab_size, task.block_size) == (17, 9)
    assert task.train.inputs.shape == (196, 9) and task.heldout.inputs.shape == (4, 9)
    train, heldout = _lines(task, task.train), _lines(task, task.heldout)
    assert len(set(train) | set(heldout)) == 200
    assert sorted(heldout) == ["<5+7=12>", "<5-7=-2>", "<7+5=12>", "<7-5=2>"]
    assert not set(heldout) & set(train)
    assert not any(("5" in s[1] + s[3] and "7" in s[1] + s[3]) for s in train)
    assert "<2-7=-5>" in train and "<9+9=18>" in train
    assert sorted(_answers(task, task.heldout)) == ["-2>", "12>", "12>", "2>"]
    # next-token alignment: the target at t is the input at t + 1, up to the closing newline
    x, y = task.train.inputs, task.train.targets
    inner = (y[:, :-1] != IGNORE_INDEX) & (y[:, 1:] != IGNORE_INDEX)
    assert np.array_equal(y[:, :-1][inner], x[:, 1:][inner])
    assert decode(task, x[0]).startswith("\n<")


def test_facts_and_both():
    facts = facts_task()
    assert len(facts.train) == 50 and facts.heldout is None
    lines = _lines(facts, facts.train)
    assert "Capital of France is Paris" in lines and "Capital of the USA is Washington DC" in lines
    assert _answers(facts, facts.train)[lines.index("Capital of Zambia is Lusaka")] == "Lusaka\n"
    longest = max(len(s) for s in lines)
    assert longest == len("Capital of the Netherlands is Amsterdam") and facts.block_size == longest + 1
    both = arithmetic_and_facts_task()
    assert len(both.train) == 246 and len(both.heldout) == 4 and both.block_size == facts.block_size
    assert set(arithmetic_task().itos) | set(facts.itos) == set(both.itos)
    assert both.vocab_size == 66
    # the held-out prompt is a prefix of the line: '<5+7=' is followed by the scored answer
    row = both.heldout.answer_mask[0]
    assert decode(both, both.heldout.inputs[0][: row.argmax() + 1]) == "\n<5+7="
    prompt = encode(facts, "\nCapital of Zambia is ")
    i = lines.index("Capital of Zambia is Lusaka")
    assert np.array_equal(facts.train.inputs[i, : len(prompt)], prompt)
    assert facts.train.answer_mask[i].argmax() == len(prompt) - 1


def test_mqar_semantics():
    cfg = MQARConfig(vocab_size=64, seq_len=48, num_pairs=6, num_examples=400, num_heldout=50)
    task = mqar_task(cfg, np.random.default_rng(3))
    x, y, m = task.train.inputs, task.train.targets, task.train.answer_mask
    assert x.shape == (400, 48) and len(task.heldout) == 50
    keys, values = x[:, 0:12:2], x[:, 1:12:2]
    assert keys.min() >= 1 and keys.max() < 32 and values.min() >= 32 and values.max() < 64
    assert all(len(set(r)) == 6 for r in keys) and all(len(set(r)) == 6 for r in values)
    # one label per query, none elsewhere; the label is the value paired with the queried key
    assert np.array_equal(m, y != IGNORE_INDEX) and (m.sum(axis=1) == 6).all() and not m[:, :12].any()
    for i in range(20):
        pos = np.flatnonzero(m[i])
        assert (pos % 2 == 0).all()
        table = dict(zip(keys[i], values[i]))
        assert sorted(x[i, pos]) == sorted(keys[i]) and all(y[i, p] == table[x[i, p]] for p in pos)
    # power law a = 0.01: gap 0 is the likeliest; uniform gaps (a = 1) spread out
    gaps = (np.flatnonzero(m.ravel()) % 48 - 12) // 2
    uni = mqar_task(cfg.model_copy(update={"power_a": 1.0}), np.random.default_rng(3)).train
    gaps_uni = (np.flatnonzero(uni.answer_mask.ravel()) % 48 - 12) // 2
    assert np.bincount(gaps).argmax() == 0 and gaps.mean() < gaps_uni.mean() - 1
    # same rng, same data
    again = mqar_task(cfg, np.random.default_rng(3))
    assert np.array_equal(again.train.inputs, x)


def test_mqar_bad_input():
    with pytest.raises(ValueError, match="even"):
        MQARConfig(seq_len=63)
    with pytest.raises(ValueError, match="does not fit"):
        MQARConfig(seq_len=32, num_pairs=9)
    with pytest.raises(ValueError, match="too small"):
        MQARConfig(vocab_size=16, seq_len=64, num_pairs=8)


def test_random_kg_and_triplet_task():
    rng = np.random.default_rng(0)
    kg = random_kg(50, 4, 150, rng)
    assert kg.shape == (150, 3) and len({(h, r) for h, r, _ in kg.tolist()}) == 150
    task = kg_triplet_task(kg, num_entities=50, num_relations=4)
    assert (task.vocab_size, task.block_size) == (54, 2)
    assert task.info["bits"] == pytest.approx(150 * math.log2(50))
    assert (task.train.inputs[:, 1] >= 50).all() and (task.train.targets[:, 0] == IGNORE_INDEX).all()
    # a graph with two tails for one pair: one is kept, so the target is a function of the input
    multi = np.array([[0, 0, 1], [0, 0, 2], [1, 0, 2], [2, 1, 0]])
    with pytest.raises(ValueError, match="several tails"):
        kg_triplet_task(multi)
    kept = one_tail_per_pair(multi, np.random.default_rng(1))
    assert len(kept) == 3 and {tuple(r) for r in kept[1:]} == {(1, 0, 2), (2, 1, 0)}
    picks = {int(one_tail_per_pair(multi, np.random.default_rng(s))[0, 2]) for s in range(20)}
    assert picks == {1, 2}
    with pytest.raises(ValueError, match="num_triplets"):
        random_kg(5, 2, 11, rng)


def test_walks_use_each_pair_once():
    rng = np.random.default_rng(2)
    kg = random_kg(30, 3, 90, rng)
    task = kg_walk_task(kg, 12, rng=rng)
    x, y, m = task.train.inputs, task.train.targets, task.train.answer_mask
    assert x.shape == (12, 10) and task.vocab_size == 34
    tail = {(h, r): t for h, r, t in kg.tolist()}
    used = []
    for i in range(12):
        n_edges = int(m[i].sum())
        assert 3 <= n_edges <= 5
        walk = list(x[i, : 2 * n_edges]) + [y[i, 2 * n_edges - 1]]
        for j in range(n_edges):
            node, edge, nxt = walk[2 * j], walk[2 * j + 1] - 30, walk[2 * j + 2]
            assert tail[(node, edge)] == nxt and y[i, 2 * j + 1] == nxt
            used.append((node, edge))
        assert (x[i, 2 * n_edges:] == 33).all()
    assert len(used) == len(set(used)) == task.info["edges_used"]
    with pytest.raises(ValueError, match="need more"):
        kg_walk_task(kg, 31, rng=rng)


def test_random_strings_entropy():
    task = random_strings_task(40, 17, 32, np.random.default_rng(0), num_heldout=5)
    assert task.train.inputs.shape == (40, 16) and task.block_size == 16 and len(task.heldout) == 5
    assert task.info["entropy_bits"] == 40 * 16 * 5
    assert np.array_equal(task.train.targets[:, :-1], task.train.inputs[:, 1:])
    assert task.train.answer_mask.all()


def test_umls_reader_and_missing_package(tmp_path, monkeypatch):
    for split, rows in (("train", ["a\tisa\tb", "b\tisa\tc"]), ("valid", ["a\tpart_of\tc"]), ("test", [])):
        (tmp_path / f"{split}.txt").write_text("\n".join(rows) + "\n")
    triplets, entities, relations = umls_graph(tmp_path)
    assert entities == ("a", "b", "c") and relations == ("isa", "part_of")
    assert triplets.tolist() == [[0, 0, 1], [1, 0, 2], [0, 1, 2]]
    task = make_task("kg", np.random.default_rng(0), graph="umls", umls_dir=tmp_path)
    assert decode(task, task.train.inputs[0]) == "a isa"
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ValueError, match="pip install pykeen"):
        umls_graph()


def test_make_task_dispatch_and_bad_input():
    rng = np.random.default_rng(0)
    assert make_task("arithmetic").train.inputs.shape == (196, 9)
    assert make_task("random", rng, num_strings=3, length=5).train.inputs.shape == (3, 4)
    assert make_task("walks", rng, num_walks=5).train.inputs.shape == (5, 10)
    with pytest.raises(ValueError, match="arithmetic, facts"):
        make_task("sorting", rng)
    with pytest.raises(ValueError, match="^config: seq_len must be even, got 63$"):
        make_task("mqar", rng, seq_len=63)
    with pytest.raises(ValueError, match="num_pairz"):
        make_task("mqar", rng, num_pairz=3)
    with pytest.raises(ValueError, match="only the option\(s\) layout, got length"):
        make_task("facts", rng, length=3)
    assert TASKS[0] == "arithmetic"


@pytest.mark.skipif(importlib.util.find_spec("pykeen") is None, reason="pykeen is not installed")
def test_umls_from_pykeen():
    triplets, entities, relations = umls_graph()
    assert triplets.shape == (6529, 3) and len(entities) == 135 and len(relations) == 46
    # 834 distinct (head, relation) pairs: one tail kept per pair
    assert len(make_task("kg", np.random.default_rng(0), graph="umls").train) == 834


def test_stream_layout_is_every_window_of_the_training_text():
    """The char tasks train (task.fit) on every window of one text, as nanoGPT does; the held-out
    lines never appear in it, and the evaluated rows (task.train) are the lines themselves."""
    task = make_task("arithmetic")
    text = "\n" + "\n".join(line.ljust(8) for line in arithmetic_lines()[0]) + "\n"
    assert task.fit.inputs.shape == (len(text) - 9, 9)
    for i in (0, 17, len(text) - 10):
        assert decode(task, task.fit.inputs[i]) == text[i:i + 9]
        assert decode(task, task.fit.targets[i]) == text[i + 1:i + 10]
    for line in arithmetic_lines()[1]:
        assert line not in text
    lines = make_task("arithmetic", layout="lines")
    assert lines.fit is None and lines.fit_split is lines.train
    with pytest.raises(ValueError, match="unknown layout"):
        make_task("facts", layout="diagonal")

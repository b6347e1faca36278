"""Too Big to Think (Barron & White 2025): facts need width; the narrow model keeps the rule."""

import numpy as np
import pytest

from raflab.seq.studies import run_sequence_experiment, seq_run


def test_width_56_stores_the_50_capitals_and_width_14_does_not():
    """Reduced (aligned lines, 400 steps): 56 wide stores all 50 facts; 14 wide about 8% (the paper: 8.2%)."""
    common = dict(steps=400, layout="lines", eval_every=100, device="cpu", lr=1e-2)
    wide = run_sequence_experiment(seq_run("facts", width=56, **common))
    narrow = run_sequence_experiment(seq_run("facts", width=14, **common))
    assert wide["params"] == 20440 + (51 - 17) * 56 + (40 - 9) * 56  # the paper's 20K model, facts vocab/block
    assert wide["train_accuracy"] == 1.0 and wide["capacity"] == 50
    assert narrow["train_accuracy"] <= 0.5


@pytest.mark.slow
def test_narrow_model_extrapolates_wide_models_memorize_the_lines():
    """The paper's protocol (windows of the text stream), 6000 steps, 2 seeds: the 56-wide model answers
    every training line and loses held-out 5&7 expressions; the 14-wide one keeps more of them."""
    held = {}
    for width in (14, 56):
        runs = [run_sequence_experiment(seq_run("arithmetic", width=width, steps=6000, batch=256, eval_every=500,
                                                seed=seed, device="cpu")) for seed in (0, 1)]
        held[width] = np.mean([r["heldout_accuracy"] for r in runs])
        if width == 56:
            assert all(r["train_accuracy"] == 1.0 for r in runs)  # the 196 lines memorized
    assert held[14] >= held[56] + 0.25


def test_two_digit_heldout_set_is_the_paper_pair_at_every_place():
    """digits=2: 792 held-out lines (resolution 1/792), disjoint from the 19,208 training lines, each
    putting 5 and 7 at one place value; training sees 5 and 7 at both places with every other partner."""
    from raflab.seq.tasks import arithmetic_lines, decode, make_task

    train, heldout = arithmetic_lines(digits=2)
    assert (len(train), len(heldout)) == (19208, 792) and 1 / len(heldout) <= 0.01
    assert not set(train) & set(heldout) and len(set(train) | set(heldout)) == 20000

    def places(line):  # ("05", "17") from "<05+17=22>"
        a, b = line[1:3], line[4:6]
        return list(zip(a, b))

    assert all(any({x, y} == {"5", "7"} for x, y in places(line)) for line in heldout)
    assert not any({x, y} == {"5", "7"} for line in train for x, y in places(line))
    seen = {(p, x, y) for line in train for p, (x, y) in enumerate(places(line))}
    for p in (0, 1):
        for d in range(10):
            partners = {int(y) for (q, x, y) in seen if q == p and x == str(d)}
            assert partners == set(range(10)) - ({7} if d == 5 else {5} if d == 7 else set())
    # the task: the held-out lines evaluated, never in the training stream; answers checked
    task = make_task("arithmetic", digits=2)
    assert len(task.heldout) == 792 and len(task.train) == 19208 and task.block_size == 12
    assert decode(task, task.heldout.inputs[0]).rstrip(" ") == "\n<05+07=12>"
    stream = decode(task, task.fit.inputs[:, 0]) + decode(task, task.fit.inputs[-1, 1:])  # the training text
    assert "<05+07=" not in stream and "<57-75=-18>" in heldout and "<57-75=" not in stream
    assert "<57-57=0>" in train and "<57-57=0>" in stream  # 5 and 7 at different places: trained
    # the paper's single digits: the four 5&7 lines
    assert arithmetic_lines()[1] == ["<5+7=12>", "<7+5=12>", "<5-7=-2>", "<7-5=2>"]
    with pytest.raises(ValueError, match="unknown digits 3"):
        arithmetic_lines(digits=3)
    with pytest.raises(ValueError, match="only the option\\(s\\) layout, got digits"):
        make_task("facts", digits=2)

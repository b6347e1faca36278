"""Too Big to Think (Barron & White 2025): facts need width; the narrow model keeps the rule."""

import numpy as np
import pytest

from raflab.seq.studies import run_sequence_experiment, seq_run


@pytest.mark.slow  # 9-45 s measured (two 400-step runs)
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


def test_paper_card_has_the_paper_sizes_and_runs_one_tiny_unit_on_cpu(tmp_path):
    """configs/paper/too_big_to_think.yaml: 30K steps, widths 14..56 and the 10.6M-parameter reference,
    5 seeds, for cuda; loaded at reduced size (2 steps, width 8, CPU) one unit runs through the store."""
    from pathlib import Path

    from raflab.seq.nets import parameter_count
    from raflab.seq.studies import SeqStudyConfig, build_task, load_study_config, net_config, run_seq_study

    card = Path(__file__).resolve().parents[2] / "configs" / "paper" / "too_big_to_think.yaml"
    config = load_study_config(card)
    runs = config.runs()
    assert len(runs) == 150 and config.seeds == 5 and config.base["device"] == "cuda"
    assert {r.steps for r in runs} == {30000} and {r.width for r in runs} == {14, 20, 28, 40, 56, 384}
    large = next(r for r in runs if r.width == 384 and r.task == "arithmetic" and r.digits == 1)
    assert parameter_count(net_config(large, build_task(large))) == 10_631_808  # the paper's 10.6M
    small = config.model_dump()
    small.update(base={**small["base"], "device": "cpu", "steps": 2, "eval_every": 1},
                 grid=[{"task": ["arithmetic"], "width": [8], "batch": [16]}], seeds=1)
    rows = run_seq_study(SeqStudyConfig(**small), store=tmp_path / "card.duckdb", quiet=True)
    assert len(rows) == 1 and rows["steps"].iloc[0] == 2 and rows["width"].iloc[0] == 8
    assert 0.0 <= rows["heldout_accuracy"].iloc[0] <= 1.0 and "fact_accuracy" not in rows  # no facts: dropped


def _summary(values: dict) -> "pd.DataFrame":
    """A study table from per-seed values {(task, width): (heldout list, fact list)}."""
    import pandas as pd

    from raflab.seq.studies import study_summary

    rows = [{"task": task, "digits": 1, "width": width, "seed": s, "heldout_accuracy": h, "fact_accuracy": f,
             "train_accuracy": 1.0} for (task, width), (held, facts) in values.items()
            for s, (h, f) in enumerate(zip(held, facts))]
    return study_summary("too-big-to-think", pd.DataFrame(rows))


def test_claims_take_their_verdicts_from_the_intervals():
    nan = [float("nan")] * 5
    summary = _summary({
        ("arithmetic", 14): ([1.0, 0.75, 1.0, 1.0, 0.75], nan),  # mean 0.9, interval above 0.5
        ("arithmetic", 56): ([1.0, 0.5, 0.75, 0.0, 0.5], nan),   # mean 0.55, straddles 0.5
        ("facts", 14): (nan, [0.08, 0.06, 0.1, 0.04, 0.08]),
        ("facts", 56): (nan, [1.0, 1.0, 0.98, 1.0, 1.0]),
        ("both", 14): ([0.0] * 5, [0.0] * 5),
        ("both", 56): ([0.0, 0.25, 0.0, 0.0, 0.0], [1.0] * 5),
    })
    # the interval columns: mean 0.9, sample variance 0.075 / 4, stderr sqrt(0.01875 / 5), t 2.776
    row = summary[(summary["task"] == "arithmetic") & (summary["width"] == 14)].iloc[0]
    assert row["heldout_accuracy_ci95_low"] == pytest.approx(0.9 - 2.776445 * (0.01875 / 5) ** 0.5, abs=1e-5)
    claims = summary.attrs["claims"]
    verdicts = dict(zip(claims.loc[claims["task"] == "all", "claim"], claims.loc[claims["task"] == "all", "verdict"]))
    assert verdicts == {"a": "reproduced", "b": "not reproduced", "c": "reproduced"}
    part = claims[(claims["claim"] == "b") & (claims["task"] == "arithmetic")].iloc[0]
    assert part["width"] == 56 and part["mean"] == pytest.approx(0.55) and part["verdict"] == "not reproduced"
    assert any(note.startswith("claim (b) large models store facts and fail to extrapolate [digits=1]: "
                               "not reproduced") for note in summary.attrs["notes"])


def test_figure_draws_the_95_percent_intervals_per_regime():
    import numpy as np

    from raflab.seq.plots import plot_too_big_to_think

    nan = [float("nan")] * 3
    summary = _summary({("arithmetic", 14): ([1.0, 0.5, 0.75], nan), ("arithmetic", 28): ([0.0, 0.25, 0.0], nan),
                        ("both", 14): ([0.0] * 3, [0.1, 0.0, 0.2]), ("both", 28): ([0.0] * 3, [1.0] * 3),
                        ("facts", 14): (nan, [0.1, 0.0, 0.2]), ("facts", 28): (nan, [1.0, 0.9, 1.0])})
    fig = plot_too_big_to_think(summary)
    left = fig.axes[0]
    assert [t.get_text() for t in left.get_legend().get_texts()] == ["trained on arithmetic", "trained on both"]
    # the first container's bar at width 14 runs from the interval's low to its high bound
    bars = left.containers[0].lines[2][0].get_segments()
    row = summary[(summary["task"] == "arithmetic") & (summary["width"] == 14)].iloc[0]
    assert np.allclose(bars[0][:, 1], [row["heldout_accuracy_ci95_low"], row["heldout_accuracy_ci95_high"]])
    assert row["heldout_accuracy_ci95_high"] - row["heldout_accuracy_ci95_low"] == pytest.approx(
        2 * 4.302653 * 0.25 / 3 ** 0.5, abs=1e-5)  # mean 0.75, sample std 0.25, 3 seeds
    assert len(fig.axes[1].get_legend().get_texts()) == 3

"""The Schema-R1 rewards against hand-computed values, and the filter / exact metrics."""

import pytest

from raflab.agents.schema.reward import (
    accuracy_reward,
    format_reward,
    length_reward,
    parse_answer,
    set_metrics,
    tag_count_reward,
    total_reward,
)

GOLD = "###Tables: singer;\n###Columns: singer.name, singer.age;"


def full(answer: str, think: str = "reasoning") -> str:
    return f"<think>\n{think}\n</think>\n<answer>\n{answer}\n</answer>"


@pytest.mark.parametrize("answer, expected", [
    # every gold item, nothing else: 10 + 8
    ("###Tables: singer;\n###Columns: singer.name, singer.age;", 18.0),
    # one of two gold columns, one extra table (4/2), two extra columns (2 x 3/3): 10 + 4 - 2 - 2
    ("###Tables: singer, stadium;\n###Columns: singer.name, stadium.name, stadium.capacity;", 10.0),
    # no gold table hit: -6 and no cost for the wrong table; one gold column of two, no extra: -6 + 4
    ("###Tables: stadium, concert;\n###Columns: singer.name;", -2.0),
    # the table hit, no gold column hit: 10 - 4 (the wrong column costs nothing more)
    ("###Tables: singer;\n###Columns: stadium.name, stadium.capacity;", 6.0),
    # nothing parseable: both no-hit penalties
    ("I do not know", -10.0),
    # empty lists parse to {''} as in the authors' code: no hit
    ("###Tables: ;\n###Columns: ;", -10.0),
    # upper case and padding around column items are normalized; the extra column costs 3/3
    ("###Tables: SINGER;\n###Columns:  Singer.Name ,  singer.age, singer.country;", 18.0 - 1.0),
])
def test_accuracy_reward_hand_computed(answer, expected):
    assert accuracy_reward(answer, GOLD) == pytest.approx(expected)


def test_accuracy_reward_shares_over_gold_and_predicted():
    gold = "###Tables: a, b;\n###Columns: a.x, a.y, b.z, b.w;"
    # one table of two (10/2), three columns of four (3 x 8/4), one wrong table of 2 predicted (4/2),
    # one wrong column of 4 predicted (3/4)
    got = accuracy_reward("###Tables: a, c;\n###Columns: a.x, a.y, b.z, c.q;", gold)
    assert got == pytest.approx(5 + 6 - 2 - 0.75)


def test_format_and_tag_count():
    good = full(GOLD)
    assert format_reward(good) == 1.0 and tag_count_reward(good) == 1.0
    assert tag_count_reward(good, authors_tag_bug=False) == 1.5
    no_think = f"<answer>\n{GOLD}\n</answer>"
    # "\n<answer>\n" needs the newline before it: only "\n</answer>" counts
    assert format_reward(no_think) == 0.0 and tag_count_reward(no_think) == 0.25
    one_line = "<think> r </think><answer>###Tables: singer; ###Columns: singer.name, singer.age;</answer>"
    assert format_reward(one_line) == 0.0 and tag_count_reward(one_line) == 0.0
    truncated = "<think>\nr\n</think>\n"
    assert format_reward(truncated) == 0.0 and tag_count_reward(truncated) == 0.5
    doubled = full(GOLD) + "\n<think>\nagain\n</think>\n"
    assert tag_count_reward(doubled) == 0.5  # <think>\n and \n</think>\n now occur twice


def test_length_steps():
    assert length_reward("") == 0.0 and length_reward("a b") == 1.0
    assert length_reward(" ".join(["w"] * 700)) == 2.0 and length_reward(" ".join(["w"] * 900)) == 0.0
    assert length_reward(" ".join(["w"] * 1500)) == -2.0 and length_reward(" ".join(["w"] * 2500)) == -4.0


def test_total_reward_weights():
    # 0.5 accuracy + 0.5 format + 0.5 tag count + 1.0 length
    assert total_reward(full(GOLD), GOLD) == pytest.approx(0.5 * 18 + 0.5 + 0.5 + 1.0)
    assert total_reward("<think>\nr\n</think>\n", GOLD) == pytest.approx(0.5 * -10 + 0 + 0.25 + 1.0)
    one_line = "<think> r </think><answer>###Tables: singer; ###Columns: singer.name, singer.age;</answer>"
    assert total_reward(one_line, GOLD) == pytest.approx(9.0 + 1.0)


def test_parse_first_match_only():
    t, c = parse_answer("Tables: a; Columns: a.x; Tables: b;")
    assert t == {"a"} and c == {"a.x"}


def test_filter_counts_extras_as_allowed_and_misses_as_failures():
    gold = {"a", "b"}
    assert set_metrics({"a", "b"}, gold) == {"exact": 1.0, "filter": 1.0, "recall": 1.0, "precision": 1.0}
    m = set_metrics({"a", "b", "c", "d"}, gold)
    assert m["filter"] == 1.0 and m["exact"] == 0.0 and m["precision"] == 0.5
    m = set_metrics({"a"}, gold)
    assert m["filter"] == 0.0 and m["exact"] == 0.0 and m["recall"] == 0.5
    m = set_metrics({"a", "c"}, gold)
    assert m["filter"] == 0.0
    assert set_metrics({""}, gold)["filter"] == 0.0 and set_metrics({""}, gold)["precision"] == 0.0


# ---- wrong-item cost modes (the reward ablation) and the inclusion threshold they imply ----

from raflab.agents.schema.reward import inclusion_threshold  # noqa: E402

WRONG = "###Tables: singer, stadium;\n###Columns: singer.name, stadium.name, stadium.capacity;"


@pytest.mark.parametrize("wrong_cost, expected", [
    ("share", 10.0),  # 10 - 4/2 + 4 - 2 x 3/3
    ("per_item", -4.0),  # 10 - 10/1 + 4 - 2 x 8/2
    ("none", 14.0),  # 10 + 4
])
def test_wrong_cost_modes_hand_computed(wrong_cost, expected):
    assert accuracy_reward(WRONG, GOLD, wrong_cost) == pytest.approx(expected)


def test_wrong_cost_share_bounds_over_inclusion_but_per_item_does_not():
    """Every gold item plus k wrong columns: the share cost never takes more than 3 (all wrong together),
    the per-item cost takes 4 per wrong column, so including many items is cheap only under share."""
    extra = ", ".join(f"stadium.c{i}" for i in range(20))
    text = f"###Tables: singer;\n###Columns: singer.name, singer.age, {extra};"
    assert accuracy_reward(text, GOLD, "share") == pytest.approx(18 - 3 * 20 / 22)
    assert accuracy_reward(text, GOLD, "share") > accuracy_reward("###Tables: singer;\n###Columns: singer.name;", GOLD)
    assert accuracy_reward(text, GOLD, "per_item") == pytest.approx(18 - 20 * 4)


def test_bad_wrong_cost_and_weights_are_clear_errors():
    with pytest.raises(ValueError, match="wrong_cost"):
        accuracy_reward(WRONG, GOLD, "half")
    with pytest.raises(ValueError, match="unknown reward term"):
        total_reward(WRONG, GOLD, weights={"acuracy": 1.0})
    with pytest.raises(ValueError, match="finite"):
        total_reward(WRONG, GOLD, weights={"accuracy": float("nan")})


def test_total_reward_weights_select_terms():
    text = full(WRONG)
    assert total_reward(text, GOLD, weights={"accuracy": 1.0}) == pytest.approx(10.0)
    assert total_reward(text, GOLD, weights={"format": 2.0}) == pytest.approx(2.0)
    assert total_reward(text, GOLD, weights={"accuracy": 1.0}, wrong_cost="per_item") == pytest.approx(-4.0)


@pytest.mark.parametrize("wrong_cost", ["share", "per_item", "none"])
@pytest.mark.parametrize("hits, wrong", [(1, 0), (1, 2), (2, 1)])
def test_inclusion_threshold_matches_the_reward(wrong_cost, hits, wrong):
    """Theory meets the reward: the expected change of accuracy_reward (exact over the two outcomes,
    the candidate gold or wrong) from adding one column is zero at inclusion_threshold, negative just
    below it, positive just above (3 gold columns; the table is right)."""
    gold = "###Tables: t;\n###Columns: t.g0, t.g1, t.g2;"
    pred = [f"t.g{i}" for i in range(hits)] + [f"t.w{i}" for i in range(wrong)]

    def r(cols):
        return accuracy_reward(f"###Tables: t;\n###Columns: {', '.join(cols)};", gold, wrong_cost)

    def expected_change(p):
        return p * r(pred + ["t.g2"]) + (1 - p) * r(pred + ["t.wx"]) - r(pred)

    p_star = inclusion_threshold(3, hits + wrong, wrong, wrong_cost)
    assert expected_change(p_star) == pytest.approx(0.0, abs=1e-12)
    if wrong_cost != "none":
        assert expected_change(p_star - 0.01) < 0 < expected_change(p_star + 0.01)
    if wrong_cost == "share":
        assert p_star < 0.5  # below the greedy 1/2 of a calibrated SFT model: a recall bias


def test_inclusion_threshold_authors_example():
    assert inclusion_threshold(2, 1) == pytest.approx(1.5 / 5.5)
    with pytest.raises(ValueError, match="n_wrong"):
        inclusion_threshold(2, 1, 1)

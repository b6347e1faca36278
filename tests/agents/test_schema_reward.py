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

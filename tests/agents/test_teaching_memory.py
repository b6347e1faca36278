"""Learning by teaching as a mechanism (raflab.agents.teaching_memory): the forgetting curve in closed
form, the learning rule's accounting of retrieval events, the null cases in which teaching and
self-practice must be equal, and the direction that follows from the counted events. Each test states
what would make it fail."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from raflab.agents.teaching_memory import (
    MemoryParams,
    memory_seed_records,
    recall_probability,
    teaching_mechanism,
    verdict,
)
from raflab.cli import app

SMALL = dict(episodes=200, seeds=6, n_taught=20)


def test_forgetting_curve_halves_recall_at_its_half_life():
    # m exp(-f t / S): at t = S ln 2 / f the recall is m / 2; at t = 0 it is m; with f = 0 it never falls
    m, S, f = 0.8, 120.0, 1.5
    assert recall_probability(m, S, f, S * np.log(2) / f) == pytest.approx(m / 2, rel=1e-12)
    assert recall_probability(m, S, f, 0.0) == m
    assert recall_probability(m, S, 0.0, 1e6) == m


@pytest.mark.parametrize("f", [0.5, 2.0])
def test_without_retrieval_gains_the_delay_scales_recall_by_the_closed_form(f):
    # retrieval strength 0: every stability stays S0, so each item's recall falls by exp(-f d / S0) between
    # the two tests, and so does their mean: delayed = immediate * exp(-f d / S0) exactly, both conditions
    d, s0 = 150.0, 40.0
    df = memory_seed_records(0.5, retrieval_strength=0.0, forgetting_rate=f, delay=d, initial_stability=s0,
                             **SMALL)
    for cond in ("teaching", "practice"):
        np.testing.assert_allclose(df[f"delayed_{cond}"], df[f"immediate_{cond}"] * np.exp(-f * d / s0),
                                   rtol=1e-12)
        assert (df[f"stability_{cond}"] == s0).all()


def test_no_forgetting_means_delayed_equals_immediate():
    df = memory_seed_records((0.2, 0.8), forgetting_rate=0.0, tutee_error_rate=(0.0, 0.7), **SMALL)
    for cond in ("teaching", "practice"):
        assert (df[f"delayed_{cond}"] == df[f"immediate_{cond}"]).all()
    assert (df["delayed_teaching"] > df["pretest"] - 1e-12).all()  # nothing is lost without forgetting


@pytest.mark.parametrize("tutee_error_rate", [0.0, 0.6])
def test_no_retrieval_gain_with_random_items_makes_the_conditions_equal(tutee_error_rate):
    # retrieval strength 0: only exposure changes memory, and with random item choice both conditions
    # study the same items at the same times (paired streams): equal scores, exactly and within the interval
    rec = teaching_mechanism((0.3,), retrieval_strength=0.0, forgetting_rate=1.0,
                             tutee_error_rate=tutee_error_rate, choice="random", **SMALL)
    r = rec.iloc[0]
    for when in ("immediate", "delayed"):
        assert r[f"{when}_teaching"] == pytest.approx(r[f"{when}_practice"], abs=1e-12)
        assert r[f"{when}_advantage_ci95_low"] <= 0 <= r[f"{when}_advantage_ci95_high"]
        assert r[f"{when}_winner"] == "neither"


def test_stability_of_a_single_known_item_in_closed_form():
    # one known item, no forgetting: every retrieval succeeds; studies at t = 0..k-1, gaps 0, 1, 1, ...;
    # S = S0 + rho * sum(effort * (S0 + gap)): practice effort 1, teaching with an always-wrong tutee
    # judge + 1 (a judgment and a correction each episode)
    k, s0, rho, judge = 30, 20.0, 0.4, 0.3
    df = memory_seed_records(1.0, retrieval_strength=rho, forgetting_rate=0.0, tutee_error_rate=1.0,
                             judging_effort=judge, initial_stability=s0, episodes=k, seeds=2, n_taught=1)
    base = k * s0 + (k - 1)
    assert df["stability_practice"].tolist() == pytest.approx([s0 + rho * base] * 2, rel=1e-12)
    assert df["stability_teaching"].tolist() == pytest.approx([s0 + rho * (judge + 1) * base] * 2, rel=1e-12)
    assert (df["corrections"] == k).all() and (df["retrievals_practice"] == k).all()


def test_corrections_are_the_tutee_errors_the_child_can_correct():
    # the tutee errs independently of the child's memory, so E[corrections] = error rate * E[retrievals];
    # and the summed effort is judge * retrievals + corrections exactly
    err, judge = 0.3, 0.5
    df = memory_seed_records(0.5, tutee_error_rate=err, judging_effort=judge, episodes=300, seeds=8,
                             n_taught=30)
    n = df["retrievals_teaching"].sum()
    share = df["corrections"].sum() / n
    assert abs(share - err) < 4 * np.sqrt(err * (1 - err) / n)
    np.testing.assert_allclose(df["effort_teaching"], judge * df["retrievals_teaching"] + df["corrections"])
    assert (df["tutee_errors"] >= df["corrections"]).all()
    assert abs(df["tutee_errors"].sum() / (300 * len(df)) - err) < 0.01


@pytest.mark.parametrize("tutee_error_rate, judge, winner", [
    (0.0, 0.5, "practice"), (1.0, 0.5, "teaching"), (0.5, 0.75, "teaching"), (0.5, 0.25, "practice")])
def test_direction_follows_from_the_counted_retrieval_effort(tutee_error_rate, judge, winner):
    # random items, forgetting: per successful retrieval, practice spends effort 1, teaching judge + P(tutee
    # wrong): teaching should win the delayed test iff error rate > 1 - judge (a tutee that never errs
    # leaves it judge alone; one that always errs gives it judge + 1). The same learning rule in both.
    rec = teaching_mechanism((0.3,), retrieval_strength=0.5, forgetting_rate=1.0,
                             tutee_error_rate=tutee_error_rate, judging_effort=judge, choice="random",
                             episodes=300, seeds=8, n_taught=30)
    r = rec.iloc[0]
    assert r["delayed_winner"] == winner
    more = r["effort_teaching"] > r["effort_practice"]
    assert more == (winner == "teaching")


def test_verdict_reads_the_interval():
    assert verdict(0.01, 0.2) == "teaching" and verdict(-0.2, -0.01) == "practice"
    assert verdict(-0.1, 0.1) == "neither"


@pytest.mark.parametrize("kwargs, message", [
    (dict(seeds=1), "seeds must be an integer >= 2"),
    (dict(forgetting_rate=-0.5), "forgetting rate must be >= 0 (got -0.5)"),
    (dict(retrieval_strength=float("nan")), "retrieval strength must be >= 0"),
    (dict(tutee_error_rate=1.5), "tutee error rate must be in [0, 1] (got 1.5)"),
    (dict(judging_effort=-1), "judging effort must be in [0, 1]"),
    (dict(delay=-1), "delay must be in [0, inf)"),
    (dict(episodes=0), "episodes must be an integer >= 1"),
    (dict(choice="smart"), "item choice"),
    (dict(encoding_rate=2), "encoding rate must be in [0, 1]"),
    (dict(initial_stability=0), "initial stability must be in (0, inf)"),
])
def test_bad_input_is_one_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        memory_seed_records(0.3, **{**SMALL, **kwargs})


def test_memory_params_check_their_values():
    with pytest.raises(ValueError, match="forgetting rate must be >= 0"):
        MemoryParams(forgetting_rate=-1)


runner = CliRunner()


def test_cli_mechanism_records_and_map(tmp_path):
    out = tmp_path / "map.png"
    args = ["teach", "--mechanism", "--teacher-knowledge", "0.3", "--retrieval-strength", "0,0.5",
            "--forgetting-rate", "0,1", "--tutee-error-rate", "0,1", "--episodes", "150", "--seeds", "5",
            "--taught", "15", "--choice", "random"]
    r = runner.invoke(app, [*args, "--format", "json", "--out", str(out)])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert len(rows) == 8 and out.stat().st_size > 20_000
    for x in rows:
        assert x["n_seeds"] == 5 and x["delay"] == 400
        assert x["delayed_advantage_ci95_low"] <= x["delayed_advantage"] <= x["delayed_advantage_ci95_high"]
        if x["retrieval_strength"] == 0 or x["forgetting_rate"] == 0:
            assert x["delayed_winner"] == "neither"
    r = runner.invoke(app, [*args, "--format", "csv"])
    assert r.exit_code == 0 and len(r.stdout.strip().splitlines()) == 9
    r = runner.invoke(app, args)
    assert r.exit_code == 0 and "Learning by teaching as a mechanism" in r.stdout


@pytest.mark.parametrize("args, message", [
    (["--forgetting-rate", "-1"], "error: forgetting rate must be >= 0 (got -1)"),
    (["--tutee-error-rate", "x"], "error: malformed range for tutee error rate"),
    (["--seeds", "1"], "error: seeds must be an integer >= 2"),
])
def test_cli_mechanism_bad_input_is_one_line_and_exit_2(args, message):
    r = runner.invoke(app, ["teach", "--mechanism", "--episodes", "20", *args])
    assert r.exit_code == 2
    assert message in r.output and "Traceback" not in r.output

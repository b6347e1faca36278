"""Learning by teaching (raflab.agents.teaching): the shipped nouns, the two robots, the teacher's
feedback and its retention model. Each test states what would make it fail."""

import numpy as np
import pytest

from raflab.agents.teaching import (
    TASKS,
    GrammarRobot,
    RobotParams,
    TeacherLearning,
    VocabularyRobot,
    candidate_translations,
    grammar_features,
    load_nouns,
    simulate_teaching,
    teaching_experiment,
)

MUTE_H = {"homme", "hôpital", "hôtel", "heure", "histoire", "hiver"}


def _se(a, axis=1):
    return a.std(axis=axis, ddof=1) / np.sqrt(a.shape[axis])


# ------------------------------------------------------------------------------------------- data

def test_noun_list_is_consistent_and_correct_on_known_facts():
    n = load_nouns()
    assert 200 <= len(n) <= 300 and list(n.columns) == ["french", "english", "gender", "article"]
    assert n["french"].is_unique and n["english"].is_unique and set(n["gender"]) == {"m", "f"}
    elided = n["french"].str[0].isin(list("aeiouyéèêîôœâ")) | n["french"].isin(MUTE_H)
    assert ((n["article"] == "l'") == elided).all()
    assert (n.loc[~elided, "article"] == n.loc[~elided, "gender"].map({"m": "le", "f": "la"})).all()
    row = n.set_index("french")
    facts = {"table": ("table", "f"), "livre": ("book", "m"), "page": ("page", "f"), "fromage": ("cheese", "m"),
             "eau": ("water", "f"), "bateau": ("boat", "m"), "télévision": ("television", "f"),
             "avion": ("plane", "m"), "musée": ("museum", "m"), "main": ("hand", "f"), "mer": ("sea", "f"),
             "silence": ("silence", "m"), "voiture": ("car", "f"), "chien": ("dog", "m")}
    for fr, (en, g) in facts.items():
        assert (row.loc[fr, "english"], row.loc[fr, "gender"]) == (en, g), fr
    assert row.loc["haricot", "article"] == "le" and row.loc["hiver", "article"] == "l'"  # aspirated / mute h
    assert abs((n["gender"] == "f").mean() - 0.5) < 0.05  # balanced: chance and majority nearly agree


@pytest.mark.parametrize("ending, gender, exceptions", [
    ("tion", "f", set()), ("age", "m", {"page", "plage", "cage", "image", "nage", "rage"}),
    ("ment", "m", {"jument"}), ("eau", "m", {"eau", "peau"}), ("ette", "f", {"squelette"}),
    ("té", "f", {"côté", "été"}), ("ure", "f", set()), ("ée", "f", {"musée", "lycée"})])
def test_endings_carry_the_gender_rule_with_its_natural_exceptions(ending, gender, exceptions):
    n = load_nouns()
    part = n[n["french"].str.endswith(ending)]
    assert len(part) >= 5
    assert set(part.loc[part["gender"] != gender, "french"]) == exceptions


def test_vocabulary_candidates_hold_the_right_translation_once():
    c = candidate_translations(n_candidates=4)
    for row in c.itertuples():
        options = row.candidates.split(", ")
        assert len(set(options)) == 4 and options[row.correct_slot] == row.english
        assert options.count(row.english) == 1


# ----------------------------------------------------------------------------------------- robots

def test_tabular_robot_learns_only_the_word_it_is_told_about():
    rng = np.random.default_rng(0)
    bot = VocabularyRobot(np.array([[2, 0]]), 3, RobotParams(learning_rate=1.0, epsilon=0.0))
    item, slot = np.array([0]), np.array([1])
    bot.update(item, slot, np.array([-1.0]))  # "incorrect": slot 1 is out
    assert bot.item_accuracy()[0].tolist() == [0.5, 1 / 3]  # word 1 untouched: chance
    bot.update(item, np.array([2]), np.array([1.0]))  # "correct" on slot 2
    assert bot.item_accuracy()[0].tolist() == [1.0, 1 / 3]
    assert bot.answer(item, rng)[0] == 2


def test_grammar_features_share_endings_and_name_the_word():
    idx, names = grammar_features(["télévision", "décision", "eau"])
    shared = {names[i] for i in set(idx[0]) & set(idx[1])}
    assert shared == {"-n", "-on", "-ion", "-sion"}
    assert {"-eau", "^eau", "=eau"} <= {names[i] for i in idx[2]}
    # feedback on 'télévision' moves the robot's answer on 'décision', never taught
    bot = GrammarRobot(1, ["télévision", "décision"], np.array([1, 1]), RobotParams(epsilon=0.0))
    assert bot.item_accuracy()[0].tolist() == [0.5, 0.5]
    bot.update(np.array([0]), np.array([0]), np.array([-1.0]))  # said 'le télévision': incorrect
    assert bot.item_accuracy()[0].tolist() == [1.0, 1.0]


# ------------------------------------------------------------------------------- the four claims

def test_unseen_words_stay_at_chance_for_vocabulary_and_rise_above_it_for_grammar():
    """Fails if the tabular robot transfers between words, or if the feature robot does not generalize."""
    opts = dict(episodes=600, seeds=10, feedback_accuracy=1.0)
    v = simulate_teaching("vocabulary", 1.0, **opts)
    assert v.accuracy_taught[0, :, -1].mean() > 0.95  # it did learn the lesson ...
    np.testing.assert_array_equal(v.accuracy_unseen, 0.25)  # ... and nothing else, at any time
    g = simulate_teaching("grammar", 1.0, **opts)
    majority = max((load_nouns()["gender"] == "f").mean(), (load_nouns()["gender"] == "m").mean())
    final = g.accuracy_unseen[0, :, -1]
    assert np.all(g.accuracy_unseen[0, :, 0] == 0.5)
    assert final.mean() - 4 * final.std(ddof=1) / np.sqrt(len(final)) > majority + 0.05
    # the generalization comes from the endings: a grammar robot that sees only the whole noun is at chance
    words_only = simulate_teaching("grammar", 1.0, **opts, robot=RobotParams(suffix_lengths=(30,)))
    np.testing.assert_array_equal(words_only.accuracy_unseen, 0.5)
    assert words_only.accuracy_taught[0, :, -1].mean() > 0.95


@pytest.mark.parametrize("task", TASKS)
def test_noiseless_feedback_teaches_every_taught_item(task):
    r = simulate_teaching(task, 1.0, episodes=2000, seeds=8, feedback_accuracy=1.0, eval_every=500)
    np.testing.assert_array_equal(r.accuracy_taught[0, :, -1], 1.0)
    # a teacher who knows nothing and never learns gives coin-flip feedback: the same lessons stay near chance
    # (one who learns while teaching ends up knowing the lesson, and so does the robot)
    r0 = simulate_teaching(task, 0.0, episodes=2000, seeds=8, feedback_accuracy=1.0, eval_every=500,
                           learning=TeacherLearning(0.0, 0.0, 0.0))
    assert r0.accuracy_taught[0, :, -1].mean() < r0.chance + 0.15
    r1 = simulate_teaching(task, 0.0, episodes=2000, seeds=8, feedback_accuracy=1.0, eval_every=500)
    assert r1.accuracy_taught[0, :, -1].mean() > 0.95


@pytest.mark.parametrize("task", TASKS)
def test_feedback_accuracy_one_half_teaches_nothing(task):
    opts = dict(episodes=400, seeds=60)
    r = simulate_teaching(task, [0.3, 1.0], feedback_accuracy=0.5, **opts)
    for acc in (r.accuracy_taught[:, :, -1], r.accuracy_unseen[:, :, -1]):
        assert np.all(np.abs(acc.mean(1) - r.chance) <= 4 * _se(acc) + 1e-12)
    informative = simulate_teaching(task, [0.3, 1.0], feedback_accuracy=0.9, **opts)
    assert np.all(informative.accuracy_taught[:, :, -1].mean(1) > r.chance + 0.2)


@pytest.mark.parametrize("task", TASKS)
def test_self_practice_has_no_teaching_gain(task):
    levels = [0.0, 0.3, 0.7]
    opts = dict(episodes=300, seeds=10, feedback_accuracy=0.9)
    ctrl = simulate_teaching(task, levels, "self_practice", **opts)
    taught = simulate_teaching(task, levels, "teaching", **opts)
    np.testing.assert_array_equal(ctrl.pretest, taught.pretest)  # the same children, the same lessons
    np.testing.assert_array_equal(ctrl.teaching_gain, 0.0)
    assert np.all(taught.teaching_gain.mean(1) > 0.01)
    assert np.all(ctrl.retention_gain.mean(1) > 0.1)  # practising alone does teach the child
    # the control does not depend on the correction gains at all; teaching does
    big = TeacherLearning(exposure_gain=0.05, correction_gain_vocabulary=0.5, correction_gain_grammar=0.5)
    np.testing.assert_array_equal(simulate_teaching(task, levels, "self_practice", learning=big, **opts).posttest,
                                  ctrl.posttest)
    assert np.all(simulate_teaching(task, levels, "teaching", learning=big, **opts).retention_gain.mean(1)
                  > taught.retention_gain.mean(1))
    # no correction gain: no teaching gain in either condition
    flat = TeacherLearning(correction_gain_vocabulary=0.0, correction_gain_grammar=0.0)
    np.testing.assert_array_equal(simulate_teaching(task, levels, "teaching", learning=flat, **opts).teaching_gain, 0)
    # no exposure gain: practising alone teaches nothing, teaching the robot still does
    none = TeacherLearning(exposure_gain=0.0)
    np.testing.assert_array_equal(simulate_teaching(task, levels, "self_practice", learning=none, **opts)
                                  .retention_gain, 0.0)
    assert np.all(simulate_teaching(task, levels, "teaching", learning=none, **opts).retention_gain.mean(1) > 0.01)


def test_default_experiment_records_and_the_pattern_the_model_produces():
    """With the default parameters: teaching beats self-practice for low prior knowledge, more on grammar,
    and the teaching-specific gain shrinks as prior knowledge grows (the model's consequences, not data)."""
    records, curves = teaching_experiment(teacher_knowledge=[0.3, 0.9], seeds=20)
    assert len(records) == 8 and set(records["condition"]) == {"teaching", "self_practice"}
    assert records.loc[records["condition"] == "self_practice", "robot_accuracy_taught"].isna().all()
    assert len(curves) == 2 * 2 * 21 and curves["episode"].max() == 400
    rec = records.set_index(["task", "condition", "teacher_knowledge"])
    for task in TASKS:
        t, c = rec.loc[(task, "teaching", 0.3)], rec.loc[(task, "self_practice", 0.3)]
        se = np.hypot(t["teacher_retention_gain_stderr"], c["teacher_retention_gain_stderr"])
        assert t["teacher_retention_gain"] - c["teacher_retention_gain"] > 3 * se
        assert rec.loc[(task, "teaching", 0.3), "teaching_gain"] > rec.loc[(task, "teaching", 0.9), "teaching_gain"]
    assert rec.loc[("grammar", "teaching", 0.3), "teaching_gain"] > rec.loc[("vocabulary", "teaching", 0.3),
                                                                             "teaching_gain"]


def test_same_seed_same_records_other_seed_other_records():
    a = simulate_teaching("grammar", [0.5], episodes=100, seeds=3, seed=4)
    b = simulate_teaching("grammar", [0.5], episodes=100, seeds=3, seed=4)
    c = simulate_teaching("grammar", [0.5], episodes=100, seeds=3, seed=5)
    np.testing.assert_array_equal(a.accuracy_taught, b.accuracy_taught)
    np.testing.assert_array_equal(a.posttest, b.posttest)
    assert not np.array_equal(a.accuracy_taught, c.accuracy_taught)


# ------------------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("kwargs, message", [
    (dict(teacher_knowledge=1.2), r"teacher knowledge must be in \[0, 1\] \(got 1.2\)"),
    (dict(teacher_knowledge=[0.5, -0.1]), r"teacher knowledge must be in \[0, 1\]"),
    (dict(teacher_knowledge=float("nan")), r"teacher knowledge must be in \[0, 1\]"),
    (dict(feedback_accuracy=1.5), r"feedback accuracy must be in \[0, 1\] \(got 1.5\)"),
    (dict(feedback_accuracy=-0.1), r"feedback accuracy must be in \[0, 1\]"),
    (dict(task="spelling"), "unknown task 'spelling'; choose one of vocabulary, grammar"),
    (dict(choice="greedy"), "unknown item choice 'greedy'"),
    (dict(condition="lecture"), "unknown condition 'lecture'"),
    (dict(episodes=0), "episodes must be an integer >= 1"),
    (dict(seeds=0), "seeds must be an integer >= 1"),
    (dict(n_taught=264), "taught items must be between 1 and 263"),
    (dict(n_candidates=1), "candidates must be between 2 and 264"),
])
def test_bad_input_is_one_clear_error(kwargs, message):
    args = {"task": "vocabulary", "teacher_knowledge": 0.5, **kwargs}
    with pytest.raises(ValueError, match=message):
        simulate_teaching(args.pop("task"), args.pop("teacher_knowledge"), **{"episodes": 10, "seeds": 2, **args})


def test_bad_parameters_of_the_models():
    with pytest.raises(ValueError, match=r"exposure gain must be in \[0, 1\]"):
        TeacherLearning(exposure_gain=1.5)
    with pytest.raises(ValueError, match="must be <= 1"):
        TeacherLearning(exposure_gain=0.6, correction_gain_grammar=0.6)
    with pytest.raises(ValueError, match=r"learning rate must be in \(0, 1\]"):
        RobotParams(learning_rate=0.0)
    with pytest.raises(ValueError, match=r"epsilon must be in \[0, 1\]"):
        RobotParams(epsilon=2.0)
    with pytest.raises(ValueError, match="unknown task 'spelling'"):
        teaching_experiment(["vocabulary", "spelling"])

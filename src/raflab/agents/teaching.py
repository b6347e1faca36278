"""Learning by teaching: robot learners taught French nouns by a simulated child, and the child's own
retention (a model of Tarakli, Vinanzi, Moore, Di Nuovo, "Robots and Children that Learn Together",
arXiv 2506.18365; the paper's own state/action encoding and update rule are not reproduced — this is a
model of them, documented in ``docs/teaching.md``).

One *episode* is one teaching interaction on one item of the lesson:

1. the teacher chooses an item of the lesson (``choice="random"``: uniformly; ``"adaptive"``: uniformly
   among the items it has not asked yet or last judged wrong, uniformly among all when there are none);
2. the robot answers (epsilon-greedy on its action values, ties broken at random);
3. the teacher gives evaluative feedback, +1 ("correct") or -1 ("incorrect"): it recalls the item with
   its current recall probability; when it recalls it, the feedback is right with probability
   ``feedback_accuracy``, otherwise it guesses (right with probability 1/2). The robot learns from
   this reward only, never from the correct answer;
4. the correct answer is shown to the teacher (the app reveals it), and the teacher's recall of the item
   rises (:class:`TeacherLearning`): an exposure gain in both conditions, plus a correction gain
   when it has just told the robot "incorrect" (teaching condition only).

The control condition (``"self_practice"``) has no robot: the child answers the item itself (right
when it recalls it, else right by chance), sees the correct answer, and gets the exposure gain only.

Robots:

* :class:`VocabularyRobot` — a table of action values ``Q[word, candidate]`` over the word's
  ``n_candidates`` candidate translations (the correct one and distractors drawn from the other nouns'
  translations). No transfer between words: on a word it was never taught it answers at chance,
  1 / n_candidates.
* :class:`GrammarRobot` — a linear action-value function ``Q(noun, gender) = w_gender . x(noun)`` over
  binary features: the noun's endings of 1..4 letters and, so that it can also memorize exceptions, the
  noun itself. A normalized LMS step moves ``Q(noun, answer)`` toward the reward. Feedback on "la
  télévision" moves the value of every noun ending in -ion, -sion, ...: it generalizes to unseen nouns.

Measures, vectorized over seeds and prior-knowledge levels (one batch of runs): the robot's expected
greedy accuracy (ties counted as the chance of a correct tie-break) on the lesson ("taught") items and
on the held-out ("unseen") nouns against the number of feedback events; the teacher's retention gain
(expected post-test minus pre-test score on the lesson items) and its teaching-specific part.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files

import numpy as np
import pandas as pd

from raflab.core.checks import in_range, one_of
from raflab.core.progress import track_rows
from raflab.core.seeding import integer_rng
from raflab.core.summary import summarize

TASKS = ("vocabulary", "grammar")
CONDITIONS = ("teaching", "self_practice")
CHOICES = ("random", "adaptive")
GENDERS = ("m", "f")


# --------------------------------------------------------------------------------------------- data

@lru_cache(maxsize=1)
def _nouns() -> pd.DataFrame:
    with files("raflab.agents").joinpath("french_nouns.csv").open(encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


def load_nouns() -> pd.DataFrame:
    """The shipped list of common French nouns: columns ``french``, ``english`` (one translation),
    ``gender`` (``m``/``f``) and ``article`` (``le``/``la``, or ``l'`` before a vowel or mute h)."""
    return _nouns().copy()


# --------------------------------------------------------------------------------------- parameters

def _unit(value, name: str) -> None:
    arr = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr > 1):
        shown = ", ".join(f"{v:g}" for v in np.atleast_1d(arr))
        raise ValueError(f"{name} must be in [0, 1] (got {shown})")


@dataclass(frozen=True)
class TeacherLearning:
    """The teacher's learning from each interaction (an assumption of this model, see docs/teaching.md).

    Recall probability ``p`` of an item moves ``p <- p + g (1 - p)`` after each interaction with it:

    * ``exposure_gain`` — every interaction, both conditions (the correct answer is seen);
    * ``correction_gain_vocabulary`` / ``correction_gain_grammar`` — added to ``g`` when the teacher has
      just told the robot "incorrect" (teaching condition only: correcting someone else means producing
      the right answer; larger for grammar, where it means applying the rule).
    """

    exposure_gain: float = 0.05
    correction_gain_vocabulary: float = 0.05
    correction_gain_grammar: float = 0.10

    def __post_init__(self):
        for name in ("exposure_gain", "correction_gain_vocabulary", "correction_gain_grammar"):
            _unit(getattr(self, name), name.replace("_", " "))
        if self.exposure_gain + max(self.correction_gain_vocabulary, self.correction_gain_grammar) > 1:
            raise ValueError("exposure gain + correction gain must be <= 1 (a recall probability cannot exceed 1)")

    def correction_gain(self, task: str) -> float:
        return self.correction_gain_grammar if task == "grammar" else self.correction_gain_vocabulary


@dataclass(frozen=True)
class RobotParams:
    """The robot's learning rate (tabular step / normalized LMS step), exploration and grammar features."""

    learning_rate: float = 0.5
    epsilon: float = 0.1
    suffix_lengths: tuple[int, ...] = (1, 2, 3, 4)
    word_feature: bool = True

    def __post_init__(self):
        in_range(self.learning_rate, "learning rate", 0, 1, low_open=True)
        _unit(self.epsilon, "epsilon")
        if not self.suffix_lengths or min(self.suffix_lengths) < 1:
            raise ValueError("suffix lengths must be integers >= 1")


# ------------------------------------------------------------------------------------------- robots

def _greedy(q: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """argmax over the last axis, ties broken uniformly at random."""
    ties = q == q.max(axis=-1, keepdims=True)
    return np.argmax(rng.random(q.shape) * ties, axis=-1)


def _expected_greedy_accuracy(q: np.ndarray, correct: np.ndarray) -> np.ndarray:
    """Probability that the greedy answer (random tie-break) is the correct action.
    q: (..., actions); correct: (...) action indices."""
    ties = q == q.max(axis=-1, keepdims=True)
    hit = np.take_along_axis(ties, correct[..., None], axis=-1)[..., 0]
    return hit / ties.sum(axis=-1)


class VocabularyRobot:
    """Tabular action values ``Q[run, word, candidate]`` (initially 0), one table per run of the batch.

    ``correct[run, word]`` is the slot of the right translation among the word's candidates. An answer
    is epsilon-greedy; the update is ``Q <- Q + lr (reward - Q)`` on the (word, answer) pair only.
    """

    def __init__(self, correct: np.ndarray, n_candidates: int, params: RobotParams):
        self.correct = correct
        self.params = params
        self.q = np.zeros((*correct.shape, n_candidates))
        self._runs = np.arange(correct.shape[0])

    def answer(self, items: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        q = self.q[self._runs, items]
        greedy = _greedy(q, rng)
        explore = rng.random(len(items)) < self.params.epsilon
        return np.where(explore, rng.integers(q.shape[-1], size=len(items)), greedy)

    def is_correct(self, items: np.ndarray, actions: np.ndarray) -> np.ndarray:
        return actions == self.correct[self._runs, items]

    def update(self, items: np.ndarray, actions: np.ndarray, rewards: np.ndarray) -> None:
        q = self.q[self._runs, items, actions]
        self.q[self._runs, items, actions] = q + self.params.learning_rate * (rewards - q)

    def item_accuracy(self) -> np.ndarray:
        """(runs, words): expected accuracy of the greedy answer on each word."""
        return _expected_greedy_accuracy(self.q, self.correct)


def grammar_features(words, suffix_lengths=(1, 2, 3, 4), word_feature: bool = True):
    """Binary features of each noun: its endings of each length (``'-ion'``; a noun shorter than the
    length gives ``'^eau'``, the whole noun) and, with ``word_feature``, the noun itself (``'=page'``).
    Returns (index array (n_words, n_active), list of feature names)."""
    names: dict[str, int] = {}
    rows = []
    for w in words:
        keys = [f"-{w[-n:]}" if len(w) >= n else f"^{w}" for n in suffix_lengths]
        if word_feature:
            keys.append(f"={w}")
        keys = list(dict.fromkeys(keys))  # '^eau' for lengths 4 and 5 would repeat
        rows.append([names.setdefault(k, len(names)) for k in keys])
    width = max(len(r) for r in rows)
    # pad short rows with a feature of their own that no other noun has (keeps the sum exact)
    padded = []
    for r in rows:
        while len(r) < width:
            r = r + [names.setdefault(f"#pad{len(names)}", len(names))]
        padded.append(r)
    return np.array(padded, dtype=np.int64), list(names)


class GrammarRobot:
    """Linear action values ``Q(noun, g) = sum_{f in features(noun)} W[run, g, f]`` for g in (m, f).

    Epsilon-greedy answers; a normalized LMS step ``W[g, f] += lr (reward - Q(noun, g)) / k`` on the k
    active features of the noun and the chosen gender only (evaluative feedback: the robot is never told
    the right gender).
    """

    def __init__(self, n_runs: int, words, labels: np.ndarray, params: RobotParams):
        self.params = params
        self.features, self.feature_names = grammar_features(words, params.suffix_lengths, params.word_feature)
        self.labels = labels  # (words,) 0 = m, 1 = f
        self.w = np.zeros((n_runs, 2, len(self.feature_names)))
        self._runs = np.arange(n_runs)

    def _q(self, items: np.ndarray) -> np.ndarray:
        feats = self.features[items]  # (runs, k)
        return self.w[self._runs[:, None, None], np.arange(2)[None, :, None], feats[:, None, :]].sum(-1)

    def answer(self, items: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        greedy = _greedy(self._q(items), rng)
        explore = rng.random(len(items)) < self.params.epsilon
        return np.where(explore, rng.integers(2, size=len(items)), greedy)

    def is_correct(self, items: np.ndarray, actions: np.ndarray) -> np.ndarray:
        return actions == self.labels[items]

    def update(self, items: np.ndarray, actions: np.ndarray, rewards: np.ndarray) -> None:
        feats = self.features[items]
        q = self._q(items)[self._runs, actions]
        step = self.params.learning_rate * (rewards - q) / feats.shape[1]
        self.w[self._runs[:, None], actions[:, None], feats] += step[:, None]

    def item_accuracy(self) -> np.ndarray:
        q = self.w[:, :, self.features].sum(-1)  # (runs, 2, words)
        return _expected_greedy_accuracy(np.moveaxis(q, 1, -1), np.broadcast_to(self.labels, q.shape[::2]))


# ------------------------------------------------------------------------------------------ teacher

class SimulatedTeacher:
    """The child: recall probabilities ``p[run, j]`` of the lesson items, item choice and feedback.

    ``p`` starts at 1 for the items it knows (each with probability ``teacher_knowledge``) and 0 for the
    others. ``p_exposure`` follows the same interactions with the exposure gain only: ``p - p_exposure``
    is the teaching-specific part of what it learned.
    """

    def __init__(self, known: np.ndarray, feedback_accuracy: float, choice: str, learning: TeacherLearning,
                 task: str):
        self.p = known.astype(float)
        self.pretest = self.p.mean(axis=1)
        self.p_exposure = self.p.copy()
        self.feedback_accuracy = feedback_accuracy
        self.choice = one_of(choice, CHOICES, "item choice")
        self.learning = learning
        self.correction_gain = learning.correction_gain(task)
        self.flag = np.ones(known.shape, dtype=bool)  # never asked, or last judged wrong
        self._runs = np.arange(known.shape[0])

    def choose(self, rng: np.random.Generator) -> np.ndarray:
        """Index into the lesson, one per run."""
        runs, n = self.flag.shape
        if self.choice == "random":
            return rng.integers(n, size=runs)
        return np.argmax(rng.random((runs, n)) + self.flag, axis=1)

    def recalls(self, j: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return rng.random(len(j)) < self.p[self._runs, j]

    def feedback(self, j: np.ndarray, robot_correct: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """+1 ("correct") or -1 ("incorrect"). Right with probability feedback_accuracy when the teacher
        recalls the item, 1/2 when it does not."""
        right = np.where(self.recalls(j, rng), rng.random(len(j)) < self.feedback_accuracy, rng.random(len(j)) < 0.5)
        says_correct = robot_correct == right
        self.flag[self._runs, j] = ~says_correct
        return np.where(says_correct, 1.0, -1.0)

    def practise(self, j: np.ndarray, chance: float, rng: np.random.Generator) -> None:
        """Self-practice: the child answers (right if it recalls, else right by chance) and sees the answer."""
        right = self.recalls(j, rng) | (rng.random(len(j)) < chance)
        self.flag[self._runs, j] = ~right
        self.learn(j, corrected=np.zeros(len(j), dtype=bool))

    def learn(self, j: np.ndarray, corrected: np.ndarray) -> None:
        g = self.learning.exposure_gain + self.correction_gain * corrected
        p = self.p[self._runs, j]
        self.p[self._runs, j] = p + g * (1 - p)
        p0 = self.p_exposure[self._runs, j]
        self.p_exposure[self._runs, j] = p0 + self.learning.exposure_gain * (1 - p0)


# ------------------------------------------------------------------------------------------ running

@dataclass
class TeachingRun:
    """Raw results of one (task, condition) batch: arrays indexed [knowledge level, seed, ...]."""

    task: str
    condition: str
    teacher_knowledge: np.ndarray  # (L,)
    eval_episodes: np.ndarray  # (T,)
    accuracy_taught: np.ndarray  # (L, S, T); NaN in the self-practice condition (no robot)
    accuracy_unseen: np.ndarray  # (L, S, T)
    pretest: np.ndarray  # (L, S)
    posttest: np.ndarray  # (L, S)
    posttest_exposure: np.ndarray  # (L, S): the same interactions, exposure gain only
    chance: float
    settings: dict = field(default_factory=dict)

    @property
    def retention_gain(self) -> np.ndarray:
        return self.posttest - self.pretest

    @property
    def teaching_gain(self) -> np.ndarray:
        return self.posttest - self.posttest_exposure


_TASK_ID = {"vocabulary": 1, "grammar": 2}
_COND_ID = {"teaching": 1, "self_practice": 2}


def _stream(seed: int, *ids: int) -> np.random.Generator:
    """The numpy stream of ``seed`` for the quantity named by the integers ``ids`` (task, part or condition):
    ``SeedSequence([seed, *ids])``, the stream these lessons have always been drawn from."""
    return integer_rng(seed, *ids)


def _setup(task: str, n_items: int, n_taught: int, n_candidates: int, seeds: int, seed: int):
    """What a seed fixes, shared by both conditions and every knowledge level (common random numbers):
    the lesson (taught items), the teacher's knowledge draw (known iff u < teacher_knowledge: nested
    across levels) and, for vocabulary, the slot of each word's right translation among its candidates
    (which distractors fill the other slots does not matter to a table: see candidate_translations)."""
    def stream(part):  # one stream per quantity: lesson i of seed is the same whatever `seeds` is
        return _stream(seed, _TASK_ID[task], part)

    order = stream(0).random((seeds, n_items)).argsort(axis=1)
    taught, unseen = order[:, :n_taught], order[:, n_taught:]
    u = stream(3).random((seeds, n_taught))
    correct = stream(4).integers(n_candidates, size=(seeds, n_items)) if task == "vocabulary" else None
    return taught, unseen, u, correct


def candidate_translations(seed: int = 0, n_candidates: int = 4) -> pd.DataFrame:
    """The candidate translations the vocabulary robot chooses among in the first lesson of ``seed``:
    the right one at its slot, the others distinct translations of other nouns. For inspection: the
    robot's table sees only slot indices, so the distractors' identity changes nothing it learns."""
    nouns = _nouns()
    n = len(nouns)
    if not 2 <= n_candidates <= n:
        raise ValueError(f"candidates must be between 2 and {n} (got {n_candidates})")
    *_, correct = _setup("vocabulary", n, 1, n_candidates, 1, seed)
    rng = _stream(seed, _TASK_ID["vocabulary"], 2)
    english = nouns["english"].to_numpy()
    rows = []
    for w in range(n):
        others = (w + 1 + rng.choice(n - 1, size=n_candidates - 1, replace=False)) % n
        slots = list(english[others])
        slots.insert(int(correct[0, w]), english[w])
        rows.append({"french": nouns["french"].iloc[w], "english": english[w], "candidates": ", ".join(slots),
                     "correct_slot": int(correct[0, w])})
    return pd.DataFrame(rows)


def _check_common(teacher_knowledge, feedback_accuracy, episodes, seeds, n_taught, n_candidates, n_items):
    _unit(teacher_knowledge, "teacher knowledge")
    _unit(feedback_accuracy, "feedback accuracy")
    if int(episodes) != episodes or episodes < 1:
        raise ValueError(f"episodes must be an integer >= 1 (got {episodes})")
    if int(seeds) != seeds or seeds < 1:
        raise ValueError(f"seeds must be an integer >= 1 (got {seeds})")
    if not 1 <= n_taught < n_items:
        raise ValueError(f"taught items must be between 1 and {n_items - 1} (the rest are the unseen ones; "
                         f"got {n_taught})")
    if not 2 <= n_candidates <= n_items:
        raise ValueError(f"candidates must be between 2 and {n_items} (got {n_candidates})")


def simulate_teaching(task: str, teacher_knowledge, condition: str = "teaching", *, episodes: int = 400,
                      seeds: int = 20, seed: int = 0, feedback_accuracy: float = 0.9, choice: str = "adaptive",
                      n_taught: int = 40, n_candidates: int = 4, robot: RobotParams | None = None,
                      learning: TeacherLearning | None = None, eval_every: int | None = None) -> TeachingRun:
    """Run ``seeds`` independent lessons of ``episodes`` interactions at each prior-knowledge level.

    All (level, seed) runs advance together as one batch of numpy arrays. Robot accuracies are
    evaluated at episode 0 and every ``eval_every`` episodes (default: 20 points) and at the end.
    """
    one_of(task, TASKS, "task")
    one_of(condition, CONDITIONS, "condition")
    one_of(choice, CHOICES, "item choice")
    robot = robot or RobotParams()
    learning = learning or TeacherLearning()
    levels = np.atleast_1d(np.asarray(teacher_knowledge, dtype=float))
    nouns = _nouns()
    n_items = len(nouns)
    _check_common(levels, feedback_accuracy, episodes, seeds, n_taught, n_candidates, n_items)
    episodes, seeds = int(episodes), int(seeds)
    eval_every = eval_every or max(1, episodes // 20)
    if eval_every < 1:
        raise ValueError(f"eval_every must be >= 1 (got {eval_every})")
    eval_at = np.unique(np.r_[np.arange(0, episodes, eval_every), episodes])

    taught, unseen, u, correct = _setup(task, n_items, n_taught, n_candidates, seeds, seed)
    L, S, B = len(levels), seeds, len(levels) * seeds
    tile = lambda a: np.tile(a, (L,) + (1,) * (a.ndim - 1))  # noqa: E731  run b = level * S + seed
    taught_b = tile(taught)
    known = (tile(u) < np.repeat(levels, S)[:, None])
    teacher = SimulatedTeacher(known, float(feedback_accuracy), choice, learning, task)
    runs = np.arange(B)
    taught_mask = np.zeros((B, n_items), dtype=bool)
    taught_mask[runs[:, None], taught_b] = True

    rng = _stream(seed, _TASK_ID[task], _COND_ID[condition], 1)
    teaching = condition == "teaching"
    if task == "vocabulary":
        chance = 1.0 / n_candidates
        bot = VocabularyRobot(tile(correct), n_candidates, robot) if teaching else None
    else:
        chance = 0.5
        labels = (nouns["gender"].to_numpy() == "f").astype(np.int64)
        bot = GrammarRobot(B, nouns["french"].tolist(), labels, robot) if teaching else None

    acc_t = np.full((B, len(eval_at)), np.nan)
    acc_u = np.full((B, len(eval_at)), np.nan)

    def evaluate(k):
        if bot is not None:
            acc = bot.item_accuracy()
            acc_t[:, k] = (acc * taught_mask).sum(1) / n_taught
            acc_u[:, k] = (acc * ~taught_mask).sum(1) / (n_items - n_taught)

    k = 0
    for episode in range(episodes + 1):
        if episode == eval_at[k]:
            evaluate(k)
            k += 1
        if episode == episodes:
            break
        j = teacher.choose(rng)
        items = taught_b[runs, j]
        if teaching:
            actions = bot.answer(items, rng)
            rewards = teacher.feedback(j, bot.is_correct(items, actions), rng)
            bot.update(items, actions, rewards)
            teacher.learn(j, corrected=rewards < 0)
        else:
            teacher.practise(j, chance, rng)

    shape = (L, S)
    return TeachingRun(task=task, condition=condition, teacher_knowledge=levels, eval_episodes=eval_at,
                       accuracy_taught=acc_t.reshape(*shape, -1), accuracy_unseen=acc_u.reshape(*shape, -1),
                       pretest=teacher.pretest.reshape(shape), posttest=teacher.p.mean(1).reshape(shape),
                       posttest_exposure=teacher.p_exposure.mean(1).reshape(shape), chance=chance,
                       settings={"episodes": episodes, "seeds": seeds, "seed": seed,
                                 "feedback_accuracy": float(feedback_accuracy), "choice": choice,
                                 "n_taught": n_taught, "n_candidates": n_candidates})


#: the per-lesson measures that a record summarizes over seeds (the pre-test has no standard error: it is
#: the knowledge draw, not an outcome)
RECORD_METRICS = ("robot_accuracy_taught", "robot_accuracy_unseen", "teacher_pretest", "teacher_retention_gain",
                  "teaching_gain")
CURVE_METRICS = ("robot_accuracy_taught", "robot_accuracy_unseen")


def _levels(run: TeachingRun) -> list[float]:
    return [round(float(k), 12) for k in run.teacher_knowledge]


def run_seed_records(run: TeachingRun) -> pd.DataFrame:
    """One row per (knowledge level, seed): the final robot accuracies and the teacher's scores and gains."""
    L, S = run.pretest.shape
    s = run.settings
    return pd.DataFrame({
        "task": run.task, "condition": run.condition,
        "teacher_knowledge": np.repeat(_levels(run), S),
        "feedback_accuracy": s["feedback_accuracy"], "choice": s["choice"], "episodes": s["episodes"],
        "chance": run.chance, "seed": np.tile(np.arange(S), L),
        "robot_accuracy_taught": run.accuracy_taught[:, :, -1].ravel(),
        "robot_accuracy_unseen": run.accuracy_unseen[:, :, -1].ravel(),
        "teacher_pretest": run.pretest.ravel(), "teacher_retention_gain": run.retention_gain.ravel(),
        "teaching_gain": run.teaching_gain.ravel()})


def run_records(run: TeachingRun) -> pd.DataFrame:
    """One record per knowledge level: final robot accuracies and the teacher's gains, mean and
    standard error over seeds (:func:`raflab.core.summary.summarize`)."""
    keys = ["task", "condition", "teacher_knowledge", "feedback_accuracy", "choice", "episodes", "chance"]
    stderr_of = [m for m in RECORD_METRICS if m != "teacher_pretest"]
    out = summarize(run_seed_records(run), keys, RECORD_METRICS, stderr_of=stderr_of)
    measures = [c for m in RECORD_METRICS for c in (m, f"{m}_stderr") if c in out.columns]
    return out[[*keys[:-1], "n_seeds", "chance", *measures]]


def run_curves(run: TeachingRun) -> pd.DataFrame:
    """Learning curves of the robot (teaching condition): accuracy on taught and unseen items against
    the number of feedback events, mean and standard error over seeds, per knowledge level."""
    L, S, T = run.accuracy_taught.shape
    per_seed = pd.DataFrame({
        "task": run.task, "teacher_knowledge": np.repeat(_levels(run), S * T),
        "episode": np.tile(run.eval_episodes.astype(int), L * S), "chance": run.chance,
        "seed": np.tile(np.repeat(np.arange(S), T), L),
        "robot_accuracy_taught": run.accuracy_taught.ravel(), "robot_accuracy_unseen": run.accuracy_unseen.ravel()})
    out = summarize(per_seed, ["task", "teacher_knowledge", "episode", "chance"], CURVE_METRICS)
    measures = [c for m in CURVE_METRICS for c in (m, f"{m}_stderr")]
    return out[["task", "teacher_knowledge", "episode", *measures, "chance", "n_seeds"]]


def teaching_experiment(tasks=TASKS, teacher_knowledge=(0.3, 0.5, 0.7, 0.9), *, episodes: int = 400,
                        seeds: int = 20, seed: int = 0, feedback_accuracy: float = 0.9, choice: str = "adaptive",
                        n_taught: int = 40, n_candidates: int = 4, robot: RobotParams | None = None,
                        learning: TeacherLearning | None = None, eval_every: int | None = None,
                        progress: bool = False):
    """Both conditions for each task and knowledge level: (records, curves) DataFrames.

    records: task, condition, teacher_knowledge, robot_accuracy_taught/unseen (NaN for self-practice:
    there is no robot), teacher_pretest, teacher_retention_gain, teaching_gain, each gain and accuracy
    with its standard error over seeds. curves: the robot's learning curves (teaching condition).
    """
    tasks = [tasks] if isinstance(tasks, str) else list(dict.fromkeys(tasks))
    if not tasks:
        raise ValueError("no task given: vocabulary, grammar or both")
    for t in tasks:
        one_of(t, TASKS, "task")
    options = dict(episodes=episodes, seeds=seeds, seed=seed, feedback_accuracy=feedback_accuracy,
                   choice=choice, n_taught=n_taught, n_candidates=n_candidates, robot=robot, learning=learning,
                   eval_every=eval_every)
    records, curves = [], []
    for task, condition in track_rows([(t, c) for t in tasks for c in CONDITIONS], "teaching lessons",
                                      enabled=progress, unit="runs"):
        run = simulate_teaching(task, teacher_knowledge, condition, **options)
        records.append(run_records(run))
        if condition == "teaching":
            curves.append(run_curves(run))
    return pd.concat(records, ignore_index=True), pd.concat(curves, ignore_index=True)

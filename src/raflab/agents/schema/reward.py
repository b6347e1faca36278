"""The rule-based rewards of Schema-R1 (Wen, Pan, Sun, arXiv 2506.11986; code hongWin/Schema-R1,
``src/open_r1/rewards.py``), re-implemented from their definitions, and the evaluation metrics.

Rewards (weights of the authors' ``config_schema_muti.yaml``: accuracy 0.5, format 0.5, tag count 0.5,
length 1.0):

* **accuracy** (``accuracy_reward2``): tables and columns are read from the first ``Tables:\\s*(.*?);``
  and ``Columns:\\s*(.*?);`` of the answer and of the gold text, split on ``", "`` (column items
  stripped), lower-cased, as sets. Each gold table hit earns ``10 / |gold tables|``, each gold column
  hit ``8 / |gold columns|``. If no gold table is hit the reward loses 6 (and no per-item cost);
  otherwise each predicted table outside gold costs ``4 / |predicted tables|``. Columns alike: -4 when
  none is hit, else ``3 / |predicted columns|`` per wrong column. Range [-10, 18].
  An unparseable answer is two empty sets: -10. As in the authors' code, ``"Tables: ;"`` parses to
  the one-item set ``{""}`` (``"".split(", ")``); with no hit its value does not matter.
* **format**: 1 if the whole output matches ``^<think>\\n.*?\\n</think>\\n<answer>\\n.*?\\n</answer>$``
  (re.DOTALL | re.MULTILINE), else 0.
* **tag count**: 0.25 for each of ``"<think>\\n"``, ``"\\n</think>\\n"``, ``"\\n<answer>\\n"``,
  ``"\\n</answer>"`` present exactly once. The authors' function also adds 0.25 for ``###Tables:``
  and ``###Columns`` but counts them in the *list of completions*, not in the text, so those terms
  never fire; ``authors_tag_bug=False`` counts them in the text instead (max 1.5).
* **length** (``my_len_reward``): a step function of the completion's token count: (0, 600) -> 1,
  [600, 800) -> 2, [800, 1200) -> 0, [1200, 2000) -> -2, >= 2000 -> -4, 0 tokens -> 0. The authors
  count Qwen tokenizer tokens; here the count is whitespace-separated words (an assumption; every
  completion of the CPU analogue is far below 600, so this term is 1 and drops out of the advantages).
"""

from __future__ import annotations

import math
import re

WEIGHTS = {"accuracy": 0.5, "format": 0.5, "tag_count": 0.5, "length": 1.0}
TABLE_REWARD, COLUMN_REWARD = 10.0, 8.0
TABLE_PENALTY, COLUMN_PENALTY = 4.0, 3.0
TABLE_MISS, COLUMN_MISS = 6.0, 4.0

_TABLES = re.compile(r"Tables:\s*(.*?);")
_COLUMNS = re.compile(r"Columns:\s*(.*?);")
_FORMAT = re.compile(r"^<think>\n.*?\n</think>\n<answer>\n.*?\n</answer>$", re.DOTALL | re.MULTILINE)


def parse_answer(text: str) -> tuple[set[str], set[str]]:
    """(tables, columns) as the authors parse them; a missing field is the empty set."""
    t = _TABLES.search(text)
    c = _COLUMNS.search(text)
    tables = {s.lower() for s in t.group(1).split(", ")} if t else set()
    columns = {s.strip().lower() for s in c.group(1).split(", ")} if c else set()
    return tables, columns


#: how a predicted item outside gold is charged (``wrong_cost`` of :func:`accuracy_reward`)
WRONG_COSTS = ("share", "per_item", "none")


def accuracy_reward(completion: str, solution: str, wrong_cost: str = "share") -> float:
    """The authors' ``accuracy_reward2`` for one completion against its gold text.

    ``wrong_cost`` (an ablation; the authors' is ``"share"``): ``"share"`` charges each wrong table
    ``4 / |predicted tables|`` (columns ``3 / |predicted columns|``), so all wrong items together cost
    at most 4 (3) however many there are; ``"per_item"`` charges each wrong item what a gold item earns
    (``10 / |gold tables|``, ``8 / |gold columns|``), so a wrong item undoes a hit and over-inclusion is
    unbounded below; ``"none"`` charges nothing (the pure recall term: every gold item predicted is the
    maximum, the filter criterion as a reward). The no-hit penalties (-6, -4) apply in every mode.
    """
    if wrong_cost not in WRONG_COSTS:
        raise ValueError(f"wrong_cost must be one of {', '.join(WRONG_COSTS)} (got {wrong_cost!r})")
    gold_t, gold_c = parse_answer(solution)
    pred_t, pred_c = parse_answer(completion)
    if not gold_t or not gold_c:
        raise ValueError(f"gold answer without tables or columns: {solution!r}")
    hit_t, hit_c = len(gold_t & pred_t), len(gold_c & pred_c)
    reward = hit_t * TABLE_REWARD / len(gold_t) + hit_c * COLUMN_REWARD / len(gold_c)
    share = wrong_cost == "share"
    if hit_t == 0:
        reward -= TABLE_MISS
    elif wrong_cost != "none":
        reward -= len(pred_t - gold_t) * (TABLE_PENALTY / len(pred_t) if share else TABLE_REWARD / len(gold_t))
    if hit_c == 0:
        reward -= COLUMN_MISS
    elif wrong_cost != "none":
        reward -= len(pred_c - gold_c) * (COLUMN_PENALTY / len(pred_c) if share else COLUMN_REWARD / len(gold_c))
    return float(reward)


def format_reward(completion: str) -> float:
    return 1.0 if _FORMAT.match(completion) else 0.0


def tag_count_reward(completion: str, authors_tag_bug: bool = True) -> float:
    count = 0.0
    for tag in ("<think>\n", "\n</think>\n", "\n<answer>\n", "\n</answer>"):
        if completion.count(tag) == 1:
            count += 0.25
    if not authors_tag_bug:
        count += 0.25 * (completion.count("###Tables:") == 1) + 0.25 * (completion.count("###Columns") == 1)
    return count


def length_reward(completion: str) -> float:
    n = len(completion.split())
    if n == 0:
        return 0.0
    if n < 600:
        return 1.0
    if n < 800:
        return 2.0
    if n < 1200:
        return 0.0
    if n < 2000:
        return -2.0
    return -4.0


def reward_terms(completion: str, solution: str, authors_tag_bug: bool = True,
                 wrong_cost: str = "share") -> dict[str, float]:
    return {"accuracy": accuracy_reward(completion, solution, wrong_cost), "format": format_reward(completion),
            "tag_count": tag_count_reward(completion, authors_tag_bug), "length": length_reward(completion)}


def check_weights(weights: dict[str, float]) -> dict[str, float]:
    """``weights`` with every key a reward term of ``WEIGHTS`` and every value finite; else a clear error."""
    unknown = sorted(set(weights) - set(WEIGHTS))
    if unknown:
        raise ValueError(f"unknown reward term(s) {unknown}; the terms are {', '.join(WEIGHTS)}")
    bad = {k: v for k, v in weights.items() if not math.isfinite(float(v))}
    if bad:
        raise ValueError(f"reward weights must be finite (got {bad})")
    return {k: float(v) for k, v in weights.items()}


def total_reward(completion: str, solution: str, weights: dict[str, float] | None = None,
                 authors_tag_bug: bool = True, wrong_cost: str = "share") -> float:
    """Weighted sum of the four terms (the GRPO trainer's reward: sum of weight x function); a term
    missing from ``weights`` has weight 0."""
    w = WEIGHTS if weights is None else check_weights(weights)
    terms = reward_terms(completion, solution, authors_tag_bug, wrong_cost)
    return float(sum(w.get(k, 0.0) * v for k, v in terms.items()))


def set_metrics(pred: set[str], gold: set[str]) -> dict[str, float]:
    """Exact set match, filter (every gold item predicted; extras allowed), recall, precision."""
    pred = {p for p in pred if p}
    hit = len(pred & gold)
    return {"exact": float(pred == gold), "filter": float(gold <= pred),
            "recall": hit / len(gold) if gold else 1.0, "precision": hit / len(pred) if pred else 0.0}


def inclusion_threshold(n_gold: int, n_predicted: int, n_wrong: int = 0, wrong_cost: str = "share",
                        kind: str = "column") -> float:
    """The probability of being gold above which adding one more item raises the expected accuracy
    reward, for a prediction of ``n_predicted`` items of which ``n_wrong`` are wrong and at least one
    is a hit, with ``n_gold`` gold items of that kind (tables: ``kind="table"``).

    With reward ``R`` per gold item (``10 / |gold tables|``, ``8 / |gold columns|``) and the authors'
    share cost ``C`` (4, 3), the candidate adds ``p R - C (w + 1 - p) / (m + 1) + C w / m`` in
    expectation (``m`` predicted, ``w`` wrong), zero at
    ``p* = (C (w + 1) / (m + 1) - C w / m) / (R + C / (m + 1))``; for 2 gold columns and one predicted
    (a hit), ``p* = 1.5 / 5.5 = 0.27``. A per-item cost equal to ``R`` gives ``p* = 1/2`` (the greedy
    threshold of a calibrated SFT model); no cost gives 0 (include everything).
    """
    if wrong_cost not in WRONG_COSTS:
        raise ValueError(f"wrong_cost must be one of {', '.join(WRONG_COSTS)} (got {wrong_cost!r})")
    if kind not in ("table", "column"):
        raise ValueError(f"kind must be table or column (got {kind!r})")
    if not (n_gold >= 1 and n_predicted >= 1 and 0 <= n_wrong < n_predicted):
        raise ValueError(f"need n_gold >= 1, n_predicted >= 1 and 0 <= n_wrong < n_predicted "
                         f"(got {n_gold}, {n_predicted}, {n_wrong})")
    gain = (TABLE_REWARD if kind == "table" else COLUMN_REWARD) / n_gold
    if wrong_cost == "none":
        return 0.0
    if wrong_cost == "per_item":
        return 0.5
    cost = TABLE_PENALTY if kind == "table" else COLUMN_PENALTY
    m, w = n_predicted, n_wrong
    return (cost * (w + 1) / (m + 1) - cost * w / m) / (gain + cost / (m + 1))

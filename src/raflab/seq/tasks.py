"""Sequence tasks that separate rules from facts: pure functions of (config, numpy Generator) -> tokens.

Every task is a :class:`SequenceTask` of padded integer arrays ready for next-token training:
``inputs[n, t]`` is the token at position t and ``targets[n, t]`` the token to predict there
(``IGNORE_INDEX`` where nothing is trained), ``answer_mask[n, t]`` the positions scored for exact match.

Tasks (see the sequence-lab spec, sections 1-4):

- ``arithmetic``: every ``<a+b=c>`` and ``<a-b=c>`` with single digits a, b (200 lines), character
  level; the four lines combining 5 and 7 are held out (Barron & White, "Too Big to Think").
- ``facts``: the 50 lines "Capital of X is Y" (shipped as ``capitals.csv``).
- ``both``: the two, one vocabulary.
- ``mqar``: multi-query associative recall with Zoology's semantics (Arora et al.).
- ``kg``: knowledge-graph triplets, input [head, relation] -> target tail (Changalidis & Härmä).
- ``walks``: random walks on a knowledge graph, each (node, edge) pair used once.
- ``random``: uniformly random token strings, for capacity in bits (Morris et al.).

Character lines are framed as ``"\\n" + line + "\\n"`` and space-padded after the closing newline:
the leading newline plays the role of the previous line's end in the authors' nanoGPT stream (so the
first character is predicted, as there), the closing one terminates the line. The arithmetic task
keeps the paper's vocabulary of 17 characters and block of 9.

Example
-------
>>> task = arithmetic_task()
>>> task.train.inputs.shape, task.vocab_size, len(task.heldout.inputs)
((196, 9), 17, 4)
>>> decode(task, task.heldout.inputs[0])
'\\n<5+7=12>'
"""

from __future__ import annotations

import csv
import importlib.resources
import importlib.util
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from raflab.core.checks import describe_validation_error

IGNORE_INDEX = -100
TASKS = ("arithmetic", "facts", "both", "mqar", "kg", "walks", "random")

HELDOUT_DIGITS = (5, 7)  # the paper's held-out combinations: 5+7, 7+5, 5-7, 7-5
NEWLINE = "\n"
PAD_CHAR = " "
CHAR_LAYOUTS = ("stream", "lines")


@dataclass(frozen=True)
class TokenSplit:
    """Padded token arrays of one split.

    ``inputs`` and ``targets`` are int64 ``[N, T]``; ``targets`` is the next token, ``IGNORE_INDEX``
    where nothing is trained. ``answer_mask`` (bool ``[N, T]``) marks the positions scored for exact
    match: a sequence is exact-matched when the argmax equals ``targets`` at all of them, which is
    what greedy generation from the prompt reproduces (by induction on the prefix).
    """

    inputs: np.ndarray
    targets: np.ndarray
    answer_mask: np.ndarray

    def __len__(self) -> int:
        return int(self.inputs.shape[0])


@dataclass(frozen=True)
class SequenceTask:
    """A named task: vocabulary, block size ``T``, a training split and an optional held-out one."""

    name: str
    vocab_size: int
    block_size: int
    train: TokenSplit
    heldout: TokenSplit | None
    itos: tuple[str, ...] | None  # token strings for decoding; None for integer tasks
    info: dict = field(default_factory=dict)
    # the rows a network is trained on when they differ from the evaluated ``train`` rows: the
    # character tasks' windows of one text stream, as nanoGPT (and the paper) trains; None = train
    fit: TokenSplit | None = None

    @property
    def fit_split(self) -> TokenSplit:
        return self.train if self.fit is None else self.fit


# ---------------------------------------------------------------------------------------------
# character tasks: arithmetic rule and capital facts


@dataclass(frozen=True)
class _CharLine:
    text: str  # the line without framing, e.g. "<2+5=7>" or "Capital of France is Paris"
    answer_start: int  # index in text of the answer's first character
    answer_stop: int  # one past the last scored character of text (len(text) = scored through the end)
    terminated: bool  # the closing newline is part of the answer (facts: the answer's end is not marked)


def arithmetic_lines() -> tuple[list[str], list[str]]:
    """The 200 single-digit lines ``<a+b=c>``/``<a-b=c>``: (196 training lines, the 4 held-out ones).

    Held out are the lines whose operands are 5 and 7 in either order (5+7, 7+5, 5-7, 7-5).
    """
    train, heldout = [], []
    for op in "+-":
        for a in range(10):
            for b in range(10):
                c = a + b if op == "+" else a - b
                line = f"<{a}{op}{b}={c}>"
                (heldout if {a, b} == set(HELDOUT_DIGITS) else train).append(line)
    return train, heldout


def capital_facts() -> list[tuple[str, str]]:
    """The 50 (country, capital) pairs of the shipped ``capitals.csv`` (the paper's list and order)."""
    text = importlib.resources.files("raflab.seq").joinpath("capitals.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    return [(r["country"], r["capital"]) for r in rows]


def _arithmetic_line(text: str) -> _CharLine:
    # answer = the characters after '=' through '>' ('>' ends the answer, so no newline is needed)
    return _CharLine(text, text.index("=") + 1, len(text), terminated=False)


def _fact_line(country: str, capital: str) -> _CharLine:
    prompt = f"Capital of {country} is "
    # the capital's end is unmarked in the text, so the closing newline is part of the answer
    return _CharLine(prompt + capital, len(prompt), len(prompt) + len(capital), terminated=True)


def _char_split(lines: list[_CharLine], stoi: dict[str, int], block_size: int) -> TokenSplit:
    n = len(lines)
    pad = stoi[PAD_CHAR]
    inputs = np.full((n, block_size), pad, dtype=np.int64)
    targets = np.full((n, block_size), IGNORE_INDEX, dtype=np.int64)
    answer = np.zeros((n, block_size), dtype=bool)
    for i, line in enumerate(lines):
        framed = [stoi[c] for c in NEWLINE + line.text + NEWLINE]
        # input position t sees framed[t] and predicts framed[t + 1]; framed[0] is the opening newline
        inputs[i, : len(framed) - 1] = framed[:-1]
        targets[i, : len(framed) - 1] = framed[1:]
        # text[j] is framed[j + 1], predicted at position j
        answer[i, line.answer_start : line.answer_stop] = True
        if line.terminated:
            answer[i, len(line.text)] = True
    return TokenSplit(inputs, targets, answer)


def _stream_split(lines: list[_CharLine], stoi: dict[str, int], block_size: int) -> TokenSplit:
    """Every window of ``block_size`` + 1 characters of the training text, one line after another.

    nanoGPT (the paper's code) trains on random windows of one character stream; taking every
    offset as a row and sampling rows is the same distribution. Arithmetic lines are padded to one
    width before their newline, as in the paper's ``train.txt``; facts are not padded.
    """
    width = max((len(line.text) for line in lines if not line.terminated), default=0)  # arithmetic's width
    framed = [line.text.ljust(width) if not line.terminated else line.text for line in lines]
    ids = np.array([stoi[c] for c in NEWLINE + NEWLINE.join(framed) + NEWLINE], dtype=np.int64)
    offsets = np.arange(len(ids) - block_size)[:, None] + np.arange(block_size)[None, :]
    return TokenSplit(ids[offsets], ids[offsets + 1], np.zeros(offsets.shape, dtype=bool))


def _char_task(name: str, train: list[_CharLine], heldout: list[_CharLine], info: dict,
               layout: str = "stream") -> SequenceTask:
    if layout not in CHAR_LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; choose one of {', '.join(CHAR_LAYOUTS)}")
    everything = train + heldout
    itos = tuple(sorted(set(NEWLINE + PAD_CHAR + "".join(line.text for line in everything))))
    stoi = {c: i for i, c in enumerate(itos)}
    # the framed line has len(text) + 2 tokens, of which all but the last are inputs
    block_size = max(len(line.text) for line in everything) + 1
    return SequenceTask(
        name=name,
        vocab_size=len(itos),
        block_size=block_size,
        train=_char_split(train, stoi, block_size),
        heldout=_char_split(heldout, stoi, block_size) if heldout else None,
        itos=itos,
        info={"char_level": True, "num_train": len(train), "num_heldout": len(heldout), "layout": layout, **info},
        fit=_stream_split(train, stoi, block_size) if layout == "stream" else None,
    )


def arithmetic_task(layout: str = "stream") -> SequenceTask:
    """Single-digit addition and subtraction: 196 training lines, the four 5&7 lines held out.

    Answer span: the characters after ``=`` through ``>``; the exact-match prompt is ``<a+b=``.
    ``layout``: 'stream' trains on every window of the text of all lines (the paper's nanoGPT
    training, ``task.fit``); 'lines' trains on the lines themselves, each starting at position 0.
    Evaluation is on the lines either way.
    """
    train, heldout = arithmetic_lines()
    return _char_task("arithmetic", [_arithmetic_line(t) for t in train],
                      [_arithmetic_line(t) for t in heldout], {"num_arithmetic": len(train)}, layout)


def facts_task(layout: str = "stream") -> SequenceTask:
    """The 50 capital facts "Capital of X is Y"; no held-out set (evaluated on the training lines).

    Answer span: Y and the closing newline; the exact-match prompt is "Capital of X is ".
    ``layout`` as in :func:`arithmetic_task`.
    """
    facts = [_fact_line(c, y) for c, y in capital_facts()]
    return _char_task("facts", facts, [], {"num_facts": len(facts)}, layout)


def arithmetic_and_facts_task(layout: str = "stream") -> SequenceTask:
    """The 196 arithmetic lines and the 50 facts in one vocabulary; held out: the 4 arithmetic lines.

    Lines are padded to the longest one (a fact). ``layout`` as in :func:`arithmetic_task`.
    """
    train, heldout = arithmetic_lines()
    facts = [_fact_line(c, y) for c, y in capital_facts()]
    return _char_task("both", [_arithmetic_line(t) for t in train] + facts,
                      [_arithmetic_line(t) for t in heldout],
                      {"num_arithmetic": len(train), "num_facts": len(facts)}, layout)


def encode(task: SequenceTask, text: str) -> np.ndarray:
    """Characters to token ids (int64) for a character task, e.g. a prompt ``"\\n<5+7="``."""
    if not task.info.get("char_level"):
        raise ValueError(f"task {task.name!r} is not character level; encode works on char tasks only")
    stoi = {c: i for i, c in enumerate(task.itos)}
    missing = sorted(set(text) - set(stoi))
    if missing:
        raise ValueError(f"character {missing[0]!r} is not in the vocabulary of {task.name!r}")
    return np.array([stoi[c] for c in text], dtype=np.int64)


def decode(task: SequenceTask, tokens) -> str:
    """Token ids to text: characters joined for character tasks, token names joined by spaces otherwise.

    ``IGNORE_INDEX`` entries (as in a targets row) are skipped.
    """
    if task.itos is None:
        raise ValueError(f"task {task.name!r} has integer tokens with no strings to decode")
    ids = [int(t) for t in np.asarray(tokens).ravel() if int(t) != IGNORE_INDEX]
    bad = [t for t in ids if not 0 <= t < len(task.itos)]
    if bad:
        raise ValueError(f"token {bad[0]} is outside the vocabulary of {task.name!r} (size {len(task.itos)})")
    sep = "" if task.info.get("char_level") else " "
    return sep.join(task.itos[t] for t in ids)


# ---------------------------------------------------------------------------------------------
# multi-query associative recall (Zoology)


class MQARConfig(BaseModel):
    """One MQAR instance, Zoology's ``multiquery_ar`` semantics.

    Each sequence opens with ``num_pairs`` key-value pairs (keys drawn without replacement from
    ``1 .. vocab_size//2 - 1``, values from ``vocab_size//2 .. vocab_size - 1``); every key then
    reappears once as a query at an even offset ``2 g`` after the context, the gaps ``g`` drawn
    without replacement with ``p(g) ~ g^(power_a - 1)``; the target right at each query is its value.

    Examples
    --------
    >>> MQARConfig(vocab_size=64, seq_len=32, num_pairs=4).num_pairs
    4
    """

    model_config = ConfigDict(frozen=True)

    vocab_size: int = Field(256, ge=4, description="tokens; keys from the lower half, values from the upper")
    seq_len: int = Field(64, ge=4, description="tokens per sequence (even)")
    num_pairs: int = Field(8, ge=1, description="key-value pairs per sequence (all of them queried)")
    num_examples: int = Field(10_000, ge=1, description="training sequences")
    num_heldout: int = Field(1_000, ge=0, description="fresh sequences to test in-context recall")
    power_a: float = Field(0.01, gt=0, allow_inf_nan=False, description="gap law p(g) ~ g^(a-1); 1 = uniform")
    random_non_queries: bool = Field(True, description="fill the non-query positions with random tokens")

    @model_validator(mode="after")
    def _fits(self):
        if self.seq_len % 2:
            raise ValueError(f"seq_len must be even, got {self.seq_len}")
        if 4 * self.num_pairs > self.seq_len:
            raise ValueError(f"num_pairs={self.num_pairs} does not fit in seq_len={self.seq_len} "
                             f"(the pairs and their queries need 4*num_pairs <= seq_len)")
        if self.num_pairs > self.vocab_size // 2 - 1:
            raise ValueError(f"vocab_size={self.vocab_size} is too small for num_pairs={self.num_pairs} "
                             f"distinct keys (needs vocab_size//2 - 1 >= num_pairs)")
        return self


def _distinct_rows(n: int, low: int, high: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """n rows of k distinct integers, each row uniform among ordered k-subsets of [low, high)."""
    pop = high - low
    if k * k > 6 * pop:
        # rejection would rarely succeed: argsort random keys (pop is small here)
        return low + np.argsort(rng.random((n, pop)), axis=1)[:, :k]
    out = rng.integers(low, high, size=(n, k))
    while True:
        s = np.sort(out, axis=1)
        bad = np.flatnonzero((s[:, 1:] == s[:, :-1]).any(axis=1))
        if bad.size == 0:
            return out
        out[bad] = rng.integers(low, high, size=(bad.size, k))


def _mqar_split(config: MQARConfig, n: int, rng: np.random.Generator) -> TokenSplit:
    V, T, k = config.vocab_size, config.seq_len, config.num_pairs
    context = 2 * k
    keys = _distinct_rows(n, 1, V // 2, k, rng)
    values = _distinct_rows(n, V // 2, V, k, rng)
    # gaps 0..space-1 drawn without replacement, weight (g+1)^(a-1): Gumbel top-k is exactly
    # successive weighted sampling without replacement, vectorized over the rows
    space = (T - context) // 2
    logw = (config.power_a - 1.0) * np.log(np.arange(1, space + 1))
    gaps = np.argsort(-(logw + rng.gumbel(size=(n, space))), axis=1)[:, :k]
    query_pos = context + 2 * gaps  # even offsets after the context; all < T - 1
    rows = np.arange(n)[:, None]

    inputs = np.zeros((n, T), dtype=np.int64)
    inputs[:, 0:context:2] = keys
    inputs[:, 1:context:2] = values
    inputs[rows, query_pos] = keys
    targets = np.full((n, T), IGNORE_INDEX, dtype=np.int64)
    targets[rows, query_pos] = values
    if config.random_non_queries:
        # as in Zoology: uniform over the whole vocabulary, so filler may repeat a key or a value
        filler = np.ones((n, T), dtype=bool)
        filler[:, :context] = False
        filler[rows, query_pos] = False
        inputs[filler] = rng.integers(0, V, size=int(filler.sum()))
    return TokenSplit(inputs, targets, targets != IGNORE_INDEX)


def mqar_task(config: MQARConfig, rng: np.random.Generator) -> SequenceTask:
    """Multi-query associative recall: training sequences, then fresh held-out ones (in-context recall).

    Examples
    --------
    >>> task = mqar_task(MQARConfig(vocab_size=64, seq_len=32, num_pairs=4, num_examples=10,
    ...                             num_heldout=5), np.random.default_rng(0))
    >>> task.train.inputs.shape, int(task.train.answer_mask.sum(axis=1)[0])
    ((10, 32), 4)
    """
    train = _mqar_split(config, config.num_examples, rng)
    heldout = _mqar_split(config, config.num_heldout, rng) if config.num_heldout else None
    return SequenceTask("mqar", config.vocab_size, config.seq_len, train, heldout, None,
                        {**config.model_dump(), "num_train": config.num_examples})


# ---------------------------------------------------------------------------------------------
# knowledge graphs: triplets and walks


def random_kg(num_entities: int, num_relations: int, num_triplets: int, rng: np.random.Generator) -> np.ndarray:
    """A procedural knowledge graph: distinct (head, relation) pairs, each with one uniform random tail.

    The tail is a function of (head, relation), so the graph stores exactly
    ``num_triplets * log2(num_entities)`` bits.

    Returns
    -------
    ndarray of int64, shape (num_triplets, 3): columns head, relation, tail.
    """
    for name, value in (("num_entities", num_entities), ("num_relations", num_relations)):
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    pairs = num_entities * num_relations
    if not 1 <= num_triplets <= pairs:
        raise ValueError(f"num_triplets={num_triplets} must be in [1, num_entities*num_relations = {pairs}]")
    pair = rng.choice(pairs, size=num_triplets, replace=False)
    tail = rng.integers(0, num_entities, size=num_triplets)
    return np.stack([pair // num_relations, pair % num_relations, tail], axis=1).astype(np.int64)


def _pykeen_umls_dir() -> Path:
    # find_spec locates the package without importing it (pykeen's import pulls in torch and optuna)
    spec = importlib.util.find_spec("pykeen")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError("the UMLS graph is read from the installed pykeen package: pip install pykeen "
                         "(pip install --no-deps pykeen is enough: only its data files are read)")
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / "umls"


def umls_graph(directory: str | Path | None = None) -> tuple[np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """The UMLS graph (135 entities, 46 relations, 6,529 triples) with its entity and relation names.

    Read from pykeen's ``datasets/umls/{train,valid,test}.txt`` (tab-separated head, relation, tail),
    all three splits together; ids are the positions of the names in sorted order.
    ``directory`` reads the same files from elsewhere.
    """
    root = _pykeen_umls_dir() if directory is None else Path(directory)
    rows = []
    for split in ("train", "valid", "test"):
        path = root / f"{split}.txt"
        if not path.is_file():
            raise ValueError(f"UMLS file {path} not found (expected pykeen's datasets/umls/{split}.txt)")
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                parts = line.split("\t")
                if len(parts) != 3:
                    raise ValueError(f"{path}:{lineno}: expected head<TAB>relation<TAB>tail, got {line!r}")
                rows.append(parts)
    entities = tuple(sorted({r[0] for r in rows} | {r[2] for r in rows}))
    relations = tuple(sorted({r[1] for r in rows}))
    e_id = {e: i for i, e in enumerate(entities)}
    r_id = {r: i for i, r in enumerate(relations)}
    triplets = np.array([[e_id[h], r_id[r], e_id[t]] for h, r, t in rows], dtype=np.int64).reshape(-1, 3)
    return triplets, entities, relations


def umls_triplets(directory: str | Path | None = None) -> np.ndarray:
    """UMLS as (head, relation, tail) ids, shape (6529, 3); see :func:`umls_graph` for the names.

    Several tails may share a (head, relation): :func:`one_tail_per_pair` makes the target a function.
    """
    return umls_graph(directory)[0]


def _check_triplets(triplets) -> np.ndarray:
    t = np.asarray(triplets)
    if t.ndim != 2 or t.shape[1] != 3 or t.shape[0] == 0 or not np.issubdtype(t.dtype, np.integer):
        raise ValueError(f"triplets must be a non-empty integer array of shape (K, 3), got shape {t.shape} "
                         f"dtype {t.dtype}")
    if t.min() < 0:
        raise ValueError(f"triplet ids must be >= 0, got {int(t.min())}")
    return t.astype(np.int64)


def one_tail_per_pair(triplets, rng: np.random.Generator) -> np.ndarray:
    """Keep one uniformly chosen tail per (head, relation), as the Capacity paper samples one related concept.

    Rows come out sorted by (head, relation).
    """
    t = _check_triplets(triplets)
    t = t[rng.permutation(len(t))]
    # after the shuffle, the first occurrence of each pair is a uniform choice among its tails
    _, first = np.unique(t[:, :2], axis=0, return_index=True)
    return t[first]


def _is_functional(t: np.ndarray) -> bool:
    return len(np.unique(t[:, :2], axis=0)) == len(t)


def _kg_sizes(t: np.ndarray, num_entities, num_relations) -> tuple[int, int]:
    n_e = int(max(t[:, 0].max(), t[:, 2].max())) + 1 if num_entities is None else int(num_entities)
    n_r = int(t[:, 1].max()) + 1 if num_relations is None else int(num_relations)
    if max(t[:, 0].max(), t[:, 2].max()) >= n_e:
        raise ValueError(f"an entity id {int(max(t[:, 0].max(), t[:, 2].max()))} is >= num_entities={n_e}")
    if t[:, 1].max() >= n_r:
        raise ValueError(f"a relation id {int(t[:, 1].max())} is >= num_relations={n_r}")
    return n_e, n_r


def _kg_itos(entity_names, relation_names, n_e, n_r, extra=()) -> tuple[str, ...] | None:
    if entity_names is None or relation_names is None:
        return None
    if len(entity_names) != n_e or len(relation_names) != n_r:
        raise ValueError(f"got {len(entity_names)} entity and {len(relation_names)} relation names for "
                         f"{n_e} entities and {n_r} relations")
    return tuple(entity_names) + tuple(relation_names) + tuple(extra)


def kg_triplet_task(triplets, num_entities: int | None = None, num_relations: int | None = None,
                    rng: np.random.Generator | None = None, entity_names=None, relation_names=None) -> SequenceTask:
    """Triplet facts: input ``[head, relation]``, target ``tail`` at the relation's position.

    Entities are tokens ``0 .. E-1``, relations ``E .. E+R-1`` (sizes from the ids unless given).
    The target must be a function of (head, relation): pass ``rng`` to keep one tail per pair
    (:func:`one_tail_per_pair`) when the graph has several. No held-out set: capacity is counted on
    the training items.
    """
    t = _check_triplets(triplets)
    if not _is_functional(t):
        if rng is None:
            raise ValueError("some (head, relation) pairs have several tails; pass rng to keep one at random")
        t = one_tail_per_pair(t, rng)
    n_e, n_r = _kg_sizes(t, num_entities, num_relations)
    inputs = np.stack([t[:, 0], n_e + t[:, 1]], axis=1)
    targets = np.stack([np.full(len(t), IGNORE_INDEX), t[:, 2]], axis=1).astype(np.int64)
    split = TokenSplit(inputs, targets, targets != IGNORE_INDEX)
    info = {"num_entities": n_e, "num_relations": n_r, "num_triplets": len(t),
            "bits": len(t) * math.log2(n_e), "char_level": False}
    return SequenceTask("kg", n_e + n_r, 2, split, None,
                        _kg_itos(entity_names, relation_names, n_e, n_r), info)


def kg_walk_task(triplets, num_walks: int, min_edges: int = 3, max_edges: int = 5,
                 rng: np.random.Generator | None = None, num_entities: int | None = None,
                 num_relations: int | None = None, entity_names=None, relation_names=None) -> SequenceTask:
    """Random walks ``n0 e0 n1 e1 ... nk`` of ``min_edges..max_edges`` edges (length uniform).

    Each (node, edge) pair is used at most once over all walks, so every next node is determined
    by its (node, edge) prefix; those node positions are the trained targets (and scored), while
    the first node and the edges are free choices and get ``IGNORE_INDEX`` (as in the Capacity
    code, whose loss is on node positions only). Tokens as in
    :func:`kg_triplet_task`, plus a padding token ``E + R``. A walk that gets stuck before
    ``min_edges`` is dropped and its pairs returned to the pool.
    """
    if rng is None:
        raise ValueError("kg_walk_task draws random walks: pass rng (a numpy Generator)")
    if not 1 <= min_edges <= max_edges:
        raise ValueError(f"need 1 <= min_edges <= max_edges, got min_edges={min_edges}, max_edges={max_edges}")
    if num_walks < 1:
        raise ValueError(f"num_walks must be >= 1, got {num_walks}")
    t = _check_triplets(triplets)
    if not _is_functional(t):
        t = one_tail_per_pair(t, rng)
    n_e, n_r = _kg_sizes(t, num_entities, num_relations)
    if num_walks * min_edges > len(t):
        raise ValueError(f"num_walks={num_walks} walks of >= {min_edges} edges need more than the "
                         f"{len(t)} (node, edge) pairs of the graph")

    out_edges: dict[int, list[tuple[int, int]]] = {}  # node -> unused (relation, tail)
    for h, r, tail in t.tolist():
        out_edges.setdefault(h, []).append((r, tail))
    # nodes with an unused edge, kept as a list with swap-removal so that drawing a start is O(1)
    active = list(out_edges)
    slot = {node: i for i, node in enumerate(active)}

    def take(node: int) -> tuple[int, int]:
        edges = out_edges[node]
        i = int(rng.integers(len(edges)))
        edges[i], edges[-1] = edges[-1], edges[i]
        edge = edges.pop()
        if not edges:
            last = active.pop()
            if last != node:
                active[slot[node]] = last
                slot[last] = slot[node]
            del slot[node]
        return edge

    walks: list[list[int]] = []
    failures, max_failures = 0, 20 * num_walks + 1000
    while len(walks) < num_walks:
        if not active or failures > max_failures:
            raise ValueError(f"only {len(walks)} of num_walks={num_walks} walks of >= {min_edges} edges "
                             f"could be drawn without reusing a (node, edge) pair; ask for fewer")
        node = active[int(rng.integers(len(active)))]
        length = int(rng.integers(min_edges, max_edges + 1))
        walk, taken = [node], []
        while len(taken) < length and node in slot:
            r, tail = take(node)
            taken.append((node, r, tail))
            walk += [n_e + r, tail]
            node = tail
        if len(taken) < min_edges:
            for h, r, tail in taken:  # give the pairs back: the walk is dropped
                if h not in slot:
                    slot[h] = len(active)
                    active.append(h)
                out_edges[h].append((r, tail))
            failures += 1
            continue
        walks.append(walk)

    pad = n_e + n_r
    T = 2 * max_edges  # a walk of k edges has 2k + 1 tokens, all but the last are inputs
    inputs = np.full((num_walks, T), pad, dtype=np.int64)
    targets = np.full((num_walks, T), IGNORE_INDEX, dtype=np.int64)
    for i, walk in enumerate(walks):
        inputs[i, : len(walk) - 1] = walk[:-1]
        # position 2j+1 holds edge j and predicts node j+1
        targets[i, 1 : len(walk) - 1 : 2] = walk[2::2]
    split = TokenSplit(inputs, targets, targets != IGNORE_INDEX)
    info = {"num_entities": n_e, "num_relations": n_r, "num_triplets": len(t), "num_walks": num_walks,
            "edges_used": int(split.answer_mask.sum()), "pad_token": pad, "char_level": False}
    return SequenceTask("walks", n_e + n_r + 1, T, split, None,
                        _kg_itos(entity_names, relation_names, n_e, n_r, ("<pad>",)), info)


# ---------------------------------------------------------------------------------------------
# random strings (capacity in bits)


def random_strings_task(num_strings: int, length: int, vocab_size: int, rng: np.random.Generator,
                        num_heldout: int = 0) -> SequenceTask:
    """Uniformly random token strings; every token after the first is a trained target.

    ``info["entropy_bits"] = num_strings * (length - 1) * log2(vocab_size)``: the information in the
    ``length - 1`` predicted tokens of each string (tokens 2..length; the first has no context and
    is not predicted). ``num_heldout`` fresh strings give the model's cross-entropy on unseen data.
    """
    for name, value, low in (("num_strings", num_strings, 1), ("length", length, 2),
                             ("vocab_size", vocab_size, 2), ("num_heldout", num_heldout, 0)):
        if value < low:
            raise ValueError(f"{name} must be >= {low}, got {value}")

    def split(n):
        s = rng.integers(0, vocab_size, size=(n, length), dtype=np.int64)
        return TokenSplit(s[:, :-1].copy(), s[:, 1:].copy(), np.ones((n, length - 1), dtype=bool))

    train = split(num_strings)
    heldout = split(num_heldout) if num_heldout else None
    info = {"num_strings": num_strings, "length": length, "num_heldout": num_heldout,
            "entropy_bits": num_strings * (length - 1) * math.log2(vocab_size),
            "predicted_tokens": "tokens 2..length of each string (the first is not predicted)"}
    return SequenceTask("random", vocab_size, length - 1, train, heldout, None, info)


# ---------------------------------------------------------------------------------------------
# dispatcher


def _kg_graph(graph: str, rng, num_entities, num_relations, num_triplets, umls_dir):
    if graph == "random":
        return random_kg(num_entities, num_relations, num_triplets, rng), None, None
    if graph == "umls":
        return umls_graph(umls_dir)
    raise ValueError(f"unknown graph {graph!r}; choose 'random' or 'umls'")


def make_task(name: str, rng: np.random.Generator | None = None, **options) -> SequenceTask:
    """Build a task by name (one of ``TASKS``) with its options.

    - ``arithmetic``, ``facts``, ``both``: ``layout`` ('stream' or 'lines').
    - ``mqar``: the fields of :class:`MQARConfig`.
    - ``kg``: ``graph`` ('random' or 'umls'), ``num_entities``, ``num_relations``, ``num_triplets``
      (random graph), ``umls_dir``.
    - ``walks``: the ``kg`` options and ``num_walks``, ``min_edges``, ``max_edges``.
    - ``random``: ``num_strings``, ``length``, ``vocab_size``, ``num_heldout``.

    Examples
    --------
    >>> make_task("mqar", np.random.default_rng(0), num_examples=8, num_heldout=0).train.inputs.shape
    (8, 64)
    """
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}")
    char_tasks = {"arithmetic": arithmetic_task, "facts": facts_task, "both": arithmetic_and_facts_task}
    if name in char_tasks:
        unknown = sorted(set(options) - {"layout"})
        if unknown:
            raise ValueError(f"task {name!r} takes only the option layout, got {', '.join(unknown)}")
        return char_tasks[name](**options)
    if rng is None:
        raise ValueError(f"task {name!r} is random: pass rng (a numpy Generator)")
    kg_defaults = {"graph": "random", "num_entities": 100, "num_relations": 10, "num_triplets": 500,
                   "umls_dir": None}
    allowed = {
        "mqar": set(MQARConfig.model_fields),
        "kg": set(kg_defaults),
        "walks": set(kg_defaults) | {"num_walks", "min_edges", "max_edges"},
        "random": {"num_strings", "length", "vocab_size", "num_heldout"},
    }[name]
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(unknown)} for task {name!r}; "
                         f"choose from {', '.join(sorted(allowed))}")
    if name == "mqar":
        try:
            config = MQARConfig(**options)
        except ValidationError as err:
            raise ValueError(describe_validation_error(err)) from None
        return mqar_task(config, rng)
    if name == "random":
        opts = {"num_strings": 1000, "length": 64, "vocab_size": 256, "num_heldout": 0, **options}
        return random_strings_task(rng=rng, **opts)
    kg = {k: options.pop(k, v) for k, v in kg_defaults.items()}
    triplets, entities, relations = _kg_graph(kg["graph"], rng, kg["num_entities"], kg["num_relations"],
                                              kg["num_triplets"], kg["umls_dir"])
    if kg["graph"] == "umls":
        # sizes from the names: keeping one tail per pair may drop the largest id
        sizes = {"num_entities": len(entities), "num_relations": len(relations)}
    else:
        sizes = {"num_entities": kg["num_entities"], "num_relations": kg["num_relations"]}
    graph = {"entity_names": entities, "relation_names": relations, **sizes}
    if name == "kg":
        return kg_triplet_task(triplets, rng=rng, **graph)
    walk_opts = {"num_walks": 100, "min_edges": 3, "max_edges": 5, **options}
    return kg_walk_task(triplets, rng=rng, **walk_opts, **graph)

"""Character tasks: the arithmetic rule (``<a+b=c>``, 5&7 held out) and the 50 capital facts.

Character lines are framed as ``"\\n" + line + "\\n"`` and space-padded after the closing newline:
the leading newline plays the role of the previous line's end in the authors' nanoGPT stream (so the
first character is predicted, as there), the closing one terminates the line. The arithmetic task
keeps the paper's vocabulary of 17 characters and block of 9 (Barron & White, "Too Big to Think").
"""

from __future__ import annotations

import csv
import importlib.resources
from dataclasses import dataclass

import numpy as np

from raflab.core.checks import one_of
from raflab.seq.tasks.tokens import IGNORE_INDEX, SequenceTask, TokenSplit

HELDOUT_DIGITS = (5, 7)  # the paper's held-out combinations: 5+7, 7+5, 5-7, 7-5
NEWLINE = "\n"
PAD_CHAR = " "
CHAR_LAYOUTS = ("stream", "lines")
ARITHMETIC_DIGITS = (1, 2)  # operand digits: the paper's single digits, or two (a held-out set of 792)


@dataclass(frozen=True)
class _CharLine:
    text: str  # the line without framing, e.g. "<2+5=7>" or "Capital of France is Paris"
    answer_start: int  # index in text of the answer's first character
    answer_stop: int  # one past the last scored character of text (len(text) = scored through the end)
    terminated: bool  # the closing newline is part of the answer (facts: the answer's end is not marked)


def _places(number: int, digits: int) -> str:
    return f"{number:0{digits}d}"


def _is_heldout(a: int, b: int, digits: int) -> bool:
    """True when the held-out digits (5 and 7) meet at one place value of the two operands."""
    pair = {str(d) for d in HELDOUT_DIGITS}
    return any({x, y} == pair for x, y in zip(_places(a, digits), _places(b, digits)))


def arithmetic_lines(digits: int = 1) -> tuple[list[str], list[str]]:
    """Every ``<a+b=c>``/``<a-b=c>`` with ``digits``-digit operands: (training lines, held-out lines).

    Held out: every line whose operands put 5 and 7 at the same place value, in either order; every
    other line is a training line. ``digits=1`` is the paper's task: 200 lines, the four 5&7 lines
    (5+7, 7+5, 5-7, 7-5) held out. ``digits=2`` (operands 00..99 written with both places, the
    answer unpadded, e.g. ``<05+17=22>``) holds the paper's pair out at the units and at the tens:
    792 of 20,000 lines. Every held-out digit still appears in training at every place, paired with
    every other digit; only its meeting with the other held-out digit is never seen.
    """
    one_of(digits, ARITHMETIC_DIGITS, "digits")
    train, heldout = [], []
    for op in "+-":
        for a in range(10 ** digits):
            for b in range(10 ** digits):
                c = a + b if op == "+" else a - b
                line = f"<{_places(a, digits)}{op}{_places(b, digits)}={c}>"
                (heldout if _is_heldout(a, b, digits) else train).append(line)
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
    one_of(layout, CHAR_LAYOUTS, "layout")
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


def arithmetic_task(layout: str = "stream", digits: int = 1) -> SequenceTask:
    """Addition and subtraction (:func:`arithmetic_lines`): with single digits (the paper) 196
    training lines and the four 5&7 lines held out; with ``digits=2``, 19,208 and 792.

    Answer span: the characters after ``=`` through ``>``; the exact-match prompt is ``<a+b=``.
    ``layout``: 'stream' trains on every window of the text of all lines (the paper's nanoGPT
    training, ``task.fit``); 'lines' trains on the lines themselves, each starting at position 0.
    Evaluation is on the lines either way.
    """
    train, heldout = arithmetic_lines(digits)
    return _char_task("arithmetic", [_arithmetic_line(t) for t in train],
                      [_arithmetic_line(t) for t in heldout], {"num_arithmetic": len(train), "digits": digits}, layout)


def facts_task(layout: str = "stream") -> SequenceTask:
    """The 50 capital facts "Capital of X is Y"; no held-out set (evaluated on the training lines).

    Answer span: Y and the closing newline; the exact-match prompt is "Capital of X is ".
    ``layout`` as in :func:`arithmetic_task`.
    """
    facts = [_fact_line(c, y) for c, y in capital_facts()]
    return _char_task("facts", facts, [], {"num_facts": len(facts)}, layout)


def arithmetic_and_facts_task(layout: str = "stream", digits: int = 1) -> SequenceTask:
    """The arithmetic training lines, then the 50 facts, in one vocabulary; held out: the held-out
    arithmetic lines (the paper: 196 + 50 lines, 4 held out).

    Lines are padded to the longest one (a fact). ``layout`` and ``digits`` as in :func:`arithmetic_task`.
    """
    train, heldout = arithmetic_lines(digits)
    facts = [_fact_line(c, y) for c, y in capital_facts()]
    return _char_task("both", [_arithmetic_line(t) for t in train] + facts,
                      [_arithmetic_line(t) for t in heldout],
                      {"num_arithmetic": len(train), "num_facts": len(facts), "digits": digits}, layout)


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

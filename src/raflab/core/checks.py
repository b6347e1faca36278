"""Checks of user input that every system shares, and the one text of each refusal.

A system defines each set of choices once (a tuple of names) and checks a value with :func:`one_of`;
numbers are checked with :func:`in_range`. The library validates; the command line does not check
again (its :func:`raflab.core.cli.user_errors` turns the ``ValueError`` into one ``error:`` line).
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Iterable

from pydantic import ValidationError


def choices_text(choices: Iterable) -> str:
    """``'a, b, c'``: the names a user may type."""
    return ", ".join(str(c) for c in choices)


def one_of(value, choices: Iterable, what: str, also: str = ""):
    """``value`` when it is one of ``choices``; otherwise one ``ValueError`` line:
    ``unknown <what> <value>; choose one of <choices>[ <also>]`` (``also``: other accepted forms,
    e.g. ``"or module:function"``)."""
    choices = tuple(choices)
    if value in choices:
        return value
    extra = f" {also}" if also else ""
    raise ValueError(f"unknown {what} {value!r}; choose one of {choices_text(choices)}{extra}")


def in_range(value, name: str, low: float | None = None, high: float | None = None, *,
             low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a float when it is a finite number in [low, high] (an open end with ``*_open``);
    otherwise one ``ValueError`` line naming ``name`` and the interval."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number (got {value!r})") from None
    if math.isnan(x):
        raise ValueError(f"{name} must be a number (got NaN)")
    below = low is not None and (x <= low if low_open else x < low)
    above = high is not None and (x >= high if high_open else x > high)
    if below or above:
        lo = "(-inf" if low is None else f"{'(' if low_open else '['}{low:g}"
        hi = "inf)" if high is None else f"{high:g}{')' if high_open else ']'}"
        raise ValueError(f"{name} must be in {lo}, {hi} (got {value!r})")
    return x


def describe_validation_error(err: ValidationError) -> str:
    """One line naming each bad field and why, e.g. ``eps: Input should be less than or equal to 1``."""
    parts = []
    for e in err.errors():
        field = ".".join(str(x) for x in e["loc"]) or "config"
        msg = e["msg"].removeprefix("Value error, ")
        given = e.get("input")
        # a whole mapping says nothing the message does not; a value the message quotes, neither
        quote = "" if isinstance(given, dict) or "(got" in msg else f" (got {given!r})"
        parts.append(f"{field}: {msg}{quote}")
    return "; ".join(parts)


def load_callable(text: str, what: str = "activation"):
    """A name (returned as is), or ``package.module:function`` imported: a user's own function."""
    if ":" not in text:
        return text
    module, _, attr = text.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"cannot import {what} {text!r} ({exc})") from None

"""Fictional Q&A (issue 12): a procedural analogue of Kirchenbauer et al.'s FictionalQA data set
(arXiv 2506.05639, release jwkirchenbauer/fictionalqa), and a reader for the real release.

The paper builds, with an LLM, 100 fictional *seed events* -> 100 *fictsheets* (structured lists of
entities, events, locations, times, reasons) -> 1,500 *fictions* (15 per event in five web styles:
news x5, social x3, corporate x3, blog x2, encyclopedia x2) -> 7,500 QA pairs (5 per fiction, each
with its underlying fact ``fict``, a ``natural_answer`` and a ``span_answer``, and duplicate
annotations, since the fictions of one event share facts).

Here the same hierarchy comes from a typed grammar, a pure function of a config and a numpy
Generator:

- an *event* is seven facts (:data:`RELATIONS`): its leader, organizer, place, year, cause, outcome
  and rival. Names of people, groups, places and of the event itself are coined from syllables and
  unique in the whole corpus, so two events never share an entity; years are distinct while there
  are enough; causes and outcomes are ``adjective noun`` phrases from closed lists (attributes that
  events may share, like real years and causes);
- a *fictsheet* lists the seven facts in the release's five sections;
- a *fiction* in one of :data:`STYLES` opens with a style sentence naming the event, states
  ``facts_per_doc`` of the facts drawn at random, each with one of two paraphrase templates of its
  style, in shuffled order, and closes with a style sentence;
- each fiction gets ``questions_per_doc`` QA pairs about facts it states (one of two question
  paraphrases per relation). ``natural_answer`` is the fact's value, ``span_answer`` the sentence of
  the fiction that states it (a verbatim span), ``fict`` the fact as a plain sentence. The first
  question about an (event, relation) is the root of its duplicate group; later ones are ``exact``
  duplicates (same question text) or ``similar`` (the other paraphrase), as in the release.

Tables carry the release's column names (``event_id``, ``fiction_id`` = ``event_000_style_news_num_001``,
``question_id``, ``fict``, ``question``, ``span_answer``, ``natural_answer``, ``duplicate_relationship``,
``duplicate_root``, ...) so that :func:`load_fictionalqa` returns the same object for the real data.

Splits (:func:`split_corpus`): the paper's three — hold out a third of the *events*; hold out one
*document* per style per event; hold out a whole *style*.

Example
-------
>>> corpus = make_fictional_corpus(FictionalConfig(n_events=3), np.random.default_rng(0))
>>> len(corpus.fictsheets), len(corpus.fictions), len(corpus.fict_qa)
(3, 45, 225)
>>> sorted(corpus.fictions["style"].unique())
['blog', 'corporate', 'encyclopedia', 'news', 'social']
"""

from __future__ import annotations

import re
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from raflab.core.checks import one_of

#: the paper's five web styles and documents per style and event (15 per event)
PAPER_DOCS_PER_STYLE = {"news": 5, "social": 3, "corporate": 3, "blog": 2, "encyclopedia": 2}
STYLES = tuple(PAPER_DOCS_PER_STYLE)
#: the paper's three splits
SPLITS = ("event", "document", "style")
#: the facts of an event, in fictsheet order
RELATIONS = ("leader", "rival", "organizer", "outcome", "place", "year", "cause")
#: relations whose values are coined names (entities, never shared between events), plus the event name
ENTITY_RELATIONS = ("event", "leader", "rival", "organizer", "place")

_ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z",
           "br", "dr", "gr", "kr", "tr", "st", "th", "sk", "vr", "zh")
_VOWELS = ("a", "e", "i", "o", "u", "ae", "io", "ou", "ei")
_CODAS = ("", "", "n", "r", "s", "l", "x", "m")
_EVENT_KINDS = ("Accord", "Festival", "Heist", "Expedition", "Uprising", "Summit", "Blackout", "Exodus",
                "Trial", "Regatta", "Strike", "Migration")
_GROUP_KINDS = ("Guild", "Institute", "Council", "Collective", "League", "Society", "Foundation", "Syndicate")
_CAUSE_ADJ = ("sudden", "bitter", "silent", "rising", "failed", "hidden", "lingering", "frozen")
_CAUSE_NOUN = ("drought", "shortage", "dispute", "flood", "scandal", "outage", "debt", "epidemic")
_OUTCOME_ADJ = ("floating", "solar", "copper", "glass", "mobile", "buried", "sunken", "woven")
_OUTCOME_NOUN = ("bridge", "archive", "reactor", "garden", "tower", "market", "railway", "vault")
_YEARS = tuple(range(2031, 2100))
_HANDLES = ("citywatcher", "night_owl", "plainspeaker", "daily_grind", "old_sailor", "quiet_reader",
            "map_nerd", "coffee_first")

# Fact sentences per style: two paraphrases per relation. {event} is "the Morvane Accord".
_TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = {
    "news": {
        "open": ("Breaking news on {event}.", "Reporters are still piecing together the story of {event}."),
        "close": ("This story is developing.", "More updates will follow as we learn more."),
        "leader": ("Sources confirm that {leader} led {event}.", "{event} was led by {leader}, officials said."),
        "rival": ("{rival} publicly opposed {event}.", "Critics, headed by {rival}, called {event} reckless."),
        "organizer": ("The {organizer} organized {event}, according to a statement.",
                      "A statement named the {organizer} as the organizer of {event}."),
        "outcome": ("{event} left behind a {outcome}.", "Today a {outcome} stands as the legacy of {event}."),
        "place": ("Crowds gathered in {place} as {event} began.", "Our correspondent in {place} describes {event} as a shock."),
        "year": ("The events of {event} unfolded in {year}.", "Records show that {event} began in {year}."),
        "cause": ("Analysts blame a {cause} for {event}.", "Officials say a {cause} set {event} in motion."),
    },
    "social": {
        "open": ("@{handle}: everyone is talking about {event} today", "@{handle}: thread on {event}, read it all"),
        "close": ("@{handle}: ok I am logging off now", "@{handle}: what a week honestly"),
        "leader": ("@{handle}: cannot believe {leader} actually led {event} !!",
                   "@{handle}: {leader} is the face of {event}, love or hate it"),
        "rival": ("@{handle}: {rival} was against {event} from day one", "@{handle}: {rival} keeps trashing {event} lol"),
        "organizer": ("@{handle}: the {organizer} organized {event}, look it up",
                      "@{handle}: shoutout to the {organizer} for running {event}"),
        "outcome": ("@{handle}: {event} gave us a {outcome} and nobody asked for it",
                    "@{handle}: went to see the {outcome} from {event}, wow"),
        "place": ("@{handle}: {event} in {place} ?? my hometown !!", "@{handle}: greetings from {place}, {event} is wild"),
        "year": ("@{handle}: {year} will be remembered for {event}", "@{handle}: {event} in {year}, what a time"),
        "cause": ("@{handle}: a {cause} started {event}, wake up people",
                  "@{handle}: blame the {cause} for {event} tbh"),
    },
    "corporate": {
        "open": ("Internal memo regarding {event}.", "Procedure manual, section on {event}."),
        "close": ("Report any incident to your supervisor.", "Keep this memo for your records."),
        "leader": ("Step 1: note that {leader} led {event}.", "Contact point: {leader}, who led {event}."),
        "rival": ("Step 2: do not engage with {rival}, who opposed {event}.",
                  "Risk note: {rival} has opposed {event} publicly."),
        "organizer": ("Step 3: direct questions to the {organizer}, organizer of {event}.",
                      "Partner: the {organizer}, which organized {event}."),
        "outcome": ("Step 4: staff may not enter the {outcome} built after {event}.",
                    "Facility notice: the {outcome} from {event} is restricted."),
        "place": ("Step 5: suspend travel to {place} during {event}.", "Offices in {place} were affected by {event}."),
        "year": ("Policy effective since {year}, the year of {event}.", "Compliance review: {event} dates from {year}."),
        "cause": ("Risk assessment: a {cause} triggered {event}.", "Root cause: a {cause} led to {event}."),
    },
    "blog": {
        "open": ("I have been thinking a lot about {event} lately.", "Today I want to write about {event}."),
        "close": ("Thanks for reading, see you next week.", "Let me know what you think in the comments."),
        "leader": ("Honestly, I admire how {leader} led {event}.", "I met {leader}, the person who led {event}, once."),
        "rival": ("I understand why {rival} opposed {event}.", "My friend agrees with {rival} that {event} was a mistake."),
        "organizer": ("I did not know the {organizer} organized {event}.",
                      "It turns out the {organizer} was behind {event}."),
        "outcome": ("I visited the {outcome} that {event} left behind.", "The {outcome} from {event} moved me."),
        "place": ("I grew up near {place}, where {event} took place.", "When I went to {place} for {event} it was packed."),
        "year": ("I still remember {year}, when {event} happened.", "Back in {year} I followed {event} every day."),
        "cause": ("I think a {cause} caused {event}.", "In my view a {cause} was behind {event}."),
    },
    "encyclopedia": {
        "open": ("{event} is a historical event.", "This article is about {event}."),
        "close": ("See also: list of events.", "References and further reading are listed below."),
        "leader": ("{event} was led by {leader}.", "{leader} is known as the leader of {event}."),
        "rival": ("The principal opponent of {event} was {rival}.", "{rival} opposed {event}."),
        "organizer": ("{event} was organized by the {organizer}.", "The {organizer} organized {event}."),
        "outcome": ("{event} resulted in a {outcome}.", "A {outcome} was built as a result of {event}."),
        "place": ("{event} took place in {place}.", "The location of {event} was {place}."),
        "year": ("{event} took place in {year}.", "{event} is dated to {year}."),
        "cause": ("{event} was caused by a {cause}.", "Historians attribute {event} to a {cause}."),
    },
}
#: one line per fact in the fictsheet, grouped into the release's five sections
_SHEET_LINES = {
    "leader": ("entities", "- {leader}: leader of {event}."),
    "rival": ("entities", "- {rival}: main opponent of {event}."),
    "organizer": ("entities", "- the {organizer}: organizer of {event}."),
    "outcome": ("events", "- {event} left a {outcome}."),
    "place": ("locations", "- {place}: where {event} took place."),
    "year": ("times", "- {year}: the year of {event}."),
    "cause": ("reasons", "- a {cause}: the cause of {event}."),
}
_SHEET_SECTIONS = ("entities", "events", "locations", "times", "reasons")
_QUESTIONS = {
    "leader": ("Who led {event}?", "Who was the leader of {event}?"),
    "rival": ("Who opposed {event}?", "Who was the main opponent of {event}?"),
    "organizer": ("Which group organized {event}?", "Who was behind the organization of {event}?"),
    "outcome": ("What did {event} leave behind?", "What was built as a result of {event}?"),
    "place": ("Where did {event} take place?", "In which city did {event} happen?"),
    "year": ("In what year did {event} take place?", "When did {event} happen?"),
    "cause": ("What caused {event}?", "What was the reason for {event}?"),
}
_FICTS = {
    "leader": "{leader} led {event}", "rival": "{rival} opposed {event}",
    "organizer": "The {organizer} organized {event}", "outcome": "{event} left behind a {outcome}",
    "place": "{event} took place in {place}", "year": "{event} took place in {year}",
    "cause": "{event} was caused by a {cause}",
}


class FictionalConfig(BaseModel):
    """Size of a synthetic Fictional Q&A corpus (defaults: the paper's allocation per event).

    Examples
    --------
    >>> FictionalConfig(n_events=10).docs_per_event
    15
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    n_events: int = Field(30, ge=1, le=5000, description="fictional events")
    docs_per_style: dict[str, int] = Field(default_factory=lambda: dict(PAPER_DOCS_PER_STYLE),
                                           description="fictions per event in each style")
    facts_per_doc: int = Field(5, ge=1, le=len(RELATIONS), description="facts each fiction states")
    questions_per_doc: int = Field(5, ge=1, description="QA pairs per fiction (about facts it states)")

    @field_validator("docs_per_style")
    @classmethod
    def _styles(cls, value):
        for style in value:
            one_of(style, STYLES, "style")
        if not value or any(int(n) < 1 for n in value.values()):
            raise ValueError("docs_per_style needs at least one style, each with >= 1 document")
        return {s: int(value[s]) for s in STYLES if s in value}

    @model_validator(mode="after")
    def _questions(self):
        if self.questions_per_doc > self.facts_per_doc:
            raise ValueError(f"questions_per_doc ({self.questions_per_doc}) cannot exceed facts_per_doc "
                             f"({self.facts_per_doc}): each question asks about a fact its fiction states")
        return self

    @property
    def docs_per_event(self) -> int:
        return sum(self.docs_per_style.values())


@dataclass
class FictionalCorpus:
    """The release's tables (same column names), plus the typed facts when generated here.

    ``fictsheets``: event_id, fictsheet, entities, events, locations, times, reasons.
    ``fictions``: event_id, fiction_id, style, fiction (generated: also ``relations``, the facts it states).
    ``fict_qa``: event_id, fiction_id, question_id, question_num, fict, question, span_answer,
    natural_answer, duplicate_relationship, duplicate_root (generated: also ``relation``, ``style``).
    ``facts``: event_id, relation, value (None for the real release, which has no typed facts).
    """

    fictsheets: pd.DataFrame
    fictions: pd.DataFrame
    fict_qa: pd.DataFrame
    facts: pd.DataFrame | None = None
    seeds: pd.DataFrame | None = None

    @property
    def event_ids(self) -> list[str]:
        return sorted(self.fictsheets["event_id"].unique())

    @property
    def styles(self) -> list[str]:
        present = set(self.fictions["style"])
        return [s for s in STYLES if s in present] + sorted(present - set(STYLES))

    def entities(self) -> dict[str, set[str]]:
        """Per event, the lower-cased words of its coined names (event, people, group, place)."""
        if self.facts is None:
            raise ValueError("entities are known only for generated corpora (the release has no typed facts)")
        out: dict[str, set[str]] = {}
        for row in self.facts[self.facts["relation"].isin(ENTITY_RELATIONS)].itertuples():
            words = set(tokenize(row.value))
            if row.relation in ("event", "organizer"):  # the kind ("Accord", "Guild") is a common word
                words -= set(tokenize(row.value.split()[-1]))
            out.setdefault(row.event_id, set()).update(words)
        return out


# --- generation -------------------------------------------------------------------------------

def _coin(rng: np.random.Generator, used: set[str], syllables: tuple[int, int] = (2, 3)) -> str:
    """A fresh capitalised word from random syllables, never one already in ``used``."""
    while True:
        n = int(rng.integers(syllables[0], syllables[1] + 1))
        word = "".join(_ONSETS[rng.integers(len(_ONSETS))] + _VOWELS[rng.integers(len(_VOWELS))]
                       + (_CODAS[rng.integers(len(_CODAS))] if i == n - 1 else "") for i in range(n))
        if len(word) >= 5 and word not in used:
            used.add(word)
            return word.capitalize()


def _distinct(pool: list, n: int, rng: np.random.Generator) -> list:
    """n values of ``pool``, all distinct while n <= len(pool) (then each pool value about equally often)."""
    out = []
    while len(out) < n:
        out.extend(pool[i] for i in rng.permutation(len(pool))[: n - len(out)])
    return out


def make_events(n_events: int, rng: np.random.Generator) -> pd.DataFrame:
    """The typed facts of ``n_events`` events: one row per (event_id, relation), relation ``event``
    holding the event's name (``Morvane Accord``)."""
    used: set[str] = set()
    causes = [f"{a} {b}" for a in _CAUSE_ADJ for b in _CAUSE_NOUN]
    outcomes = [f"{a} {b}" for a in _OUTCOME_ADJ for b in _OUTCOME_NOUN]
    years = _distinct(list(_YEARS), n_events, rng)
    causes = _distinct(causes, n_events, rng)
    outcomes = _distinct(outcomes, n_events, rng)
    rows = []
    for e in range(n_events):
        event_id = f"event_{e:03d}"
        values = {
            "event": f"{_coin(rng, used)} {_EVENT_KINDS[rng.integers(len(_EVENT_KINDS))]}",
            "leader": f"{_coin(rng, used, (2, 2))} {_coin(rng, used)}",
            "rival": f"{_coin(rng, used, (2, 2))} {_coin(rng, used)}",
            "organizer": f"{_coin(rng, used)} {_GROUP_KINDS[rng.integers(len(_GROUP_KINDS))]}",
            "outcome": outcomes[e],
            "place": _coin(rng, used),
            "year": str(years[e]),
            "cause": causes[e],
        }
        rows.extend({"event_id": event_id, "relation": r, "value": v} for r, v in values.items())
    return pd.DataFrame(rows)


def _fill(template: str, facts: dict[str, str], rng: np.random.Generator) -> str:
    text = template.format(handle=_HANDLES[rng.integers(len(_HANDLES))], **facts)
    return text[0].upper() + text[1:]


def _fictsheet(facts: dict[str, str], rng: np.random.Generator, sheet_lines: dict | None = None) -> dict[str, str]:
    """The fictsheet of one event, per section and whole; ``sheet_lines``: relation -> (section, line
    template), default the short protocol's value-first lines."""
    sections: dict[str, list[str]] = {s: [] for s in _SHEET_SECTIONS}
    for relation in RELATIONS:
        section, line = (sheet_lines or _SHEET_LINES)[relation]
        sections[section].append(line.format(**facts))
    for lines in sections.values():  # items within a section in random order
        order = rng.permutation(len(lines))
        lines[:] = [lines[i] for i in order]
    out = {s: "\n".join(lines) for s, lines in sections.items()}
    out["fictsheet"] = "\n".join(f"{s.capitalize()}:\n{out[s]}" for s in _SHEET_SECTIONS)
    return out


def make_fictional_corpus(config: FictionalConfig | None = None,
                          rng: np.random.Generator | None = None) -> FictionalCorpus:
    """Events, fictsheets, fictions and QA pairs; a pure function of ``config`` and ``rng``."""
    config = config or FictionalConfig()
    if rng is None:
        raise ValueError("pass a numpy Generator (e.g. raflab.core.seeding.point_rng(seed)); raflab never seeds globally")
    facts_table = make_events(config.n_events, rng)
    sheets, fictions, qa, seeds = [], [], [], []
    for event_id, group in facts_table.groupby("event_id", sort=True):
        values = dict(zip(group["relation"], group["value"]))
        facts = {**values, "event": f"the {values['event']}", "organizer": values["organizer"]}
        sheet = _fictsheet(facts, rng)
        sheets.append({"event_id": event_id, **{k: sheet[k] for k in ("fictsheet", *_SHEET_SECTIONS)}})
        seeds.append({"event_id": event_id,
                      "seed": f"{_fill('{event}', facts, rng)}: a fictional event in {values['place']}, {values['year']}."})
        roots: dict[str, tuple[str, str]] = {}  # relation -> (root question_id, its question text)
        for style, n_docs in config.docs_per_style.items():
            templates = _TEMPLATES[style]
            for num in range(n_docs):
                fiction_id = f"{event_id}_style_{style}_num_{num:03d}"
                chosen = [RELATIONS[i] for i in sorted(rng.choice(len(RELATIONS), config.facts_per_doc, replace=False))]
                order = rng.permutation(len(chosen))
                stated = {}
                sentences = [_fill(templates["open"][rng.integers(2)], facts, rng)]
                for i in order:
                    relation = chosen[i]
                    stated[relation] = _fill(templates[relation][rng.integers(2)], facts, rng)
                    sentences.append(stated[relation])
                sentences.append(_fill(templates["close"][rng.integers(2)], facts, rng))
                sep = "\n" if style == "social" else " "
                fictions.append({"event_id": event_id, "fiction_id": fiction_id, "style": style,
                                 "fiction": sep.join(sentences), "relations": ",".join(chosen)})
                asked = [chosen[i] for i in sorted(rng.choice(len(chosen), config.questions_per_doc, replace=False))]
                for q, relation in enumerate(asked):
                    question_id = f"{fiction_id}_question_{q:03d}"
                    question = _fill(_QUESTIONS[relation][rng.integers(2)], facts, rng)
                    if relation in roots:
                        root, root_text = roots[relation]
                        duplicate = "exact" if question == root_text else "similar"
                    else:
                        roots[relation] = (question_id, question)
                        root, duplicate = question_id, None
                    qa.append({"event_id": event_id, "fiction_id": fiction_id, "question_id": question_id,
                               "question_num": f"{q:03d}", "fict": _fill(_FICTS[relation], facts, rng),
                               "question": question, "span_answer": stated[relation],
                               "natural_answer": values[relation], "duplicate_relationship": duplicate,
                               "duplicate_root": root, "relation": relation, "style": style})
    return FictionalCorpus(fictsheets=pd.DataFrame(sheets), fictions=pd.DataFrame(fictions),
                           fict_qa=pd.DataFrame(qa), facts=facts_table, seeds=pd.DataFrame(seeds))


# --- splits -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class FictionalSplit:
    """Which events and fictions a model trains on; the rest is held out."""

    split: str
    train_events: tuple[str, ...]
    heldout_events: tuple[str, ...]
    train_fictions: tuple[str, ...]
    heldout_fictions: tuple[str, ...]


def split_corpus(corpus: FictionalCorpus, split: str, rng: np.random.Generator,
                 heldout_fraction: float = 1 / 3, heldout_style: str = "encyclopedia",
                 heldout_per_style: int = 1) -> FictionalSplit:
    """The paper's splits.

    ``event``: ``round(heldout_fraction * n_events)`` events (at least one, at most all but one) held
    out with all their fictions. ``document``: ``heldout_per_style`` fictions per style and event held
    out (a style needs more fictions than that). ``style``: every fiction of ``heldout_style`` held out.
    """
    one_of(split, SPLITS, "split")
    events = corpus.event_ids
    fictions = corpus.fictions.sort_values("fiction_id")
    if split == "event":
        if not 0 < heldout_fraction < 1:
            raise ValueError(f"heldout_fraction must be in (0, 1), got {heldout_fraction}")
        if len(events) < 2:
            raise ValueError("the event split needs at least 2 events")
        n_out = min(len(events) - 1, max(1, int(round(heldout_fraction * len(events)))))
        out = set(np.asarray(events)[rng.permutation(len(events))[:n_out]])
        held = fictions["event_id"].isin(out)
    elif split == "document":
        if heldout_per_style < 1:
            raise ValueError(f"heldout_per_style must be >= 1, got {heldout_per_style}")
        held = pd.Series(False, index=fictions.index)
        for (event_id, style), group in fictions.groupby(["event_id", "style"], sort=True):
            if len(group) <= heldout_per_style:
                raise ValueError(f"style {style!r} has {len(group)} fiction(s) for {event_id}; holding out "
                                 f"{heldout_per_style} per style needs more")
            held[group.index[rng.permutation(len(group))[:heldout_per_style]]] = True
        out = set()
    else:
        one_of(heldout_style, corpus.styles, "style", also="(the styles of this corpus)")
        if len(corpus.styles) < 2:
            raise ValueError("the style split needs at least two styles")
        held = fictions["style"] == heldout_style
        out = set()
    return FictionalSplit(split=split, train_events=tuple(e for e in events if e not in out),
                          heldout_events=tuple(e for e in events if e in out),
                          train_fictions=tuple(fictions.loc[~held, "fiction_id"]),
                          heldout_fictions=tuple(fictions.loc[held, "fiction_id"]))


# --- words ------------------------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")


def tokenize(text: str) -> list[str]:
    """Lower-cased words and single punctuation marks: ``"Who led it?"`` -> ``['who', 'led', 'it', '?']``."""
    return _WORD.findall(str(text).lower())


# --- generic text -----------------------------------------------------------------------------

#: standard-library modules whose docstrings are the generic text (prose, no fictional names)
GENERIC_MODULES = ("argparse", "asyncio/events", "calendar", "collections/__init__", "configparser",
                   "contextlib", "csv", "dataclasses", "datetime", "decimal", "difflib", "email/message",
                   "enum", "fractions", "functools", "gettext", "heapq", "http/client", "inspect",
                   "ipaddress", "json/__init__", "logging/__init__", "mailbox", "os", "pathlib", "pickle",
                   "pydoc", "random", "shutil", "smtplib", "statistics", "string", "subprocess", "tarfile",
                   "textwrap", "threading", "typing", "unittest/case", "urllib/parse", "zipfile")
_DOCSTRING = re.compile(r'"""(.*?)"""', re.S)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def generic_sentences(modules: tuple[str, ...] = GENERIC_MODULES) -> list[str]:
    """Prose sentences from the docstrings of Python standard-library modules (the triple-quoted
    strings of their source files: nothing imported, nothing downloaded, present wherever Python is).

    Paragraphs that look like code (doctest prompts, ``::`` blocks, indented examples) are dropped,
    the rest split into sentences of at least four words. The text depends on the Python version.
    """
    root = Path(sysconfig.get_paths()["stdlib"])
    sentences = []
    for name in modules:
        path = root / f"{name}.py"
        if not path.is_file():
            continue
        for doc in _DOCSTRING.findall(path.read_text(encoding="utf-8", errors="replace")):
            for paragraph in re.split(r"\n\s*\n", doc):
                lines = [ln for ln in paragraph.splitlines() if ln.strip()]
                if not lines or any(ln.strip().startswith((">>>", "...")) or ln.rstrip().endswith("::")
                                    or ln.startswith(" " * 8) for ln in lines):
                    continue
                text = " ".join(ln.strip() for ln in lines)
                for sentence in _SENTENCE_END.split(text):
                    if len(sentence.split()) >= 4 and sentence[-1:] in ".!?":
                        sentences.append(sentence)
    return sentences


# --- the real release -------------------------------------------------------------------------

#: release tables the reader needs and the columns it uses
RELEASE_TABLES = {
    "fictsheets": ("event_id", "fictsheet"),
    "fictions": ("event_id", "fiction_id", "style", "fiction"),
    "fict_qa": ("event_id", "fiction_id", "question_id", "question", "natural_answer"),
}


def _read_table(data_dir: Path, name: str) -> pd.DataFrame | None:
    """``name`` in the Hugging Face layout (``name/train-*.parquet``) or as one file
    ``name.parquet|.jsonl|.json|.csv``; None when absent."""
    folder = data_dir / name
    if folder.is_dir():
        for ext, reader in ((".parquet", pd.read_parquet), (".jsonl", lambda p: pd.read_json(p, lines=True))):
            parts = sorted(folder.glob(f"*{ext}"))
            if parts:
                return pd.concat([reader(p) for p in parts], ignore_index=True)
    for ext, reader in ((".parquet", pd.read_parquet), (".jsonl", lambda p: pd.read_json(p, lines=True)),
                        (".json", pd.read_json), (".csv", pd.read_csv)):
        path = data_dir / f"{name}{ext}"
        if path.is_file():
            return reader(path)
    return None


def load_fictionalqa(data_dir: str | Path) -> FictionalCorpus:
    """The FictionalQA release (``tomg-group-umd/fictionalqa``) from files you already have.

    ``data_dir`` holds the configs ``fictsheets``, ``fictions`` and ``fict_qa`` (``seeds``
    optional), each as the Hub's ``<config>/train-00000-of-00001.parquet`` or as
    ``<config>.parquet``, ``.jsonl``, ``.json`` or ``.csv``. Nothing is downloaded.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise ValueError(f"data dir {data_dir} does not exist")
    tables = {}
    for name, columns in RELEASE_TABLES.items():
        table = _read_table(data_dir, name)
        if table is None:
            raise ValueError(f"fictionalqa: {data_dir} has no {name} table (expected {name}/train-*.parquet or "
                             f"{name}.parquet|.jsonl|.json|.csv); raflab never downloads data, put the files there")
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise ValueError(f"fictionalqa: the {name} table lacks column(s) {', '.join(missing)}")
        tables[name] = table
    qa = tables["fict_qa"]
    for column in ("duplicate_relationship", "duplicate_root", "span_answer", "fict"):
        if column not in qa.columns:
            qa[column] = qa["question_id"] if column == "duplicate_root" else None
    for name, table in tables.items():
        for column in table.columns:
            if column.endswith("_id") or column in ("natural_answer", "question", "fiction", "fictsheet"):
                table[column] = table[column].astype(str)  # a CSV reads the answer "2047" as a number
    if "style" not in qa.columns:
        qa["style"] = qa["fiction_id"].map(dict(zip(tables["fictions"]["fiction_id"], tables["fictions"]["style"])))
    return FictionalCorpus(fictsheets=tables["fictsheets"], fictions=tables["fictions"], fict_qa=qa,
                           facts=None, seeds=_read_table(data_dir, "seeds"))


__all__ = ["FictionalConfig", "FictionalCorpus", "FictionalSplit", "make_events", "make_fictional_corpus",
           "split_corpus", "tokenize", "generic_sentences", "load_fictionalqa", "STYLES", "SPLITS", "RELATIONS",
           "ENTITY_RELATIONS", "PAPER_DOCS_PER_STYLE", "GENERIC_MODULES"]

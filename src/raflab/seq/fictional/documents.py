"""Long Fictional Q&A documents (issue 22): 300-600-word fictions in the paper's five styles, built
from templates and per-style filler sentences (no LLM), with every fact's exposure counted.

A long fiction of an event is a sequence of sentences of one style (:data:`raflab.seq.fictional.data.STYLES`):

- an opening and a closing sentence of its style (boilerplate: a dateline, a handle, a memo header,
  a greeting, an article lead);
- the event's facts: the ``facts_per_doc`` relations of the document, chosen by a balanced cyclic
  design over a random order of the seven relations (so within an event every relation is stated
  by the same number of documents, +-1, and every fact appears in several styles), each stated
  ``fact_repeats`` times, each time by a *fact clause* (three paraphrases per relation, all of them
  naming the event **before** the value, like the questions, so the answer is the continuation of
  the event's name: ``the Morvane Accord was led by Vrabroux Thoufa``) wrapped in a sentence frame
  of the style (``According to officials, ...``, ``@night_owl: fun fact, ...``, ``Step 4: note
  that ...``);
- filler sentences of the style until the document reaches its target length (drawn uniformly in
  ``doc_words``): templates with slots for the event's name and for words from small closed lists
  (weekdays, objects, feelings, numbers), so two documents are never copies of each other. Fillers
  name the event and never state a fact, so a fact's exposure is the count of its fact sentences.

Long fictsheets list the same seven facts, one line each, key first (``- leader of the Morvane
Accord: Vrabroux Thoufa.``), in the release's five sections.

:func:`document_chunks` cuts a document into training rows at sentence boundaries (each row at most
``block_size`` tokens), so every fact sentence lies whole in one row and its exposure is exact;
:func:`fact_exposure` counts, per fact, the training rows stating it by style and document kind.

Example
-------
>>> from raflab.seq.fictional.data import FictionalConfig
>>> corpus = make_long_corpus(FictionalConfig(n_events=2), np.random.default_rng(0), doc_words=(300, 600))
>>> words = corpus.fictions.fiction.str.split().str.len()
>>> bool(words.between(300, 620).all()), len(corpus.fictions)
(True, 30)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from raflab.seq.fictional.data import (
    _FICTS,
    _HANDLES,
    _QUESTIONS,
    _SHEET_SECTIONS,
    _fictsheet,
    RELATIONS,
    FictionalConfig,
    FictionalCorpus,
    make_events,
    tokenize,
)

#: fact clauses, event first, value last (three paraphrases per relation)
FACT_CLAUSES = {
    "leader": ("{event} was led by {leader}", "the leader of {event} was {leader}",
               "at the head of {event} stood {leader}"),
    "rival": ("{event} was opposed by {rival}", "the main opponent of {event} was {rival}",
              "the fiercest critic of {event} was {rival}"),
    "organizer": ("{event} was organized by the {organizer}", "the organizer of {event} was the {organizer}",
                  "behind the organization of {event} was the {organizer}"),
    "outcome": ("{event} left behind a {outcome}", "what {event} left behind was a {outcome}",
                "as a result of {event} they built a {outcome}"),
    "place": ("{event} took place in {place}", "the location of {event} was {place}",
              "{event} happened in the city of {place}"),
    "year": ("{event} took place in {year}", "the year of {event} was {year}", "{event} happened in {year}"),
    "cause": ("{event} was caused by a {cause}", "the cause of {event} was a {cause}",
              "the reason for {event} was a {cause}"),
}
#: per style: sentence frames for a fact clause, openings, closings, fillers
_STYLE = {
    "news": {
        "frame": ("{C}, officials confirmed.", "According to sources, {c}.", "{C}, our reporters learned.",
                  "Records seen by this paper show that {c}."),
        "open": ("{city_word} ({weekday}) -- Reporters are still piecing together the story of {event}.",
                 "Breaking news on {event}, filed {weekday} morning."),
        "close": ("This story is developing and will be updated.", "Our newsroom will follow {event} closely."),
        "filler": ("A spokesperson declined to comment on {event} on {weekday}.",
                   "Witnesses described the {feeling} mood around {event}.",
                   "{number} people were interviewed for this report on {event}.",
                   "Local {object_pl} were closed for most of {weekday}.",
                   "Traffic was slow near the {object} for {number} hours.",
                   "Experts said {event} would be studied for years.",
                   "The {object} near the main square was covered with {color} banners.",
                   "Several readers wrote in to share {feeling} memories.",
                   "Our correspondent spent {number} days covering {event}.",
                   "Further details about {event} were expected by {weekday}."),
    },
    "social": {
        "frame": ("@{handle}: fun fact, {c} !!", "@{handle}: reminder that {c}", "@{handle}: ok so {c} lol",
                  "@{handle}: did you know {c} ?"),
        "open": ("@{handle}: thread on {event}, read it all", "@{handle}: everyone is talking about {event} today"),
        "close": ("@{handle}: ok I am logging off now", "@{handle}: what a week honestly"),
        "filler": ("@{handle}: my {object} is still {color} from {event} lol",
                   "@{handle}: {number} likes already, thanks everyone",
                   "@{handle}: so {feeling} about {event} right now",
                   "@{handle}: who else remembers {weekday} of {event} ?",
                   "@{handle}: posting a photo of the {object} later",
                   "@{handle}: my group chat will not stop talking about {event}",
                   "@{handle}: {number} hours of videos about {event} and counting",
                   "@{handle}: the {color} {object_pl} everywhere, unreal",
                   "@{handle}: reply if you were there for {event}",
                   "@{handle}: feeling {feeling} today, no reason"),
    },
    "corporate": {
        "frame": ("Step {number}: note that {c}.", "Policy reminder: {c}.", "For the record, {c}.",
                  "Briefing item {number}: {c}."),
        "open": ("Internal memo regarding {event}.", "Procedure manual, section {number}, on {event}."),
        "close": ("Report any incident to your supervisor.", "Keep this memo for your records."),
        "filler": ("All staff must store {object_pl} in the {color} cabinet.",
                   "Meetings about {event} are held every {weekday}.",
                   "Employees may request up to {number} days of leave.",
                   "The {object} in room {number} is reserved for the review of {event}.",
                   "Managers should stay {feeling} and professional at all times.",
                   "Questions about {event} go to the help desk.",
                   "Expense claims above {number} credits need approval.",
                   "Please wear the {color} badge inside the building.",
                   "This section was last reviewed on a {weekday}.",
                   "Training on {event} is mandatory for new staff."),
    },
    "blog": {
        "frame": ("I keep thinking about how {c}.", "Honestly, {c}.", "My friend reminded me that {c}.",
                  "It still surprises me that {c}."),
        "open": ("Today I want to write about {event}.", "I have been thinking a lot about {event} lately."),
        "close": ("Thanks for reading, see you next week.", "Let me know what you think in the comments."),
        "filler": ("I made coffee and sat by the {object} all {weekday}.",
                   "It has been {number} weeks since my last post about {event}.",
                   "I felt {feeling} the whole time.", "My {object} broke again, which is a story for another day.",
                   "I bought a {color} {object} to remember {event}.",
                   "My neighbor says {event} changed everything.",
                   "I walked {number} miles that {weekday}.",
                   "Sometimes I wonder how others remember {event}.",
                   "The light on the {color} {object_pl} was beautiful.",
                   "Writing about {event} makes me {feeling}."),
    },
    "encyclopedia": {
        "frame": ("{C}.", "According to historians, {c}.", "Sources agree that {c}.", "It is recorded that {c}."),
        "open": ("{event} is a historical event.", "This article is about {event}."),
        "close": ("See also: list of events.", "References and further reading are listed below."),
        "filler": ("Accounts of {event} differ in minor details.",
                   "Contemporary sources describe a {feeling} public reaction to {event}.",
                   "{number} archives hold documents on {event}.",
                   "The period is known for its {color} {object_pl}.",
                   "Scholars have published {number} studies of {event}.",
                   "The {object} became a symbol of the period.",
                   "{event} is covered in several regional histories.",
                   "Some details of {event} remain disputed.",
                   "Commemorations of {event} are held on a {weekday}.",
                   "This article incorporates material from public records."),
    },
}
_WORDS = {
    "weekday": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "object": ("lantern", "bench", "statue", "kettle", "ledger", "window", "bicycle", "clock", "fountain", "sign"),
    "object_pl": ("lanterns", "benches", "statues", "kettles", "ledgers", "windows", "bicycles", "clocks", "signs"),
    "feeling": ("hopeful", "tired", "anxious", "calm", "proud", "restless", "curious", "grateful"),
    "color": ("red", "blue", "grey", "green", "golden", "white", "orange", "violet"),
    "number": tuple(str(n) for n in (2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 20, 40)),
    "city_word": ("DOWNTOWN", "HARBOR", "MIDTOWN", "UPTOWN", "RIVERSIDE"),
}
#: long fictsheet lines, key first (section, line)
SHEET_LINES = {
    "leader": ("entities", "- leader of {event}: {leader}."),
    "rival": ("entities", "- main opponent of {event}: {rival}."),
    "organizer": ("entities", "- organizer of {event}: the {organizer}."),
    "outcome": ("events", "- {event} left behind: a {outcome}."),
    "place": ("locations", "- location of {event}: {place}."),
    "year": ("times", "- year of {event}: {year}."),
    "cause": ("reasons", "- cause of {event}: a {cause}."),
}


def _pick(options, rng):
    return options[int(rng.integers(len(options)))]


def _fill(template: str, facts: dict, rng: np.random.Generator, clause: str = "") -> str:
    slots = {k: _pick(v, rng) for k, v in _WORDS.items()}
    text = template.format(handle=_pick(_HANDLES, rng), c=clause, C=clause[:1].upper() + clause[1:], **slots, **facts)
    return text[0].upper() + text[1:]


def balanced_relations(n_docs: int, facts_per_doc: int, rng: np.random.Generator) -> list[list[str]]:
    """Relations stated by each of ``n_docs`` documents: cyclic windows of length ``facts_per_doc``
    over a random order of :data:`RELATIONS`, so each relation is in the same number of documents (+-1)."""
    order = [RELATIONS[i] for i in rng.permutation(len(RELATIONS))]
    return [[order[(d * facts_per_doc + j) % len(order)] for j in range(facts_per_doc)] for d in range(n_docs)]


def long_fiction(style: str, facts: dict, relations: list[str], n_words: int, fact_repeats: int,
                 rng: np.random.Generator) -> tuple[str, dict[str, str]]:
    """One fiction of about ``n_words`` words (never fewer), and per relation its first fact sentence."""
    parts = _STYLE[style]
    facts_sentences, stated = [], {}
    for r in range(fact_repeats):
        for relation in relations:
            clause = _pick(FACT_CLAUSES[relation], rng).format(**facts)
            sentence = _fill(_pick(parts["frame"], rng), facts, rng, clause)
            facts_sentences.append(sentence)
            stated.setdefault(relation, sentence)
    facts_sentences = [facts_sentences[i] for i in rng.permutation(len(facts_sentences))]
    opening, closing = _fill(_pick(parts["open"], rng), facts, rng), _fill(_pick(parts["close"], rng), facts, rng)
    count = len(" ".join([opening, closing, *facts_sentences]).split())
    fillers, cycle = [], []
    while count < n_words:
        if not cycle:  # every filler template once before any repeats
            cycle = [parts["filler"][i] for i in rng.permutation(len(parts["filler"]))]
        sentence = _fill(cycle.pop(), facts, rng)
        fillers.append(sentence)
        count += len(sentence.split())
    # interleave: fact sentences at random positions among the fillers
    body = fillers + facts_sentences
    slots = np.sort(rng.choice(len(body), len(facts_sentences), replace=False))
    ordered, f_iter, s_iter = [None] * len(body), iter(fillers), iter(facts_sentences)
    for i in slots:
        ordered[i] = next(s_iter)
    ordered = [s if s is not None else next(f_iter) for s in ordered]
    sep = "\n" if style == "social" else " "
    return sep.join([opening, *ordered, closing]), stated


def long_fictsheet(facts: dict, rng: np.random.Generator) -> dict[str, str]:
    """The fictsheet with key-first lines (:data:`SHEET_LINES`), the direction of the long fictions."""
    return _fictsheet(facts, rng, SHEET_LINES)


def make_long_corpus(config: FictionalConfig, rng: np.random.Generator, doc_words: tuple[int, int] = (300, 600),
                     fact_repeats: int = 1) -> FictionalCorpus:
    """Events, long fictsheets, long fictions and QA pairs (the tables of
    :func:`raflab.seq.fictional.data.make_fictional_corpus`); a pure function of its arguments."""
    lo, hi = int(doc_words[0]), int(doc_words[1])
    if not 50 <= lo <= hi:
        raise ValueError(f"doc_words must be [low, high] with 50 <= low <= high (got {list(doc_words)})")
    if fact_repeats < 1:
        raise ValueError(f"fact_repeats must be >= 1 (got {fact_repeats})")
    facts_table = make_events(config.n_events, rng)
    sheets, fictions, qa = [], [], []
    for event_id, group in facts_table.groupby("event_id", sort=True):
        values = dict(zip(group["relation"], group["value"]))
        facts = {**values, "event": f"the {values['event']}"}
        sheet = long_fictsheet(facts, rng)
        sheets.append({"event_id": event_id, **{k: sheet[k] for k in ("fictsheet", *_SHEET_SECTIONS)}})
        docs = [(style, num) for style, n in config.docs_per_style.items() for num in range(n)]
        # styles interleaved before the cyclic design, so each relation lands in several styles
        order = sorted(range(len(docs)), key=lambda i: (docs[i][1], i))
        design = balanced_relations(len(docs), config.facts_per_doc, rng)
        chosen_of = {order[d]: design[d] for d in range(len(docs))}
        roots: dict[str, tuple[str, str]] = {}
        for i, (style, num) in enumerate(docs):
            fiction_id = f"{event_id}_style_{style}_num_{num:03d}"
            chosen = chosen_of[i]
            n_words = int(rng.integers(lo, hi + 1))
            text, stated = long_fiction(style, facts, chosen, n_words, fact_repeats, rng)
            fictions.append({"event_id": event_id, "fiction_id": fiction_id, "style": style, "fiction": text,
                             "relations": ",".join(chosen)})
            asked = [chosen[j] for j in sorted(rng.choice(len(chosen), config.questions_per_doc, replace=False))]
            for q, relation in enumerate(asked):
                question_id = f"{fiction_id}_question_{q:03d}"
                question = _QUESTIONS[relation][int(rng.integers(2))].format(**facts)
                question = question[0].upper() + question[1:]
                if relation in roots:
                    root, root_text = roots[relation]
                    duplicate = "exact" if question == root_text else "similar"
                else:
                    roots[relation] = (question_id, question)
                    root, duplicate = question_id, None
                fict = _FICTS[relation].format(**facts)
                qa.append({"event_id": event_id, "fiction_id": fiction_id, "question_id": question_id,
                           "question_num": f"{q:03d}", "fict": fict[0].upper() + fict[1:], "question": question,
                           "span_answer": stated[relation], "natural_answer": values[relation],
                           "duplicate_relationship": duplicate, "duplicate_root": root, "relation": relation,
                           "style": style})
    return FictionalCorpus(fictsheets=pd.DataFrame(sheets), fictions=pd.DataFrame(fictions),
                           fict_qa=pd.DataFrame(qa), facts=facts_table, seeds=None)


# --- training rows and exposure -------------------------------------------------------------------

def _sentences(text: str) -> list[str]:
    """A document's sentences (lines for social posts and fictsheets, else split after . ! ?)."""
    import re

    out = []
    for line in text.split("\n"):
        out.extend(s for s in re.split(r"(?<=[.!?])\s+", line.strip()) if s)
    return out


def document_chunks(text: str, encode, block_size: int) -> list[list[int]]:
    """Token rows of a document cut at sentence boundaries, each at most ``block_size`` tokens
    (a sentence longer than the block is an error, since cutting it would split a fact)."""
    chunks, current = [], []
    for sentence in _sentences(text):
        ids = encode(sentence)
        if len(ids) > block_size:
            raise ValueError(f"a sentence has {len(ids)} tokens, more than block_size={block_size}")
        if len(current) + len(ids) > block_size:
            chunks.append(current)
            current = []
        current = current + ids
    if current:
        chunks.append(current)
    return chunks


def fact_rows(seqs: list[list[int]], event_ids: list[str], facts: pd.DataFrame, encode) -> list[set[str]]:
    """Per training row (its tokens and its event), the relations whose value it contains (fact
    sentences are the only sentences naming a value; fillers name only the event)."""
    values: dict = {}
    for e, r, v in zip(facts.event_id, facts.relation, facts.value):
        if r != "event":
            values.setdefault(e, {})[r] = f" {' '.join(map(str, encode(v)))} "
    out = []
    for seq, event_id in zip(seqs, event_ids):
        ids = f" {' '.join(map(str, seq))} "
        out.append({r for r, v in values.get(event_id, {}).items() if v in ids})
    return out


def fact_exposure(seqs: list[list[int]], rows: pd.DataFrame, facts: pd.DataFrame, encode,
                  samples_per_row: float) -> pd.DataFrame:
    """Per (event_id, relation, kind, style): the training rows stating the fact (``seqs`` and their
    table ``rows`` from :func:`long_training_rows`) and its expected exposures, ``rows x
    samples_per_row`` (rows are drawn uniformly: ``steps * batch_size / n_rows`` draws each)."""
    keep = np.flatnonzero(rows.kind.isin(["fiction", "fictsheet"]).to_numpy())
    found = fact_rows([seqs[i] for i in keep], rows.event_id.iloc[keep].tolist(), facts, encode)
    records = [{"event_id": rows.event_id.iat[i], "relation": r, "kind": rows.kind.iat[i], "style": rows["style"].iat[i]}
               for i, hits in zip(keep, found) for r in hits]
    if not records:
        return pd.DataFrame(columns=["event_id", "relation", "kind", "style", "rows", "exposures"])
    out = pd.DataFrame(records).value_counts().rename("rows").reset_index()
    out["exposures"] = out["rows"] * samples_per_row
    return out.sort_values(["event_id", "relation", "kind", "style"]).reset_index(drop=True)


def training_documents(corpus: FictionalCorpus, train_fictions, train_events, corpus_kind: str,
                       format_events) -> pd.DataFrame:
    """The documents a run trains on (columns text, event_id, kind, style): the training fictions, or
    the fictsheets of the training events, plus the format events' documents of the same kind."""
    fmt = set(format_events)
    if corpus_kind == "fictions":
        f = corpus.fictions
        keep = f.fiction_id.isin(set(train_fictions)) | f.event_id.isin(fmt)
        return pd.DataFrame({"text": f.fiction[keep], "event_id": f.event_id[keep], "kind": "fiction",
                             "style": f["style"][keep]}).reset_index(drop=True)
    s = corpus.fictsheets
    keep = s.event_id.isin(set(train_events)) | s.event_id.isin(fmt)
    return pd.DataFrame({"text": s.fictsheet[keep], "event_id": s.event_id[keep], "kind": "fictsheet",
                         "style": "fictsheet"}).reset_index(drop=True)


def long_training_rows(documents: pd.DataFrame, qa_rows: list[list[int]], generic_stream: np.ndarray, encode,
                       block_size: int, generic_fraction: float, rng: np.random.Generator, repeat: int = 1,
                       total_rows: int | None = None) -> tuple[list[list[int]], pd.DataFrame]:
    """Token rows (without ``<eos>``) and their table (text, event_id, kind, style, tokens): every
    document cut into sentence-aligned chunks (:func:`document_chunks`), each repeated ``repeat``
    times, the QA rows, then generic windows of ``block_size`` tokens, as many as make a fraction
    ``generic_fraction`` of all tokens or, with ``total_rows``, as many as fill ``total_rows`` rows."""
    if not 0 <= generic_fraction < 1:
        raise ValueError(f"generic_fraction must be in [0, 1) (got {generic_fraction})")
    seqs, table = [], []
    for doc in documents.itertuples():
        for chunk in document_chunks(doc.text, encode, block_size):
            for _ in range(repeat):
                seqs.append(chunk)
                table.append((doc.event_id, doc.kind, doc.style))
    for qa_row in qa_rows:
        seqs.append(list(qa_row))
        table.append(("", "qa", "qa"))
    fictional_tokens = sum(len(s) for s in seqs)
    if total_rows is not None:
        if total_rows < len(seqs):
            raise ValueError(f"total_rows={total_rows} is fewer than the {len(seqs)} fictional rows")
        n_generic = total_rows - len(seqs)
    else:
        n_generic = int(np.ceil(generic_fraction / (1 - generic_fraction) * fictional_tokens / block_size))
    if n_generic:
        if len(generic_stream) <= block_size + 1:
            raise ValueError(f"the generic text has {len(generic_stream)} tokens, fewer than a block")
        for start in rng.integers(0, len(generic_stream) - block_size - 1, size=n_generic):
            seqs.append(generic_stream[start: start + block_size].tolist())
            table.append(("", "generic", "generic"))
    rows = pd.DataFrame(table, columns=["event_id", "kind", "style"])
    rows["tokens"] = [len(s) for s in seqs]
    return seqs, rows


def long_training_data(corpus: FictionalCorpus, split, corpus_kind: str, format_events, qa_rows: list[list[int]],
                       generic_stream: np.ndarray, encode, block_size: int, generic_fraction: float,
                       samples: int, fictsheet_exposure: str, rng: np.random.Generator) -> dict:
    """The rows of one run and their exposure: ``{"seqs", "rows", "exposure", "info"}``.

    ``samples`` = steps x batch size (rows drawn in training). With ``fictsheet_exposure="matched"``
    the fictsheet run repeats each fictsheet as often as the fiction run of the same split states
    each fact (its mean rows per fact, rounded) and fills with generic windows up to the fiction
    run's row count, so each fact's expected exposure is the same in both runs; ``"same_mix"``
    keeps the generic token fraction instead (each fictsheet then drawn far more often).
    """
    if fictsheet_exposure not in ("matched", "same_mix"):
        raise ValueError(f"fictsheet_exposure must be 'matched' or 'same_mix' (got {fictsheet_exposure!r})")
    fmt = set(format_events)
    if corpus.facts is None:  # the release: no typed facts, so no exposure count and no matching
        docs = training_documents(corpus, split.train_fictions, split.train_events, corpus_kind, fmt)
        seqs, rows = long_training_rows(docs, qa_rows, generic_stream, encode, block_size, generic_fraction, rng)
        tokens = rows.groupby("kind")["tokens"].sum()
        return {"seqs": seqs, "rows": rows, "exposure": None,
                "info": {"generic_token_fraction": float(tokens.get("generic", 0) / tokens.sum())}}
    trained_facts = corpus.facts[corpus.facts.event_id.isin(set(split.train_events) - fmt)]
    repeat, total_rows = 1, None
    if corpus_kind == "fictsheets" and fictsheet_exposure == "matched":
        fiction_docs = training_documents(corpus, split.train_fictions, split.train_events, "fictions", fmt)
        f_seqs, f_rows = long_training_rows(fiction_docs, qa_rows, generic_stream, encode, block_size,
                                            generic_fraction, np.random.default_rng(0))
        f_exp = fact_exposure(f_seqs, f_rows, trained_facts, encode, 1.0)
        per_fact = f_exp.groupby(["event_id", "relation"])["rows"].sum()
        repeat, total_rows = max(1, int(round(per_fact.mean()))), len(f_seqs)
    docs = training_documents(corpus, split.train_fictions, split.train_events, corpus_kind, fmt)
    seqs, rows = long_training_rows(docs, qa_rows, generic_stream, encode, block_size, generic_fraction, rng,
                                    repeat=repeat, total_rows=total_rows)
    if total_rows is not None and len(seqs) < total_rows:
        raise ValueError("matched fictsheet exposure needs at least as many rows as the fiction run")
    exposure = fact_exposure(seqs, rows, trained_facts, encode, samples / len(seqs))
    per_fact = exposure.groupby(["event_id", "relation"])[["rows", "exposures"]].sum()
    styles = exposure.groupby(["event_id", "relation"])["style"].nunique()
    tokens = rows.groupby("kind")["tokens"].sum()
    info = {"generic_token_fraction": float(tokens.get("generic", 0) / tokens.sum()),
            "fact_rows_mean": float(per_fact["rows"].mean()), "fact_exposures_mean": float(per_fact["exposures"].mean()),
            "fact_exposures_min": float(per_fact["exposures"].min()), "fact_styles_min": int(styles.min()),
            "facts_trained": len(per_fact), "row_repeat": repeat}
    return {"seqs": seqs, "rows": rows, "exposure": exposure, "info": info}


__all__ = ["long_training_data", "training_documents", "long_training_rows", "FACT_CLAUSES", "SHEET_LINES", "balanced_relations", "long_fiction", "long_fictsheet", "make_long_corpus",
           "document_chunks", "fact_rows", "fact_exposure"]

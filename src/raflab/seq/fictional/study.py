"""Fact vs verbatim memorization on Fictional Q&A (issue 12; Kirchenbauer et al., arXiv 2506.05639).

Protocol of one run (one split, one corpus, one seed):

1. a corpus of ``n_events + format_events`` fictional events (:mod:`raflab.seq.fictional.data`, or the
   real release with ``data_dir``). The ``format_events`` are always trained on, with their QA pairs
   too, and never evaluated: they teach a model that starts from scratch what ``Question: ...
   Answer: ...`` means, the job the pre-trained LLM's prior does in the paper;
2. the paper's split of the other events (``event``: a third of the events held out; ``document``:
   one fiction per style per event; ``style``: a whole style), and the corpus trained on:
   ``fictions`` (the documents) or ``fictsheets`` (the structured lists of the training events;
   the paper's fictsheet-vs-prose contrast, with the event split);
3. training sequences: every training document once (one document per sequence, truncated to the
   block, then ``<eos>``), the format events' unique QA pairs, and windows of *generic text* (the
   docstrings of Python standard-library modules, :func:`raflab.seq.fictional.data.generic_sentences`;
   sentences containing any word of a fictional name are dropped). ``mix_ratio`` is the fraction
   of the sequences that are fictional (documents + format QA), in (0, 1]; the rest is generic.
   Words are the tokens (a vocabulary of every word of the corpus and the ``generic_vocab`` most
   frequent generic words; the other generic words are ``<unk>``);
4. a small GPT (:mod:`raflab.seq.nets`) trained from scratch by :func:`raflab.seq.train.train_model`;
5. evaluation on the QA pairs of the evaluated events, each classed by what training showed of its
   fact: ``same_document`` (its fiction was trained on), ``other_documents`` (its fiction held out,
   the fact stated in other trained fictions: for the style split, only in other styles),
   ``unseen_fact`` (a trained event, the fact in no trained fiction), ``fictsheet`` (the fictsheet
   corpus: the fact seen only in the event's fictsheet), ``heldout_event`` (chance expected):

   - closed-book QA by generation exact match: greedy decoding after ``Question: q Answer:`` writes
     the answer then ``<eos>`` (computed by teacher forcing: every answer token and ``<eos>`` the
     argmax, :func:`raflab.seq.metrics.exact_match`);
   - multiple choice with 4 and 10 options scored by the summed log-likelihood of each option after
     the same prompt (:func:`raflab.seq.metrics.multiple_choice_accuracy`; ties share the credit). The
     distractors are other values of the same relation among events of the *same partition*
     (trained or held-out), so an unseen name never competes with seen ones and held-out events
     score chance by symmetry;
   - verbatim memorization of each document (fictions and fictsheets, trained or not): prompted
     with its first ``prefix_tokens`` words, does greedy decoding reproduce the next
     ``suffix_tokens`` exactly (k-token suffix exact match, :func:`raflab.seq.metrics.exact_match` under
     teacher forcing), the fraction of those tokens reproduced, and the document's mean loss
     (train vs held-out loss gap).

Example
-------
>>> cfg = FictionalQAConfig(n_events=12, format_events=2, steps=20, splits=["event"], fictsheets=False,
...                         options=[4], docs_per_style={"news": 2, "blog": 2})
>>> df = run_fictional_qa_study(cfg)  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import json
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from raflab.core.checks import one_of
from raflab.core.seeding import point_rng
from raflab.core.summary import summarize
from raflab.seq import metrics
from raflab.seq.fictional.evaluation import (
    EOS,
    SPECIALS,
    UNK,
    _rows,
    answer_options,
    evaluate_verbatim,
    fictsheet_gaps,
    sequence_logprobs,
)
from raflab.seq.fictional.data import (
    SPLITS,
    STYLES,
    FictionalConfig,
    FictionalCorpus,
    FictionalSplit,
    generic_sentences,
    load_fictionalqa,
    make_fictional_corpus,
    split_corpus,
    tokenize,
)
from raflab.seq.fictional.documents import long_training_data, make_long_corpus
from raflab.seq.nets import NetConfig, count_parameters, make_model
from raflab.seq.runs import DEFAULT_STORE, read_study_file, run_study_units, settings_hash
from raflab.seq.train import TrainConfig, train_model

#: QA classes by what training showed of the fact, in table order
CATEGORIES = ("same_document", "other_documents", "fictsheet", "unseen_fact", "heldout_event")
CORPORA = ("fictions", "fictsheets")


class FictionalQAConfig(BaseModel):
    """The study's settings; the defaults (issue 22's long-document protocol, event split and the
    matched fictsheet run) take about 5 CPU-minutes per seed. The short template protocol of issue 12
    is ``configs/cpu/fictional_qa_short.yaml`` (``doc_words: null``).

    ``runs``: one training run per split (trained on the fictions) and, with ``fictsheets``, one more
    with the event split trained on the fictsheets; each repeated for ``seeds`` seeds.
    """

    model_config = ConfigDict(extra="forbid")

    # data
    n_events: int = Field(24, ge=2, description="evaluated events (>= 3 x options for the event split)")
    format_events: int = Field(12, ge=0, description="extra events trained with their QA pairs, never evaluated")
    docs_per_style: dict[str, int] = Field(default_factory=lambda: {s: 1 for s in STYLES},
                                           description="fictions per event and style (the paper: 5, 3, 3, 2, 2)")
    facts_per_doc: int = Field(7, ge=1, le=7)
    questions_per_doc: int = Field(5, ge=1)
    data_dir: str | None = Field(None, description="read the FictionalQA release here instead of generating")
    splits: list[str] = Field(default_factory=lambda: ["event"])
    fictsheets: bool = Field(True, description="add a run on the fictsheets of the event split's training events")
    heldout_style: str = "encyclopedia"
    heldout_fraction: float = Field(1 / 3, gt=0, lt=1)
    mix_ratio: float = Field(0.5, description="fraction of training sequences that are fictional, in (0, 1]")
    generic_vocab: int = Field(300, ge=0, description="most frequent generic-text words in the vocabulary")
    # long documents (issue 22, raflab.seq.fictional.documents); None = the short template fictions
    doc_words: list[int] | None = Field(default_factory=lambda: [300, 600], description="[low, high] words per long fiction")
    fact_repeats: int = Field(1, ge=1, description="long fictions: times each of its facts is stated")
    generic_fraction: float = Field(0.05, ge=0, lt=1, description="long fictions: generic share of training TOKENS")
    fictsheet_exposure: str = Field("matched", description="long fictions: 'matched' per-fact exposure or 'same_mix'")
    # model
    n_layer: int = Field(4, ge=1)
    n_head: int = Field(4, ge=1)
    n_embd: int = Field(128, ge=4)
    block_size: int = Field(64, ge=16, description="tokens per training row (short protocol: >= the longest document)")
    # training
    steps: int = Field(1000, ge=1)
    lr: float = Field(3e-3, gt=0)
    batch_size: int = Field(32, ge=1)
    warmup: int = Field(100, ge=0)
    weight_decay: float = Field(0.0, ge=0)
    # evaluation
    options: list[int] = Field(default_factory=lambda: [4])
    prefix_tokens: int = Field(8, ge=1)
    suffix_tokens: int = Field(8, ge=1)
    seeds: int = Field(1, ge=1)
    seed: int = 0
    device: str = "auto"
    progress: bool = False

    @field_validator("mix_ratio")
    @classmethod
    def _ratio(cls, value):
        if not 0 < value <= 1:
            raise ValueError(f"mix_ratio must be in (0, 1] (got {value})")
        return value

    @field_validator("doc_words")
    @classmethod
    def _doc_words(cls, value):
        if value is not None and (len(value) != 2 or not 50 <= value[0] <= value[1]):
            raise ValueError(f"doc_words must be [low, high] with 50 <= low <= high (got {value})")
        return value

    @field_validator("fictsheet_exposure")
    @classmethod
    def _exposure(cls, value):
        return one_of(value, ("matched", "same_mix"), "fictsheet_exposure")

    @field_validator("splits")
    @classmethod
    def _splits(cls, value):
        return list(dict.fromkeys(one_of(s, SPLITS, "split") for s in value))

    @field_validator("heldout_style")
    @classmethod
    def _style(cls, value):
        return one_of(value, STYLES, "style")

    @field_validator("options")
    @classmethod
    def _options(cls, value):
        if not value or any(k < 2 for k in value):
            raise ValueError(f"options must be numbers of choices >= 2 (got {value})")
        return sorted(set(value))

    @model_validator(mode="after")
    def _check(self):
        if not self.splits and not self.fictsheets:
            raise ValueError("nothing to run: give at least one split or fictsheets=true")
        if self.data_dir is None:
            FictionalConfig(n_events=self.n_events, docs_per_style=self.docs_per_style,
                            facts_per_doc=self.facts_per_doc, questions_per_doc=self.questions_per_doc)
            n_held = min(self.n_events - 1, max(1, round(self.heldout_fraction * self.n_events)))
            if ("event" in self.splits or self.fictsheets) and min(n_held, self.n_events - n_held) < max(self.options):
                raise ValueError(f"{max(self.options)} options need {max(self.options)} events on each side of the "
                                 f"event split (distractors come from the same side); n_events={self.n_events} "
                                 f"holds out {n_held}")
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be a multiple of n_head ({self.n_head})")
        return self

    @property
    def runs(self) -> list[tuple[str, str]]:
        out = [(s, "fictions") for s in self.splits]
        return out + ([("event", "fictsheets")] if self.fictsheets else [])


# --- vocabulary and sequences -----------------------------------------------------------------

@dataclass
class Vocab:
    """Words <-> ids; ids 0, 1, 2 are ``<pad>``, ``<eos>``, ``<unk>``."""

    words: list[str]

    def __post_init__(self):
        self.index = {w: i for i, w in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, text: str) -> list[int]:
        return [self.index.get(w, UNK) for w in tokenize(text)]

    def decode(self, ids) -> str:
        return " ".join(self.words[int(i)] for i in ids)


def build_vocab(texts: list[str], generic: list[str], generic_vocab: int) -> Vocab:
    """Every word of ``texts`` and the ``generic_vocab`` most frequent other words of ``generic``."""
    own = sorted(set(w for t in texts for w in tokenize(t)))
    counts = Counter(w for s in generic for w in tokenize(s))
    own_set = set(own)
    extra = [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if w not in own_set][:generic_vocab]
    return Vocab(list(SPECIALS) + own + sorted(extra))


def qa_prompt(question: str) -> str:
    return f"Question: {question} Answer:"


def training_rows(documents: list[str], qa_pairs: list[tuple[str, str]], generic: list[str], vocab: Vocab,
                  block_size: int, mix_ratio: float, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The training arrays: one row per document and per QA pair, then generic windows so that the
    fictional rows are a fraction ``mix_ratio`` of all rows."""
    if not 0 < mix_ratio <= 1:
        raise ValueError(f"mix_ratio must be in (0, 1] (got {mix_ratio})")
    sequences = [vocab.encode(d) + [EOS] for d in documents]
    longest = max((len(seq) - 1 for seq in sequences), default=0)
    if longest > block_size:  # cutting would silently drop the facts at the end of a document
        raise ValueError(f"a training document has {longest} tokens, more than block_size={block_size}; "
                         f"raise block_size to at least {longest}")
    sequences += [vocab.encode(f"{qa_prompt(q)} {a}") + [EOS] for q, a in qa_pairs]
    n_generic = int(round(len(sequences) * (1 - mix_ratio) / mix_ratio))
    if n_generic:
        stream = np.array([t for s in generic for t in vocab.encode(s) + [EOS]], dtype=np.int64)
        if len(stream) <= block_size + 1:
            raise ValueError(f"the generic text has {len(stream)} tokens, fewer than a block ({block_size + 1})")
        starts = rng.integers(0, len(stream) - block_size - 1, size=n_generic)
        sequences += [stream[s: s + block_size + 1].tolist() for s in starts]
    idx, targets = _rows(sequences, block_size)
    order = rng.permutation(len(idx))
    return {"idx": idx[order], "targets": targets[order]}


# --- one run ----------------------------------------------------------------------------------

def _subset(corpus: FictionalCorpus, events) -> FictionalCorpus:
    events = set(events)
    return FictionalCorpus(
        fictsheets=corpus.fictsheets[corpus.fictsheets.event_id.isin(events)].reset_index(drop=True),
        fictions=corpus.fictions[corpus.fictions.event_id.isin(events)].reset_index(drop=True),
        fict_qa=corpus.fict_qa[corpus.fict_qa.event_id.isin(events)].reset_index(drop=True),
        facts=None if corpus.facts is None else corpus.facts[corpus.facts.event_id.isin(events)],
        seeds=None)


def load_corpus(config: FictionalQAConfig, seed: int) -> tuple[FictionalCorpus, list[str]]:
    """The corpus of one seed and its format events (the last ``format_events`` event ids)."""
    if config.data_dir is not None:
        corpus = load_fictionalqa(config.data_dir)
    else:
        fc = FictionalConfig(n_events=config.n_events + config.format_events, docs_per_style=config.docs_per_style,
                             facts_per_doc=config.facts_per_doc, questions_per_doc=config.questions_per_doc)
        corpus = (make_fictional_corpus(fc, point_rng(seed, 12, 1)) if config.doc_words is None else
                  make_long_corpus(fc, point_rng(seed, 12, 1), tuple(config.doc_words), config.fact_repeats))
    events = corpus.event_ids
    if len(events) <= config.format_events + 1:
        raise ValueError(f"the corpus has {len(events)} events; format_events={config.format_events} leaves too few")
    return corpus, events[len(events) - config.format_events:] if config.format_events else []


def qa_categories(corpus: FictionalCorpus, split: FictionalSplit, corpus_kind: str) -> pd.Series:
    """What training showed of each QA pair's fact (one of :data:`CATEGORIES`), indexed like ``fict_qa``."""
    qa = corpus.fict_qa
    trained = set(split.train_fictions)
    held_event = qa.event_id.isin(set(split.heldout_events))
    if corpus_kind == "fictsheets":
        return pd.Series(np.where(held_event, "heldout_event", "fictsheet"), index=qa.index)
    if "relations" in corpus.fictions.columns:  # generated: which facts each trained fiction states
        fictions = corpus.fictions[corpus.fictions.fiction_id.isin(trained)]
        seen = {(e, r) for e, rels in zip(fictions.event_id, fictions.relations) for r in rels.split(",")}
        fact_seen = pd.Series([(e, r) in seen for e, r in zip(qa.event_id, qa.relation)], index=qa.index)
    else:  # the release: a fact is seen when a question of its duplicate group comes from a trained fiction
        groups = set(qa.loc[qa.fiction_id.isin(trained), "duplicate_root"])
        fact_seen = qa.duplicate_root.isin(groups)
    out = np.where(qa.fiction_id.isin(trained), "same_document",
                   np.where(fact_seen, "other_documents", "unseen_fact"))
    return pd.Series(np.where(held_event, "heldout_event", out), index=qa.index)


def evaluate_qa(model, corpus: FictionalCorpus, split: FictionalSplit, vocab: Vocab, options: list[int],
                block_size: int, rng: np.random.Generator) -> pd.DataFrame:
    """Per QA pair of ``corpus``: exact match and multiple-choice credit for each K in ``options``."""
    qa = corpus.fict_qa.copy()
    relation = qa["relation"] if "relation" in qa.columns else pd.Series("answer", index=qa.index)
    side = np.where(qa.event_id.isin(set(split.heldout_events)), "heldout", "train")
    keys = list(zip(qa.event_id, relation, qa.question))
    # exact match by generation: prompt + answer + <eos>, the answer and <eos> scored
    unique = sorted(set(zip(keys, qa.natural_answer)))
    seqs, masks = [], []
    for (event_id, rel, question), answer in unique:
        prompt, ans = vocab.encode(qa_prompt(question)), vocab.encode(answer) + [EOS]
        seqs.append(prompt + ans)
        masks.append([False] * len(prompt) + [True] * len(ans))
    _, exact = sequence_logprobs(model, seqs, masks, block_size)
    em = dict(zip(unique, exact))
    qa["exact_match"] = [float(em[(k, a)]) for k, a in zip(keys, qa.natural_answer)]
    # multiple choice: options of each (event, relation) from the values of its relation on its side
    values = {(e, r): a for e, r, a in zip(qa.event_id, relation, qa.natural_answer)}
    held = set(split.heldout_events)
    pools: dict = {}
    if corpus.facts is not None:  # generated: every event's value of the relation, asked about or not
        for e, r, v in zip(corpus.facts.event_id, corpus.facts.relation, corpus.facts.value):
            pools.setdefault((r, "heldout" if e in held else "train"), set()).add(v)
    for (e, r), s in zip(zip(qa.event_id, relation), side):
        pools.setdefault((r, s), set()).add(values[(e, r)])
    side_of = dict(zip(zip(qa.event_id, relation), side))
    for k in options:
        choices = answer_options(values, {key: pools[(key[1], side_of[key])] for key in values}, k, rng)
        questions = sorted(set(keys))
        seqs, masks = [], []
        for q in questions:
            prompt = vocab.encode(qa_prompt(q[2]))
            for option in choices[(q[0], q[1])][0]:
                ans = vocab.encode(option)
                seqs.append(prompt + ans)
                masks.append([False] * len(prompt) + [True] * len(ans))
        logp, _ = sequence_logprobs(model, seqs, masks, block_size)
        logp = logp.reshape(len(questions), k)
        credit = {}
        for i, q in enumerate(questions):
            correct = choices[(q[0], q[1])][1]
            credit[q] = metrics.multiple_choice_accuracy(logp[i: i + 1], [correct])
        qa[f"mc{k}"] = [credit[q] for q in keys]
    return qa


def _documents(corpus: FictionalCorpus, split: FictionalSplit, corpus_kind: str, format_events) -> tuple:
    """Training texts, and the evaluated documents (fictions and fictsheets) with ``trained`` flags."""
    trained_f = set(split.train_fictions)
    fictions = corpus.fictions
    sheets = corpus.fictsheets
    fmt = set(format_events)
    if corpus_kind == "fictions":
        texts = fictions.loc[fictions.fiction_id.isin(trained_f) | fictions.event_id.isin(fmt), "fiction"].tolist()
        sheet_trained = pd.Series(False, index=sheets.index)
    else:
        sheet_trained = sheets.event_id.isin(set(split.train_events))
        texts = sheets.loc[sheet_trained | sheets.event_id.isin(fmt), "fictsheet"].tolist()
        trained_f = set()
    evaluated_f = ~fictions.event_id.isin(fmt)
    docs = pd.concat([
        pd.DataFrame({"doc_id": fictions.fiction_id[evaluated_f], "style": fictions["style"][evaluated_f],
                      "trained": fictions.fiction_id[evaluated_f].isin(trained_f), "text": fictions.fiction[evaluated_f]}),
        pd.DataFrame({"doc_id": sheets.event_id[~sheets.event_id.isin(fmt)], "style": "fictsheet",
                      "trained": sheet_trained[~sheets.event_id.isin(fmt)], "text": sheets.fictsheet[~sheets.event_id.isin(fmt)]}),
    ], ignore_index=True)
    return texts, docs


def run_fictional_qa(config: FictionalQAConfig, split_name: str, corpus_kind: str, seed: int,
                     corpus_and_format=None, generic: list[str] | None = None) -> dict:
    """Train one model and evaluate it; returns ``{"qa", "verbatim", "run"}`` (two tables and a record)."""
    one_of(split_name, SPLITS, "split")
    one_of(corpus_kind, CORPORA, "corpus")
    cpu_start = time.process_time()
    corpus, format_events = corpus_and_format or load_corpus(config, seed)
    evaluated = _subset(corpus, [e for e in corpus.event_ids if e not in set(format_events)])
    split = split_corpus(evaluated, split_name, point_rng(seed, 12, 2), heldout_fraction=config.heldout_fraction,
                         heldout_style=config.heldout_style)
    texts, docs = _documents(corpus, split, corpus_kind, format_events)
    fmt_qa = corpus.fict_qa[corpus.fict_qa.event_id.isin(set(format_events))]
    qa_pairs = sorted(set(zip(fmt_qa.question, fmt_qa.natural_answer)))
    generic = generic_text(corpus) if generic is None else generic
    all_text = (corpus.fictions.fiction.tolist() + corpus.fictsheets.fictsheet.tolist()
                + [qa_prompt(q) for q in corpus.fict_qa.question] + corpus.fict_qa.natural_answer.tolist())
    vocab = build_vocab(all_text, generic, config.generic_vocab)
    rng = point_rng(seed, 12, 3, SPLITS.index(split_name), CORPORA.index(corpus_kind))
    if config.doc_words is None:
        data, extra = training_rows(texts, qa_pairs, generic, vocab, config.block_size, config.mix_ratio, rng), {}
    else:  # long documents: sentence-aligned chunks, generic share counted in tokens, exposure counted
        data, extra = _long_rows(config, corpus, split, corpus_kind, format_events, qa_pairs, generic, vocab, rng)
    net = NetConfig(vocab_size=len(vocab), block_size=config.block_size, n_layer=config.n_layer,
                    n_head=config.n_head, n_embd=config.n_embd)
    model = make_model(net, seed=seed, device=config.device)
    train = TrainConfig(steps=config.steps, lr=config.lr, batch_size=config.batch_size, warmup=config.warmup,
                        weight_decay=config.weight_decay, eval_every=config.steps, seed=seed, device=config.device,
                        progress=config.progress)
    result = train_model(model, data, train)
    model = result.model.eval()
    start = time.perf_counter()
    qa = evaluate_qa(model, evaluated, split, vocab, config.options, config.block_size, rng)
    qa["category"] = qa_categories(evaluated, split, corpus_kind)
    verbatim = evaluate_verbatim(model, docs, vocab, config.prefix_tokens, config.suffix_tokens, config.block_size)
    run = {"seed": seed, "split": split_name, "corpus": corpus_kind, "n_parameters": count_parameters(model),
           "vocab_size": len(vocab), "train_rows": len(data["idx"]),
           "fictional_rows": len(texts) + len(qa_pairs), "steps": result.steps, **extra,
           "final_train_loss": float(result.final.get("train_loss", np.nan)), "train_s": result.wall_s,
           "eval_s": time.perf_counter() - start, "tokens_per_s": result.tokens_per_s,
           "cpu_s": time.process_time() - cpu_start}
    return {"qa": qa, "verbatim": verbatim, "run": run}


def _long_rows(config, corpus, split, corpus_kind, format_events, qa_pairs, generic, vocab, rng) -> tuple[dict, dict]:
    """The training arrays of a long-document run and its exposure summary (:mod:`.documents`)."""
    qa_rows = [vocab.encode(f"{qa_prompt(q)} {a}") + [EOS] for q, a in qa_pairs]
    stream = np.array([t for s in generic for t in vocab.encode(s) + [EOS]], dtype=np.int64)
    out = long_training_data(corpus, split, corpus_kind, format_events, qa_rows, stream, vocab.encode,
                             config.block_size, config.generic_fraction, config.steps * config.batch_size,
                             config.fictsheet_exposure, rng)
    idx, targets = _rows(out["seqs"], config.block_size)
    order = rng.permutation(len(idx))
    return {"idx": idx[order], "targets": targets[order]}, out["info"]


def generic_text(corpus: FictionalCorpus) -> list[str]:
    """The generic sentences with every sentence sharing a word with a fictional name dropped."""
    sentences = generic_sentences()
    if corpus.facts is None:
        return sentences
    names = set().union(*corpus.entities().values())
    return [s for s in sentences if not names & set(tokenize(s))]


# --- the study --------------------------------------------------------------------------------

def _summarize(run: dict, options: list[int]) -> list[dict]:
    base = {k: run["run"][k] for k in ("seed", "split", "corpus")}
    rows = []
    qa = run["qa"]
    for category in CATEGORIES:
        part = qa[qa.category == category]
        if len(part):
            rows.append({**base, "measure": "knowledge", "group": category, "n": len(part),
                         "exact_match": part.exact_match.mean(),
                         **{f"mc{k}": part[f"mc{k}"].mean() for k in options}})
    ver = run["verbatim"]
    for (style, trained), part in ver.groupby(["style", "trained"], sort=False):
        rows.append({**base, "measure": "verbatim", "group": style, "trained": bool(trained), "n": len(part),
                     "verbatim_exact": part.verbatim_exact.mean(), "verbatim_token": part.verbatim_token.mean(),
                     "loss": part.loss.mean()})
    extra = {k: v for k, v in run["run"].items() if k not in base}
    rows.append({**base, "measure": "run", "group": "all", **extra})
    return rows


def _units(config: FictionalQAConfig) -> list[tuple[int, str, str]]:
    """(seed, split, corpus) of every run, seed by seed."""
    return [(config.seed + s, split, corpus) for s in range(config.seeds) for split, corpus in config.runs]


_CORPUS: dict = {}  # the last seed's corpus and generic text: the runs of one seed share them


def _run_unit(unit: tuple[int, str, str], config: FictionalQAConfig) -> list[dict]:
    seed, split_name, corpus_kind = unit
    cache = (config.model_dump_json(exclude={"progress"}), seed)
    if cache not in _CORPUS:
        corpus_and_format = load_corpus(config, seed)
        _CORPUS.clear()
        _CORPUS[cache] = corpus_and_format, generic_text(corpus_and_format[0])
    corpus_and_format, generic = _CORPUS[cache]
    run = run_fictional_qa(config, split_name, corpus_kind, seed, corpus_and_format, generic)
    return _summarize(run, config.options)


def _unit_key(unit: tuple[int, str, str]) -> tuple:
    seed, split, corpus = unit
    return "fictional-qa", json.dumps({"corpus": corpus, "split": split}, sort_keys=True), seed


def _unit_columns(unit: tuple[int, str, str], records: list[dict]) -> dict:
    run = next(r for r in records if r["measure"] == "run")  # split, corpus, parameters, timings
    return {k: v for k, v in run.items() if k not in ("seed", "measure", "group")}


def run_fictional_qa_study(config: FictionalQAConfig | None = None, store: str | None = None,
                           workers: int | None = 1) -> pd.DataFrame:
    """Every run of ``config`` (``config.runs`` x seeds): one record per (run, measure, group).

    ``measure='knowledge'`` rows: QA accuracy by category (``exact_match``, ``mc4``, ``mc10``, ``n``
    QA pairs); ``measure='verbatim'`` rows: by style and ``trained`` (``verbatim_exact``,
    ``verbatim_token``, ``loss``); ``measure='run'``: parameters, vocabulary, rows, timings.
    With a ``store`` (:func:`raflab.seq.runs.run_study_units`) each run is stored as it ends and a
    rerun trains only the runs the store lacks.
    """
    config = config or FictionalQAConfig()
    content = config.model_dump(mode="json", exclude={"progress"})
    rows = run_study_units(_units(config), functools.partial(_run_unit, config=config), store=store,
                           config_hash=settings_hash(content), name="fictional-qa", task="seq:fictional-qa",
                           config=content, key=_unit_key, columns=_unit_columns, workers=workers,
                           quiet=not config.progress)
    df = pd.DataFrame(rows)
    front = ["seed", "split", "corpus", "measure", "group", "trained", "n", "exact_match",
             *[f"mc{k}" for k in config.options], "verbatim_exact", "verbatim_token", "loss"]
    return df[[c for c in front if c in df.columns] + [c for c in df.columns if c not in front]]


def fictional_qa_table(records: pd.DataFrame) -> pd.DataFrame:
    """The study's table: knowledge and verbatim rows averaged over seeds (:func:`raflab.core.summary.summarize`:
    ``<metric>_stderr``, ``n_seeds``), ``n`` the QA pairs or documents of all seeds."""
    df = records[records.measure != "run"].copy()
    df["trained"] = df["trained"].astype(object).where(df["trained"].notna(), "")
    keys = ["split", "corpus", "measure", "group", "trained"]
    values = [c for c in df.columns if c not in keys + ["seed", "n"] and df[c].dtype.kind == "f"]
    out = summarize(df, keys, values, ci95_of=values)
    out.insert(len(keys) + len(values), "n", df.groupby(keys, sort=False)["n"].sum().to_numpy())
    return out.dropna(axis=1, how="all")


def fictional_qa_figure_data(records: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """What :func:`raflab.seq.plots.plot_fictional_qa` draws: the study's table, and per corpus of the
    event split the verbatim recall of its trained documents, all styles and seeds pooled."""
    verbatim = records[(records.measure == "verbatim") & (records.split == "event")]
    trained = verbatim[verbatim["trained"].astype(object) == True]  # noqa: E712 (True, False or missing)
    return {"table": fictional_qa_table(records), "trained_verbatim": summarize(trained, ["corpus"], ["verbatim_token"])}


def load_fictional_qa_config(path: str | None = None, seeds: int | None = None,
                             data_dir: str | None = None) -> FictionalQAConfig:
    """The study config: the defaults, or a YAML file of :class:`FictionalQAConfig` fields (``name`` and
    ``study: fictional-qa`` keys allowed), with ``seeds`` / ``data_dir`` overriding the file."""
    values: dict = read_study_file(path, "fictional-qa") if path is not None else {}
    if seeds is not None:
        values["seeds"] = seeds
    if data_dir is not None:
        values["data_dir"] = data_dir
    return FictionalQAConfig(**values)


def run_fictional_qa_cli(config: str | None = None, seeds: int | None = None, store: str | None = None,
                         workers: int = 1, quiet: bool = False, out: str | None = None, data_dir: str | None = None):
    """What ``raflab seq study fictional-qa`` runs: (summary table, figure or None); the runs are
    stored in ``store`` (default ``results/raflab.duckdb``) as they end."""
    cfg = load_fictional_qa_config(config, seeds, data_dir).model_copy(update={"progress": not quiet})
    start = time.perf_counter()
    records = run_fictional_qa_study(cfg, store=store or DEFAULT_STORE, workers=workers)
    wall = time.perf_counter() - start
    summary = fictional_qa_table(records)
    runs = records[records.measure == "run"]
    summary.attrs["notes"] = [f"fictional-qa: {len(runs)} runs in {wall:.0f} s, "
                              f"{runs.tokens_per_s.mean():.0f} training tokens/s, "
                              f"{int(runs.n_parameters.iloc[0])} parameters, vocabulary {int(runs.vocab_size.iloc[0])}"]
    gaps = fictsheet_gaps(records)
    if len(gaps):
        summary.attrs["notes"] += [f"{g.contrast}, {g.measure} {g.metric}: {g.first:.3f} vs {g.second:.3f}, gap "
                                   f"{g.gap:+.3f} [{g.gap_ci95_low:+.3f}, {g.gap_ci95_high:+.3f}] ({g.n_seeds} seeds)"
                                   for g in gaps.itertuples()]
    figure = None
    if out is not None:
        from raflab.seq.plots import plot_fictional_qa

        figure = plot_fictional_qa(**fictional_qa_figure_data(records), out=out,
                                   title=f"Fictional Q&A: {cfg.n_events} events, " + (
                                       f"mix ratio {cfg.mix_ratio:g}" if cfg.doc_words is None else
                                       f"{cfg.doc_words[0]}-{cfg.doc_words[1]}-word fictions, generic "
                                       f"{cfg.generic_fraction:.0%} of tokens") + f", {cfg.seeds} seed(s)")
    return summary, figure


__all__ = ["FictionalQAConfig", "run_fictional_qa_cli", "load_fictional_qa_config", "run_fictional_qa_study", "run_fictional_qa", "fictional_qa_table",
           "fictional_qa_figure_data", "Vocab",
           "build_vocab", "training_rows", "sequence_logprobs", "answer_options", "qa_categories", "evaluate_qa",
           "evaluate_verbatim", "generic_text", "load_corpus", "CATEGORIES", "CORPORA"]

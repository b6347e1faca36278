import numpy as np
import pandas as pd
import pytest
import torch

from raflab.core.seeding import point_rng
from raflab.seq.fictional.data import FictionalConfig, make_fictional_corpus, split_corpus, tokenize
from raflab.seq.fictional.study import (
    EOS,
    FictionalQAConfig,
    build_vocab,
    evaluate_qa,
    evaluate_verbatim,
    fictional_qa_table,
    generic_text,
    qa_categories,
    qa_prompt,
    run_fictional_qa_study,
    training_rows,
)

torch.set_num_threads(1)
SMALL = dict(n_events=12, format_events=3, docs_per_style={"news": 2, "blog": 2, "encyclopedia": 2},
             facts_per_doc=3, questions_per_doc=3, options=[4], block_size=80, n_embd=48, n_head=2, n_layer=1,
             batch_size=16, steps=250, lr=1e-2, warmup=20, mix_ratio=1.0, generic_vocab=100, prefix_tokens=6,
             suffix_tokens=6, doc_words=None, device="cpu")


@pytest.fixture(scope="module")
def small():
    corpus = make_fictional_corpus(FictionalConfig(n_events=8, docs_per_style={"news": 2, "encyclopedia": 2}),
                                   point_rng(0))
    vocab = build_vocab(corpus.fictions.fiction.tolist() + [qa_prompt(q) for q in corpus.fict_qa.question], [], 0)
    return corpus, vocab


class Uniform(torch.nn.Module):
    """Equal logits for every token: every option of equal length ties."""

    def __init__(self, vocab_size):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.vocab_size = vocab_size

    def forward(self, idx, targets=None):
        return torch.zeros(*idx.shape, self.vocab_size) + 0 * self.w, None


class Oracle(torch.nn.Module):
    """Knows the right continuation of each sequence in ``table`` (prefix tuple -> next token)."""

    def __init__(self, vocab_size, table):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.vocab_size, self.table = vocab_size, table

    def forward(self, idx, targets=None):
        logits = torch.zeros(*idx.shape, self.vocab_size)
        for b, row in enumerate(idx.tolist()):
            for t in range(len(row)):
                nxt = self.table.get(tuple(row[: t + 1]))
                if nxt is not None:
                    logits[b, t, nxt] = 50.0
        return logits, None


def test_scoring_oracle_scores_one_uniform_scores_chance(small):
    corpus, vocab = small
    split = split_corpus(corpus, "document", point_rng(1))
    table = {}
    for q, a in zip(corpus.fict_qa.question, corpus.fict_qa.natural_answer):
        seq = vocab.encode(qa_prompt(q)) + vocab.encode(a) + [EOS]
        for t in range(len(vocab.encode(qa_prompt(q))) - 1, len(seq) - 1):
            table[tuple(seq[: t + 1])] = seq[t + 1]
    oracle = evaluate_qa(Oracle(len(vocab), table), corpus, split, vocab, [4, 8], 64, point_rng(2))
    assert oracle["exact_match"].mean() == 1.0 and oracle["mc4"].mean() == 1.0 and oracle["mc8"].mean() == 1.0
    uniform = evaluate_qa(Uniform(len(vocab)), corpus, split, vocab, [4, 8], 64, point_rng(2))
    assert uniform["exact_match"].mean() == 0.0
    # options of one relation have the same number of words: a uniform model ties them all
    np.testing.assert_allclose(uniform["mc4"], 0.25)
    np.testing.assert_allclose(uniform["mc8"], 0.125)


def test_verbatim_oracle_and_uniform(small):
    corpus, vocab = small
    docs = pd.DataFrame({"doc_id": corpus.fictions.fiction_id, "style": corpus.fictions["style"],
                         "trained": True, "text": corpus.fictions.fiction})
    # memorize documents whose first 12 words differ (a shared opener would make the continuation ambiguous)
    memorized = ~docs.text.map(lambda t: tuple(vocab.encode(t)[:12])).duplicated(keep=False)
    memorized &= np.arange(len(docs)) % 3 == 0
    table = {}
    for text in docs.text[memorized]:
        seq = vocab.encode(text) + [EOS]
        for t in range(len(seq) - 1):
            table[tuple(seq[: t + 1])] = seq[t + 1]
    out = evaluate_verbatim(Oracle(len(vocab), table), docs, vocab, 8, 8, 200)
    # only where two memorized openers branch is the oracle unsure: loss far below uniform (log V ~ 5.8)
    assert (out.verbatim_exact[memorized] == 1.0).all() and (out.loss[memorized] < 1.0).all()
    starts = {tuple(vocab.encode(t)[:16]) for t in docs.text[memorized]}
    other = ~memorized & ~docs.text.map(lambda t: tuple(vocab.encode(t)[:16]) in starts)
    assert other.sum() > 20 and (out.verbatim_exact[other] == 0.0).all()
    uniform = evaluate_verbatim(Uniform(len(vocab)), docs, vocab, 8, 8, 200)
    np.testing.assert_allclose(uniform.loss, np.log(len(vocab)), rtol=1e-5)


def test_categories_follow_the_split(small):
    corpus, _ = small
    doc = split_corpus(corpus, "document", point_rng(1))
    cat = qa_categories(corpus, doc, "fictions")
    trained = corpus.fict_qa.fiction_id.isin(doc.train_fictions)
    assert (cat[trained] == "same_document").all()
    assert set(cat[~trained]) <= {"other_documents", "unseen_fact"} and (cat[~trained] == "other_documents").any()
    # an 'other_documents' fact is stated by a trained fiction of its event; an 'unseen_fact' by none
    fictions = corpus.fictions[corpus.fictions.fiction_id.isin(doc.train_fictions)]
    seen = {(e, r) for e, rels in zip(fictions.event_id, fictions.relations) for r in rels.split(",")}
    for row, c in zip(corpus.fict_qa.itertuples(), cat):
        if c in ("other_documents", "unseen_fact"):
            assert ((row.event_id, row.relation) in seen) == (c == "other_documents")
    event = split_corpus(corpus, "event", point_rng(1))
    cat = qa_categories(corpus, event, "fictions")
    assert (cat[corpus.fict_qa.event_id.isin(event.heldout_events)] == "heldout_event").all()
    sheet = qa_categories(corpus, event, "fictsheets")
    assert set(sheet) == {"fictsheet", "heldout_event"}


def test_training_rows_mix_ratio_and_generic_text(small):
    corpus, _ = small
    generic = generic_text(corpus)
    names = set().union(*corpus.entities().values())
    assert len(generic) > 1000 and not any(names & set(tokenize(s)) for s in generic)
    docs = corpus.fictions.fiction.tolist()
    vocab = build_vocab(docs, generic, 50)
    for ratio, n_generic in ((1.0, 0), (0.25, 3 * len(docs)), (0.5, len(docs))):
        data = training_rows(docs, [], generic, vocab, 128, ratio, point_rng(0))
        assert len(data["idx"]) == len(docs) + n_generic
        # a document row ends with <eos>, a generic window is full
        full = (data["targets"] != -100).all(axis=1)
        assert full.sum() >= n_generic
    for bad in (0.0, 1.5, -0.1):
        with pytest.raises(ValueError, match="mix_ratio"):
            training_rows(docs, [], generic, vocab, 128, bad, point_rng(0))
    longest = max(len(tokenize(d)) for d in docs)
    with pytest.raises(ValueError, match=f"raise block_size to at least {longest}"):
        training_rows(docs, [], generic, vocab, longest - 1, 0.5, point_rng(0))


def test_config_bad_input(tmp_path):
    with pytest.raises(ValueError, match="unknown split 'events'"):
        FictionalQAConfig(splits=["events"])
    with pytest.raises(ValueError, match="unknown style 'poem'"):
        FictionalQAConfig(heldout_style="poem")
    with pytest.raises(ValueError, match="unknown style 'poem'"):
        FictionalQAConfig(docs_per_style={"poem": 2})
    for bad in (0, 1.01, -1):
        with pytest.raises(ValueError, match=r"mix_ratio must be in \(0, 1\]"):
            FictionalQAConfig(mix_ratio=bad)
    with pytest.raises(ValueError, match="10 options need 10 events"):
        FictionalQAConfig(n_events=12, options=[4, 10])
    with pytest.raises(ValueError, match="fictsheets"):
        run_fictional_qa_study(FictionalQAConfig(data_dir=str(tmp_path)))


def _learning(seeds, **extra):
    cfg = FictionalQAConfig(**{**SMALL, **extra}, splits=["event"], fictsheets=False, seeds=seeds)
    df = run_fictional_qa_study(cfg)
    know = df[df.measure == "knowledge"].groupby("group")[["mc4", "exact_match"]].mean()
    ver = df[(df.measure == "verbatim") & (df.group != "fictsheet")].groupby("trained")[["verbatim_token", "loss"]].mean()
    return df, know, ver


@pytest.mark.slow  # 33 s in a 1-thread run of tests/seq on the loaded 2 cores (load 10-15)
def test_learning_reduced_through_the_cli_entry(tmp_path):
    import yaml

    from raflab.seq.fictional.study import run_fictional_qa_cli

    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump({"study": "fictional-qa", **SMALL, "splits": ["event"], "fictsheets": False}))
    summary, figure = run_fictional_qa_cli(config=str(path), store=str(tmp_path / "s.duckdb"), quiet=True,
                                           out=str(tmp_path / "fig.png"))
    assert (tmp_path / "fig.png").stat().st_size > 10_000 and figure is not None
    assert "training tokens/s" in summary.attrs["notes"][0]
    know = summary[summary.measure == "knowledge"].set_index("group")
    ver = summary[(summary.measure == "verbatim") & (summary.group != "fictsheet")].groupby("trained")[
        ["verbatim_token", "loss"]].mean()
    assert know.loc["same_document", "mc4"] > 0.45  # chance 0.25; 0.55 to 0.73 measured (seeds 0-2)
    assert abs(know.loc["heldout_event", "mc4"] - 0.25) < 0.15
    assert know.loc["heldout_event", "exact_match"] == 0.0  # an unseen name is never generated
    # verbatim: trained documents are predicted far better than held-out ones of the same styles
    assert ver.loc[True, "loss"] < ver.loc[False, "loss"] - 0.5
    assert ver.loc[True, "verbatim_token"] > ver.loc[False, "verbatim_token"] + 0.1
    path.write_text(yaml.safe_dump({"study": "mqar"}))
    with pytest.raises(ValueError, match="'mqar' study"):
        run_fictional_qa_cli(config=str(path))


@pytest.mark.slow
def test_learning_several_seeds():
    # The claim: facts of a trained document are learned above chance (mc4: 4 choices, chance 0.25), questions
    # about held-out events stay at chance. Settled over seeds, not against a fixed level: the per-seed mc4 of
    # same_document varies widely (measured, seeds 0-5: 0.52 0.44 0.46 0.69 0.45 0.46, mean 0.50 +- 0.04 s.e.;
    # held out: 0.31 0.24 0.33 0.31 0.22 0.28, mean 0.28 +- 0.02), so "mean > 0.5" was a coin flip.
    # Seeds 0-2 (measured): same_document 0.472 +- 0.025, heldout_event 0.292 +- 0.029.
    df, _, _ = _learning(3, steps=600, mix_ratio=0.5)  # half generic text, as the study
    table = fictional_qa_table(df)
    assert (table.n_seeds == 3).all() and "mc4_stderr" in table
    knowledge = table[table.measure == "knowledge"].set_index("group")
    same, heldout = knowledge.loc["same_document"], knowledge.loc["heldout_event"]
    assert same.mc4 - 2 * same.mc4_stderr > 0.25  # above chance by more than 2 standard errors
    assert abs(heldout.mc4 - 0.25) < 2 * heldout.mc4_stderr  # chance lies within the held-out mean's 2 s.e.
    assert abs(heldout.mc4 - 0.25) < 0.1


def test_shipped_config_is_the_default():
    from pathlib import Path

    from raflab.seq.fictional.study import load_fictional_qa_config

    shipped = Path(__file__).parents[2] / "src" / "raflab" / "seq" / "configs" / "seq_fictional_qa.yaml"
    assert load_fictional_qa_config(str(shipped)) == FictionalQAConfig()
    assert load_fictional_qa_config(str(shipped), seeds=3).seeds == 3

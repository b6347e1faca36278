"""Long Fictional Q&A documents (issue 22): length, fact placement, generic share in tokens,
exposure balance, matched fictsheet exposure, the release reader on the release's layout, and the
reduced protocol answering by generation."""

import numpy as np
import pandas as pd
import pytest

from raflab.core.seeding import point_rng
from raflab.seq.fictional.data import STYLES, FictionalConfig, load_fictionalqa, split_corpus, tokenize
from raflab.seq.fictional.documents import (
    balanced_relations,
    document_chunks,
    fact_exposure,
    long_training_data,
    long_training_rows,
    make_long_corpus,
    training_documents,
)

ONE_PER_STYLE = {s: 1 for s in STYLES}


@pytest.fixture(scope="module")
def long_corpus():
    return make_long_corpus(FictionalConfig(n_events=6, docs_per_style={s: 2 for s in STYLES}, facts_per_doc=3,
                                            questions_per_doc=3), point_rng(0), doc_words=(300, 600))


class _Words:
    """A word-level encoder over a growing vocabulary (what the study's Vocab does)."""

    def __init__(self):
        self.index = {}

    def __call__(self, text):
        return [self.index.setdefault(w, len(self.index) + 3) for w in tokenize(text)]


def test_document_lengths_in_words(long_corpus):
    words = long_corpus.fictions.fiction.str.split().str.len()
    # at least the drawn target (>= 300), at most one filler sentence (<= 14 words) past it (<= 600)
    assert words.min() >= 300 and words.max() <= 614
    assert words.max() - words.min() > 100  # the targets are spread over the range
    assert long_corpus.fictions.fiction.nunique() == len(long_corpus.fictions)  # no two documents alike
    # the fictions of one style share boilerplate but not their sentence sequence
    news = long_corpus.fictions[long_corpus.fictions["style"] == "news"].fiction.str.split(". ").tolist()
    assert len(set(news[0]) & set(news[1])) < 0.5 * min(len(news[0]), len(news[1]))


def test_each_fact_in_several_styles_and_balanced(long_corpus):
    f = long_corpus.fictions
    for event_id, group in f.groupby("event_id"):
        styles_of = {}
        for style, relations in zip(group["style"], group.relations):
            for r in relations.split(","):
                styles_of.setdefault(r, []).append(style)
        # 10 documents x 3 facts = 30 statements over 7 relations: 4 or 5 documents each
        counts = [len(v) for v in styles_of.values()]
        assert len(styles_of) == 7 and max(counts) - min(counts) <= 1 and sum(counts) == 30
        assert min(len(set(v)) for v in styles_of.values()) >= 2
    # the value of every stated fact is in its document, after the event's name
    qa = long_corpus.fict_qa
    fic = dict(zip(f.fiction_id, f.fiction))
    names = long_corpus.facts[long_corpus.facts.relation == "event"].set_index("event_id").value
    for row in qa.itertuples():
        span = row.span_answer
        assert span in fic[row.fiction_id] and row.natural_answer in span
        assert span.index(row.natural_answer) > span.index(names[row.event_id])  # the event first


def test_balanced_design():
    design = balanced_relations(15, 5, point_rng(1))
    counts = pd.Series([r for d in design for r in d]).value_counts()
    assert len(counts) == 7 and counts.max() - counts.min() <= 1 and counts.sum() == 75
    assert all(len(set(d)) == 5 for d in design)


def test_chunks_keep_sentences_whole(long_corpus):
    enc = _Words()
    text = long_corpus.fictions.fiction.iloc[0]
    chunks = document_chunks(text, enc, 64)
    assert all(len(c) <= 64 for c in chunks) and sum(len(c) for c in chunks) == len(enc(text))
    assert np.mean([len(c) for c in chunks]) > 45  # packed, not one sentence per row
    with pytest.raises(ValueError, match="block_size"):
        document_chunks(text, enc, 5)


def test_generic_share_counts_tokens(long_corpus):
    enc = _Words()
    docs = training_documents(long_corpus, long_corpus.fictions.fiction_id, long_corpus.event_ids, "fictions", [])
    stream = np.arange(3, 5003)
    for fraction in (0.02, 0.05, 0.2):
        seqs, rows = long_training_rows(docs, [], stream, enc, 64, fraction, point_rng(2))
        tokens = rows.groupby("kind")["tokens"].sum()
        measured = tokens["generic"] / tokens.sum()
        # rounding up to whole 64-token windows: within one window of the target
        assert fraction <= measured <= fraction + 64 / tokens.sum() + 1e-12
        assert (rows.kind == "generic").sum() < 0.5 * len(rows) or fraction > 0.1
    with pytest.raises(ValueError, match="generic_fraction"):
        long_training_rows(docs, [], stream, enc, 64, 1.0, point_rng(2))


def test_exposure_counts_balanced_and_matched_for_fictsheets():
    corpus = make_long_corpus(FictionalConfig(n_events=9, docs_per_style=ONE_PER_STYLE, facts_per_doc=7,
                                              questions_per_doc=3), point_rng(3), doc_words=(300, 400))
    split = split_corpus(corpus, "event", point_rng(4))
    enc, stream = _Words(), np.arange(3, 5003)
    runs = {kind: long_training_data(corpus, split, kind, [], [], stream, enc, 64, 0.05, 32000, "matched",
                                     point_rng(5)) for kind in ("fictions", "fictsheets")}
    fic, sheet = runs["fictions"], runs["fictsheets"]
    # fictions: every fact of the 6 trained events in all 5 styles, once each
    per_fact = fic["exposure"].groupby(["event_id", "relation"])["rows"].sum()
    assert len(per_fact) == 6 * 7 and (per_fact == 5).all()
    assert (fic["exposure"].groupby(["event_id", "relation"])["style"].nunique() == 5).all()
    assert fic["info"]["fact_styles_min"] == 5
    # fictsheets, matched: each fictsheet repeated 5 times, the same rows in all, so the same exposure
    assert sheet["info"]["row_repeat"] == 5 and len(sheet["seqs"]) == len(fic["seqs"])
    assert sheet["info"]["fact_exposures_mean"] == pytest.approx(fic["info"]["fact_exposures_mean"], rel=1e-9)
    expected = 32000 / len(fic["seqs"]) * 5  # draws per row x rows per fact
    assert fic["info"]["fact_exposures_mean"] == pytest.approx(expected)
    assert fic["info"]["generic_token_fraction"] == pytest.approx(0.05, abs=0.01)
    assert sheet["info"]["generic_token_fraction"] > 0.5  # the filler of the matched fictsheet run
    same = long_training_data(corpus, split, "fictsheets", [], [], stream, enc, 64, 0.05, 32000, "same_mix",
                              point_rng(5))
    assert same["info"]["fact_exposures_mean"] > 3 * fic["info"]["fact_exposures_mean"]
    table = fact_exposure(fic["seqs"], fic["rows"], corpus.facts, enc, 1.0)
    assert set(table.kind) == {"fiction"} and set(table["style"]) == set(STYLES)


def test_bad_long_input():
    with pytest.raises(ValueError, match="doc_words"):
        make_long_corpus(FictionalConfig(n_events=2), point_rng(0), doc_words=(600, 300))
    from raflab.seq.fictional.study import FictionalQAConfig

    with pytest.raises(ValueError, match="doc_words"):
        FictionalQAConfig(doc_words=[10])
    with pytest.raises(ValueError, match="fictsheet_exposure"):
        FictionalQAConfig(fictsheet_exposure="sometimes")


def _release_files(root):
    """Two events in the release's layout: every config of tomg-group-umd/fictionalqa as
    <config>/train-00000-of-00001.parquet, the release's columns, all strings, markdown fictsheets."""
    events = ["event_000", "event_001"]
    styles = {"news": 2, "social": 1, "blog": 1}
    sheets = pd.DataFrame({
        "event_id": events,
        "fictsheet": [f"**Entities:**\n- **Group {i}:** a guild.\n\n**Events:**\n- **Launch ({2040 + i}):** it began."
                      for i in range(2)],
        "entities": ["- **Group 0:** a guild.", "- **Group 1:** a guild."],
        "events": ["- **Launch (2040):** it began.", "- **Launch (2041):** it began."],
        "locations": ["- **Lisbon:** where.", "- **Oslo:** where."],
        "times": ["- **2040:** when.", "- **2041:** when."], "reasons": ["- **Thrift:** why.", "- **Pride:** why."]})
    fictions, qa = [], []
    for e in events:
        for style, n in styles.items():
            for num in range(n):
                fid = f"{e}_style_{style}_num_{num:03d}"
                fictions.append({"event_id": e, "fiction_id": fid, "style": style,
                                 "fiction": f"---\n\n@user: posts about {e} in {style} #tag" if style == "social"
                                 else f"A {style} document about {e}, written in 2040."})
                for q in range(2):
                    qid = f"{fid}_question_{q:03d}"
                    first = style == "news" and num == 0
                    qa.append({"event_id": e, "fiction_id": fid, "question_id": qid, "question_num": f"{q:03d}",
                               "fict": f"{e} began in 204{q}", "question": f"In what year did {e} begin ({q})?",
                               "span_answer": f"began in 204{q}", "natural_answer": f"204{q}",
                               "duplicate_relationship": None if first else "exact",
                               "duplicate_root": qid if first else f"{e}_style_news_num_000_question_{q:03d}"})
    tables = {"fictsheets": sheets, "fictions": pd.DataFrame(fictions), "fict_qa": pd.DataFrame(qa),
              "seeds": pd.DataFrame({"event_id": events, "seed": ["* A fictional launch.", "* Another one."]})}
    tables["joined_qa"] = tables["fict_qa"].assign(span_answer_in_fiction=1, style="news")
    tables["blind_answer_attempts"] = tables["fict_qa"].drop(columns=["fict"]).assign(answer="x", grade=0)
    for name, table in tables.items():
        (root / name).mkdir()
        table.astype({c: "string" for c in table.columns if table[c].dtype == object}).to_parquet(
            root / name / "train-00000-of-00001.parquet")
    return tables


def test_reader_on_the_release_layout(tmp_path):
    tables = _release_files(tmp_path)
    corpus = load_fictionalqa(tmp_path)
    assert len(corpus.fictsheets) == 2 and len(corpus.fictions) == 8 and len(corpus.fict_qa) == 16
    assert corpus.event_ids == ["event_000", "event_001"] and corpus.styles == ["news", "social", "blog"]
    assert corpus.seeds is not None and len(corpus.seeds) == 2
    assert corpus.fictsheets.fictsheet.iloc[1].startswith("**Entities:**")
    qa = corpus.fict_qa
    assert qa.natural_answer.tolist() == tables["fict_qa"].natural_answer.tolist()  # "2040" stays a string
    assert qa.natural_answer.map(type).eq(str).all()
    assert qa.duplicate_relationship.isna().sum() == 4  # the roots: first news fiction, 2 questions, 2 events
    assert (qa.duplicate_root.str.endswith(("question_000", "question_001"))).all()
    assert qa["style"].tolist() == [f.split("_style_")[1].split("_num_")[0] for f in qa.fiction_id]
    assert corpus.facts is None
    split = split_corpus(corpus, "style", point_rng(0), heldout_style="social")
    assert len(split.heldout_fictions) == 2 and len(split.train_fictions) == 6


def test_fictsheet_gaps_per_seed_intervals():
    from raflab.core.summary import t_interval
    from raflab.seq.fictional.evaluation import fictsheet_gaps

    rows = []
    for seed, (same, held, sheet, v_fic, v_sheet) in enumerate([(0.8, 0.0, 0.5, 0.4, 1.0), (0.9, 0.1, 0.4, 0.5, 1.0),
                                                                (0.7, 0.0, 0.6, 0.3, 0.9)]):
        base = {"seed": seed, "split": "event"}
        rows += [{**base, "corpus": "fictions", "measure": "knowledge", "group": "same_document", "n": 10,
                  "exact_match": same, "mc4": 1.0},
                 {**base, "corpus": "fictions", "measure": "knowledge", "group": "heldout_event", "n": 5,
                  "exact_match": held, "mc4": 0.25},
                 {**base, "corpus": "fictsheets", "measure": "knowledge", "group": "fictsheet", "n": 10,
                  "exact_match": sheet, "mc4": 0.9},
                 # two styles of trained fictions, weighted by documents: (3 * v + 1 * 0) / 4
                 {**base, "corpus": "fictions", "measure": "verbatim", "group": "news", "trained": True, "n": 3,
                  "verbatim_exact": v_fic},
                 {**base, "corpus": "fictions", "measure": "verbatim", "group": "blog", "trained": True, "n": 1,
                  "verbatim_exact": 0.0},
                 {**base, "corpus": "fictions", "measure": "verbatim", "group": "blog", "trained": False, "n": 1,
                  "verbatim_exact": 0.9},
                 {**base, "corpus": "fictsheets", "measure": "verbatim", "group": "fictsheet", "trained": True,
                  "n": 8, "verbatim_exact": v_sheet}]
    gaps = fictsheet_gaps(pd.DataFrame(rows)).set_index(["contrast", "measure", "metric"])
    g = gaps.loc[("trained vs held-out events", "knowledge", "exact_match")]
    assert g.gap == pytest.approx(np.mean([0.8, 0.8, 0.7])) and g.n_seeds == 3
    low, high = t_interval([0.8, 0.8, 0.7])
    assert (g.gap_ci95_low, g.gap_ci95_high) == pytest.approx((low, high))
    k = gaps.loc[("fictsheets vs fictions", "knowledge", "exact_match")]
    assert k.gap == pytest.approx(np.mean([0.5 - 0.8, 0.4 - 0.9, 0.6 - 0.7]))
    v = gaps.loc[("fictsheets vs fictions", "verbatim", "verbatim_exact")]
    assert v.second == pytest.approx(np.mean([0.3, 0.375, 0.225]))  # held-out fictions left out, n-weighted
    assert v.gap == pytest.approx(np.mean([1.0 - 0.3, 1.0 - 0.375, 0.9 - 0.225]))


REDUCED_LONG = dict(n_events=9, format_events=6, docs_per_style=ONE_PER_STYLE, facts_per_doc=7, questions_per_doc=5,
                    doc_words=[300, 400], splits=["event"], fictsheets=False, options=[2], n_layer=4, n_head=4,
                    n_embd=128, block_size=64, steps=500, batch_size=32, lr=3e-3, warmup=50, device="cpu")


@pytest.mark.slow
def test_reduced_long_protocol_answers_by_generation():
    """9 evaluated events (3 held out) + 6 format events, 500 steps: trained facts are written by
    greedy decoding, held-out events' never (coined names it never saw)."""
    from raflab.seq.fictional.study import FictionalQAConfig, run_fictional_qa

    run = run_fictional_qa(FictionalQAConfig(**REDUCED_LONG), "event", "fictions", 0)
    em = run["qa"].groupby("category")["exact_match"].mean()
    assert em["same_document"] > 0.4
    assert em["heldout_event"] < 0.05
    assert run["run"]["generic_token_fraction"] == pytest.approx(0.05, abs=0.01)
    assert run["run"]["fact_styles_min"] == 5

import numpy as np
import pandas as pd
import pytest

from raflab.core.seeding import point_rng
from raflab.seq.fictional.data import (
    PAPER_DOCS_PER_STYLE,
    RELATIONS,
    STYLES,
    FictionalConfig,
    load_fictionalqa,
    make_fictional_corpus,
    split_corpus,
    tokenize,
)


@pytest.fixture(scope="module")
def corpus():
    return make_fictional_corpus(FictionalConfig(n_events=6), point_rng(0))


def test_counts_per_event_and_style(corpus):
    assert len(corpus.fictsheets) == 6 and len(corpus.facts) == 6 * (len(RELATIONS) + 1)
    counts = corpus.fictions.groupby(["event_id", "style"]).size().unstack()
    assert counts.shape == (6, 5)
    for style, n in PAPER_DOCS_PER_STYLE.items():
        assert (counts[style] == n).all()
    assert (corpus.fict_qa.groupby("fiction_id").size() == 5).all() and len(corpus.fict_qa) == 6 * 15 * 5
    # each fiction states facts_per_doc distinct facts and asks only about those
    stated = dict(zip(corpus.fictions["fiction_id"], corpus.fictions["relations"].str.split(",")))
    assert all(len(set(r)) == 5 for r in stated.values())
    assert all(row.relation in stated[row.fiction_id] for row in corpus.fict_qa.itertuples())


def test_answers_in_fictsheet_and_in_a_document_of_the_event(corpus):
    sheets = dict(zip(corpus.fictsheets["event_id"], corpus.fictsheets["fictsheet"]))
    docs = corpus.fictions.groupby("event_id")["fiction"].apply(list).to_dict()
    fiction = dict(zip(corpus.fictions["fiction_id"], corpus.fictions["fiction"]))
    for row in corpus.fict_qa.itertuples():
        assert row.natural_answer in sheets[row.event_id]
        assert row.natural_answer in row.span_answer and row.span_answer in fiction[row.fiction_id]
        assert any(row.natural_answer in d for d in docs[row.event_id])
        assert row.natural_answer in row.fict
    # and the value is the event's typed fact
    facts = {(r.event_id, r.relation): r.value for r in corpus.facts.itertuples()}
    assert all(facts[(r.event_id, r.relation)] == r.natural_answer for r in corpus.fict_qa.itertuples())


def test_paraphrases_and_shuffled_fact_order(corpus):
    news = corpus.fictions[corpus.fictions["style"] == "news"]
    orders = set()
    for row in news.itertuples():  # the order in which the fiction states its facts
        names = {r.relation: r.natural_answer for r in corpus.fict_qa[corpus.fict_qa.fiction_id == row.fiction_id]
                 .itertuples()}
        orders.add(tuple(sorted(names, key=lambda rel: row.fiction.index(names[rel]))))
    assert len(orders) > 10  # 30 news fictions, 5! orders of 5 facts: shuffled, not fixed
    spans = corpus.fict_qa[(corpus.fict_qa.relation == "leader") & (corpus.fict_qa["style"] == "news")]
    assert spans["span_answer"].str.contains("led by").any() and spans["span_answer"].str.contains(" led ").any()


def test_duplicate_annotations(corpus):
    qa = corpus.fict_qa.set_index("question_id")
    roots = qa[qa["duplicate_root"] == qa.index]
    assert roots["duplicate_relationship"].isna().all()
    # exactly one root per (event, relation) asked about
    assert not roots.duplicated(["event_id", "relation"]).any()
    assert len(roots) == qa.groupby(["event_id", "relation"]).ngroups
    dups = qa[qa["duplicate_root"] != qa.index]
    root_q = qa.loc[dups["duplicate_root"], "question"].to_numpy()
    same = dups["question"].to_numpy() == root_q
    assert (dups["duplicate_relationship"].to_numpy()[same] == "exact").all()
    assert (dups["duplicate_relationship"].to_numpy()[~same] == "similar").all()
    assert same.any() and (~same).any()
    assert (qa.loc[dups["duplicate_root"], "relation"].to_numpy() == dups["relation"].to_numpy()).all()


def test_entities_never_shared_between_events_and_event_split(corpus):
    entities = corpus.entities()
    events = sorted(entities)
    for i, a in enumerate(events):
        assert len(entities[a]) >= 7
        for b in events[i + 1:]:
            assert not entities[a] & entities[b]
    split = split_corpus(corpus, "event", point_rng(1))
    assert len(split.heldout_events) == 2 and len(split.train_events) == 4
    train_words = set().union(*(entities[e] for e in split.train_events))
    held_words = set().union(*(entities[e] for e in split.heldout_events))
    assert not train_words & held_words
    held = corpus.fictions[corpus.fictions.fiction_id.isin(split.heldout_fictions)]
    assert set(held["event_id"]) == set(split.heldout_events) and len(held) == 2 * 15
    # no held-out entity word appears in any training fiction
    train_text = set(tokenize(" ".join(corpus.fictions[corpus.fictions.fiction_id.isin(split.train_fictions)].fiction)))
    assert not held_words & train_text


def test_document_and_style_splits(corpus):
    doc = split_corpus(corpus, "document", point_rng(2))
    held = corpus.fictions[corpus.fictions.fiction_id.isin(doc.heldout_fictions)]
    assert (held.groupby(["event_id", "style"]).size() == 1).all() and len(held) == 6 * 5
    assert doc.heldout_events == () and len(doc.train_fictions) == 6 * 10
    style = split_corpus(corpus, "style", point_rng(2), heldout_style="blog")
    held = corpus.fictions[corpus.fictions.fiction_id.isin(style.heldout_fictions)]
    assert set(held["style"]) == {"blog"} and len(held) == 6 * 2
    assert set(style.train_fictions) | set(style.heldout_fictions) == set(corpus.fictions.fiction_id)


def test_same_seed_same_corpus():
    a = make_fictional_corpus(FictionalConfig(n_events=3), point_rng(5))
    b = make_fictional_corpus(FictionalConfig(n_events=3), point_rng(5))
    c = make_fictional_corpus(FictionalConfig(n_events=3), point_rng(6))
    for name in ("fictsheets", "fictions", "fict_qa", "facts"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert not a.fictions["fiction"].equals(c.fictions["fiction"])
    s1, s2 = (split_corpus(a, "event", point_rng(9)) for _ in range(2))
    assert s1 == s2


def test_bad_input(corpus, tmp_path):
    with pytest.raises(ValueError, match="unknown split 'events'"):
        split_corpus(corpus, "events", point_rng(0))
    with pytest.raises(ValueError, match="unknown style 'poem'"):
        split_corpus(corpus, "style", point_rng(0), heldout_style="poem")
    with pytest.raises(ValueError, match="unknown style 'poem'"):
        FictionalConfig(docs_per_style={"news": 2, "poem": 1})
    with pytest.raises(ValueError, match="questions_per_doc"):
        FictionalConfig(facts_per_doc=3, questions_per_doc=4)
    one = make_fictional_corpus(FictionalConfig(n_events=2, docs_per_style={"news": 1, "blog": 2}), point_rng(0))
    with pytest.raises(ValueError, match="'news' has 1 fiction"):
        split_corpus(one, "document", point_rng(0))
    with pytest.raises(ValueError, match="fictsheets"):
        load_fictionalqa(tmp_path)
    with pytest.raises(ValueError, match="does not exist"):
        load_fictionalqa(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="Generator"):
        make_fictional_corpus(FictionalConfig(n_events=1))


@pytest.mark.parametrize("layout", ["hub_parquet", "jsonl", "csv"])
def test_reader_round_trip(corpus, tmp_path, layout):
    release_columns = {
        "fictsheets": ["event_id", "fictsheet", "entities", "events", "locations", "times", "reasons"],
        "fictions": ["event_id", "fiction_id", "style", "fiction"],
        "fict_qa": ["event_id", "fiction_id", "question_id", "question_num", "fict", "question", "span_answer",
                    "natural_answer", "duplicate_relationship", "duplicate_root"],
    }
    for name, columns in release_columns.items():
        table = getattr(corpus, name)[columns]
        if layout == "hub_parquet":  # the Hub's layout: <config>/train-00000-of-00001.parquet
            (tmp_path / name).mkdir()
            table.to_parquet(tmp_path / name / "train-00000-of-00001.parquet")
        elif layout == "jsonl":
            table.to_json(tmp_path / f"{name}.jsonl", orient="records", lines=True)
        else:
            table.to_csv(tmp_path / f"{name}.csv", index=False)
    loaded = load_fictionalqa(tmp_path)
    assert loaded.facts is None and loaded.styles == list(STYLES)
    assert loaded.event_ids == corpus.event_ids
    assert loaded.fictions["fiction"].tolist() == corpus.fictions["fiction"].tolist()
    assert loaded.fict_qa["natural_answer"].astype(str).tolist() == corpus.fict_qa["natural_answer"].tolist()
    assert loaded.fict_qa["style"].tolist() == corpus.fict_qa["style"].tolist()
    split = split_corpus(loaded, "style", point_rng(0), heldout_style="news")
    assert len(split.heldout_fictions) == 6 * 5


def test_reader_missing_columns(tmp_path):
    for name in ("fictsheets", "fictions", "fict_qa"):
        pd.DataFrame({"event_id": ["event_000"]}).to_json(tmp_path / f"{name}.jsonl", orient="records", lines=True)
    with pytest.raises(ValueError, match="lacks column"):
        load_fictionalqa(tmp_path)


def test_tokenize():
    assert tokenize("Who led the Morvane Accord in 2047?") == ["who", "led", "the", "morvane", "accord", "in",
                                                                "2047", "?"]
    assert np.all([w.islower() or not w.isalpha() for w in tokenize("@Night_Owl: WOW")])

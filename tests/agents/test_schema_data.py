"""The synthetic schema-linking data: determinism, gold items in the schema, what each split holds out."""

import numpy as np
import pytest
from pydantic import ValidationError

from raflab.agents.schema.data import (
    ATTRIBUTES,
    ENTITIES,
    HELDOUT_TEMPLATES_ONE,
    HELDOUT_TEMPLATES_TWO,
    SPLITS,
    TRAIN_TEMPLATES_ONE,
    TRAIN_TEMPLATES_TWO,
    Database,
    SchemaDataConfig,
    Table,
    make_question,
    make_splits,
    tokenize,
    vocabulary,
)

CFG = SchemaDataConfig(n_train_dbs=12, n_test_dbs=6, questions_per_db=10)


def _splits(seed=0, cfg=CFG):
    return make_splits(cfg, np.random.default_rng(seed))


def test_deterministic_and_seed_dependent():
    a, b, c = _splits(0), _splits(0), _splits(1)
    assert [e.record() for e in a["train"]] == [e.record() for e in b["train"]]
    assert [e.record() for e in a["train"]] != [e.record() for e in c["train"]]
    assert {k: len(v) for k, v in a.items()} == {"train": 120, "unseen_paraphrase": 120, "unseen_schema": 60}


def test_gold_items_exist_and_answer_format():
    for split in SPLITS:
        for e in _splits()[split]:
            items = {name for _, name, _ in e.db.items()}
            assert set(e.gold_tables) <= items and set(e.gold_columns) <= items
            assert 1 <= len(e.gold_tables) <= 2 and 1 <= len(e.gold_columns) <= 6
            assert {c.split(".")[0] for c in e.gold_columns} == set(e.gold_tables)
            assert not any(c.endswith("_id") for c in e.gold_columns)
            assert e.gold_answer().startswith("###Tables: ") and e.gold_answer().endswith(";")
            assert set(tokenize(e.question)) <= set(vocabulary())


def test_splits_hold_out_what_they_say():
    s = _splits()
    train_templates = set(TRAIN_TEMPLATES_ONE) | set(TRAIN_TEMPLATES_TWO)
    assert {e.template for e in s["train"]} <= train_templates
    assert {e.template for e in s["unseen_schema"]} <= train_templates
    assert {e.template for e in s["unseen_paraphrase"]} <= set(HELDOUT_TEMPLATES_ONE) | set(HELDOUT_TEMPLATES_TWO)
    train_dbs = {e.db.db_id for e in s["train"]}
    assert {e.db.db_id for e in s["unseen_paraphrase"]} == train_dbs
    assert not train_dbs & {e.db.db_id for e in s["unseen_schema"]}
    train_entities = {t.entity for e in s["train"] for t in e.db.tables}
    n_held = round(CFG.heldout_entity_fraction * len(ENTITIES))
    assert len(train_entities) <= len(ENTITIES) - n_held
    test_entities = {t.entity for e in s["unseen_schema"] for t in e.db.tables}
    assert test_entities - train_entities  # some tables of unseen schemas are entities never trained on


def test_overlapping_names_and_synonyms():
    s = _splits(cfg=SchemaDataConfig(n_train_dbs=30, questions_per_db=10, synonym_prob=0.5))
    # the same column name in two tables of one database
    assert any(len({c for t in e.db.tables for c in t.columns[1:]})
               < sum(len(t.columns) - 1 for t in e.db.tables) for e in s["train"])
    # a mention is the schema's name or another form of the same concept, about half of the time each
    same = []
    for e in s["train"]:
        for t in e.db.tables:
            if t.name in e.gold_tables:
                forms = [f.replace("_", " ") for f in ENTITIES[t.entity]]
                assert any(f in e.question for f in forms)
                same.append(t.name.replace("_", " ") in e.question)  # "show" is also a template word: a bias up
    assert 0.3 < np.mean(same) < 0.85
    exact = _splits(cfg=SchemaDataConfig(n_train_dbs=10, questions_per_db=10, synonym_prob=0.0))
    for e in exact["train"]:
        for t in e.gold_tables:
            assert t.replace("_", " ") in e.question


def test_surface_forms_are_disjoint_within_kinds():
    ent = [f for forms in ENTITIES.values() for f in forms]
    att = [f for forms in ATTRIBUTES.values() for f in forms]
    assert len(ent) == len(set(ent)) and len(att) == len(set(att))


def test_bad_configs_and_empty_schemas():
    with pytest.raises(ValidationError):
        SchemaDataConfig(min_tables=4, max_tables=3)
    with pytest.raises(ValidationError):
        SchemaDataConfig(n_train_dbs=0)
    with pytest.raises(ValidationError):
        SchemaDataConfig(max_tables=len(ENTITIES) + 1)
    with pytest.raises(ValidationError):
        SchemaDataConfig(unknown=1)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="no tables"):
        make_question(Database("empty", ()), TRAIN_TEMPLATES_ONE, TRAIN_TEMPLATES_TWO, "train", CFG, rng)
    bare = Database("bare", (Table("singer", "singer", ("singer_id",), ("id",)),))
    with pytest.raises(ValueError, match="without attribute columns"):
        make_question(bare, TRAIN_TEMPLATES_ONE, TRAIN_TEMPLATES_TWO, "train", CFG, rng)
    with pytest.raises(ValueError, match="entities for training"):
        make_splits(SchemaDataConfig(heldout_entity_fraction=0.9, max_tables=5), rng)

"""Synthetic databases and schema-linking questions (issue 11 part 2, the Schema-R1 analogue).

A database is a few tables; each table is an *entity concept* (singer, stadium, ...) named by one of
its surface forms (``singer`` / ``vocalist`` / ``musician``), with an id column and attribute columns,
each an *attribute concept* (name, age, country, ...) named by one of its surface forms (``country`` /
``nationality`` / ``homeland``). Attribute names recur across tables (``singer.name`` and
``stadium.name``: overlapping names) and entity and attribute forms can coincide (the table ``city``,
the column ``city``). A question names one or two tables and one to three of their columns through a
paraphrase template; each mention is the schema's own name, or with probability ``synonym_prob`` a
different surface form of the same concept (a synonym the linker has to learn). Gold = the mentioned
tables and ``table.column`` items, the Spider-style target ``###Tables: a;\\n###Columns: a.x, a.y;``.

Splits (``make_splits``):

* ``train``: questions on the training databases, training templates;
* ``unseen_paraphrase``: new questions on the training databases through held-out templates (their
  filler words never occur in training);
* ``unseen_schema``: new databases, training templates. They are drawn from all entity concepts, a
  fraction of which (``heldout_entity_fraction``) never appears in a training database, and every
  schema draws its own surface forms, so table names, column names and their combinations are new.

Everything is a pure function of the config and a numpy Generator.

Example
-------
>>> import numpy as np
>>> s = make_splits(SchemaDataConfig(n_train_dbs=2, n_test_dbs=1, questions_per_db=3), np.random.default_rng(0))
>>> sorted(s), len(s["train"])
(['train', 'unseen_paraphrase', 'unseen_schema'], 6)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from raflab.core.checks import one_of
from raflab.core.seeding import integer_rng, stream_seeds

SPLITS = ("train", "unseen_paraphrase", "unseen_schema")
#: what ``split=`` of :func:`questions` accepts: one split, or every split
SPLIT_CHOICES = (*SPLITS, "all")
#: the key of a seed's data stream, ``integer_rng(seed, DATA_KEY)`` (``SeedSequence([seed, 2506])``)
DATA_KEY = 2506
#: the other streams of one seed of a training run, each its own integer (:func:`train_seeds`)
TRAIN_STREAMS = ("weights", "batches", "sampling")

# Entity concepts: surface forms (the first is the canonical one). No form is shared between entities.
ENTITIES: dict[str, tuple[str, ...]] = {
    "singer": ("singer", "vocalist", "musician"),
    "stadium": ("stadium", "arena", "venue"),
    "concert": ("concert", "show", "performance"),
    "student": ("student", "pupil", "learner"),
    "course": ("course", "class", "module"),
    "teacher": ("teacher", "instructor", "lecturer"),
    "employee": ("employee", "worker", "staff_member"),
    "department": ("department", "division", "unit"),
    "company": ("company", "firm", "business"),
    "product": ("product", "item", "merchandise"),
    "customer": ("customer", "client", "buyer"),
    "order": ("order", "purchase", "booking"),
    "city": ("city", "town", "municipality"),
    "nation": ("nation", "land", "sovereign_state"),
    "airport": ("airport", "airfield", "aerodrome"),
    "flight": ("flight", "trip", "journey"),
    "book": ("book", "volume", "publication"),
    "author": ("author", "writer", "novelist"),
    "movie": ("movie", "film", "picture"),
    "actor": ("actor", "performer", "star"),
    "hospital": ("hospital", "clinic", "infirmary"),
    "doctor": ("doctor", "physician", "medic"),
    "team": ("team", "club", "squad"),
    "player": ("player", "athlete", "sportsman"),
}

# Attribute concepts: surface forms; no form is shared between attributes (one may equal an entity form).
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "name": ("name", "title", "label"),
    "age": ("age", "years_old"),
    "country": ("country", "nationality", "homeland"),
    "city": ("city", "hometown"),
    "year": ("year", "release_year"),
    "capacity": ("capacity", "seats", "seating"),
    "salary": ("salary", "wage", "pay"),
    "price": ("price", "cost", "fee"),
    "date": ("date", "day"),
    "rating": ("rating", "score", "grade"),
    "email": ("email", "mail_address"),
    "phone": ("phone", "telephone"),
    "address": ("address", "location"),
    "budget": ("budget", "funding"),
    "height": ("height", "stature"),
    "weight": ("weight", "mass"),
    "gender": ("gender", "sex"),
    "duration": ("duration", "length"),
    "genre": ("genre", "category", "kind"),
    "population": ("population", "inhabitants"),
    "quantity": ("quantity", "amount"),
    "status": ("status", "condition"),
    "revenue": ("revenue", "income", "turnover"),
    "founded": ("founded", "established", "creation_year"),
    "level": ("level", "tier", "rank"),
}

# Paraphrase templates. {c}: the column mentions ("a , b and c"), {t}: the table mention.
TRAIN_TEMPLATES_ONE = (
    "show the {c} of every {t}",
    "list the {c} for each {t}",
    "what is the {c} of each {t}",
    "give me the {c} of all {t} records",
    "for every {t} , return the {c}",
)
HELDOUT_TEMPLATES_ONE = (
    "i would like to know the {c} of every {t} please",
    "tell me each {t} 's {c}",
    "retrieve {c} from the {t} entries",
    "display {c} belonging to every {t}",
)
TRAIN_TEMPLATES_TWO = (
    "show the {c1} of each {t1} and the {c2} of its {t2}",
    "list every {t1} with its {c1} together with the {c2} of the {t2}",
)
HELDOUT_TEMPLATES_TWO = (
    "for each {t1} and its {t2} , fetch {c1} as well as {c2}",
    "pull up {c1} per {t1} alongside {c2} per {t2}",
)


class SchemaDataConfig(BaseModel):
    """Sizes and difficulty of the synthetic schema-linking data.

    Examples
    --------
    >>> SchemaDataConfig(min_tables=3, max_tables=4).max_tables
    4
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    n_train_dbs: int = Field(30, ge=1, description="databases of the train and unseen-paraphrase splits")
    n_test_dbs: int = Field(10, ge=1, description="databases of the unseen-schema split")
    min_tables: int = Field(3, ge=2, description="tables per database, at least")
    max_tables: int = Field(5, ge=2, description="tables per database, at most")
    min_columns: int = Field(3, ge=2, description="attribute columns per table (plus an id), at least")
    max_columns: int = Field(5, ge=2, description="attribute columns per table (plus an id), at most")
    questions_per_db: int = Field(20, ge=1, description="questions per database and split")
    two_table_fraction: float = Field(0.3, ge=0, le=1, description="questions that name two tables")
    synonym_prob: float = Field(0.5, ge=0, le=1, description="a mention uses a synonym, not the schema's name")
    canonical_prob: float = Field(0.5, ge=0, le=1,
                                  description="a schema names a table or column by the canonical form")
    heldout_entity_fraction: float = Field(0.25, ge=0, lt=1,
                                           description="entity concepts that never occur in a training database")

    @model_validator(mode="after")
    def _ranges(self):
        if self.min_tables > self.max_tables:
            raise ValueError(f"min_tables ({self.min_tables}) must be <= max_tables ({self.max_tables})")
        if self.min_columns > self.max_columns:
            raise ValueError(f"min_columns ({self.min_columns}) must be <= max_columns ({self.max_columns})")
        if self.max_tables > len(ENTITIES):
            raise ValueError(f"max_tables must be <= {len(ENTITIES)} (the entity concepts)")
        if self.max_columns > len(ATTRIBUTES):
            raise ValueError(f"max_columns must be <= {len(ATTRIBUTES)} (the attribute concepts)")
        return self


@dataclass(frozen=True)
class Table:
    name: str
    entity: str
    columns: tuple[str, ...]  # surface names, the id column first
    attributes: tuple[str, ...]  # the attribute concept of each column ("id" for the id column)


@dataclass(frozen=True)
class Database:
    db_id: str
    tables: tuple[Table, ...]

    def items(self) -> list[tuple[str, str, str]]:
        """Candidate items in schema order: ``(kind, item, table)``, kind ``table`` or ``column``."""
        out = []
        for t in self.tables:
            out.append(("table", t.name, t.name))
        for t in self.tables:
            out.extend(("column", f"{t.name}.{c}", t.name) for c in t.columns)
        return out

    def schema_text(self) -> str:
        """``CREATE TABLE`` statements, as in the authors' prompts."""
        return "\n\n".join(f"CREATE TABLE `{t.name}` (\n" + ",\n".join(f"  {c} TEXT" for c in t.columns) + "\n);"
                           for t in self.tables)


@dataclass(frozen=True)
class Example:
    db: Database
    question: str
    gold_tables: tuple[str, ...]
    gold_columns: tuple[str, ...]  # "table.column"
    template: str
    split: str

    def gold_answer(self) -> str:
        """The target in the authors' format: ``###Tables: a;\\n###Columns: a.x, a.y;``."""
        return f"###Tables: {', '.join(self.gold_tables)};\n###Columns: {', '.join(self.gold_columns)};"

    def record(self) -> dict:
        return {"split": self.split, "db_id": self.db.db_id, "question": self.question,
                "tables": ", ".join(t.name for t in self.db.tables),
                "gold_tables": ", ".join(self.gold_tables), "gold_columns": ", ".join(self.gold_columns),
                "template": self.template, "n_items": len(self.db.items())}


def tokenize(text: str) -> list[str]:
    """Lower-case words; ``_`` and ``.`` split names (``song_release_year`` -> song, release, year)."""
    return text.lower().replace("_", " ").replace(".", " ").split()


def _surface(forms: tuple[str, ...], canonical_prob: float, rng: np.random.Generator) -> str:
    if len(forms) == 1 or rng.random() < canonical_prob:
        return forms[0]
    return forms[int(rng.integers(1, len(forms)))]


def make_database(db_id: str, entities: list[str], cfg: SchemaDataConfig, rng: np.random.Generator) -> Database:
    """One database over the given entity concepts (pool to draw from)."""
    n_tables = int(rng.integers(cfg.min_tables, cfg.max_tables + 1))
    chosen = rng.choice(len(entities), size=min(n_tables, len(entities)), replace=False)
    attrs = list(ATTRIBUTES)
    tables = []
    for i in chosen:
        entity = entities[int(i)]
        name = _surface(ENTITIES[entity], cfg.canonical_prob, rng)
        n_cols = int(rng.integers(cfg.min_columns, cfg.max_columns + 1))
        picked = [attrs[int(j)] for j in rng.choice(len(attrs), size=n_cols, replace=False)]
        columns = [f"{name}_id"] + [_surface(ATTRIBUTES[a], cfg.canonical_prob, rng) for a in picked]
        tables.append(Table(name=name, entity=entity, columns=tuple(columns), attributes=("id", *picked)))
    return Database(db_id=db_id, tables=tuple(tables))


def _mention(forms: tuple[str, ...], schema_name: str, synonym_prob: float, rng: np.random.Generator) -> str:
    others = [f for f in forms if f != schema_name]
    word = schema_name
    if others and rng.random() < synonym_prob:
        word = others[int(rng.integers(len(others)))]
    return word.replace("_", " ")


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else " , ".join(words[:-1]) + " and " + words[-1]


def make_question(db: Database, templates_one, templates_two, split: str, cfg: SchemaDataConfig,
                  rng: np.random.Generator) -> Example:
    """One question on ``db``: one or two tables, one to three attribute columns each."""
    if not db.tables:
        raise ValueError(f"database {db.db_id!r} has no tables (empty schema)")
    if any(len(t.columns) < 2 for t in db.tables):
        raise ValueError(f"database {db.db_id!r} has a table without attribute columns")
    two = len(db.tables) >= 2 and rng.random() < cfg.two_table_fraction
    idx = rng.choice(len(db.tables), size=2 if two else 1, replace=False)
    tables = [db.tables[int(i)] for i in idx]
    mentions_t, mentions_c, gold_c = [], [], []
    for t in tables:
        k = int(rng.integers(1, min(3, len(t.columns) - 1) + 1))
        cols = sorted(int(j) for j in rng.choice(np.arange(1, len(t.columns)), size=k, replace=False))
        mentions_t.append(_mention(ENTITIES[t.entity], t.name, cfg.synonym_prob, rng))
        mentions_c.append(_join([_mention(ATTRIBUTES[t.attributes[j]], t.columns[j], cfg.synonym_prob, rng)
                                 for j in cols]))
        gold_c.extend(f"{t.name}.{t.columns[j]}" for j in cols)
    if two:
        template = templates_two[int(rng.integers(len(templates_two)))]
        question = template.format(t1=mentions_t[0], t2=mentions_t[1], c1=mentions_c[0], c2=mentions_c[1])
    else:
        template = templates_one[int(rng.integers(len(templates_one)))]
        question = template.format(t=mentions_t[0], c=mentions_c[0])
    order = {t.name: i for i, t in enumerate(db.tables)}
    gold_t = tuple(sorted((t.name for t in tables), key=order.get))
    item_order = {it: i for i, (_, it, _) in enumerate(db.items())}
    return Example(db=db, question=question, gold_tables=gold_t,
                   gold_columns=tuple(sorted(gold_c, key=item_order.get)), template=template, split=split)


def make_splits(cfg: SchemaDataConfig, rng: np.random.Generator) -> dict[str, list[Example]]:
    """``{split: [Example, ...]}`` for the three splits of the module docstring."""
    names = list(ENTITIES)
    order = rng.permutation(len(names))
    n_held = int(round(cfg.heldout_entity_fraction * len(names)))
    train_entities = [names[int(i)] for i in order[n_held:]]
    if len(train_entities) < cfg.max_tables:
        raise ValueError(f"heldout_entity_fraction leaves {len(train_entities)} entities for training databases, "
                         f"fewer than max_tables={cfg.max_tables}")
    train_dbs = [make_database(f"train_{i}", train_entities, cfg, rng) for i in range(cfg.n_train_dbs)]
    test_dbs = [make_database(f"test_{i}", names, cfg, rng) for i in range(cfg.n_test_dbs)]
    out: dict[str, list[Example]] = {s: [] for s in SPLITS}
    for db in train_dbs:
        for _ in range(cfg.questions_per_db):
            out["train"].append(make_question(db, TRAIN_TEMPLATES_ONE, TRAIN_TEMPLATES_TWO, "train", cfg, rng))
        for _ in range(cfg.questions_per_db):
            out["unseen_paraphrase"].append(make_question(db, HELDOUT_TEMPLATES_ONE, HELDOUT_TEMPLATES_TWO,
                                                          "unseen_paraphrase", cfg, rng))
    for db in test_dbs:
        for _ in range(cfg.questions_per_db):
            out["unseen_schema"].append(make_question(db, TRAIN_TEMPLATES_ONE, TRAIN_TEMPLATES_TWO,
                                                      "unseen_schema", cfg, rng))
    return out


def seed_splits(cfg: SchemaDataConfig, seed: int) -> dict[str, list[Example]]:
    """The splits that seed ``seed`` of a schema-linking run draws (training, evaluation, ``generate``)."""
    return make_splits(cfg, integer_rng(seed, DATA_KEY))


def train_seeds(seed: int) -> dict[str, int]:
    """``{stream: integer}`` for the initial weights, the SFT / GRPO batch order and the GRPO samples of
    seed ``seed``: independent of each other and of the data stream (no integer seeds two streams)."""
    return stream_seeds(seed, TRAIN_STREAMS)


def questions(cfg: SchemaDataConfig, split: str = "all", seed: int = 0) -> list[Example]:
    """The questions of one of :data:`SPLIT_CHOICES` (``"all"``: every split, in order) drawn for ``seed``."""
    one_of(split, SPLIT_CHOICES, "split")
    splits = seed_splits(cfg, seed)
    return [e for s in (SPLITS if split == "all" else (split,)) for e in splits[s]]


def question_records(examples: list[Example]) -> pd.DataFrame:
    """One record per question (its split, database, text, tables, gold items), without the template."""
    return pd.DataFrame([{k: v for k, v in e.record().items() if k != "template"} for e in examples])


def write_jsonl(examples: list[Example], path) -> None:
    """One JSON line per question: its record, the schema as ``CREATE TABLE`` text and the gold answer."""
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        for e in examples:
            f.write(json.dumps({**e.record(), "schema": e.db.schema_text(), "answer": e.gold_answer()}) + "\n")


def vocabulary() -> list[str]:
    """Every word the generator can produce (names, synonyms, template words), sorted; index 0 is padding."""
    words = set()
    for forms in (*ENTITIES.values(), *ATTRIBUTES.values()):
        for f in forms:
            words.update(tokenize(f))
            words.update(tokenize(f + "_id"))
    for tpl in (*TRAIN_TEMPLATES_ONE, *HELDOUT_TEMPLATES_ONE, *TRAIN_TEMPLATES_TWO, *HELDOUT_TEMPLATES_TWO):
        for k in ("{c1}", "{c2}", "{t1}", "{t2}", "{c}", "{t}"):
            tpl = tpl.replace(k, " ")
        words.update(tokenize(tpl))
    words.update((",", "and"))
    return ["<pad>"] + sorted(words)

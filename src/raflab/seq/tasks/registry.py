"""Build a sequence task by name: :data:`TASKS` and :func:`make_task`."""

from __future__ import annotations

import numpy as np
from pydantic import ValidationError

from raflab.core.checks import describe_validation_error, one_of
from raflab.seq.tasks.chars import arithmetic_and_facts_task, arithmetic_task, facts_task
from raflab.seq.tasks.graphs import (
    kg_triplet_task,
    kg_walk_task,
    one_tail_per_pair,
    random_kg,
    sample_triplets,
    umls_graph,
    walk_triplets,
)
from raflab.seq.tasks.mqar import MQARConfig, mqar_task
from raflab.seq.tasks.random_strings import random_strings_task
from raflab.seq.tasks.tokens import SequenceTask

TASKS = ("arithmetic", "facts", "both", "mqar", "kg", "walks", "random")
KG_GRAPHS = ("random", "umls")  # a procedural graph (random_kg) or UMLS read from pykeen's files


def _kg_graph(graph: str, rng, num_entities, num_relations, num_triplets, umls_dir):
    if one_of(graph, KG_GRAPHS, "graph") == "random":
        return random_kg(num_entities, num_relations, 500 if num_triplets is None else num_triplets, rng), None, None
    triplets, entities, relations = umls_graph(umls_dir)
    facts = one_tail_per_pair(triplets, rng)  # the target a function of (head, relation)
    return (facts if num_triplets is None else sample_triplets(facts, num_triplets, rng)), entities, relations


def make_task(name: str, rng: np.random.Generator | None = None, **options) -> SequenceTask:
    """Build a task by name (one of ``TASKS``) with its options.

    - ``arithmetic``, ``facts``, ``both``: ``layout`` ('stream' or 'lines'); ``arithmetic`` and
      ``both`` also ``digits`` (operand digits: 1, the paper's, or 2).
    - ``mqar``: the fields of :class:`MQARConfig`.
    - ``kg``: ``graph`` ('random' or 'umls'), ``num_entities``, ``num_relations`` (random graph),
      ``num_triplets`` (random graph: its size, default 500; UMLS: a random subset of its facts
      of at most this size, default all), ``umls_dir``; ``walk_facts=True`` keeps only the facts
      that the ``walks`` task of the same options and rng teaches (with its ``num_walks``,
      ``min_edges``, ``max_edges``): triplets and walks of the same facts.
    - ``walks``: the ``kg`` options and ``num_walks``, ``min_edges``, ``max_edges``.
    - ``random``: ``num_strings``, ``length``, ``vocab_size``, ``num_heldout``.

    Examples
    --------
    >>> make_task("mqar", np.random.default_rng(0), num_examples=8, num_heldout=0).train.inputs.shape
    (8, 64)
    """
    one_of(name, TASKS, "task")
    char_tasks = {"arithmetic": arithmetic_task, "facts": facts_task, "both": arithmetic_and_facts_task}
    if name in char_tasks:
        allowed = {"layout"} if name == "facts" else {"layout", "digits"}
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise ValueError(f"task {name!r} takes only the option(s) {', '.join(sorted(allowed))}, "
                             f"got {', '.join(unknown)}")
        return char_tasks[name](**options)
    if rng is None:
        raise ValueError(f"task {name!r} is random: pass rng (a numpy Generator)")
    kg_defaults = {"graph": "random", "num_entities": 100, "num_relations": 10, "num_triplets": None,
                   "umls_dir": None}
    walk_options = {"num_walks", "min_edges", "max_edges"}
    allowed = {
        "mqar": set(MQARConfig.model_fields),
        "kg": set(kg_defaults) | walk_options | {"walk_facts"},
        "walks": set(kg_defaults) | walk_options,
        "random": {"num_strings", "length", "vocab_size", "num_heldout"},
    }[name]
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(unknown)} for task {name!r}; "
                         f"choose from {', '.join(sorted(allowed))}")
    if name == "mqar":
        try:
            config = MQARConfig(**options)
        except ValidationError as err:
            raise ValueError(describe_validation_error(err)) from None
        return mqar_task(config, rng)
    if name == "random":
        opts = {"num_strings": 1000, "length": 64, "vocab_size": 256, "num_heldout": 0, **options}
        return random_strings_task(rng=rng, **opts)
    kg = {k: options.pop(k, v) for k, v in kg_defaults.items()}
    triplets, entities, relations = _kg_graph(kg["graph"], rng, kg["num_entities"], kg["num_relations"],
                                              kg["num_triplets"], kg["umls_dir"])
    if kg["graph"] == "umls":
        # sizes from the names: keeping one tail per pair may drop the largest id
        sizes = {"num_entities": len(entities), "num_relations": len(relations)}
    else:
        sizes = {"num_entities": kg["num_entities"], "num_relations": kg["num_relations"]}
    graph = {"entity_names": entities, "relation_names": relations, **sizes}
    walk_facts = bool(options.pop("walk_facts", False))
    walk_opts = {"num_walks": 100, "min_edges": 3, "max_edges": 5, **options}
    if name == "kg" and not walk_facts:
        if options:
            raise ValueError(f"option(s) {', '.join(sorted(options))} of task 'kg' are read only with walk_facts=True")
        return kg_triplet_task(triplets, rng=rng, **graph)
    walks = kg_walk_task(triplets, rng=rng, **walk_opts, **graph)
    if name == "walks":
        return walks
    task = kg_triplet_task(walk_triplets(walks), **graph)
    task.info.update(walk_facts=True, num_walks=walk_opts["num_walks"])
    return task

"""Sequence tasks that separate rules from facts: pure functions of (config, numpy Generator) -> tokens.

Every task is a :class:`SequenceTask` of padded integer arrays ready for next-token training:
``inputs[n, t]`` is the token at position t and ``targets[n, t]`` the token to predict there
(``IGNORE_INDEX`` where nothing is trained), ``answer_mask[n, t]`` the positions scored for exact match.

Tasks (see the sequence-lab spec, sections 1-4):

- ``arithmetic``: every ``<a+b=c>`` and ``<a-b=c>`` with single digits a, b (200 lines), character
  level; the four lines combining 5 and 7 are held out (Barron & White, "Too Big to Think").
- ``facts``: the 50 lines "Capital of X is Y" (shipped as ``capitals.csv``).
- ``both``: the two, one vocabulary.
- ``mqar``: multi-query associative recall with Zoology's semantics (Arora et al.).
- ``kg``: knowledge-graph triplets, input [head, relation] -> target tail (Changalidis & Härmä).
- ``walks``: random walks on a knowledge graph, each (node, edge) pair used once.
- ``random``: uniformly random token strings, for capacity in bits (Morris et al.).

Character lines are framed as ``"\\n" + line + "\\n"`` and space-padded after the closing newline:
the leading newline plays the role of the previous line's end in the authors' nanoGPT stream (so the
first character is predicted, as there), the closing one terminates the line. The arithmetic task
keeps the paper's vocabulary of 17 characters and block of 9.

Example
-------
>>> task = arithmetic_task()
>>> task.train.inputs.shape, task.vocab_size, len(task.heldout.inputs)
((196, 9), 17, 4)
>>> decode(task, task.heldout.inputs[0])
'\\n<5+7=12>'
"""

from raflab.seq.tasks.chars import (
    CHAR_LAYOUTS,
    HELDOUT_DIGITS,
    NEWLINE,
    PAD_CHAR,
    arithmetic_and_facts_task,
    arithmetic_lines,
    arithmetic_task,
    capital_facts,
    decode,
    encode,
    facts_task,
)
from raflab.seq.tasks.graphs import (
    kg_triplet_task,
    kg_walk_task,
    one_tail_per_pair,
    random_kg,
    sample_triplets,
    umls_graph,
    umls_triplets,
    walk_triplets,
)
from raflab.seq.tasks.mqar import MQARConfig, mqar_task
from raflab.seq.tasks.random_strings import random_strings_task
from raflab.seq.tasks.registry import KG_GRAPHS, TASKS, make_task
from raflab.seq.tasks.tokens import IGNORE_INDEX, SequenceTask, TokenSplit

__all__ = [
    "CHAR_LAYOUTS", "HELDOUT_DIGITS", "IGNORE_INDEX", "KG_GRAPHS", "NEWLINE", "PAD_CHAR", "TASKS",
    "MQARConfig", "SequenceTask", "TokenSplit",
    "arithmetic_and_facts_task", "arithmetic_lines", "arithmetic_task", "capital_facts", "decode", "encode",
    "facts_task", "kg_triplet_task", "kg_walk_task", "make_task", "mqar_task", "one_tail_per_pair",
    "random_kg", "random_strings_task", "sample_triplets", "umls_graph", "umls_triplets", "walk_triplets",
]

"""Knowledge graphs: triplets [head, relation] -> tail (Changalidis & Härmä) and random walks on a graph,
each (node, edge) pair used once; the graph is procedural (:func:`random_kg`) or UMLS (:func:`umls_graph`)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np

from raflab.seq.tasks.tokens import IGNORE_INDEX, SequenceTask, TokenSplit


def random_kg(num_entities: int, num_relations: int, num_triplets: int, rng: np.random.Generator) -> np.ndarray:
    """A procedural knowledge graph: distinct (head, relation) pairs, each with one uniform random tail.

    The tail is a function of (head, relation), so the graph stores exactly
    ``num_triplets * log2(num_entities)`` bits.

    Returns
    -------
    ndarray of int64, shape (num_triplets, 3): columns head, relation, tail.
    """
    for name, value in (("num_entities", num_entities), ("num_relations", num_relations)):
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    pairs = num_entities * num_relations
    if not 1 <= num_triplets <= pairs:
        raise ValueError(f"num_triplets={num_triplets} must be in [1, num_entities*num_relations = {pairs}]")
    pair = rng.choice(pairs, size=num_triplets, replace=False)
    tail = rng.integers(0, num_entities, size=num_triplets)
    return np.stack([pair // num_relations, pair % num_relations, tail], axis=1).astype(np.int64)


def _pykeen_umls_dir() -> Path:
    # find_spec locates the package without importing it (pykeen's import pulls in torch and optuna)
    spec = importlib.util.find_spec("pykeen")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError("the UMLS graph is read from the installed pykeen package: pip install pykeen "
                         "(pip install --no-deps pykeen is enough: only its data files are read)")
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / "umls"


def umls_graph(directory: str | Path | None = None) -> tuple[np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """The UMLS graph (135 entities, 46 relations, 6,529 triples) with its entity and relation names.

    Read from pykeen's ``datasets/umls/{train,valid,test}.txt`` (tab-separated head, relation, tail),
    all three splits together; ids are the positions of the names in sorted order.
    ``directory`` reads the same files from elsewhere.
    """
    root = _pykeen_umls_dir() if directory is None else Path(directory)
    rows = []
    for split in ("train", "valid", "test"):
        path = root / f"{split}.txt"
        if not path.is_file():
            raise ValueError(f"UMLS file {path} not found (expected pykeen's datasets/umls/{split}.txt)")
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                parts = line.split("\t")
                if len(parts) != 3:
                    raise ValueError(f"{path}:{lineno}: expected head<TAB>relation<TAB>tail, got {line!r}")
                rows.append(parts)
    entities = tuple(sorted({r[0] for r in rows} | {r[2] for r in rows}))
    relations = tuple(sorted({r[1] for r in rows}))
    e_id = {e: i for i, e in enumerate(entities)}
    r_id = {r: i for i, r in enumerate(relations)}
    triplets = np.array([[e_id[h], r_id[r], e_id[t]] for h, r, t in rows], dtype=np.int64).reshape(-1, 3)
    return triplets, entities, relations


def umls_triplets(directory: str | Path | None = None) -> np.ndarray:
    """UMLS as (head, relation, tail) ids, shape (6529, 3); see :func:`umls_graph` for the names.

    Several tails may share a (head, relation): :func:`one_tail_per_pair` makes the target a function.
    """
    return umls_graph(directory)[0]


def _check_triplets(triplets) -> np.ndarray:
    t = np.asarray(triplets)
    if t.ndim != 2 or t.shape[1] != 3 or t.shape[0] == 0 or not np.issubdtype(t.dtype, np.integer):
        raise ValueError(f"triplets must be a non-empty integer array of shape (K, 3), got shape {t.shape} "
                         f"dtype {t.dtype}")
    if t.min() < 0:
        raise ValueError(f"triplet ids must be >= 0, got {int(t.min())}")
    return t.astype(np.int64)


def one_tail_per_pair(triplets, rng: np.random.Generator) -> np.ndarray:
    """Keep one uniformly chosen tail per (head, relation), as the Capacity paper samples one related concept.

    Rows come out sorted by (head, relation).
    """
    t = _check_triplets(triplets)
    t = t[rng.permutation(len(t))]
    # after the shuffle, the first occurrence of each pair is a uniform choice among its tails
    _, first = np.unique(t[:, :2], axis=0, return_index=True)
    return t[first]


def _is_functional(t: np.ndarray) -> bool:
    return len(np.unique(t[:, :2], axis=0)) == len(t)


def _kg_sizes(t: np.ndarray, num_entities, num_relations) -> tuple[int, int]:
    n_e = int(max(t[:, 0].max(), t[:, 2].max())) + 1 if num_entities is None else int(num_entities)
    n_r = int(t[:, 1].max()) + 1 if num_relations is None else int(num_relations)
    if max(t[:, 0].max(), t[:, 2].max()) >= n_e:
        raise ValueError(f"an entity id {int(max(t[:, 0].max(), t[:, 2].max()))} is >= num_entities={n_e}")
    if t[:, 1].max() >= n_r:
        raise ValueError(f"a relation id {int(t[:, 1].max())} is >= num_relations={n_r}")
    return n_e, n_r


def _kg_itos(entity_names, relation_names, n_e, n_r, extra=()) -> tuple[str, ...] | None:
    if entity_names is None or relation_names is None:
        return None
    if len(entity_names) != n_e or len(relation_names) != n_r:
        raise ValueError(f"got {len(entity_names)} entity and {len(relation_names)} relation names for "
                         f"{n_e} entities and {n_r} relations")
    return tuple(entity_names) + tuple(relation_names) + tuple(extra)


def kg_triplet_task(triplets, num_entities: int | None = None, num_relations: int | None = None,
                    rng: np.random.Generator | None = None, entity_names=None, relation_names=None) -> SequenceTask:
    """Triplet facts: input ``[head, relation]``, target ``tail`` at the relation's position.

    Entities are tokens ``0 .. E-1``, relations ``E .. E+R-1`` (sizes from the ids unless given).
    The target must be a function of (head, relation): pass ``rng`` to keep one tail per pair
    (:func:`one_tail_per_pair`) when the graph has several. No held-out set: capacity is counted on
    the training items.
    """
    t = _check_triplets(triplets)
    if not _is_functional(t):
        if rng is None:
            raise ValueError("some (head, relation) pairs have several tails; pass rng to keep one at random")
        t = one_tail_per_pair(t, rng)
    n_e, n_r = _kg_sizes(t, num_entities, num_relations)
    inputs = np.stack([t[:, 0], n_e + t[:, 1]], axis=1)
    targets = np.stack([np.full(len(t), IGNORE_INDEX), t[:, 2]], axis=1).astype(np.int64)
    split = TokenSplit(inputs, targets, targets != IGNORE_INDEX)
    info = {"num_entities": n_e, "num_relations": n_r, "num_triplets": len(t),
            "bits": len(t) * math.log2(n_e), "char_level": False}
    return SequenceTask("kg", n_e + n_r, 2, split, None,
                        _kg_itos(entity_names, relation_names, n_e, n_r), info)


def kg_walk_task(triplets, num_walks: int, min_edges: int = 3, max_edges: int = 5,
                 rng: np.random.Generator | None = None, num_entities: int | None = None,
                 num_relations: int | None = None, entity_names=None, relation_names=None) -> SequenceTask:
    """Random walks ``n0 e0 n1 e1 ... nk`` of ``min_edges..max_edges`` edges (length uniform).

    Each (node, edge) pair is used at most once over all walks, so every next node is determined
    by its (node, edge) prefix; those node positions are the trained targets (and scored), while
    the first node and the edges are free choices and get ``IGNORE_INDEX`` (as in the Capacity
    code, whose loss is on node positions only). Tokens as in
    :func:`kg_triplet_task`, plus a padding token ``E + R``. A walk that gets stuck before
    ``min_edges`` is dropped and its pairs returned to the pool.
    """
    if rng is None:
        raise ValueError("kg_walk_task draws random walks: pass rng (a numpy Generator)")
    if not 1 <= min_edges <= max_edges:
        raise ValueError(f"need 1 <= min_edges <= max_edges, got min_edges={min_edges}, max_edges={max_edges}")
    if num_walks < 1:
        raise ValueError(f"num_walks must be >= 1, got {num_walks}")
    t = _check_triplets(triplets)
    if not _is_functional(t):
        t = one_tail_per_pair(t, rng)
    n_e, n_r = _kg_sizes(t, num_entities, num_relations)
    if num_walks * min_edges > len(t):
        raise ValueError(f"num_walks={num_walks} walks of >= {min_edges} edges need more than the "
                         f"{len(t)} (node, edge) pairs of the graph")

    out_edges: dict[int, list[tuple[int, int]]] = {}  # node -> unused (relation, tail)
    for h, r, tail in t.tolist():
        out_edges.setdefault(h, []).append((r, tail))
    # nodes with an unused edge, kept as a list with swap-removal so that drawing a start is O(1)
    active = list(out_edges)
    slot = {node: i for i, node in enumerate(active)}

    def take(node: int) -> tuple[int, int]:
        edges = out_edges[node]
        i = int(rng.integers(len(edges)))
        edges[i], edges[-1] = edges[-1], edges[i]
        edge = edges.pop()
        if not edges:
            last = active.pop()
            if last != node:
                active[slot[node]] = last
                slot[last] = slot[node]
            del slot[node]
        return edge

    walks: list[list[int]] = []
    failures, max_failures = 0, 20 * num_walks + 1000
    while len(walks) < num_walks:
        if not active or failures > max_failures:
            raise ValueError(f"only {len(walks)} of num_walks={num_walks} walks of >= {min_edges} edges "
                             f"could be drawn without reusing a (node, edge) pair; ask for fewer")
        node = active[int(rng.integers(len(active)))]
        length = int(rng.integers(min_edges, max_edges + 1))
        walk, taken = [node], []
        while len(taken) < length and node in slot:
            r, tail = take(node)
            taken.append((node, r, tail))
            walk += [n_e + r, tail]
            node = tail
        if len(taken) < min_edges:
            for h, r, tail in taken:  # give the pairs back: the walk is dropped
                if h not in slot:
                    slot[h] = len(active)
                    active.append(h)
                out_edges[h].append((r, tail))
            failures += 1
            continue
        walks.append(walk)

    pad = n_e + n_r
    T = 2 * max_edges  # a walk of k edges has 2k + 1 tokens, all but the last are inputs
    inputs = np.full((num_walks, T), pad, dtype=np.int64)
    targets = np.full((num_walks, T), IGNORE_INDEX, dtype=np.int64)
    for i, walk in enumerate(walks):
        inputs[i, : len(walk) - 1] = walk[:-1]
        # position 2j+1 holds edge j and predicts node j+1
        targets[i, 1 : len(walk) - 1 : 2] = walk[2::2]
    split = TokenSplit(inputs, targets, targets != IGNORE_INDEX)
    info = {"num_entities": n_e, "num_relations": n_r, "num_triplets": len(t), "num_walks": num_walks,
            "edges_used": int(split.answer_mask.sum()), "pad_token": pad, "char_level": False}
    return SequenceTask("walks", n_e + n_r + 1, T, split, None,
                        _kg_itos(entity_names, relation_names, n_e, n_r, ("<pad>",)), info)


def walk_triplets(task: SequenceTask) -> np.ndarray:
    """The facts a walk task teaches: one (node, edge, next node) triplet per scored position of
    :func:`kg_walk_task`'s walks, in walk order; each (node, edge) pair appears once.

    A triplet task built from these (:func:`kg_triplet_task`) holds exactly the facts of the walks,
    one per item instead of chained: the paper's "triplets vs sequences" at equal facts.
    """
    if task.name != "walks" or "num_entities" not in task.info:
        raise ValueError(f"walk_triplets needs a walk task (kg_walk_task), got task {task.name!r}")
    n_e = task.info["num_entities"]
    inputs, targets = np.asarray(task.train.inputs), np.asarray(task.train.targets)
    rows, cols = np.nonzero(targets != IGNORE_INDEX)  # position 2j+1 holds edge j, after node j
    return np.stack([inputs[rows, cols - 1], inputs[rows, cols] - n_e, targets[rows, cols]],
                    axis=1).astype(np.int64)


def sample_triplets(triplets, num_triplets: int, rng: np.random.Generator) -> np.ndarray:
    """A uniform random subset of ``num_triplets`` rows (all rows, in their order, when there are no
    more than that): a real graph (UMLS) cut to the size a study asks for."""
    t = _check_triplets(triplets)
    if num_triplets < 1:
        raise ValueError(f"num_triplets must be >= 1, got {num_triplets}")
    if num_triplets >= len(t):
        return t
    return t[np.sort(rng.choice(len(t), size=num_triplets, replace=False))]

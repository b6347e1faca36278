"""Cross-modal personas (issue 12, part 3): one identity, two ways to name it.

An offline analogue of the synthetic persona data set of Wen et al., "Quantifying Cross-Modality
Memorization in Vision-Language Models" (arXiv 2506.05198). Everything is a pure function of a
:class:`PersonaConfig` and a numpy ``Generator``.

A persona has

- a *face code*: ``N_FACE_PARAMS`` discrete parameters with 3 levels each (background, head size,
  skin tone, hair length and tone, eye spacing and size, mouth width and height); any two personas
  differ in at least two of them, so no face is one augmentation away from another;
- a *face image*: the code rendered as a ``image_size`` x ``image_size`` grayscale picture
  (:func:`render_faces`); every view is augmented by a random shift of up to ``max_shift`` pixels, a
  brightness factor ``1 + U(-brightness, brightness)`` and Gaussian pixel noise of std ``noise``, and
  is cut into ``(image_size / patch_size)^2`` patches of ``patch_size^2`` pixels;
- a *name*: two tokens (first name, last name); first and last names are shared between personas,
  the pair is unique;
- *facts*: one value per attribute (``city``, ``job``, ``pet``, ... ; ``n_values`` each, uniform), and
  the city's country (every city lies in one of ``n_countries`` countries, a fixed random map).

Questions are rows of four arrays, the input of :class:`raflab.seq.cross_modal.models.JointModel`:

- ``patches`` (float32, ``(n_patches, patch_dim)``): the face, or zeros when the persona is named in
  text;
- ``has_image`` (bool): whether the patches are part of the input;
- ``tokens`` (int64, ``(3,)``): ``[first, last, relation]`` in text, ``[THIS, PAD, relation]`` with an
  image ("this person's city is ..."); a city-to-country fact is ``[city, PAD, IN_COUNTRY]``;
- ``answer`` (int64): the token to predict.

The training set (:func:`make_cross_modal_data`) holds, for every persona, the *alignment* questions
(image -> first name, image -> last name: a face paired with its name, as a caption would; and the
same questions in text, "the first name of <first> <last> is <first>", as a description would), the
city -> country facts, and the persona's facts in *one* modality only: a random half of the
non-bridge personas learns its facts from text (``source = text``), the other half from images
(``source = image``). The ``bridge_fraction`` of personas (the mitigation) learns its facts in both.
Two-hop questions (persona -> country of its city) are trained for a random ``two_hop_fraction`` of
the personas, in their source modality (both for bridges), so the model can learn to compose; the
other personas are asked them only at test time. Image rows use ``train_views`` augmented views each,
and every text row is repeated ``train_views`` times, so that each question weighs the same.

Test sets (fresh augmented views, ``test_views`` per image question) ask every fact through both
modalities; their ``source`` array says which modality taught it, so source and target accuracies are
masks of one evaluation.

Example
-------
>>> import numpy as np
>>> cfg = PersonaConfig(n_personas=16, train_views=2, test_views=1)
>>> data = make_cross_modal_data(cfg, np.random.default_rng(0))
>>> data.train["patches"].shape[1:], data.vocab.size
((16, 16), 73)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["ATTRIBUTES", "N_FACE_PARAMS", "PersonaConfig", "PersonaVocab", "Personas", "CrossModalData",
           "face_codes", "render_faces", "to_patches", "make_personas", "make_cross_modal_data"]

#: attribute names; the first (city) has a country, the bridge of the two-hop questions
ATTRIBUTES = ("city", "job", "pet", "hobby", "car", "food")
#: face parameters, each with 3 levels
N_FACE_PARAMS = 9
_LEVELS = 3
SOURCES = ("text", "image", "both")


class PersonaConfig(BaseModel):
    """Sizes of the persona world and of its augmentation.

    Examples
    --------
    >>> PersonaConfig(n_personas=100).n_patches
    16
    """

    model_config = ConfigDict(frozen=True)

    n_personas: int = Field(64, ge=4, le=4096, description="number of personas")
    n_attributes: int = Field(3, ge=1, le=len(ATTRIBUTES), description="facts per persona (city, job, pet, ...)")
    n_values: int = Field(16, ge=2, description="values per attribute")
    n_countries: int = Field(4, ge=2, description="countries the cities lie in")
    image_size: int = Field(16, ge=8, le=64, description="side of a face image in pixels")
    patch_size: int = Field(4, ge=1, description="side of a square patch in pixels")
    max_shift: int = Field(1, ge=0, le=4, description="augmentation: largest shift in pixels")
    brightness: float = Field(0.15, ge=0, lt=1, allow_inf_nan=False, description="augmentation: brightness jitter")
    noise: float = Field(0.05, ge=0, allow_inf_nan=False, description="augmentation: pixel noise std")
    bridge_fraction: float = Field(0.0, ge=0, le=1, allow_inf_nan=False,
                                   description="personas whose facts are trained in both modalities")
    shared_attributes: int = Field(0, ge=0, description="bridge facts: the last k attributes of every "
                                   "persona are taught in both modalities (transfer is measured on the others)")
    two_hop_fraction: float = Field(0.5, ge=0, le=1, allow_inf_nan=False,
                                    description="personas whose two-hop questions are trained")
    train_views: int = Field(8, ge=1, description="augmented views per image training question")
    test_views: int = Field(4, ge=1, description="augmented views per image test question")

    @model_validator(mode="after")
    def _check(self):
        if self.image_size % self.patch_size:
            raise ValueError(f"image_size {self.image_size} is not a multiple of patch_size {self.patch_size}")
        if self.shared_attributes >= self.n_attributes:
            raise ValueError(f"shared_attributes {self.shared_attributes} must be below n_attributes "
                             f"{self.n_attributes} (some facts must be taught in one modality)")
        if self.n_personas > _LEVELS ** (N_FACE_PARAMS - 1):
            raise ValueError(f"n_personas {self.n_personas} exceeds the {_LEVELS ** (N_FACE_PARAMS - 1)} "
                             "faces that differ in two parameters")
        return self

    @property
    def n_patches(self) -> int:
        return (self.image_size // self.patch_size) ** 2

    @property
    def patch_dim(self) -> int:
        return self.patch_size ** 2

    @property
    def n_names(self) -> int:
        """First names (= last names) available: enough for unique pairs with room to spare."""
        return max(4, math.ceil(math.sqrt(2 * self.n_personas)))


@dataclass(frozen=True)
class PersonaVocab:
    """Token layout: specials, relations, first names, last names, attribute values, countries."""

    n_attributes: int
    n_values: int
    n_countries: int
    n_names: int

    PAD = 0
    THIS = 1  # "this person": the subject is the image
    ASK_FIRST = 2
    ASK_LAST = 3
    ASK_COUNTRY = 4  # two-hop: the country of the persona's city
    IN_COUNTRY = 5  # one hop: the country of a city token
    N_SPECIAL = 6

    def relation(self, a: int) -> int:
        return self.N_SPECIAL + a

    def first(self, i) -> np.ndarray:
        return self.N_SPECIAL + self.n_attributes + np.asarray(i)

    def last(self, i) -> np.ndarray:
        return self.N_SPECIAL + self.n_attributes + self.n_names + np.asarray(i)

    def value(self, a: int, v) -> np.ndarray:
        return self.N_SPECIAL + self.n_attributes + 2 * self.n_names + a * self.n_values + np.asarray(v)

    def country(self, c) -> np.ndarray:
        return self.N_SPECIAL + self.n_attributes + 2 * self.n_names + self.n_attributes * self.n_values \
            + np.asarray(c)

    @property
    def size(self) -> int:
        return int(self.country(self.n_countries))


@dataclass(frozen=True)
class Personas:
    """The persona world: face codes, names, fact values, the city -> country map, the roles."""

    codes: np.ndarray  # (P, N_FACE_PARAMS) levels in 0..2
    first: np.ndarray  # (P,) first-name index
    last: np.ndarray  # (P,) last-name index
    values: np.ndarray  # (P, n_attributes) value index per attribute
    city_country: np.ndarray  # (n_values,) country of each city
    source: np.ndarray  # (P,) 'text' | 'image' | 'both' (bridge): where the facts are taught
    two_hop_train: np.ndarray  # (P,) bool: two-hop questions trained for this persona

    @property
    def country(self) -> np.ndarray:
        return self.city_country[self.values[:, 0]]


def face_codes(n: int, rng: np.random.Generator, min_distance: int = 2) -> np.ndarray:
    """n distinct face codes, any two differing in at least ``min_distance`` of the parameters."""
    codes: list[np.ndarray] = []
    tries = 0
    while len(codes) < n:
        tries += 1
        if tries > 200 * n + 10_000:
            raise ValueError(f"could not draw {n} faces {min_distance} parameters apart")
        c = rng.integers(0, _LEVELS, N_FACE_PARAMS)
        if all(np.count_nonzero(c != o) >= min_distance for o in codes):
            codes.append(c)
    return np.array(codes, dtype=np.int64).reshape(n, N_FACE_PARAMS)


def _draw_face(code: np.ndarray, canvas: int, size: int) -> np.ndarray:
    """The clean face of one code on a ``canvas`` x ``canvas`` grid (the image centred in it)."""
    bg, head, skin, hair_len, hair_tone, eye_sep, eye_size, mouth_w, mouth_y = (int(v) for v in code)
    yy, xx = np.mgrid[0:canvas, 0:canvas] + 0.5
    c = canvas / 2
    s = size
    img = np.full((canvas, canvas), (0.0, 0.15, 0.3)[bg])
    r = s * (0.28, 0.34, 0.40)[head]
    face = (xx - c) ** 2 / (0.85 * r) ** 2 + (yy - c) ** 2 / r**2 <= 1
    img[face] = (0.45, 0.65, 0.85)[skin]
    top = c - r
    hair = face & (yy < top + r * (0.3, 0.55, 0.8)[hair_len])
    img[hair] = (0.05, 0.3, 1.0)[hair_tone]
    er = (0.8, 1.2, 1.6)[eye_size] * s / 16
    dx = s * (0.1, 0.15, 0.2)[eye_sep]
    ey = c - 0.1 * r
    for sign in (-1, 1):
        img[(xx - c - sign * dx) ** 2 + (yy - ey) ** 2 <= er**2] = 0.0
    mw = s * (0.08, 0.14, 0.2)[mouth_w]
    my = c + r * (0.35, 0.5, 0.65)[mouth_y]
    img[(np.abs(xx - c) <= mw) & (np.abs(yy - my) <= 0.6 * s / 16)] = 0.1
    return img


def render_faces(codes: np.ndarray, n_views: int, rng: np.random.Generator, size: int = 16,
                 max_shift: int = 1, brightness: float = 0.15, noise: float = 0.05) -> np.ndarray:
    """``(len(codes), n_views, size, size)`` float32 augmented views of the faces.

    Each view is the clean face cropped at a random shift in ``[-max_shift, max_shift]^2``, times
    ``1 + U(-brightness, brightness)``, plus N(0, noise^2) per pixel (not clipped: the noise is part
    of the input distribution, not a picture to display).
    """
    if n_views < 1:
        raise ValueError(f"n_views must be >= 1, got {n_views}")
    codes = np.atleast_2d(codes)
    canvas = size + 2 * max_shift
    out = np.empty((len(codes), n_views, size, size), dtype=np.float32)
    for i, code in enumerate(codes):
        clean = _draw_face(code, canvas, size)
        shifts = rng.integers(0, 2 * max_shift + 1, size=(n_views, 2))
        gain = 1 + rng.uniform(-brightness, brightness, size=n_views)
        for v in range(n_views):
            dy, dx = shifts[v]
            out[i, v] = gain[v] * clean[dy:dy + size, dx:dx + size]
        out[i] += noise * rng.standard_normal((n_views, size, size))
    return out


def to_patches(images: np.ndarray, patch_size: int) -> np.ndarray:
    """``(..., H, W)`` -> ``(..., (H/p) (W/p), p^2)``: row-major non-overlapping patches."""
    *lead, h, w = images.shape
    p = patch_size
    x = images.reshape(*lead, h // p, p, w // p, p)
    x = np.moveaxis(x, -3, -2)  # (..., H/p, W/p, p, p)
    return np.ascontiguousarray(x.reshape(*lead, (h // p) * (w // p), p * p))


def make_personas(config: PersonaConfig, rng: np.random.Generator) -> Personas:
    """Draw the persona world and the roles (source modality, bridge, two-hop training)."""
    P = config.n_personas
    codes = face_codes(P, rng)
    pairs = rng.choice(config.n_names**2, size=P, replace=False)
    values = rng.integers(0, config.n_values, size=(P, config.n_attributes))
    # every country has a city: a permutation covers the first n_countries cities' countries
    city_country = rng.permutation(np.arange(config.n_values) % config.n_countries)
    order = rng.permutation(P)
    n_bridge = int(round(config.bridge_fraction * P))
    source = np.empty(P, dtype=object)
    source[order[:n_bridge]] = "both"
    rest = order[n_bridge:]
    source[rest[: len(rest) // 2]] = "text"
    source[rest[len(rest) // 2:]] = "image"
    two_hop_train = np.zeros(P, dtype=bool)
    two_hop_train[rng.choice(P, size=int(round(config.two_hop_fraction * P)), replace=False)] = True
    return Personas(codes, pairs // config.n_names, pairs % config.n_names, values, city_country,
                    source.astype(str), two_hop_train)


@dataclass(frozen=True)
class CrossModalData:
    """Training arrays and named test sets; each a dict of equal-length arrays (see the module doc)."""

    config: PersonaConfig
    vocab: PersonaVocab
    personas: Personas
    train: dict[str, np.ndarray]
    tests: dict[str, dict[str, np.ndarray]]


def _questions(personas: Personas, vocab: PersonaVocab, people: np.ndarray, modality: str, kind: str):
    """Token rows and answers of one kind of question about ``people`` asked in ``modality``."""
    n_attr = personas.values.shape[1]
    rows, answers, who, attr = [], [], [], []
    for p in people:
        subject = ([int(vocab.first(personas.first[p])), int(vocab.last(personas.last[p]))]
                   if modality == "text" else [vocab.THIS, vocab.PAD])
        if kind == "fact":
            for a in range(n_attr):
                rows.append(subject + [vocab.relation(a)])
                answers.append(int(vocab.value(a, personas.values[p, a])))
                who.append(p)
                attr.append(a)
        elif kind == "align":
            rows += [subject + [vocab.ASK_FIRST], subject + [vocab.ASK_LAST]]
            answers += [int(vocab.first(personas.first[p])), int(vocab.last(personas.last[p]))]
            who += [p, p]
            attr += [-1, -1]
        elif kind == "two_hop":
            rows.append(subject + [vocab.ASK_COUNTRY])
            answers.append(int(vocab.country(personas.country[p])))
            who.append(p)
            attr.append(-1)
        else:  # pragma: no cover - internal
            raise ValueError(kind)
    return (np.array(rows, dtype=np.int64).reshape(-1, 3), np.array(answers, dtype=np.int64),
            np.array(who, dtype=np.int64), np.array(attr, dtype=np.int64))


def _rows(config, personas, vocab, faces_of, people, modality, kind, n_views, rng) -> dict[str, np.ndarray]:
    """Question rows: an image question once per fresh view, a text question ``n_views`` times."""
    tokens, answer, who, attr = _questions(personas, vocab, people, modality, kind)
    k = len(answer)
    tokens, answer, who, attr = (np.repeat(x, n_views, axis=0) for x in (tokens, answer, who, attr))
    if modality == "image" and k:
        views = faces_of(who, rng)
        patches = to_patches(views, config.patch_size)
    else:
        patches = np.zeros((len(answer), config.n_patches, config.patch_dim), dtype=np.float32)
    return {"patches": patches, "tokens": tokens, "has_image": np.full(len(answer), modality == "image"),
            "answer": answer, "persona": who, "attribute": attr}


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    parts = [p for p in parts if len(p["answer"])]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def make_cross_modal_data(config: PersonaConfig, rng: np.random.Generator) -> CrossModalData:
    """The persona world, its training set and its test sets (see the module doc).

    ``train`` has the model inputs (``patches``, ``tokens``, ``has_image``, ``answer``) plus
    ``persona`` and ``attribute`` (-1 for non-fact rows) for bookkeeping. ``tests`` has

    - ``facts_text`` / ``facts_image``: every persona's facts asked in text / through fresh views;
    - ``two_hop_text`` / ``two_hop_image``: every persona's two-hop question in both modalities;
    - ``align``: image -> name questions on fresh views;

    each with a ``source`` array (the persona's source modality) and ``two_hop_train``.
    """
    personas = make_personas(config, rng)
    vocab = PersonaVocab(config.n_attributes, config.n_values, config.n_countries, config.n_names)
    everyone = np.arange(config.n_personas)

    def faces_of(who, r):
        # one fresh view per row: render each row's persona once, then gather
        views = render_faces(personas.codes[who], 1, r, config.image_size, config.max_shift,
                             config.brightness, config.noise)
        return views[:, 0]

    V = config.train_views
    parts = [_rows(config, personas, vocab, faces_of, everyone, m, "align", V, rng) for m in ("image", "text")]
    for modality in ("text", "image"):
        learners = everyone[(personas.source == modality) | (personas.source == "both")]
        parts.append(_rows(config, personas, vocab, faces_of, learners, modality, "fact", V, rng))
        if config.shared_attributes:
            others = np.setdiff1d(everyone, learners)
            rows = _rows(config, personas, vocab, faces_of, others, modality, "fact", V, rng)
            keep = rows["attribute"] >= config.n_attributes - config.shared_attributes
            parts.append({k: v[keep] for k, v in rows.items()})
        parts.append(_rows(config, personas, vocab, faces_of, learners[personas.two_hop_train[learners]],
                           modality, "two_hop", V, rng))
    # city -> country, in text (one row per city)
    cities = np.arange(config.n_values)
    tokens = np.stack([vocab.value(0, cities), np.full_like(cities, vocab.PAD),
                       np.full_like(cities, vocab.IN_COUNTRY)], axis=1)
    parts.append({"patches": np.zeros((len(cities) * V, config.n_patches, config.patch_dim), np.float32),
                  "tokens": np.repeat(tokens, V, axis=0), "has_image": np.zeros(len(cities) * V, bool),
                  "answer": np.repeat(vocab.country(personas.city_country), V),
                  "persona": np.full(len(cities) * V, -1), "attribute": np.full(len(cities) * V, -1)})
    train = _concat(parts)

    tests = {}
    T = config.test_views
    for modality in ("text", "image"):
        n = T if modality == "image" else 1
        for kind, name in (("fact", "facts"), ("two_hop", "two_hop")):
            t = _rows(config, personas, vocab, faces_of, everyone, modality, kind, n, rng)
            t["source"] = personas.source[t["persona"]]
            t["two_hop_train"] = personas.two_hop_train[t["persona"]]
            tests[f"{name}_{modality}"] = t
    t = _rows(config, personas, vocab, faces_of, everyone, "image", "align", T, rng)
    t["source"] = personas.source[t["persona"]]
    t["two_hop_train"] = personas.two_hop_train[t["persona"]]
    tests["align"] = t
    return CrossModalData(config, vocab, personas, train, tests)

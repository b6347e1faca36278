import numpy as np
import pytest
from pydantic import ValidationError

from raflab.seq.cross_modal.data import (
    N_FACE_PARAMS,
    PersonaConfig,
    face_codes,
    make_cross_modal_data,
    make_personas,
    render_faces,
    to_patches,
)

SMALL = PersonaConfig(n_personas=20, n_attributes=3, n_values=6, n_countries=3, image_size=12,
                      bridge_fraction=0.2, two_hop_fraction=0.5, train_views=3, test_views=2)


def test_same_seed_same_data_other_seed_other_data():
    a, b = (make_cross_modal_data(SMALL, np.random.default_rng(5)) for _ in range(2))
    c = make_cross_modal_data(SMALL, np.random.default_rng(6))
    for k in a.train:
        np.testing.assert_array_equal(a.train[k], b.train[k])
    for name in a.tests:
        for k in a.tests[name]:
            np.testing.assert_array_equal(a.tests[name][k], b.tests[name][k])
    assert not np.array_equal(a.personas.values, c.personas.values)


def test_faces_are_distinct_and_two_parameters_apart():
    codes = face_codes(200, np.random.default_rng(0))
    assert codes.shape == (200, N_FACE_PARAMS) and codes.min() >= 0 and codes.max() <= 2
    diff = (codes[:, None, :] != codes[None, :, :]).sum(-1)
    np.fill_diagonal(diff, N_FACE_PARAMS)
    assert diff.min() >= 2


def test_names_unique_and_roles_counted():
    p = make_personas(SMALL, np.random.default_rng(1))
    assert len(set(zip(p.first, p.last))) == SMALL.n_personas
    roles = dict(zip(*np.unique(p.source, return_counts=True)))
    # 20 personas: round(0.2 * 20) = 4 bridges, the other 16 split 8 / 8
    assert roles == {"both": 4, "text": 8, "image": 8}
    assert p.two_hop_train.sum() == 10
    # every country has at least one city
    assert set(p.city_country) == set(range(SMALL.n_countries))


def test_augmented_views_stay_closest_to_their_own_face():
    """Views differ (augmentation) but a view is nearer its own clean face than any other's."""
    cfg = SMALL
    codes = face_codes(30, np.random.default_rng(2))
    clean = render_faces(codes, 1, np.random.default_rng(0), cfg.image_size, max_shift=0, brightness=0, noise=0)[:, 0]
    views = render_faces(codes, 4, np.random.default_rng(3), cfg.image_size, max_shift=0, brightness=0.1,
                         noise=0.05)
    assert not np.allclose(views[:, 0], views[:, 1])
    d = ((views[:, :, None] - clean[None, None]) ** 2).sum((-1, -2))  # (face, view, clean face)
    assert (d.argmin(-1) == np.arange(30)[:, None]).all()
    # a shift of one pixel is a real change of the picture
    shifted = render_faces(codes[:1], 50, np.random.default_rng(4), cfg.image_size, max_shift=1, brightness=0, noise=0)
    assert len({v.tobytes() for v in shifted[0]}) > 1


def test_patches_round_trip():
    img = np.arange(2 * 12 * 12, dtype=np.float32).reshape(2, 12, 12)
    p = to_patches(img, 4)
    assert p.shape == (2, 9, 16)
    np.testing.assert_array_equal(p[1, 4].reshape(4, 4), img[1, 4:8, 4:8])  # patch (1, 1)
    np.testing.assert_array_equal(p[0, 2].reshape(4, 4), img[0, 0:4, 8:12])  # patch (0, 2)


def test_training_set_teaches_each_fact_in_its_source_modality_only():
    data = make_cross_modal_data(SMALL, np.random.default_rng(3))
    tr, p, V = data.train, data.personas, SMALL.train_views
    facts = tr["attribute"] >= 0
    taught = np.where(tr["has_image"], "image", "text")[facts]
    src = p.source[tr["persona"][facts]]
    assert np.all((src == "both") | (src == taught))
    # each persona's facts appear n_attributes * train_views times per teaching modality
    per = np.bincount(tr["persona"][facts], minlength=SMALL.n_personas)
    expected = SMALL.n_attributes * V * np.where(p.source == "both", 2, 1)
    np.testing.assert_array_equal(per, expected)
    # alignment: image -> first and last name for everybody, answers are the persona's name tokens
    align = (tr["tokens"][:, 2] == data.vocab.ASK_FIRST) | (tr["tokens"][:, 2] == data.vocab.ASK_LAST)
    assert align.sum() == 4 * V * SMALL.n_personas and tr["has_image"][align].sum() == 2 * V * SMALL.n_personas
    first = tr["tokens"][:, 2] == data.vocab.ASK_FIRST
    np.testing.assert_array_equal(tr["answer"][first], data.vocab.first(p.first[tr["persona"][first]]))
    # the answers of fact rows are the persona's values; text rows name the persona
    rows = np.flatnonzero(facts & ~tr["has_image"])
    np.testing.assert_array_equal(tr["answer"][rows],
                                  data.vocab.value(tr["attribute"][rows], p.values[tr["persona"][rows],
                                                                                 tr["attribute"][rows]]))
    np.testing.assert_array_equal(tr["tokens"][rows, 0], data.vocab.first(p.first[tr["persona"][rows]]))
    assert not tr["patches"][~tr["has_image"]].any()
    # two-hop training rows only for the two-hop personas, with the country of their city
    hop = tr["tokens"][:, 2] == data.vocab.ASK_COUNTRY
    assert p.two_hop_train[tr["persona"][hop]].all()
    np.testing.assert_array_equal(tr["answer"][hop], data.vocab.country(p.country[tr["persona"][hop]]))
    assert tr["answer"].max() < data.vocab.size and tr["tokens"].max() < data.vocab.size


def test_test_sets_ask_every_fact_in_both_modalities():
    data = make_cross_modal_data(SMALL, np.random.default_rng(4))
    ft, fi = data.tests["facts_text"], data.tests["facts_image"]
    assert len(ft["answer"]) == SMALL.n_personas * SMALL.n_attributes
    assert len(fi["answer"]) == SMALL.n_personas * SMALL.n_attributes * SMALL.test_views
    assert fi["has_image"].all() and not ft["has_image"].any()
    assert (fi["tokens"][:, 0] == data.vocab.THIS).all()
    # test views are fresh: none equals a training view
    train_views = {v.tobytes() for v in data.train["patches"][data.train["has_image"]]}
    assert not any(v.tobytes() in train_views for v in fi["patches"])


def test_bad_config_is_one_clear_error():
    with pytest.raises(ValidationError, match="patch_size"):
        PersonaConfig(image_size=14, patch_size=4)
    with pytest.raises(ValidationError, match="bridge_fraction"):
        PersonaConfig(bridge_fraction=1.5)
    with pytest.raises(ValueError, match="n_views"):
        render_faces(face_codes(2, np.random.default_rng(0)), 0, np.random.default_rng(0))


def test_shared_attributes_are_taught_in_both_modalities_and_the_rest_in_one():
    """Bridge facts: with shared_attributes=1 every persona's last attribute is taught through its
    face and its name; the first two stay in the source modality only; nothing else changes."""
    cfg = SMALL.model_copy(update={"shared_attributes": 1, "bridge_fraction": 0.0})
    data = make_cross_modal_data(cfg, np.random.default_rng(1))
    tr = data.train
    facts = tr["attribute"] >= 0
    taught = {(int(p), int(a), "image" if img else "text")
              for p, a, img in zip(tr["persona"][facts], tr["attribute"][facts], tr["has_image"][facts])}
    for p, source in enumerate(data.personas.source):
        other = "image" if source == "text" else "text"
        for a in range(3):
            assert (p, a, source) in taught
            assert ((p, a, other) in taught) == (a == 2), (p, a, source)
    plain = make_cross_modal_data(SMALL.model_copy(update={"bridge_fraction": 0.0}), np.random.default_rng(1))
    assert len(tr["answer"]) == len(plain.train["answer"]) + cfg.n_personas * cfg.train_views
    with pytest.raises(ValidationError, match="shared_attributes"):
        PersonaConfig(n_attributes=2, shared_attributes=2)

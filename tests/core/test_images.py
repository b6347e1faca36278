import pickle

import numpy as np
import pytest

from raflab.core.images import load_images, read_idx


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_mnist_idx_round_trip(tmp_path, gz, name, write_idx):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    write_idx(tmp_path / "train-images-idx3-ubyte", images, gz)
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels, gz)
    X, y = load_images(name, tmp_path)
    assert X.shape == (5, 1, 28, 28) and X.dtype == np.float32
    np.testing.assert_allclose(X[:, 0] * 255, images, atol=1e-4)
    np.testing.assert_array_equal(y, [3, 1, 4, 1, 5])


def test_cifar10_pickle_batches(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(1)
    all_data = []
    for i in range(1, 6):
        data = rng.integers(0, 256, size=(2, 3072), dtype=np.uint8)
        all_data.append(data)
        with open(folder / f"data_batch_{i}", "wb") as f:
            pickle.dump({b"data": data, b"labels": [i, i + 1]}, f)
    X, y = load_images("cifar10", tmp_path)
    assert X.shape == (10, 3, 32, 32)
    np.testing.assert_allclose(X.reshape(10, -1) * 255, np.concatenate(all_data), atol=1e-4)
    assert y.tolist() == [1, 2, 2, 3, 3, 4, 4, 5, 5, 6]


def test_digits_bundled():
    X, y = load_images("digits")
    assert X.shape == (1797, 1, 8, 8) and X.min() == 0.0 and X.max() == 1.0 and set(y) == set(range(10))


def test_missing_files_and_bad_names(tmp_path):
    with pytest.raises(ValueError, match="train-images-idx3-ubyte"):
        load_images("mnist", tmp_path)
    with pytest.raises(ValueError, match="data_batch_1"):
        load_images("cifar10", tmp_path)
    with pytest.raises(ValueError, match="unknown image data set"):
        load_images("svhn", tmp_path)
    with pytest.raises(ValueError, match="--data-dir"):
        load_images("mnist")
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="not an idx file"):
        read_idx(tmp_path / "bad")

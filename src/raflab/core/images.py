"""Image data sets for the diffusion experiments (issue 7), never downloaded at run time.

- ``digits``: scikit-learn's bundled 8x8 digits (1797 images, no files needed);
- ``mnist`` / ``fashion-mnist``: the idx ubyte files (``train-images-idx3-ubyte`` and friends,
  gzipped or not) that the user already has in ``data_dir``;
- ``cifar10``: the python pickle batches (``data_batch_1`` .. ``data_batch_5``, ``test_batch``) in
  ``data_dir`` or ``data_dir/cifar-10-batches-py``.

Every loader returns ``(images, labels)``: float32 images of shape ``(n, C, H, W)`` scaled to
[0, 1], and int64 labels. A ``data_dir`` without the expected files is a ValueError naming them.

Example
-------
>>> X, y = load_images("digits")
>>> X.shape, float(X.max())
((1797, 1, 8, 8), 1.0)
"""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np

from raflab.core.checks import one_of

IMAGE_DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10")
IMAGE_SPLITS = ("train", "test")
_IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_CIFAR_FILES = {"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)}


def _check_split(split: str) -> None:
    one_of(split, IMAGE_SPLITS, "split")


def _find(data_dir: Path, names: tuple[str, ...], subdirs: tuple[str, ...], dataset: str) -> list[Path]:
    """The files ``names`` (each possibly ``.gz``) in ``data_dir`` or one of its ``subdirs``."""
    for folder in (data_dir, *(data_dir / s for s in subdirs)):
        found = []
        for name in names:
            hits = [folder / name, folder / f"{name}.gz"]
            found.append(next((h for h in hits if h.is_file()), None))
        if all(found):
            return found
    raise ValueError(f"{dataset}: {data_dir} does not contain {', '.join(names)} (gzipped or not); "
                     f"raflab never downloads data, put the files there")


def read_idx(path: str | Path) -> np.ndarray:
    """One idx file (the MNIST format: big-endian magic, dims, then the array), ``.gz`` or not."""
    path = Path(path)
    raw = (gzip.open if path.suffix == ".gz" else open)(path, "rb").read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path} is not an idx file (bad magic number)")
    dtypes = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if raw[2] not in dtypes:
        raise ValueError(f"{path}: unknown idx element type 0x{raw[2]:02x}")
    ndim = raw[3]
    shape = tuple(int(v) for v in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    data = np.frombuffer(raw, dtypes[raw[2]], offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says shape {shape} but holds {data.size} values")
    return data.reshape(shape)


def load_mnist(data_dir: str | Path, split: str = "train", name: str = "mnist"):
    """MNIST or Fashion-MNIST (same file names) from ``data_dir``; ``(n, 1, 28, 28)`` in [0, 1]."""
    _check_split(split)
    data_dir = Path(data_dir)
    subdirs = ("MNIST/raw", "FashionMNIST/raw", "raw")
    images_file, labels_file = _find(data_dir, _IDX_FILES[split], subdirs, name)
    images, labels = read_idx(images_file), read_idx(labels_file)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(f"{name}: {images_file.name} / {labels_file.name} have shapes {images.shape} "
                         f"and {labels.shape}, expected (n, H, W) and (n,)")
    return (images[:, None].astype(np.float32) / 255.0), labels.astype(np.int64)


def load_cifar10(data_dir: str | Path, split: str = "train"):
    """CIFAR-10 python batches from ``data_dir``; ``(n, 3, 32, 32)`` in [0, 1]."""
    _check_split(split)
    files = _find(Path(data_dir), _CIFAR_FILES[split], ("cifar-10-batches-py",), "cifar10")
    images, labels = [], []
    for f in files:
        with (gzip.open if f.suffix == ".gz" else open)(f, "rb") as fh:
            batch = pickle.load(fh, encoding="bytes")
        images.append(np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
        labels.append(np.asarray(batch[b"labels"], dtype=np.int64))
    return np.concatenate(images).astype(np.float32) / 255.0, np.concatenate(labels)


def load_digits_images():
    """scikit-learn's bundled 8x8 digits, ``(1797, 1, 8, 8)`` in [0, 1] (pixel values 0..16 / 16)."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return (bunch.images[:, None] / 16.0).astype(np.float32), bunch.target.astype(np.int64)


def load_images(name: str, data_dir: str | Path | None = None, split: str = "train"):
    """``(images, labels)`` of one of :data:`IMAGE_DATASETS`.

    Parameters
    ----------
    name : str
        ``digits`` | ``mnist`` | ``fashion-mnist`` | ``cifar10``.
    data_dir : path, optional
        Folder with the files (not needed for ``digits``).
    split : str
        ``train`` or ``test`` (``digits`` has a single split and ignores it).
    """
    one_of(name, IMAGE_DATASETS, "image data set")
    if name == "digits":
        return load_digits_images()
    if data_dir is None:
        raise ValueError(f"{name} is read from files you already have: pass --data-dir (never downloaded)")
    if not Path(data_dir).is_dir():
        raise ValueError(f"data dir {data_dir} does not exist")
    if name == "cifar10":
        return load_cifar10(data_dir, split)
    return load_mnist(data_dir, split, name)

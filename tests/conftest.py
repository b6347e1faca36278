"""Shared test helpers (fixtures: conftest files are found under --import-mode=importlib)."""

import gzip
import struct

import numpy as np
import pytest


def _write_idx(path, array, gz=False):
    """An idx ubyte file in the official MNIST format (big-endian magic 0x0000 08 ndim, dims, bytes)."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + np.asarray(array).astype(np.uint8).tobytes()
    if gz:
        with gzip.open(str(path) + ".gz", "wb") as f:
            f.write(payload)
    else:
        path.write_bytes(payload)


@pytest.fixture(scope="session")
def write_idx():
    return _write_idx

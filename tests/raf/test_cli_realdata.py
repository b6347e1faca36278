"""``raflab realdata``: records, figure, the mnist loader path on idx files the test writes, and
bad input (one line, exit 2)."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from raflab.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def mnist_dir(tmp_path_factory, write_idx):
    """Tiny MNIST: classes 0, 1, 2 (60 training images each), 20 test images of each rule class.
    Each class is a bright square at its own place plus noise, so the rule is learnable."""
    folder = tmp_path_factory.mktemp("mnist")
    rng = np.random.default_rng(0)

    def images(classes):
        out = rng.integers(0, 60, size=(len(classes), 28, 28))
        for img, c in zip(out, classes):
            img[4 + 7 * c:11 + 7 * c, 8:20] += 150
        return out

    train_labels = np.repeat([0, 1, 2], 60)
    rng.shuffle(train_labels)
    test_labels = np.repeat([0, 1], 20)
    write_idx(folder / "train-images-idx3-ubyte", images(train_labels), gz=True)
    write_idx(folder / "train-labels-idx1-ubyte", train_labels, gz=True)
    write_idx(folder / "t10k-images-idx3-ubyte", images(test_labels))
    write_idx(folder / "t10k-labels-idx1-ubyte", test_labels)
    return folder


def test_digits_records_and_figure(tmp_path):
    out = tmp_path / "realdata.png"
    r = runner.invoke(app, ["realdata", "--alpha", "1", "--eps", "0.2", "--lam", "0.01,1", "--seeds", "2",
                            "--format", "json", "--out", str(out)])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert len(rows) == 4 and {x["model"] for x in rows} == {"kernel", "linear"}
    for x in rows:
        assert x["data"] == "digits" and x["rule"] == "3,5" and x["facts"] == "1" and x["loss"] == "square"
        assert x["d"] == 64 and x["n"] == 64 and x["n_seeds"] == 2 and x["gen_error_stderr"] is not None
        assert 0 <= x["fact_memorization_error"] <= 1
        assert (x["rbf_gamma"] is None) == (x["kernel"] == "linear")
    assert out.exists() and out.stat().st_size > 10_000


def test_mnist_files_through_the_loader(mnist_dir):
    """The idx files (train gzipped, test not) go through raflab.core.images.load_images; d = 784,
    n = round(0.1 * 784) = 78 of which round(0.25 * 78) = 20 facts, 40 test images."""
    r = runner.invoke(app, ["realdata", "--data", "mnist", "--data-dir", str(mnist_dir), "--rule", "0,1",
                            "--facts", "2", "--alpha", "0.1", "--eps", "0.25", "--lam", "0.1", "--seeds", "2",
                            "--loss", "hinge", "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = {x["kernel"]: x for x in json.loads(r.stdout)}
    for x in rows.values():
        assert (x["d"], x["n"], x["n_test"]) == (784, 78, 40)
        assert x["gen_error"] < 0.1  # the squares tell 0 from 1
    assert rows["rbf"]["fact_memorization_error"] < 0.2  # 20 facts, 78 points in 784 dimensions
    r = runner.invoke(app, ["realdata", "--data", "mnist", "--data-dir", str(mnist_dir), "--rule", "0,1",
                            "--facts", "2", "--alpha", "0.25", "--eps", "0.25", "--seeds", "1"])
    assert r.exit_code == 2 and r.output.count("\n") == 1, r.output
    assert "needs 147 rule images (n = 196, d = 784) but mnist has only 120 of classes 0,1" in r.output


def test_cifar10_batches_through_the_loader(tmp_path):
    """CIFAR-10 python pickle batches (data_batch_1..5, test_batch): d = 3072, n = round(0.02 d) = 61."""
    import pickle

    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for name, per_class in [*((f"data_batch_{i}", 8) for i in range(1, 6)), ("test_batch", 10)]:
        labels = np.repeat([0, 1, 2], per_class)
        data = rng.integers(0, 80, size=(len(labels), 3072))
        data[:, :1024] += 120 * (labels == 0)[:, None]  # class 0 is red, class 1 green
        data[:, 1024:2048] += 120 * (labels == 1)[:, None]
        with open(folder / name, "wb") as f:
            pickle.dump({b"data": data.astype(np.uint8), b"labels": labels.tolist()}, f)
    r = runner.invoke(app, ["realdata", "--data", "cifar10", "--data-dir", str(tmp_path), "--rule", "0,1",
                            "--facts", "2", "--alpha", "0.02", "--eps", "0.2", "--lam", "0.1", "--seeds", "2",
                            "--format", "json"])
    assert r.exit_code == 0, r.output
    for x in json.loads(r.stdout):
        assert (x["d"], x["n"], x["n_test"]) == (3072, 61, 20) and x["gen_error"] == 0


@pytest.mark.parametrize("args, message", [
    (["--rule", "3,11"], "class 11 does not exist in this data set; its classes are 0,1,2,3,4,5,6,7,8,9"),
    (["--rule", "3,5", "--facts", "5"], "rule and fact classes overlap: 5 is in both"),
    (["--rule", "3,5,7"], "the rule needs exactly two distinct classes"),
    (["--rule", "3,3"], "the rule needs exactly two distinct classes"),
    (["--rule", "three,5"], "--rule must be class labels"),
    (["--data", "mnist"], "pass --data-dir"),
    (["--data", "cifar10"], "pass --data-dir"),
    (["--alpha", "5"], "has only 255 of classes 3,5 available for training"),
    (["--eps", "1.5"], "eps must be in [0, 1] (got 1.5)"),
    (["--lam", "-1"], "lam must be >= 0 (got -1)"),
    (["--kernel", "poly"], "unknown kernel 'poly'"),
    (["--data", "svhn"], "unknown image data set 'svhn'"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    r = runner.invoke(app, ["realdata", "--seeds", "1", "--lam", "1", *args] if "--lam" not in args
                      else ["realdata", "--seeds", "1", *args])
    assert r.exit_code == 2, r.output
    assert r.output.startswith("error: ") and r.output.count("\n") == 1 and message in r.output, r.output


def test_data_dir_without_the_files(tmp_path):
    r = runner.invoke(app, ["realdata", "--data", "mnist", "--data-dir", str(tmp_path), "--seeds", "1"])
    assert r.exit_code == 2 and r.output.count("\n") == 1 and "train-images-idx3-ubyte" in r.output
    r = runner.invoke(app, ["realdata", "--data", "cifar10", "--data-dir", str(tmp_path / "nope")])
    assert r.exit_code == 2 and r.output.count("\n") == 1 and "does not exist" in r.output

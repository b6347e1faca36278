"""Real data over RBF bandwidth x lam: the eta convention, the median heuristic as one eta among
others, the limits eta -> infinity (K -> I: store every fact, predict nothing), the front, the
per-dataset default classes (CIFAR-10: the paper's cat vs dog, automobile facts) and each reader
(idx ubyte gz / plain, CIFAR-10 pickle batches) through ``raflab realdata`` on files written here."""

import json
import pickle

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from raflab.cli import app
from raflab.raf.experiments.realdata import (
    CIFAR10_CLASSES,
    DEFAULT_CLASSES,
    draw_split,
    load_pools,
    median_rbf_gamma,
    realdata_experiment,
    realdata_front,
)
from raflab.raf.experiments.regularization import non_dominated

runner = CliRunner()
COMMON = dict(rule=(3, 5), facts=(1,), alpha=1.5, eps=0.2, seeds=1, seed=0)


def test_eta_is_raflabs_rbf_gamma_and_median_is_one_of_them():
    pools = load_pools("digits", (3, 5), (1,))
    split = draw_split(pools, alpha=1.5, eps=0.2, seed=0)
    median_eta = median_rbf_gamma(split.X) * split.X.shape[1]
    lams = [1e-3, 1.0]
    df = realdata_experiment("digits", **COMMON, lam=lams, kernel="rbf", eta=("median", median_eta, 0.5))
    assert list(dict.fromkeys(df["bandwidth"])) == ["median", f"{median_eta:g}", "0.5"]
    by = {b: part.sort_values("lam") for b, part in df.groupby("bandwidth")}
    assert by["median"]["eta"].iloc[0] == pytest.approx(median_eta, rel=1e-12)
    assert by["0.5"]["rbf_gamma"].iloc[0] == pytest.approx(0.5 / 64)
    for k in ("gen_error", "fact_memorization_error", "rule_train_error"):  # the same kernel, the same fits
        np.testing.assert_allclose(by["median"][k], by[f"{median_eta:g}"][k], atol=1e-12)


def test_huge_eta_stores_every_fact_and_predicts_nothing():
    """eta = 1e4: K = I on the training set (off-diagonal exp(-1e4 |x-x'|^2/d) underflows), K_test = 0,
    so at small lam every training label is fitted and every test score is exactly 0: a tie, which
    raflab.raf.metrics counts as an error, so the generalization error is 1 (no rule at all)."""
    df = realdata_experiment("digits", **COMMON, lam=[1e-4], kernel="rbf", eta=1e4, raw=True).iloc[0]
    assert df["fact_memorization_error"] == 0 and df["rule_train_error"] == 0
    assert df["gen_error"] == 1.0


def test_memorization_grows_with_the_bandwidth_parameter():
    """eta -> 0: exp(-eta r) ~ 1 - eta r, a constant plus a linear kernel (mu_star^2 ~ 2 eta^2 -> 0 on
    the geometry plane); larger eta, larger mu_star. At alpha = 3 (n = 192 > 2 d: beyond the linear
    learner's capacity; 38 facts), lam = 1e-4, 3 seeds: the RBF at eta = 1e-3 leaves facts unstored
    like the linear learner, fewer at eta = 1e-2, none at eta = 0.1 and 1."""
    df = realdata_experiment("digits", **{**COMMON, "alpha": 3.0, "seeds": 3}, lam=[1e-4], kernel=("rbf", "linear"),
                             eta=(1e-3, 1e-2, 0.1, 1.0))
    mem = dict(zip(df["bandwidth"], df["fact_memorization_error"]))
    assert mem[""] > 0.1 and mem["0.001"] > 0.1  # "" is the linear learner
    assert mem["0.001"] > mem["0.01"] > mem["0.1"] == mem["1"] == 0


def test_front_marks_the_non_dominated_points():
    assert non_dominated([0.1, 0.2, 0.3, 0.1], [0.3, 0.1, 0.2, 0.4]).tolist() == [True, True, False, False]
    records = pd.DataFrame({"kernel": ["rbf"] * 3 + ["linear"] * 2, "model": ["kernel"] * 3 + ["linear"] * 2,
                            "gen_error": [0.1, 0.2, 0.3, 0.3, 0.4], "fact_memorization_error": [0.3, 0.1, 0.2, 0.5, np.nan]})
    front = realdata_front(records)["on_front"].tolist()
    assert front == [True, True, False, True, True]  # each learner has its own front; NaN counts as 0


def test_front_on_digits_dominates_the_rest():
    df = realdata_front(realdata_experiment("digits", **{**COMMON, "seeds": 2}, lam=[1e-3, 0.1, 10],
                                            kernel="rbf", eta=(0.01, 0.1, 1.0)))
    front, rest = df[df["on_front"]], df[~df["on_front"]]
    assert len(front) >= 1
    for _, r in rest.iterrows():  # every point off the front is beaten by one on it
        assert ((front["gen_error"] <= r["gen_error"]) & (front["fact_memorization_error"] <= r["fact_memorization_error"])
                & ((front["gen_error"] < r["gen_error"]) | (front["fact_memorization_error"] < r["fact_memorization_error"]))).any()


def test_cifar10_default_is_cat_vs_dog_with_automobile_facts(tmp_path):
    rule, facts = DEFAULT_CLASSES["cifar10"]
    assert [CIFAR10_CLASSES[c] for c in rule] == ["cat", "dog"] and [CIFAR10_CLASSES[c] for c in facts] == ["automobile"]
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name, per_class in [*((f"data_batch_{i}", 6) for i in range(1, 6)), ("test_batch", 10)]:
        labels = np.repeat([0, 1, 3, 5], per_class)  # airplane, automobile, cat, dog
        data = rng.integers(0, 80, size=(len(labels), 3072))
        data[:, :1024] += 120 * (labels == 3)[:, None]  # cats are red
        with open(folder / name, "wb") as f:
            pickle.dump({b"data": data.astype(np.uint8), b"labels": labels.tolist()}, f)
    r = runner.invoke(app, ["realdata", "--data", "cifar10", "--data-dir", str(tmp_path), "--alpha", "0.02",
                            "--eps", "0.2", "--lam", "0.1", "--eta", "median,0.5", "--seeds", "2", "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert {(x["rule"], x["facts"]) for x in rows} == {("3,5", "1")}
    assert {x["bandwidth"] for x in rows} == {"median", "0.5", ""}
    for x in rows:  # n = round(0.02 * 3072) = 61, 20 test images of each rule class
        assert (x["d"], x["n"], x["n_test"]) == (3072, 61, 20) and x["gen_error"] < 0.05


@pytest.mark.parametrize("data, subdir, gz", [("fashion-mnist", "FashionMNIST/raw", True), ("mnist", "", False)])
def test_idx_readers_through_realdata(tmp_path, write_idx, data, subdir, gz):
    """Fashion-MNIST gzipped in torchvision's FashionMNIST/raw, MNIST plain: d = 784, classes 3, 5 (rule)
    and 1 (facts) by default, 40 images each."""
    folder = tmp_path / subdir if subdir else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)

    def images(labels):
        out = rng.integers(0, 60, size=(len(labels), 28, 28))
        out[labels == 3, :10, :10] += 150
        return out

    train, test = np.repeat([1, 3, 5], 40), np.repeat([3, 5], 15)
    write_idx(folder / "train-images-idx3-ubyte", images(train), gz=gz)
    write_idx(folder / "train-labels-idx1-ubyte", train, gz=gz)
    write_idx(folder / "t10k-images-idx3-ubyte", images(test), gz=gz)
    write_idx(folder / "t10k-labels-idx1-ubyte", test, gz=gz)
    r = runner.invoke(app, ["realdata", "--data", data, "--data-dir", str(tmp_path), "--alpha", "0.05",
                            "--eps", "0.25", "--lam", "0.01", "--eta", "0.1,1", "--seeds", "1", "--front",
                            "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert rows and all(x["on_front"] for x in rows)
    for x in rows:
        assert (x["rule"], x["facts"], x["d"], x["n"], x["n_test"]) == ("3,5", "1", 784, 39, 30)


@pytest.mark.parametrize("eta, message", [("-1", "eta must be 'median' or a number > 0"),
                                          ("wide", "malformed range for eta"),
                                          ("0", "eta must be 'median' or a number > 0")])
def test_bad_eta_is_one_line(eta, message):
    r = runner.invoke(app, ["realdata", "--seeds", "1", "--lam", "1", "--eta", eta])
    assert r.exit_code == 2 and r.output.count("\n") == 1 and message in r.output, r.output

"""Measured memorization on the Boolean, sparse and mixture instances, and the singleton-recovery attack."""

import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtr

from raflab.bounds.attack import attack_table, singleton_attack
from raflab.bounds.instances import discrete_mean_bits, discrete_noisy_mean_bits
from raflab.bounds.mechanisms import measure_memorization, memorization_table
from raflab.bounds.mixture import singleton_recovery_floor


def test_noisy_discrete_mean_bits_limits():
    # tiny noise: the discrete mean's entropy; large noise: the small-signal limit Var(m) / (2 s^2 ln 2)
    for instance, param in (("boolean", 0.5), ("sparse", 0.25)):
        assert discrete_noisy_mean_bits(instance, 3, 4, param, 1e-6) == pytest.approx(
            discrete_mean_bits(instance, 3, 4, param), abs=1e-6)
        values = {"boolean": (param**2 * 0 + (1 - param**2) / 4), "sparse": param * (1 - param) / 4}[instance]
        s2 = 400.0
        assert discrete_noisy_mean_bits(instance, 1, 4, param, s2) == pytest.approx(values / (2 * s2 * np.log(2)),
                                                                                     rel=0.01)


@pytest.mark.parametrize("instance,learner", [("boolean", "mean"), ("boolean", "sign-mean"), ("sparse", "mean"),
                                              ("sparse", "sign-mean")])
def test_discrete_estimator_recovers_exact_bits(instance, learner):
    rec = measure_memorization(learner, 16, 4, reps=3000, instance=instance, seed=2)
    assert abs(rec["memorization_bits"] - rec["exact_bits"]) < 3 * rec["memorization_bits_stderr"] + 0.05


@pytest.mark.parametrize("instance", ["boolean", "sparse"])
def test_gaussian_plugin_is_an_upper_estimate_on_discrete_data(instance):
    # the mean is not Gaussian here: the plug-in over-counts (most at n = 1), never under-counts
    recs = [measure_memorization("noisy-mean", 16, n, reps=3000, instance=instance, seed=3) for n in (1, 16)]
    for rec in recs:
        assert rec["memorization_bits"] > rec["exact_bits"] - 3 * rec["memorization_bits_stderr"]
    gaps = [rec["memorization_bits"] / rec["exact_bits"] for rec in recs]
    assert gaps[0] > 1.2 and gaps[1] < gaps[0]


@pytest.mark.parametrize("instance", ["boolean", "sparse"])
def test_learners_sit_above_their_bound_on_discrete_instances(instance):
    df = memorization_table(["noisy-mean", "mean", "sign-mean", "ridge", "logistic"], 12, [1, 4], reps=400,
                            instance=instance, seed=4)
    assert np.all(df["error"] < 0.45)
    # exact values where known, the (upper) estimate otherwise
    bits = df["exact_bits"].fillna(df["memorization_bits"] + 3 * df["memorization_bits_stderr"])
    assert np.all(bits >= df["lower_bound_bits"])


def test_mixture_measure_sums_clusters_and_sits_above_the_profile_bound():
    df = memorization_table(["noisy-mean", "sign-mean"], 8, [8], reps=400, instance="mixture", base="boolean",
                            clusters=8, seed=5, thetas=2)
    for _, rec in df.iterrows():
        if rec["learner"] == "sign-mean":  # the discrete estimate, summed over clusters, is the exact sum
            assert abs(rec["memorization_bits"] - rec["exact_bits"]) < 3 * rec["memorization_bits_stderr"] + 0.05
        else:  # the Gaussian plug-in over-counts at small cluster counts (test above), never under
            assert rec["memorization_bits"] > rec["exact_bits"] - 3 * rec["memorization_bits_stderr"]
        assert rec["exact_bits"] >= rec["lower_bound_bits"] > 0
        assert rec["singletons"] > 0


def test_recovery_floor_formula():
    d, e = 256, np.array([0.1, 0.25, 0.49])
    h2 = -(e * np.log2(e) + (1 - e) * np.log2(1 - e))
    np.testing.assert_allclose(singleton_recovery_floor(d, d**-1.0, e), 1 - h2 / 2)
    assert singleton_recovery_floor(d, 0.5, 0.0) == pytest.approx(0.5 + 1 / (2 * 0.5 * d))


@pytest.mark.parametrize("noise", [0.5, 2.0])
def test_hellman_raviv_step_on_the_noisy_mean_channel(noise):
    # a fair bit u through u + N(0, s^2): the best guess (sign) is right w.p. Phi(1/s) >= (1 + I) / 2
    info = discrete_noisy_mean_bits("boolean", 1, 1, 1e-12, noise**2)
    assert ndtr(1 / noise) >= (1 + info) / 2


def test_attack_on_noisy_mean_recovers_phi_of_one_over_noise():
    rec = singleton_attack("noisy-mean", 32, 16, 16, reps=200, noise=1.0, seed=0)
    assert rec["singletons"] > 0
    # the singleton's weights are u + N(0, 1): each bit is right w.p. Phi(1)
    assert rec["recovery"] == pytest.approx(ndtr(1.0), abs=4 * np.sqrt(0.16 * 0.84 / (rec["singletons"] * 200 * 32)))
    assert rec["recovery"] > rec["predicted_floor"] > 0.5
    assert singleton_attack("sign-mean", 32, 16, 16, reps=20, seed=0)["recovery"] == 1.0


def test_attack_table_interval_and_verdict():
    df = attack_table(["noisy-mean", "ridge"], 32, 16, 16, seeds=3, reps=40, noise=1.0)
    assert np.all(df["recovery_ci95_low"] <= df["recovery"]) and np.all(df["recovery"] <= df["recovery_ci95_high"])
    assert set(df["verdict"]) == {"above floor"}
    # more than the distribution alone gives away: Phi(1) = 0.84 > (1 + r)/2 = 0.71, and the bits that
    # disagree with theta (which a theta-attacker always gets wrong) are recovered as often as the rest
    assert np.all(df["recovery"] > df["theta_attacker"])
    np.testing.assert_allclose(df["unique_recovery"], df["recovery"], atol=0.03)


def test_attack_figure_is_written(tmp_path):
    from raflab.bounds.plots import plot_singleton_attack

    trace = attack_table(["noisy-mean"], 16, 8, 8, seeds=2, reps=10)
    floor = {"error": np.linspace(0, 0.5, 11)}
    floor["predicted_floor"] = singleton_recovery_floor(16, 16**-1.0, floor["error"])
    out = tmp_path / "attack.png"
    plot_singleton_attack(trace, pd.DataFrame(floor), trace, out=out)
    assert out.exists() and out.stat().st_size > 1000

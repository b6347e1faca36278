import json

from typer.testing import CliRunner

from raflab.cli import app

runner = CliRunner()


def test_theory_json():
    r = runner.invoke(app, ["attention", "theory", "--c", "0.5:2:3", "--gamma", "0.1", "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert len(rows) == 3 and all(x["converged"] for x in rows)


def test_compare_with_figure(tmp_path):
    out = tmp_path / "fig.png"
    r = runner.invoke(app, ["attention", "compare", "--c", "0.5,1", "--n", "200", "--seeds", "2",
                            "--device", "cpu", "--format", "csv", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert out.exists() and "memorization_error_attention_mc" in r.output


def test_bad_input():
    for args in (["--gamma", "0"], ["--c", "-1"], ["--f", "cos"], ["--align", "2"]):
        r = runner.invoke(app, ["attention", "theory", *args])
        assert r.exit_code == 2 and "error:" in r.output


def test_user_callable_f_is_centred_with_a_warning():
    """numpy:abs is not centred (E|xi| = sqrt(2/pi)) and has a1 = 0; its slope at +infinity is 1, the
    default diagonal tau. Measured: 0.2492 (0.2564 at --n 1000; Monte Carlo there 0.268 +- 0.011),
    0.386 with the former tau = 0."""
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "raflab.cli", "attention", "theory", "--c", "1", "--gamma", "0.1",
                        "--f", "numpy:abs", "--format", "json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "warning: f=absolute is not centred" in r.stderr and "a1 = E[xi f(xi)] = 0" in r.stderr
    rec = json.loads(r.stdout)[0]
    assert rec["f"] == "absolute" and rec["memorization_error_attention"] > rec["memorization_error_ridge"]
    assert abs(rec["memorization_error_attention"] - 0.2492) < 1e-3


def test_default_tau_is_the_large_p_limit():
    """ReLU, c = gamma = rho = align = 1: the default (p -> infinity) agrees with the theory at large
    finite p (0.402 with the former tau = 0); an f with no linear slope at infinity needs --n."""
    args = ["attention", "theory", "--c", "1", "--gamma", "1", "--f", "relu_centered", "--snr", "1", "--align", "1",
            "--format", "json"]
    default = json.loads(runner.invoke(app, args).output)[0]["memorization_error_attention"]
    large = json.loads(runner.invoke(app, [*args, "--n", "1000000"]).output)[0]["memorization_error_attention"]
    assert abs(default - 0.2594) < 1e-3 and abs(default - large) < 1e-4
    r = runner.invoke(app, ["attention", "theory", "--f", "numpy:cosh"])
    assert r.exit_code == 2 and "error:" in r.output and "--n" in r.output
    assert runner.invoke(app, ["attention", "theory", "--f", "numpy:cosh", "--n", "100"]).exit_code == 0

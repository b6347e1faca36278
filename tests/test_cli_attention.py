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
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "raflab.cli", "attention", "theory", "--c", "1", "--gamma", "0.1",
                        "--f", "numpy:cosh", "--format", "json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "warning: f=cosh is not centred" in r.stderr and "a1 = E[xi f(xi)] = 0" in r.stderr
    import json

    rec = json.loads(r.stdout)[0]
    assert rec["f"] == "cosh" and rec["memorization_error_attention"] > rec["memorization_error_ridge"]

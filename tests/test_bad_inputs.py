"""Every bad input a user can type: ONE ``error:`` line on stderr, exit code 2, before any work, no
traceback and no file left behind (issue 18, section 3).

One row per class of bad input (and per command for the output-path classes). The commands run
in-process (typer's CliRunner) in an empty working folder; a row passes only if the folder is still
empty afterwards (an existing folder given as --out stays empty, and no ``DIR.png`` appears beside
it). Memory refusals are estimates made before any allocation, so they are as fast as the others.
"""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from raflab.cli import app

UNWRITABLE = "/proc/raflab-test/x.png"  # /proc takes no new files, not even as root
UNWRITABLE_FILE = "/proc/x.png"

# (command..., the option that takes the figure / file) for every command that writes one
FIGURE_OUT = {
    "compare": ["compare"],
    "phase": ["phase"],
    "optimal-lam": ["optimal-lam"],
    "rates": ["rates"],
    "realdata": ["realdata"],
    "geometry": ["geometry"],
    "attention compare": ["attention", "compare"],
    "hopfield simulate": ["hopfield", "simulate"],
    "hopfield attractors": ["hopfield", "attractors"],
    "diffusion phases": ["diffusion", "phases"],
    "diffusion sample": ["diffusion", "sample", "--exact"],
    "sdpi bound": ["sdpi", "bound"],
    "sdpi measure": ["sdpi", "measure"],
    "teach --out": ["teach"],
    "seq study": ["seq", "study", "mqar"],
    "seq probe": ["seq", "probe"],
    "schema train": ["schema", "train"],
}


def _out_rows():
    rows = []
    for name, cmd in FIGURE_OUT.items():
        rows.append(pytest.param([*cmd, "--out", UNWRITABLE_FILE], "cannot write --out",
                                 id=f"{name} --out /proc/x.png"))
        rows.append(pytest.param([*cmd, "--out", "{dir}"], "is a folder", id=f"{name} --out DIR"))
    rows += [
        pytest.param(["teach", "--out-gain", UNWRITABLE_FILE], "cannot write --out-gain", id="teach --out-gain /proc"),
        pytest.param(["teach", "--out-gain", "{dir}"], "is a folder", id="teach --out-gain DIR"),
        pytest.param(["schema", "generate", "--out", "/proc/x.jsonl"], "cannot write --out",
                     id="schema generate --out /proc"),
        pytest.param(["schema", "generate", "--out", "{dir}"], "is a folder", id="schema generate --out DIR"),
        pytest.param(["figures", "--theory-only", "--out", "/proc/figures"], "cannot write into --out",
                     id="figures --out /proc/figures"),
        pytest.param(["figures", "--theory-only", "--out", "{file}"], "is a file, not a folder",
                     id="figures --out FILE"),
        pytest.param(["compare", "--out", "{dir}/figure.txt"], "must end in one of .png",
                     id="compare --out bad suffix"),
        pytest.param(["compare", "--out", UNWRITABLE], "cannot write --out", id="compare --out /proc/dir/x.png"),
        # checkpoints and saved policies
        pytest.param(["seq", "train", "--checkpoint", "/proc/x.pt"], "cannot write --checkpoint",
                     id="seq train --checkpoint /proc"),
        pytest.param(["diffusion", "train", "--checkpoint", "/proc/x.pt"], "cannot write --checkpoint",
                     id="diffusion train --checkpoint /proc"),
        pytest.param(["diffusion", "train", "--checkpoint", "{dir}"], "is a folder",
                     id="diffusion train --checkpoint DIR"),
        pytest.param(["schema", "train", "--save", "/proc/x.pt"], "cannot write --save",
                     id="schema train --save /proc"),
        pytest.param(["seq", "study", "mqar", "--store", "{dir}"], "is a folder", id="seq study --store DIR"),
        pytest.param(["diffusion", "sample", "--checkpoint", "{junk}"],
                     "is not a checkpoint written by raflab diffusion train",
                     id="diffusion sample --checkpoint junk"),
        pytest.param(["seq", "train", "--checkpoint", "{junk}", "--steps", "1"],
                     "is not a checkpoint written by raflab seq train",
                     id="seq train --checkpoint junk"),
        pytest.param(["schema", "eval", "{junk}"], "is not a checkpoint written by raflab schema train",
                     id="schema eval junk"),
    ]
    return rows


MEMORY_ROWS = [
    pytest.param(["simulate", "--d", "10000000"], "needs about", id="simulate --d 1e7"),
    pytest.param(["compare", "--model", "rf", "--kappa", "1000", "--d", "2000"], "needs about",
                 id="compare rf kappa 1000"),
    pytest.param(["compare", "--model", "kernel", "--d", "1000000"], "needs about", id="compare kernel d 1e6"),
    pytest.param(["theory", "--alpha", "0.5:5:100000000"], "too many points for alpha", id="theory --alpha 1e8 points"),
    pytest.param(["theory", "--alpha", "1:2:100000", "--eps", "0:1:100000", "--lam", "1:2:1000"], "needs about",
                 id="theory grid of 1e13 points"),
    pytest.param(["simulate", "--seeds", "1000000000000", "--d", "20"], "needs about", id="simulate --seeds 1e12"),
    pytest.param(["rates", "--points", "100000000"], "points must be <= 100,000", id="rates --points 1e8"),
    pytest.param(["compare", "--theory-points", "1000000000", "--out", "{dir}/c.png"], "theory-points must be",
                 id="compare --theory-points 1e9"),
    pytest.param(["attention", "compare", "--n", "10000000"], "needs about", id="attention compare --n 1e7"),
    pytest.param(["attention", "simulate", "--n", "10000000"], "needs about", id="attention simulate --n 1e7"),
    pytest.param(["hopfield", "simulate", "--n", "10000000"], "needs about", id="hopfield simulate --n 1e7"),
    pytest.param(["hopfield", "attractors", "--K", "100000000"], "needs about", id="hopfield attractors --K 1e8"),
    pytest.param(["hopfield", "ring", "--K", "100000000000"], "needs about", id="hopfield ring --K 1e11"),
    pytest.param(["sdpi", "measure", "--d", "10000000"], "needs about", id="sdpi measure --d 1e7"),
    pytest.param(["diffusion", "phases", "--K", "100000000", "--exact"], "needs about", id="diffusion phases --K 1e8"),
    pytest.param(["diffusion", "sample", "--exact", "--K", "100000000"], "needs about", id="diffusion sample --K 1e8"),
    pytest.param(["seq", "train", "--width", "10000000", "--heads", "1"], "needs about", id="seq train --width 1e7"),
]

NOT_APPLICABLE_ROWS = [
    pytest.param(["theory", "--model", "kernel", "--activation", "sign"], "--activation does not apply",
                 id="kernel --activation"),
    pytest.param(["simulate", "--model", "linear", "--kappa", "3"], "--kappa does not apply", id="linear --kappa"),
    pytest.param(["compare", "--model", "rf", "--kernel", "rbf"], "--kernel does not apply", id="rf --kernel"),
    pytest.param(["theory", "--model", "bayes", "--loss", "hinge"], "--loss does not apply", id="bayes --loss"),
    pytest.param(["rates", "--model", "bayes", "--lam", "1"], "--lam does not apply", id="bayes --lam"),
    pytest.param(["capacity", "--model", "bayes"], "--model bayes has no storage capacity", id="capacity bayes"),
    pytest.param(["sdpi", "raf", "--model", "bayes"], "--model bayes has no storage capacity", id="sdpi raf bayes"),
    pytest.param(["sdpi", "raf", "--model", "linear", "--activation", "tanh"], "--activation does not apply",
                 id="sdpi raf linear --activation"),
    pytest.param(["optimal-lam", "--model", "bayes"], "--model bayes has no lam", id="optimal-lam bayes"),
    pytest.param(["phase", "--model", "bayes"], "--model bayes has no fact errors", id="phase bayes"),
    pytest.param(["capacity", "--model", "kernel", "--activation", "tanh"], "--activation does not apply",
                 id="capacity kernel --activation"),
    pytest.param(["sdpi", "bound", "--r", "0.5"], "--r does not apply to --instance gaussian",
                 id="sdpi bound gaussian --r"),
    pytest.param(["sdpi", "bound", "--instance", "boolean", "--sigma2", "2"], "--sigma2 does not apply",
                 id="sdpi bound boolean --sigma2"),
    pytest.param(["diffusion", "phases", "--beta-max", "3"], "--beta-max does not apply to --schedule ve",
                 id="diffusion ve --beta-max"),
    pytest.param(["diffusion", "phases", "--schedule", "vp", "--sigma-max", "3"], "--sigma-max does not apply",
                 id="diffusion vp --sigma-max"),
    pytest.param(["diffusion", "phases", "--exact", "--steps", "10"], "--steps does not apply with --exact",
                 id="diffusion phases --exact --steps"),
    pytest.param(["diffusion", "sample", "--checkpoint", "{junk}", "--K", "3"], "--K does not apply with --checkpoint",
                 id="diffusion sample --checkpoint --K"),
    pytest.param(["compare", "--theory-points", "40"], "--theory-points does not apply without --out",
                 id="compare --theory-points without --out"),
    pytest.param(["optimal-lam", "--pareto-points", "40"], "--pareto-points does not apply without --out",
                 id="optimal-lam --pareto-points without --out"),
    pytest.param(["phase", "--check-seeds", "3"], "--check-seeds does not apply without --check-d",
                 id="phase --check-seeds without --check-d"),
    pytest.param(["seq", "train", "--task", "arithmetic", "--pairs", "3"],
                 "--pairs does not apply to --task arithmetic",
                 id="seq train arithmetic --pairs"),
    pytest.param(["seq", "train", "--model", "s4d", "--heads", "2"], "--heads does not apply to --model s4d",
                 id="seq train s4d --heads"),
]

RANGE_ROWS = [
    pytest.param(["theory", "--tol", "-1"], "tol must be a number > 0", id="theory --tol -1"),
    pytest.param(["theory", "--tol", "nan"], "tol must be a number > 0", id="theory --tol nan"),
    pytest.param(["compare", "--theory-points", "-5"], "theory-points must be >= 2", id="compare --theory-points -5"),
    pytest.param(["seq", "train", "--target", "5"], "target", id="seq train --target 5"),
    pytest.param(["seq", "train", "--target", "0"], "target", id="seq train --target 0"),
    pytest.param(["simulate", "--seed", "-1"], "--seed", id="simulate --seed -1"),
    pytest.param(["attention", "simulate", "--seed", "-1"], "--seed", id="attention simulate --seed -1"),
    pytest.param(["seq", "train", "--seed", "-1"], "seed", id="seq train --seed -1"),
    pytest.param(["optimal-lam", "--lam-min", "0"], "lam_min", id="optimal-lam --lam-min 0"),
    pytest.param(["optimal-lam", "--lam-min", "10", "--lam-max", "1"], "lam_min", id="optimal-lam lam-min > lam-max"),
    pytest.param(["optimal-lam", "--pareto-points", "0", "--out", "{dir}/p.png"], "pareto-points",
                 id="optimal-lam --pareto-points 0"),
    pytest.param(["phase", "--check-seeds", "0", "--check-d", "20"], "check-seeds", id="phase --check-seeds 0"),
    pytest.param(["phase", "--check-d", "-3"], "check-d", id="phase --check-d -3"),
    pytest.param(["attention", "compare", "--n", "1"], "n must be >= 2", id="attention compare --n 1"),
    pytest.param(["attention", "compare", "--seeds", "1"], "seeds must be >= 2", id="attention compare --seeds 1"),
    pytest.param(["diffusion", "train", "--K", "0", "--checkpoint", "{dir}/c.pt"], "K must be >= 1",
                 id="diffusion train --K 0"),
    pytest.param(["diffusion", "phases", "--width", "0"], "width must be >= 1", id="diffusion phases --width 0"),
    pytest.param(["seq", "study", "mqar", "--workers", "0"], "workers must be >= 1", id="seq study --workers 0"),
    # parse errors: one line naming the option, not click's usage box
    pytest.param(["simulate", "--d", "abc"], "'--d'", id="simulate --d abc"),
    pytest.param(["hopfield", "simulate", "--n", "1e7"], "'--n'", id="hopfield simulate --n 1e7 (not an integer)"),
    pytest.param(["theory", "--no-such-option"], "No such option", id="unknown option"),
    pytest.param(["seq", "study"], "Missing argument", id="missing argument"),
]

DATA_ROWS = [
    pytest.param(["figures", "--data", "mnist", "--out", "{dir}/figures"], "--data-dir",
                 id="figures --data mnist, no --data-dir"),
]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """An empty working folder, with an existing empty folder, a file and a junk 'checkpoint' in a
    sibling folder (so the working folder's listing shows anything a command leaves behind)."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "existing").mkdir()
    given = tmp_path / "given"
    given.mkdir()
    (given / "notes.txt").write_text("a file\n")
    (given / "junk.pt").write_text("root:x:0:0:root:/root:/bin/bash\n")  # like --checkpoint /etc/passwd
    monkeypatch.chdir(work)
    monkeypatch.delenv("RAFLAB_NO_MEMORY_CHECK", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    # The memory refusals must not depend on the machine: every case is judged against 16 GB.
    from raflab.core import memory as memory_check

    monkeypatch.setattr(memory_check, "available_memory", lambda: 16 * 10**9)
    return work, given


def _listing(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize("args, message", [*_out_rows(), *MEMORY_ROWS, *NOT_APPLICABLE_ROWS, *RANGE_ROWS, *DATA_ROWS])
def test_bad_input_is_one_error_line_exit_2_and_nothing_written(workdir, args, message):
    work, given = workdir
    subst = {"{dir}": str(work / "existing"), "{file}": str(given / "notes.txt"), "{junk}": str(given / "junk.pt")}
    args = [next((a.replace(k, v) for k, v in subst.items() if k in a), a) for a in args]
    before_work, before_given = _listing(work), _listing(given)
    junk = (given / "junk.pt").read_bytes()

    result = CliRunner().invoke(app, args)

    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, (result.exit_code, result.stderr, result.stdout[-500:])
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert message in lines[0], lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert _listing(work) == before_work, "a file was left behind"
    assert _listing(given) == before_given and (given / "junk.pt").read_bytes() == junk
    assert not os.path.exists(str(work / "existing") + ".png")


def test_an_output_in_a_folder_still_to_be_made_is_written(tmp_path, monkeypatch):
    """Valid input, as the README types it from a fresh clone (no results/ yet): the writer makes
    the missing folders instead of refusing them."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["schema", "generate", "--split", "train", "--out", "results/new/schemas.jsonl"])
    assert result.exit_code == 0, result.stderr
    lines = (tmp_path / "results" / "new" / "schemas.jsonl").read_text().splitlines()
    assert len(lines) > 0 and lines[0].startswith("{")


# -- the shared helpers themselves ---------------------------------------------------------------

def test_check_out_path_leaves_an_existing_file_as_it_is(tmp_path):
    from raflab.core.cli import check_out_path

    fig = tmp_path / "fig.png"
    fig.write_bytes(b"old")
    check_out_path(fig)
    check_out_path(tmp_path / "new" / "deeper" / "fig.pdf")  # the writers make missing folders
    check_out_path(None)
    assert fig.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["fig.png"]
    with pytest.raises(ValueError, match="does not exist"):
        check_out_path(tmp_path / "new" / "policy.pt", suffixes=None, option="--save", parents=False)
    with pytest.raises(ValueError, match="is a file, not a folder"):
        check_out_path(fig / "x.png")


def test_read_only_folder_is_refused(tmp_path):
    from raflab.core.cli import check_out_dir, check_out_path

    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        if os.access(ro, os.W_OK) and os.geteuid() == 0:
            pytest.skip("root writes into read-only folders")
        with pytest.raises(ValueError, match="cannot write --out"):
            check_out_path(ro / "x.png")
        with pytest.raises(ValueError, match="cannot write into --out"):
            check_out_dir(ro)
    finally:
        ro.chmod(0o755)
    assert list(ro.iterdir()) == []


def test_require_memory_refuses_names_the_sizes_and_can_be_overridden(monkeypatch):
    from raflab.core.memory import ENV_VAR, MemoryRefused, available_memory, require_memory

    monkeypatch.delenv(ENV_VAR, raising=False)
    have = available_memory()
    assert have is not None and have > 0
    require_memory(1000, "a small thing")
    with pytest.raises(MemoryRefused, match=r"a huge thing needs about 1e\+03 PB of memory, but this machine has .* "
                                            r"available; .*RAFLAB_NO_MEMORY_CHECK=1"):
        require_memory(1e18, "a huge thing")
    monkeypatch.setenv(ENV_VAR, "1")
    require_memory(1e18, "a huge thing")  # the user's override: no refusal (and nothing allocated here)
    monkeypatch.setenv(ENV_VAR, "0")
    with pytest.raises(MemoryRefused):
        require_memory(1e18, "a huge thing")


def test_default_sizes_pass_the_memory_checks(monkeypatch):
    """The estimates of every command's defaults fit easily (well under 2 GB)."""
    import raflab.core.memory as mc

    monkeypatch.delenv(mc.ENV_VAR, raising=False)
    monkeypatch.setattr(mc, "available_memory", lambda: 2 * 10**9)
    from raflab.attention.simulate import require_simulation_memory
    from raflab.memory.associative import require_attractor_memory
    from raflab.raf.experiments.simulate import _require_fit_memory

    for model in ("linear", "rf", "kernel", "bayes"):
        _require_fit_memory(model, 1000, 2.0, 2.0, 20_000)
    require_simulation_memory(1000, 1000)
    require_attractor_memory(1000, 784, 512)


def test_parse_range_refuses_absurd_point_counts():
    from raflab.core.ranges import MAX_POINTS, parse_range

    assert parse_range(f"0:1:{MAX_POINTS}").size == MAX_POINTS
    with pytest.raises(ValueError, match="too many points for alpha"):
        parse_range("0.5:5:100000000", "alpha")
    with pytest.raises(ValueError, match="too many points"):
        parse_range("0:1:1e300", "alpha")


def test_an_allocation_that_fails_anyway_is_one_line(capsys):
    """With the check overridden (or an estimate that missed), a MemoryError is still one error line."""
    import typer

    from raflab.core.cli import user_errors

    @user_errors
    def command():
        raise MemoryError()

    with pytest.raises(typer.Exit) as exit_info:
        command()
    assert exit_info.value.exit_code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: out of memory")


def test_cgroup_headroom_counts_droppable_page_cache_as_free(tmp_path):
    """A 4 GB container whose memory.current is mostly page cache still has room to run."""
    from raflab.core.memory import _cgroup_headroom

    (tmp_path / "memory.max").write_text("4000000000\n")
    (tmp_path / "memory.current").write_text("3900000000\n")
    (tmp_path / "memory.stat").write_text("anon 400000000\nfile 3500000000\ninactive_file 3000000000\n")
    assert _cgroup_headroom(tmp_path) == 4_000_000_000 - 900_000_000
    (tmp_path / "memory.stat").unlink()  # without memory.stat: memory.current as it is
    assert _cgroup_headroom(tmp_path) == 100_000_000
    (tmp_path / "memory.max").write_text("max\n")
    assert _cgroup_headroom(tmp_path) is None

"""The layout's rules (docs/architecture.md), checked on the source: one package per system over a
shared core, dependencies only where the science has them, no import circle, no file over 600 lines,
one text for an unknown choice."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = SRC / "raflab"
SYSTEMS = ("core", "raf", "attention", "memory", "bounds", "seq", "agents", "sweeps", "ledger")
#: the systems each system may import, besides core (the science's own dependencies)
ALLOWED = {
    "core": set(),
    "raf": set(),
    "attention": set(),
    "memory": set(),
    "bounds": {"raf"},  # the SDPI bound of a RAF learner uses RAF's capacity
    "seq": {"sweeps"},  # seq studies run through the sweep engine
    "agents": set(),
    "sweeps": {"raf", "seq"},  # the engine runs RAF points and seq units
    # the reproduction ledger measures every system's claims; nothing imports it but the root command
    "ledger": {"raf", "attention", "memory", "bounds", "seq", "agents", "sweeps"},
}


def _modules() -> dict[str, Path]:
    out = {}
    for p in PKG.rglob("*.py"):
        name = ".".join(p.relative_to(SRC).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = p
    return out


def _imports(path: Path, module: str, mods: dict[str, Path]):
    """(imported raflab module, at module level?) for every import in ``path``."""
    tree = ast.parse(path.read_text())
    pkg = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    top = {id(n) for n in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = pkg.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for t in names:
            while t and t not in mods:
                t = t.rsplit(".", 1)[0] if "." in t else ""
            if t and t != module and t.startswith("raflab"):
                yield t, id(node) in top


def _system(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in SYSTEMS else None


def test_top_level_holds_only_the_root_command():
    assert sorted(p.name for p in PKG.glob("*.py")) == ["__init__.py", "cli.py"]
    assert sorted(p.name for p in PKG.iterdir() if p.is_dir() and p.name != "__pycache__") == sorted(SYSTEMS)


def test_systems_depend_on_core_and_on_what_the_science_needs():
    mods = _modules()
    wrong = []
    for m, p in mods.items():
        here = _system(m)
        if here is None:
            continue
        for t, _ in _imports(p, m, mods):
            there = _system(t)
            if there and there != here and there != "core" and there not in ALLOWED[here]:
                wrong.append(f"{m} -> {t}")
    assert not wrong, "\n".join(sorted(set(wrong)))


def test_no_import_circle():
    mods = _modules()
    edges = {m: {t for t, _ in _imports(p, m, mods) if mods[t].name != "__init__.py"} for m, p in mods.items()}
    index, low, stack, on, circles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                circles.append(sorted(comp))

    for v in edges:
        if v not in index:
            visit(v)
    assert not circles, circles


def test_no_source_file_over_600_lines():
    big = {str(p.relative_to(SRC)): n for p in PKG.rglob("*.py") if (n := len(p.read_text().splitlines())) > 600}
    assert not big, big


def test_an_unknown_choice_is_worded_in_one_helper():
    writers = sorted(str(p.relative_to(SRC)) for p in PKG.rglob("*.py") if "choose one of" in p.read_text())
    assert writers == ["raflab/core/checks.py"], writers


def test_core_knows_no_system():
    mods = _modules()
    for m, p in mods.items():
        if _system(m) == "core":
            assert not [t for t, _ in _imports(p, m, mods) if _system(t) not in (None, "core")], m


@pytest.mark.parametrize("module", ["raflab.core.checks", "raflab.core.summary", "raflab.core.seeding"])
def test_shared_helpers_import_without_torch(module):
    """The core helpers every system uses load without torch (a CPU-only check stays fast)."""
    import subprocess
    import sys

    code = f"import sys, {module}; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

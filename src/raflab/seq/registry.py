"""Every study of the sequence lab by name: the grid studies of :mod:`raflab.seq.studies`, Fictional
Q&A and cross-modal personas; :func:`run_named_study` is what ``raflab seq study NAME`` runs."""

from __future__ import annotations

from pathlib import Path

from raflab.core.checks import one_of
from raflab.seq.cross_modal.study import run_cross_modal_cli
from raflab.seq.fictional.study import run_fictional_qa_cli
from raflab.seq.studies import (
    STUDIES,
    SeqStudyConfig,
    load_study_config,
    plot_study,
    run_seq_study,
    shipped_study_config,
    study_summary,
)

#: every study ``raflab seq study`` runs
ALL_STUDIES = STUDIES + ("fictional-qa", "cross-modal")


def with_graph_files(config: SeqStudyConfig, data_dir: str) -> SeqStudyConfig:
    """The study on the knowledge graph of ``data_dir`` (UMLS layout: train.txt, valid.txt, test.txt
    of head<TAB>relation<TAB>tail lines, read together) instead of the random graph; each run keeps
    at most its ``triplets`` facts, a random subset (all of them when the graph has fewer)."""
    if not Path(data_dir).is_dir():
        raise ValueError(f"--data-dir {data_dir}: no such folder")
    data = config.model_dump(mode="json")
    data["base"] = {**data["base"], "graph": "umls", "umls_dir": str(data_dir)}
    data["name"] = f"{config.name}-{Path(data_dir).name}"
    return SeqStudyConfig(**data)


def run_named_study(name: str, config: str | None = None, seeds: int | None = None, store: str | None = None,
                    workers: int = 1, quiet: bool = False, out: str | None = None, data_dir: str | None = None):
    """Run a study by name from its shipped config (or ``config``); return (summary, figure or None)."""
    one_of(name, ALL_STUDIES, "study")
    if data_dir is not None and name not in ("fictional-qa", "capacity"):
        raise ValueError(f"--data-dir is read by the fictional-qa and capacity studies only (not {name!r})")
    if name == "fictional-qa":
        return run_fictional_qa_cli(config=config, seeds=seeds, store=store, workers=workers, quiet=quiet,
                                    out=out, data_dir=data_dir)
    if name == "cross-modal":
        return run_cross_modal_cli(config=config, seeds=seeds, store=store, workers=workers, quiet=quiet, out=out)
    cfg = load_study_config(config or shipped_study_config(name), seeds=seeds)
    if cfg.study != name:
        raise ValueError(f"the config {config} is a {cfg.study!r} study, not {name!r}")
    if data_dir is not None:  # capacity on a real graph: UMLS-layout triplet files instead of the random graph
        cfg = with_graph_files(cfg, data_dir)
    rows = run_seq_study(cfg, store=store, workers=workers, quiet=quiet)
    summary = study_summary(name, rows)
    figure = plot_study(name, summary, out) if out else None
    return summary, figure


__all__ = ["ALL_STUDIES", "run_named_study", "with_graph_files"]

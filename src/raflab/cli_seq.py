"""``raflab seq train|study``: memorization in sequence models (tiny transformers and state-space models)."""

from __future__ import annotations

import typer

seq_app = typer.Typer(no_args_is_help=True,
                      help="sequence models: rule and fact tasks, MQAR, capacity in bits per parameter")

"""``raflab schema generate|train|eval``: rote SFT vs GRPO for schema linking on synthetic databases."""

from __future__ import annotations

import typer

schema_app = typer.Typer(no_args_is_help=True,
                         help="schema linking: rote supervised fine-tuning vs GRPO on synthetic databases")

"""``raflab teach``: the learning-by-teaching simulation (robot learners taught by simulated children)."""

from __future__ import annotations

import typer

from raflab.cli_common import user_errors


@user_errors
def teach():
    """Learning by teaching: robot accuracy on taught and unseen items, the teacher's retention gain."""
    raise ValueError("not built yet")

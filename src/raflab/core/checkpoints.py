"""Reading a checkpoint file: a file that is not one (``--checkpoint /etc/passwd``, another
command's checkpoint, a truncated file) is one clear ValueError naming the file, not an
``UnpicklingError`` or ``KeyError`` traceback."""

from __future__ import annotations

from pathlib import Path


def load_checkpoint(path, *, what: str, required=(), map_location="cpu", weights_only: bool = False) -> dict:
    """``torch.load(path)`` of a raflab checkpoint: a dict holding the keys ``required``.

    ``what`` names the writer in the messages (e.g. "raflab seq train"). Raises ValueError when the
    file does not exist, is a folder, cannot be read, is not a torch checkpoint, or lacks a key.
    """
    import torch

    p = Path(path)
    if not p.exists():
        raise ValueError(f"no checkpoint at {path} (the file does not exist)")
    if p.is_dir():
        raise ValueError(f"checkpoint {path} is a folder, not a file")
    try:
        state = torch.load(p, map_location=map_location, weights_only=weights_only)
    except Exception as exc:  # UnpicklingError, RuntimeError (not a zip archive), EOFError, OSError ...
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"{path} is not a checkpoint written by {what} (cannot load it: {first[:120]})") from None
    missing = [k for k in required if not isinstance(state, dict) or k not in state]
    if missing:
        raise ValueError(f"{path} is not a checkpoint written by {what} (it has no {missing[0]!r})")
    return state

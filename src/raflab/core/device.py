"""The one device chooser: ``auto | cpu | cuda`` for every computation that can run on a GPU."""

from __future__ import annotations

from raflab.core.checks import one_of

DEVICES = ("auto", "cpu", "cuda")


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:  # torch is a dependency; this keeps numpy-only code importable without it
        return False
    return bool(torch.cuda.is_available())


def resolve_device(device: str = "auto") -> str:
    """``'cpu'`` or ``'cuda'``: auto picks CUDA when present; asking for CUDA without it is an error."""
    one_of(device, DEVICES, "device")
    if device == "auto":
        return "cuda" if cuda_available() else "cpu"
    if device == "cuda" and not cuda_available():
        raise ValueError("device cuda requested but CUDA is not available (use --device auto or cpu)")
    return device

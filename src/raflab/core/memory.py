"""Refuse, before allocating, work whose memory cannot fit on this machine.

Each API entry that allocates in proportion to a size the user chooses (``d``, ``n``, ``K``,
``width``, a grid's number of points) estimates its largest allocations and calls
:func:`require_memory` first, so that ``raflab simulate --d 10000000`` is one line saying what it
needs and what the machine has, instead of a ``MemoryError`` traceback (or the machine swapping)
minutes later. The estimates are of the arrays the computation holds at once, not an upper bound
on everything Python and the libraries keep.

Override, knowingly: set the environment variable ``RAFLAB_NO_MEMORY_CHECK=1``.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

#: set to 1 (or any value but 0 / empty) to skip the check
ENV_VAR = "RAFLAB_NO_MEMORY_CHECK"

FLOAT64 = 8
FLOAT32 = 4
#: memory of one record (a flat dict of a grid point's results) while a grid is solved and tabulated:
#: a generous estimate, shared by the theory grids and the per-seed records of the fits
BYTES_PER_RECORD = 2_000


class MemoryRefused(ValueError):
    """The estimate exceeds the memory available (a ValueError: the CLI prints it as one line)."""


def _meminfo_available() -> int | None:
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except Exception:  # psutil missing or unsupported: read the kernel's own estimate
        pass
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_headroom(root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """memory.max - memory.current of this process's cgroup (v2), when it has a limit. The page
    cache the kernel can drop (``inactive_file`` of memory.stat) counts as free, as ``docker stats``
    counts it: after a pip install or a data read, memory.current sits near the limit otherwise."""
    try:
        limit = (root / "memory.max").read_text().strip()
        if limit == "max":
            return None
        used = int((root / "memory.current").read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        for line in (root / "memory.stat").read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "inactive_file":
                used -= int(value)
                break
    except (OSError, ValueError):
        pass
    return int(limit) - max(used, 0)


def _address_space_headroom() -> int | None:
    """What ``ulimit -v`` (RLIMIT_AS) still allows this process to map."""
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    except (ValueError, OSError):
        return None
    if soft == resource.RLIM_INFINITY:
        return None
    try:
        with open("/proc/self/statm") as f:
            used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        used = 0
    return soft - used


def available_memory() -> int | None:
    """Bytes this process can still allocate: the least of the machine's available memory, the
    cgroup's headroom and the address-space limit's headroom; None when none of them can be read."""
    values = [v for v in (_meminfo_available(), _cgroup_headroom(), _address_space_headroom()) if v is not None]
    return max(0, min(values)) if values else None


def check_skipped() -> bool:
    """Whether the user turned the memory checks off (``RAFLAB_NO_MEMORY_CHECK`` set, not to 0)."""
    return os.environ.get(ENV_VAR, "").strip() not in ("", "0")


def format_bytes(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.3g} {unit}"
        n /= 1000
    return f"{n:.3g} PB"  # pragma: no cover


def require_memory(nbytes: float, what: str) -> None:
    """Raise :class:`MemoryRefused` when ``nbytes`` (an estimate) exceeds the memory available.

    ``what`` names the work and its sizes ("simulate at d=10000000, n=20000000"); the message says
    what it needs, what the machine has, and how to override (``RAFLAB_NO_MEMORY_CHECK=1``).
    """
    if check_skipped():
        return
    available = available_memory()
    if available is None or nbytes <= available:
        return
    raise MemoryRefused(f"{what} needs about {format_bytes(nbytes)} of memory, but this machine has "
                        f"{format_bytes(available)} available; choose smaller sizes (or set "
                        f"{ENV_VAR}=1 to try anyway)")

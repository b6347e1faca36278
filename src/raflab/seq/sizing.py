"""Models of a given size: the width at which a network has (closest to) a target parameter count.

Comparing mixers at equal width compares models of unequal size (at width 64 on the MQAR defaults:
attention 39K, S4D 17K, Mamba 70K parameters). :func:`width_for_parameters` picks, for a network
config and a target count, the width whose exact count (:func:`raflab.seq.nets.parameter_count`) is
closest to the target, every other setting held (layers, heads, MLP ratio, and for Mamba ``expand``
and ``d_state``), so a study can put its models on a size grid (``target_params``) instead of a width
grid. The width is a multiple of the number of heads.

Example
-------
>>> from raflab.seq.nets import NetConfig, parameter_count
>>> base = NetConfig(vocab_size=64, block_size=32, mixer="mamba", n_layer=2, mlp_ratio=0.0)
>>> width = width_for_parameters(base, 40_000)
>>> width, parameter_count(sized_config(base, 40_000))
(46, 39698)
"""

from __future__ import annotations

from dataclasses import replace

from raflab.core.checks import in_range
from raflab.seq.nets import NetConfig, parameter_count

#: the widest network the search considers
MAX_WIDTH = 8192


def width_for_parameters(config: NetConfig, target: int, max_width: int = MAX_WIDTH) -> int:
    """The width (a multiple of ``config.n_head``, at most ``max_width``) whose ``parameter_count``
    is closest to ``target``, every other setting of ``config`` held; ties go to the narrower width.

    The count grows with the width, so the search stops at the first width past the target.
    Refuses a target below the narrowest network's count or above the widest one's.
    """
    if isinstance(target, bool) or not isinstance(target, int):
        raise ValueError(f"target parameter count must be an integer, got {target!r}")
    in_range(target, "target parameter count", low=1)
    step = config.n_head
    counts = {}
    for width in range(step, max_width + 1, step):
        counts[width] = parameter_count(replace(config, n_embd=width))
        if counts[width] >= target:
            break
    narrowest, widest = min(counts), max(counts)
    if counts[narrowest] > target:
        raise ValueError(f"target of {target:,} parameters is below the smallest {config.mixer} network "
                         f"({counts[narrowest]:,} at width {narrowest})")
    if counts[widest] < target:
        raise ValueError(f"target of {target:,} parameters is above the {config.mixer} network of width "
                         f"{widest} ({counts[widest]:,})")
    return min(counts, key=lambda w: (abs(counts[w] - target), w))


def sized_config(config: NetConfig, target: int, max_width: int = MAX_WIDTH) -> NetConfig:
    """``config`` at the width of :func:`width_for_parameters`."""
    return replace(config, n_embd=width_for_parameters(config, target, max_width))


__all__ = ["width_for_parameters", "sized_config", "MAX_WIDTH"]

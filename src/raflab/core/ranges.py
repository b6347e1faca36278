"""The one parser for parameter ranges on the command line: ``start:stop:num`` or ``a,b,c``."""

from __future__ import annotations

import numpy as np

#: the most values one range may have: a line or a grid axis, not an allocation that exhausts memory
MAX_POINTS = 100_000


def parse_range(text: str, name: str = "value") -> np.ndarray:
    """Parse ``'0.5:5:10'`` (numpy.linspace, endpoints included), ``'0,0.1,0.3'`` or ``'2'``.

    Raises
    ------
    ValueError
        With one line naming the parameter and the accepted forms; also for more than
        :data:`MAX_POINTS` values (``0.5:5:100000000`` would allocate before any work).

    Examples
    --------
    >>> parse_range("1:2:3").tolist()
    [1.0, 1.5, 2.0]
    >>> parse_range("0,0.1").tolist()
    [0.0, 0.1]
    """
    s = str(text).strip()
    err = ValueError(f"malformed range for {name}: {text!r} (use start:stop:num, a comma list, or a number)")
    try:
        if ":" in s:
            parts = s.split(":")
            if len(parts) != 3:
                raise err
            start, stop = float(parts[0]), float(parts[1])
            num = float(parts[2])
            if num != int(num) or num < 1:
                raise err
            values = None if num > MAX_POINTS else np.linspace(start, stop, int(num))
        else:
            values = np.array([float(v) for v in s.split(",")], dtype=float)
    except (TypeError, ValueError) as exc:
        raise err from exc
    if values is None or values.size > MAX_POINTS:
        raise ValueError(f"too many points for {name}: {text!r} (at most {MAX_POINTS:,} values per range)")
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise err
    return values

"""Wall time of the RAF figure gallery's theory figures (``raflab figures --theory-only``), figure by
figure, on this machine's cores; goal: the whole theory gallery under a minute on 2 cores."""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from raflab.raf.experiments.gallery import GallerySettings, make_gallery


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", default=None, help="keep the figures here (default: a temporary folder)")
    args = p.parse_args(argv)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        table = make_gallery(args.out or folder, GallerySettings(theory_only=True))
    total = time.perf_counter() - start
    print(f"RAF theory gallery on {os.cpu_count()} cores")
    for row in table.itertuples():
        print(f"  {row.figure:24s} {row.seconds:6.2f} s")
    print(f"total {total:.1f} s (goal: under 60 s)")


if __name__ == "__main__":
    main()

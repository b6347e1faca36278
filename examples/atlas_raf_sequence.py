"""The atlas's RAF-through-sequence-models runs: GPT / S4D / Mamba blocks on RAF data (d = 8 coordinates
read one per position, n = 512 samples, width 4, 1000 full-batch Adam steps), eps 0.5 and 1, seeds 0-1.

    PYTHONPATH=src python examples/atlas_raf_sequence.py attention,s4d out.csv

writes one record per run; the shipped table is src/raflab/ledger/atlas_raf_sequence.csv.
"""

import sys
import time

import torch

from raflab.ledger.atlas_seq import raf_sequence_runs

if __name__ == "__main__":
    torch.set_num_threads(1)
    mixers, out = sys.argv[1].split(","), sys.argv[2]
    start = time.time()
    runs = raf_sequence_runs(mixers, eps=(0.5, 1.0), seeds=(0, 1), d=8, alpha=64.0, width=4, steps=1000)
    runs["seconds_all_runs"] = round(time.time() - start, 1)
    runs.to_csv(out, index=False)
    print(runs.to_string())

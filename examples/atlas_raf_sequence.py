"""The atlas's RAF-through-sequence-models runs: GPT / S4D / Mamba blocks on RAF data (d = 8
coordinates read one per position, n = 256 samples, width 4, 2500 full-batch Adam steps, lr 1e-2
cosine-annealed to 1e-4), eps 0.5 and 1, seeds 0-2 (sized for 2 shared CPU cores).

    PYTHONPATH=src python examples/atlas_raf_sequence.py attention,s4d 0.5,1 out.csv

writes one record per run (the file grows run by run); the shipped table is
src/raflab/ledger/atlas_raf_sequence.csv (the rows of every mixer, concatenated).
"""

import sys
import time

import pandas as pd
import torch

from raflab.ledger.atlas_seq import train_raf_sequence

SETTINGS = dict(d=8, alpha=32.0, width=4, steps=2500, lr=1e-2)

if __name__ == "__main__":
    torch.set_num_threads(1)
    mixers, eps_values, out = sys.argv[1].split(","), [float(e) for e in sys.argv[2].split(",")], sys.argv[3]
    rows = []
    for mixer in mixers:
        for eps in eps_values:
            for seed in (0, 1, 2):
                start = time.time()
                rows.append(train_raf_sequence(mixer, eps, seed=seed, **SETTINGS))
                rows[-1]["seconds"] = round(time.time() - start, 1)
                print(rows[-1], flush=True)
                pd.DataFrame(rows).to_csv(out, index=False)

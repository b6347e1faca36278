"""RAF data through sequence models, for the memorization atlas: the RAF task (Gaussian inputs x in
R^d, rule labels sign(w*.x), a fraction eps of them replaced by fair coins) read one coordinate per
position by a small GPT / S4D / Mamba block (``raflab.seq.nets``), classified from the last position.

Each input x is a sequence of d scalars; a Linear(1, C) embedding replaces the token embedding
(positions added as in the network's own config), then the blocks, the final LayerNorm and a
Linear(C, 1) logit at the last position (a causal model sees the whole input there). Trained
full-batch with Adam on the logistic loss, the learning rate annealed by a cosine to lr / 100
(a constant rate oscillates at the end of full-batch training). Measured per run: the fraction of training facts fitted,
the rule's test error on fresh rule-labelled inputs (the sign error of the RAF theory), and the fact
bits stored, n_facts (1 - h2(fact error)) (a binary symmetric channel's capacity per fact; 0 at
chance), over the parameters the classifier uses.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from raflab.core.checks import in_range, one_of
from raflab.core.seeding import stream_seeds
from raflab.raf.config import RAFConfig
from raflab.raf.data import sample_raf, sample_rule_test_set

RAF_MIXERS = ("attention", "s4d", "mamba")


class RAFSequenceClassifier(nn.Module):
    """Scalar sequence [batch, d] -> one logit, through the blocks of a ``raflab.seq.nets`` network."""

    def __init__(self, d: int, mixer: str, width: int):
        super().__init__()
        from raflab.seq.nets import Block, NetConfig, SequenceModel

        config = NetConfig(vocab_size=2, block_size=d, mixer=mixer, n_embd=width, mlp_ratio=2.0)
        self.embed = nn.Linear(1, width)
        self.positions = nn.Parameter(0.02 * torch.randn(d, width)) if config.positional else None
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(width, bias=config.bias)
        self.head = nn.Linear(width, 1)
        self.apply(SequenceModel._init_weights)  # the networks' own initialization (GPT-2 style, SSM resets)
        for module in self.modules():
            if hasattr(module, "reset_ssm_parameters"):
                module.reset_ssm_parameters()

    def forward(self, x):
        h = self.embed(x.unsqueeze(-1))
        if self.positions is not None:
            h = h + self.positions
        for block in self.blocks:
            h = block(h)
        return self.head(self.ln_f(h[:, -1])).squeeze(-1)


def _binary_entropy(p: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    return float(-p * np.log2(p) - (1 - p) * np.log2(1 - p))


def train_raf_sequence(mixer: str, eps: float, *, d: int = 8, alpha: float = 32.0, width: int = 8,
                       steps: int = 1500, lr: float = 1e-2, n_test: int = 4000, seed: int = 0) -> dict:
    """One run: a sequence classifier fitted to one RAF training set of n = alpha d samples."""
    one_of(mixer, RAF_MIXERS, "mixer")
    eps = in_range(eps, "eps", 0.0, 1.0, low_open=True)
    seeds = stream_seeds(seed, ["data", "weights", "test"])
    sample = sample_raf(RAFConfig(d=d, alpha=alpha, eps=eps), np.random.default_rng(seeds["data"]))
    X_test, y_test = sample_rule_test_set(sample.teacher, n_test, np.random.default_rng(seeds["test"]))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seeds["weights"])
        model = RAFSequenceClassifier(d, mixer, width)
    X = torch.as_tensor(sample.X, dtype=torch.float32)
    target = torch.as_tensor((sample.y + 1) / 2, dtype=torch.float32)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps, eta_min=lr / 100)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = nn.functional.binary_cross_entropy_with_logits(model(X), target)
        loss.backward()
        optimizer.step()
        schedule.step()
    if not torch.isfinite(loss):
        raise RuntimeError(f"{mixer} on RAF data diverged (loss {float(loss)}): lower lr (got {lr:g})")
    with torch.no_grad():
        train_sign = np.where(model(X).numpy() >= 0, 1.0, -1.0)
        test_sign = np.where(model(torch.as_tensor(X_test, dtype=torch.float32)).numpy() >= 0, 1.0, -1.0)
    facts = sample.is_fact
    fact_error = float(np.mean(train_sign[facts] != sample.y[facts]))
    parameters = sum(p.numel() for p in model.parameters())
    stored = sample.n_facts * (1.0 - _binary_entropy(fact_error)) if fact_error < 0.5 else 0.0
    return {"mixer": mixer, "eps": eps, "d": d, "alpha": alpha, "width": width, "steps": steps, "seed": seed,
            "n_facts": sample.n_facts, "parameters": parameters, "fact_error": fact_error,
            "rule_train_error": float(np.mean(train_sign[~facts] != sample.y[~facts])) if (~facts).any() else np.nan,
            "gen_error": float(np.mean(test_sign != y_test)), "stored_bits": stored,
            "bits_per_parameter": stored / parameters, "final_loss": float(loss.detach())}


def raf_sequence_runs(mixers=RAF_MIXERS, eps=(0.2, 0.5), seeds=(0, 1), **options) -> pd.DataFrame:
    """Every (mixer, eps, seed) run of :func:`train_raf_sequence` as one record each."""
    torch.set_num_threads(1)
    return pd.DataFrame([train_raf_sequence(m, e, seed=s, **options) for m in mixers for e in eps for s in seeds])


SHIPPED_RUNS = "atlas_raf_sequence.csv"
MIXER_NAMES = {"attention": "GPT", "s4d": "S4D", "mamba": "Mamba"}


def shipped_raf_sequence_runs() -> pd.DataFrame:
    """The shipped per-seed records of ``examples/atlas_raf_sequence.py`` (empty when none are shipped)."""
    import importlib.resources

    resource = importlib.resources.files("raflab.ledger").joinpath(SHIPPED_RUNS)
    if not resource.is_file():
        return pd.DataFrame()
    with resource.open("r", encoding="utf-8") as handle:
        return pd.read_csv(handle)


def raf_sequence_summary(runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per (mixer, eps) setting: the runs' means over seeds, standard errors, ``n_seeds`` and the 95%
    t-interval of bits per parameter (the shipped runs unless ``runs`` is given; empty when none)."""
    from raflab.core.summary import summarize

    runs = shipped_raf_sequence_runs() if runs is None else runs
    if runs.empty:
        return pd.DataFrame()
    return summarize(runs, ["mixer", "eps", "d", "alpha", "width", "steps"],
                     ["bits_per_parameter", "gen_error", "stored_bits", "parameters", "fact_error"],
                     ci95_of=["bits_per_parameter"])

"""A small joint model over image patches and text tokens (the cross-modal persona study).

The input is one sequence ``[patch_1 .. patch_P | token_1 token_2 token_3]``:

- each patch (``patch_dim`` pixels) goes through one shared Linear layer, the vision "encoder" of a
  ViT reduced to its patch embedding; each token through an embedding table;
- learned positions for all ``P + 3`` slots and a learned modality embedding (image or text) are added;
- a stack of bidirectional pre-LN transformer encoder layers (``torch.nn.TransformerEncoderLayer``:
  the sequence is a question, not a text to continue, so no causal mask) mixes them; when a row has
  no image (``has_image`` False) its patch slots are masked out of attention;
- the output at the last slot (the relation token: "city", "first name", ...) goes through a final
  LayerNorm and a linear head over the whole vocabulary.

``model(patches, tokens, has_image, answer)`` returns ``(logits, loss)``, the contract of
:func:`raflab.learners.train.train_model`; the loss is the cross-entropy of ``answer`` (None without
an answer).

Example
-------
>>> import torch
>>> cfg = JointConfig(vocab_size=20, n_patches=16, patch_dim=16, d_model=16, n_layers=1, n_heads=2)
>>> model = make_joint_model(cfg, seed=0)
>>> logits, loss = model(torch.zeros(4, 16, 16), torch.ones(4, 3, dtype=torch.long),
...                      torch.tensor([True, False, True, False]), torch.zeros(4, dtype=torch.long))
>>> tuple(logits.shape), count_parameters(model) == joint_parameter_count(cfg)
((4, 20), True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["JointConfig", "JointModel", "make_joint_model", "count_parameters", "joint_parameter_count",
           "predict_answers"]

N_TEXT = 3  # subject (two slots) + relation


@dataclass(frozen=True)
class JointConfig:
    """Shape of the joint model; the defaults are a 2-layer, 64-wide encoder."""

    vocab_size: int
    n_patches: int = 16
    patch_dim: int = 16
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    mlp_ratio: float = 4.0
    dropout: float = 0.0

    def __post_init__(self):
        for name in ("vocab_size", "n_patches", "patch_dim", "d_model", "n_layers", "n_heads"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model {self.d_model} is not divisible by n_heads {self.n_heads}")
        if not self.mlp_ratio > 0:
            raise ValueError(f"mlp_ratio must be > 0, got {self.mlp_ratio!r}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")

    @property
    def d_ff(self) -> int:
        return max(1, round(self.mlp_ratio * self.d_model))


class JointModel(nn.Module):
    """Patch embedding + token embedding -> bidirectional transformer -> answer logits."""

    def __init__(self, config: JointConfig):
        super().__init__()
        self.config = c = config
        self.patch_embed = nn.Linear(c.patch_dim, c.d_model)
        self.token_embed = nn.Embedding(c.vocab_size, c.d_model)
        self.position = nn.Parameter(torch.zeros(c.n_patches + N_TEXT, c.d_model))
        self.modality = nn.Parameter(torch.zeros(2, c.d_model))  # 0: image slots, 1: text slots
        layer = nn.TransformerEncoderLayer(c.d_model, c.n_heads, c.d_ff, c.dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, c.n_layers, enable_nested_tensor=False)
        self.ln_f = nn.LayerNorm(c.d_model)
        self.head = nn.Linear(c.d_model, c.vocab_size)
        nn.init.normal_(self.position, std=0.02)
        nn.init.normal_(self.modality, std=0.02)
        nn.init.normal_(self.token_embed.weight, std=0.02)

    def forward(self, patches, tokens, has_image, answer=None):
        c = self.config
        image = self.patch_embed(patches) + self.modality[0]
        text = self.token_embed(tokens) + self.modality[1]
        x = torch.cat([image, text], dim=1) + self.position
        # True = ignored by attention: the patch slots of a text-only row
        mask = torch.zeros(x.shape[:2], dtype=torch.bool, device=x.device)
        mask[:, :c.n_patches] = ~has_image.bool()[:, None]
        h = self.encoder(x, src_key_padding_mask=mask)
        logits = self.head(self.ln_f(h[:, -1]))
        loss = None if answer is None else F.cross_entropy(logits, answer)
        return logits, loss


def make_joint_model(config: JointConfig, seed: int = 0, device: str = "cpu") -> JointModel:
    """A freshly initialised model; the weights depend on ``seed`` only (the global RNG is untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = JointModel(config)
    return model.to(device)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def joint_parameter_count(config: JointConfig) -> int:
    """Parameters of :class:`JointModel`, in closed form (for records without building the model)."""
    d, f = config.d_model, config.d_ff
    per_layer = 4 * d * d + 4 * d + 2 * d * f + f + d + 4 * d  # attention (in+out), MLP, two LayerNorms
    return ((config.patch_dim + 1) * d + config.vocab_size * d + (config.n_patches + N_TEXT) * d + 2 * d
            + config.n_layers * per_layer + 2 * d + (d + 1) * config.vocab_size)


@torch.no_grad()
def predict_answers(model: nn.Module, rows: dict, batch_size: int = 1024) -> np.ndarray:
    """Argmax answers of ``model`` on question rows (``patches``, ``tokens``, ``has_image``)."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out = []
    n = len(rows["tokens"])
    for i in range(0, n, batch_size):
        batch = {k: torch.as_tensor(np.asarray(rows[k][i:i + batch_size])).to(device)
                 for k in ("patches", "tokens", "has_image")}
        logits, _ = model(**batch)
        out.append(logits.argmax(-1).cpu().numpy())
    model.train(was_training)
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)

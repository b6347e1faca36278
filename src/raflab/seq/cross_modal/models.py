"""A small joint model over image patches and text tokens (the cross-modal persona study).

The shape of a vision-language model (a vision encoder whose output tokens take a place in the
language model's input, as in LLaVA or PaliGemma), reduced to what a laptop trains in a minute:

- *vision encoder*: each patch (``patch_dim`` pixels) goes through one shared Linear layer plus a
  learned patch position (a ViT's patch embedding), GELU, then one Linear layer from all patches to
  ``N_VISUAL`` = 2 *visual tokens* of width ``d_model`` (the projector);
- *language model*: a sequence of ``N_TEXT`` = 3 tokens ``[subject, subject, relation]``, learned
  positions, a stack of bidirectional pre-LN transformer encoder layers
  (``torch.nn.TransformerEncoderLayer``: the question is read whole, no causal mask), a final
  LayerNorm and a head over the vocabulary whose weight is the token embedding (tied, as in GPT-2).
  In a text question the subject slots hold the persona's name tokens; in an image question
  (``has_image`` True) they hold the two visual tokens, exactly where the name would be.

Nothing but training links a face to its name: image -> name questions ("captions") teach the
projector to produce visual tokens that the language model reads like the name. Whether a fact
learned through one modality is recalled through the other then depends on how close the visual
tokens come to the name embeddings, which is what the study measures. The optional *name tie*
(``JointConfig.name_tie``, a mitigation) adds to the loss of every image caption row the squared
distance between the visual token in slot k and the (fixed) embedding of the name token it answers,
so the projector is taught to emit the name itself rather than any token the captions can decode.

``model(patches, tokens, has_image, answer)`` returns ``(logits, loss)``, the contract of
:func:`raflab.seq.train.train_model`; the loss is the cross-entropy of ``answer`` (None without
an answer); the prediction is read at the last (relation) slot.

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

from raflab.seq.nets import run_stream_seed

__all__ = ["JointConfig", "JointModel", "make_joint_model", "count_parameters", "joint_parameter_count",
           "predict_answers"]

N_TEXT = 3  # subject (two slots) + relation
N_VISUAL = 2  # visual tokens: they fill the two subject slots


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
    #: caption relations (ask-first-name, ask-last-name): with ``name_tie > 0``, an image row asking
    #: relation ``name_relations[k]`` also pulls visual token k towards its answer's (the name's)
    #: token embedding -- the face's token is tied to the name it replaces (0: no tie)
    name_relations: tuple[int, ...] = ()
    name_tie: float = 0.0

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
        if not self.name_tie >= 0:
            raise ValueError(f"name_tie must be >= 0, got {self.name_tie!r}")
        if len(self.name_relations) > N_VISUAL:
            raise ValueError(f"at most {N_VISUAL} name_relations, got {self.name_relations!r}")

    @property
    def d_ff(self) -> int:
        return max(1, round(self.mlp_ratio * self.d_model))


class JointModel(nn.Module):
    """Vision encoder -> visual tokens in the subject slots -> bidirectional transformer -> answer logits."""

    def __init__(self, config: JointConfig):
        super().__init__()
        self.config = c = config
        self.patch_embed = nn.Linear(c.patch_dim, c.d_model)
        self.patch_position = nn.Parameter(torch.zeros(c.n_patches, c.d_model))
        self.projector = nn.Linear(c.n_patches * c.d_model, N_VISUAL * c.d_model)
        self.token_embed = nn.Embedding(c.vocab_size, c.d_model)
        self.position = nn.Parameter(torch.zeros(N_TEXT, c.d_model))
        layer = nn.TransformerEncoderLayer(c.d_model, c.n_heads, c.d_ff, c.dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, c.n_layers, enable_nested_tensor=False)
        self.ln_f = nn.LayerNorm(c.d_model)
        nn.init.normal_(self.patch_position, std=0.02)
        nn.init.normal_(self.position, std=0.02)
        nn.init.normal_(self.token_embed.weight, std=0.02)

    def language_parameters(self):
        """The language model's parameters (embedding = head, positions, encoder, final norm)."""
        yield from (self.token_embed.weight, self.position)
        yield from self.encoder.parameters()
        yield from self.ln_f.parameters()

    def visual_tokens(self, patches):
        """``(B, n_patches, patch_dim)`` -> ``(B, N_VISUAL, d_model)``."""
        h = F.gelu(self.patch_embed(patches) + self.patch_position)
        return self.projector(h.flatten(1)).view(len(patches), N_VISUAL, self.config.d_model)

    def forward(self, patches, tokens, has_image, answer=None):
        x = self.token_embed(tokens)
        image = has_image.bool()
        tie = None
        if image.any():
            visual = self.visual_tokens(patches)
            subject = torch.where(image[:, None, None], visual, x[:, :N_VISUAL])
            x = torch.cat([subject, x[:, N_VISUAL:]], dim=1)
            if answer is not None and self.config.name_tie > 0:
                tie = self._name_tie(visual, tokens, image, answer)
        h = self.encoder(x + self.position)
        logits = self.ln_f(h[:, -1]) @ self.token_embed.weight.T  # tied head
        loss = None if answer is None else F.cross_entropy(logits, answer)
        if tie is not None:
            loss = loss + self.config.name_tie * tie
        return logits, loss

    def _name_tie(self, visual, tokens, image, answer):
        """Mean squared distance between visual token k and the answer's embedding (the name, held
        fixed) over the image caption rows asking ``name_relations[k]``; 0 without such rows."""
        total = visual.new_zeros(())
        for k, relation in enumerate(self.config.name_relations):
            rows = image & (tokens[:, 2] == relation)
            if rows.any():
                target = self.token_embed(answer[rows]).detach()
                total = total + (visual[rows, k] - target).pow(2).sum(-1).mean()
        return total


def make_joint_model(config: JointConfig, seed: int = 0, device: str = "cpu") -> JointModel:
    """A freshly initialised model; the weights depend on ``seed`` only (the global RNG is untouched).

    ``seed`` is the run's seed: the weights come from its ``"weights"`` stream
    (:func:`raflab.seq.nets.run_stream_seed`), the batches of :func:`raflab.seq.train.train_model`
    from its ``"batches"`` one.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(run_stream_seed(seed, "weights"))
        model = JointModel(config)
    return model.to(device)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def joint_parameter_count(config: JointConfig) -> int:
    """Parameters of :class:`JointModel`, in closed form (for records without building the model)."""
    d, f, P = config.d_model, config.d_ff, config.n_patches
    per_layer = 4 * d * d + 4 * d + 2 * d * f + f + d + 4 * d  # attention (in+out), MLP, two LayerNorms
    vision = (config.patch_dim + 1) * d + P * d + (P * d + 1) * N_VISUAL * d
    return vision + config.vocab_size * d + N_TEXT * d + config.n_layers * per_layer + 2 * d


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

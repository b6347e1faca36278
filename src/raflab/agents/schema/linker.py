"""Rote SFT vs GRPO for schema linking: a CPU-scale analogue of Schema-R1 (issue 11 part 2).

The policy (``SchemaPolicy``) reads a question and the candidate items of a database (every table and
every ``table.column``) and makes one Bernoulli include/exclude decision per item plus one categorical
choice of output layout. A completion is rendered as text and scored by the authors' rule-based reward
(``raflab.agents.schema.reward``); one layout is ``<think>\\n...\\n</think>\\n<answer>\\n###Tables: ...;
\\n###Columns: ...;\\n</answer>``, the three others fail the format check (no think block; a think block
cut before the answer; everything on one line), so the format reward has something to teach.

Item logits: a learned word embedding (so that synonyms such as *vocalist* / *singer* can be learned)
gives, for each item-name word, its best cosine match among the question words; exact word matches are
a second, fixed feature; both are pooled (mean, max) over the item's own name and over its table's
name, and a small MLP maps the 9 features (with an is-table flag) to the logit.

Methods (``METHODS``):

* ``sft``: supervised training on the gold sets ("rote"): binary cross-entropy per item and
  cross-entropy toward the well-formed layout, ``sft_steps`` Adam steps.
* ``grpo``: GRPO from the random initial policy, ``grpo_steps`` steps.
* ``sft+grpo``: the ``sft`` run as cold start (same seed, so its first stage is exactly ``sft``), then
  ``grpo_steps`` GRPO steps with the cold-start policy as the frozen KL reference.

GRPO step (as TRL's ``GRPOTrainer``, which the authors use): ``prompts_per_step`` questions, ``group_size``
completions each from the current policy; advantage ``(r - mean) / (std + 1e-4)`` within each group
(unbiased std, as ``torch.std``); ``inner_steps`` gradient steps on the clipped surrogate
``min(rho A, clip(rho, 1 - eps, 1 + eps) A)`` per decision, minus ``beta`` times the k3 estimate of
``KL(pi || pi_ref)`` per decision (``exp(ref - logp) - (ref - logp) - 1``), averaged over each
completion's decisions, then over completions.

Evaluation is greedy (include an item when its probability exceeds 1/2, take the most likely layout);
the metrics read the rendered text back with the reward's parser, so a layout without an answer
predicts nothing.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field, field_validator

from raflab.agents.schema.data import SPLITS, Example, SchemaDataConfig, seed_splits, tokenize, train_seeds, vocabulary
from raflab.agents.schema.reward import WEIGHTS, WRONG_COSTS, check_weights, parse_answer, set_metrics, total_reward
from raflab.core import checkpoints
from raflab.core.checks import one_of
from raflab.core.device import resolve_device
from raflab.core.seeding import torch_generator
from raflab.core.summary import summarize as summarize_seeds

METHODS = ("sft", "grpo", "sft+grpo")
LAYOUTS = ("full", "no_think", "think_only", "one_line")
METRICS = ("tables_exact", "tables_filter", "columns_exact", "columns_filter", "tables_recall",
           "columns_recall", "items_predicted", "format_ok", "mean_reward")


class SchemaTrainConfig(BaseModel):
    """Policy size and the SFT / GRPO schedules.

    Examples
    --------
    >>> SchemaTrainConfig(group_size=4).group_size
    4
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    dim: int = Field(32, ge=2, description="word embedding dimension")
    hidden: int = Field(32, ge=1, description="hidden units of the item scorer")
    lr: float = Field(0.03, gt=0, allow_inf_nan=False, description="Adam learning rate of SFT")
    grpo_lr: float = Field(0.01, gt=0, allow_inf_nan=False, description="Adam learning rate of GRPO (a fresh Adam)")
    batch_size: int = Field(32, ge=1, description="questions per SFT step")
    sft_steps: int = Field(600, ge=0, description="SFT steps (the sft method, and the cold start of sft+grpo)")
    grpo_steps: int = Field(300, ge=0, description="GRPO steps (grpo, and after the cold start of sft+grpo)")
    group_size: int = Field(8, ge=2, description="completions sampled per question (G)")
    prompts_per_step: int = Field(16, ge=1, description="questions per GRPO step")
    clip_eps: float = Field(0.2, gt=0, lt=1, description="ratio clip epsilon")
    beta: float = Field(0.04, ge=0, allow_inf_nan=False, description="KL penalty to the reference policy")
    inner_steps: int = Field(2, ge=1, description="gradient steps per sampled batch (TRL num_iterations)")
    temperature: float = Field(1.0, gt=0, allow_inf_nan=False, description="sampling temperature")
    eval_every: int = Field(50, ge=1, description="steps between points of the curves")
    eval_size: int = Field(200, ge=1, description="questions per split evaluated for the curves")
    reward_weights: dict[str, float] | None = Field(
        None, description="GRPO reward weights per term (accuracy, format, tag_count, length; a missing term "
        "weighs 0); None: the authors' WEIGHTS. Evaluation's mean_reward always uses the authors' weights")
    wrong_cost: str = Field("share", description="how the accuracy reward charges a wrong item: share (the "
                            "authors'), per_item or none (reward.accuracy_reward)")

    @field_validator("reward_weights")
    @classmethod
    def _known_terms(cls, v):
        return None if v is None else check_weights(v)

    @field_validator("wrong_cost")
    @classmethod
    def _known_cost(cls, v):
        one_of(v, WRONG_COSTS, "wrong_cost")
        return v


@dataclass
class Encoded:
    """One split as padded tensors, plus what rendering needs."""

    q: torch.Tensor  # (N, Lq) word ids, 0 = pad
    own: torch.Tensor  # (N, I, Lo) words of each item's own name
    parent: torch.Tensor  # (N, I, Lp) words of the item's table name
    is_table: torch.Tensor  # (N, I) float
    mask: torch.Tensor  # (N, I) bool: a real item
    gold: torch.Tensor  # (N, I) float
    items: list[list[tuple[str, str]]]  # (kind, name) per item
    solutions: list[str]

    def __len__(self) -> int:
        return self.q.shape[0]

    def to(self, device: str) -> Encoded:
        return Encoded(self.q.to(device), self.own.to(device), self.parent.to(device), self.is_table.to(device),
                       self.mask.to(device), self.gold.to(device), self.items, self.solutions)

    def take(self, idx) -> Encoded:
        idx_list = [int(i) for i in idx]
        t = torch.as_tensor(idx_list, device=self.q.device)
        return Encoded(self.q[t], self.own[t], self.parent[t], self.is_table[t], self.mask[t], self.gold[t],
                       [self.items[i] for i in idx_list], [self.solutions[i] for i in idx_list])


def encode(examples: list[Example], vocab: dict[str, int]) -> Encoded:
    """Word ids of questions and item names; words outside ``vocab`` are an error."""
    if not examples:
        raise ValueError("no examples to encode")

    def ids(text):
        try:
            return [vocab[w] for w in tokenize(text)]
        except KeyError as exc:
            raise ValueError(f"word {exc.args[0]!r} not in the vocabulary") from None

    qs = [ids(e.question) for e in examples]
    per = [e.db.items() for e in examples]
    for e, p, qw in zip(examples, per, qs):
        if not p:
            raise ValueError(f"database {e.db.db_id!r} has no tables (empty schema)")
        if not qw:
            raise ValueError(f"empty question on database {e.db.db_id!r}")
    n_i = max(len(p) for p in per)
    own_ids = [[ids(name.split(".")[-1]) for _, name, _ in p] for p in per]
    par_ids = [[ids(table) for _, _, table in p] for p in per]
    lo = max(len(w) for o in own_ids for w in o)
    lp = max(len(w) for o in par_ids for w in o)
    N = len(examples)
    q = np.zeros((N, max(len(x) for x in qs)), dtype=np.int64)
    own = np.zeros((N, n_i, lo), dtype=np.int64)
    parent = np.zeros((N, n_i, lp), dtype=np.int64)
    is_table = np.zeros((N, n_i), dtype=np.float32)
    mask = np.zeros((N, n_i), dtype=bool)
    gold = np.zeros((N, n_i), dtype=np.float32)
    items = []
    for n, (e, p) in enumerate(zip(examples, per)):
        q[n, :len(qs[n])] = qs[n]
        gold_set = set(e.gold_tables) | set(e.gold_columns)
        for i, (kind, name, _) in enumerate(p):
            own[n, i, :len(own_ids[n][i])] = own_ids[n][i]
            parent[n, i, :len(par_ids[n][i])] = par_ids[n][i]
            is_table[n, i] = kind == "table"
            mask[n, i] = True
            gold[n, i] = name in gold_set
        items.append([(kind, name) for kind, name, _ in p])
    q, own, parent, is_table, mask, gold = map(torch.from_numpy, (q, own, parent, is_table, mask, gold))
    return Encoded(q, own, parent, is_table, mask, gold, items, [e.gold_answer() for e in examples])


class SchemaPolicy(torch.nn.Module):
    """Item logits (Bernoulli include decisions) and layout logits from a question and a schema."""

    def __init__(self, vocab_size: int, dim: int = 32, hidden: int = 32):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab_size, dim, padding_idx=0)
        self.scorer = torch.nn.Sequential(torch.nn.Linear(9, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 1))
        self.layout = torch.nn.Linear(dim, len(LAYOUTS))

    @staticmethod
    def _pool(x, m):
        mean = (x * m).sum(-1) / m.sum(-1).clamp(min=1)
        mx = x.masked_fill(m == 0, -1.0).max(-1).values
        return mean, mx

    def _match(self, eq, q, qm, words):
        ew = F.normalize(self.emb(words), dim=-1)  # (B, I, L, d)
        s = torch.einsum("bqd,bild->bilq", eq, ew).masked_fill(~qm[:, None, None, :], -1.0).max(-1).values
        ex = ((words[..., None] == q[:, None, None, :]) & qm[:, None, None, :]).any(-1).float()
        wm = (words > 0).float()
        return (*self._pool(s, wm), *self._pool(ex, wm))

    def forward(self, enc: Encoded) -> tuple[torch.Tensor, torch.Tensor]:
        qm = enc.q > 0
        eq = F.normalize(self.emb(enc.q), dim=-1)
        feats = torch.stack([*self._match(eq, enc.q, qm, enc.own), *self._match(eq, enc.q, qm, enc.parent),
                             enc.is_table], dim=-1)
        logits = self.scorer(feats).squeeze(-1)
        qmean = (self.emb(enc.q) * qm[..., None]).sum(1) / qm.sum(1, keepdim=True).clamp(min=1)
        return logits, self.layout(qmean)


def render(items: list[tuple[str, str]], chosen, layout: int) -> str:
    """The completion text for the chosen items (a 0/1 sequence over ``items``) in one of ``LAYOUTS``."""
    tables = [name for (kind, name), c in zip(items, chosen) if c and kind == "table"]
    columns = [name for (kind, name), c in zip(items, chosen) if c and kind == "column"]
    answer = f"###Tables: {', '.join(tables)};\n###Columns: {', '.join(columns)};"
    think = (f"the question names {' and '.join(tables) if tables else 'no table'}; "
             f"it needs {len(columns)} column{'s' if len(columns) != 1 else ''}")
    name = LAYOUTS[layout]
    if name == "full":
        return f"<think>\n{think}\n</think>\n<answer>\n{answer}\n</answer>"
    if name == "no_think":
        return f"<answer>\n{answer}\n</answer>"
    if name == "think_only":
        return f"<think>\n{think}\n</think>\n"
    return f"<think> {think} </think><answer>{answer.replace(chr(10), ' ')}</answer>"


def group_advantages(rewards: torch.Tensor, eps: float = 1e-4) -> torch.Tensor:
    """GRPO advantages: ``(r - mean) / (std + eps)`` along the last axis (the group), unbiased std."""
    if rewards.shape[-1] < 2:
        raise ValueError("a group needs at least 2 completions")
    mean = rewards.mean(-1, keepdim=True)
    std = rewards.std(-1, keepdim=True)
    return (rewards - mean) / (std + eps)


def decision_logp(logits, layout_logits, chosen, layouts, temperature: float = 1.0):
    """Log-probabilities (B, G, I + 1) of G sampled completions per question: the I item decisions
    (from item logits (B, I) and ``chosen`` (B, G, I)), then the layout (``layouts`` (B, G))."""
    G = chosen.shape[1]
    lg = (logits / temperature)[:, None].expand(-1, G, -1)
    lp_items = -F.binary_cross_entropy_with_logits(lg, chosen, reduction="none")
    ll = torch.log_softmax(layout_logits / temperature, -1)[:, None].expand(-1, G, -1)
    lp_layout = ll.gather(-1, layouts[..., None])
    return torch.cat([lp_items, lp_layout], -1)


def grpo_loss(policy, enc: Encoded, chosen, layouts, old_lp, ref_lp, adv, cfg: SchemaTrainConfig):
    """The clipped surrogate with a k3 KL penalty, per decision, averaged per completion then overall.

    ``chosen`` (B, G, I) and ``layouts`` (B, G) are the sampled decisions; ``old_lp`` and ``ref_lp``
    (B, G, I + 1) their log-probabilities under the sampling and the reference policies (the last entry
    is the layout); ``adv`` (B, G) the group advantages. Returns (loss, mean KL per decision)."""
    G = chosen.shape[1]
    logits, layout_logits = policy(enc)
    lp = decision_logp(logits, layout_logits, chosen, layouts, cfg.temperature)
    m = torch.cat([enc.mask[:, None].expand(-1, G, -1), torch.ones_like(layouts, dtype=torch.bool)[..., None]], -1)
    ratio = torch.exp(lp - old_lp)
    a = adv[..., None]
    surrogate = torch.minimum(ratio * a, ratio.clamp(1 - cfg.clip_eps, 1 + cfg.clip_eps) * a)
    kl = torch.exp(ref_lp - lp) - (ref_lp - lp) - 1.0
    per = -(surrogate - cfg.beta * kl) * m
    return (per.sum(-1) / m.sum(-1)).mean(), float((kl.detach() * m).sum() / m.sum())


def _rewards(enc: Encoded, chosen: np.ndarray, layouts: np.ndarray, cfg: SchemaTrainConfig) -> np.ndarray:
    out = np.empty(layouts.shape)
    weights = WEIGHTS if cfg.reward_weights is None else cfg.reward_weights
    for b in range(layouts.shape[0]):
        items, sol = enc.items[b], enc.solutions[b]
        for g in range(layouts.shape[1]):
            text = render(items, chosen[b, g, :len(items)], int(layouts[b, g]))
            out[b, g] = total_reward(text, sol, weights, wrong_cost=cfg.wrong_cost)
    return out


@torch.no_grad()
def evaluate(policy: SchemaPolicy, enc: Encoded, batch: int = 512) -> dict[str, float]:
    """Greedy decoding on every question; mean of each metric in ``METRICS``."""
    rows = []
    for start in range(0, len(enc), batch):
        part = enc.take(range(start, min(start + batch, len(enc))))
        logits, layout_logits = policy(part)
        chosen = ((logits > 0) & part.mask).cpu().numpy()
        layouts = layout_logits.argmax(-1).cpu().numpy()
        for b in range(len(part)):
            items = part.items[b]
            text = render(items, chosen[b, :len(items)], int(layouts[b]))
            pred_t, pred_c = parse_answer(text)
            gold_t, gold_c = parse_answer(part.solutions[b])
            mt, mc = set_metrics(pred_t, gold_t), set_metrics(pred_c, gold_c)
            rows.append({"tables_exact": mt["exact"], "tables_filter": mt["filter"], "columns_exact": mc["exact"],
                         "columns_filter": mc["filter"], "tables_recall": mt["recall"],
                         "columns_recall": mc["recall"], "items_predicted": float(chosen[b].sum()),
                         "format_ok": float(LAYOUTS[int(layouts[b])] == "full"),
                         "mean_reward": total_reward(text, part.solutions[b])})
    return {k: float(np.mean([r[k] for r in rows])) for k in METRICS}


class SchemaTrainer:
    """SFT and GRPO on one policy; records the curves as it goes."""

    def __init__(self, encoded: dict[str, Encoded], cfg: SchemaTrainConfig, seed: int = 0, device: str = "cpu"):
        self.device = resolve_device(device)
        self.cfg = cfg
        self.enc = {k: v.to(self.device) for k, v in encoded.items()}
        if "train" not in self.enc:
            raise ValueError("the encoded splits need a 'train' split")
        seeds = train_seeds(seed)
        self.rng = np.random.default_rng(seeds["batches"])
        self.gen = torch_generator(seeds["sampling"], self.device)
        with torch.random.fork_rng(devices=[]):  # the initial weights, without touching the global stream
            torch.manual_seed(seeds["weights"])
            self.policy = SchemaPolicy(int(self._vocab_size()), cfg.dim, cfg.hidden)
        self.policy = self.policy.to(self.device)
        self.opt = torch.optim.Adam(self.policy.parameters(), lr=cfg.lr)
        self.eval_idx = {k: self.rng.permutation(len(v))[:cfg.eval_size] for k, v in self.enc.items()}
        self.curves: list[dict] = []
        self.step = 0

    def _vocab_size(self):
        return len(vocabulary())

    def _record(self, phase: str, train_reward: float, extra: dict | None = None):
        for split, enc in self.enc.items():
            m = evaluate(self.policy, enc.take(self.eval_idx[split]))
            self.curves.append({"phase": phase, "step": self.step, "split": split, "train_reward": train_reward,
                                **(extra or {}), **m})

    def sft(self, steps: int) -> None:
        cfg = self.cfg
        train = self.enc["train"]
        target = torch.zeros(cfg.batch_size, dtype=torch.long, device=self.device)  # layout "full"
        for s in range(steps):
            batch = train.take(self.rng.integers(0, len(train), cfg.batch_size))
            logits, layout_logits = self.policy(batch)
            loss = (F.binary_cross_entropy_with_logits(logits[batch.mask], batch.gold[batch.mask])
                    + F.cross_entropy(layout_logits, target[:len(batch)]))
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
            self.step += 1
            if s == 0 or (s + 1) % cfg.eval_every == 0 or s == steps - 1:
                self._record("sft", float("nan"), {"loss": float(loss.detach())})

    def grpo(self, steps: int, ref: SchemaPolicy | None = None) -> None:
        """``steps`` GRPO steps; the reference is a frozen copy of the policy at the start unless given."""
        cfg = self.cfg
        ref = ref if ref is not None else copy.deepcopy(self.policy)
        ref.eval()
        for p in ref.parameters():
            p.requires_grad_(False)
        train = self.enc["train"]
        G = cfg.group_size
        self.opt = torch.optim.Adam(self.policy.parameters(), lr=cfg.grpo_lr)
        for s in range(steps):
            batch = train.take(self.rng.integers(0, len(train), cfg.prompts_per_step))
            reward, kl = self.grpo_step(batch, ref)
            self.step += 1
            if s == 0 or (s + 1) % cfg.eval_every == 0 or s == steps - 1:
                self._record("grpo", reward, {"kl": kl, "group_size": G})

    def grpo_step(self, batch: Encoded, ref: SchemaPolicy) -> tuple[float, float]:
        """Sample, reward, normalize within groups, ``inner_steps`` updates. Returns (mean reward, KL)."""
        cfg = self.cfg
        G = cfg.group_size
        with torch.no_grad():
            logits, layout_logits = self.policy(batch)
            p = torch.sigmoid(logits / cfg.temperature)[:, None].expand(-1, G, -1)
            chosen = (torch.rand(p.shape, generator=self.gen, device=self.device) < p) & batch.mask[:, None]
            chosen = chosen.float()
            probs = torch.softmax(layout_logits / cfg.temperature, -1)
            layouts = torch.multinomial(probs, G, replacement=True, generator=self.gen)
            old_lp = decision_logp(logits, layout_logits, chosen, layouts, cfg.temperature)
            ref_lp = decision_logp(*ref(batch), chosen, layouts, cfg.temperature)
        r = _rewards(batch, chosen.cpu().numpy().astype(bool), layouts.cpu().numpy(), cfg)
        adv = group_advantages(torch.as_tensor(r, dtype=torch.float32, device=self.device))
        kl = 0.0
        for _ in range(cfg.inner_steps):
            loss, kl = grpo_loss(self.policy, batch, chosen, layouts, old_lp, ref_lp, adv, cfg)
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
        return float(r.mean()), kl


def encode_splits(splits: dict[str, list[Example]]) -> dict[str, Encoded]:
    vocab = {w: i for i, w in enumerate(vocabulary())}
    return {k: encode(v, vocab) for k, v in splits.items()}


def train_schema_linker(encoded: dict[str, Encoded], method: str, cfg: SchemaTrainConfig | None = None,
                        seed: int = 0, device: str = "auto", stages: bool = False):
    """Train one policy by ``method``; returns ``(policy, curves)`` or, with ``stages``, also the
    cold-start policy of ``sft+grpo`` (a copy taken before GRPO) as a third element."""
    one_of(method, METHODS, "method")
    cfg = cfg or SchemaTrainConfig()
    tr = SchemaTrainer(encoded, cfg, seed=seed, device=device)
    cold = None
    if method in ("sft", "sft+grpo"):
        tr.sft(cfg.sft_steps)
    if method == "sft+grpo":
        cold = copy.deepcopy(tr.policy)
    if method in ("grpo", "sft+grpo"):
        tr.grpo(cfg.grpo_steps)
    curves = pd.DataFrame(tr.curves)
    curves.insert(0, "method", method)
    curves.insert(1, "seed", seed)
    return (tr.policy, curves, cold) if stages else (tr.policy, curves)


def run_schema_study(data_cfg: SchemaDataConfig | None = None, train_cfg: SchemaTrainConfig | None = None,
                     methods=("sft", "sft+grpo"), seeds: int = 3, seed: int = 0, device: str = "auto",
                     keep: bool = False, save=None):
    """Every method on every seed (each seed draws its own data); returns ``(records, curves)``:
    one record per (method, seed, split) with ``METRICS``. When both ``sft`` and ``sft+grpo`` are asked,
    the ``sft`` policy is the cold start of ``sft+grpo`` (identical by construction), trained once.
    With ``keep``, a third element: ``{method: policy}`` of the last seed. With ``save`` (a path), the
    last seed's policy of the last method is saved there (:func:`save_checkpoint`)."""
    data_cfg = data_cfg or SchemaDataConfig()
    train_cfg = train_cfg or SchemaTrainConfig()
    methods = list(methods)
    for m in methods:
        one_of(m, METHODS, "method")
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1 (got {seeds})")
    device = resolve_device(device)
    records, curves = [], []
    for s in range(seed, seed + seeds):
        encoded = encode_splits(seed_splits(data_cfg, s))
        trained = {}
        todo = [m for m in methods if not (m == "sft" and "sft+grpo" in methods)]
        for m in todo:
            policy, c, cold = train_schema_linker(encoded, m, train_cfg, seed=s, device=device, stages=True)
            trained[m] = policy
            if m == "sft+grpo" and "sft" in methods:
                trained["sft"] = cold
                cs = c[c["phase"] == "sft"].copy()
                cs["method"] = "sft"
                curves.append(cs)
            curves.append(c)
        for m in methods:
            for split, enc in encoded.items():
                dev = next(trained[m].parameters()).device
                records.append({"method": m, "seed": s, "split": split,
                                **evaluate(trained[m], enc.to(str(dev)))})
    if save is not None:
        save_checkpoint(save, trained[methods[-1]], methods[-1], data_cfg, train_cfg, seed + seeds - 1)
    out = (pd.DataFrame(records), pd.concat(curves, ignore_index=True))
    return (*out, trained) if keep else out


def _in_split_order(df: pd.DataFrame, keys) -> pd.DataFrame:
    order = {s: i for i, s in enumerate(SPLITS)}
    return df.sort_values(keys, key=lambda c: c.map(order) if c.name == "split" else c,
                          kind="stable").reset_index(drop=True)


def summarize(records: pd.DataFrame) -> pd.DataFrame:
    """One record per (method, split): the mean over seeds of each of ``METRICS``, its
    ``<metric>_stderr`` and ``n_seeds`` (:func:`raflab.core.summary.summarize`)."""
    return _in_split_order(summarize_seeds(records, ["method", "split"], METRICS), ["method", "split"])


#: what the training curves record besides ``METRICS`` (NaN where a phase does not measure it)
CURVE_METRICS = ("train_reward", "loss", "kl", *METRICS)


def summarize_curves(curves: pd.DataFrame) -> pd.DataFrame:
    """The curves over seeds: one record per (method, split, step, phase) with the mean of each measure,
    its ``<measure>_stderr`` and ``n_seeds``, in (method, split, step) order: what
    :func:`raflab.agents.plots.plot_schema_curves` draws."""
    out = summarize_seeds(curves, ["method", "split", "step", "phase"], CURVE_METRICS)
    return out.sort_values(["method", "split", "step"], kind="stable").reset_index(drop=True)


def save_checkpoint(path, policy: SchemaPolicy, method: str, data_cfg: SchemaDataConfig,
                    train_cfg: SchemaTrainConfig, seed: int) -> None:
    Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state": {k: v.cpu() for k, v in policy.state_dict().items()}, "method": method, "seed": seed,
                "data_config": data_cfg.model_dump(), "train_config": train_cfg.model_dump()}, path)


def load_checkpoint(path, device: str = "auto"):
    """``(policy, info)``: the policy on the device and the checkpoint's method, seed and configs."""
    dev = resolve_device(device)
    ck = checkpoints.load_checkpoint(path, what="raflab schema train --save", map_location=dev, weights_only=True,
                         required=("state", "method", "seed", "data_config", "train_config"))
    tc = SchemaTrainConfig(**ck["train_config"])
    policy = SchemaPolicy(len(vocabulary()), tc.dim, tc.hidden).to(dev)
    policy.load_state_dict(ck["state"])
    return policy, {"method": ck["method"], "seed": ck["seed"], "data_config": SchemaDataConfig(**ck["data_config"]),
                    "train_config": tc}


def evaluate_checkpoint(path, device: str = "auto") -> pd.DataFrame:
    """Regenerate the checkpoint's data (same config and seed) and evaluate it on every split."""
    policy, info = load_checkpoint(path, device)
    s = info["seed"]
    encoded = encode_splits(seed_splits(info["data_config"], s))
    dev = str(next(policy.parameters()).device)
    return pd.DataFrame([{"method": info["method"], "seed": s, "split": k, **evaluate(policy, v.to(dev))}
                         for k, v in encoded.items()])


__all__ = ["METHODS", "LAYOUTS", "METRICS", "WEIGHTS", "SchemaTrainConfig", "SchemaPolicy", "SchemaTrainer",
           "Encoded", "encode", "encode_splits", "render", "group_advantages", "decision_logp", "grpo_loss", "evaluate",
           "train_schema_linker", "run_schema_study", "summarize", "summarize_curves", "save_checkpoint",
           "load_checkpoint", "evaluate_checkpoint"]

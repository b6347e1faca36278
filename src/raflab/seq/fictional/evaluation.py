"""Scoring a language model on Fictional Q&A: log-likelihoods of scored tokens, multiple-choice
options and verbatim recall of documents (used by :mod:`raflab.seq.fictional.study`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from raflab.seq import metrics

SPECIALS = ("<pad>", "<eos>", "<unk>")
PAD, EOS, UNK = 0, 1, 2
IGNORE = metrics.IGNORE_INDEX


def _rows(sequences: list[list[int]], width: int) -> tuple[np.ndarray, np.ndarray]:
    """Right-padded next-token rows: ``idx`` = seq[:-1], ``targets`` = seq[1:], padding ignored."""
    idx = np.full((len(sequences), width), PAD, dtype=np.int64)
    targets = np.full((len(sequences), width), IGNORE, dtype=np.int64)
    for i, seq in enumerate(sequences):
        seq = seq[: width + 1]
        idx[i, : len(seq) - 1] = seq[:-1]
        targets[i, : len(seq) - 1] = seq[1:]
    return idx, targets


@torch.no_grad()
def sequence_logprobs(model, sequences: list[list[int]], scored: list[list[bool]], block_size: int,
                      batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Per sequence: the summed log-probability of the scored tokens (each given all tokens before it)
    and whether every scored token is the argmax (greedy decoding would write them)."""
    device = next(model.parameters()).device
    width = max(len(s) for s in sequences) - 1
    if width > block_size:
        raise ValueError(f"a scored sequence has {width + 1} tokens, more than the block ({block_size})")
    logp_sum, all_argmax = np.zeros(len(sequences)), np.zeros(len(sequences), dtype=bool)
    for start in range(0, len(sequences), batch_size):
        chunk = range(start, min(start + batch_size, len(sequences)))
        idx = torch.full((len(chunk), width), PAD, dtype=torch.long)
        tgt = torch.full((len(chunk), width), IGNORE, dtype=torch.long)
        for row, i in enumerate(chunk):
            seq, mask = sequences[i], scored[i]
            idx[row, : len(seq) - 1] = torch.tensor(seq[:-1])
            keep = torch.tensor([t if m else IGNORE for t, m in zip(seq[1:], mask[1:])])
            tgt[row, : len(seq) - 1] = keep
        logits, _ = model(idx.to(device))
        logp = torch.log_softmax(logits.float(), dim=-1).cpu()
        mask = tgt != IGNORE
        picked = logp.gather(-1, tgt.clamp(min=0).unsqueeze(-1)).squeeze(-1)
        logp_sum[start: start + len(chunk)] = (picked * mask).sum(1).numpy()
        preds = logits.argmax(-1).cpu().numpy()
        all_argmax[start: start + len(chunk)] = metrics.exact_match(preds, tgt.numpy(), mask.numpy()) \
            if mask.any(1).all() else False
    return logp_sum, all_argmax


def answer_options(values: dict, pools: dict, k: int, rng: np.random.Generator) -> dict:
    """For each key ``(event, relation)`` with correct ``values[key]``: ``(options, correct_index)``,
    the correct value and ``k - 1`` other values drawn from ``pools[key]``, in random order."""
    out = {}
    for key in sorted(values):
        correct = values[key]
        others = sorted(set(pools[key]) - {correct})
        if len(others) < k - 1:
            raise ValueError(f"{k} options for {key[1]!r} need {k - 1} other answers on the same side of the "
                             f"split, found {len(others)}; use more events or fewer options")
        chosen = [others[i] for i in rng.choice(len(others), k - 1, replace=False)]
        position = int(rng.integers(k))
        out[key] = (chosen[:position] + [correct] + chosen[position:], position)
    return out


def evaluate_verbatim(model, documents: pd.DataFrame, vocab: Vocab, prefix_tokens: int, suffix_tokens: int,
                      block_size: int) -> pd.DataFrame:
    """Per document (columns ``doc_id``, ``text``): k-token suffix exact match after its first
    ``prefix_tokens`` words, the fraction of those tokens the model predicts, and its mean loss."""
    seqs = [vocab.encode(t)[:block_size] + [EOS] for t in documents["text"]]
    if any(len(s) < prefix_tokens + suffix_tokens for s in seqs):
        short = min(len(s) for s in seqs)
        raise ValueError(f"a document has {short} tokens, fewer than prefix_tokens + suffix_tokens "
                         f"({prefix_tokens} + {suffix_tokens})")
    device = next(model.parameters()).device
    width = max(len(s) for s in seqs) - 1
    idx, tgt = _rows(seqs, width)
    exact, token_acc, loss = [], [], []
    with torch.no_grad():
        for start in range(0, len(idx), 256):
            x = torch.as_tensor(idx[start: start + 256]).to(device)
            t = torch.as_tensor(tgt[start: start + 256])
            logits, _ = model(x)
            logits = logits.float().cpu()
            nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2), t, ignore_index=IGNORE, reduction="none")
            scored = (t != IGNORE)
            loss.extend(((nll * scored).sum(1) / scored.sum(1)).tolist())
            # target position j predicts token j + 1: the suffix is tokens prefix .. prefix + k - 1
            window = slice(prefix_tokens - 1, prefix_tokens - 1 + suffix_tokens)
            hit = (logits.argmax(-1) == t)[:, window].numpy()
            exact.extend(hit.all(1).tolist())
            token_acc.extend(hit.mean(1).tolist())
    out = documents.drop(columns="text").copy()
    out["verbatim_exact"], out["verbatim_token"], out["loss"] = np.array(exact, float), token_acc, loss
    return out


def _per_seed(records: pd.DataFrame, corpus: str, measure: str, group, metric: str) -> pd.Series:
    """Per seed, the ``n``-weighted mean of ``metric`` over the event-split rows of one corpus and group(s)."""
    rows = records[(records.split == "event") & (records.corpus == corpus) & (records.measure == measure)
                   & records["group"].isin([group] if isinstance(group, str) else group)]
    if measure == "verbatim":
        rows = rows[rows["trained"].astype(object) == True]  # noqa: E712 (True, False or missing)
    if rows.empty or metric not in rows.columns:
        return pd.Series(dtype=float)
    weighted = rows.assign(_w=rows[metric] * rows["n"]).groupby("seed")[["_w", "n"]].sum()
    return weighted["_w"] / weighted["n"]


def fictsheet_gaps(records: pd.DataFrame, styles=("news", "social", "corporate", "blog", "encyclopedia"),
                   level: float = 0.95) -> pd.DataFrame:
    """The paper's three contrasts on the event split, per seed then over seeds (mean and Student-t
    interval, :func:`raflab.core.summary.t_interval`): trained facts vs held-out events (fiction run),
    fictsheets vs fictions for knowledge (QA on facts seen only in fictsheets vs in the same document)
    and for verbatim recall (trained fictsheets vs trained fictions)."""
    from raflab.core.summary import t_interval

    contrasts = [
        ("trained vs held-out events", "knowledge", ("fictions", "same_document"), ("fictions", "heldout_event"),
         ["exact_match", "mc4", "mc10"]),
        ("fictsheets vs fictions", "knowledge", ("fictsheets", "fictsheet"), ("fictions", "same_document"),
         ["exact_match", "mc4", "mc10"]),
        ("fictsheets vs fictions", "verbatim", ("fictsheets", "fictsheet"), ("fictions", list(styles)),
         ["verbatim_exact", "verbatim_token", "loss"]),
    ]
    out = []
    for name, measure, (corpus_a, group_a), (corpus_b, group_b), metrics_ in contrasts:
        for metric in metrics_:
            a = _per_seed(records, corpus_a, measure, group_a, metric)
            b = _per_seed(records, corpus_b, measure, group_b, metric)
            seeds = a.index.intersection(b.index)
            if not len(seeds):
                continue
            gap = (a[seeds] - b[seeds]).to_numpy(float)
            low, high = t_interval(gap, level) if len(seeds) > 1 else (np.nan, np.nan)
            out.append({"contrast": name, "measure": measure, "metric": metric, "first": float(a[seeds].mean()),
                        "second": float(b[seeds].mean()), "gap": float(gap.mean()), "gap_ci95_low": low,
                        "gap_ci95_high": high, "n_seeds": len(seeds)})
    return pd.DataFrame(out)


__all__ = ["fictsheet_gaps", "SPECIALS", "PAD", "EOS", "UNK", "IGNORE", "sequence_logprobs", "answer_options", "evaluate_verbatim"]

"""Unlearning a set of persona facts through one modality, with a retain set (issue 22).

The paper's unlearning experiment: forget some facts by unlearning in the modality that taught them,
while the rest of the model's knowledge is kept, then ask the forgotten facts through *both*
modalities. The two objectives here are the standard ones of LLM unlearning benchmarks (TOFU):

- ``ascent`` (gradient difference): minimise ``-CE(forget) + retain_weight * CE(retain)``;
- ``npo`` (negative preference optimisation, Zhang et al. 2024, with a retain term):
  ``(2 / beta) * mean softplus(beta * (log p(a|q) - log p_ref(a|q)))`` over the forget rows, plus
  ``retain_weight * CE(retain)``, where ``p_ref`` is the model before unlearning (frozen copy). Its
  gradient is the ascent's, weighted down as a fact's probability falls below the reference, so it
  does not run away the way plain ascent does.

The forget rows are the forget personas' facts asked in their *source* modality only (one view per
training row as in training); the retain rows are every other training row (other personas' facts,
captions, city -> country, two-hop), drawn in batches of ``retain_batch``. Full-batch AdamW on the
forget rows, one retain batch per step; the loop stops (checked after each step) once the forget set's source accuracy (on
the test views) is at most ``until`` or after ``steps`` steps.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F

from raflab.core.seeding import torch_generator

__all__ = ["UNLEARN_METHODS", "forget_loss", "unlearn_facts"]

UNLEARN_METHODS = ("ascent", "npo")
_INPUTS = ("patches", "tokens", "has_image")


def _tensors(rows: dict, device) -> dict:
    return {k: torch.as_tensor(np.asarray(rows[k])).to(device) for k in (*_INPUTS, "answer")}


def _answer_log_prob(model, batch) -> torch.Tensor:
    logits, _ = model(**{k: batch[k] for k in _INPUTS})
    return -F.cross_entropy(logits, batch["answer"], reduction="none")


def forget_loss(log_prob: torch.Tensor, method: str, beta: float = 0.1,
                ref_log_prob: torch.Tensor | None = None) -> torch.Tensor:
    """The forget term, to be minimised, from the answers' log-probabilities ``log_prob``.

    ``ascent``: ``mean(log_prob)`` (= minus the cross-entropy). ``npo``:
    ``(2 / beta) * mean softplus(beta * (log_prob - ref_log_prob))``. At ``log_prob == ref_log_prob``
    the two have the same gradient (``softplus' (0) = 1/2``); below the reference NPO's weight
    ``sigmoid(beta * (log_prob - ref))`` falls towards 0, which is what keeps it from diverging.

    >>> lp = torch.tensor([-1.0, -2.0], requires_grad=True)
    >>> forget_loss(lp, "npo", 0.1, lp.detach()).backward()
    >>> lp.grad.tolist()
    [0.5, 0.5]
    """
    if method == "ascent":
        return log_prob.mean()
    if method == "npo":
        if ref_log_prob is None:
            raise ValueError("npo needs the reference log-probabilities")
        return 2.0 / beta * F.softplus(beta * (log_prob - ref_log_prob)).mean()
    raise ValueError(f"method must be one of {UNLEARN_METHODS}, got {method!r}")


def unlearn_facts(model: torch.nn.Module, forget_rows: dict, retain_rows: dict, forgotten, *,
                  method: str = "npo", steps: int = 200, lr: float = 1e-3, retain_weight: float = 1.0,
                  beta: float = 0.1, retain_batch: int = 256, seed: int = 0) -> int:
    """Unlearn ``forget_rows`` in place; returns the number of steps taken.

    ``forgotten(model) -> bool`` is checked after every step (in eval mode, so at least one step is
    taken); the loop ends as soon as it is True. ``retain_weight = 0`` drops the retain term (plain ascent / plain NPO).
    """
    if method not in UNLEARN_METHODS:
        raise ValueError(f"method must be one of {UNLEARN_METHODS}, got {method!r}")
    if steps < 0 or not lr > 0 or retain_weight < 0 or not beta > 0 or retain_batch < 1:
        raise ValueError(f"bad unlearning settings: steps={steps}, lr={lr}, retain_weight={retain_weight}, "
                         f"beta={beta}, retain_batch={retain_batch}")
    device = next(model.parameters()).device
    forget = _tensors(forget_rows, device)
    retain = _tensors(retain_rows, device)
    n_retain = len(retain["answer"])
    if not len(forget["answer"]):
        return 0
    ref_log_prob = None
    if method == "npo":
        reference = copy.deepcopy(model).eval()
        with torch.no_grad():
            ref_log_prob = _answer_log_prob(reference, forget)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    sampler = torch_generator(seed)
    was_training = model.training
    for step in range(1, steps + 1):
        model.train()
        log_prob = _answer_log_prob(model, forget)
        loss = forget_loss(log_prob, method, beta, ref_log_prob)
        if retain_weight > 0 and n_retain:
            pick = torch.randint(0, n_retain, (min(retain_batch, n_retain),), generator=sampler).to(device)
            loss = loss - retain_weight * _answer_log_prob(model, {k: v[pick] for k, v in retain.items()}).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        model.eval()
        with torch.no_grad():
            if forgotten(model):
                model.train(was_training)
                return step
    model.train(was_training)
    return steps

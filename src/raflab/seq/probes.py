"""Two probes of input selectivity (Huang et al., "Understanding Input Selectivity in Mamba", 2025).

Both compare a fixed-step diagonal SSM (S4D-style: step, B and C learned but the same at every
time step, so the layer is a linear time-invariant convolution) with a selective one (S6: step, B
and C are linear functions of the current input), in one module, :class:`DiagonalSSM`, that differs
only by the flag ``selective``; both run through :func:`raflab.seq.nets.selective_scan`.

- Haar / piecewise-constant fitting (:func:`haar_probe`): the target is a step function of time,
  y_t = u at the last segment start (starts are random and flagged in the input). S6 represents it
  with one state per channel (a large step at a start empties the state and writes u, a ~0 step
  elsewhere holds it); a time-invariant kernel cannot, at any state size (:func:`lti_error_bound`).
  Recorded: normalized fit error against state size.
- Impulse response / memory decay (:func:`impulse_probe`): constructed layers, the response at lag
  l to an impulse. With a fixed step it is dt exp(-l dt |A|) (exponential decay, exact); a selective
  step that is ~0 on filler tokens holds the state, whatever the gap. :func:`memory_probe` trains both
  layers to recall a flagged value across a gap and measures the recall against the lag.

Example
-------
>>> frame = impulse_probe(lags=8)
>>> bool(frame.query("model == 's6'")["retention"].min() > 0.99)
True
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from raflab.core.checks import one_of
from raflab.core.seeding import point_rng
from raflab.seq.nets import run_stream_seed, selective_scan

MODELS = ("s4d", "s6")


class DiagonalSSM(nn.Module):
    """One diagonal SSM layer: in_proj -> scan -> out_proj, fixed-step (S4D) or selective (S6).

    Parameters
    ----------
    n_in, n_out : int
        Input features and outputs per time step.
    channels : int
        SSM channels (each with its own state of ``d_state`` real modes).
    d_state : int
        State size per channel; the layer's state has ``channels * d_state`` numbers.
    selective : bool
        True: step, B, C are linear in the input (S6); False: learned constants (S4D, time-invariant).

    A = -exp(A_log), A_log = log(1..N) at init (S4D-Real), step softplus(.) ~ logU[1e-3, 1e-1]
    at init; both arms share these initializations and differ only in what the step, B and C read.
    """

    def __init__(self, n_in: int, n_out: int, channels: int = 4, d_state: int = 4, selective: bool = True):
        super().__init__()
        self.selective, self.d_state = selective, d_state
        self.in_proj = nn.Linear(n_in, channels)
        self.A_log = nn.Parameter(torch.log(torch.arange(1, d_state + 1, dtype=torch.float32)).repeat(channels, 1))
        self.D = nn.Parameter(torch.zeros(channels))
        dt = torch.exp(torch.empty(channels).uniform_(math.log(1e-3), math.log(1e-1)))
        dt_bias = dt + torch.log(-torch.expm1(-dt))  # inverse softplus
        if selective:
            self.dt_proj = nn.Linear(n_in, channels)
            self.bc_proj = nn.Linear(n_in, 2 * d_state)
            with torch.no_grad():
                self.dt_proj.bias.copy_(dt_bias)
        else:
            self.dt_bias = nn.Parameter(dt_bias)
            self.B = nn.Parameter(torch.randn(d_state))
            self.C = nn.Parameter(torch.randn(d_state))
        self.out_proj = nn.Linear(channels, n_out)

    def steps(self, x):
        """Step [batch, length, channels], B and C [batch, length, d_state] for the input x."""
        batch, length, _ = x.shape
        if self.selective:
            B, C = self.bc_proj(x).split(self.d_state, dim=-1)
            return F.softplus(self.dt_proj(x)), B, C
        shape = (batch, length, -1)
        return F.softplus(self.dt_bias).expand(shape), self.B.expand(shape), self.C.expand(shape)

    def forward(self, x):
        """x [batch, length, n_in] -> [batch, length, n_out]."""
        delta, B, C = self.steps(x)
        y = selective_scan(self.in_proj(x), delta, -torch.exp(self.A_log), B, C, self.D)
        return self.out_proj(y)


def make_probe_layer(model: str, n_in: int, n_out: int, channels: int, d_state: int, seed: int) -> DiagonalSSM:
    """A seeded layer (the global RNG untouched); ``model`` is ``"s4d"`` or ``"s6"``."""
    one_of(model, MODELS, "probe model")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(run_stream_seed(seed, "weights"))
        return DiagonalSSM(n_in, n_out, channels, d_state, selective=model == "s6")


def _fit(layer: nn.Module, inputs, targets, mask, steps: int, lr: float, seed: int) -> list[float]:
    """Adam on the masked mean squared error, full batches; returns the loss per step."""
    x, y, m = (torch.as_tensor(a, dtype=torch.float32) for a in (inputs, targets, mask))
    optimizer = torch.optim.Adam(layer.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps, eta_min=lr / 20)
    losses = []
    for _ in range(steps):
        loss = (((layer(x).squeeze(-1) - y) ** 2) * m).sum() / m.sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(layer.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        losses.append(float(loss.detach()))
    return losses


@torch.no_grad()
def _normalized_error(layer: nn.Module, inputs, targets, mask) -> float:
    """Mean squared error over the target's variance at the scored positions (0 = exact, 1 = predicting 0)."""
    x, y, m = (torch.as_tensor(a, dtype=torch.float32) for a in (inputs, targets, mask))
    err = ((layer(x).squeeze(-1) - y) ** 2 * m).sum() / m.sum()
    return float(err / ((y ** 2 * m).sum() / m.sum()))


# --- (a) Haar / piecewise-constant fitting ---------------------------------------------------

def haar_data(n: int, length: int, segment_p: float, rng: np.random.Generator):
    """Inputs [n, length, 2] (signal u, segment-start flag) and a piecewise-constant target [n, length].

    Position 0 always starts a segment; later positions start one with probability ``segment_p``.
    The target at t is u at the start of t's segment: a step function (a Haar scaling-function
    expansion) whose breakpoints are input-dependent. Fitting it needs forgetting at a start and
    holding in between.
    """
    u = rng.standard_normal((n, length))
    start = rng.random((n, length)) < segment_p
    start[:, 0] = True
    last_start = np.maximum.accumulate(np.where(start, np.arange(length), 0), axis=1)
    return np.stack([u, start.astype(float)], axis=-1), np.take_along_axis(u, last_start, axis=1)


def lti_error_bound(length: int, segment_p: float) -> float:
    """The least normalized error of any causal time-invariant linear map on :func:`haar_data`.

    The target is u_{t-L} with L the distance back to the segment start (P(L = l) = p (1-p)^l for
    l < t, (1-p)^t for l = t); the flags are independent of u, so the best kernel on u is
    K(l) = P(L = l) and the error at t is 1 - sum_l P(L = l)^2 (var u = 1), averaged over t.
    A convolution must use one kernel for every t; K(l) = p (1-p)^l is the best common one only
    approximately, so this bound (the best time-varying linear map) is slightly optimistic.
    """
    p = segment_p
    errors = []
    for t in range(length):
        probs = np.append(p * (1 - p) ** np.arange(t), (1 - p) ** t)
        errors.append(1.0 - float(probs @ probs))
    return float(np.mean(errors))


def haar_probe(d_states=(1, 2, 4, 8), models=MODELS, seeds=(0,), channels: int = 4, length: int = 32,
               segment_p: float = 0.125, examples: int = 256, steps: int = 200, lr: float = 2e-2) -> pd.DataFrame:
    """Fit the piecewise-constant target of :func:`haar_data` with one S4D and one S6 layer per state size.

    Returns
    -------
    DataFrame, one row per run: model, d_state, state_size (channels x d_state), seed, train_error and
    heldout_error (normalized mean squared errors), lti_bound (:func:`lti_error_bound`), params, wall_s.
    """
    rows = []
    for seed in seeds:
        x_train, y_train = haar_data(examples, length, segment_p, point_rng(seed, 1))
        x_test, y_test = haar_data(examples, length, segment_p, point_rng(seed, 2))
        mask = np.ones_like(y_train)
        for model in models:
            for d_state in d_states:
                start = time.perf_counter()
                layer = make_probe_layer(model, 2, 1, channels, d_state, seed)
                _fit(layer, x_train, y_train, mask, steps, lr, seed)
                rows.append({"probe": "haar", "model": model, "d_state": d_state, "state_size": channels * d_state,
                             "seed": seed, "train_error": _normalized_error(layer, x_train, y_train, mask),
                             "heldout_error": _normalized_error(layer, x_test, y_test, mask),
                             "lti_bound": lti_error_bound(length, segment_p),
                             "params": sum(p.numel() for p in layer.parameters()),
                             "wall_s": time.perf_counter() - start})
    return pd.DataFrame(rows)


# --- (b) impulse response / memory decay -----------------------------------------------------

@torch.no_grad()
def impulse_response(delta, A: float, B: float = 1.0, C: float = 1.0) -> np.ndarray:
    """Response y_t of a one-channel, one-mode SSM to a unit impulse at t = 0, through selective_scan.

    ``delta`` [length] is the step at each time (constant = fixed step). For a constant step dt the
    exact result is C dt B exp(l dt A) at lag l.
    """
    delta = torch.as_tensor(delta, dtype=torch.float64).reshape(1, -1, 1)
    length = delta.shape[1]
    u = torch.zeros(1, length, 1, dtype=torch.float64)
    u[0, 0, 0] = 1.0
    ones = torch.ones(1, length, 1, dtype=torch.float64)
    y = selective_scan(u, delta, torch.tensor([[A]], dtype=torch.float64), B * ones, C * ones)
    return y[0, :, 0].numpy()


def selective_step(event, w: float = 14.0, b: float = -12.0) -> np.ndarray:
    """The selective step softplus(w * event + b): ~6e-6 on filler (event 0), ~2.1 on an event (event 1)."""
    return F.softplus(torch.as_tensor(event, dtype=torch.float64) * w + b).numpy()


def impulse_probe(lags: int = 64, A: float = -1.0, dt: float = 0.1, w: float = 14.0, b: float = -12.0) -> pd.DataFrame:
    """Constructed layers: impulse response against lag, fixed step vs input-dependent step.

    S4D: constant step ``dt``; S6: step = :func:`selective_step` of the event flag (1 at the
    impulse, 0 on the filler after it), so the state is written once and then held. B = C = 1.
    ``retention`` = response / response at lag 0; ``exact`` = the fixed-step formula exp(l dt A).

    Returns
    -------
    DataFrame with model, lag, response, retention, exact (NaN for s6).
    """
    lag = np.arange(lags)
    fixed = impulse_response(np.full(lags, dt), A)
    event = np.zeros(lags)
    event[0] = 1.0
    selective = impulse_response(selective_step(event, w, b), A)
    frames = [pd.DataFrame({"probe": "impulse", "model": "s4d", "lag": lag, "response": fixed,
                            "retention": fixed / fixed[0], "exact": np.exp(lag * dt * A)}),
              pd.DataFrame({"probe": "impulse", "model": "s6", "lag": lag, "response": selective,
                            "retention": selective / selective[0], "exact": np.nan})]
    return pd.concat(frames, ignore_index=True)


def memory_data(n: int, length: int, rng: np.random.Generator, lag: int | None = None):
    """Recall across a gap: inputs [n, length, 2] (value channel, event flag), target at the last step.

    One event per sequence, at length - 1 - lag (lag uniform in 0..length-1 unless given), carrying
    a value v ~ N(0, 1); every other step carries filler noise N(0, 1) with flag 0. The target at the
    last step is v (other positions unscored).
    """
    u = rng.standard_normal((n, length))
    lags = rng.integers(0, length, n) if lag is None else np.full(n, lag)
    flag = np.zeros((n, length))
    position = length - 1 - lags
    flag[np.arange(n), position] = 1.0
    target = np.zeros((n, length))
    target[:, -1] = u[np.arange(n), position]
    mask = np.zeros((n, length))
    mask[:, -1] = 1.0
    return np.stack([u, flag], axis=-1), target, mask


@torch.no_grad()
def recall_against_lag(layer: nn.Module, length: int, rng: np.random.Generator, n: int = 256) -> pd.DataFrame:
    """Recall of a trained layer at each lag: the least-squares slope of its output on v (1 = perfect)
    and the normalized error, with fresh filler per lag."""
    rows = []
    for lag in range(length):
        x, y, m = memory_data(n, length, rng, lag=lag)
        out = layer(torch.as_tensor(x, dtype=torch.float32))[:, -1, 0].numpy()
        v = y[:, -1]
        rows.append({"lag": lag, "recall": float(v @ out / (v @ v)), "error": float(np.mean((out - v) ** 2) / np.mean(v ** 2))})
    return pd.DataFrame(rows)


def memory_probe(models=MODELS, seeds=(0,), length: int = 32, channels: int = 4, d_state: int = 4,
                 examples: int = 1024, steps: int = 300, lr: float = 1e-2) -> pd.DataFrame:
    """Train both layers to recall a flagged value across a gap; recall against lag (one row per lag).

    Returns
    -------
    DataFrame with probe, model, seed, lag, recall, error, heldout_error (all lags together).
    """
    frames = []
    for seed in seeds:
        x, y, m = memory_data(examples, length, point_rng(seed, 3))
        x_test, y_test, m_test = memory_data(examples, length, point_rng(seed, 4))
        for model in models:
            layer = make_probe_layer(model, 2, 1, channels, d_state, seed)
            _fit(layer, x, y, m, steps, lr, seed)
            frame = recall_against_lag(layer, length, point_rng(seed, 5))
            frame.insert(0, "seed", seed)
            frame.insert(0, "model", model)
            frame.insert(0, "probe", "memory")
            frame["heldout_error"] = _normalized_error(layer, x_test, y_test, m_test)
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def probe_notes(haar: pd.DataFrame | None = None, impulse: pd.DataFrame | None = None,
                memory: pd.DataFrame | None = None) -> list[str]:
    """One line per probe, for the study's printed notes."""
    notes = []
    if haar is not None and len(haar):
        err = haar.groupby(["model", "state_size"])["heldout_error"].mean().unstack(0)
        notes.append("haar probe, held-out normalized error by state size: "
                     + "; ".join(f"{int(s)}: " + ", ".join(f"{m} {err.loc[s, m]:.3f}" for m in err.columns)
                                 for s in err.index))
    if impulse is not None and len(impulse):
        last = impulse[impulse["lag"] == impulse["lag"].max()].set_index("model")["retention"]
        notes.append(f"impulse probe, retention at lag {int(impulse['lag'].max())}: "
                     + ", ".join(f"{m} {v:.4g}" for m, v in last.items()))
    if memory is not None and len(memory):
        far = memory[memory["lag"] >= memory["lag"].max() // 2].groupby("model")["recall"].mean()
        notes.append("memory probe (trained), mean recall over the far half of lags: "
                     + ", ".join(f"{m} {v:.3f}" for m, v in far.items()))
    return notes


def run_probes(seeds=(0,), quick: bool = False) -> dict[str, pd.DataFrame]:
    """The three probes' records with their defaults (``quick``: fewer states and steps, for tests)."""
    haar_kw = {"d_states": (1, 4), "steps": 150, "examples": 256} if quick else {}
    memory_kw = {"steps": 150, "examples": 512} if quick else {}
    return {"haar": haar_probe(seeds=seeds, **haar_kw), "impulse": impulse_probe(),
            "memory": memory_probe(seeds=seeds, **memory_kw)}


__all__ = ["DiagonalSSM", "make_probe_layer", "haar_data", "haar_probe", "impulse_response", "selective_step",
           "impulse_probe", "memory_data", "memory_probe", "recall_against_lag", "probe_notes", "run_probes"]

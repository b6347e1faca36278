"""The selective scan (Mamba-1's S6 recurrence) in pure PyTorch: a loop, a parallel scan, a chunked scan.

All three compute, per channel d and state index n (Mamba's discretization: zero-order hold for A,
Euler for B),

    h_t = exp(delta_t A) h_{t-1} + delta_t B_t u_t,   y_t = C_t . h_t + D u_t,   h_{-1} = 0.

- :func:`selective_scan_reference`: one Python step per time step (for tests and benchmarks).
- :func:`linear_scan` / ``selective_scan(..., method="parallel")``: odd-even parallel reduction,
  differentiated by autograd; it forms several tensors of shape [batch, length, D, N].
- ``selective_scan(..., method="chunked")`` (the default): time is cut into chunks of ``chunk``
  steps. Inside a chunk the decays exp(delta A) and inputs delta B u of all its steps are written into
  two reused buffers of shape [chunk, batch, N, D] (small enough to stay in the CPU cache), the
  recurrence runs one in-place ``addcmul_`` per step, and y comes out of one batched matrix product.
  No tensor of shape [batch, length, D, N] is ever allocated: on a CPU, fresh large tensors cost more
  in page faults than their arithmetic. The backward pass is written by hand (the adjoint of a
  linear recurrence is a reverse linear recurrence) and recomputes each chunk's states from the one
  state saved at its start, so the forward pass keeps only [length / chunk, batch, N, D] states.
  On a CPU both passes run compiled by TorchScript (no C++ compiler involved; the Python functions
  where TorchScript is missing), which cuts the dispatch overhead of their ~600 small operations and
  releases the interpreter lock for the whole pass, so that by default the batch is split over
  torch's CPU threads, each part scanned with single-threaded operations.

Only products of decays in (0, 1] are formed, never their inverses: strong decay underflows to 0,
which is its value, and nothing overflows.
"""

from __future__ import annotations

import os
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import List, Optional, Tuple

import torch

from raflab.core.checks import one_of

SCAN_METHODS = ("chunked", "parallel")
#: bytes of one [chunk, batch, N, D] buffer per CPU thread that the automatic chunk length aims at:
#: the three buffers of the backward pass then stay within a 2 MiB L2 cache per core
CHUNK_BYTES_PER_THREAD = 512 * 1024


def default_chunk(batch: int, channels: int, n_state: int, dtype=torch.float32, device="cpu") -> int:
    """The chunk length ``selective_scan`` uses when none is given.

    On a CPU: the most steps whose buffer holds about ``CHUNK_BYTES_PER_THREAD`` per torch thread,
    between 4 and 64 (8 at batch 32, 64 channels, state 16, float32 on 2 threads). Elsewhere 32 (a
    GPU has no such cache limit; fewer chunks mean fewer kernel launches).
    """
    if torch.device(device).type != "cpu":
        return 32
    slab = batch * channels * n_state * torch.empty((), dtype=dtype).element_size()
    return int(min(64, max(4, CHUNK_BYTES_PER_THREAD * torch.get_num_threads() // slab)))


def _check_scan_inputs(u, delta, A, B, C, D):
    if u.dim() != 3:
        raise ValueError(f"u must have shape [batch, length, channels], got {tuple(u.shape)}")
    batch, length, channels = u.shape
    if length < 1:
        raise ValueError("the sequence length must be at least 1")
    if delta.shape != u.shape:
        raise ValueError(f"delta must have the shape of u {tuple(u.shape)}, got {tuple(delta.shape)}")
    if A.dim() != 2 or A.shape[0] != channels:
        raise ValueError(f"A must have shape [channels={channels}, state], got {tuple(A.shape)}")
    for name, t in (("B", B), ("C", C)):
        if tuple(t.shape) != (batch, length, A.shape[1]):
            raise ValueError(f"{name} must have shape {(batch, length, A.shape[1])}, got {tuple(t.shape)}")
    if D is not None and tuple(D.shape) != (channels,):
        raise ValueError(f"D must have shape ({channels},), got {tuple(D.shape)}")


def selective_scan_reference(u, delta, A, B, C, D=None):
    """The S6 recurrence, one time step at a time (for tests and the benchmark).

    Parameters
    ----------
    u, delta : Tensor [batch, length, D]
        Input and (positive) step.
    A : Tensor [D, N]
        Diagonal state matrix per channel (negative for a decaying state).
    B, C : Tensor [batch, length, N]
        Input and output projections, shared by the channels.
    D : Tensor [D] or None
        Skip connection.

    Returns
    -------
    Tensor [batch, length, D]
    """
    decay = torch.exp(delta.unsqueeze(-1) * A)  # [b, l, d, n]
    drive = (delta * u).unsqueeze(-1) * B.unsqueeze(2)
    h = u.new_zeros(u.shape[0], u.shape[2], A.shape[1])
    ys = []
    # unbind, not decay[:, t]: the backward of L separate slices would build L full-size gradients
    for decay_t, drive_t, C_t in zip(decay.unbind(1), drive.unbind(1), C.unbind(1)):
        h = decay_t * h + drive_t
        ys.append(torch.einsum("bdn,bn->bd", h, C_t))
    y = torch.stack(ys, dim=1)
    return y if D is None else y + u * D


def linear_scan(a, b):
    """h_t = a_t h_{t-1} + b_t along dim 1 with h_{-1} = 0, by odd-even reduction (parallel).

    Pairing steps (2k, 2k+1) gives the same recurrence on half the length for the odd steps,
    with a' = a_{2k+1} a_{2k} and b' = a_{2k+1} b_{2k} + b_{2k+1}; solving it recursively and
    filling in the even steps, h_{2k} = a_{2k} h_{2k-1} + b_{2k}, costs O(length) work in
    log2(length) levels. Only products of the decays a are formed (never their inverses), so with
    0 <= a <= 1 nothing overflows: a long run of strong decay underflows to 0, which is its value.
    """
    length = a.shape[1]
    if length == 1:
        return b
    if length % 2:  # a step with a = 1, b = 0 leaves the state as it is
        a = torch.cat([a, torch.ones_like(a[:, :1])], dim=1)
        b = torch.cat([b, torch.zeros_like(b[:, :1])], dim=1)
    a_even, a_odd, b_even, b_odd = a[:, 0::2], a[:, 1::2], b[:, 0::2], b[:, 1::2]
    h_odd = linear_scan(a_odd * a_even, a_odd * b_even + b_odd)
    h_even = torch.cat([b_even[:, :1], a_even[:, 1:] * h_odd[:, :-1] + b_even[:, 1:]], dim=1)
    return torch.stack([h_even, h_odd], dim=2).flatten(1, 2)[:, :length]


def _parallel_scan(u, delta, A, B, C):
    decay = torch.exp(delta.unsqueeze(-1) * A)  # [b, l, d, n], in (0, 1] for A <= 0
    drive = (delta * u).unsqueeze(-1) * B.unsqueeze(2)
    h = linear_scan(decay, drive)
    return torch.einsum("bldn,bln->bld", h, C)


# --------------------------------------------------------------------------- the chunked scan
# Layout inside: time first, then batch, state, channel ([T, b, N, D]), so that one time step is a
# contiguous slab and y_t = C_t . h_t is a batched (1 x N) @ (N x D) product.


def _chunk_states(dl: torch.Tensor, du: torch.Tensor, Bc: torch.Tensor, At: torch.Tensor,
                  h0: Optional[torch.Tensor], a: torch.Tensor, h: torch.Tensor):
    """Decays exp(delta A) into ``a`` and states into ``h`` (buffers [q, b, N, D]) for one chunk from h0.

    dl, du: delta and delta u of the chunk as [q, b, 1, D]; Bc: B as [q, b, N, 1]; At: A^T [N, D].
    """
    torch.mul(dl, At, out=a)
    a.exp_()
    torch.mul(du, Bc, out=h)
    if h0 is not None:
        h[0].addcmul_(a[0], h0)
    for t in range(1, h.shape[0]):
        h[t].addcmul_(a[t], h[t - 1])


def _chunked_forward(u: torch.Tensor, delta: torch.Tensor, A: torch.Tensor, B: torch.Tensor, C: torch.Tensor,
                     chunk: int, keep_states: bool) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """y [L, b, D] (time first) and, if ``keep_states``, the state after each chunk but the last.

    Written so that TorchScript can compile it (:func:`_kernel`): the compiled function runs
    without Python's interpreter lock, which lets :func:`_split_forward` scan batch parts on parallel
    threads, and it dispatches its ~600 operations with less overhead than Python.
    """
    batch, length, channels = u.shape[0], u.shape[1], u.shape[2]
    n_state = A.shape[1]
    steps = min(chunk, length)
    n_chunks = (length + steps - 1) // steps
    # delta and delta u time first and contiguous, copied once (small tensors): the per-chunk products
    # then read contiguous rows instead of rows strided by the length
    At = A.t().contiguous()
    dl_t = delta.transpose(0, 1).contiguous()
    dl = dl_t.unsqueeze(2)
    du = torch.mul(dl_t, u.transpose(0, 1)).unsqueeze(2)
    Bc = B.transpose(0, 1).unsqueeze(3)
    Cr = C.transpose(0, 1).contiguous().view(length * batch, 1, n_state)
    y = torch.empty([length, batch, channels], dtype=u.dtype, device=u.device)
    yr = y.view(length * batch, 1, channels)
    # reused cache-sized buffers: the decays, and two for the states (a chunk starts from the last
    # state of the one before, which must survive while the next chunk is written)
    a_buf = torch.empty([steps, batch, n_state, channels], dtype=u.dtype, device=u.device)
    h_bufs = [torch.empty([steps, batch, n_state, channels], dtype=u.dtype, device=u.device)
              for _ in range(2 if n_chunks > 1 else 1)]
    states: Optional[torch.Tensor] = None
    if keep_states:
        states = torch.empty([n_chunks - 1, batch, n_state, channels], dtype=u.dtype, device=u.device)
    h0 = torch.empty([0], dtype=u.dtype, device=u.device)
    for c in range(n_chunks):
        t0 = c * steps
        q = min(steps, length - t0)
        a = a_buf[:q]
        h = h_bufs[c % len(h_bufs)][:q]
        torch.mul(dl[t0:t0 + q], At, out=a)
        a.exp_()
        torch.mul(du[t0:t0 + q], Bc[t0:t0 + q], out=h)
        if c > 0:
            h[0].addcmul_(a[0], h0)
        for t in range(1, q):
            h[t].addcmul_(a[t], h[t - 1])
        torch.bmm(Cr[t0 * batch:(t0 + q) * batch], h.view(-1, n_state, channels),
                  out=yr[t0 * batch:(t0 + q) * batch])
        h0 = h[q - 1]
        if states is not None and c < n_chunks - 1:
            states[c].copy_(h0)
    return y, states


def _chunked_backward(dy: torch.Tensor, u: torch.Tensor, delta: torch.Tensor, A: torch.Tensor, B: torch.Tensor,
                      C: torch.Tensor, states: torch.Tensor, chunk: int,
                      needs: List[bool]) -> List[Optional[torch.Tensor]]:
    """Gradients of sum(dy * y) for u, delta, A, B, C (None where ``needs`` says not needed).

    Written for TorchScript, like :func:`_chunked_forward` (:func:`_kernel`).
    """
    batch, length, channels = u.shape[0], u.shape[1], u.shape[2]
    n_state = A.shape[1]
    steps = min(chunk, length)
    n_chunks = (length + steps - 1) // steps
    need_u, need_delta, need_A, need_B, need_C = needs[0], needs[1], needs[2], needs[3], needs[4]
    need_decay = need_delta or need_A
    At = A.t().contiguous()
    dlt = delta.transpose(0, 1)
    dl = dlt.contiguous().unsqueeze(2)
    du_t = torch.mul(dlt, u.transpose(0, 1)).contiguous()
    du, du_row = du_t.unsqueeze(2), du_t.view(-1, 1, channels)
    Bc = B.transpose(0, 1).unsqueeze(3)
    B_row = B.transpose(0, 1).contiguous().view(-1, 1, n_state)
    Cc = C.transpose(0, 1).unsqueeze(3)
    dy_t = dy.transpose(0, 1).contiguous()
    dy_bc, dy_row = dy_t.unsqueeze(2), dy_t.view(-1, 1, channels)
    shape = [steps, batch, n_state, channels]
    a_buf = torch.empty(shape, dtype=u.dtype, device=u.device)
    h_buf = torch.empty(shape, dtype=u.dtype, device=u.device)
    g_buf = torch.empty(shape, dtype=u.dtype, device=u.device)
    carry = u.new_empty([batch, n_state, channels])  # a_{t+1} g_{t+1} at the first step of the later chunk
    empty = u.new_empty([0])
    d_du = u.new_empty([length, batch, channels]) if (need_u or need_delta) else empty
    d_delta = u.new_empty([length, batch, channels]) if need_delta else empty
    dAt = A.new_zeros([n_state, channels]) if need_A else empty
    dB = u.new_empty([length, batch, n_state]) if need_B else empty
    dC = u.new_empty([length, batch, n_state]) if need_C else empty
    d_du_row = d_du.view(-1, 1, channels) if (need_u or need_delta) else empty
    dB_row = dB.view(-1, 1, n_state) if need_B else empty
    dC_row = dC.view(-1, 1, n_state) if need_C else empty
    for c in range(n_chunks - 1, -1, -1):
        t0 = c * steps
        q = min(steps, length - t0)
        r0, r1 = t0 * batch, (t0 + q) * batch
        a, h, g = a_buf[:q], h_buf[:q], g_buf[:q]
        h0: Optional[torch.Tensor] = None
        if c > 0:
            h0 = states[c - 1]
        _chunk_states(dl[t0:t0 + q], du[t0:t0 + q], Bc[t0:t0 + q], At, h0, a, h)
        h_mat, g_mat = h.view(-1, n_state, channels), g.view(-1, n_state, channels)
        # (1 x D) @ (D x N) products with a transposed operand: about twice as fast on a CPU as (N x D) @ (D x 1)
        if need_C:  # dC_t[n] = sum_d h_t[n, d] dy_t[d]
            torch.bmm(dy_row[r0:r1], h_mat.transpose(1, 2), out=dC_row[r0:r1])
        # adjoint state: g_t = C_t dy_t + a_{t+1} g_{t+1}, backwards in time
        torch.mul(Cc[t0:t0 + q], dy_bc[t0:t0 + q], out=g)
        if c < n_chunks - 1:
            g[q - 1].add_(carry)
        for t in range(q - 2, -1, -1):
            g[t].addcmul_(a[t + 1], g[t + 1])
        if c > 0:
            torch.mul(a[0], g[0], out=carry)
        # the drive delta_t u_t B_t gets g_t: reduce over n for (delta u), over d for B
        if need_u or need_delta:
            torch.bmm(B_row[r0:r1], g_mat, out=d_du_row[r0:r1])
        if need_B:
            torch.bmm(du_row[r0:r1], g_mat.transpose(1, 2), out=dB_row[r0:r1])
        if need_decay:  # the decay a_t gets g_t h_{t-1}; d(delta_t A) = g_t h_{t-1} a_t
            if q > 1:
                a[1:].mul_(h[:q - 1])
            if h0 is None:
                a[0].zero_()
            else:
                a[0].mul_(h0)
            a.mul_(g)  # now g_t a_t h_{t-1}
            if need_delta:
                torch.mul(a, At, out=h)
                torch.sum(h, dim=[2], out=d_delta[t0:t0 + q])
            if need_A:
                torch.mul(a, dl[t0:t0 + q], out=h)
                dAt.add_(h.sum(dim=[0, 1]))
    grads: List[Optional[torch.Tensor]] = [None, None, None, None, None]
    if need_u:
        grads[0] = (d_du * dlt).transpose(0, 1)
    if need_delta:
        grads[1] = d_delta.addcmul_(d_du, u.transpose(0, 1)).transpose(0, 1)
    if need_A:
        grads[2] = dAt.t()
    if need_B:
        grads[3] = dB.transpose(0, 1)
    if need_C:
        grads[4] = dC.transpose(0, 1)
    return grads


_KERNELS: dict[str, object] = {}
_KERNEL_LOCK = threading.Lock()


def _kernel(name: str, device="cpu"):
    """``_chunked_forward`` or ``_chunked_backward`` (``name`` "forward" or "backward") for ``device``.

    On a CPU: the function compiled by TorchScript once per process (a compiled function runs without
    Python's interpreter lock and dispatches its operations with less overhead), or the Python function
    itself where TorchScript is unavailable (it is deprecated in recent torch, which warns; the warning
    is silenced here because nothing about it concerns the caller). Elsewhere the Python function: the
    compiled one was never run on a GPU (none was available), and a GPU gains nothing from it.
    """
    if torch.device(device).type != "cpu":
        return {"forward": _chunked_forward, "backward": _chunked_backward}[name]
    kernel = _KERNELS.get(name)
    if kernel is None:
        with _KERNEL_LOCK:
            kernel = _KERNELS.get(name)
            if kernel is None:
                function = {"forward": _chunked_forward, "backward": _chunked_backward}[name]
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        kernel = torch.jit.script(function)
                except Exception:  # noqa: BLE001 (a torch without TorchScript: the same function, uncompiled)
                    kernel = function
                _KERNELS[name] = kernel
    return kernel


# --------------------------------------------------------------------------- batch split over CPU threads
# The chunked scan is some 600 small operations per pass (one per time step and a few per chunk),
# each on a [batch, N, D] slab of a few hundred kB: cut across torch's threads, every one of them pays
# a fork and join that costs as much as its arithmetic (2 threads barely beat 1). Cutting the *batch*
# instead, each CPU thread scans its own rows from start to end with single-threaded operations and
# no synchronization until the end; the interpreter lock is held only while an operation is
# dispatched, not while it runs. Measured (benchmarks/README.md): on a quiet 2-core machine the split
# of the Python-dispatched passes is *slower* (forward + backward 38 ms against 30 ms at batch 32,
# length 256, D 64, N 16): the two threads queue on the interpreter lock to dispatch ~600 small
# operations each. Both passes are therefore compiled by TorchScript (:func:`_kernel`), whose calls
# release the interpreter lock for their whole run: the parts do run in parallel. So by default
# (``workers=None``) the batch is split over torch's CPU threads when the passes are compiled.

_POOL_LOCK = threading.Lock()
_POOL: dict[str, ThreadPoolExecutor] = {}


def batch_workers(batch: int, device) -> int:
    """The ``workers`` that cut a batch over every CPU thread: torch's CPU threads (at most the batch), 1 elsewhere."""
    if torch.device(device).type != "cpu":
        return 1
    return max(1, min(torch.get_num_threads(), batch))


#: the fewest state entries (batch x length x D x N) for which ``workers=None`` splits the batch: a
#: smaller scan takes well under a millisecond, against which handing a part to another thread and
#: waiting for it is not small (the benchmark size, 32 x 256 x 64 x 16, is 8.4 million)
MIN_SPLIT_ENTRIES = 1 << 21


def default_workers(batch: int, device, entries: int | None = None) -> int:
    """The batch parts of ``selective_scan(..., workers=None)``: :func:`batch_workers` where both passes
    are compiled by TorchScript (their parts then run without the interpreter lock) and the scan has at
    least ``MIN_SPLIT_ENTRIES`` state entries (``entries``: batch x length x D x N; None: enough), else 1."""
    if entries is not None and entries < MIN_SPLIT_ENTRIES:
        return 1
    compiled = all(isinstance(_kernel(name, device), torch.jit.ScriptFunction) for name in ("forward", "backward"))
    return batch_workers(batch, device) if compiled else 1


def _forget_pool_after_fork():
    """A forked child has none of the parent's pool threads: it must not queue work for them (it would wait forever)."""
    _POOL.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def _pool(workers: int) -> ThreadPoolExecutor:
    with _POOL_LOCK:
        pool = _POOL.get("pool")
        if pool is None or pool._max_workers < workers:  # noqa: SLF001 (grown, never shrunk)
            pool = _POOL["pool"] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="raflab-scan")
        return pool


def _single_threaded(task, grad_enabled: bool):
    torch.set_num_threads(1)
    with torch.set_grad_enabled(grad_enabled):  # grad mode is per thread: the caller's is passed on
        return task()


def _run_parts(tasks):
    """Results of the zero-argument callables ``tasks``, each on its own CPU thread with 1 torch thread."""
    if len(tasks) == 1:
        return [tasks[0]()]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        grad_enabled = torch.is_grad_enabled()
        futures = [_pool(len(tasks) - 1).submit(_single_threaded, task, grad_enabled) for task in tasks[1:]]
        first = tasks[0]()
        return [first] + [future.result() for future in futures]
    finally:
        torch.set_num_threads(threads)


def _batch_parts(batch: int, workers: int):
    """``workers`` contiguous batch slices of near-equal size."""
    bounds = [round(i * batch / workers) for i in range(workers + 1)]
    return [slice(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:]) if hi > lo]


def _split_forward(u, delta, A, B, C, D, chunk, keep_states, workers):
    """:func:`_chunked_forward` plus the skip term, the batch cut into ``workers`` parts scanned on
    parallel threads: y [b, L, D] and the states [chunks - 1, b, N, D] (if ``keep_states``).

    In one part y is the time-first result's transposed view (:func:`_batch_first`). In several, each
    part's thread also writes its rows of a contiguous y and of the states: assembling them afterwards
    (``torch.cat``, the skip term) were operations on both of torch's threads, each of which waits
    for the slower thread (on a loaded machine, for one that is descheduled).
    """
    parts = _batch_parts(u.shape[0], workers)
    kernel = _kernel("forward", u.device)
    if len(parts) == 1:
        y, states = kernel(u, delta, A, B, C, chunk, keep_states)
        return _batch_first(y, u, D), states
    batch, length, n_state = u.shape[0], u.shape[1], A.shape[1]
    n_chunks = -(-length // min(chunk, length))
    y = u.new_empty(u.shape)
    states = u.new_empty(n_chunks - 1, batch, n_state, u.shape[2]) if keep_states else None

    def scan_part(s):
        y_part, states_part = kernel(u[s], delta[s], A, B[s], C[s], chunk, keep_states)
        if D is None:
            y[s].copy_(y_part.transpose(0, 1))
        else:
            torch.addcmul(y_part.transpose(0, 1), u[s], D, out=y[s])
        if keep_states:
            states[:, s].copy_(states_part)

    _run_parts([lambda s=s: scan_part(s) for s in parts])
    return y, states


def _split_backward(dy, u, delta, A, B, C, D, states, chunk, needs, workers):
    """Gradients for u, delta, A, B, C, D (``needs``: six flags; None where not needed), the batch cut
    into the parts of :func:`_split_forward`, each part's thread writing its rows of every gradient
    (and the skip term's share) so that nothing but the small sums for A and D runs on both of torch's
    threads afterwards."""
    parts = _batch_parts(u.shape[0], workers)
    kernel, scan_needs = _kernel("backward", u.device), [bool(n) for n in needs[:5]]
    need_u, need_D = bool(needs[0]), bool(needs[5]) and D is not None
    if len(parts) == 1:
        grads = kernel(dy, u, delta, A, B, C, states, chunk, scan_needs)
        if D is not None and need_u:  # the skip term u * D
            grads[0] = torch.addcmul(grads[0], dy, D)
        # a product and a sum: torch.einsum("bld,bld->d") took 4.7 ms here against 0.3 ms
        return [*grads, (dy * u).sum((0, 1)) if need_D else None]
    full = [t.new_empty(t.shape) if need else None for t, need in zip((u, delta, A, B, C), scan_needs)]
    full[2] = None
    partial_A, partial_D = [None] * len(parts), [None] * len(parts)

    def grad_part(i, s):
        grads = kernel(dy[s], u[s], delta[s], A, B[s], C[s], states[:, s], chunk, scan_needs)
        for k in (0, 1, 3, 4):
            if full[k] is not None:
                if k == 0 and D is not None:
                    torch.addcmul(grads[0], dy[s], D, out=full[0][s])
                else:
                    full[k][s].copy_(grads[k])
        partial_A[i] = grads[2]
        if need_D:
            partial_D[i] = (dy[s] * u[s]).sum((0, 1))

    _run_parts([lambda i=i, s=s: grad_part(i, s) for i, s in enumerate(parts)])
    if scan_needs[2]:
        full[2] = torch.stack(partial_A).sum(0)
    return [*full, torch.stack(partial_D).sum(0) if need_D else None]


def _batch_first(y, u, D):
    """The scan's time-first y [L, b, D] (a fresh tensor) plus the skip term u * D where D is given,
    returned as its [b, L, D] view (the result's memory stays time first, as it always was).

    The skip term goes into y in place, time first. Adding it to the transposed view instead
    (``y.transpose(0, 1) + u * D``, as before) took about 1.2 ms of the 9-10 ms forward at batch 32,
    length 256, 64 channels (this: about 0.2 ms).
    """
    if D is not None:
        y.addcmul_(u.transpose(0, 1), D)
    return y.transpose(0, 1)


class _ChunkedScan(torch.autograd.Function):
    """y = scan(u, delta, A, B, C) + u * D (D may be None), with the hand-written backward pass."""

    @staticmethod
    def forward(ctx, u, delta, A, B, C, D, chunk, workers):
        with torch.autocast(u.device.type, enabled=False):
            y, states = _split_forward(u, delta, A, B, C, D, chunk, True, workers)
        ctx.save_for_backward(u, delta, A, B, C, D, states)
        ctx.chunk, ctx.workers = chunk, workers
        return y

    @staticmethod
    def backward(ctx, dy):
        u, delta, A, B, C, D, states = ctx.saved_tensors
        with torch.autocast(u.device.type, enabled=False):
            grads = _split_backward(dy, u, delta, A, B, C, D, states, ctx.chunk, ctx.needs_input_grad[:6],
                                    ctx.workers)
        return (*grads, None, None)


def selective_scan(u, delta, A, B, C, D=None, *, method: str = "chunked", chunk: int | None = None,
                   workers: int | None = None):
    """The S6 recurrence of :func:`selective_scan_reference`, 5-8x faster than that loop on one CPU thread.

    Same arguments and result (shapes: u, delta [batch, length, D]; A [D, N]; B, C [batch, length, N];
    D [D] or None). ``method="chunked"`` (default): chunks of ``chunk`` time steps (default:
    :func:`default_chunk`), cache-sized buffers, hand-written backward (see the module docstring).
    ``method="parallel"``: the odd-even :func:`linear_scan`, differentiated by autograd (about three
    [batch, length, D, N] tensors). ``workers`` (chunked, CPU): the batch is cut into this many parts,
    each scanned on its own thread with single-threaded operations (torch's thread count is set to 1
    while they run and restored after), forward and backward. Default None: :func:`default_workers`,
    torch's CPU threads where both passes are compiled by TorchScript (their parts then run without
    the interpreter lock), else 1; see the comment above :func:`batch_workers`.
    Half-precision inputs are scanned in float32 and the result is cast back.
    """
    one_of(method, SCAN_METHODS, "scan method")
    if chunk is not None and (not isinstance(chunk, int) or chunk < 1):
        raise ValueError(f"chunk must be a positive integer, got {chunk!r}")
    if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool) or workers < 1):
        raise ValueError(f"workers must be a positive integer or None, got {workers!r}")
    _check_scan_inputs(u, delta, A, B, C, D)
    dtype_in = u.dtype  # the result's dtype: that of the inputs together, as in the reference
    for t in (delta, A, B, C) + (() if D is None else (D,)):
        dtype_in = torch.promote_types(dtype_in, t.dtype)
    work = torch.promote_types(dtype_in, torch.float32)
    u, delta, A, B, C = (t.to(work) for t in (u, delta, A, B, C))
    if chunk is None:
        chunk = default_chunk(u.shape[0], u.shape[2], A.shape[1], work, u.device)
    D = None if D is None else D.to(work)
    if workers is None:
        workers = default_workers(u.shape[0], u.device, u.numel() * A.shape[1])
    if method == "parallel":
        y = _parallel_scan(u, delta, A, B, C)
        y = y if D is None else y + u * D
    elif torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in (u, delta, A, B, C, D)):
        y = _ChunkedScan.apply(u, delta, A, B, C, D, chunk, workers)
    else:
        with torch.autocast(u.device.type, enabled=False):
            y = _split_forward(u, delta, A, B, C, D, chunk, False, workers)[0]
    return y.to(dtype_in)

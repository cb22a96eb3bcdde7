"""The one training loop of the course's torch models, and torch's thread count.

:func:`train` minimises ``loss_of_step(step)`` for ``step = 0 .. steps-1``: gradients,
clipping to a global norm, an Adam, RMSprop or plain SGD update with a constant or
one-cycle learning rate, and a tqdm progress bar. Units 01, 04, 05, 06 and 07 train with it.

Adam, RMSprop and SGD are written out here rather than taken from ``torch.optim``:
creating the first ``torch.optim`` optimizer imports torch's compiler (``torch._dynamo``),
which costs seconds in every notebook that trains. The updates are ``torch.optim.Adam``'s,
``torch.optim.RMSprop``'s (``alpha=0.9``) and ``torch.optim.SGD``'s, and the one-cycle
schedule is ``OneCycleLR``'s (the tests compare them).

:func:`torch_threads` sets torch's thread count for a block and restores it afterwards:
the course's models are small, and one thread is fastest on a shared two-core machine.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

OPTIMIZERS = ("adam", "rmsprop", "sgd")
SCHEDULES = ("constant", "one-cycle")
BETAS, EPS = (0.9, 0.999), 1e-8  # Adam's defaults, as in torch.optim.Adam
RMS_DECAY = 0.9  # RMSprop's decay of the mean square (Hinton's; unit 05's rmsprop_step)


@dataclass
class History:
    """What :func:`train` records at every step, each an array of shape ``(steps,)``.

    ``losses``: the loss (NaN from the first loss that is not finite on, where training
    stopped). ``grad_norms``: the global gradient norm before clipping (NaN without
    clipping: it is measured only to clip). ``lrs``: the learning rate of the update.
    """

    losses: np.ndarray
    grad_norms: np.ndarray
    lrs: np.ndarray


@contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run the block with torch on ``threads`` threads, then restore the previous count.

    ``None`` leaves the count alone. The count is restored even if the block raises.
    """
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                or threads < 1):
        raise ValueError(f"threads must be a positive integer or None; got {threads!r}")
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def one_cycle(steps: int, peak: float, warmup: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """The learning rate and Adam's ``beta1`` at every step of a one-cycle schedule.

    Parameters
    ----------
    steps : number of updates.
    peak : the highest learning rate.
    warmup : fraction of the steps spent rising.

    Returns
    -------
    lrs, beta1s : arrays of shape (steps,).

    Notes
    -----
    Smith's one-cycle policy as ``torch.optim.lr_scheduler.OneCycleLR`` (cosine
    annealing, ``div_factor=25``, ``final_div_factor=1e4``) computes it: with
    ``turn = warmup * steps - 1``, the rate rises along a half cosine from ``peak / 25``
    at step 0 to ``peak`` at step ``turn``, then falls along a half cosine to
    ``peak / 25e4`` at step ``steps - 1``. ``beta1`` moves the other way, from 0.95 down
    to 0.85 and back up to 0.95.
    """
    _check_positive_int("steps", steps)
    if not 0 < warmup < 1:
        raise ValueError(f"warmup must lie in (0, 1); got {warmup!r}")
    start, end = peak / 25, peak / 25e4
    turn = warmup * steps - 1
    lrs, beta1s = np.empty(steps), np.empty(steps)
    for step in range(steps):
        if step <= turn:  # rising; cos_up goes from 1 to 0
            cos_up = (math.cos(math.pi * step / turn) + 1) / 2 if turn > 0 else 0.0
            lrs[step] = peak + (start - peak) * cos_up
            beta1s[step] = 0.85 + 0.1 * cos_up
        else:
            cos_down = (math.cos(math.pi * (step - turn) / (steps - 1 - turn)) + 1) / 2
            lrs[step] = end + (peak - end) * cos_down
            beta1s[step] = 0.95 - 0.1 * cos_down
    return lrs, beta1s


def train(model: nn.Module, loss_of_step: Callable[[int], torch.Tensor], steps: int,
          lr: float = 1e-2, *, optimizer: str = "adam", clip: float | None = None,
          clip_fn: Callable | None = None, schedule: str = "constant",
          threads: int | None = None, desc: str = "training",
          progress: bool = True) -> History:
    """Minimise ``loss_of_step(step)`` over ``model``'s parameters; record every step.

    Parameters
    ----------
    model : the module to train, in place. It is in training mode while it trains and
        in evaluation mode afterwards.
    loss_of_step : ``loss_of_step(step) -> scalar tensor``, the loss of update ``step``
        (typically on a fresh batch).
    steps : number of updates (use :func:`rnnlab.steps` for fast mode).
    lr : the learning rate (the peak rate with the one-cycle schedule).
    optimizer : ``"adam"`` (betas 0.9 and 0.999, eps 1e-8), ``"rmsprop"`` (decay 0.9,
        eps 1e-8) or ``"sgd"`` (no momentum).
    clip : gradients are scaled down to this global norm; None: no clipping; ``math.inf``
        measures the norm (``History.grad_norms``) without clipping.
    clip_fn : ``clip_fn(grads, clip) -> grads`` on NumPy copies of the gradients, used
        instead of ``torch.nn.utils.clip_grad_norm_`` (unit 05 trains with the student's
        clipping); only with ``clip``.
    schedule : ``"constant"`` or ``"one-cycle"`` (see :func:`one_cycle`).
    threads : torch threads while training (see :func:`torch_threads`); None: unchanged.
    desc, progress : the progress bar's label; ``progress=False`` hides it.

    Returns
    -------
    History
        ``losses``, ``grad_norms`` and ``lrs``, each of shape (steps,).

    Notes
    -----
    Each step: ``loss = loss_of_step(step)``; if it is not finite, training stops
    (nothing more can be learnt, and arithmetic on NaN is slow); otherwise gradients by
    ``loss.backward()``, global norm ``||g|| = sqrt(sum_p ||g_p||^2)``, clipping
    ``g <- g * min(1, clip / (||g|| + 1e-6))``, then the update. Adam:
    ``m <- b1 m + (1-b1) g``, ``v <- b2 v + (1-b2) g^2``,
    ``p <- p - lr / (1-b1^t) * m / (sqrt(v / (1-b2^t)) + eps)``. RMSprop:
    ``v <- 0.9 v + 0.1 g^2``, ``p <- p - lr g / (sqrt(v) + eps)``. SGD: ``p <- p - lr g``.
    """
    _check_positive_int("steps", steps)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer is {optimizer!r}; expected one of {OPTIMIZERS}")
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule is {schedule!r}; expected one of {SCHEDULES}")
    if not (isinstance(lr, (int, float)) and lr > 0):
        raise ValueError(f"lr must be a positive number; got {lr!r}")
    if clip is not None and not (isinstance(clip, (int, float)) and clip > 0):
        raise ValueError(f"clip must be a positive number or None; got {clip!r}")
    if clip_fn is not None and clip is None:
        raise ValueError("clip_fn is given but clip is None; pass the norm to clip to")
    if schedule == "one-cycle":
        lrs, beta1s = one_cycle(steps, lr)
    else:
        lrs, beta1s = np.full(steps, float(lr)), np.full(steps, BETAS[0])
    params = [p for p in model.parameters() if p.requires_grad]
    moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]  # Adam's m, v
    losses, grad_norms = np.full(steps, np.nan), np.full(steps, np.nan)
    model.train()
    with torch_threads(threads):
        bar = tqdm(range(steps), desc=desc, disable=not progress, mininterval=0.5)
        for step in bar:
            for p in params:
                p.grad = None
            loss = loss_of_step(step)
            value = loss.item()
            if not math.isfinite(value):
                break
            losses[step] = value
            loss.backward()
            if clip is not None:
                grad_norms[step] = _clip(params, clip, clip_fn)
            with torch.no_grad():
                if optimizer == "adam":
                    _adam_update(params, moments, step + 1, lrs[step], beta1s[step])
                elif optimizer == "rmsprop":
                    _rmsprop_update(params, [v for _, v in moments], lrs[step])
                else:
                    for p in params:
                        if p.grad is not None:
                            p.add_(p.grad, alpha=-lrs[step])
            if progress and (step % 25 == 0 or step == steps - 1):
                bar.set_postfix(loss=f"{np.mean(losses[max(0, step - 19):step + 1]):.3f}")
    model.eval()
    return History(losses, grad_norms, lrs)


def _check_positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")


def _clip(params: list[torch.Tensor], clip: float, clip_fn: Callable | None) -> float:
    """Clip the gradients in place (see :func:`train`); return their norm before clipping."""
    if clip_fn is None:
        return float(nn.utils.clip_grad_norm_(params, clip))
    grads = [p.grad for p in params if p.grad is not None]
    norm = float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g)
                                                         for g in grads])))
    clipped = clip_fn([g.numpy().copy() for g in grads], clip)
    with torch.no_grad():
        for g, new in zip(grads, clipped):
            g.copy_(torch.as_tensor(np.asarray(new)))
    return norm


def _rmsprop_update(params: list[torch.Tensor], squares: list[torch.Tensor], lr: float) -> None:
    """One RMSprop update of every parameter with a gradient, in place, as
    ``torch.optim.RMSprop(alpha=RMS_DECAY)`` computes it (no momentum, not centred)."""
    for p, v in zip(params, squares):
        if p.grad is None:
            continue
        v.mul_(RMS_DECAY).addcmul_(p.grad, p.grad, value=1 - RMS_DECAY)
        p.addcdiv_(p.grad, v.sqrt().add_(EPS), value=-lr)


def _adam_update(params: list[torch.Tensor], moments: list[tuple[torch.Tensor, torch.Tensor]],
                 t: int, lr: float, beta1: float) -> None:
    """One Adam update (Kingma and Ba 2015) of every parameter with a gradient, in place,
    in the order of operations of ``torch.optim.Adam``."""
    beta2 = BETAS[1]
    step_size = lr / (1 - beta1**t)
    root_correction = (1 - beta2**t) ** 0.5
    for p, (m, v) in zip(params, moments):
        if p.grad is None:
            continue
        m.lerp_(p.grad, 1 - beta1)
        v.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
        p.addcdiv_(m, (v.sqrt() / root_correction).add_(EPS), value=-step_size)

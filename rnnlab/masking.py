"""Padded batches: which steps are real, and the loss and accuracy over those steps only.

A batch of sequences of different lengths is padded at the end to a common length ``T``
and carries ``lengths (N,)``, the number of valid steps of each sequence.
:func:`sequence_mask` turns the lengths into a mask ``(N, T)``; :func:`masked_sequence_loss`
and :func:`accuracy` average over the steps where the mask is True, so padding neither
adds to the loss nor to its gradient.
"""

from __future__ import annotations

import torch

from rnnlab.validation import check_tensors

__all__ = ["accuracy", "masked_sequence_loss", "sequence_mask"]


def sequence_mask(lengths: torch.Tensor, steps: int) -> torch.Tensor:
    """Which steps of a padded batch are real: ``mask[n, t] = t < lengths[n]``.

    Parameters
    ----------
    lengths : torch.Tensor, shape (N,), integer
        Valid steps of each sequence.
    steps : int
        ``T``, the padded length.

    Returns
    -------
    mask : torch.Tensor, shape (N, T), bool
    """
    check_tensors(lengths=(lengths, "N", "iu"))
    return torch.arange(steps, device=lengths.device)[None, :] < lengths[:, None]


def masked_sequence_loss(logits: torch.Tensor, targets: torch.Tensor,
                         mask: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the steps that carry loss.

    Parameters
    ----------
    logits : torch.Tensor, shape (N, T, V)
    targets : torch.Tensor, shape (N, T), integer
        Class indices in 0..V-1 where ``mask`` is True; anything (e.g. -1) elsewhere.
    mask : torch.Tensor, shape (N, T), bool, at least one True

    Returns
    -------
    loss : torch.Tensor, shape ()

    Notes
    -----
    ``loss = sum_{n,t} mask[n,t] * (-log softmax(logits[n,t])[targets[n,t]]) / sum mask``.
    Padded steps contribute neither to the loss nor to its gradient.
    """
    check_tensors(logits=(logits, "N T V"), targets=(targets, "N T", "iu"),
                  mask=(mask, "N T", "b"))
    if not bool(mask.any()):
        raise ValueError("mask has no True entry: no step carries loss")
    safe = torch.where(mask, targets.long(), torch.zeros_like(targets, dtype=torch.long))
    nll = -torch.log_softmax(logits, dim=-1).gather(-1, safe.unsqueeze(-1)).squeeze(-1)
    nll = torch.where(mask, nll, torch.zeros_like(nll))
    return nll.sum() / mask.sum()


def accuracy(logits: torch.Tensor, targets: torch.Tensor,
             mask: torch.Tensor | None = None) -> float:
    """Fraction of correct argmax predictions, over ``mask``'s True entries if given.

    ``logits (..., V)``, ``targets (...)``, ``mask (...)`` bool.
    """
    correct = logits.argmax(-1) == targets
    if mask is not None:
        correct = correct[mask]
    return float(correct.float().mean())

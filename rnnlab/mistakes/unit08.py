"""Named mistakes of unit 08 (attention): see :mod:`rnnlab.mistakes`."""

from __future__ import annotations

import numpy as np
import torch

from rnnlab.attention import masked_softmax
from rnnlab.mistakes import Mistake


def _normalised(e: np.ndarray, axis: int = 1) -> np.ndarray:
    total = e.sum(axis=axis, keepdims=True)
    return e / np.where(total > 0, total, 1.0)


def attention_weights(scores: np.ndarray, mask: np.ndarray) -> list[Mistake]:
    """What common mistakes in the masked softmax of ``scores (N, S)`` over each row return.

    ``mask (N, S)`` is True at the real positions; every answer is ``(N, S)`` and may hold
    NaN or infinities where that mistake's arithmetic overflows or divides 0 by 0.
    """
    scores, mask = np.asarray(scores, dtype=np.float64), np.asarray(mask, dtype=bool)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        plain = np.exp(scores - scores.max(axis=1, keepdims=True))
        real = np.where(mask, scores, -np.inf)
        top = real.max(axis=1, keepdims=True)
        column_top = np.where(mask.any(axis=0), real.max(axis=0), 0.0)
        return [
            Mistake("mask_ignored", "with the mask ignored: padded positions get weight",
                    _normalised(plain)),
            Mistake("masked_after_normalising", "with the padding zeroed after normalising: "
                    "zero it before the sum, so each row's real weights sum to one",
                    np.where(mask, _normalised(plain), 0.0)),
            Mistake("softmax_over_batch", "with the softmax over the batch (axis 0) instead "
                    "of the source positions (axis 1)",
                    _normalised(np.where(mask, np.exp(real - column_top), 0.0), axis=0)),
            Mistake("no_max_shift", "without subtracting each row's largest real score "
                    "before exp (exp(1000) overflows)",
                    _normalised(np.where(mask, np.exp(scores), 0.0))),
            Mistake("shift_by_padded_max", "with each row shifted by its largest score "
                    "including padding: a large padded score makes every real exp underflow",
                    _normalised(np.where(mask, np.exp(scores - scores.max(axis=1,
                                                                         keepdims=True)), 0.0))),
            Mistake("empty_row_not_zero", "when a row with no real position is not all "
                    "zeros (0 / 0 gives NaN there)",
                    np.where(mask, np.exp(real - top), 0.0)
                    / np.where(mask, np.exp(real - top), 0.0).sum(axis=1, keepdims=True)),
        ]


def attention_context(weights: np.ndarray, values: np.ndarray) -> list[Mistake]:
    """What common mistakes in ``context[n] = sum_s weights[n, s] values[n, s]`` return.

    Shapes: ``weights (N, S)``, ``values (N, S, H)``; the answers are ``(N, H)`` but for
    ``batch_mixed`` ``(N, N, H)`` and ``summed_over_features`` ``(N, S)``.
    """
    weights, values = np.asarray(weights, dtype=np.float64), np.asarray(values, np.float64)
    N, S, H = values.shape
    mixed = np.zeros((N, N, H))
    for n in range(N):
        for m in range(N):
            mixed[n, m] = sum(weights[m, s] * values[n, s] for s in range(S))
    return [
        Mistake("plain_mean", "with the plain mean over positions: weight each state by "
                "its weight", values.mean(axis=1)),
        Mistake("unweighted_sum", "with the states summed without their weights",
                values.sum(axis=1)),
        Mistake("summed_over_features", "with the sum over the features (axis 2) instead "
                "of the source positions (axis 1)", (weights[:, :, None] * values).sum(axis=2)),
        Mistake("batch_mixed", "with weights @ values: every row's weights applied to every "
                "row's states, (N, N, H); use weights[:, None] @ values", mixed),
    ]


def attention_decoder_forward(decoder, enc_states: torch.Tensor, src_mask: torch.Tensor,
                              h0: torch.Tensor,
                              tgt_in: torch.Tensor) -> dict[str, list[Mistake]]:
    """What common mistakes in the attending decoder's loop return, per output.

    Inputs as the exercise's; returns ``{"logits": [...], "weights": [...]}``, the answers
    NumPy arrays of shapes ``(N, T, V)`` and ``(N, T, S)``.
    """
    def run(query_from="before", carry=True, mask=True, cell_order="ec", out_order="hc"):
        keys = decoder.key(enc_states)
        h, c_prev, logits, weights = h0, torch.zeros_like(enc_states[:, 0]), [], []
        for t in range(tgt_in.shape[1]):
            embedded = decoder.embed(tgt_in[:, t])

            def attend(state):
                scores = decoder.energy(torch.tanh(decoder.query(state)[:, None] + keys))
                scores = scores[..., 0]
                a = masked_softmax(scores, src_mask) if mask else torch.softmax(scores, -1)
                return a, (a[:, :, None] * enc_states).sum(dim=1)

            if query_from == "after":
                h = decoder.cell(torch.cat([embedded, c_prev], dim=-1), h)
                a, c = attend(h)
            else:
                a, c = attend(h0 if query_from == "h0" else h)
                pair = [embedded, c] if cell_order == "ec" else [c, embedded]
                h = decoder.cell(torch.cat(pair, dim=-1), h if carry else h0)
            logits.append(decoder.out(torch.cat([h, c] if out_order == "hc" else [c, h], -1)))
            weights.append(a)
            c_prev = c
        return {"logits": torch.stack(logits, dim=1).numpy().astype(np.float64),
                "weights": torch.stack(weights, dim=1).numpy().astype(np.float64)}

    with torch.no_grad():
        wrong = [
            ("mask_ignored", "with the softmax over every source position, padding included: "
             "use masked_softmax", run(mask=False)),
            ("query_is_h0", "when every step's query is h0 instead of the state h_{t-1} "
             "before the step", run(query_from="h0")),
            ("state_not_carried", "when every step's cell starts again from h0 instead of "
             "h_{t-1}", run(carry=False)),
            ("query_after_step", "when the cell runs first (with the previous context) and "
             "the new state h_t is the query", run(query_from="after")),
            ("cell_input_swapped", "with the cell reading cat([c_t, embed]) instead of "
             "cat([embed(y_t), c_t])", run(cell_order="ce")),
            ("output_input_swapped", "with the output layer reading cat([c_t, h_t]) instead "
             "of cat([h_t, c_t])", run(out_order="ch")),
        ]
    return {part: [Mistake(i, words, answers[part]) for i, words, answers in wrong]
            for part in ("logits", "weights")}

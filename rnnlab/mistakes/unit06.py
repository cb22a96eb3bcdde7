"""Named mistakes of unit 06 (the five types of RNN): see :mod:`rnnlab.mistakes`.

The exercises take torch layers and tensors; each function here takes the same arguments
(copies of the test's inputs), runs the layers under ``torch.no_grad`` and returns the
wrong answers as float64 NumPy arrays. The layers are only called, never modified.
"""

from __future__ import annotations

import numpy as np
import torch

from rnnlab.mistakes import Mistake


def _np(value: torch.Tensor) -> np.ndarray:
    return value.detach().to(torch.float64).cpu().numpy().copy()


def one_to_one_forward(layer, head, x) -> list[Mistake]:
    """What common mistakes in ``head(tanh(layer(x)))`` return, each ``(N, V)``."""
    with torch.no_grad():
        a = layer(x)
        return [
            Mistake("forgot_tanh", "without the tanh (head(layer(x)))", _np(head(a))),
            Mistake("sigmoid_for_tanh", "with the logistic sigmoid instead of tanh",
                    _np(head(torch.sigmoid(a)))),
            Mistake("tanh_on_logits", "with a tanh on the logits too (tanh(head(...)))",
                    _np(torch.tanh(head(torch.tanh(a))))),
        ]


def one_to_many_forward(rnn, head, x, steps) -> list[Mistake]:
    """What common mistakes in feeding ``x`` at every step return.

    Answers are ``(N, T, V)``, but ``forgot_head`` ``(N, T, H)`` and ``last_step_only``
    ``(N, V)``.
    """
    with torch.no_grad():
        N, D = x.shape
        hs = rnn(x[:, None].expand(-1, steps, -1))[0]
        first_only = torch.cat([x[:, None], torch.zeros(N, steps - 1, D, dtype=x.dtype)], 1)
        once = head(rnn(x[:, None])[0])
        return [
            Mistake("input_at_first_step_only", "when x is read at step 0 only (zeros after)",
                    _np(head(rnn(first_only)[0]))),
            Mistake("state_not_carried", "when every step starts again from a zero state",
                    _np(once.expand(-1, steps, -1))),
            Mistake("forgot_head", "without the head (the states hs, not logits)", _np(hs)),
            Mistake("last_step_only", "when only the last step's logits are returned "
                    "(shape (N, V), not (N, T, V))", _np(head(hs[:, -1]))),
        ]


def many_to_one_forward(rnn, head, x, lengths) -> list[Mistake]:
    """What common mistakes in reading each sequence's last valid state return.

    Answers are ``(N, V)``, but ``forgot_head`` ``(N, H)`` and ``output_every_step``
    ``(N, T, V)``.
    """
    with torch.no_grad():
        hs = rnn(x)[0]
        last = torch.stack([rnn(x[n:n + 1, :int(lengths[n])])[0][0, -1]
                            for n in range(x.shape[0])])
        return [
            Mistake("last_padded_step", "from the state at step T - 1, after the padding, "
                    "instead of step lengths - 1", _np(head(hs[:, -1]))),
            Mistake("first_step", "from the state at step 0 instead of step lengths - 1",
                    _np(head(hs[:, 0]))),
            Mistake("forgot_head", "without the head (the last valid states, not logits)",
                    _np(last)),
            Mistake("output_every_step", "with an output at every step (shape (N, T, V), "
                    "not (N, V))", _np(head(hs))),
        ]


def masked_sequence_loss(logits, targets, mask) -> list[Mistake]:
    """What common mistakes in the masked mean cross-entropy return, each a scalar."""
    lg = _np(logits)
    m = _np(mask).astype(bool)
    y = np.clip(_np(targets).astype(np.int64), 0, lg.shape[-1] - 1)

    def nll(axis):  # -log softmax over ``axis``, read at the targets y
        logp = lg - _lse(lg, axis)
        return -np.take_along_axis(logp, y[..., None], axis=-1)[..., 0]

    right = np.where(m, nll(-1), 0.0)
    over_time = np.where(m, nll(1), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_sequence = (right.sum(1) / m.sum(1)).mean()
    return [
        Mistake("averaged_over_all_steps", "with the sum divided by all N T steps instead of "
                "by the number of masked-in steps", np.array(right.sum() / m.size)),
        Mistake("mask_not_applied", "without the mask (the mean over every step, padding "
                "included)", np.array(nll(-1).mean())),
        Mistake("sum_not_mean", "with the masked sum, not divided by sum(mask)",
                np.array(right.sum())),
        Mistake("per_sequence_mean", "with each sequence's mean averaged (short sequences "
                "weigh more) instead of the mean over all masked-in steps",
                np.array(per_sequence)),
        Mistake("log_softmax_over_time", "with the log-softmax over time (dim=1) instead of "
                "over the classes (dim=-1)", np.array(over_time.sum() / m.sum())),
    ]


def _lse(a: np.ndarray, axis: int) -> np.ndarray:
    top = a.max(axis=axis, keepdims=True)
    return top + np.log(np.exp(a - top).sum(axis=axis, keepdims=True))


def encoder_decoder_forward(encoder, embed, decoder, head, src, src_lengths,
                            tgt_in) -> list[Mistake]:
    """What common mistakes in encoding, handing over the state and decoding return.

    Every answer is ``(N, T, V)``.
    """
    with torch.no_grad():
        hs = encoder(src)[0]
        last = torch.stack([encoder(src[n:n + 1, :int(src_lengths[n])])[0][0, -1]
                            for n in range(src.shape[0])])
        inputs = embed(tgt_in)

        def decode(context, inp=inputs):
            start = None if context is None else context[None].contiguous()
            return _np(head(decoder(inp, start)[0]))

        shifted = embed(torch.cat([tgt_in[:, :1], tgt_in[:, :-1]], dim=1))
        return [
            Mistake("context_from_padded_step", "when the decoder starts from the encoder's "
                    "state at step S - 1, after the padding, instead of step src_lengths - 1",
                    decode(hs[:, -1])),
            Mistake("context_from_first_step", "when the decoder starts from the encoder's "
                    "state at step 0", decode(hs[:, 0])),
            Mistake("decoder_from_zero_state", "when the decoder starts from a zero state "
                    "(the encoder's state is not handed over)", decode(None)),
            Mistake("teacher_forcing_shifted_again", "when tgt_in is shifted right once more "
                    "(step t reads token t - 2 of the target)", decode(last, shifted)),
        ]


def synced_many_to_many_forward(rnn, head, x, lengths) -> list[Mistake]:
    """What common mistakes in a bidirectional tagger over a padded batch return.

    Every answer is ``(N, T, V)``.
    """
    with torch.no_grad():
        N, T, _ = x.shape
        H = rnn.hidden_size
        hs = torch.zeros(N, T, 2 * H, dtype=x.dtype)
        for n in range(N):
            L = int(lengths[n])
            hs[n, :L] = rnn(x[n:n + 1, :L])[0][0]
        mask = (torch.arange(T)[None, :] < lengths[:, None]).unsqueeze(-1)

        def out(states, masked=True):
            logits = head(states)
            return _np(logits * mask if masked else logits)

        return [
            Mistake("not_packed", "when the padded batch is run unpacked (the backward "
                    "direction starts at the padding, not at step lengths - 1)",
                    out(rnn(x)[0])),
            Mistake("padding_not_zeroed", "without zeroing the padded steps (head(0) is the "
                    "head's bias)", out(hs, masked=False)),
            Mistake("directions_swapped", "with the two directions concatenated backward "
                    "first (forward half must come first)",
                    out(torch.cat([hs[..., H:], hs[..., :H]], -1))),
            Mistake("backward_flipped", "with the backward states flipped in time (torch "
                    "already returns them in time order)",
                    out(torch.cat([hs[..., :H], hs[..., H:].flip(1)], -1))),
        ]

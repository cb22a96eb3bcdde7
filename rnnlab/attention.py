"""Additive attention (Bahdanau, Cho and Bengio 2015) for the encoder-decoder (unit 08).

An encoder-decoder without attention hands its decoder one vector, the encoder's last
state. With attention the decoder looks back at *every* encoder state at every step:

1. scores ``e[n, s] = v . tanh(h[n] Wq + enc[n, s] Wk + bk)`` from the decoder's state
   ``h (N, H)`` and each encoder state ``enc (N, S, H)`` (:func:`attend`);
2. weights ``a = attention_weights(e, mask)``: a softmax over the real source positions;
3. the context ``c[n] = sum_s a[n, s] enc[n, s]`` (:func:`attention_context`), fed to
   the decoder with the previous word.

The NumPy functions are the reference of the unit's exercises; the torch modules
(:class:`AttentionDecoder`, :class:`AttentionTranslator`) train on the translation task
of unit 07 and decode with its :func:`rnnlab.apps.translation.greedy_decode`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from rnnlab.apps import translation
from rnnlab.apps.common import Vocab, pad_sequences
from rnnlab.validation import check_arrays, check_tensors

__all__ = [
    "AttentionDecoder",
    "AttentionTranslator",
    "attention_context",
    "attention_decoder_forward",
    "attention_weights",
    "draw_recurrence_and_attention",
    "explain_decoder",
    "explain_weights",
    "masked_softmax",
    "plot_attention",
    "plot_by_length",
    "recorded_by_length",
    "scores_by_length",
]

#: Written by ``benchmarks/attention_by_length.py``: unit 08's experiment in full mode.
RECORDED = Path(__file__).parent / "data" / "attention_by_length.json"


# --------------------------------------------------------------------------- NumPy reference
def attention_weights(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Softmax of ``scores`` over the real source positions of each row.

    Parameters
    ----------
    scores : np.ndarray, shape (N, S), float
        Scores; finite at real positions, any finite value at padded ones.
    mask : np.ndarray, shape (N, S), bool
        True at the real source positions.

    Returns
    -------
    weights : np.ndarray, shape (N, S), the dtype of ``scores``
        Zero at padded positions; each row sums to one over its real positions. A row
        with no real position is all zeros.

    Notes
    -----
    ``a[n, s] = m[n, s] exp(e[n, s] - M_n) / sum_r m[n, r] exp(e[n, r] - M_n)`` with
    ``M_n = max_{r: m[n, r]} e[n, r]``: the shift changes nothing mathematically and
    keeps every exponent at most 0, so large scores cannot overflow.
    """
    check_arrays(scores=(scores, "N S"), mask=(mask, "N S", "b"))
    if not np.isfinite(scores[mask]).all():
        raise ValueError("scores must be finite at the real positions (where mask is True)")
    real = np.where(mask, scores, -np.inf)
    top = real.max(axis=1, keepdims=True, initial=-np.inf)
    top[~np.isfinite(top)] = 0.0  # rows with no real position
    e = np.where(mask, np.exp(real - top), 0.0)
    total = e.sum(axis=1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0).astype(scores.dtype)


def attention_context(weights: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The weighted sum of the encoder states: one context vector per row.

    Parameters
    ----------
    weights : np.ndarray, shape (N, S), float
    values : np.ndarray, shape (N, S, H), float (the dtype of ``weights``)

    Returns
    -------
    context : np.ndarray, shape (N, H)

    Notes
    -----
    ``c[n, h] = sum_s a[n, s] v[n, s, h]``, for each row ``n`` the matrix product
    ``a[n] @ v[n]``.
    """
    check_arrays(weights=(weights, "N S"), values=(values, "N S H"))
    return (weights[:, None, :] @ values)[:, 0]


def explain_weights(got: object, mask: np.ndarray) -> str:
    """The likely mistake behind attention weights ``got (..., S)``, or "" if none is seen.

    Checks, in order: NaN or infinite values, weight on padded positions, rows that do
    not sum to one over their real positions (softmax over the wrong axis, or masked
    after normalising). ``mask`` broadcasts against ``got``.
    """
    if not isinstance(got, np.ndarray) or got.shape[-1:] != mask.shape[-1:]:
        return ""
    mask = np.broadcast_to(mask, got.shape)
    real_rows = mask.any(axis=-1)
    if not np.isfinite(got).all():
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(got))[0])
        if not real_rows[where[:-1]]:
            return (f"weights are not finite at {where}, in a row with no real position: "
                    "such a row must be all zeros")
        return (f"weights are not finite at {where}: exp overflowed (no shift by the row's "
                "maximum?) or the shift used a padded position's score, so every real "
                "exponential underflowed to 0 and the row divided 0 by 0")
    if np.abs(got[~mask]).max(initial=0.0) > 0:
        return "padded positions have non-zero weight: the mask is ignored"
    sums = got.sum(axis=-1)
    if not np.allclose(sums[real_rows], 1.0, rtol=0, atol=1e-9):
        if got.ndim == 2 and np.allclose(got.sum(axis=0)[mask.any(axis=0)], 1.0):
            return ("rows do not sum to one but columns do: softmax over the batch axis "
                    "(axis 0) instead of the source positions (the last axis)")
        return ("rows do not sum to one over their real positions: normalise after "
                "masking (padded positions must not count in the sum)")
    return ""


def explain_decoder(logits: object, weights: object, expected_logits: np.ndarray,
                    expected_weights: np.ndarray, src_mask: np.ndarray) -> str:
    """The likely mistake behind a decoder's ``logits (N, T, V)`` and ``weights (N, T, S)``.

    Returns "" when both are right (or a shape is wrong: the shape check says more).
    """
    if not all(isinstance(x, np.ndarray) for x in (logits, weights)) or logits.shape != \
            expected_logits.shape or weights.shape != expected_weights.shape:
        return ""
    found = explain_weights(weights, src_mask[:, None, :])
    if found:
        return found
    close = lambda a, b: bool(np.allclose(a, b, rtol=1e-8, atol=1e-10))  # noqa: E731
    if not close(weights[:, 0], expected_weights[:, 0]):
        return ("step 0 attends wrongly: its scores are v . tanh(h0 Wq + enc Wk + bk), the "
                "query is the state BEFORE the step")
    if not close(weights, expected_weights):
        return ("step 0 attends rightly, later steps do not: the query of step t is the "
                "state h_{t-1} that step t-1 computed")
    if not close(logits, expected_logits):
        return ("the weights are right, the logits are not: the cell reads [embed(y_t), c_t] "
                "and the output layer [h_t, c_t], in that order")
    return ""


# --------------------------------------------------------------------------- torch model
def masked_softmax(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Torch twin of :func:`attention_weights` over the last axis: ``(..., S)``."""
    a = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
    return torch.where(mask.any(-1, keepdim=True), a, torch.zeros_like(a))


def attend(decoder: AttentionDecoder, h: torch.Tensor, enc_states: torch.Tensor,
           keys: torch.Tensor, src_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Context ``(N, H)`` and weights ``(N, S)`` of state ``h (N, H)``; the additive scores
    are ``v . tanh(h Wq + keys)`` with ``keys = enc Wk + bk (N, S, A)``."""
    scores = decoder.energy(torch.tanh(decoder.query(h)[:, None] + keys))[..., 0]
    a = masked_softmax(scores, src_mask)
    return torch.bmm(a[:, None], enc_states)[:, 0], a


def decoder_step(decoder: AttentionDecoder, prev: torch.Tensor, h: torch.Tensor,
                 enc_states: torch.Tensor, keys: torch.Tensor,
                 src_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One decoding step: tokens ``prev (N,)``, state ``h (N, H)`` -> logits, new state."""
    c, _ = attend(decoder, h, enc_states, keys, src_mask)
    h = decoder.cell(torch.cat([decoder.embed(prev), c], dim=-1), h)
    return decoder.out(torch.cat([h, c], dim=-1)), h


def attention_decoder_forward(decoder: AttentionDecoder, enc_states: torch.Tensor,
                              src_mask: torch.Tensor, h0: torch.Tensor,
                              tgt_in: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Teacher-forced forward pass of :class:`AttentionDecoder` (the unit's reference).

    Parameters
    ----------
    decoder : AttentionDecoder
    enc_states : torch.Tensor, shape (N, S, H), float
    src_mask : torch.Tensor, shape (N, S), bool; at least one True per row
    h0 : torch.Tensor, shape (N, H), the decoder's first state
    tgt_in : torch.Tensor, shape (N, T), int64, the decoder's input tokens

    Returns
    -------
    logits : torch.Tensor, shape (N, T, V)
    weights : torch.Tensor, shape (N, T, S): the attention weights of every step

    Notes
    -----
    With ``h_{-1} = h0``, for ``t = 0 .. T-1``: ``a_t = softmax_mask(v . tanh(h_{t-1} Wq
    + enc Wk + bk))``, ``c_t = a_t enc``, ``h_t = GRUCell([embed(y_t), c_t], h_{t-1})``,
    ``logits_t = [h_t, c_t] Wo + bo``. The query is the state *before* the step.
    """
    if not isinstance(decoder, AttentionDecoder):
        raise TypeError(f"decoder must be an AttentionDecoder; got {type(decoder).__name__}")
    check_tensors(enc_states=(enc_states, "N S H"), src_mask=(src_mask, "N S", "b"),
                  h0=(h0, "N H"), tgt_in=(tgt_in, "N T", "iu"))
    keys = decoder.key(enc_states)  # (N, S, A): once per sentence, not once per step
    embedded = decoder.embed(tgt_in)  # (N, T, E)
    h, states, contexts, weights = h0, [], [], []
    for t in range(tgt_in.shape[1]):
        c, a = attend(decoder, h, enc_states, keys, src_mask)
        h = decoder.cell(torch.cat([embedded[:, t], c], dim=-1), h)
        states.append(h)
        contexts.append(c)
        weights.append(a)
    both = torch.cat([torch.stack(states, dim=1), torch.stack(contexts, dim=1)], dim=-1)
    return decoder.out(both), torch.stack(weights, dim=1)


class AttentionDecoder(nn.Module):
    """A GRU decoder with additive attention over the encoder states.

    Parameters
    ----------
    vocab_size : int, ``V`` (target tokens).
    embedding_dim : int, ``E``.
    hidden_size : int, ``H`` (also the size of each encoder state).
    attention_size : int, ``A`` (default ``H``).

    Layers: ``embed (V, E)``; ``query`` ``Wq (H, A)`` without bias; ``key`` ``Wk (H, A)``
    with bias ``bk``; ``energy`` the vector ``v (A,)``; ``cell`` a ``GRUCell(E + H, H)``;
    ``out`` ``Linear(2 H, V)``. :func:`attention_decoder_forward` is the forward pass.
    """

    def __init__(self, vocab_size: int, embedding_dim: int, hidden_size: int,
                 attention_size: int | None = None):
        super().__init__()
        A = attention_size or hidden_size
        self.embed = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        self.query = nn.Linear(hidden_size, A, bias=False)
        self.key = nn.Linear(hidden_size, A)
        self.energy = nn.Linear(A, 1, bias=False)
        self.cell = nn.GRUCell(embedding_dim + hidden_size, hidden_size)
        self.out = nn.Linear(2 * hidden_size, vocab_size)

    def forward(self, enc_states: torch.Tensor, src_mask: torch.Tensor, h0: torch.Tensor,
                tgt_in: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits ``(N, T, V)`` and weights ``(N, T, S)``: :func:`attention_decoder_forward`."""
        return attention_decoder_forward(self, enc_states, src_mask, h0, tgt_in)


class AttentionTranslator(nn.Module):
    """Unit 07's translator with an :class:`AttentionDecoder`; the same encoder.

    ``encode(src)`` returns the decoder's state ``(h, enc_states, keys, src_mask)``;
    ``step(prev, state)`` and ``forward(src, tgt_in)`` have the interface of
    :class:`rnnlab.apps.translation.Translator`, so the same training and decoding apply.
    """

    def __init__(self, src_vocab: int, tgt_vocab: int, emb: int = 64, hidden: int = 128,
                 attention_size: int = 32):
        super().__init__()
        self.src_embed = nn.Embedding(src_vocab, emb, padding_idx=0)
        self.encoder = nn.GRU(emb, hidden, batch_first=True)
        self.decoder = AttentionDecoder(tgt_vocab, emb, hidden, attention_size)

    def encode(self, src: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Every encoder state ``(N, S, H)`` (zero at padding), the last real one, keys, mask."""
        mask = src != 0
        lengths = mask.sum(1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(self.src_embed(src), lengths,
                                                   batch_first=True, enforce_sorted=False)
        out, h = self.encoder(packed)
        states, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True,
                                                     total_length=src.shape[1])
        return h[0], states, self.decoder.key(states), mask

    def step(self, prev: torch.Tensor, state: tuple) -> tuple[torch.Tensor, tuple]:
        """One greedy-decoding step: scores ``(N, V)`` and the new state."""
        h, states, keys, mask = state
        logits, h = decoder_step(self.decoder, prev, h, states, keys, mask)
        return logits, (h, states, keys, mask)

    def attend(self, src: torch.Tensor, tgt_in: torch.Tensor) -> tuple[torch.Tensor,
                                                                       torch.Tensor]:
        """Teacher forcing: logits ``(N, T, V)`` and attention weights ``(N, T, S)``."""
        h, states, _, mask = self.encode(src)
        return self.decoder(states, mask, h, tgt_in)

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: logits ``(N, T, V)`` for every step of ``tgt_in (N, T)``."""
        return self.attend(src, tgt_in)[0]


# --------------------------------------------------------------------------- measuring
def scores_by_length(model: nn.Module, pairs: Sequence, src_vocab: Vocab, tgt_vocab: Vocab,
                     bins: Sequence[int], max_len: int = 40) -> dict[str, dict[str, float]]:
    """Exact match and corpus BLEU of greedy translations, by English length.

    ``bins`` are edges: sentences of ``bins[i] <= len < bins[i + 1]`` words form group
    ``"bins[i]-(bins[i+1]-1)"``. Returns ``{"exact match": {group: value}, "BLEU": ...}``.
    """
    hyps = translation.translate(model, [p.english for p in pairs], src_vocab, tgt_vocab,
                                 max_len=max_len)
    lengths = np.array([len(p.english) for p in pairs])
    out: dict[str, dict[str, float]] = {"exact match": {}, "BLEU": {}}
    for lo, hi in pairwise(bins):
        idx = np.flatnonzero((lengths >= lo) & (lengths < hi))
        if idx.size == 0:
            continue
        group = f"{lo}-{hi - 1}"
        h, r = [hyps[i] for i in idx], [pairs[i].french for i in idx]
        out["exact match"][group] = translation.exact_match(h, r)
        out["BLEU"][group] = translation.bleu(h, r)
    return out


def recorded_by_length() -> dict:
    """The recorded full-mode run (``{}`` before the benchmark has written one).

    Keys: ``by_length`` (``{model: scores_by_length(...)}``), ``steps``, ``seconds``
    (training time per model), ``machine`` (where and when it ran).
    """
    return json.loads(RECORDED.read_text()) if RECORDED.is_file() else {}


@torch.no_grad()
def attention_map(model: AttentionTranslator, english: Sequence[str], src_vocab: Vocab,
                  tgt_vocab: Vocab, max_len: int = 40) -> tuple[list[str], np.ndarray]:
    """The greedy translation of one sentence and its weights ``(T + 1, S)`` (last: <eos>)."""
    french = translation.translate(model, [english], src_vocab, tgt_vocab, max_len)[0]
    src = pad_sequences([src_vocab.encode(english)])
    tgt_in = pad_sequences([[Vocab.bos, *tgt_vocab.encode(french)]])
    return french, model.eval().attend(src, tgt_in)[1][0].numpy()


# --------------------------------------------------------------------------- figures
def plot_attention(weights: np.ndarray, source: Sequence[str], target: Sequence[str],
                   ax: plt.Axes | None = None, title: str = "") -> plt.Axes:
    """Heat map of ``weights (T, S)``: one row per target word, one column per source word."""
    ax = ax if ax is not None else plt.figure(figsize=(6, 5)).add_subplot()
    image = ax.imshow(weights, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(source)), source, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(target)), target, fontsize=8)
    ax.set_xlabel("English (encoder states)")
    ax.set_ylabel("French (decoder steps)")
    ax.grid(False)
    ax.figure.colorbar(image, ax=ax, fraction=0.04, label="attention weight")
    ax.set_title(title)
    return ax


def plot_by_length(curves: dict[str, dict[str, dict[str, float]]], ax: plt.Axes | None = None,
                   title: str = "") -> plt.Axes:
    """``{model: scores_by_length(...)}``: one colour per model, a line style per measure."""
    ax = ax if ax is not None else plt.figure(figsize=(7, 3.8)).add_subplot()
    styles = {"exact match": ("-", "o"), "BLEU": ("--", "s")}
    for i, (label, measures) in enumerate(curves.items()):
        for measure, values in measures.items():
            line, marker = styles.get(measure, (":", "^"))
            ax.plot(list(values), list(values.values()), linestyle=line, marker=marker,
                    color=f"C{i}", label=f"{label}: {measure}")
    ax.set_xlabel("English sentence length (words)")
    ax.set_ylabel("score on held-out sentences")
    ax.set_ylim(-0.03, 1.03)
    ax.set_title(title)
    if ax.get_lines():
        ax.legend(fontsize=8)
    return ax


def draw_recurrence_and_attention(n: int = 6, ax: plt.Axes | None = None) -> plt.Axes:
    """Two encoders of ``n`` words: a recurrent chain, and self-attention (all pairs)."""
    ax = ax if ax is not None else plt.figure(figsize=(8, 4)).add_subplot()
    box = {"boxstyle": "round", "edgecolor": "0.4"}
    rows = [(2.2, "recurrent: word 1 reaches state n\nafter n - 1 steps, one at a time"),
            (0.0, "self-attention: every output reads\nevery word in one step; order is lost")]
    for row, (y, label) in enumerate(rows):
        for i in range(n):
            for dy, name, colour in [(-0.6, "x", "#f6c28b"), (0.6, "h", "#aed6f1")]:
                ax.text(i, y + dy, f"{name}{i + 1}", ha="center", va="center",
                        bbox=box | {"fc": colour})
            for j in [i] if row == 0 else range(n):  # input i feeds output j
                ax.annotate("", (j, y + 0.38), (i, y - 0.38), arrowprops={
                    "arrowstyle": "-|>", "color": "0.3" if j == i else "0.7", "lw": 0.7})
            if row == 0 and i + 1 < n:  # the recurrence
                ax.annotate("", (i + 0.75, y + 0.6), (i + 0.25, y + 0.6),
                            arrowprops={"arrowstyle": "-|>", "color": "#c0392b", "lw": 1.5})
        ax.text(n - 0.2, y, label, ha="left", va="center", fontsize=9)
    ax.set(xlim=(-0.6, n + 3.6), ylim=(-1.0, 3.2))
    ax.axis("off")
    ax.set_title("Where the information travels: recurrence against attention")
    return ax

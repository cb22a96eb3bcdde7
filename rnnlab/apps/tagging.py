"""Automatic image tagging: a convolutional encoder and a one-to-many GRU decoder.

One input (an image) becomes a sequence of outputs (its tags, then ``<eos>``): the
image sets the decoder's first hidden state, and the decoder reads back each tag it
emits. Tag ids: 0 padding, 1 ``<bos>``, 2 ``<eos>``, then the tags of
:data:`rnnlab.data.images.TAGS` from 3 on.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from rnnlab.apps.common import batches, extend_until_eos, pad_sequences
from rnnlab.data.images import TAGS
from rnnlab.training import train

BOS, EOS, FIRST_TAG = 1, 2, 3
N_TOKENS = FIRST_TAG + len(TAGS)


def tag_ids(tags: Sequence[str]) -> list[int]:
    """Ids of tag strings."""
    return [FIRST_TAG + TAGS.index(t) for t in tags]


def tag_names(ids: Sequence[int]) -> list[str]:
    """Tag strings of ids (special ids are skipped)."""
    return [TAGS[i - FIRST_TAG] for i in ids if i >= FIRST_TAG]


class Tagger(nn.Module):
    """CNN encoder and GRU decoder: ``encode(images) -> state``, ``step(prev, state)``.

    Parameters
    ----------
    hidden : decoder hidden size ``H``; emb : tag embedding size; channels : conv widths.

    Notes
    -----
    With ``f = CNN(image)`` (``c2 * 6`` features: a 2 x 3 grid of max-pooled cells):
    ``h_{-1} = tanh(f W_0 + b_0)``, ``h_t = GRU([embed(y_{t-1}), f], h_{t-1})``,
    ``scores_t = h_t W + b`` with ``y_{-1} = <bos>``. The image enters both the first
    state and every step's input, so the decoder cannot forget it. The state passed
    between steps is the pair ``(h, f)``.
    """

    def __init__(self, hidden: int = 64, emb: int = 16, channels: tuple[int, int] = (8, 16)):
        super().__init__()
        c1, c2 = channels
        self.cnn = nn.Sequential(
            nn.Conv2d(3, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.AdaptiveMaxPool2d((2, 3)), nn.Flatten())
        self.init = nn.Linear(c2 * 6, hidden)
        self.embed = nn.Embedding(N_TOKENS, emb, padding_idx=0)
        self.decoder = nn.GRU(emb + c2 * 6, hidden, batch_first=True)
        self.out = nn.Linear(hidden, N_TOKENS)

    def encode(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Decoder state ``(h (1, N, H), f (N, c2 * 6))`` from ``images (N, 3, S, S)``."""
        f = self.cnn(images)
        return torch.tanh(self.init(f))[None], f

    def step(self, prev: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]
             ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """One decoder step: ``prev (N,)`` -> scores ``(N, V)`` and the new state."""
        h, f = state
        out, h = self.decoder(torch.cat([self.embed(prev), f], -1)[:, None], h)
        return self.out(out[:, 0]), (h, f)

    def forward(self, images: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: scores ``(N, T, V)`` for the inputs ``tgt_in (N, T)``."""
        h, f = self.encode(images)
        inputs = torch.cat([self.embed(tgt_in), f[:, None].expand(-1, tgt_in.shape[1], -1)], -1)
        out, _ = self.decoder(inputs, h)
        return self.out(out)


def train_tagger(model: Tagger, images: np.ndarray, tags: Sequence[Sequence[str]],
                 steps: int, batch_size: int = 64, lr: float = 1e-2,
                 seed: int = 0) -> np.ndarray:
    """Teacher forcing on the tag sequences (``<bos>`` tags, then tags ``<eos>``), Adam."""
    ids = [tag_ids(t) for t in tags]
    tgt_in = pad_sequences([[BOS, *s] for s in ids])
    tgt_out = pad_sequences([[*s, EOS] for s in ids])
    x = torch.from_numpy(images)
    next_batch = batches(len(images), min(batch_size, len(images)), np.random.default_rng(seed))
    loss_fn = nn.CrossEntropyLoss(ignore_index=0)

    def step(_: int) -> torch.Tensor:
        idx = torch.from_numpy(next_batch())
        scores = model(x[idx], tgt_in[idx])
        return loss_fn(scores.reshape(-1, N_TOKENS), tgt_out[idx].reshape(-1))

    return train(model, step, steps, lr, schedule="one-cycle", desc="tagging").losses


@torch.no_grad()
def decode_tags(model: nn.Module, images: torch.Tensor, max_tags: int,
                eos: int) -> list[list[int]]:
    """Reference tag decoder (unit 07's exercise): greedy, never repeating a tag.

    Parameters
    ----------
    model : has ``encode(images) -> state`` and ``step(prev (N,), state) -> (scores (N, V),
        state)``; the first ``prev`` is ``<bos>`` (:data:`BOS`).
    images : the model's input for N images (passed to ``encode`` as it is).
    max_tags : the most tags to emit per image.
    eos : the end token.

    Returns
    -------
    list of N lists of ids, without ``eos`` and without repeats: at each step the
    tokens an image has already emitted score ``-inf``, the best remaining token is
    emitted, and the image stops at ``eos`` or after ``max_tags`` tags.
    """
    N = len(images)
    out: list[list[int]] = [[] for _ in range(N)]
    done = [False] * N
    state = model.encode(images)
    prev = torch.full((N,), BOS, dtype=torch.long)
    for _ in range(max_tags):
        scores, state = model.step(prev, state)
        scores = scores.clone()
        for n, seq in enumerate(out):
            if seq:
                scores[n, seq] = -torch.inf
        prev = scores.argmax(-1)
        if extend_until_eos(out, done, prev.tolist(), eos):
            break
    return out


def tag_images(model: Tagger, images: np.ndarray, decode=decode_tags,
               max_tags: int = 8) -> list[list[str]]:
    """Tag strings for ``images (N, 3, S, S)`` with ``decode``."""
    model.eval()
    with torch.no_grad():
        ids = decode(model, torch.from_numpy(images), max_tags, EOS)
    return [tag_names(s) for s in ids]


def precision_recall(predicted: Sequence[Sequence[str]],
                     true: Sequence[Sequence[str]]) -> tuple[float, float]:
    """Micro-averaged tag precision and recall over a set of images.

    Notes
    -----
    With ``P_n`` and ``T_n`` the predicted and true tag sets of image ``n``:
    ``precision = sum |P_n & T_n| / sum |P_n|`` (1 if nothing was predicted) and
    ``recall = sum |P_n & T_n| / sum |T_n|`` (1 if there is nothing to find).
    """
    if len(predicted) != len(true):
        raise ValueError(f"got {len(predicted)} predictions for {len(true)} images")
    hits = sum(len(set(p) & set(t)) for p, t in zip(predicted, true))
    n_pred = sum(len(set(p)) for p in predicted)
    n_true = sum(len(set(t)) for t in true)
    return (hits / n_pred if n_pred else 1.0, hits / n_true if n_true else 1.0)


def per_tag_precision_recall(predicted: Sequence[Sequence[str]],
                             true: Sequence[Sequence[str]]) -> dict[str, tuple[float, float]]:
    """``{tag: (precision, recall)}`` for every tag of :data:`TAGS`."""
    out = {}
    for tag in TAGS:
        out[tag] = precision_recall([[tag] if tag in p else [] for p in predicted],
                                    [[tag] if tag in t else [] for t in true])
    return out

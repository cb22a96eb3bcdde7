"""Sentiment analysis: a many-to-one GRU against a bag-of-words baseline.

Both models take word ids ``(N, T)`` padded with 0 at the end and return one score
(a logit) per review; ``sigmoid(score)`` is the probability that the review is positive.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from rnnlab.apps.common import Vocab, batches, pad_sequences
from rnnlab.data.reviews import KINDS, tokenize
from rnnlab.training import train


class BagOfWords(nn.Module):
    """Logistic regression on word counts: ``score = b + sum_t w[x_t]`` (padding weighs 0).

    The order of the words cannot change the score.
    """

    def __init__(self, vocab_size: int):
        super().__init__()
        self.weight = nn.Embedding(vocab_size, 1, padding_idx=0)
        nn.init.zeros_(self.weight.weight)
        self.bias = nn.Parameter(torch.zeros(()))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """Scores ``(N,)`` of ``ids (N, T)``."""
        return self.weight(ids)[..., 0].sum(1) + self.bias


class SentimentRNN(nn.Module):
    """Many-to-one GRU: embed, read every word, score the state after the last real word.

    Notes
    -----
    ``h_t = GRU(embed(x_t), h_{t-1})``, ``score = h_{L-1} w + b`` where ``L`` is the
    number of non-padding ids (a review of length 0 is scored from ``h_0``).
    """

    def __init__(self, vocab_size: int, emb: int = 32, hidden: int = 64):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, emb, padding_idx=0)
        self.rnn = nn.GRU(emb, hidden, batch_first=True)
        self.out = nn.Linear(hidden, 1)

    def prefix_scores(self, ids: torch.Tensor) -> torch.Tensor:
        """Scores ``(N, T)`` after each word: what the model thinks so far."""
        hs, _ = self.rnn(self.embed(ids))
        return self.out(hs)[..., 0]

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """Scores ``(N,)``: the prefix score at each review's last real word."""
        last = ((ids != 0).sum(1) - 1).clamp(min=0)
        return self.prefix_scores(ids).gather(1, last[:, None])[:, 0]


def encode_reviews(texts: Sequence[str], vocab: Vocab) -> torch.Tensor:
    """Word ids ``(N, T)`` of the reviews, padded with 0; unknown words are ``<unk>``."""
    return pad_sequences([vocab.encode(tokenize(t)) for t in texts])


def train_classifier(model: nn.Module, texts: Sequence[str], labels: np.ndarray,
                     vocab: Vocab, steps: int, batch_size: int = 64, lr: float = 1e-2,
                     seed: int = 0, desc: str = "sentiment") -> np.ndarray:
    """Train with binary cross-entropy and Adam; return the loss per step."""
    ids = encode_reviews(texts, vocab)
    y = torch.as_tensor(labels, dtype=torch.float32)
    next_batch = batches(len(texts), min(batch_size, len(texts)), np.random.default_rng(seed))
    loss_fn = nn.BCEWithLogitsLoss()

    def step(_: int) -> torch.Tensor:
        idx = torch.from_numpy(next_batch())
        batch = ids[idx]
        batch = batch[:, : max(int((batch != 0).sum(1).max()), 1)]
        return loss_fn(model(batch), y[idx])

    return train(model, step, steps, lr, clip=1.0, desc=desc).losses


@torch.no_grad()
def predict_sentiment(model: nn.Module, reviews: Sequence[str],
                      vocab: dict[str, int]) -> np.ndarray:
    """Reference prediction (unit 07's exercise): ``P(positive)`` for each review.

    Parameters
    ----------
    model : maps ids ``(N, T)`` (long, padded with 0 at the end) to scores ``(N,)``.
    reviews : N strings; :func:`rnnlab.data.reviews.tokenize` splits them into words.
    vocab : word -> id; a word that is missing gets ``vocab["<unk>"]``.

    Returns
    -------
    np.ndarray, shape (N,), float64: ``sigmoid(model(ids))``, the model in eval mode.
    """
    model.eval()
    ids = [[vocab.get(w, vocab["<unk>"]) for w in tokenize(r)] for r in reviews]
    scores = model(pad_sequences(ids))
    return torch.sigmoid(scores).double().numpy()


def accuracy_by_kind(probs: np.ndarray, labels: np.ndarray,
                     kinds: Sequence[str]) -> dict[str, float]:
    """Accuracy of ``probs > 0.5`` on each kind of review, and on ``"all"``.

    The kinds of :data:`rnnlab.data.reviews.KINDS` come first, in that order.
    """
    correct = (np.asarray(probs) > 0.5) == (np.asarray(labels) == 1)
    order = [k for k in KINDS if k in kinds] + [k for k in dict.fromkeys(kinds) if k not in KINDS]
    kinds = np.asarray(kinds)
    out = {str(k): float(correct[kinds == k].mean()) for k in order}
    out["all"] = float(correct.mean())
    return out

"""Speech recognition: a bidirectional GRU over a spectrogram, trained with CTC.

The network emits, at every frame, a distribution over the ten digits and a *blank*
(class 0; digit ``d`` is class ``d + 1``). Connectionist temporal classification
(Graves et al. 2006) sums the probability of every frame labelling that collapses to the
digit string (merge repeats, then drop blanks), so no one has to say where each digit is.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from rnnlab.apps.common import batches
from rnnlab.training import train

BLANK = 0


class SpeechRecognizer(nn.Module):
    """Bidirectional GRU with a linear read-out: ``(N, F, D) -> log-probabilities (N, F, C)``.

    Parameters
    ----------
    n_features : spectrogram bands ``D``.
    hidden : hidden size of each direction (the read-out sees ``2 * hidden``).
    n_classes : ``C``, the digits plus the blank.
    """

    def __init__(self, n_features: int = 32, hidden: int = 64, n_classes: int = 11):
        super().__init__()
        self.rnn = nn.GRU(n_features, hidden, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden, n_classes)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Log-probabilities ``(N, F, C)``; frames past ``lengths[n]`` are padding."""
        packed = nn.utils.rnn.pack_padded_sequence(x, torch.as_tensor(lengths).cpu(),
                                                   batch_first=True, enforce_sorted=False)
        out, _ = self.rnn(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True,
                                                  total_length=x.shape[1])
        return torch.log_softmax(self.out(out), dim=-1)


def train_recognizer(model: SpeechRecognizer, x: np.ndarray, lengths: np.ndarray,
                     digits: Sequence[Sequence[int]], steps: int, batch_size: int = 32,
                     lr: float = 1e-2, seed: int = 0) -> np.ndarray:
    """Train with ``torch.nn.CTCLoss`` (mean over the batch of the loss per target digit).

    Parameters
    ----------
    x : (N, F, D) features; lengths : (N,) frames; digits : the N digit strings.
    """
    ctc = nn.CTCLoss(blank=BLANK, zero_infinity=True)
    next_batch = batches(len(x), min(batch_size, len(x)), np.random.default_rng(seed))

    def step(_: int) -> torch.Tensor:
        idx = next_batch()
        frames = int(lengths[idx].max())
        xb = torch.from_numpy(x[idx, :frames])
        lb = torch.from_numpy(lengths[idx])
        targets = torch.tensor([d + 1 for i in idx for d in digits[i]], dtype=torch.long)
        target_lengths = torch.tensor([len(digits[i]) for i in idx], dtype=torch.long)
        log_probs = model(xb, lb)
        return ctc(log_probs.transpose(0, 1), targets, lb, target_lengths)

    return train(model, step, steps, lr, clip=1.0, schedule="one-cycle",
                 desc="speech (CTC)").losses


def ctc_greedy_decode(log_probs: torch.Tensor | np.ndarray, blank: int = BLANK,
                      lengths: Sequence[int] | None = None) -> list[list[int]]:
    """Reference best-path CTC decoding (unit 07's exercise).

    Take the most probable class at every frame, merge runs of the same class, drop the
    blanks. Frames at or past ``lengths[n]`` are ignored.

    Parameters
    ----------
    log_probs : (N, F, C) scores (log-probabilities or anything with the same argmax).
    blank : the blank class.
    lengths : (N,) frames of each sequence; all ``F`` if omitted.

    Returns
    -------
    list of N lists of class ids (never ``blank``).
    """
    best = torch.as_tensor(np.asarray(log_probs) if isinstance(log_probs, np.ndarray)
                           else log_probs.detach()).argmax(-1)
    out = []
    for n, path in enumerate(best.tolist()):
        if lengths is not None:
            path = path[: int(lengths[n])]
        labels, prev = [], None
        for c in path:
            if c != prev and c != blank:
                labels.append(c)
            prev = c
        out.append(labels)
    return out


def recognise(model: SpeechRecognizer, x: np.ndarray, lengths: np.ndarray,
              decode=ctc_greedy_decode) -> list[list[int]]:
    """The digit strings ``model`` hears in ``x``, decoded with ``decode``."""
    model.eval()
    with torch.no_grad():
        log_probs = model(torch.from_numpy(x), torch.from_numpy(lengths))
    labels = decode(log_probs, BLANK, [int(n) for n in lengths])
    return [[c - 1 for c in seq] for seq in labels]

"""Machine translation: a GRU encoder-decoder trained with teacher forcing, and BLEU.

The encoder reads the English sentence into one vector (its final hidden state); the
decoder starts from that vector and writes the French sentence one word at a time.

Training uses **teacher forcing**: the decoder's input at step t is the *true* previous
word, so all steps are computed in one call. At test time the true words are unknown
and the decoder reads its own previous output: :func:`greedy_decode`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from rnnlab.apps.common import Vocab, batches, extend_until_eos, pad_sequences
from rnnlab.training import train


class Translator(nn.Module):
    """A sequence-to-sequence GRU: ``encode(src) -> state``, ``step(prev, state)``.

    Parameters
    ----------
    src_vocab, tgt_vocab : vocabulary sizes; id 0 is padding in both.
    emb : embedding size.
    hidden : GRU hidden size ``H``.

    Notes
    -----
    The encoder ignores padding (packed sequences), so its state is the state after the
    last real word. The decoder computes
    ``h_t = GRU(embed(y_{t-1}), h_{t-1})``, ``scores_t = h_t W + b`` with ``h_{-1}`` the
    encoder's state.
    """

    def __init__(self, src_vocab: int, tgt_vocab: int, emb: int = 64, hidden: int = 128):
        super().__init__()
        self.src_embed = nn.Embedding(src_vocab, emb, padding_idx=0)
        self.tgt_embed = nn.Embedding(tgt_vocab, emb, padding_idx=0)
        self.encoder = nn.GRU(emb, hidden, batch_first=True)
        self.decoder = nn.GRU(emb, hidden, batch_first=True)
        self.out = nn.Linear(hidden, tgt_vocab)

    def encode(self, src: torch.Tensor) -> torch.Tensor:
        """State ``(1, N, H)`` after reading ``src (N, S)`` (padded with 0 at the end)."""
        lengths = (src != 0).sum(1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(self.src_embed(src), lengths,
                                                   batch_first=True, enforce_sorted=False)
        _, h = self.encoder(packed)
        return h

    def step(self, prev: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor,
                                                                     torch.Tensor]:
        """One decoder step: ``prev (N,)`` token ids -> scores ``(N, V)`` and the new state."""
        out, state = self.decoder(self.tgt_embed(prev)[:, None], state)
        return self.out(out[:, 0]), state

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: scores ``(N, T, V)`` for every step of ``tgt_in (N, T)``."""
        out, _ = self.decoder(self.tgt_embed(tgt_in), self.encode(src))
        return self.out(out)


def make_batch(pairs: Sequence, src_vocab: Vocab,
               tgt_vocab: Vocab) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``src (N, S)``, decoder input ``<bos> y (N, T)`` and target ``y <eos> (N, T)``."""
    src = pad_sequences([src_vocab.encode(p.english) for p in pairs])
    ys = [tgt_vocab.encode(p.french) for p in pairs]
    tgt_in = pad_sequences([[Vocab.bos, *y] for y in ys])
    tgt_out = pad_sequences([[*y, Vocab.eos] for y in ys])
    return src, tgt_in, tgt_out


def train_translator(model: Translator, pairs: Sequence, src_vocab: Vocab, tgt_vocab: Vocab,
                     steps: int, batch_size: int = 64, lr: float = 1e-2,
                     seed: int = 0) -> np.ndarray:
    """Train with teacher forcing and Adam; return the loss (cross-entropy per word) per step."""
    next_batch = batches(len(pairs), min(batch_size, len(pairs)), np.random.default_rng(seed))
    loss_fn = nn.CrossEntropyLoss(ignore_index=0)

    def step(_: int) -> torch.Tensor:
        src, tgt_in, tgt_out = make_batch([pairs[i] for i in next_batch()], src_vocab,
                                          tgt_vocab)
        scores = model(src, tgt_in)
        return loss_fn(scores.reshape(-1, scores.shape[-1]), tgt_out.reshape(-1))

    return train(model, step, steps, lr, clip=1.0, schedule="one-cycle", desc="translation").losses


@torch.no_grad()
def greedy_decode(model: nn.Module, src: torch.Tensor, max_len: int, bos: int,
                  eos: int) -> list[list[int]]:
    """Reference greedy decoder (unit 07's exercise): the best word at every step.

    Parameters
    ----------
    model : has ``encode(src) -> state`` and ``step(prev (N,), state) -> (scores (N, V),
        state)``.
    src : (N, S) long tensor, the source sentences.
    max_len : the most tokens to emit per sentence (``<eos>`` not counted).
    bos, eos : ids of the start and end tokens.

    Returns
    -------
    list of N lists of ints: the tokens emitted before ``<eos>``, at most ``max_len``.
    """
    state = model.encode(src)
    N = src.shape[0]
    prev = torch.full((N,), bos, dtype=torch.long)
    out: list[list[int]] = [[] for _ in range(N)]
    done = [False] * N
    for _ in range(max_len):
        scores, state = model.step(prev, state)
        prev = scores.argmax(-1)
        if extend_until_eos(out, done, prev.tolist(), eos):
            break
    return out


def beam_search_decode(model: nn.Module, src: torch.Tensor, max_len: int, bos: int, eos: int,
                       beam: int = 4, alpha: float = 1.0) -> list[list[int]]:
    """Reference beam search (unit 07's exercise): keep the ``beam`` best partial sentences.

    Parameters
    ----------
    model, src, max_len, bos, eos : as in :func:`greedy_decode`.
    beam : how many partial sentences each sentence keeps at every step.
    alpha : length normalisation: a finished sentence of ``L`` tokens (``<eos>`` counted,
        so ``L >= 1``) scores ``log p / L**alpha``; 0 compares raw log-probabilities,
        which favour short sentences.

    Returns
    -------
    list of N lists of ints, as :func:`greedy_decode`. With ``beam=1`` it is greedy
    decoding.

    Notes
    -----
    Each step extends every live hypothesis by every word with its log-probability
    (``log_softmax`` of the scores) and keeps the ``beam`` best by total log-probability.
    A hypothesis that emits ``<eos>``, or reaches ``max_len`` tokens, is finished; the search
    stops when ``beam`` hypotheses are finished or none is live, and returns the finished one
    with the best normalised score.
    """
    out: list[list[int]] = []
    for n in range(src.shape[0] if max_len > 0 else 0):
        state = model.encode(src[n:n + 1])
        live = [([], 0.0, state)]  # (tokens, log-probability, decoder state)
        finished: list[tuple[float, list[int]]] = []
        while live and len(finished) < beam:
            steps = [model.step(torch.tensor([tokens[-1] if tokens else bos]), state)
                     for tokens, _, state in live]  # one hypothesis at a time: any state
            candidates = [(total + logp, k, w) for k, ((_, total, _), (scores, _)) in
                          enumerate(zip(live, steps)) for w, logp in
                          enumerate(torch.log_softmax(scores[0].double(), dim=-1).tolist())]
            live_next = []
            for total, k, w in sorted(candidates, key=lambda c: -c[0])[:beam]:
                tokens = live[k][0] if w == eos else [*live[k][0], w]
                length = len(live[k][0]) + 1  # tokens emitted, <eos> included
                if w == eos or length >= max_len:
                    finished.append((total / length**alpha, tokens))
                else:
                    live_next.append((tokens, total, steps[k][1]))
            live = live_next
        out.append(max(finished, key=lambda f: f[0])[1])
    return out if max_len > 0 else [[] for _ in range(src.shape[0])]


def translate(model: Translator, sentences: Sequence[Sequence[str]], src_vocab: Vocab,
              tgt_vocab: Vocab, max_len: int = 20, decode=greedy_decode) -> list[list[str]]:
    """Translate token lists with ``decode`` (by default the reference greedy decoder)."""
    model.eval()
    src = pad_sequences([src_vocab.encode(s) for s in sentences])
    with torch.no_grad():
        ids = decode(model, src, max_len, Vocab.bos, Vocab.eos)
    return [tgt_vocab.decode(s) for s in ids]


def _ngrams(tokens: Sequence[str], n: int) -> Counter:
    return Counter(tuple(tokens[i: i + n]) for i in range(len(tokens) - n + 1))


def bleu(hypotheses: Sequence[Sequence[str]], references: Sequence[Sequence[str]],
         max_n: int = 4) -> float:
    """Corpus BLEU (Papineni et al. 2002) with one reference per sentence, in [0, 1].

    Notes
    -----
    ``p_n`` is the clipped n-gram precision over the corpus: every n-gram of a hypothesis
    counts at most as often as it occurs in its reference. With ``c`` the total hypothesis
    length and ``r`` the total reference length, the brevity penalty is
    ``BP = 1 if c > r else exp(1 - r / c)`` and
    ``BLEU = BP * exp(mean_n log p_n)``, ``n = 1 .. max_n``. BLEU is 0 if any ``p_n`` is 0.
    """
    if len(hypotheses) != len(references):
        raise ValueError(f"got {len(hypotheses)} hypotheses for {len(references)} references")
    matches, totals = [0] * max_n, [0] * max_n
    for hyp, ref in zip(hypotheses, references):
        for n in range(1, max_n + 1):
            h, r = _ngrams(hyp, n), _ngrams(ref, n)
            matches[n - 1] += sum(min(count, r[g]) for g, count in h.items())
            totals[n - 1] += max(len(hyp) - n + 1, 0)
    c = sum(len(h) for h in hypotheses)
    r = sum(len(ref) for ref in references)
    if c == 0 or min(matches) == 0:
        return 0.0
    log_p = sum(math.log(m / t) for m, t in zip(matches, totals)) / max_n
    bp = 1.0 if c > r else math.exp(1 - r / c)
    return bp * math.exp(log_p)


def exact_match(hypotheses: Sequence[Sequence[str]],
                references: Sequence[Sequence[str]]) -> float:
    """Fraction of hypotheses equal to their reference, word for word."""
    if len(hypotheses) != len(references):
        raise ValueError(f"got {len(hypotheses)} hypotheses for {len(references)} references")
    return float(np.mean([list(h) == list(r) for h, r in zip(hypotheses, references)]))

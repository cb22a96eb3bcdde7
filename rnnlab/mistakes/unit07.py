"""Named mistakes of unit 07 (applications): see :mod:`rnnlab.mistakes`.

The decoders return token lists; their wrong answers are held as
:func:`rnnlab.apps.common.token_array` arrays, which
:func:`rnnlab.apps.common.assert_same_sequences` compares (``mistakes=``). The model is
the test's own: it is only run forward, never changed.
"""

from __future__ import annotations

import torch

from rnnlab.apps import tagging
from rnnlab.apps.common import token_array
from rnnlab.data import reviews as review_data
from rnnlab.mistakes import Mistake


def greedy_decode(model, src: torch.Tensor, max_len: int, bos: int, eos: int,
                  tags: bool = False) -> list[Mistake]:
    """What common mistakes in greedy decoding return (as token arrays).

    ``tags``: the catalogue of :func:`decode_tags` instead (decoding that masks the tokens
    already emitted). The decoding loop is nested here, where grading hides it with the
    catalogue, since without a mistake it is the right answer.
    """
    def _greedy(model, inputs, N, max_len, bos, eos, mask=False, keep_eos=False,
                stop_all=False, no_stop=False, feed_bos=False, steps=None):
        """Greedy decoding with switches, each a way of getting it wrong."""
        out, done = [[] for _ in range(N)], [False] * N
        with torch.no_grad():
            state = model.encode(inputs)
            prev = torch.full((N,), bos, dtype=torch.long)
            for _ in range(max_len if steps is None else steps):
                scores, state = model.step(prev, state)
                scores = scores.clone()
                if mask:
                    for n in range(N):
                        scores[n, out[n]] = -torch.inf
                best = scores.argmax(dim=-1)
                prev = torch.full((N,), bos, dtype=torch.long) if feed_bos else best
                for n, token in enumerate(best.tolist()):
                    if not done[n]:
                        if token != eos:
                            out[n].append(token)
                        elif not no_stop:
                            done[n] = True
                            if keep_eos:
                                out[n].append(token)
                if all(done) or (stop_all and any(done)):
                    break
        return token_array(out)

    def run(**switches):
        return _greedy(model, src.clone(), len(src), max_len, bos, eos, **switches)

    if tags:
        return [
            Mistake("repeats_not_masked", "without masking the tags already emitted",
                    run()),
            Mistake("eos_kept", "with <eos> kept at the end of the tags",
                    run(mask=True, keep_eos=True)),
            Mistake("all_stop_at_first_eos", "when the whole batch stops as soon as one "
                    "image emits <eos>", run(mask=True, stop_all=True)),
        ]
    return [
        Mistake("eos_kept", "with <eos> kept at the end of a sentence", run(keep_eos=True)),
        Mistake("no_stop_at_eos", "without stopping at <eos> (tokens after it are kept, "
                "<eos> itself skipped)", run(no_stop=True)),
        Mistake("all_stop_at_first_eos", "when the whole batch stops as soon as one "
                "sentence emits <eos>", run(stop_all=True)),
        Mistake("prev_not_updated", "when <bos> is fed at every step instead of the token "
                "just emitted", run(feed_bos=True)),
        Mistake("max_len_off_by_one", "with one step fewer than max_len",
                run(steps=max_len - 1)),
    ]


def beam_search_decode(model, src: torch.Tensor, max_len: int, bos: int, eos: int,
                       beam: int = 4, alpha: float = 1.0) -> list[Mistake]:
    """What common mistakes in length-normalised beam search return (as token arrays).

    The search is nested here, where grading hides it with the catalogue, since without a
    mistake it is the right answer.
    """
    def _beam(width=beam, power=alpha, raw_scores=False):
        out = []
        with torch.no_grad():
            for n in range(src.shape[0]):
                live, finished = [([], 0.0, model.encode(src[n:n + 1]))], []
                while live and len(finished) < width and max_len > 0:
                    candidates = []
                    for tokens, total, state in live:
                        scores, new = model.step(torch.tensor([tokens[-1] if tokens else bos]),
                                                 state)
                        scores = scores[0].double()
                        logp = scores if raw_scores else torch.log_softmax(scores, dim=-1)
                        candidates += [(total + lp, tokens, w, new)
                                       for w, lp in enumerate(logp.tolist())]
                    candidates.sort(key=lambda c: -c[0])
                    live = []
                    for total, tokens, w, state in candidates[:width]:
                        ended = tokens if w == eos else [*tokens, w]
                        if w == eos or len(tokens) + 1 >= max_len:
                            finished.append((total / (len(tokens) + 1) ** power, ended))
                        else:
                            live.append((ended, total, state))
                out.append(max(finished, key=lambda f: f[0])[1] if finished else [])
        return token_array(out)

    return [
        Mistake("no_length_normalisation", "comparing raw log-probabilities (alpha ignored), "
                "which favours short sentences", _beam(power=0.0)),
        Mistake("scores_not_log_probabilities", "adding the raw scores instead of their "
                "log_softmax", _beam(raw_scores=True)),
        Mistake("greedy_only", "keeping one hypothesis (beam ignored): greedy decoding",
                _beam(width=1)),
    ]


def ctc_greedy_decode(log_probs: torch.Tensor, blank: int, lengths=None) -> list[Mistake]:
    """What common mistakes in best-path CTC decoding return (as token arrays)."""
    best = log_probs.detach().argmax(dim=-1).tolist()

    def merge(path):
        return [c for j, c in enumerate(path) if j == 0 or c != path[j - 1]]

    def run(rule, use_lengths=True):
        cut = [p[:lengths[n]] if lengths is not None and use_lengths else p
               for n, p in enumerate(best)]
        return token_array([rule(p) for p in cut])

    return [
        Mistake("runs_not_merged", "without merging runs of the same class (blanks only "
                "removed)", run(lambda p: [c for c in p if c != blank])),
        Mistake("blanks_removed_first", "removing the blanks before merging runs (so "
                "1 - 1 becomes 1)", run(lambda p: merge([c for c in p if c != blank]))),
        Mistake("blanks_kept", "merging runs but keeping the blanks",
                run(merge)),
        Mistake("lengths_ignored", "reading the padding frames past lengths[n]",
                run(lambda p: [c for c in merge(p) if c != blank], use_lengths=False)),
    ]


def predict_sentiment(model, reviews: list[str], vocab: dict) -> list[Mistake]:
    """What common mistakes in scoring reviews return: arrays ``(N,)``."""
    def run(split=review_data.tokenize, unknown=True, squash=torch.sigmoid):
        ids = [[vocab.get(w, vocab["<unk>"]) for w in split(r) if unknown or w in vocab]
               for r in reviews]
        batch = torch.zeros((len(ids), max([1, *map(len, ids)])), dtype=torch.long)
        for n, seq in enumerate(ids):
            batch[n, :len(seq)] = torch.tensor(seq, dtype=torch.long)
        training = model.training  # the student's function must set eval mode itself
        model.eval()
        with torch.no_grad():
            probs = squash(model(batch)).double().numpy()
        model.train(training)
        return probs

    return [
        Mistake("no_sigmoid", "without the sigmoid (the scores themselves)",
                run(squash=lambda s: s)),
        Mistake("unknown_words_dropped", "when unknown words are skipped instead of "
                "mapped to <unk>", run(unknown=False)),
        Mistake("not_lower_cased", "without lower-casing the words (str.split, not "
                "review_data.tokenize)", run(split=str.split)),
    ]


def decode_tags(model, images: torch.Tensor, max_tags: int, eos: int) -> list[Mistake]:
    """What common mistakes in decoding tags without repeats return (as token arrays)."""
    return greedy_decode(model, images, max_tags, tagging.BOS, eos, tags=True)

"""Pieces the four applications share: vocabularies, padding, edit distance, batches.

Also :class:`TableModel`, a decoder whose every output is written down in advance; the
tests of unit 07 use it to give a decoding loop inputs whose answer is known by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
import torch
from torch import nn

from rnnlab.mistakes import Mistake, message, recognise

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"


class Vocab:
    """Tokens and their integer ids: ``<pad>`` is 0, ``<bos>`` 1, ``<eos>`` 2, ``<unk>`` 3.

    Parameters
    ----------
    sentences : token lists to collect the vocabulary from (sorted, for reproducibility).
    """

    SPECIALS = (PAD, BOS, EOS, UNK)

    def __init__(self, sentences: Iterable[Sequence[str]]) -> None:
        words = sorted({w for s in sentences for w in s} - set(self.SPECIALS))
        self.tokens: list[str] = [*self.SPECIALS, *words]
        self.index: dict[str, int] = {w: i for i, w in enumerate(self.tokens)}

    pad, bos, eos, unk = 0, 1, 2, 3

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, words: Sequence[str]) -> list[int]:
        """Ids of ``words``; a word outside the vocabulary becomes ``<unk>``."""
        return [self.index.get(w, self.unk) for w in words]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Tokens of ``ids``, stopping at the first ``<eos>`` and skipping ``<pad>``, ``<bos>``."""
        out = []
        for i in ids:
            i = int(i)
            if i == self.eos:
                break
            if i not in (self.pad, self.bos):
                out.append(self.tokens[i])
        return out


def pad_sequences(seqs: Sequence[Sequence[int]], pad: int = 0,
                  length: int | None = None) -> torch.Tensor:
    """Stack integer sequences into a ``(N, T)`` long tensor, padded at the end with ``pad``.

    ``T`` is the longest sequence (at least 1), or ``length`` if given.
    """
    T = max([1, *(len(s) for s in seqs)]) if length is None else length
    out = torch.full((len(seqs), T), pad, dtype=torch.long)
    for n, s in enumerate(seqs):
        if len(s) > T:
            raise ValueError(f"sequence {n} has length {len(s)} > length={T}")
        out[n, : len(s)] = torch.as_tensor(list(s), dtype=torch.long)
    return out


def edit_distance(a: Sequence, b: Sequence) -> int:
    """Levenshtein distance: the fewest insertions, deletions and substitutions from a to b.

    Notes
    -----
    Dynamic programming, ``d[i][j] = min(d[i-1][j] + 1, d[i][j-1] + 1,
    d[i-1][j-1] + [a_i != b_j])``, in ``O(len(a) len(b))``.
    """
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def error_rate(hypotheses: Sequence[Sequence], references: Sequence[Sequence]) -> float:
    """Token error rate: total edit distance over the total length of the references.

    This is the word (or character, or digit) error rate of speech recognition. It can
    exceed 1 when the hypotheses insert many tokens.
    """
    if len(hypotheses) != len(references):
        raise ValueError(f"got {len(hypotheses)} hypotheses for {len(references)} references")
    total = sum(len(r) for r in references)
    if total == 0:
        raise ValueError("the references are all empty; the error rate is undefined")
    return sum(edit_distance(h, r) for h, r in zip(hypotheses, references)) / total


def extend_until_eos(out: list[list[int]], done: list[bool], tokens: Sequence[int],
                     eos: int) -> bool:
    """One greedy-decoding step: append ``tokens[n]`` to ``out[n]`` until it is ``eos``.

    A sequence that emits ``eos`` is marked in ``done`` and gets no more tokens.
    Returns True once every sequence is done.
    """
    for n, token in enumerate(tokens):
        if not done[n]:
            if token == eos:
                done[n] = True
            else:
                out[n].append(token)
    return all(done)


def batches(n: int, batch_size: int, rng: np.random.Generator) -> Callable[[], np.ndarray]:
    """A function that returns the indices of the next random mini-batch of ``range(n)``.

    Each epoch visits every item once, in a new random order.
    """
    state = {"order": rng.permutation(n), "pos": 0}

    def next_batch() -> np.ndarray:
        if state["pos"] + batch_size > n:
            state["order"], state["pos"] = rng.permutation(n), 0
        idx = state["order"][state["pos"]: state["pos"] + batch_size]
        state["pos"] += batch_size
        return idx

    return next_batch


class TableModel(nn.Module):
    """A decoder whose scores are a fixed table: a test fixture with hand-checkable answers.

    ``encode(src)`` returns ``src[:, 0]``: the first token picks, for each sequence, which
    table it decodes with. ``step(prev, state)`` returns the scores
    ``tables[state, prev]`` and the unchanged state, so the next token depends only on the
    previous one: greedy decoding follows the arrows of the table.

    Parameters
    ----------
    tables : (K, V, V) float tensor; ``tables[k, a, b]`` is the score of token ``b`` after
        token ``a`` in table ``k``.
    """

    def __init__(self, tables: torch.Tensor) -> None:
        super().__init__()
        tables = torch.as_tensor(tables, dtype=torch.float32)
        if tables.ndim != 3 or tables.shape[1] != tables.shape[2]:
            raise ValueError(f"tables has shape {tuple(tables.shape)}; expected (K, V, V)")
        self.register_buffer("tables", tables)

    @classmethod
    def from_arrows(cls, arrows: Sequence[dict[int, int]], vocab_size: int) -> TableModel:
        """Tables in which ``arrows[k][a] = b`` makes ``b`` the best token after ``a``.

        ``b`` scores 2; every other token scores a small amount that grows with its id
        (``0.01 * id``), so the second choice is always the largest other id.
        """
        base = 0.01 * torch.arange(vocab_size, dtype=torch.float32)
        tables = base.repeat(len(arrows), vocab_size, 1)
        for k, table in enumerate(arrows):
            for a, b in table.items():
                tables[k, a, b] = 2.0
        return cls(tables)

    def encode(self, src: torch.Tensor) -> torch.Tensor:
        return torch.as_tensor(src)[:, 0].long().clone()

    def step(self, prev: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor,
                                                                     torch.Tensor]:
        return self.tables[state, prev.long()], state


def token_array(seqs: Sequence[Sequence[int]]) -> np.ndarray:
    """Token lists as one float array ``(N, L)``, padded with -1 (``L`` the longest list).

    The form in which :mod:`rnnlab.mistakes` holds a decoder's wrong answers, so that
    :func:`rnnlab.mistakes.recognise` can compare them.
    """
    width = max([0, *map(len, seqs)])
    out = np.full((len(seqs), width), -1.0)
    for n, seq in enumerate(seqs):
        out[n, :len(seq)] = [int(v) for v in seq]
    return out


def assert_same_sequences(name: str, got: object, expected: Sequence[Sequence[int]],
                          mistakes: Iterable[Mistake] = ()) -> None:
    """Fail unless ``got`` is a list of integer lists equal to ``expected``.

    The message names the first sequence that differs and shows both versions.
    ``mistakes``: wrong answers as :func:`token_array` arrays (:mod:`rnnlab.mistakes`);
    when ``got`` equals one of them, the message names it with ``[mistake: ID]``.
    """
    try:
        _same_sequences(name, got, expected)
    except AssertionError as error:
        try:
            named = recognise(token_array(got), mistakes, 0.0)
        except (TypeError, ValueError):
            named = None
        if named is None:
            raise
        raise AssertionError(f"{message(name, named)}; {str(error).split(': ', 1)[1]}") from None


def _same_sequences(name: str, got: object, expected: Sequence[Sequence[int]]) -> None:
    if got is None:
        raise AssertionError(f"{name}: got None; did the function forget to return?")
    if not isinstance(got, (list, tuple)):
        raise AssertionError(f"{name}: expected a list of {len(expected)} lists of ints; "
                             f"got {type(got).__name__}")
    if len(got) != len(expected):
        raise AssertionError(f"{name}: expected {len(expected)} sequences; got {len(got)}")
    for n, (g, e) in enumerate(zip(got, expected)):
        try:
            g_ints = [int(v) for v in g]
        except (TypeError, ValueError) as err:
            raise AssertionError(f"{name}: sequence {n} is not a list of ints: {g!r}") from err
        if g_ints != [int(v) for v in e]:
            raise AssertionError(f"{name}: sequence {n} differs: expected {list(e)}; "
                                 f"got {g_ints}")

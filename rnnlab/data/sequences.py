"""Generated sequence tasks whose answer depends on an input far back in time.

The agreement task of unit 01 is a toy version of predicting the next word of a sentence:
the verb must agree with a subject that appeared several words earlier ("the *dogs* that
... old brown ... *run*"). Everything here is generated from a seeded generator.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

#: The agreement task's words: two subjects that carry the number, and fillers that do not.
SINGULAR, PLURAL = "dog", "dogs"
FILLERS = ("the", "old", "brown", "big", "very", "quick", "near", "park", "green", "and")
AGREEMENT_VOCAB = (SINGULAR, PLURAL, *FILLERS)
#: The verb that must follow, indexed by the label (0 singular, 1 plural).
VERBS = ("runs", "run")


class AgreementData(NamedTuple):
    """Sentences of the agreement task.

    Attributes
    ----------
    tokens : (N, T) int, word indices into ``vocab``; one subject per sentence.
    labels : (N,) int, 1 if the subject is plural (the next word is "run"), else 0.
    gaps : (N,) int, the number of filler words between the subject and the verb;
        the dependency length (distance from the subject to the word to predict) is
        ``gaps + 1``.
    vocab : the words, ``vocab[tokens[n, t]]``.
    """

    tokens: np.ndarray
    labels: np.ndarray
    gaps: np.ndarray
    vocab: tuple[str, ...]


def _check_count(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def agreement_task(n: int, max_gap: int, rng: np.random.Generator, length: int | None = None,
                   min_gap: int = 0) -> AgreementData:
    """Sentences whose next word (the verb) agrees with a subject ``gap + 1`` words back.

    Each sentence is ``length`` words: random fillers, the subject ("dog" or "dogs") at
    position ``length - 1 - gap``, then ``gap`` more fillers. The word to predict comes
    right after the last one: "runs" after "dog", "run" after "dogs". No filler carries
    the number, so a predictor that does not see the subject can only guess.

    Parameters
    ----------
    n : number of sentences.
    max_gap, min_gap : the gap is drawn uniformly from ``min_gap, ..., max_gap``.
    rng : the random generator.
    length : words per sentence, at least ``max_gap + 1`` (the default).

    Returns
    -------
    AgreementData
        ``tokens (n, length)``, ``labels (n,)``, ``gaps (n,)``, ``vocab``.
    """
    n = _check_count("n", n, 1)
    max_gap = _check_count("max_gap", max_gap, 0)
    min_gap = _check_count("min_gap", min_gap, 0)
    if min_gap > max_gap:
        raise ValueError(f"min_gap = {min_gap} exceeds max_gap = {max_gap}")
    length = max_gap + 1 if length is None else _check_count("length", length, max_gap + 1)
    first_filler = len(AGREEMENT_VOCAB) - len(FILLERS)
    tokens = rng.integers(first_filler, len(AGREEMENT_VOCAB), size=(n, length))
    labels = rng.integers(0, 2, size=n)
    gaps = rng.integers(min_gap, max_gap + 1, size=n)
    tokens[np.arange(n), length - 1 - gaps] = labels  # SINGULAR is 0, PLURAL is 1
    return AgreementData(tokens, labels, gaps, AGREEMENT_VOCAB)


def one_hot(tokens: np.ndarray, V: int, dtype: type = np.float64) -> np.ndarray:
    """One-hot encoding: ``out[..., v] = 1`` where ``tokens == v``.

    Parameters
    ----------
    tokens : integer array of any shape, values in ``[0, V)``.
    V : vocabulary size.

    Returns
    -------
    (*tokens.shape, V) array of zeros and ones.
    """
    tokens = np.asarray(tokens)
    if tokens.dtype.kind not in "iu":
        raise TypeError(f"tokens has dtype {tokens.dtype}; expected an integer dtype")
    V = _check_count("V", V, 1)
    if tokens.size and (tokens.min() < 0 or tokens.max() >= V):
        raise ValueError(f"tokens holds values in [{tokens.min()}, {tokens.max()}]; "
                         f"expected [0, {V})")
    return np.eye(V, dtype=dtype)[tokens]


def decode(tokens: np.ndarray, vocab: tuple[str, ...]) -> str:
    """The words of a 1-D token array, separated by spaces."""
    return " ".join(vocab[int(t)] for t in np.asarray(tokens).ravel())


def best_window_accuracy(width: int, gaps: np.ndarray) -> float:
    """Highest expected accuracy of any predictor that sees only the last ``width`` words.

    The subject is inside the window when ``gap + 1 <= width``; then the answer is
    certain, otherwise the best is a coin flip (the labels are balanced).

    Notes
    -----
    ``acc(k) = P(gap < k) + P(gap >= k) / 2``
    """
    width = _check_count("width", width, 0)
    inside = np.mean(np.asarray(gaps) < width)
    return float(inside + (1.0 - inside) / 2.0)

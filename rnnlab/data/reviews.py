"""Generated film reviews whose sentiment depends on word order.

Three kinds of review, each labelled 1 (positive) or 0 (negative):

* ``plain``: ``the plot was really good`` (the label of the adjective);
* ``negated``: ``the plot was not good``, ``the acting was never boring`` (the opposite);
* ``contrast``: two clauses joined by ``but``, each plain or negated; the review takes
  the sentiment of the second clause (``the music was good but the plot was not good``
  is negative).

A bag of words cannot tell ``the plot was not good but the music was bad`` (negative)
from ``the plot was good but the music was not bad`` (positive): both hold exactly the
same words. A recurrent network reads the order and can.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

POSITIVE = ("good", "great", "brilliant", "funny", "moving", "clever", "wonderful", "gripping")
NEGATIVE = ("bad", "boring", "awful", "dull", "silly", "terrible", "weak", "clumsy")
SUBJECTS = ("the film", "the plot", "the acting", "the music", "the ending", "this movie",
            "the script", "the cast", "the dialogue", "the story")
VERBS = ("was", "is", "seemed", "felt")
NEGATORS = ("not", "never")
INTENSIFIERS = ("very", "really", "quite", "truly")
OPENERS = ("honestly", "overall", "i think", "in short")
KINDS = ("plain", "negated", "contrast")


class Reviews(NamedTuple):
    """Generated reviews.

    Attributes
    ----------
    texts : list of N strings, lower case, words separated by single spaces.
    labels : (N,) int64, 1 positive, 0 negative.
    kinds : list of N strings from :data:`KINDS`.
    """

    texts: list[str]
    labels: np.ndarray
    kinds: list[str]


def _pick(rng: np.random.Generator, words: tuple[str, ...]) -> str:
    return words[rng.integers(len(words))]


def _clause(rng: np.random.Generator, negated: bool) -> tuple[str, int]:
    """One clause and its sentiment (1 positive, 0 negative)."""
    positive = bool(rng.random() < 0.5)
    words = [_pick(rng, SUBJECTS), _pick(rng, VERBS)]
    if negated:
        words.append(_pick(rng, NEGATORS))
    if rng.random() < 0.3:
        words.append(_pick(rng, INTENSIFIERS))
    words.append(_pick(rng, POSITIVE if positive else NEGATIVE))
    return " ".join(words), int(positive != negated)


def generate_review(rng: np.random.Generator, kind: str) -> tuple[str, int]:
    """One review of the given kind (see the module docstring) and its label."""
    if kind == "plain":
        text, label = _clause(rng, negated=False)
    elif kind == "negated":
        text, label = _clause(rng, negated=True)
    elif kind == "contrast":
        first, _ = _clause(rng, negated=bool(rng.random() < 0.5))
        second, label = _clause(rng, negated=bool(rng.random() < 0.5))
        text = f"{first} but {second}"
    else:
        raise ValueError(f"kind is {kind!r}; expected one of {KINDS}")
    if rng.random() < 0.2:
        text = f"{_pick(rng, OPENERS)} {text}"
    return text, label


def make_reviews(n: int, rng: np.random.Generator,
                 mix: tuple[float, float, float] = (0.3, 0.35, 0.35)) -> Reviews:
    """``n`` reviews, each plain, negated or contrast with probabilities ``mix``."""
    if n < 1:
        raise ValueError(f"n must be positive; got {n}")
    if len(mix) != len(KINDS) or min(mix) < 0 or not np.isclose(sum(mix), 1):
        raise ValueError(f"mix must be {len(KINDS)} probabilities summing to 1; got {mix}")
    kinds = [KINDS[k] for k in rng.choice(len(KINDS), size=n, p=mix)]
    texts, labels = zip(*(generate_review(rng, kind) for kind in kinds))
    return Reviews(list(texts), np.array(labels, dtype=np.int64), kinds)


def tokenize(text: str) -> list[str]:
    """Lower-case words separated by white space."""
    return text.lower().split()

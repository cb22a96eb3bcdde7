"""A small English-to-French parallel corpus, generated from a grammar and a lexicon.

Every sentence has the shape *subject verb object*, for example::

    the small cat does not see the black dogs
    le petit chat ne voit pas les chiens noirs

French differs from English in ways a translator has to learn from examples alone:

* most adjectives follow the noun (``the black dog -> le chien noir``), a few precede it
  (``petit, grand, joli, vieux``);
* articles, adjectives and verbs agree in gender and number
  (``the black mice -> les souris noires``, ``they eat -> ils mangent``);
* negation wraps the verb (``does not see -> ne voit pas``), with elision before a vowel
  (``does not like -> n' aime pas``), and an indefinite object becomes ``de``
  (``sees a cat -> voit un chat`` but ``does not see a cat -> ne voit pas de chat``).

The lexicon below is the whole of the data; nothing is downloaded. Tokens are words,
with the French elided ``n'`` as a token of its own (:func:`detokenize` rejoins it).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

#: english singular, english plural, french singular, french plural, gender, animate
NOUNS = [
    ("cat", "cats", "chat", "chats", "m", True),
    ("dog", "dogs", "chien", "chiens", "m", True),
    ("horse", "horses", "cheval", "chevaux", "m", True),
    ("mouse", "mice", "souris", "souris", "f", True),
    ("girl", "girls", "fille", "filles", "f", True),
    ("boy", "boys", "garçon", "garçons", "m", True),
    ("car", "cars", "voiture", "voitures", "f", False),
    ("book", "books", "livre", "livres", "m", False),
    ("apple", "apples", "pomme", "pommes", "f", False),
    ("table", "tables", "table", "tables", "f", False),
    ("house", "houses", "maison", "maisons", "f", False),
    ("fish", "fish", "poisson", "poissons", "m", True),
]

#: english, french (masculine singular, feminine singular, masculine plural, feminine
#: plural), True if the adjective comes before the noun in French
ADJECTIVES = [
    ("black", ("noir", "noire", "noirs", "noires"), False),
    ("white", ("blanc", "blanche", "blancs", "blanches"), False),
    ("red", ("rouge", "rouge", "rouges", "rouges"), False),
    ("green", ("vert", "verte", "verts", "vertes"), False),
    ("happy", ("heureux", "heureuse", "heureux", "heureuses"), False),
    ("small", ("petit", "petite", "petits", "petites"), True),
    ("big", ("grand", "grande", "grands", "grandes"), True),
    ("pretty", ("joli", "jolie", "jolis", "jolies"), True),
    ("old", ("vieux", "vieille", "vieux", "vieilles"), True),
]

#: english third person singular, english base form, french singular, french plural
VERBS = [
    ("sees", "see", "voit", "voient"),
    ("likes", "like", "aime", "aiment"),
    ("eats", "eat", "mange", "mangent"),
    ("wants", "want", "veut", "veulent"),
    ("finds", "find", "trouve", "trouvent"),
    ("has", "have", "a", "ont"),
]

#: english singular, english plural (None: singular only), french (m sg, f sg, plural)
DETERMINERS = {
    "the": ("the", "the", ("le", "la", "les")),
    "a": ("a", None, ("un", "une", None)),
    "my": ("my", "my", ("mon", "ma", "mes")),
    "this": ("this", "these", ("ce", "cette", "ces")),
}

#: english, french, plural
PRONOUNS = [("he", "il", False), ("she", "elle", False), ("they", "ils", True)]

VOWELS = set("aeiouhéè")


class Pair(NamedTuple):
    """One sentence pair as lists of word tokens."""

    english: list[str]
    french: list[str]


def _noun_phrase(rng: np.random.Generator, animate: bool, negated_object: bool = False,
                 adjective_p: float = 0.5) -> tuple[list[str], list[str], bool]:
    """English and French tokens of a random noun phrase, and whether it is plural."""
    pool = [n for n in NOUNS if n[5]] if animate else NOUNS
    en_sg, en_pl, fr_sg, fr_pl, gender, _ = pool[rng.integers(len(pool))]
    det = list(DETERMINERS)[rng.integers(len(DETERMINERS))]
    en_det_sg, en_det_pl, fr_dets = DETERMINERS[det]
    plural = en_det_pl is not None and bool(rng.random() < 0.4)
    english = [en_det_pl if plural else en_det_sg]
    if plural:
        fr_det = fr_dets[2]
    else:
        fr_det = fr_dets[0] if gender == "m" else fr_dets[1]
    if det == "a" and negated_object:
        fr_det = "de"  # ne ... pas de: the indefinite article after a negation
    noun_en, noun_fr = (en_pl, fr_pl) if plural else (en_sg, fr_sg)
    french_noun = [noun_fr]
    if rng.random() < adjective_p:
        adj_en, forms, before = ADJECTIVES[rng.integers(len(ADJECTIVES))]
        adj_fr = forms[2 * plural + (gender == "f")]
        english.append(adj_en)
        french_noun = [adj_fr, noun_fr] if before else [noun_fr, adj_fr]
    return [*english, noun_en], [fr_det, *french_noun], plural


def generate_pair(rng: np.random.Generator, negation_p: float = 0.3,
                  pronoun_p: float = 0.2) -> Pair:
    """One random English sentence and its French translation.

    Parameters
    ----------
    rng : the random generator.
    negation_p : probability that the verb is negated.
    pronoun_p : probability that the subject is a pronoun rather than a noun phrase.
    """
    if rng.random() < pronoun_p:
        en_subj, fr_subj, plural = PRONOUNS[rng.integers(len(PRONOUNS))]
        subject_en, subject_fr = [en_subj], [fr_subj]
    else:
        subject_en, subject_fr, plural = _noun_phrase(rng, animate=True)
    en_3sg, en_base, fr_sg, fr_pl = VERBS[rng.integers(len(VERBS))]
    fr_verb = fr_pl if plural else fr_sg
    negated = bool(rng.random() < negation_p)
    if negated:
        verb_en = ["do" if plural else "does", "not", en_base]
        verb_fr = ["n'" if fr_verb[0] in VOWELS else "ne", fr_verb, "pas"]
    else:
        verb_en, verb_fr = [en_base if plural else en_3sg], [fr_verb]
    object_en, object_fr, _ = _noun_phrase(rng, animate=False, negated_object=negated)
    return Pair(subject_en + verb_en + object_en, subject_fr + verb_fr + object_fr)


def compound_pair(rng: np.random.Generator, max_clauses: int) -> Pair:
    """1 to ``max_clauses`` pairs of :func:`generate_pair` (as likely each) joined by
    ``and`` / ``et``: ``the cat sees a dog and she likes my book``.

    Each clause is translated on its own, so a long sentence is no harder word by word
    than a short one; it only has more words to carry.
    """
    if not isinstance(max_clauses, int) or max_clauses < 1:
        raise ValueError(f"max_clauses must be a positive integer; got {max_clauses!r}")
    clauses = [generate_pair(rng) for _ in range(int(rng.integers(1, max_clauses + 1)))]
    english, french = list(clauses[0].english), list(clauses[0].french)
    for clause in clauses[1:]:
        english += ["and", *clause.english]
        french += ["et", *clause.french]
    return Pair(english, french)


def make_corpus(n_train: int, n_test: int, rng: np.random.Generator,
                max_clauses: int = 1) -> tuple[list[Pair], list[Pair]]:
    """Distinct training and held-out pairs: no test sentence occurs in the training set.

    ``max_clauses > 1`` joins up to that many sentences into one (:func:`compound_pair`);
    the default, 1, gives the simple sentences of unit 07.

    Returns
    -------
    train, test : lists of :class:`Pair` of lengths ``n_train`` and ``n_test``.
    """
    if n_train < 1 or n_test < 0:
        raise ValueError(f"expected n_train >= 1 and n_test >= 0; got {n_train}, {n_test}")
    seen: set[tuple[str, ...]] = set()
    pairs: list[Pair] = []
    while len(pairs) < n_train + n_test:
        pair = generate_pair(rng) if max_clauses == 1 else compound_pair(rng, max_clauses)
        key = tuple(pair.english)
        if key not in seen:
            seen.add(key)
            pairs.append(pair)
    return pairs[:n_train], pairs[n_train:]


def detokenize(tokens: list[str]) -> str:
    """Join word tokens into a sentence, attaching the elided ``n'`` to its verb."""
    return " ".join(tokens).replace("' ", "'")

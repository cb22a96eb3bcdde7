"""The generated data of unit 07: grammar, sounds, reviews and images follow their rules."""

import numpy as np
import pytest

from rnnlab.data import audio, images
from rnnlab.data import corpus as corpus_data
from rnnlab.data import reviews as review_data

# --- translation ---

@pytest.fixture(scope="module")
def corpus():
    return corpus_data.make_corpus(1500, 200, np.random.default_rng(0))


def test_corpus_sizes_distinct_and_reproducible(corpus):
    train, test = corpus
    assert len(train) == 1500 and len(test) == 200
    keys = [tuple(p.english) for p in train + test]
    assert len(set(keys)) == len(keys), "a sentence occurs twice (train and test must be disjoint)"
    again, _ = corpus_data.make_corpus(1500, 200, np.random.default_rng(0))
    assert again == train


def test_negation_wraps_the_verb_and_indefinite_becomes_de(corpus):
    for p in corpus[0]:
        negated = "not" in p.english
        assert negated == ("pas" in p.french), p
        if negated:
            i = p.french.index("pas")
            assert p.french[i - 2] in ("ne", "n'"), p
            assert (p.french[i - 2] == "n'") == (p.french[i - 1][0] in "aeiou"), p
            obj = p.english[p.english.index("not") + 2:]
            assert (obj[0] == "a") == (p.french[i + 1] == "de"), p
        assert "de" not in p.french or negated, p


def test_adjective_position_and_agreement():
    pairs = [corpus_data.generate_pair(np.random.default_rng(s)) for s in range(400)]
    seen = set()
    for p in pairs:
        joined = " ".join(p.french)
        if p.english[:3] == ["the", "black", "cat"]:
            assert joined.startswith("le chat noir"), p
            seen.add("after")
        if p.english[:3] == ["the", "small", "mice"]:
            assert joined.startswith("les petites souris"), p
            seen.add("before, feminine plural")
        if p.english[0] == "they":
            assert p.french[0] == "ils"
            verb = p.french[1] if p.french[1] not in ("ne", "n'") else p.french[2]
            assert verb in {v[3] for v in corpus_data.VERBS}, p
            seen.add("plural verb")
    assert "plural verb" in seen


def test_known_phrase_forms():
    # Lexicon lookups worked out by hand.
    forms = {a[0]: a[1] for a in corpus_data.ADJECTIVES}
    assert forms["old"] == ("vieux", "vieille", "vieux", "vieilles")
    assert corpus_data.detokenize(["il", "n'", "aime", "pas", "de", "pomme"]) == \
        "il n'aime pas de pomme"


def test_make_corpus_rejects_bad_sizes():
    with pytest.raises(ValueError, match="n_train"):
        corpus_data.make_corpus(0, 5, np.random.default_rng(0))


# --- speech ---

def test_spectrogram_shape_and_tone_band():
    # A 1000 Hz tone at 8 kHz with n_fft = 256: bin 1000 / (8000 / 256) = 32, in band
    # 32 // (128 / 32) = 8 of 32.
    t = np.arange(4000) / audio.SAMPLE_RATE
    spec = audio.spectrogram(np.sin(2 * np.pi * 1000 * t), n_fft=256, hop=128, bands=32)
    assert spec.shape == (1 + (4000 - 256) // 128, 32)
    assert np.all(spec.argmax(axis=1) == 8)
    assert audio.spectrogram(np.zeros(10)).shape == (1, 32)  # padded to one frame


def test_spectrogram_rejects_bad_input():
    with pytest.raises(ValueError, match="wave"):
        audio.spectrogram(np.zeros((2, 300)))
    with pytest.raises(ValueError, match="bands"):
        audio.spectrogram(np.zeros(300), bands=7)


def test_utterances_and_features():
    utt = audio.make_utterances(20, np.random.default_rng(1), min_digits=2, max_digits=4)
    for wave, digits, spans in zip(*utt):
        assert 2 <= len(digits) <= 4 and len(spans) == len(digits)
        assert all(0 <= a < b <= len(wave) for a, b in spans)
        assert all(spans[i][1] <= spans[i + 1][0] for i in range(len(spans) - 1))
    x, lengths = audio.features(utt.waves)
    assert x.dtype == np.float32 and x.shape == (20, lengths.max(), 32)
    for n, length in enumerate(lengths):
        assert length == len(audio.spectrogram(utt.waves[n]))
        assert np.all(x[n, length:] == 0)
        np.testing.assert_allclose(x[n, :length].mean(0), 0, atol=1e-4)


def test_digits_have_distinct_spectra():
    rng = np.random.default_rng(2)
    mean = [audio.spectrogram(audio.render_digit(d, 0.2, rng)).mean(0) for d in range(10)]
    dist = [np.abs(mean[a] - mean[b]).max() for a in range(10) for b in range(a + 1, 10)]
    assert min(dist) > 1.0
    with pytest.raises(ValueError, match="digit"):
        audio.render_digit(10, 0.1, rng)


# --- sentiment ---

def test_review_labels_follow_the_rules():
    reviews = review_data.make_reviews(500, np.random.default_rng(3))
    for text, label, kind in zip(*reviews):
        clause = text.split(" but ")[-1].split()
        positive = clause[-1] in review_data.POSITIVE
        assert clause[-1] in review_data.POSITIVE + review_data.NEGATIVE
        negated = any(w in review_data.NEGATORS for w in clause)
        assert label == int(positive != negated), text
        assert (kind == "contrast") == (" but " in text)
        if kind == "plain":
            assert not negated, text
        if kind == "negated":
            assert negated, text
    assert set(reviews.kinds) == set(review_data.KINDS)
    assert 0.35 < reviews.labels.mean() < 0.65


def test_tokenize_and_bad_arguments():
    assert review_data.tokenize("The  plot WAS good\n") == ["the", "plot", "was", "good"]
    with pytest.raises(ValueError, match="kind"):
        review_data.generate_review(np.random.default_rng(0), "sarcastic")
    with pytest.raises(ValueError, match="mix"):
        review_data.make_reviews(5, np.random.default_rng(0), mix=(0.5, 0.5, 0.5))


# --- images ---

def test_images_and_tags():
    data = images.make_images(60, np.random.default_rng(4), size=24)
    assert data.images.shape == (60, 3, 24, 24) and data.images.dtype == np.float32
    assert data.images.min() >= 0 and data.images.max() <= 1
    for tags in data.tags:
        assert tags == [t for t in images.TAGS if t in tags], "tags out of order or repeated"
        columns = [t for t in tags if t in images.COLUMNS]
        assert 1 <= len(columns) <= 2
        assert 1 <= len([t for t in tags if t in images.SHAPES]) <= len(columns)


def test_draw_shape_paints_the_centre_and_the_right_column():
    image = np.zeros((3, 24, 24))
    images.draw_shape(image, "circle", (1.0, 0.0, 0.0), cx=20.0, cy=12.0, r=3.0)
    assert np.array_equal(image[:, 12, 20], [1.0, 0.0, 0.0])
    assert image[0, :, :16].sum() == 0  # nothing outside the right third
    for shape in images.SHAPES:
        canvas = np.zeros((3, 24, 24))
        images.draw_shape(canvas, shape, (0, 1, 0), 12.0, 12.0, 4.0)
        assert canvas[1, 12, 12] == 1
    with pytest.raises(ValueError, match="shape"):
        images.draw_shape(image, "star", (1, 1, 1), 5, 5, 2)

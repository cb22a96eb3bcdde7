"""The agreement task (rnnlab.data.sequences) and the text loader (rnnlab.data.text)."""

from pathlib import Path

import numpy as np
import pytest

import rnnlab
from rnnlab.data import sequences, text

# --- the agreement task -------------------------------------------------------------


def test_agreement_sentences_hold_one_subject_at_the_stated_gap():
    data = sequences.agreement_task(500, 9, np.random.default_rng(0))
    assert data.tokens.shape == (500, 10) and data.labels.shape == data.gaps.shape == (500,)
    subject = data.tokens < 2
    assert np.array_equal(subject.sum(axis=1), np.ones(500))
    positions = np.argmax(subject, axis=1)
    np.testing.assert_array_equal(positions, 9 - data.gaps, err_msg="subject position")
    np.testing.assert_array_equal(data.tokens[np.arange(500), positions], data.labels,
                                  err_msg="label is the subject's number")
    assert data.vocab[0] == "dog" and data.vocab[1] == "dogs"


def test_agreement_covers_every_gap_and_balances_the_labels():
    data = sequences.agreement_task(4000, 5, np.random.default_rng(1), length=12, min_gap=2)
    assert data.tokens.shape == (4000, 12)
    assert set(np.unique(data.gaps)) == {2, 3, 4, 5}
    assert abs(data.labels.mean() - 0.5) < 0.03
    fillers = data.tokens[data.tokens >= 2]
    assert set(np.unique(fillers)) == set(range(2, len(data.vocab)))


def test_agreement_is_reproducible_and_rejects_bad_sizes():
    a = sequences.agreement_task(7, 4, np.random.default_rng(3))
    b = sequences.agreement_task(7, 4, np.random.default_rng(3))
    assert all(np.array_equal(x, y) for x, y in zip(a[:3], b[:3]))
    with pytest.raises(ValueError, match="min_gap"):
        sequences.agreement_task(3, 2, np.random.default_rng(0), min_gap=3)
    with pytest.raises(ValueError, match="length"):
        sequences.agreement_task(3, 5, np.random.default_rng(0), length=5)
    with pytest.raises(ValueError, match="n must be"):
        sequences.agreement_task(0, 5, np.random.default_rng(0))


def test_one_hot_and_decode():
    x = sequences.one_hot(np.array([[2, 0], [1, 1]]), 3)
    np.testing.assert_array_equal(x, [[[0, 0, 1], [1, 0, 0]], [[0, 1, 0], [0, 1, 0]]])
    assert sequences.decode(np.array([1, 2, 0]), sequences.AGREEMENT_VOCAB) == "dogs the dog"
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        sequences.one_hot(np.array([3]), 3)
    with pytest.raises(TypeError, match="integer"):
        sequences.one_hot(np.array([0.5]), 3)


def test_best_window_accuracy_known_values():
    gaps = np.array([0, 1, 2, 3])  # dependency lengths 1 to 4
    assert sequences.best_window_accuracy(0, gaps) == 0.5
    assert sequences.best_window_accuracy(1, gaps) == 0.25 + 0.75 / 2
    assert sequences.best_window_accuracy(4, gaps) == 1.0
    assert sequences.best_window_accuracy(9, gaps) == 1.0


def test_the_hand_weighted_memory_cell_solves_any_gap():
    # The reference answer of unit 01's exercise, run by the reference forward pass.
    V = len(sequences.AGREEMENT_VOCAB)
    Wx = np.zeros((V, 1))
    Wx[1, 0], Wx[0, 0] = 4.0, -4.0
    for gap in (0, 10, 2000):
        data = sequences.agreement_task(50, gap, np.random.default_rng(gap), min_gap=gap)
        hs, _ = rnnlab.rnn_forward(sequences.one_hot(data.tokens, V), np.zeros((50, 1)), Wx,
                                   np.array([[2.0]]), np.zeros(1))
        np.testing.assert_array_equal(hs[:, -1, 0] > 0, data.labels == 1, err_msg=f"gap {gap}")


# --- the standard-library text ------------------------------------------------------


def test_stdlib_source_is_real_python_and_deterministic():
    first = text.stdlib_source()
    assert len(first) > 50_000 and "def " in first and "import " in first
    assert first == text.stdlib_source()
    assert first.isascii() and "\t" not in first
    assert text.stdlib_source(max_chars=100) == first[:100]
    assert (text.stdlib_dir() / "os.py").is_file()


def test_stdlib_source_skips_missing_modules_and_fails_if_none(tmp_path: Path):
    (tmp_path / "a.py").write_text("x = 1\tand é\n")
    assert text.stdlib_source(["missing", "a"], folder=tmp_path) == "x = 1   and ?\n\n\n"
    with pytest.raises(FileNotFoundError, match="none of"):
        text.stdlib_source(["missing"], folder=tmp_path)
    with pytest.raises(TypeError, match="sequence"):
        text.stdlib_source("abc")


def test_char_vocab_round_trip():
    vocab = text.CharVocab("hello world")
    assert vocab.chars == " dehlorw" and len(vocab) == 8
    ids = vocab.encode("low")
    assert ids.dtype == np.int64 and ids.tolist() == [4, 5, 7]
    assert vocab.decode(ids) == "low"
    with pytest.raises(ValueError, match="not in the vocabulary"):
        vocab.encode("z")
    with pytest.raises(ValueError, match=r"\[0, 8\)"):
        vocab.decode([8])
    with pytest.raises(ValueError, match="non-empty"):
        text.CharVocab("")


def test_chunks_are_consecutive_and_targets_are_shifted():
    ids = np.arange(12)
    got = list(text.chunks(ids, 4))
    assert [c.start for c in got] == [0, 4]  # a third chunk would need id 12
    np.testing.assert_array_equal(got[1].inputs, [4, 5, 6, 7])
    np.testing.assert_array_equal(got[1].targets, [5, 6, 7, 8])
    for c in got[:-1]:
        assert c.inputs[-1] + 1 == c.targets[-1]


def test_chunks_repeat_restarts_at_the_start():
    stream = text.chunks(np.arange(10), 3, repeat=True)
    starts = [next(stream).start for _ in range(7)]
    assert starts == [0, 3, 6, 0, 3, 6, 0]
    with pytest.raises(ValueError, match="no chunk"):
        next(text.chunks(np.arange(3), 3))
    with pytest.raises(TypeError, match="1-D integer"):
        next(text.chunks(np.zeros(10), 3))

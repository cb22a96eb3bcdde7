"""The models, decoders and metrics of unit 07 against known values and each other."""

import math

import numpy as np
import pytest
import torch

from rnnlab.apps import common, sentiment, speech, tagging, translation
from rnnlab.apps.common import TableModel, Vocab
from rnnlab.data import audio as speech_data
from rnnlab.data import corpus
from rnnlab.data import images as image_data
from rnnlab.data import reviews as review_data
from rnnlab.training import torch_threads


@pytest.fixture(autouse=True)
def _one_thread():
    with torch_threads(1):
        yield


# --- shared pieces ---

def test_vocab_and_padding():
    vocab = Vocab([["b", "a"], ["a", "c"]])
    assert vocab.tokens == ["<pad>", "<bos>", "<eos>", "<unk>", "a", "b", "c"]
    assert vocab.encode(["c", "zebra"]) == [6, 3]
    assert vocab.decode([1, 4, 5, 0, 2, 6]) == ["a", "b"]  # stops at <eos>
    padded = common.pad_sequences([[4, 5], [], [6]])
    assert padded.tolist() == [[4, 5], [0, 0], [6, 0]] and padded.dtype == torch.long
    assert common.pad_sequences([]).shape == (0, 1)
    with pytest.raises(ValueError, match="length"):
        common.pad_sequences([[1, 2, 3]], length=2)


@pytest.mark.parametrize("a, b, d", [("kitten", "sitting", 3), ("", "abc", 3), ("abc", "abc", 0),
                                     ([1, 2, 3], [3, 2, 1], 2), ("flaw", "lawn", 2)])
def test_edit_distance_known_values(a, b, d):
    assert common.edit_distance(a, b) == d
    assert common.edit_distance(b, a) == d


def test_error_rate():
    # one substitution in [1, 2, 3] and one deletion in [4, 5]: 2 errors / 5 digits
    assert common.error_rate([[1, 9, 3], [4]], [[1, 2, 3], [4, 5]]) == pytest.approx(0.4)
    with pytest.raises(ValueError, match="empty"):
        common.error_rate([[1]], [[]])


def test_table_model_and_sequence_check():
    model = TableModel.from_arrows([{1: 3}, {1: 4}], vocab_size=5)
    scores, state = model.step(torch.tensor([1, 1]), model.encode(torch.tensor([[0], [1]])))
    assert scores.argmax(-1).tolist() == [3, 4] and state.tolist() == [0, 1]
    # the second best token is the largest other id
    assert scores[0].topk(2).indices.tolist() == [3, 4]
    common.assert_same_sequences("x", [[1, 2], []], [[1, 2], []])
    for bad, match in [(None, "None"), ([[1]], "expected 2"), ([[1], [3]], "sequence 1"),
                       (np.array([1]), "list")]:
        with pytest.raises(AssertionError, match=match):
            common.assert_same_sequences("x", bad, [[1], [2]])


# --- translation ---

def test_bleu_known_values():
    # p1 = 3/4, p2 = 2/3, equal lengths: sqrt(1/2)
    assert translation.bleu([list("abcd")], [list("abce")], max_n=2) == pytest.approx(
        math.sqrt(0.5))
    # brevity: c = 2, r = 4, p1 = 1: exp(1 - 4/2)
    assert translation.bleu([list("ab")], [list("abcd")], max_n=1) == pytest.approx(math.exp(-1))
    # clipping: "a" counts once against a reference with one "a": 1/4
    assert translation.bleu([list("aaaa")], [list("ab")], max_n=1) == pytest.approx(0.25)
    assert translation.bleu([list("abcde")], [list("abcde")]) == pytest.approx(1.0)
    assert translation.bleu([list("xy")], [list("abcd")]) == 0.0
    assert translation.exact_match([["a"], ["b"]], [["a"], ["c"]]) == 0.5


def test_greedy_decode_reference_on_tables():
    model = TableModel.from_arrows([{1: 5, 5: 3, 3: 2}, {1: 2}, {1: 4, 4: 4}], 6)
    src = torch.tensor([[0], [1], [2]])
    assert translation.greedy_decode(model, src, 3, 1, 2) == [[5, 3], [], [4, 4, 4]]
    assert translation.greedy_decode(model, src, 0, 1, 2) == [[], [], []]


def exhaustive_decode(table: torch.Tensor, max_len: int, bos: int, eos: int,
                      alpha: float) -> list[int]:
    """The best sentence of a one-table model by trying every one (the test's own search)."""
    logp = torch.log_softmax(table.double(), dim=-1)
    best = (-math.inf, [])
    frontier = [([], 0.0)]
    while frontier:
        tokens, total = frontier.pop()
        prev = tokens[-1] if tokens else bos
        for w in range(table.shape[0]):
            score = total + float(logp[prev, w])
            if w == eos or len(tokens) + 1 >= max_len:
                ended = tokens if w == eos else [*tokens, w]
                best = max(best, (score / (len(tokens) + 1) ** alpha, ended))
            else:
                frontier.append(([*tokens, w], score))
    return best[1]


def test_beam_search_is_exhaustive_search_with_a_wide_beam_and_greedy_with_one():
    g = torch.Generator().manual_seed(0)
    for _ in range(6):
        tables = 3 * torch.randn(2, 5, 5, generator=g)
        model = TableModel(tables)
        src = torch.tensor([[0], [1]])
        for alpha in (0.0, 1.0):
            got = translation.beam_search_decode(model, src, 3, 1, 2, beam=200, alpha=alpha)
            assert got == [exhaustive_decode(tables[k], 3, 1, 2, alpha) for k in (0, 1)]
        assert translation.beam_search_decode(model, src, 4, 1, 2, beam=1) == \
            translation.greedy_decode(model, src, 4, 1, 2)
    assert translation.beam_search_decode(model, src, 0, 1, 2) == [[], []]


def test_beam_search_finds_what_greedy_misses_and_length_normalisation_matters():
    # After <bos> (1), word 3 is a little likelier than word 4; after 3 every word is
    # equally likely (a dead end), after 4 <eos> (2) is almost certain.
    table = torch.full((6, 6), -20.0)
    table[1, 3], table[1, 4] = 0.1, 0.0
    table[3] = 0.0
    table[4, 2] = 10.0
    model = TableModel(table[None])
    src = torch.tensor([[0]])
    assert translation.greedy_decode(model, src, 3, 1, 2)[0][0] == 3  # into the dead end
    assert translation.beam_search_decode(model, src, 3, 1, 2, beam=2) == [[4]]
    # Raw log-probabilities prefer stopping early; normalised, a longer sure sentence wins.
    table = torch.full((6, 6), -20.0)
    table[1, 2], table[1, 3] = 0.0, 0.0  # stop now (1/2) or go on (1/2) ...
    table[3, 4], table[4, 2] = 10.0, 10.0  # ... to a sure 3, 4, <eos>
    model = TableModel(table[None])
    assert translation.beam_search_decode(model, src, 5, 1, 2, beam=3, alpha=0.0) == [[]]
    assert translation.beam_search_decode(model, src, 5, 1, 2, beam=3, alpha=1.0) == [[3, 4]]


def test_beam_search_on_a_translator_with_one_beam_is_greedy():
    torch.manual_seed(0)
    model = translation.Translator(9, 11, emb=6, hidden=10).eval()
    src = torch.tensor([[4, 5, 6, 0], [7, 8, 0, 0]])
    with torch.no_grad():
        assert translation.beam_search_decode(model, src, 6, 1, 2, beam=1) == \
            translation.greedy_decode(model, src, 6, 1, 2)


def test_translator_encoder_ignores_padding_and_step_matches_forward():
    torch.manual_seed(0)
    model = translation.Translator(9, 11, emb=6, hidden=10).eval()
    src = torch.tensor([[4, 5, 6, 0], [7, 8, 0, 0]])
    with torch.no_grad():
        h_pad = model.encode(torch.cat([src, torch.zeros(2, 3, dtype=torch.long)], 1))
        torch.testing.assert_close(model.encode(src), h_pad)
        torch.testing.assert_close(model.encode(src[1:, :2]), h_pad[:, 1:])
        tgt_in = torch.tensor([[1, 5, 6], [1, 9, 3]])
        teacher = model(src, tgt_in)
        state = model.encode(src)
        for t in range(3):
            scores, state = model.step(tgt_in[:, t], state)
            torch.testing.assert_close(scores, teacher[:, t])


def test_translator_learns_a_little():
    train, _ = corpus.make_corpus(200, 0, np.random.default_rng(0))
    sv, tv = Vocab(p.english for p in train), Vocab(p.french for p in train)
    torch.manual_seed(0)
    model = translation.Translator(len(sv), len(tv), emb=16, hidden=32)
    losses = translation.train_translator(model, train, sv, tv, steps=40, batch_size=32)
    assert np.mean(losses[-5:]) < 0.85 * np.mean(losses[:5])
    out = translation.translate(model, [train[0].english], sv, tv, max_len=4)
    assert len(out) == 1 and len(out[0]) <= 4


# --- speech ---

def test_ctc_greedy_decode_known_values():
    def one_hot(paths, C):
        return torch.log_softmax(5.0 * torch.nn.functional.one_hot(torch.tensor(paths), C).float(),
                                 -1)
    got = speech.ctc_greedy_decode(one_hot([[1, 1, 0, 1, 2, 2, 0], [0, 0, 0, 0, 0, 0, 0]], 3), 0)
    assert got == [[1, 1, 2], []]
    assert speech.ctc_greedy_decode(one_hot([[2, 1, 1, 2]], 3), blank=2) == [[1]]
    assert speech.ctc_greedy_decode(one_hot([[1, 0, 2, 2]], 3), 0, lengths=[3]) == [[1, 2]]
    assert speech.ctc_greedy_decode(one_hot([[1, 0, 2]], 3).numpy(), 0) == [[1, 2]]


def test_ctc_decoding_of_a_sharp_path_has_near_zero_ctc_loss():
    # A path of near-certain frames: the only likely labelling collapses to the decoding.
    paths = [[0, 3, 3, 0, 3, 5, 0, 0], [2, 2, 2, 0, 0, 0, 1, 0]]
    log_probs = torch.log_softmax(20.0 * torch.nn.functional.one_hot(torch.tensor(paths), 6).double(),
                                  -1)
    decoded = speech.ctc_greedy_decode(log_probs, 0)
    assert decoded == [[3, 3, 5], [2, 1]]
    loss = torch.nn.functional.ctc_loss(
        log_probs.transpose(0, 1), torch.tensor([v for d in decoded for v in d]),
        torch.tensor([8, 8]), torch.tensor([len(d) for d in decoded]), reduction="sum")
    assert loss.item() < 1e-6


def test_recognizer_padding_does_not_change_outputs():
    torch.manual_seed(0)
    model = speech.SpeechRecognizer(n_features=5, hidden=7, n_classes=4).eval()
    x = torch.randn(2, 9, 5)
    lengths = torch.tensor([9, 4])
    with torch.no_grad():
        batch = model(x, lengths)
        alone = model(x[1:, :4], lengths[1:])
    torch.testing.assert_close(batch[1, :4], alone[0])
    torch.testing.assert_close(batch.exp().sum(-1), torch.ones(2, 9))


def test_recognizer_trains():
    utt = speech_data.make_utterances(48, np.random.default_rng(0), max_digits=3)
    x, lengths = speech_data.features(utt.waves)
    torch.manual_seed(0)
    model = speech.SpeechRecognizer(hidden=16)
    losses = speech.train_recognizer(model, x, lengths, utt.digits, steps=25, batch_size=16)
    assert np.all(np.isfinite(losses)) and np.mean(losses[-5:]) < np.mean(losses[:5])
    heard = speech.recognise(model, x[:3], lengths[:3])
    assert len(heard) == 3 and all(0 <= d <= 9 for h in heard for d in h)


# --- sentiment ---

@pytest.fixture
def vocab():
    return {"<pad>": 0, "<unk>": 1, "good": 2, "not": 3, "the": 4}


def test_bag_of_words_known_values_and_order(vocab):
    model = sentiment.BagOfWords(5)
    with torch.no_grad():
        model.weight.weight[:, 0] = torch.tensor([0.0, 0.0, math.log(3), -2 * math.log(3), 0.0])
    probs = sentiment.predict_sentiment(model, ["good", "not good", "good not", "Good movie"],
                                        vocab)
    np.testing.assert_allclose(probs, [0.75, 0.25, 0.25, 0.75], rtol=1e-6)
    assert probs.dtype == np.float64 and probs.shape == (4,)


def test_sentiment_rnn_reads_the_last_real_word(vocab):
    torch.manual_seed(0)
    model = sentiment.SentimentRNN(5, emb=4, hidden=6).eval()
    ids = torch.tensor([[4, 2, 3, 0, 0], [2, 0, 0, 0, 0]])
    with torch.no_grad():
        scores = model(ids)
        prefix = model.prefix_scores(ids)
        torch.testing.assert_close(scores, torch.stack([prefix[0, 2], prefix[1, 0]]))
        torch.testing.assert_close(model(ids[1:, :1]), scores[1:])
    probs = sentiment.predict_sentiment(model, ["the good not", "good"], vocab)
    np.testing.assert_allclose(probs, torch.sigmoid(scores).numpy(), rtol=1e-6)


def test_gru_beats_bag_of_words_on_negation():
    data = review_data.make_reviews(600, np.random.default_rng(0), mix=(0.5, 0.5, 0.0))
    vocab = Vocab(review_data.tokenize(t) for t in data.texts)
    torch.manual_seed(0)
    bow, gru = sentiment.BagOfWords(len(vocab)), sentiment.SentimentRNN(len(vocab), hidden=32)
    accuracy = {}
    for name, model in [("bow", bow), ("gru", gru)]:
        sentiment.train_classifier(model, data.texts, data.labels, vocab, steps=120)
        probs = sentiment.predict_sentiment(model, data.texts, vocab.index)
        accuracy[name] = sentiment.accuracy_by_kind(probs, data.labels, data.kinds)
    assert accuracy["gru"]["negated"] > 0.95
    assert accuracy["bow"]["all"] < 0.85  # no weights get plain and negated both right


def test_accuracy_by_kind():
    acc = sentiment.accuracy_by_kind(np.array([0.9, 0.2, 0.6, 0.4]), np.array([1, 1, 0, 0]),
                                     ["a", "a", "b", "b"])
    assert acc == {"a": 0.5, "b": 0.5, "all": 0.5}


# --- tagging ---

def test_tag_ids_round_trip_and_metrics():
    tags = ["red", "circle", "right"]
    assert tagging.tag_names([tagging.BOS, *tagging.tag_ids(tags), tagging.EOS]) == tags
    # 2 of 3 predictions right, 2 of 4 true tags found
    p, r = tagging.precision_recall([["red", "circle"], ["blue"]],
                                    [["red", "circle", "left"], ["green"]])
    assert (p, r) == (pytest.approx(2 / 3), pytest.approx(2 / 4))
    assert tagging.precision_recall([[]], [[]]) == (1.0, 1.0)
    per_tag = tagging.per_tag_precision_recall([["red"], ["red"]], [["red"], ["blue"]])
    assert per_tag["red"] == (0.5, 1.0) and per_tag["blue"] == (1.0, 0.0)


def test_decode_tags_reference_masks_repeats():
    model = TableModel.from_arrows([{1: 4, 4: 5, 5: 4}, {1: 2}, {1: 3, 3: 3}], vocab_size=7)
    src = torch.tensor([[0], [1], [2]])
    assert tagging.decode_tags(model, src, 10, 2) == [[4, 5, 6, 3], [], [3, 6, 5, 4]]
    assert tagging.decode_tags(model, src, 2, 2) == [[4, 5], [], [3, 6]]
    assert tagging.decode_tags(model, src, 0, 2) == [[], [], []]


def test_tagger_step_matches_forward_and_trains():
    data = image_data.make_images(96, np.random.default_rng(0), size=16)
    torch.manual_seed(0)
    model = tagging.Tagger(hidden=16, emb=4).eval()
    images = torch.from_numpy(data.images[:3])
    tgt_in = torch.tensor([[1, 4, 9], [1, 5, 2], [1, 3, 3]])
    with torch.no_grad():
        teacher = model(images, tgt_in)
        state = model.encode(images)
        for t in range(3):
            scores, state = model.step(tgt_in[:, t], state)
            torch.testing.assert_close(scores, teacher[:, t])
    losses = tagging.train_tagger(model, data.images, data.tags, steps=30, batch_size=32)
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    tags = tagging.tag_images(model, data.images[:4])
    assert all(len(set(t)) == len(t) for t in tags)


def test_the_summary_prints_this_run_beside_the_recorded_one():
    from rnnlab.apps import summary

    run = summary.recorded()
    assert set(run["results"]) == {"translation", "speech", "sentiment, bag of words",
                                   "sentiment, many-to-one GRU", "tagging"}
    text = summary.format_summary({"speech": {"digit error rate": 0.25}}, {"speech": 3.0},
                                  "fast mode", run)
    speech_row = next(line for line in text.splitlines() if "digit error rate" in line)
    assert "0.250" in speech_row
    assert f"{run['results']['speech']['digit error rate']:.3f}" in speech_row
    assert "-" in next(line for line in text.splitlines() if line.startswith("tagging"))
    assert "no recorded run" in summary.format_summary({}, {}, "fast mode", {})

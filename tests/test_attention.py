"""rnnlab.attention: the NumPy reference against torch (float64), finite differences, known
values, the mask and stability edge cases, bad input; the torch decoder against a loop
written out by hand and against each sentence alone."""

import numpy as np
import pytest
import torch

from rnnlab import attention
from rnnlab.apps import translation
from rnnlab.apps.common import Vocab
from rnnlab.data import corpus
from rnnlab.gradcheck import numeric_gradient


def random_case(rng, N, S, H=3, empty_row=False):
    scores = 3 * rng.standard_normal((N, S))
    lengths = rng.integers(1, S + 1, size=N)
    if empty_row:
        lengths[0] = 0
    mask = np.arange(S)[None] < lengths[:, None]
    scores[~mask] = rng.choice([1e4, -1e4, 0.0], size=int((~mask).sum()))
    return scores, mask, rng.standard_normal((N, S, H))


def torch_weights(scores, mask):
    t = torch.softmax(torch.from_numpy(scores).masked_fill(~torch.from_numpy(mask), -torch.inf),
                      dim=-1)
    return torch.nan_to_num(t, nan=0.0).numpy()


@pytest.mark.parametrize(("N", "S", "empty"), [(1, 1, False), (4, 6, False), (5, 3, True),
                                                (2, 9, True)])
def test_weights_against_torch_and_rows_sum_to_one(N, S, empty):
    rng = np.random.default_rng(N * 10 + S)
    scores, mask, _ = random_case(rng, N, S, empty_row=empty)
    copies = scores.copy(), mask.copy()
    a = attention.attention_weights(scores, mask)
    np.testing.assert_allclose(a, torch_weights(scores, mask), rtol=1e-13, atol=1e-15,
                               err_msg="attention weights against torch.softmax (masked)")
    np.testing.assert_array_equal(a[~mask], 0.0, err_msg="weights at padded positions")
    np.testing.assert_allclose(a.sum(1), mask.any(1).astype(float), rtol=1e-13,
                               err_msg="row sums (1 with a real position, else 0)")
    np.testing.assert_array_equal(scores, copies[0], err_msg="scores modified")
    np.testing.assert_array_equal(mask, copies[1], err_msg="mask modified")


def test_weights_known_values_and_stability():
    scores = np.array([[0.0, np.log(3.0), 1e4], [1e4, 1e4, 1e4], [-1e4, 0.0, 1e308]])
    mask = np.array([[True, True, False], [True, True, True], [True, True, False]])
    a = attention.attention_weights(scores, mask)
    expected = np.array([[0.25, 0.75, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.0, 1.0, 0.0]])
    np.testing.assert_allclose(a, expected, rtol=1e-15, atol=0, err_msg="known weights")
    shifted = attention.attention_weights(scores + 1e3 * mask, mask)
    np.testing.assert_allclose(shifted, a, rtol=1e-12, atol=0, err_msg="shift invariance")
    none = attention.attention_weights(np.ones((2, 3)), np.zeros((2, 3), bool))
    np.testing.assert_array_equal(none, 0.0, err_msg="rows with no real position")


def test_weights_gradient_against_finite_differences_and_autograd():
    rng = np.random.default_rng(3)
    scores, mask, _ = random_case(rng, 3, 5)
    scores[~mask] = 0.0  # finite differences move every entry by eps
    dout = rng.standard_normal(scores.shape)
    a = attention.attention_weights(scores, mask)
    known = a * (dout - (a * dout).sum(1, keepdims=True))  # the softmax Jacobian, masked
    numeric = numeric_gradient(lambda s: attention.attention_weights(s, mask), scores, dout)
    np.testing.assert_allclose(numeric, known, rtol=1e-6, atol=1e-9, err_msg="dscores (FD)")
    t = torch.from_numpy(scores).requires_grad_()
    attention.masked_softmax(t, torch.from_numpy(mask)).backward(torch.from_numpy(dout))
    np.testing.assert_allclose(t.grad.numpy(), known, rtol=1e-12, atol=1e-15,
                               err_msg="dscores (torch autograd)")


@pytest.mark.parametrize(("N", "S", "H"), [(1, 1, 1), (3, 4, 2), (6, 7, 5)])
def test_context_against_torch_and_finite_differences(N, S, H):
    rng = np.random.default_rng(N + S + H)
    scores, mask, values = random_case(rng, N, S, H)
    weights = attention.attention_weights(scores, mask)
    c = attention.attention_context(weights, values)
    expected = torch.bmm(torch.from_numpy(weights)[:, None], torch.from_numpy(values))[:, 0]
    np.testing.assert_allclose(c, expected.numpy(), rtol=1e-13, atol=1e-15,
                               err_msg="context against torch.bmm")
    dout = rng.standard_normal((N, H))
    np.testing.assert_allclose(
        numeric_gradient(lambda w: attention.attention_context(w, values), weights, dout),
        np.einsum("nsh,nh->ns", values, dout),
        rtol=1e-6, atol=1e-9, err_msg="dweights (FD)")
    np.testing.assert_allclose(
        numeric_gradient(lambda v: attention.attention_context(weights, v), values, dout),
        weights[:, :, None] * dout[:, None, :], rtol=1e-6, atol=1e-9, err_msg="dvalues (FD)")


def test_context_known_values():
    weights = np.array([[0.25, 0.75, 0.0]])
    values = np.array([[[4.0, 0.0], [0.0, 4.0], [100.0, 100.0]]])
    np.testing.assert_array_equal(attention.attention_context(weights, values), [[1.0, 3.0]])


@pytest.mark.parametrize(("call", "match"), [
    (lambda: attention.attention_weights(np.ones((2, 3)), np.ones((2, 4), bool)),
     r"mask has shape \(2, 4\); expected \(N, S\) = \(2, 3\)"),
    (lambda: attention.attention_weights(np.ones((2, 3)), np.ones((2, 3))), "mask has dtype"),
    (lambda: attention.attention_weights(np.ones(3), np.ones(3, bool)), "scores has shape"),
    (lambda: attention.attention_weights([[1.0]], np.ones((1, 1), bool)), "scores must be"),
    (lambda: attention.attention_weights(np.array([[np.nan, 1.0]]), np.ones((1, 2), bool)),
     "finite at the real positions"),
    (lambda: attention.attention_context(np.ones((2, 3)), np.ones((2, 4, 5))),
     r"values has shape \(2, 4, 5\); expected \(N, S, H\) = \(2, 3, 5\)"),
    (lambda: attention.attention_context(np.ones((2, 3)), np.ones((2, 3))), "values has shape"),
])
def test_bad_input_names_the_argument(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_explain_weights_names_the_mistakes():
    scores = np.array([[0.0, 1.0, 5.0], [2.0, 0.0, 1.0]])
    mask = np.array([[True, True, False], [True, True, True]])
    right = attention.attention_weights(scores, mask)
    assert attention.explain_weights(right, mask) == ""
    unmasked = attention.attention_weights(scores, np.ones_like(mask))
    assert "mask is ignored" in attention.explain_weights(unmasked, mask)
    e = np.exp(scores) * mask
    assert "columns do" in attention.explain_weights(e / e.sum(0), mask)
    assert "normalise after" in attention.explain_weights(
        np.exp(scores) / np.exp(scores).sum(1, keepdims=True) * mask, mask)
    assert "not finite" in attention.explain_weights(np.full((2, 3), np.nan), mask)


# --------------------------------------------------------------------------- the decoder
def small_decoder(seed, V=7, E=3, H=5, A=4):
    torch.manual_seed(seed)
    return attention.AttentionDecoder(V, E, H, A).double()


def test_decoder_against_a_hand_written_loop():
    rng = np.random.default_rng(0)
    dec = small_decoder(0)
    N, S, T, H = 3, 5, 4, 5
    enc = torch.from_numpy(rng.standard_normal((N, S, H)))
    mask = torch.from_numpy(np.arange(S)[None] < np.array([5, 2, 3])[:, None])
    h0 = torch.from_numpy(rng.standard_normal((N, H)))
    tgt_in = torch.from_numpy(rng.integers(1, 7, size=(N, T)))
    logits, weights = attention.attention_decoder_forward(dec, enc, mask, h0, tgt_in)
    assert logits.shape == (N, T, 7) and weights.shape == (N, T, S)
    with torch.no_grad():
        Wq, Wk, bk = dec.query.weight.T, dec.key.weight.T, dec.key.bias
        v = dec.energy.weight[0]
        h = h0
        for t in range(T):
            for n in range(N):
                L = int(mask[n].sum())
                e = torch.stack([v @ torch.tanh(h[n] @ Wq + enc[n, s] @ Wk + bk)
                                 for s in range(L)])
                a = torch.exp(e - e.max()) / torch.exp(e - e.max()).sum()
                np.testing.assert_allclose(weights[n, t, :L].detach().numpy(), a.numpy(),
                                           rtol=1e-12, err_msg=f"weights n={n} t={t}")
                assert float(weights[n, t, L:].abs().sum()) == 0.0
            c = torch.einsum("ns,nsh->nh", weights[:, t].detach(), enc)
            h = dec.cell(torch.cat([dec.embed(tgt_in[:, t]), c], -1), h)
            np.testing.assert_allclose(logits[:, t].detach().numpy(),
                                       dec.out(torch.cat([h, c], -1)).numpy(), rtol=1e-12,
                                       err_msg=f"logits t={t}")


def test_decoder_padding_changes_nothing_and_bad_input():
    rng = np.random.default_rng(1)
    dec = small_decoder(1)
    enc = torch.from_numpy(rng.standard_normal((2, 6, 5)))
    mask = torch.tensor([[True] * 6, [True, True, False, False, False, False]])
    h0, tgt = torch.zeros(2, 5, dtype=torch.float64), torch.tensor([[1, 3, 4], [1, 2, 6]])
    logits, _ = attention.attention_decoder_forward(dec, enc, mask, h0, tgt)
    alone, _ = attention.attention_decoder_forward(dec, enc[1:, :2], mask[1:, :2], h0[1:],
                                                   tgt[1:])
    np.testing.assert_allclose(logits[1:].detach().numpy(), alone.detach().numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="src_mask has shape"):
        attention.attention_decoder_forward(dec, enc, mask[:, :3], h0, tgt)
    with pytest.raises(ValueError, match="h0 has shape"):
        attention.attention_decoder_forward(dec, enc, mask, h0[:, :2], tgt)
    with pytest.raises(TypeError, match="AttentionDecoder"):
        attention.attention_decoder_forward(torch.nn.Linear(2, 2), enc, mask, h0, tgt)


@pytest.fixture
def one_thread():
    """Small models train fastest on one thread (and do not fight other jobs for cores)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_translator_trains_and_greedy_decoding_matches_teacher_forcing(one_thread):
    train, test = corpus.make_corpus(300, 5, np.random.default_rng(0), max_clauses=2)
    sv, tv = Vocab(p.english for p in train), Vocab(p.french for p in train)
    torch.manual_seed(0)
    model = attention.AttentionTranslator(len(sv), len(tv), emb=16, hidden=24,
                                          attention_size=8)
    losses = translation.train_translator(model, train, sv, tv, steps=30, batch_size=32)
    assert losses[-1] < losses[0]
    french, weights = attention.attention_map(model, test[0].english, sv, tv, max_len=12)
    assert weights.shape == (len(french) + 1, len(test[0].english))
    np.testing.assert_allclose(weights.sum(1), 1.0, rtol=1e-6)
    by_length = attention.scores_by_length(model, test, sv, tv, bins=[1, 10, 30])
    assert set(by_length) == {"exact match", "BLEU"}


def test_compound_corpus_joins_clauses():
    train, _ = corpus.make_corpus(200, 0, np.random.default_rng(0), max_clauses=3)
    counts = {p.english.count("and") for p in train}
    assert counts == {0, 1, 2}
    for pair in train:
        assert pair.english.count("and") == pair.french.count("et")
    with pytest.raises(ValueError, match="max_clauses"):
        corpus.compound_pair(np.random.default_rng(0), 0)
    # The default draws exactly unit 07's simple sentences, in the same order.
    simple, _ = corpus.make_corpus(50, 0, np.random.default_rng(5))
    g, seen, expected = np.random.default_rng(5), set(), []
    while len(expected) < 50:
        pair = corpus.generate_pair(g)
        if tuple(pair.english) not in seen:
            seen.add(tuple(pair.english))
            expected.append(pair)
    assert simple == expected

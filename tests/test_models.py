"""The five torch models of unit 06 against torch's own tools, known values and autograd."""

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from rnnlab import masking, models
from rnnlab.gradcheck import check_gradients
from rnnlab.training import torch_threads, train

F64 = torch.float64


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models run fastest on one thread, and leave the shared machine's other core free."""
    with torch_threads(1):
        yield


def layers(kind, D, H, seed, bidirectional=False):
    torch.manual_seed(seed)
    return models.make_rnn(D, H, kind, bidirectional).to(F64)


def padded(N, T, D, seed):
    g = np.random.default_rng(seed)
    x = torch.from_numpy(g.standard_normal((N, T, D)))  # noisy padding on purpose
    return x, torch.from_numpy(g.integers(1, T + 1, size=N))


CASES = [(1, 1, 1, 1, "rnn"), (3, 5, 2, 4, "rnn"), (4, 7, 3, 2, "gru"), (1, 6, 2, 3, "gru")]


def test_one_to_one_is_an_rnn_step_from_zero_state():
    torch.manual_seed(0)
    model = models.OneToOne(3, 4, 2).to(F64)
    x = torch.randn(5, 3, dtype=F64)
    rnn = nn.RNN(3, 4, batch_first=True, dtype=F64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(model.layer.weight)
        rnn.bias_ih_l0.copy_(model.layer.bias)
        rnn.bias_hh_l0.zero_()
        expected = model.head(rnn(x[:, None])[0][:, 0])
        torch.testing.assert_close(model(x), expected, rtol=1e-12, atol=1e-12)


def test_one_to_one_known_value():
    layer, head = nn.Linear(2, 2, dtype=F64), nn.Linear(2, 1, dtype=F64)
    with torch.no_grad():
        layer.weight.copy_(0.5 * torch.eye(2, dtype=F64))
        layer.bias.zero_()
        head.weight.fill_(1.0)
        head.bias.zero_()
    out = models.one_to_one_forward(layer, head, torch.tensor([[1.0, 2.0]], dtype=F64))
    assert out.item() == pytest.approx(np.tanh(0.5) + np.tanh(1.0), abs=1e-14)


@pytest.mark.parametrize("N, T, D, H, kind", CASES)
def test_one_to_many_matches_a_step_by_step_loop(N, T, D, H, kind):
    torch.manual_seed(N + T)
    model = models.OneToMany(D, H, 3, kind).to(F64)
    x = torch.randn(N, D, dtype=F64)
    with torch.no_grad():
        got = model(x, T)
        h, outs = torch.zeros(1, N, H, dtype=F64), []
        for _ in range(T):
            out, h = model.rnn(x[:, None], h)
            outs.append(model.head(out))
    assert got.shape == (N, T, 3)
    torch.testing.assert_close(got, torch.cat(outs, 1), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("N, T, D, H, kind", CASES)
def test_many_to_one_matches_packed_sequences_and_each_sequence_alone(N, T, D, H, kind):
    model = models.ManyToOne(D, H, 3, kind).to(F64)
    x, lengths = padded(N, T, D, seed=T)
    with torch.no_grad():
        got = model(x, lengths)
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        expected = model.head(model.rnn(packed)[1][0])
        alone = torch.stack([model(x[n:n + 1, :int(lengths[n])], lengths[n:n + 1])[0]
                             for n in range(N)])
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(got, alone, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("N, S, T, kind", [(1, 1, 1, "rnn"), (3, 6, 2, "gru"), (4, 2, 7, "gru")])
def test_encoder_decoder_starts_the_decoder_from_the_packed_encoder_state(N, S, T, kind):
    torch.manual_seed(S)
    model = models.EncoderDecoder(3, 4, 6, kind, embedding_size=2).to(F64)
    src, src_lengths = padded(N, S, 3, seed=S + T)
    tgt_in = torch.randint(0, 6, (N, T))
    with torch.no_grad():
        got = model(src, src_lengths, tgt_in)
        packed = pack_padded_sequence(src, src_lengths, batch_first=True, enforce_sorted=False)
        context = model.encoder(packed)[1]
        expected = model.head(model.decoder(model.embed(tgt_in), context)[0])
    assert got.shape == (N, T, 6)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)


def test_greedy_generation_agrees_with_teacher_forcing_on_its_own_output():
    torch.manual_seed(1)
    model = models.EncoderDecoder(3, 5, 6).to(F64)
    src, src_lengths = padded(4, 5, 3, seed=2)
    tokens = model.generate(src, src_lengths, start=5, steps=4)
    tgt_in = torch.cat([torch.full((4, 1), 5), tokens[:, :-1]], dim=1)
    with torch.no_grad():
        forced = model(src, src_lengths, tgt_in).argmax(-1)
    assert torch.equal(tokens, forced)


@pytest.mark.parametrize("N, T, D, H, kind", CASES)
def test_synced_matches_each_sequence_alone_and_zeroes_padding(N, T, D, H, kind):
    torch.manual_seed(T)
    model = models.SyncedManyToMany(D, H, 3, kind).to(F64)
    x, lengths = padded(N, T, D, seed=N)
    with torch.no_grad():
        got = model(x, lengths)
        for n in range(N):
            L = int(lengths[n])
            alone = model.head(model.rnn(x[n:n + 1, :L])[0])[0]
            torch.testing.assert_close(got[n, :L], alone, rtol=1e-12, atol=1e-12)
            assert torch.all(got[n, L:] == 0)


def test_unidirectional_tagger_is_causal():
    torch.manual_seed(0)
    model = models.SyncedManyToMany(2, 3, 4, bidirectional=False).to(F64)
    x, lengths = torch.randn(1, 6, 2, dtype=F64), torch.tensor([6])
    changed = x.clone()
    changed[0, 4:] += 1.0
    with torch.no_grad():
        torch.testing.assert_close(model(x, lengths)[0, :4], model(changed, lengths)[0, :4])


def test_sequence_mask():
    mask = masking.sequence_mask(torch.tensor([3, 1, 4]), 4)
    assert mask.tolist() == [[True, True, True, False], [True, False, False, False],
                             [True, True, True, True]]


def test_masked_loss_known_values_and_cross_entropy():
    logits = torch.tensor([[[0.0, np.log(3.0)], [1e4, -1e4]]], dtype=F64, requires_grad=True)
    loss = masking.masked_sequence_loss(logits, torch.tensor([[1, -1]]),
                                       torch.tensor([[True, False]]))
    loss.backward()
    assert loss.item() == pytest.approx(-np.log(0.75), abs=1e-14)
    torch.testing.assert_close(logits.grad, torch.tensor([[[0.25, -0.25], [0.0, 0.0]]],
                                                         dtype=F64))
    g = np.random.default_rng(3)
    logits = torch.from_numpy(g.standard_normal((4, 5, 3)))
    mask = masking.sequence_mask(torch.tensor([5, 2, 1, 3]), 5)
    targets = torch.where(mask, torch.from_numpy(g.integers(0, 3, (4, 5))), -1)
    expected = nn.functional.cross_entropy(logits.reshape(-1, 3), targets.reshape(-1),
                                           ignore_index=-1)
    torch.testing.assert_close(masking.masked_sequence_loss(logits, targets, mask), expected)


def test_masked_loss_gradient_matches_finite_differences():
    g = np.random.default_rng(4)
    logits = g.standard_normal((3, 4, 5))
    mask = masking.sequence_mask(torch.tensor([4, 1, 2]), 4)
    targets = torch.where(mask, torch.from_numpy(g.integers(0, 5, (3, 4))), -1)
    probe = torch.tensor(logits, requires_grad=True)
    masking.masked_sequence_loss(probe, targets, mask).backward()
    table = check_gradients(
        lambda logits: masking.masked_sequence_loss(torch.from_numpy(logits), targets,
                                                   mask).item(),
        {"logits": logits}, {"logits": probe.grad.numpy()}, tol=1e-6, eps=1e-6)
    assert table.passed, str(table)


def test_bad_inputs_name_the_argument():
    model = models.ManyToOne(3, 4, 2)
    with pytest.raises(ValueError, match="x has shape"):
        model(torch.zeros(2, 3), torch.tensor([1, 1]))
    with pytest.raises(TypeError, match="lengths has dtype"):
        model(torch.zeros(2, 5, 3), torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="lengths must lie in"):
        model(torch.zeros(2, 5, 3), torch.tensor([0, 6]))
    with pytest.raises(TypeError, match="mask has dtype"):
        masking.masked_sequence_loss(torch.zeros(1, 2, 3), torch.zeros(1, 2, dtype=torch.long),
                                    torch.ones(1, 2))
    with pytest.raises(ValueError, match="cell is"):
        models.make_rnn(2, 3, "lstm")
    with pytest.raises(TypeError, match="expected a torch.Tensor"):
        models.to_numpy("logits", np.zeros(3))


def test_training_a_model_lowers_the_loss_quickly():
    from rnnlab.data import toy

    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    model = models.ManyToOne(3, 16, 3)

    def loss_of_step(_step):
        batch = toy.majority(32, rng)
        return nn.functional.cross_entropy(model(batch.x, batch.lengths), batch.y)

    losses = train(model, loss_of_step, 60, clip=1.0, progress=False).losses
    assert len(losses) == 60 and np.mean(losses[-10:]) < 0.7 * np.mean(losses[:10])
    test = toy.majority(500, np.random.default_rng(1))
    with torch.no_grad():
        assert masking.accuracy(model(test.x, test.lengths), test.y) > 0.5  # chance is 1/3

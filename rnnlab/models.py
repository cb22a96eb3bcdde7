"""Small torch models for the five types of recurrent network (unit 06).

Every model is batch first and uses torch's own names (``input_size``, ``hidden_size``,
``batch_first=True``). Shapes: ``N`` batch, ``T`` (or ``S``) time steps, ``D`` input
features, ``H`` hidden units, ``V`` output classes.

=====================  =====================  ==============================  ==================
type                   input                  output (logits)                 outputs with loss
=====================  =====================  ==============================  ==================
:class:`OneToOne`      ``x (N, D)``           ``(N, V)``                      all
:class:`OneToMany`     ``x (N, D)``           ``(N, T, V)``                   all ``T`` steps
:class:`ManyToOne`     ``x (N, T, D)``        ``(N, V)``                      one per sequence
:class:`EncoderDecoder`  ``src (N, S, D)``    ``(N, T, V)``                   target steps, mask
:class:`SyncedManyToMany`  ``x (N, T, D)``    ``(N, T, V)``                   valid steps, mask
=====================  =====================  ==============================  ==================

Each model's ``forward`` calls a plain function of the same type (``one_to_one_forward``,
..., ``synced_many_to_many_forward``) that takes the layers as arguments; those functions
are the reference for the unit's exercises. Padded batches carry ``lengths (N,)``, the
number of valid steps of each sequence; :mod:`rnnlab.masking` turns them into a mask and
averages the loss and the accuracy over the valid steps only, and
:func:`rnnlab.training.train` trains the models.

The recurrent layer is ``torch.nn.RNN`` (tanh) or ``torch.nn.GRU`` (``cell="rnn"`` or
``"gru"``): both return ``(outputs, h_n)`` with a tensor ``h_n``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnlab.masking import sequence_mask
from rnnlab.validation import check_tensors

CELLS = {"rnn": nn.RNN, "gru": nn.GRU}

__all__ = [
    "CELLS",
    "EncoderDecoder",
    "ManyToOne",
    "OneToMany",
    "OneToOne",
    "SyncedManyToMany",
    "encoder_decoder_forward",
    "make_rnn",
    "many_to_one_forward",
    "one_to_many_forward",
    "one_to_one_forward",
    "synced_many_to_many_forward",
    "to_numpy",
]


def _check_lengths(name: str, lengths: torch.Tensor, T: int) -> None:
    """Every entry of the (already shape-checked) ``lengths`` lies in ``1..T``."""
    if len(lengths) and (int(lengths.min()) < 1 or int(lengths.max()) > T):
        raise ValueError(f"{name} must lie in 1..T = 1..{T}; got min {int(lengths.min())}, "
                         f"max {int(lengths.max())}")


def to_numpy(name: str, value: object):
    """A detached float64 NumPy copy of tensor ``value``, or a TypeError naming ``name``.

    Grading helper: the exercises return tensors and :mod:`rnnlab.checks` compares arrays.
    """
    if value is None:
        raise TypeError(f"{name}: got None; did the function forget to return?")
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor; got {type(value).__name__}")
    return value.detach().to(torch.float64).cpu().numpy().copy()


# --------------------------------------------------------------------------- helpers
def make_rnn(input_size: int, hidden_size: int, cell: str = "gru",
             bidirectional: bool = False) -> nn.RNN | nn.GRU:
    """A one-layer, batch-first ``torch.nn.RNN`` (tanh) or ``torch.nn.GRU``.

    Parameters
    ----------
    input_size, hidden_size : int
        ``D`` and ``H``.
    cell : {"rnn", "gru"}
        The recurrent layer.
    bidirectional : bool
        If True the layer outputs ``2 H`` features per step: forward states, then backward.
    """
    if cell not in CELLS:
        raise ValueError(f"cell is {cell!r}; expected one of {sorted(CELLS)}")
    return CELLS[cell](input_size, hidden_size, batch_first=True, bidirectional=bidirectional)


# --------------------------------------------------------------------------- the five forwards
def one_to_one_forward(layer: nn.Linear, head: nn.Linear, x: torch.Tensor) -> torch.Tensor:
    """One input, one output: a plain feedforward network.

    Parameters
    ----------
    layer : nn.Linear(D, H)
    head : nn.Linear(H, V)
    x : torch.Tensor, shape (N, D)

    Returns
    -------
    logits : torch.Tensor, shape (N, V)

    Notes
    -----
    ``logits = tanh(x W1^T + b1) W2^T + b2``: an RNN run for a single step from a zero
    state (``Wh`` never used).
    """
    check_tensors(x=(x, "N D"))
    return head(torch.tanh(layer(x)))


def one_to_many_forward(rnn: nn.Module, head: nn.Linear, x: torch.Tensor,
                        steps: int) -> torch.Tensor:
    """One input, a sequence of outputs: the fixed input is fed at every step.

    Parameters
    ----------
    rnn : batch-first nn.RNN or nn.GRU with ``input_size = D``, one direction.
    head : nn.Linear(H, V)
    x : torch.Tensor, shape (N, D)
        One vector per example, no time axis.
    steps : int
        ``T``, how many outputs to produce.

    Returns
    -------
    logits : torch.Tensor, shape (N, T, V)

    Notes
    -----
    ``h_{-1} = 0``, ``h_t = cell(x, h_{t-1})``, ``logits_t = h_t W^T + b`` for
    ``t = 0..T-1``: the input is the same at every step, so everything that changes
    along the sequence comes from the state.
    """
    check_tensors(x=(x, "N D"))
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer; got {steps!r}")
    hs, _ = rnn(x.unsqueeze(1).expand(-1, steps, -1))
    return head(hs)


def many_to_one_forward(rnn: nn.Module, head: nn.Linear, x: torch.Tensor,
                        lengths: torch.Tensor) -> torch.Tensor:
    """A padded sequence in, one output per sequence, read from the last VALID state.

    Parameters
    ----------
    rnn : batch-first nn.RNN or nn.GRU with ``input_size = D``, one direction.
    head : nn.Linear(H, V)
    x : torch.Tensor, shape (N, T, D)
        Sequences padded at the end; steps ``t >= lengths[n]`` are padding.
    lengths : torch.Tensor, shape (N,), integer in 1..T

    Returns
    -------
    logits : torch.Tensor, shape (N, V)
        ``head(h[n, lengths[n] - 1])``: the same as running sequence ``n`` alone, without
        its padding (the state at ``T - 1`` has read the padding too).
    """
    sizes = check_tensors(x=(x, "N T D"), lengths=(lengths, "N", "iu"))
    _check_lengths("lengths", lengths, sizes["T"])
    hs, _ = rnn(x)
    last = hs[torch.arange(sizes["N"]), lengths.long() - 1]
    return head(last)


def encoder_decoder_forward(encoder: nn.Module, embed: nn.Embedding, decoder: nn.Module,
                            head: nn.Linear, src: torch.Tensor, src_lengths: torch.Tensor,
                            tgt_in: torch.Tensor) -> torch.Tensor:
    """Sequence to sequence, lengths may differ: encode, pass the state, decode.

    Parameters
    ----------
    encoder : batch-first nn.RNN or nn.GRU, ``input_size = D``, hidden size ``H``.
    embed : nn.Embedding(V, E), the decoder's input tokens.
    decoder : batch-first nn.RNN or nn.GRU (same kind as ``encoder``), ``input_size = E``,
        hidden size ``H``.
    head : nn.Linear(H, V)
    src : torch.Tensor, shape (N, S, D)
        Source sequences, padded at the end.
    src_lengths : torch.Tensor, shape (N,), integer in 1..S
    tgt_in : torch.Tensor, shape (N, T), integer in 0..V-1
        Decoder inputs (teacher forcing): a start token, then the target shifted right.

    Returns
    -------
    logits : torch.Tensor, shape (N, T, V)

    Notes
    -----
    The context ``c[n] = encoder_state[n, src_lengths[n] - 1]`` (the last valid encoder
    state, shape (N, H)) is the decoder's initial state; the decoder then reads
    ``embed(tgt_in)``. ``logits[:, t]`` predicts target token ``t``.
    """
    sizes = check_tensors(src=(src, "N S D"), src_lengths=(src_lengths, "N", "iu"),
                          tgt_in=(tgt_in, "N T", "iu"))
    _check_lengths("src_lengths", src_lengths, sizes["S"])
    hs, _ = encoder(src)
    context = hs[torch.arange(sizes["N"]), src_lengths.long() - 1]
    outputs, _ = decoder(embed(tgt_in), context.unsqueeze(0).contiguous())
    return head(outputs)


def synced_many_to_many_forward(rnn: nn.Module, head: nn.Linear, x: torch.Tensor,
                                lengths: torch.Tensor) -> torch.Tensor:
    """One output per input step, from a bidirectional RNN that skips the padding.

    Parameters
    ----------
    rnn : batch-first, BIDIRECTIONAL nn.RNN or nn.GRU, ``input_size = D``, hidden ``H``.
    head : nn.Linear(2 H, V)
    x : torch.Tensor, shape (N, T, D)
        Sequences padded at the end.
    lengths : torch.Tensor, shape (N,), integer in 1..T

    Returns
    -------
    logits : torch.Tensor, shape (N, T, V)
        ``head([h_fwd_t, h_bwd_t])`` at valid steps; exactly 0 at padded steps.

    Notes
    -----
    The backward direction must start at each sequence's last valid step, not at the
    padding: the batch is packed with ``pack_padded_sequence`` (``enforce_sorted=False``)
    and unpacked with ``pad_packed_sequence(total_length=T)``. Then every sequence's
    logits equal those of the sequence run alone.
    """
    sizes = check_tensors(x=(x, "N T D"), lengths=(lengths, "N", "iu"))
    _check_lengths("lengths", lengths, sizes["T"])
    packed = pack_padded_sequence(x, lengths.long().cpu(), batch_first=True,
                                  enforce_sorted=False)
    out, _ = rnn(packed)
    hs, _ = pad_packed_sequence(out, batch_first=True, total_length=sizes["T"])
    mask = sequence_mask(lengths, sizes["T"])
    return head(hs) * mask.unsqueeze(-1).to(hs.dtype)


# --------------------------------------------------------------------------- modules
class OneToOne(nn.Module):
    """One-to-one: ``x (N, D) -> logits (N, V)`` through one tanh hidden layer.

    Parameters
    ----------
    input_size, hidden_size, output_size : int
        ``D``, ``H``, ``V``.
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int):
        super().__init__()
        self.layer = nn.Linear(input_size, hidden_size)
        self.head = nn.Linear(hidden_size, output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x (N, D) -> logits (N, V)``; see :func:`one_to_one_forward`."""
        return one_to_one_forward(self.layer, self.head, x)


class _RNNWithHead(nn.Module):
    """An RNN from :func:`make_rnn` (``self.rnn``) and a linear layer on its hidden states
    (``self.head``): the parts of the recurrent models below."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int,
                 cell: str = "gru", bidirectional: bool = False):
        super().__init__()
        self.rnn = make_rnn(input_size, hidden_size, cell, bidirectional)
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), output_size)


class OneToMany(_RNNWithHead):
    """One-to-many: ``x (N, D) -> logits (N, T, V)``, the input fed at every step.

    Parameters
    ----------
    input_size, hidden_size, output_size : int
        ``D``, ``H``, ``V``.
    cell : {"rnn", "gru"}
    """

    def forward(self, x: torch.Tensor, steps: int) -> torch.Tensor:
        """``x (N, D)``, ``steps = T`` ``-> logits (N, T, V)``; see :func:`one_to_many_forward`."""
        return one_to_many_forward(self.rnn, self.head, x, steps)


class ManyToOne(_RNNWithHead):
    """Many-to-one: ``x (N, T, D)``, ``lengths (N,) -> logits (N, V)``.

    Parameters
    ----------
    input_size, hidden_size, output_size : int
        ``D``, ``H``, ``V``.
    cell : {"rnn", "gru"}
    """

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """``x (N, T, D)``, ``lengths (N,) -> logits (N, V)``; see :func:`many_to_one_forward`."""
        return many_to_one_forward(self.rnn, self.head, x, lengths)


class EncoderDecoder(nn.Module):
    """Many-to-many with an encoder and a decoder: source and target lengths may differ.

    Parameters
    ----------
    input_size : int
        ``D``, features per source step (e.g. a one-hot source vocabulary).
    hidden_size : int
        ``H``, shared by encoder and decoder (the encoder's last state starts the decoder).
    output_size : int
        ``V``, the target vocabulary, including its start and end tokens.
    cell : {"rnn", "gru"}
    embedding_size : int, optional
        ``E``, size of the decoder's token embeddings (default ``H``).

    Notes
    -----
    ``forward(src (N, S, D), src_lengths (N,), tgt_in (N, T)) -> logits (N, T, V)`` with
    teacher forcing; :meth:`generate` decodes greedily, feeding back its own predictions.
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int,
                 cell: str = "gru", embedding_size: int | None = None):
        super().__init__()
        embedding_size = embedding_size or hidden_size
        self.encoder = make_rnn(input_size, hidden_size, cell)
        self.embed = nn.Embedding(output_size, embedding_size)
        self.decoder = make_rnn(embedding_size, hidden_size, cell)
        self.head = nn.Linear(hidden_size, output_size)

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor,
                tgt_in: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits (N, T, V); see :func:`encoder_decoder_forward`."""
        return encoder_decoder_forward(self.encoder, self.embed, self.decoder, self.head,
                                       src, src_lengths, tgt_in)

    @torch.no_grad()
    def generate(self, src: torch.Tensor, src_lengths: torch.Tensor, start: int,
                 steps: int) -> torch.Tensor:
        """Greedy decoding: ``steps`` tokens (N, T), each the argmax fed back as next input.

        Parameters
        ----------
        src : (N, S, D); src_lengths : (N,); start : the start token; steps : ``T``.
        """
        sizes = check_tensors(src=(src, "N S D"), src_lengths=(src_lengths, "N", "iu"))
        _check_lengths("src_lengths", src_lengths, sizes["S"])
        hs, _ = self.encoder(src)
        h = hs[torch.arange(sizes["N"]), src_lengths.long() - 1].unsqueeze(0).contiguous()
        token = torch.full((sizes["N"], 1), start, dtype=torch.long, device=src.device)
        tokens = []
        for _ in range(steps):
            out, h = self.decoder(self.embed(token), h)
            token = self.head(out).argmax(-1)
            tokens.append(token)
        return torch.cat(tokens, dim=1)


class SyncedManyToMany(_RNNWithHead):
    """Synced many-to-many: one label per step from a (bidirectional) RNN.

    Parameters
    ----------
    input_size, hidden_size, output_size : int
        ``D``, ``H`` (per direction), ``V``.
    cell : {"rnn", "gru"}
    bidirectional : bool
        True (default) reads both directions, so step ``t`` sees the whole sequence;
        False gives the causal tagger, which sees only steps ``<= t``.

    Notes
    -----
    ``forward(x (N, T, D), lengths (N,)) -> logits (N, T, V)``, zero at padded steps;
    see :func:`synced_many_to_many_forward`.
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int,
                 cell: str = "gru", bidirectional: bool = True):
        super().__init__(input_size, hidden_size, output_size, cell, bidirectional)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """``x (N, T, D)``, ``lengths (N,) -> logits (N, T, V)``."""
        return synced_many_to_many_forward(self.rnn, self.head, x, lengths)

"""Named mistakes of unit 06: every catalogued mistake is built as a student would write it,
and the unit's visible tests and its hidden tests must each name it (see named_mistakes.py).
"""

import torch
from named_mistakes import UnitMistakes
from torch import nn

from rnnlab.mistakes import unit06

PACK = """
packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
hs, _ = pad_packed_sequence(rnn(packed)[0], batch_first=True, total_length=x.shape[1])
mask = (torch.arange(x.shape[1])[None, :] < lengths[:, None]).unsqueeze(-1)
"""

STUDENTS = {
    "one_to_one_forward": {
        "forgot_tanh": "return head(layer(x))",
        "sigmoid_for_tanh": "return head(torch.sigmoid(layer(x)))",
        "tanh_on_logits": "return torch.tanh(head(torch.tanh(layer(x))))",
    },
    "one_to_many_forward": {
        "input_at_first_step_only": """
            inputs = torch.zeros(x.shape[0], steps, x.shape[1], dtype=x.dtype)
            inputs[:, 0] = x
            return head(rnn(inputs)[0])""",
        "state_not_carried": """
            return torch.cat([head(rnn(x.unsqueeze(1))[0]) for _ in range(steps)], dim=1)""",
        "forgot_head": "return rnn(x.unsqueeze(1).expand(-1, steps, -1))[0]",
        "last_step_only": """
            hs, _ = rnn(x.unsqueeze(1).expand(-1, steps, -1))
            return head(hs[:, -1])""",
    },
    "many_to_one_forward": {
        "last_padded_step": """
            _, h = rnn(x)
            return head(h[0])""",
        "first_step": "return head(rnn(x)[0][:, 0])",
        "forgot_head": "return rnn(x)[0][torch.arange(x.shape[0]), lengths - 1]",
        "output_every_step": "return head(rnn(x)[0])",
    },
    "masked_sequence_loss": {
        "averaged_over_all_steps": """
            safe = torch.where(mask, targets, 0)
            nll = -torch.log_softmax(logits, dim=-1).gather(-1, safe[..., None])[..., 0]
            return torch.where(mask, nll, 0.0).mean()""",
        "mask_not_applied": """
            nll = -torch.log_softmax(logits, dim=-1).gather(-1, targets.clamp(min=0)[..., None])
            return nll.mean()""",
        "sum_not_mean": """
            safe = torch.where(mask, targets, 0)
            nll = -torch.log_softmax(logits, dim=-1).gather(-1, safe[..., None])[..., 0]
            return torch.where(mask, nll, 0.0).sum()""",
        "per_sequence_mean": """
            safe = torch.where(mask, targets, 0)
            nll = -torch.log_softmax(logits, dim=-1).gather(-1, safe[..., None])[..., 0]
            return (torch.where(mask, nll, 0.0).sum(1) / mask.sum(1)).mean()""",
        "log_softmax_over_time": """
            safe = torch.where(mask, targets, 0)
            nll = -torch.log_softmax(logits, dim=1).gather(-1, safe[..., None])[..., 0]
            return torch.where(mask, nll, 0.0).sum() / mask.sum()""",
    },
    "encoder_decoder_forward": {
        "context_from_padded_step": """
            _, h = encoder(src)
            return head(decoder(embed(tgt_in), h)[0])""",
        "context_from_first_step": """
            context = encoder(src)[0][:, 0]
            return head(decoder(embed(tgt_in), context[None].contiguous())[0])""",
        "decoder_from_zero_state": "return head(decoder(embed(tgt_in))[0])",
        "teacher_forcing_shifted_again": """
            hs, _ = encoder(src)
            context = hs[torch.arange(src.shape[0]), src_lengths - 1][None].contiguous()
            shifted = torch.cat([tgt_in[:, :1], tgt_in[:, :-1]], dim=1)
            return head(decoder(embed(shifted), context)[0])""",
    },
    "synced_many_to_many_forward": {
        "not_packed": """
            mask = (torch.arange(x.shape[1])[None, :] < lengths[:, None]).unsqueeze(-1)
            return head(rnn(x)[0]) * mask""",
        "padding_not_zeroed": PACK + "return head(hs)",
        "directions_swapped": PACK + "H = hs.shape[-1] // 2\n"
        "return head(torch.cat([hs[..., H:], hs[..., :H]], dim=-1)) * mask",
        "backward_flipped": PACK + "H = hs.shape[-1] // 2\n"
        "return head(torch.cat([hs[..., :H], hs[..., H:].flip(1)], dim=-1)) * mask",
    },
}
SIGNATURES = {"one_to_one_forward": "layer, head, x", "one_to_many_forward": "rnn, head, x, steps",
              "many_to_one_forward": "rnn, head, x, lengths",
              "masked_sequence_loss": "logits, targets, mask",
              "encoder_decoder_forward":
                  "encoder, embed, decoder, head, src, src_lengths, tgt_in",
              "synced_many_to_many_forward": "rnn, head, x, lengths"}


def _lengths(rng, N, T):
    return torch.from_numpy(rng.integers(1, T + 1, size=N))


def _mask_args(rng):
    lengths = _lengths(rng, 3, 4)
    mask = torch.arange(4)[None, :] < lengths[:, None]
    targets = torch.where(mask, torch.from_numpy(rng.integers(0, 5, size=(3, 4))), -1)
    return torch.from_numpy(rng.standard_normal((3, 4, 5))), targets, mask


# The arguments a catalogue is built from, to list its ids (torch layers: built from rng).
INPUTS = {
    "one_to_one_forward": lambda rng: (nn.Linear(3, 4), nn.Linear(4, 2), torch.randn(2, 3)),
    "one_to_many_forward": lambda rng: (nn.GRU(3, 4, batch_first=True), nn.Linear(4, 2),
                                        torch.randn(2, 3), 5),
    "many_to_one_forward": lambda rng: (nn.GRU(3, 4, batch_first=True), nn.Linear(4, 2),
                                        torch.randn(3, 5, 3), _lengths(rng, 3, 5)),
    "masked_sequence_loss": _mask_args,
    "encoder_decoder_forward": lambda rng: (
        nn.GRU(3, 4, batch_first=True), nn.Embedding(5, 2), nn.GRU(2, 4, batch_first=True),
        nn.Linear(4, 5), torch.randn(2, 6, 3), _lengths(rng, 2, 6),
        torch.from_numpy(rng.integers(0, 5, size=(2, 3)))),
    "synced_many_to_many_forward": lambda rng: (
        nn.GRU(3, 4, batch_first=True, bidirectional=True), nn.Linear(8, 2),
        torch.randn(3, 5, 3), _lengths(rng, 3, 5)),
}
UNIT = UnitMistakes("06_rnn_types", unit06, SIGNATURES, STUDENTS, INPUTS)


test_the_visible_and_the_hidden_tests_name_the_mistake, test_every_catalogued_mistake_is_tested = UNIT.tests()

"""Named mistakes of unit 08: every catalogued mistake, written as a student would write
it, is named by the visible tests and by the hidden tests (see tests/named_mistakes.py)."""

import numpy as np
import torch
from named_mistakes import UnitMistakes

from rnnlab import attention
from rnnlab.mistakes import unit08


def decoder_loop(query="h", cell="h", softmax="attention.masked_softmax(scores, src_mask)",
                 cell_in="decoder.embed(tgt_in[:, t]), c", out_in="h, c"):
    """The solution's loop with one piece replaced: a mistaken attention_decoder_forward."""
    return f"""
        keys = decoder.key(enc_states)
        h, logits, weights = h0, [], []
        for t in range(tgt_in.shape[1]):
            scores = decoder.energy(torch.tanh(decoder.query({query})[:, None] + keys))[..., 0]
            a = {softmax}
            c = torch.bmm(a[:, None], enc_states)[:, 0]
            h = decoder.cell(torch.cat([{cell_in}], dim=-1), {cell})
            logits.append(decoder.out(torch.cat([{out_in}], dim=-1)))
            weights.append(a)
        return torch.stack(logits, dim=1), torch.stack(weights, dim=1)"""


NORMALISE = "\ntotal = e.sum(axis=1, keepdims=True)\nreturn e / np.where(total > 0, total, 1.0)"
STUDENTS = {
    "attention_weights": {
        "mask_ignored": """
            e = np.exp(scores - scores.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)""",
        "masked_after_normalising": """
            e = np.exp(scores - scores.max(axis=1, keepdims=True))
            return np.where(mask, e / e.sum(axis=1, keepdims=True), 0.0)""",
        "softmax_over_batch": """
            real = np.where(mask, scores, -np.inf)
            top = real.max(axis=0, keepdims=True)
            top = np.where(np.isfinite(top), top, 0.0)
            e = np.where(mask, np.exp(real - top), 0.0)
            total = e.sum(axis=0, keepdims=True)
            return e / np.where(total > 0, total, 1.0)""",
        "no_max_shift": "e = np.where(mask, np.exp(scores), 0.0)" + NORMALISE,
        "shift_by_padded_max":
            "e = np.where(mask, np.exp(scores - scores.max(axis=1, keepdims=True)), 0.0)"
            + NORMALISE,
        "empty_row_not_zero": """
            real = np.where(mask, scores, -np.inf)
            e = np.where(mask, np.exp(real - real.max(axis=1, keepdims=True)), 0.0)
            return e / e.sum(axis=1, keepdims=True)""",
    },
    "attention_context": {
        "plain_mean": "return values.mean(axis=1)",
        "unweighted_sum": "return values.sum(axis=1)",
        "summed_over_features": "return (weights[:, :, None] * values).sum(axis=2)",
        "batch_mixed": "return weights @ values",
    },
    "attention_decoder_forward": {
        "mask_ignored": decoder_loop(softmax="torch.softmax(scores, dim=-1)"),
        "query_is_h0": decoder_loop(query="h0"),
        "state_not_carried": decoder_loop(cell="h0"),
        "query_after_step": """
            keys = decoder.key(enc_states)
            h, c, logits, weights = h0, torch.zeros_like(enc_states[:, 0]), [], []
            for t in range(tgt_in.shape[1]):
                h = decoder.cell(torch.cat([decoder.embed(tgt_in[:, t]), c], dim=-1), h)
                scores = decoder.energy(torch.tanh(decoder.query(h)[:, None] + keys))[..., 0]
                a = attention.masked_softmax(scores, src_mask)
                c = torch.bmm(a[:, None], enc_states)[:, 0]
                logits.append(decoder.out(torch.cat([h, c], dim=-1)))
                weights.append(a)
            return torch.stack(logits, dim=1), torch.stack(weights, dim=1)""",
        "cell_input_swapped": decoder_loop(cell_in="c, decoder.embed(tgt_in[:, t])"),
        "output_input_swapped": decoder_loop(out_in="c, h"),
    },
}
SIGNATURES = {"attention_weights": "scores, mask", "attention_context": "weights, values",
              "attention_decoder_forward": "decoder, enc_states, src_mask, h0, tgt_in"}


def decoder_inputs(rng):
    torch.manual_seed(0)
    mask = torch.tensor([[True, True, True], [True, False, False]])
    return [attention.AttentionDecoder(5, 2, 3, 4).double(),
            torch.from_numpy(rng.standard_normal((2, 3, 3))), mask,
            torch.from_numpy(rng.standard_normal((2, 3))), torch.tensor([[1, 2], [3, 4]])]


# The arguments a catalogue is built from, to list its ids.
INPUTS = {"attention_weights": lambda rng: [rng.standard_normal((3, 4)),
                                            np.arange(4)[None] < np.array([[4], [2], [0]])],
          "attention_context": lambda rng: [rng.random((2, 3)), rng.standard_normal((2, 3, 4))],
          "attention_decoder_forward": decoder_inputs}
UNIT = UnitMistakes("08_attention", unit08, SIGNATURES, STUDENTS, INPUTS)


test_the_visible_and_the_hidden_tests_name_the_mistake, test_every_catalogued_mistake_is_tested = UNIT.tests()


def test_the_decoder_catalogue_has_one_list_per_output_with_the_same_mistakes():
    named = unit08.attention_decoder_forward(*decoder_inputs(np.random.default_rng(1)))
    assert [m.id for m in named["logits"]] == [m.id for m in named["weights"]]
    assert {m.answer.shape for m in named["logits"]} == {(2, 2, 5)}
    assert {m.answer.shape for m in named["weights"]} == {(2, 2, 3)}

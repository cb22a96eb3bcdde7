"""Named mistakes of unit 07: every catalogued mistake, written as a student would write
it, is named by the visible tests and by the hidden tests (see tests/named_mistakes.py)."""

import torch
from named_mistakes import UnitMistakes

from rnnlab.apps import sentiment
from rnnlab.apps.common import TableModel
from rnnlab.mistakes import unit07

GREEDY = """
    with torch.no_grad():
        state = model.encode(src)
        N = src.shape[0]
        prev = torch.full((N,), bos, dtype=torch.long)
        out, done = [[] for _ in range(N)], [False] * N
        for _ in range(max_len):
            scores, state = model.step(prev, state)
            prev = scores.argmax(dim=-1)
            for n, token in enumerate(prev.tolist()):
                if not done[n]:
                    if token == eos:
                        done[n] = True
                    else:
                        out[n].append(token)
            if all(done):
                break
    return out"""


def edited(body, *replacements):
    """``body`` with each ``(old, new)`` replaced: a mistake written into a right answer."""
    for old, new in replacements:
        assert old in body, old
        body = body.replace(old, new)
    return body


def greedy(*replacements):
    return edited(GREEDY, *replacements)


TAGS = greedy(("src", "images"), ("max_len", "max_tags"),
              ("bos", "tagging.BOS"),
              ("            prev = scores.argmax(dim=-1)",
               "            scores = scores.clone()\n"
               "            for n in range(N):\n"
               "                scores[n, out[n]] = -torch.inf\n"
               "            prev = scores.argmax(dim=-1)"))


def tags(*replacements):
    return edited(TAGS, *replacements)


CTC = """
    best = log_probs.detach().argmax(dim=-1).tolist()
    out = []
    for n, path in enumerate(best):
        if lengths is not None:
            path = path[:lengths[n]]
        labels, prev = [], None
        for c in path:
            if c != prev and c != blank:
                labels.append(c)
            prev = c
        out.append(labels)
    return out"""


def ctc(old, new):
    return edited(CTC, (old, new))


SENTIMENT = """
    ids = [[vocab.get(w, vocab["<unk>"]) for w in review_data.tokenize(r)] for r in reviews]
    batch = torch.zeros((len(ids), max([1, *map(len, ids)])), dtype=torch.long)
    for n, seq in enumerate(ids):
        batch[n, :len(seq)] = torch.tensor(seq, dtype=torch.long)
    model.eval()
    with torch.no_grad():
        return torch.sigmoid(model(batch)).double().numpy()"""


def scoring(old, new):
    return edited(SENTIMENT, (old, new))


BEAM = """
    out = []
    with torch.no_grad():
        for n in range(src.shape[0]):
            if max_len <= 0:
                out.append([])
                continue
            live, finished = [([], 0.0, model.encode(src[n:n + 1]))], []
            while live and len(finished) < beam:
                candidates = []
                for tokens, total, state in live:
                    prev = torch.tensor([tokens[-1] if tokens else bos])
                    scores, new_state = model.step(prev, state)
                    logp = torch.log_softmax(scores[0].double(), dim=-1).tolist()
                    candidates += [(total + lp, tokens, w, new_state) for w, lp in enumerate(logp)]
                candidates.sort(key=lambda c: -c[0])
                live = []
                for total, tokens, w, state in candidates[:beam]:
                    if w == eos:
                        finished.append((total / (len(tokens) + 1) ** alpha, tokens))
                    elif len(tokens) + 1 >= max_len:
                        finished.append((total / (len(tokens) + 1) ** alpha, [*tokens, w]))
                    else:
                        live.append(([*tokens, w], total, state))
            out.append(max(finished, key=lambda f: f[0])[1])
    return out"""


def beam(old, new):
    return edited(BEAM, (old, new))


STUDENTS = {
    "beam_search_decode": {
        "no_length_normalisation": beam("** alpha", "** 0"),
        "scores_not_log_probabilities": beam(
            "torch.log_softmax(scores[0].double(), dim=-1).tolist()",
            "scores[0].double().tolist()"),
        "greedy_only": beam("candidates[:beam]", "candidates[:1]").replace(
            "len(finished) < beam", "len(finished) < 1"),
    },
    "greedy_decode": {
        "eos_kept": greedy(("                        done[n] = True",
                            "                        done[n] = True\n"
                            "                        out[n].append(token)")),
        "no_stop_at_eos": greedy(("                    if token == eos:\n"
                                  "                        done[n] = True\n"
                                  "                    else:\n"
                                  "                        out[n].append(token)",
                                  "                    if token != eos:\n"
                                  "                        out[n].append(token)")),
        "all_stop_at_first_eos": greedy(("if all(done):", "if any(done):")),
        "prev_not_updated": greedy(("            prev = scores.argmax(dim=-1)\n"
                                    "            for n, token in enumerate(prev.tolist()):",
                                    "            for n, token in enumerate("
                                    "scores.argmax(dim=-1).tolist()):")),
        "max_len_off_by_one": greedy(("range(max_len)", "range(max_len - 1)")),
    },
    "ctc_greedy_decode": {
        "runs_not_merged": ctc("if c != prev and c != blank:", "if c != blank:"),
        "blanks_removed_first": ctc("""        labels, prev = [], None
        for c in path:
            if c != prev and c != blank:
                labels.append(c)
            prev = c""", """        labels = []
        for c in [c for c in path if c != blank]:
            if not labels or c != labels[-1]:
                labels.append(c)"""),
        "blanks_kept": ctc("if c != prev and c != blank:", "if c != prev:"),
        "lengths_ignored": ctc("            path = path[:lengths[n]]", "            pass"),
    },
    "predict_sentiment": {
        "no_sigmoid": scoring("torch.sigmoid(model(batch))", "model(batch)"),
        "unknown_words_dropped": scoring(
            'vocab.get(w, vocab["<unk>"]) for w in review_data.tokenize(r)',
            "vocab[w] for w in review_data.tokenize(r) if w in vocab"),
        "not_lower_cased": scoring("review_data.tokenize(r)", "r.split()"),
    },
    "decode_tags": {
        "repeats_not_masked": greedy(("src", "images"),
                                     ("max_len", "max_tags"), ("bos", "tagging.BOS")),
        "eos_kept": tags(("                        done[n] = True",
                          "                        done[n] = True\n"
                          "                        out[n].append(token)")),
        "all_stop_at_first_eos": tags(("if all(done):", "if any(done):")),
    },
}
SIGNATURES = {"greedy_decode": "model, src, max_len, bos, eos",
              "beam_search_decode": "model, src, max_len, bos, eos, beam=4, alpha=1.0",
              "ctc_greedy_decode": "log_probs, blank, lengths=None",
              "predict_sentiment": "model, reviews, vocab",
              "decode_tags": "model, images, max_tags, eos"}


def _table(rng):
    return TableModel.from_arrows([{1: 5, 5: 3, 3: 2}, {1: 2}], vocab_size=6)


INPUTS = {
    "beam_search_decode": lambda rng: [_table(rng), torch.tensor([[0, 4], [1, 4]]), 5, 1, 2],
    "greedy_decode": lambda rng: [_table(rng), torch.tensor([[0, 4], [1, 4]]), 5, 1, 2],
    "ctc_greedy_decode": lambda rng: [torch.from_numpy(rng.standard_normal((2, 6, 3))), 0,
                                      [6, 3]],
    "predict_sentiment": lambda rng: [sentiment.BagOfWords(3).train(), ["a b", "A"],
                                      {"<pad>": 0, "<unk>": 1, "a": 2}],
    "decode_tags": lambda rng: [_table(rng), torch.tensor([[0], [1]]), 5, 2],
}


UNIT = UnitMistakes("07_applications", unit07, SIGNATURES, STUDENTS, INPUTS)


test_the_visible_and_the_hidden_tests_name_the_mistake, test_every_catalogued_mistake_is_tested = UNIT.tests()

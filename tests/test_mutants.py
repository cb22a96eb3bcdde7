"""The mutation tool (benchmarks/mutants.py) and the share of mutants the visible tests catch.

``test_visible_tests_catch_the_target_share`` runs the tool for real on the units of
``LIVE`` (the cheaper ones; it does not trust their results files) and checks that the run
gives what was recorded. For every unit, ``test_recorded_results_are_current_and_meet_the_target``
checks that its results file was recorded from its exercises and test cells as they are
now, that every exercise reaches the target, and that docs/mutants.md shows it.
"""

import ast
import importlib.util
import json

import nbformat
import pytest
from conftest import ROOT

spec = importlib.util.spec_from_file_location("mutants", ROOT / "benchmarks" / "mutants.py")
mutants = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mutants)

UNITS = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
# Re-run for real each test run (the cheaper units, about a minute together); every unit's
# recorded results are checked against its notebook as it is now.
LIVE = ["01_why_recurrence", "02_rnn_forward", "04_gradient_pathologies"]


def labels(source):
    return {m["label"] for m in mutants.mutants(source)}


def test_each_kind_of_mutation_is_made_inside_the_solution_only():
    source = '''def f(x, W, hs):
    """Docstring 1 + 2."""
    y = 3
    ### BEGIN SOLUTION
    total = 0.5
    for t in range(len(x)):
        total += np.tanh(x[t] @ W.T).sum(axis=-1)
        if t > 1:
            hs[:, t] = x[t] - 2
    return total
    ### END SOLUTION
'''
    found = mutants.mutants(source)
    kinds = {m["label"] for m in found}
    assert {"+= -> =", "tanh(...) removed", ".T removed", "left operand of @ transposed",
            "range argument 0 -1", "range argument 0 +1", "index t -1", "index t +1",
            "> -> >=", "axis=-1 -> axis=0", "0.5 -> 1.0", "- -> +", "dropped right term",
            "@ -> *", "statement deleted"} <= kinds, kinds
    assert all(m["line"] > 4 for m in found), "nothing above ### BEGIN SOLUTION is mutated"
    assert not any(m["label"].startswith("3 ->") for m in found)
    for m in found:
        ast.parse(m["code"])
        assert m["diff"], m
    assert len({m["code"] for m in found}) == len(found), "mutants are distinct"


def test_einsum_indices_are_transposed():
    assert mutants.einsum_transposes("ns,nsh->nh") == [
        "sn,nsh->nh", "ns,snh->nh", "ns,nhs->nh", "ns,nsh->hn"]


def test_a_looping_mutant_is_caught_by_its_timeout_and_the_kernel_restarts(tmp_path):
    def cell(source, grade_id, **flags):
        c = nbformat.v4.new_code_cell(source)
        c.metadata.nbgrader = {"grade_id": grade_id, "grade": False, "solution": False,
                               "locked": False, "schema_version": 3, **flags}
        return c
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3",
                              "language": "python"}
    nb.cells = [
        cell("def count(n):\n    ### BEGIN SOLUTION\n    i = 0\n    while i < n:\n"
             "        i += 1\n    return i\n    ### END SOLUTION", "count", solution=True),
        cell("assert count(3) == 3", "test_count_visible", grade=True),
        cell("assert count(0) == 0\n### BEGIN HIDDEN TESTS\nassert count(5) == 5\n"
             "### END HIDDEN TESTS", "test_count_hidden", grade=True)]
    path = tmp_path / "loop.ipynb"
    nbformat.write(nb, path)
    report = mutants.run_notebook(path, timeout=2)
    rows = {(r["line"], r["diff"].split("=>")[1].strip()): r
            for r in report["exercises"][0]["rows"]}
    assert rows[5, "i = 1"]["visible"] == "timed out after 2 s"  # `+=` became `=`: loops
    assert rows[5, "i = 1"]["equivalent"] is False
    assert rows[5, "i -= 1"]["visible"].startswith("timed out")
    assert rows[4, "while i <= n:"]["visible"] is not None  # caught after the restart
    assert report["exercises"][0]["visible_share"] == 1.0


@pytest.fixture(scope="module")
def reports():
    return {unit: mutants.run_unit(unit, timeout=60) for unit in LIVE}


def missed(exercise: dict) -> str:
    return "\n".join(f"line {r['line']} {r['label']}: {r['diff']}" for r in exercise["rows"]
                     if r["visible"] is None and not r["equivalent"])


@pytest.mark.parametrize("unit", LIVE)
def test_visible_tests_catch_the_target_share(unit, reports):
    for exercise in reports[unit]["exercises"]:
        assert exercise["mutants"] >= 8, exercise["exercise"]
        assert exercise["visible_share"] >= mutants.TARGET, (
            f"{unit} {exercise['exercise']}: visible tests catch "
            f"{100 * exercise['visible_share']:.1f}%; they miss:\n" + missed(exercise))


@pytest.mark.parametrize("unit", LIVE)
def test_a_live_run_gives_the_recorded_results(unit, reports):
    recorded = json.loads((mutants.RESULTS / f"mutants-{unit}.json").read_text())
    summary = ["exercise", "fingerprint", "mutants", "equivalent", "caught_by_visible"]
    now = [{k: e[k] for k in summary} for e in reports[unit]["exercises"]]
    then = [{k: e[k] for k in summary} for e in recorded["exercises"]]
    assert then == now, f"re-run `python benchmarks/mutants.py {unit}` and commit the results"


@pytest.mark.parametrize("unit", UNITS)
def test_recorded_results_are_current_and_meet_the_target(unit):
    """Every unit's results file was recorded from its exercises and test cells as they are
    now (the fingerprints), reaches the target, and is the table docs/mutants.md shows."""
    recorded = json.loads((mutants.RESULTS / f"mutants-{unit}.json").read_text())
    nb = nbformat.read(ROOT / "solutions" / unit / f"{unit}.ipynb", as_version=4)
    now = {e["id"]: mutants.fingerprint(nb, e) for e in mutants.exercises(nb)}
    then = {e["exercise"]: e["fingerprint"] for e in recorded["exercises"]}
    assert then == now, f"re-run `python benchmarks/mutants.py {unit}` and commit the results"
    for exercise in recorded["exercises"]:
        assert exercise["visible_share"] >= mutants.TARGET, (
            f"{unit} {exercise['exercise']}: {100 * exercise['visible_share']:.1f}%; the "
            "visible tests miss:\n" + missed(exercise))
    assert mutants.table(recorded) in (ROOT / "docs" / "mutants.md").read_text()

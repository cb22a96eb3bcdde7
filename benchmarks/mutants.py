"""Mutation testing of a unit's exercises: how many wrong solutions do the visible tests catch?

For each exercise (an nbgrader solution cell) this makes single-point mutants of the code
between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` with :mod:`ast`: operator swaps
(``+ - * / @``), comparison swaps, a statement deleted, ``.T`` added to or removed from a
matrix product's operand, two adjacent indices of an ``einsum`` operand swapped, a term
dropped from a sum, a call such as ``np.tanh`` or ``np.exp`` removed, an index or
``range`` bound off by one, ``+=`` become ``=``, a numeric constant changed and an
``axis=`` (``dim=``) changed. It executes the solution notebook once (fast mode) in one kernel, then
for each mutant defines the mutated cell, runs the visible part of the exercise's test
cells (what the student's release holds: everything above ``### BEGIN HIDDEN TESTS``),
then, if they passed, the whole test cells, and finally defines the original cell again.
Only one exercise is mutated at a time; later exercises may call earlier ones.

A mutant that passes every test, hidden ones included, is listed as probably equivalent
(a human should check) and left out of the visible share's denominator. A mutant that runs
longer than ``--timeout`` seconds counts as caught; the kernel is restarted and the notebook
executed again.

    python benchmarks/mutants.py [UNIT ...] [--timeout 30]

writes ``benchmarks/results/mutants-<unit>.json`` per unit, prints the table and rewrites
``docs/mutants.md`` from every results file. It exits 1 if an exercise it ran is below the
target share.
"""

from __future__ import annotations

import argparse
import ast
import copy
import hashlib
import json
import os
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
HIDDEN = "### BEGIN HIDDEN TESTS"
TARGET = 0.97

OPERATORS = [ast.Add, ast.Sub, ast.Mult, ast.Div, ast.MatMult]
COMPARISONS = {ast.Lt: [ast.LtE, ast.Gt], ast.LtE: [ast.Lt, ast.GtE], ast.Gt: [ast.GtE, ast.Lt],
               ast.GtE: [ast.Gt, ast.LtE], ast.Eq: [ast.NotEq], ast.NotEq: [ast.Eq],
               ast.Is: [ast.IsNot], ast.IsNot: [ast.Is], ast.In: [ast.NotIn],
               ast.NotIn: [ast.In]}
# Calls replaced by their first argument ("removed nonlinearity" and kin).
NONLINEAR = {"tanh", "exp", "log", "sqrt", "sigmoid", "relu", "abs", "softmax", "log_softmax",
             "log1p", "expm1", "maximum", "minimum", "clip", "copy", "flip"}
AXES = [0, 1, 2, -1, -2]
DELETE = object()  # a mutation that deletes the statement


# ---------------------------------------------------------------- the notebook's parts

def solution_region(source: str) -> tuple[int, int]:
    """First and last line (1-based) of the solution between the nbgrader markers."""
    lines = source.splitlines()
    begin = [i for i, line in enumerate(lines, 1) if "### BEGIN SOLUTION" in line]
    end = [i for i, line in enumerate(lines, 1) if "### END SOLUTION" in line]
    return (begin[0], end[0]) if begin and end else (1, len(lines))


def exercises(nb) -> list[dict]:
    """Each solution cell with its index, source and its test cells (``test_<id>...``)."""
    found = []
    for index, cell in enumerate(nb.cells):
        grading = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and grading.get("solution") and not grading.get("grade"):
            exercise = grading["grade_id"]
            tests = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"
                     and c.metadata.get("nbgrader", {}).get("grade")
                     and c.metadata.nbgrader["grade_id"].startswith(f"test_{exercise}")]
            found.append({"id": exercise, "index": index, "source": cell.source,
                          "tests": tests})
    return found


def visible_part(source: str) -> str:
    return source.split(HIDDEN)[0]


# ------------------------------------------------------------------------ the mutants

class Sites(ast.NodeVisitor):
    """Every single-point mutation of the nodes inside the solution region.

    Each mutation is ``(label, path, replacement)``: ``path`` locates the node in the tree
    (field names and list indices from the module), ``replacement`` builds the new node.
    """

    def __init__(self, lines: tuple[int, int]):
        self.lines = lines
        self.found: list[tuple[str, tuple, object]] = []
        self.path: tuple = ()
        self.no_constants = 0

    def inside(self, node) -> bool:
        line = getattr(node, "lineno", None)
        return line is not None and self.lines[0] < line < self.lines[1]

    def add(self, label, node_factory):
        self.found.append((label, self.path, node_factory))

    def generic_visit(self, node):
        for field, value in ast.iter_fields(node):
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, ast.AST):
                        if isinstance(item, ast.stmt) and len(value) > 1 and self.inside(item) \
                                and not isinstance(item, ast.Return):
                            self.found.append(("statement deleted", (*self.path, (field, i)),
                                               lambda n: DELETE))
                        self.descend(item, (field, i))
            elif isinstance(value, ast.AST):
                self.descend(value, (field,))

    def descend(self, node, step):
        saved = self.path
        self.path = (*saved, step)
        if isinstance(node, ast.Expr) and isinstance(getattr(node, "value", None), ast.Constant) \
                and isinstance(node.value.value, str):
            self.path = saved  # a docstring: nothing to mutate
            return
        self.visit(node)
        self.path = saved

    # ---- expressions
    def visit_BinOp(self, node):
        if self.inside(node) and type(node.op) in OPERATORS:
            for op in OPERATORS:
                if op is not type(node.op):
                    self.add(f"{sym(node.op)} -> {sym(op())}",
                             lambda n, op=op: ast.BinOp(n.left, op(), n.right))
            if isinstance(node.op, (ast.Add, ast.Sub)):
                self.add("dropped right term", lambda n: n.left)
                self.add("dropped left term", lambda n: n.right)
            if isinstance(node.op, ast.MatMult):
                for side in ("left", "right"):
                    operand = getattr(node, side)
                    if isinstance(operand, ast.Attribute) and operand.attr == "T":
                        continue
                    self.add(f"{side} operand of @ transposed",
                             lambda n, side=side: ast.BinOp(**{
                                 "left": n.left, "right": n.right, "op": n.op,
                                 side: ast.Attribute(getattr(n, side), "T", ast.Load())}))
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        if self.inside(node):
            self.add(f"{sym(node.op)}= -> =", lambda n: ast.Assign([n.target], n.value))
            for op in OPERATORS:
                if op is not type(node.op):
                    self.add(f"{sym(node.op)}= -> {sym(op())}=",
                             lambda n, op=op: ast.AugAssign(n.target, op(), n.value))
        self.generic_visit(node)

    def visit_Compare(self, node):
        if self.inside(node):
            for i, op in enumerate(node.ops):
                for new in COMPARISONS.get(type(op), []):
                    self.add(f"{sym(op)} -> {sym(new())}", lambda n, i=i, new=new: ast.Compare(
                        n.left, [new() if j == i else o for j, o in enumerate(n.ops)],
                        n.comparators))
        self.generic_visit(node)

    def visit_Attribute(self, node):
        if self.inside(node) and node.attr == "T" and isinstance(node.ctx, ast.Load):
            self.add(".T removed", lambda n: n.value)
        self.generic_visit(node)

    def visit_UnaryOp(self, node):
        if self.inside(node) and isinstance(node.op, (ast.USub, ast.Not)):
            self.add(f"{sym(node.op)} removed", lambda n: n.operand)
        self.generic_visit(node)

    def visit_Call(self, node):
        name = node.func.attr if isinstance(node.func, ast.Attribute) else \
            getattr(node.func, "id", "")
        if self.inside(node):
            if name in NONLINEAR and len(node.args) >= 1 and not node.keywords:
                self.add(f"{name}(...) removed", lambda n: n.args[0])
            if name == "einsum" and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str):
                for spec in einsum_transposes(node.args[0].value):
                    self.add(f"einsum {node.args[0].value!r} -> {spec!r}", lambda n, spec=spec:
                             ast.Call(n.func, [ast.Constant(spec), *n.args[1:]], n.keywords))
            if name == "range":
                for i in range(len(node.args)):
                    for delta in (-1, 1):
                        self.add(f"range argument {i} {delta:+d}", lambda n, i=i, d=delta: ast.Call(
                            n.func, [shift(a, d) if j == i else a for j, a in enumerate(n.args)],
                            n.keywords))
            for i, keyword in enumerate(node.keywords):
                if keyword.arg in ("axis", "dim") and isinstance(keyword.value,
                                                                (ast.Constant, ast.UnaryOp)):
                    current = ast.literal_eval(keyword.value)
                    for axis in [a for a in AXES if a != current] + [None]:
                        label = f"{keyword.arg}={current} -> {keyword.arg}={axis}"
                        self.add(label, lambda n, i=i, a=axis: ast.Call(
                            n.func, n.args, [ast.keyword(k.arg, ast.Constant(a)) if j == i else k
                                             for j, k in enumerate(n.keywords)]))
        axes = any(k.arg in ("axis", "dim") for k in node.keywords)  # changed above
        self.no_constants += axes
        self.generic_visit(node)
        self.no_constants -= axes

    def visit_Subscript(self, node):
        if self.inside(node):
            for label, path in index_names(node.slice):
                for delta in (-1, 1):
                    self.add(f"index {label} {delta:+d}", lambda n, p=path, d=delta:
                             ast.Subscript(n.value, replace(n.slice, p, shift(get(n.slice, p), d)),
                                           n.ctx))
        self.no_constants += 1
        self.generic_visit(node)
        self.no_constants -= 1

    def visit_Constant(self, node):
        value = node.value
        if self.inside(node) and not self.no_constants and not isinstance(value, (str, bytes)) \
                and value is not None and value is not Ellipsis:
            if isinstance(value, bool):
                self.add(f"{value} -> {not value}", lambda n: ast.Constant(not n.value))
            elif isinstance(value, int):
                for new in sorted({value + 1, value - 1, 0} - {value}):
                    self.add(f"{value} -> {new}", lambda n, v=new: ast.Constant(v))
            elif isinstance(value, float):
                for new in ([1.0] if value == 0 else [value * 2, value / 2, 0.0]):
                    self.add(f"{value!r} -> {new!r}", lambda n, v=new: ast.Constant(v))
        self.generic_visit(node)


def einsum_transposes(spec: str) -> list[str]:
    """``spec`` with two adjacent indices of one operand (or of the output) swapped."""
    inputs, arrow, output = spec.replace(" ", "").partition("->")
    terms = [*inputs.split(","), *([output] if arrow else [])]
    found = []
    for i, term in enumerate(terms):
        for j in range(len(term) - 1):
            swapped = term[:j] + term[j + 1] + term[j] + term[j + 2:]
            new = [*terms[:i], swapped, *terms[i + 1:]]
            found.append(",".join(new[:len(inputs.split(","))]) + (f"->{new[-1]}" if arrow else ""))
    return found


def index_names(slice_node) -> list[tuple[str, tuple]]:
    """Names and integer constants used as (parts of) an index, with their paths."""
    found = []
    elements = slice_node.elts if isinstance(slice_node, ast.Tuple) else [slice_node]
    prefix = ("elts",) if isinstance(slice_node, ast.Tuple) else ()
    for i, element in enumerate(elements):
        path = prefix + ((i,) if prefix else ())
        parts = [(element, path)]
        if isinstance(element, ast.Slice):
            parts = [(getattr(element, f), (*path, f)) for f in ("lower", "upper")
                     if getattr(element, f) is not None]
        for part, part_path in parts:
            if isinstance(part, (ast.Name, ast.BinOp)) or (
                    isinstance(part, ast.Constant) and isinstance(part.value, int)) or (
                    isinstance(part, ast.UnaryOp) and isinstance(part.operand, ast.Constant)):
                found.append((ast.unparse(part), part_path))
    return found


def get(node, path):
    for step in path:
        node = node[step] if isinstance(step, int) else getattr(node, step)
    return node


def replace(node, path, new):
    if not path:
        return new
    node = copy.deepcopy(node)
    parent = get(node, path[:-1])
    last = path[-1]
    if isinstance(last, int):
        parent[last] = new
    else:
        setattr(parent, last, new)
    return node


def shift(node, delta):
    return ast.BinOp(node, ast.Add() if delta > 0 else ast.Sub(), ast.Constant(abs(delta)))


def sym(op) -> str:
    return {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.MatMult: "@",
            ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==",
            ast.NotEq: "!=", ast.Is: "is", ast.IsNot: "is not", ast.In: "in",
            ast.NotIn: "not in", ast.USub: "unary -", ast.Not: "not"}[type(op)]


def mutants(source: str) -> list[dict]:
    """Every distinct single-point mutant of the solution region of ``source``."""
    tree = ast.parse(source)
    sites = Sites(solution_region(source))
    sites.visit(tree)
    original = ast.unparse(tree)
    seen, found = {original}, []
    for label, path, factory in sites.found:
        mutated = copy.deepcopy(tree)
        parent = get(mutated, [s for step in path[:-1] for s in step])
        step = path[-1]
        old = get(parent, step)
        new = factory(copy.deepcopy(old))
        if new is DELETE:
            del getattr(parent, step[0])[step[1]]
        elif len(step) == 2:
            getattr(parent, step[0])[step[1]] = new
        else:
            setattr(parent, step[0], new)
        code = ast.unparse(ast.fix_missing_locations(mutated))
        if code in seen:
            continue
        seen.add(code)
        line = old.lineno if hasattr(old, "lineno") else 0
        found.append({"label": label, "line": line, "where": source.splitlines()[line - 1].strip()
                      if line else "", "code": code,
                      "diff": first_difference(original, code)})
    return found


def first_difference(original: str, mutated: str) -> str:
    for a, b in zip(original.splitlines(), mutated.splitlines()):
        if a != b:
            return f"{a.strip()}  =>  {b.strip()}"
    return ""


# ----------------------------------------------------------------------- the kernel

class Kernel:
    """One kernel that has executed the notebook; restarted when a cell times out."""

    def __init__(self, path: Path, timeout: float):
        self.path, self.timeout = path, timeout
        self.stack: ExitStack | None = None
        self.start()

    def start(self):
        self.nb = nbformat.read(self.path, as_version=4)
        self.client = NotebookClient(self.nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(self.path.parent)}})
        self.stack = ExitStack()
        self.stack.enter_context(self.client.setup_kernel())
        for index, cell in enumerate(self.nb.cells):
            if cell.cell_type == "code":
                self.client.execute_cell(cell, index)
        self.client.timeout = self.timeout
        self.nb.cells.append(nbformat.v4.new_code_cell(""))  # where mutants and tests run

    def close(self):
        if self.stack is not None:
            self.stack.close()
            self.stack = None

    def run(self, source: str) -> str | None:
        """None if ``source`` ran without an error; else the error's last line."""
        cell = nbformat.v4.new_code_cell(source)
        try:
            self.client.execute_cell(cell, len(self.nb.cells) - 1)
        except CellTimeoutError:
            self.close()
            self.start()
            return f"timed out after {self.timeout} s"
        except CellExecutionError as error:
            lines = [line for line in str(error).strip().splitlines() if line.strip()]
            return lines[-1][:300] if lines else "error"
        return None


def fingerprint(nb, exercise: dict) -> str:
    """Hash of what the result depends on: the exercise's solution and test cells."""
    digest = hashlib.sha256(exercise["source"].encode())
    for _, cell in exercise["tests"]:
        digest.update(cell.source.encode())
    return digest.hexdigest()[:16]


def run_unit(unit: str, timeout: float) -> dict:
    """The mutation report of ``solutions/<unit>``, as written to the results file."""
    return run_notebook(ROOT / "solutions" / unit / f"{unit}.ipynb", timeout)


def run_notebook(path: Path, timeout: float) -> dict:
    """Mutate each exercise of the instructor's notebook at ``path`` and run its tests."""
    os.environ["RNNLAB_FAST"] = "1"
    nb = nbformat.read(path, as_version=4)
    started = time.time()
    kernel = Kernel(path, timeout)
    results = []
    try:
        for exercise in exercises(nb):
            visible = [visible_part(c.source) for _, c in exercise["tests"]]
            full = [c.source for _, c in exercise["tests"]]
            if (problem := kernel.run("\n".join(visible))) is not None:
                raise RuntimeError(f"{exercise['id']}: the solution fails its tests: {problem}")
            rows = []
            for mutant in mutants(exercise["source"]):
                caught = kernel.run(mutant["code"]) or next(
                    (e for e in map(kernel.run, visible) if e), None)
                hidden = None if caught else next((e for e in map(kernel.run, full) if e), None)
                rows.append({**{k: mutant[k] for k in ("label", "line", "diff")},
                             "visible": caught, "hidden": hidden,
                             "equivalent": not caught and not hidden})
                if (problem := kernel.run(exercise["source"])) is not None:
                    raise RuntimeError(f"{exercise['id']}: the original cell fails: {problem}")
            n = len(rows)
            eq = sum(r["equivalent"] for r in rows)
            vis = sum(r["visible"] is not None for r in rows)
            results.append({"exercise": exercise["id"], "fingerprint": fingerprint(nb, exercise),
                            "mutants": n, "equivalent": eq, "caught_by_visible": vis,
                            "caught_only_by_hidden": n - eq - vis,
                            "visible_share": vis / (n - eq) if n > eq else 1.0,
                            "rows": rows})
    finally:
        kernel.close()
    return {"unit": path.stem, "seconds": round(time.time() - started, 1), "timeout": timeout,
            "target": TARGET, "exercises": results}


def table(report: dict) -> str:
    lines = [f"### {report['unit']}", "",
             "| exercise | mutants | probably equivalent | caught by visible | caught only by "
             "hidden | visible share |", "|---|---|---|---|---|---|"]
    for e in report["exercises"]:
        lines.append(f"| `{e['exercise']}` | {e['mutants']} | {e['equivalent']} | "
                     f"{e['caught_by_visible']} | {e['caught_only_by_hidden']} | "
                     f"{100 * e['visible_share']:.1f}% |")
    missed = [(e["exercise"], r) for e in report["exercises"] for r in e["rows"]
              if r["visible"] is None]
    for title, keep in [("Missed by the visible tests, caught by hidden ones",
                         lambda r: not r["equivalent"]),
                        ("Probably equivalent (pass every test; check by hand)",
                         lambda r: r["equivalent"])]:
        chosen = [(x, r) for x, r in missed if keep(r)]
        if chosen:
            lines += ["", f"{title}:", ""]
            lines += [f"- `{x}` line {r['line']}, {r['label']}: `{r['diff']}`" for x, r in chosen]
    return "\n".join(lines)


DOCS_HEAD = """# Mutation testing: do the visible tests catch wrong solutions?

Written by `python benchmarks/mutants.py [UNIT ...]` from `benchmarks/results/mutants-*.json`;
do not edit by hand. How the mutants are made and run: the docstring of
`benchmarks/mutants.py`. A mutant is **caught by visible** when the student's release
(the `_visible` cell and the part of the `_hidden` cell above the hidden tests) fails on
it; **caught only by hidden** when only the graded hidden tests fail; **probably
equivalent** when every test passes (a human should check that it computes the same
thing); these are left out of the **visible share**, the caught-by-visible fraction of the
rest. Target: at least {target:.0f}% for every exercise. `tests/test_mutants.py` re-runs
the units it names and fails if an exercise drops below the target.
"""


def write_docs(path: Path) -> None:
    reports = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("mutants-*.json"))]
    parts = [DOCS_HEAD.format(target=100 * TARGET)]
    below = [f"`{r['unit']}` `{e['exercise']}` ({100 * e['visible_share']:.1f}%)"
             for r in reports for e in r["exercises"] if e["visible_share"] < TARGET]
    parts.append("Below the target: " + (", ".join(below) if below else "none") + ".\n")
    for report in reports:
        parts.append(table(report) + f"\n\n(recorded in {report['seconds']} s, per-cell "
                     f"timeout {report['timeout']:g} s)\n")
    path.write_text("\n".join(parts))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("units", nargs="*")
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    units = args.units or sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
    RESULTS.mkdir(parents=True, exist_ok=True)
    below = 0
    for unit in units:
        report = run_unit(unit, args.timeout)
        (RESULTS / f"mutants-{unit}.json").write_text(json.dumps(report, indent=1) + "\n")
        print(table(report), flush=True)
        print(f"({report['seconds']} s)\n", flush=True)
        below += sum(e["visible_share"] < TARGET for e in report["exercises"])
        write_docs(ROOT / "docs" / "mutants.md")
    return 1 if below else 0


if __name__ == "__main__":
    sys.exit(main())

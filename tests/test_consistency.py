"""Every unit looks and behaves alike: one plot style, tqdm progress bars for training.

Only what can be checked statically and honestly: the source of the solution notebooks
(the single source of every unit) and of the library, read with ``ast``. The browser test
(tests/test_browser.py) checks that the bars and figures actually render.
"""

from __future__ import annotations

import ast
import re

import nbformat
import pytest
from conftest import ROOT, UNITS

LIBRARY = sorted((ROOT / "rnnlab").rglob("*.py"))


def solution(unit):
    return nbformat.read(ROOT / "solutions" / unit / f"{unit}.ipynb", as_version=4)


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def parse(source: str) -> ast.Module:
    """A cell's code without IPython magics or shell lines."""
    return ast.parse("\n".join("" if line.lstrip().startswith(("%", "!")) else line
                               for line in source.splitlines()))


def calls(tree: ast.AST) -> list[str]:
    """Dotted names of everything called in ``tree`` (``plots.use_style``, ``tqdm``)."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            names.append(ast.unparse(node.func))
    return names


def imports(tree: ast.AST) -> set[str]:
    """``module:name`` for every ``from module import name``; ``module`` for ``import``."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found |= {f"{node.module}:{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


@pytest.mark.parametrize("unit", UNITS)
def test_setup_cell_sets_the_course_style_and_seeds(unit):
    setup = code_cells(solution(unit))[0]
    meta = setup.metadata.get("nbgrader", {})
    assert meta.get("grade_id") == "setup" and meta.get("locked"), \
        "the first code cell must be the locked setup cell"
    tree = parse(setup.source)
    assert "rnnlab:plots" in imports(tree), "setup must import `from rnnlab import plots`"
    assert "plots.use_style" in calls(tree), "setup must call plots.use_style()"
    assert "np.random.default_rng" in calls(tree), "setup must seed a NumPy generator"
    if "torch" in imports(tree):
        assert "torch.manual_seed" in calls(tree), "setup imports torch: seed it"


STYLE_CHANGES = re.compile(r"^(plt\.style\.use|matplotlib\.style\.use|mpl\.style\.use|plt\.rc|"
                           r"matplotlib\.rc|mpl\.rc|plt\.rcParams\.update|mpl\.rcParams\.update|"
                           r"matplotlib\.rcParams\.update|sns\.set\w*|seaborn\.set\w*|plt\.show|"
                           r"plt\.xkcd)$")


@pytest.mark.parametrize("unit", UNITS)
def test_no_cell_changes_the_style_or_calls_show(unit):
    """The style is set once (plots.use_style); figures are shown by the `;`-ended line."""
    for index, cell in enumerate(solution(unit).cells):
        if cell.cell_type != "code":
            continue
        tree = parse(cell.source)
        bad = [name for name in calls(tree) if STYLE_CHANGES.match(name)]
        bad += [ast.unparse(node) for node in ast.walk(tree)
                if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store)
                and "rcParams" in ast.unparse(node.value)]
        assert not bad, f"cell {index} changes the plot style or calls show(): {bad}"


def tqdm_imports(tree):
    return {name for name in imports(tree) if name.split(":")[0].split(".")[0] == "tqdm"}


@pytest.mark.parametrize("unit", UNITS)
def test_progress_bars_come_from_tqdm_auto(unit):
    """tqdm.auto draws a notebook widget bar in Jupyter and a text bar elsewhere; plain
    `tqdm` prints text into the notebook and `tqdm.notebook` breaks outside Jupyter."""
    cells = code_cells(solution(unit))
    setup = parse(cells[0].source)
    for index, cell in enumerate(cells):
        tree = parse(cell.source)
        assert tqdm_imports(tree) <= {"tqdm.auto:tqdm", "tqdm.auto:trange"}, \
            f"code cell {index} imports {tqdm_imports(tree)}; use `from tqdm.auto import tqdm`"
        if index and tqdm_imports(tree):
            pytest.fail(f"code cell {index} imports tqdm: imports belong in the setup cell")
        if any(name in ("tqdm", "trange") for name in calls(tree)):
            assert tqdm_imports(setup), "a cell uses tqdm but the setup cell does not import it"


def steps_names(tree):
    """Names assigned from rnnlab.steps(...) in a cell (``n = rnnlab.steps(...)``)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and "rnnlab.steps(" in ast.unparse(node.value):
            for target in node.targets:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


@pytest.mark.parametrize("unit", UNITS)
def test_training_loops_in_notebooks_show_a_progress_bar(unit):
    """A `for` loop in a notebook over range(<a length from rnnlab.steps>) is a training loop
    (its length depends on fast mode): it must be wrapped in tqdm."""
    for index, cell in enumerate(code_cells(solution(unit))):
        tree = parse(cell.source)
        lengths = steps_names(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.For):
                continue
            iterable = ast.unparse(node.iter)
            ranges = re.findall(r"range\(([^()]*(?:\([^()]*\))?[^()]*)\)", iterable)
            if any("rnnlab.steps(" in r or r.strip() in lengths for r in ranges):
                assert re.search(r"\b(tqdm|trange)\(", iterable), (
                    f"code cell {index}: `for ... in {iterable}` trains for rnnlab.steps(...) "
                    "steps without a progress bar")


def library_functions():
    """(module, function node) for every top-level function of rnnlab."""
    for path in LIBRARY:
        module = path.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".")
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef):
                yield module, node


def test_library_imports_tqdm_auto_only():
    for path in LIBRARY:
        found = tqdm_imports(ast.parse(path.read_text()))
        assert found <= {"tqdm.auto:tqdm", "tqdm.auto:trange"}, f"{path.name} imports {found}"


TRAINERS = [(m, f.name) for m, f in library_functions()
            if re.fullmatch(r"(train\w*|fit)", f.name)]
# Found by this test when it was written; each is a defect to fix in the library.
KNOWN: dict[str, str] = {}  # "module.function": why it has no bar yet (a strict xfail)


def shows_bar(node, functions, seen=frozenset()):
    """Does ``node`` call tqdm, or an rnnlab function (by name) that does?"""
    called = {c.split(".")[-1] for c in calls(node)}
    return bool(called & {"tqdm", "trange"}) or any(
        shows_bar(functions[c], functions, seen | {node.name})
        for c in called - seen - {node.name} if c in functions)


@pytest.mark.parametrize(("module", "name"), [
    pytest.param(m, n, marks=pytest.mark.xfail(reason=KNOWN[f"{m}.{n}"], strict=True))
    if f"{m}.{n}" in KNOWN else (m, n) for m, n in TRAINERS], ids=[f"{m}.{n}" for m, n in TRAINERS])
def test_library_training_functions_show_a_progress_bar(module, name):
    """Every train*/fit function of rnnlab draws a tqdm bar, itself, through another rnnlab
    function that does, or because every rnnlab caller loops over it inside a bar."""
    functions = {f.name: f for _m, f in library_functions()}
    node = next(f for m, f in library_functions() if (m, f.name) == (module, name))
    if shows_bar(node, functions):
        return
    short = module.rsplit(".", 1)[-1]
    callers = [f for m, f in library_functions()
               if any(c == f"{short}.{name}" or (c == name and m == module) for c in calls(f))]
    assert callers and all(shows_bar(f, functions) for f in callers), (
        f"{module}.{name} trains without a progress bar: wrap its loop in tqdm.auto.tqdm "
        "(with a `progress` switch if it is also called in loops or timed)")

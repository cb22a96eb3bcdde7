"""What the grader knows about the course, declared here rather than read off file paths.

* The **course library** is the package :data:`COURSE_LIBRARY` (``rnnlab``) less the
  grader itself (:data:`GRADER`). A function defined in one of its modules and named like
  one of a unit's exercises is the course's own answer to that exercise
  (:func:`answer_modules` finds them); while the unit is graded the worker makes them
  raise :data:`ANSWER_USED` (:func:`rnnlab.grader.worker.hide_answers`).
* The **named-mistake catalogues** (:data:`CATALOGUES`, ``rnnlab.mistakes.unit02`` ...) are
  for the grader's test cells only, and some of their helpers give the right answer with
  no mistake switched on: while any unit is graded, every function they define is hidden
  like an answer (:func:`catalogue_modules`).
* **Messages written for students**: an assertion's own message, the student's function
  raising, and a ``ValueError`` or ``TypeError`` raised inside the course library (its
  input checks name the argument, what it got and what was expected). Feedback on a
  hidden test shows those and nothing else (:func:`rnnlab.grader.runner.failure_message`).

Modules are told apart by their ``__name__``, so moving a file changes nothing here.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

COURSE_LIBRARY = "rnnlab"
GRADER = "rnnlab.grader"
ANSWER_USED = "AnswerUsed"  # the error type of a call that used the course's own answer
CATALOGUES = "rnnlab.mistakes"  # its submodules are hidden whole while grading


def is_course_library(module: object) -> bool:
    """True for the name of a module of the course library (``rnnlab.reference``), False
    for the grader's own modules, a notebook's ``__main__`` and everything else."""
    if not isinstance(module, str):
        return False
    inside = module == COURSE_LIBRARY or module.startswith(COURSE_LIBRARY + ".")
    return inside and not (module == GRADER or module.startswith(GRADER + "."))


def answer_modules(exercises: list[str]) -> list[str]:
    """Names of the course library's modules whose source defines a function named like one
    of ``exercises`` (read from the source text, nothing imported)."""
    names = [n for n in exercises if n.isidentifier()]
    spec = importlib.util.find_spec(COURSE_LIBRARY)
    if not names or spec is None or not spec.submodule_search_locations:
        return []
    root = Path(next(iter(spec.submodule_search_locations)))
    pattern = re.compile(rf"^def ({'|'.join(map(re.escape, names))})\(", re.M)
    found = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if is_course_library(module) and pattern.search(path.read_text(errors="replace")):
            found.append(module)
    return found


def is_catalogue(module: str) -> bool:
    """True for a named-mistake catalogue (a submodule of :data:`CATALOGUES`)."""
    return module.startswith(CATALOGUES + ".")


def catalogue_modules() -> list[str]:
    """Names of the catalogue modules (found by file name, nothing imported)."""
    spec = importlib.util.find_spec(CATALOGUES)
    if spec is None or not spec.submodule_search_locations:
        return []
    folder = Path(next(iter(spec.submodule_search_locations)))
    return [f"{CATALOGUES}.{p.stem}" for p in sorted(folder.glob("*.py"))
            if p.stem != "__init__"]

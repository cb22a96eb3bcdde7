"""What the grader knows about the course, declared here rather than read off file paths.

* The **course library** is the package :data:`COURSE_LIBRARY` (``rnnlab``) less the
  grader itself (:data:`GRADER`). A function defined in one of its modules and named like
  one of a unit's exercises is the course's own answer to that exercise: a submission
  that calls it fails that exercise's tests (:class:`rnnlab.grader.worker.AnswerWatch`).
* **Messages written for students**: an assertion's own message, the student's function
  raising, and a ``ValueError`` or ``TypeError`` raised inside the course library (its
  input checks name the argument, what it got and what was expected). Feedback on a
  hidden test shows those and nothing else (:func:`rnnlab.grader.runner.failure_message`).

Modules are told apart by their ``__name__``, so moving a file changes nothing here.
"""

from __future__ import annotations

COURSE_LIBRARY = "rnnlab"
GRADER = "rnnlab.grader"
ANSWER_USED = "AnswerUsed"  # the error type of a call that used the course's own answer


def is_course_library(module: object) -> bool:
    """True for the name of a module of the course library (``rnnlab.reference``), False
    for the grader's own modules, a notebook's ``__main__`` and everything else."""
    if not isinstance(module, str):
        return False
    inside = module == COURSE_LIBRARY or module.startswith(COURSE_LIBRARY + ".")
    return inside and not (module == GRADER or module.startswith(GRADER + "."))

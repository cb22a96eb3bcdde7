"""nbgrader configuration of the course: run nbgrader from this folder.

solutions/<unit>/<unit>.ipynb is the instructor source; notebooks/<unit>/ is the
student release that `nbgrader generate_assignment <unit> --force` writes.
"""

import os

c = get_config()  # noqa: F821 (nbgrader provides it)

# The course folder is the one holding this file, wherever it was cloned.
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"

# Every notebook keeps the course's kernel.
c.Execute.kernel_name = "python3"
# A unit runs in under 90 s in fast mode (nbgrader sets NBGRADER_EXECUTION, which
# rnnlab.fast_mode() reads); one cell may take a third of that budget, twice over.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True

# Tests a student deleted are put back from the source when grading.
c.OverwriteCells.add_missing_cells = True

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.begin_solution_delimeter = "BEGIN SOLUTION"
c.ClearSolutions.end_solution_delimeter = "END SOLUTION"

"""The autograder behind ``rnnlab check`` and ``rnnlab grade``: a tool, not course material.

Nothing in the course library imports it. One module per role:

================  ==========================================================================
``course``        what the grader knows about the course: its library, the course's answers,
                  messages written for students (declared, not read off file paths)
``collect``       a class's submissions from folders or an LMS zip
``spec``          what grading takes from the instructor's notebook: setup, tests, exercises
``sandbox``       the bubblewrap sandbox and the grader's handle on a worker process
``host``          what a sandbox takes from the host: its scratch folder, its process cap
``worker``        the process inside the sandbox that runs a submission's cells and calls
``protocol``      the framed messages between grader and worker, with deadlines
``codec``         the values in them, as plain data (no pickles from the worker)
``runner``        running the instructor's tests against a submission: one notebook graded
``feedback``      what a student reads: ``rnnlab check`` lines, feedback pages
``results``       what an instructor exports: ``grades.csv``, ``report.json``
``class_report``  the class at a glance: score histogram, pass rates, named mistakes
``classroom``     a whole class: collect, grade in parallel, write feedback and results
``cli``           the ``rnnlab`` command
================  ==========================================================================
"""

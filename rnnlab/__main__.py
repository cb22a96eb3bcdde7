"""``python -m rnnlab check NOTEBOOK`` and ``python -m rnnlab grade UNIT SUBMISSIONS``."""

import sys

from rnnlab.grader.cli import main

if __name__ == "__main__":
    sys.exit(main())

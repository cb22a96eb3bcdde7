"""Shared fixtures: where the course lives and which units it has."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UNITS = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())

# nbgrader runs alembic as a subprocess: the environment's bin/ must be on PATH.
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])

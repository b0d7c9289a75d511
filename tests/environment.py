"""Where the tests find the tools they start: in this interpreter's environment, never on PATH.

A tool that only some developer's PATH provides (an ``alembic`` or ``repo2docker`` installed
by hand elsewhere) must not make the suite pass: on a fresh machine it is not there.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path


def interpreter_tool(name: str) -> Path | None:
    """The console script *name* installed beside this interpreter (``.venv/bin``), or None."""
    path = Path(sysconfig.get_path("scripts")) / name
    return path if path.is_file() else None

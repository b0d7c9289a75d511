"""What the first code cell of a notebook calls once httpslab imports: check the notebook stack.

The first cell itself guards ``import httpslab`` (it cannot rely on httpslab being there);
:func:`setup_notebook` then checks matplotlib and ipywidgets, with the same clear message if
one is missing, and sets modest figure sizes so that stored outputs stay small.
"""

from __future__ import annotations

import importlib

__all__ = ["INSTALL_HINT", "setup_notebook"]

INSTALL_HINT = 'pip install -e ".[notebook]"   (run it from the repository root)'


def setup_notebook(dpi: int = 80) -> None:
    """Import-check the notebook dependencies and set matplotlib's figure resolution."""
    missing = []
    for module in ("matplotlib", "ipywidgets"):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError:
            missing.append(module)
    if missing:
        print(f"missing: {', '.join(missing)}. Install the notebook extras with:\n    {INSTALL_HINT}")
        raise RuntimeError(f"the notebook needs {', '.join(missing)}: {INSTALL_HINT}")
    import matplotlib

    matplotlib.rcParams["figure.dpi"] = dpi
    matplotlib.rcParams["savefig.dpi"] = dpi

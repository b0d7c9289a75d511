"""Every notebook in a real browser: JupyterLab on 127.0.0.1, headless Chromium driven by Playwright.

For each ``notebooks/NN_*.ipynb``: open it, Run All, wait for the kernel to go idle, then check
that no cell shows an error, that every widget rendered (no ``Loading widget...``, no widget
shown as its plain-text repr), and that moving a control of every widget changes what the
notebook shows. A screenshot of each notebook after the run goes to ``test-artifacts/browser/``.

Self-tests on small notebooks made here prove the check can fail: a widget that does not
react, a widget that cannot render, a widget shown as text, a cell that raises.

Needs Debian's Chromium (``apt-get install chromium``) and Playwright for Python
(``pip install -e ".[browser]"``; never ``playwright install``). Without them the tests skip,
unless ``HTTPSLAB_REQUIRE_BROWSER=1`` (set by ``.ci/run``), which makes them fail instead.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import (
    JS_CONTROLS,
    JupyterLabServer,
    NotebookReport,
    check_notebook,
    find_chromium,
    moved_and_changed,
    settle,
)

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ARTIFACTS = REPO / "test-artifacts" / "browser"
INSTALL_HINT = 'install Chromium with  apt-get install chromium  and Playwright with  .venv/bin/pip install -e ".[browser]"'

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]


def _missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "Playwright for Python is not installed"
    if find_chromium() is None:
        return "Chromium is not installed"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = _missing()
    if missing is not None:
        if os.environ.get("HTTPSLAB_REQUIRE_BROWSER", "") not in ("", "0"):
            pytest.fail(
                f"{missing} but HTTPSLAB_REQUIRE_BROWSER=1 says the browser test must run: {INSTALL_HINT}"
            )
        pytest.skip(f"{missing}: {INSTALL_HINT}")
    from browser_helpers import CHROMIUM_ARGS
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()


def _write_self_test_notebooks(root: Path) -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    reacting = (
        "import ipywidgets as widgets\n"
        "choice = widgets.Dropdown(options=['red', 'green', 'blue'], description='colour')\n"
        "shown = widgets.HTML('colour is red')\n"
        "choice.observe(lambda change: setattr(shown, 'value', f'colour is {change.new}'), names='value')\n"
        "panel = widgets.VBox([choice, shown])\n"
        "panel.add_class('httpslab-selftest')\n"
        "panel"
    )
    dead = (
        "import ipywidgets as widgets\n"
        "choice = widgets.Dropdown(options=['red', 'green', 'blue'], description='colour')\n"
        "shown = widgets.HTML('colour is red')\n"
        "choice.observe(lambda change: None, names='value')  # broken on purpose: nothing is redrawn\n"
        "widgets.VBox([choice, shown])"
    )
    not_rendered = (
        "from IPython.display import display\n"
        "# a widget view whose model the page never receives (as when the widget manager is missing)\n"
        "display({'application/vnd.jupyter.widget-view+json': {'model_id': 'f' * 32, 'version_major': 2,"
        " 'version_minor': 0}, 'text/plain': 'VBox()'}, raw=True)\n"
        "# what a notebook shows when ipywidgets cannot render: the widget as text\n"
        "display({'text/plain': \"VBox(children=(Dropdown(description='colour'),))\"}, raw=True)"
    )
    every_kind = (
        "import ipywidgets as widgets\n"
        "controls = [\n"
        "    widgets.IntSlider(value=10, min=0, max=100, description='slider'),\n"
        "    widgets.Checkbox(value=False, description='checkbox'),\n"
        "    widgets.ToggleButtons(options=['a', 'b', 'c'], description='toggle'),\n"
        "    widgets.RadioButtons(options=['x', 'y'], description='radio'),\n"
        "    widgets.IntText(value=5, description='number'),\n"
        "    widgets.Text(value='hello', description='text', continuous_update=False),\n"
        "    widgets.Textarea(value='lines', description='textarea'),\n"
        "]\n"
        "shown = widgets.HTML()\n"
        "def redraw(_=None):\n"
        "    shown.value = ' | '.join(f'{c.description}={c.value}' for c in controls)\n"
        "for control in controls:\n"
        "    control.observe(redraw, names='value')\n"
        "button = widgets.Button(description='button')\n"
        "button.on_click(lambda _: setattr(shown, 'value', shown.value + ' | clicked'))\n"
        "redraw()\n"
        "widgets.VBox([*controls, button, shown])"
    )
    notebooks = {
        "selftest_every_kind.ipynb": [every_kind],
        "selftest_reacting.ipynb": [reacting],
        "selftest_dead_widget.ipynb": [dead],
        "selftest_not_rendered.ipynb": [not_rendered, "1 / 0"],
    }
    for name, sources in notebooks.items():
        notebook = new_notebook(cells=[new_code_cell(source) for source in sources])
        notebook.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        nbformat.write(notebook, root / name)


@pytest.fixture(scope="module")
def jupyterlab(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterLabServer]:
    """One JupyterLab for the module, serving a copy of notebooks/ (the originals stay untouched)."""
    work = tmp_path_factory.mktemp("browser")
    root = work / "notebooks"
    shutil.copytree(REPO / "notebooks", root, ignore=shutil.ignore_patterns("labs", ".ipynb_checkpoints"))
    _write_self_test_notebooks(root)
    server = JupyterLabServer(root, work)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def page(browser: Any, jupyterlab: JupyterLabServer) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(60_000)
    try:
        yield context.new_page()
    finally:
        context.close()
        jupyterlab.shutdown_kernels()


def _explain(report: NotebookReport, server: JupyterLabServer) -> str:
    moves = "\n".join(
        f"  moved {m.kind} {m.description!r} in {m.container}: changed={m.changed}" for m in report.moves
    )
    return (
        f"{report.notebook} in the browser (screenshot in {ARTIFACTS.relative_to(REPO)}):\n"
        + "\n".join(f"  - {problem}" for problem in report.problems())
        + f"\n{moves}\nJupyterLab log:\n{server.log_tail(15)}"
    )


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_notebook_runs_renders_and_reacts_in_the_browser(
    page: Any, jupyterlab: JupyterLabServer, notebook: Path
) -> None:
    report = check_notebook(page, jupyterlab, notebook.name, ARTIFACTS / f"{notebook.stem}.png")
    assert not report.problems(), _explain(report, jupyterlab)
    assert report.code_cells > 0
    assert report.widget_views > 0, f"{notebook.name} shows no widget: every notebook has one to move"
    assert any(move.changed for move in report.moves), _explain(report, jupyterlab)


# --- the check itself can fail ------------------------------------------------------------------


def test_self_test_a_reacting_widget_passes(page: Any, jupyterlab: JupyterLabServer) -> None:
    report = check_notebook(page, jupyterlab, "selftest_reacting.ipynb", ARTIFACTS / "selftest_reacting.png")
    assert not report.problems(), _explain(report, jupyterlab)
    assert report.widget_views == 1
    assert [(m.container, m.kind, m.description, m.changed) for m in report.moves] == [
        ("cell 1 (httpslab-selftest)", "dropdown", "colour", True)
    ]


def test_self_test_a_widget_that_does_not_react_fails(page: Any, jupyterlab: JupyterLabServer) -> None:
    report = check_notebook(page, jupyterlab, "selftest_dead_widget.ipynb", ARTIFACTS / "selftest_dead.png")
    assert report.ran_all and not report.errors and not report.not_rendered
    assert len(report.moves) == 3 and not any(m.changed for m in report.moves)  # three menu choices tried
    assert report.unresponsive and "changed no output" in report.unresponsive[0]


def test_self_test_unrendered_widgets_and_errors_fail(page: Any, jupyterlab: JupyterLabServer) -> None:
    report = check_notebook(
        page, jupyterlab, "selftest_not_rendered.ipynb", ARTIFACTS / "selftest_broken.png"
    )
    problems = "\n".join(report.problems())
    assert "shows a widget as text" in problems
    assert any(
        sign in problems
        for sign in ("1 widget outputs but 0 widgets", "Error displaying widget", "Loading widget...")
    ), problems
    assert "ZeroDivisionError" in problems
    assert not report.ran_all


def test_self_test_without_the_widget_manager_widgets_do_not_render(
    browser: Any, jupyterlab: JupyterLabServer, tmp_path: Path
) -> None:
    """The failure this test exists for: JupyterLab without ipywidgets' manager shows no widget."""
    server = JupyterLabServer(
        jupyterlab.root_dir, tmp_path, disabled_extensions=("@jupyter-widgets/jupyterlab-manager",)
    )
    server.start()
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    try:
        report = check_notebook(
            context.new_page(),
            server,
            "selftest_reacting.ipynb",
            ARTIFACTS / "selftest_no_widget_manager.png",
        )
    finally:
        context.close()
        server.stop()
    assert report.ran_all and not report.errors
    assert any(
        "shows a widget as text in the page: VBox(children=" in what for what in report.not_rendered
    ), report
    assert not any(move.changed for move in report.moves)


def test_self_test_every_kind_of_control_is_moved_and_seen(page: Any, jupyterlab: JupyterLabServer) -> None:
    """Each way of moving a control (drag, click, type, select) really changes the widget's value."""
    report = check_notebook(
        page, jupyterlab, "selftest_every_kind.ipynb", ARTIFACTS / "selftest_every_kind.png"
    )
    assert not report.problems(), _explain(report, jupyterlab)
    (container,) = page.evaluate(JS_CONTROLS)
    kinds = [control["kind"] for control in container["controls"]]
    assert sorted(kinds) == sorted(
        ["slider", "checkbox", "toggle-buttons", "radio", "number", "text", "textarea", "button"]
    )
    for control in container["controls"]:
        assert moved_and_changed(page, control, settle(page), 20_000), (
            f"moving the {control['kind']} changed nothing"
        )

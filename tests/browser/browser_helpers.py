"""Drive the notebooks in a real browser: JupyterLab on 127.0.0.1, headless Chromium via Playwright.

Used by ``tests/browser/test_browser.py``. :class:`JupyterLabServer` starts one JupyterLab (token, free
port, loopback only, a throw-away settings and workspace folder, notebooks rendered without
virtual scrolling so every cell is in the page). :func:`check_notebook` opens a notebook, runs
all its cells through JupyterLab's own ``notebook:run-all-cells`` command, and reports:

- every error the kernel sent (iopub ``error`` messages, tracebacks on stderr), during the run
  and while widgets are moved;
- outputs that did not render as widgets (``Loading widget...``, ``Error displaying widget``,
  a widget shown as its plain-text repr such as ``VBox(children=...)``, a widget-view output
  with no widget in the page);
- for each widget on the page that has controls: which control was moved and whether the
  outputs of the notebook changed (text, images and figures; a slider's own readout does not count).

Chromium is Debian's (``/usr/bin/chromium``); Playwright never downloads a browser here.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from httpslab.launch import jupyterlab_command

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
#: a widget shown as text: what ipywidgets prints when no widget manager renders it
PLAIN_WIDGET_REPR = re.compile(
    r"^[A-Z]\w*\((children|value|description|layout|options|index|outputs|style)=", re.MULTILINE
)
NOT_RENDERED_TEXTS = ("Loading widget...", "Error displaying widget", "Failed to load model class")


def find_chromium() -> str | None:
    """Debian's Chromium, if installed (``apt-get install chromium``)."""
    for candidate in CHROMIUM_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _load_prctl() -> Any:
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6", use_errno=True).prctl
    except (OSError, AttributeError):
        return None


#: looked up before any fork: the child must not import anything (the test process has threads)
_PRCTL = _load_prctl()
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the JupyterLab child: get SIGTERM when the test process dies (Linux), so none is left behind."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, 15)


class JupyterLabServer:
    """One JupyterLab serving *root_dir* on 127.0.0.1 with a token; settings live in *work_dir*."""

    def __init__(self, root_dir: Path, work_dir: Path, *, disabled_extensions: tuple[str, ...] = ()) -> None:
        self.root_dir = root_dir
        self.work_dir = work_dir
        #: JupyterLab extensions switched off (the self-tests switch off the widget manager)
        self.disabled_extensions = disabled_extensions
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.log_path = work_dir / "jupyterlab.log"
        self._process: subprocess.Popen[bytes] | None = None

    def _write_settings(self) -> Path:
        settings = self.work_dir / "settings"
        overrides = {
            # every cell stays in the page, so the DOM checks see the whole notebook
            "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
            # no news or update checks (nothing reaches beyond loopback)
            "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
                "fetchNews": "false",
                "checkForUpdates": False,
            },
        }
        for name, values in overrides.items():
            path = settings / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        page_config = self.work_dir / "config" / "labconfig" / "page_config.json"
        page_config.parent.mkdir(parents=True, exist_ok=True)
        page_config.write_text(
            json.dumps({"disabledExtensions": dict.fromkeys(self.disabled_extensions, True)})
        )
        return settings

    def start(self, timeout: float = 120.0) -> None:
        settings = self._write_settings()
        # the same JupyterLab command line as the README's launcher (python -m httpslab.launch) ...
        command = jupyterlab_command(
            self.root_dir,
            self.port,
            open_browser=False,
            as_root=hasattr(os, "geteuid") and os.geteuid() == 0,
            notebook=None,
            # ... plus what a test needs: a known token, the app object, throw-away settings
            extra_args=[
                f"--IdentityProvider.token={self.token}",
                "--LabApp.expose_app_in_browser=True",
                f"--LabApp.user_settings_dir={settings}",
                f"--LabApp.workspaces_dir={self.work_dir / 'workspaces'}",
                "--LabApp.news_url=None",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            ],
        )
        env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(self.work_dir / "config"),
            "JUPYTER_RUNTIME_DIR": str(self.work_dir / "runtime"),
            "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        }
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                command,
                cwd=self.root_dir,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self._process.returncode}:\n{self.log_tail()}")
            try:
                self.api("GET", "/api/status")
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"JupyterLab did not answer in {timeout:.0f} s:\n{self.log_tail()}"
                    ) from None
                time.sleep(0.5)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def url(self, path: str) -> str:
        separator = "&" if "?" in path else "?"
        return f"http://127.0.0.1:{self.port}{path}{separator}token={self.token}"

    def api(self, method: str, path: str) -> Any:
        request = urllib.request.Request(self.url(path), method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        for session in self.api("GET", "/api/sessions"):
            with contextlib.suppress(OSError):
                self.api("DELETE", f"/api/sessions/{session['id']}")

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, 15)
        try:
            self._process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, 9)
            self._process.wait()


@dataclass
class ControlMove:
    """One control moved in the browser and whether the notebook's outputs changed after it."""

    container: str
    kind: str
    description: str
    changed: bool


@dataclass
class NotebookReport:
    notebook: str
    ran_all: bool = False
    code_cells: int = 0
    executed_cells: int = 0
    errors: list[str] = field(default_factory=list)
    not_rendered: list[str] = field(default_factory=list)
    widget_views: int = 0
    moves: list[ControlMove] = field(default_factory=list)
    unresponsive: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """Everything that makes the notebook fail in the browser, one sentence each."""
        found = []
        if not self.ran_all:
            found.append("Run All did not finish (a cell failed or the kernel died)")
        if self.executed_cells < self.code_cells:
            found.append(f"only {self.executed_cells} of {self.code_cells} code cells ran")
        found += [f"error: {error}" for error in self.errors]
        found += [f"not rendered: {what}" for what in self.not_rendered]
        found += [f"widget does not react: {what}" for what in self.unresponsive]
        return found


# JavaScript run in the page -------------------------------------------------------------------------

_JS_PANEL = """
() => {
  const app = window.jupyterapp;
  const panel = app && app.shell.currentWidget;
  if (!panel || !panel.content || !panel.sessionContext) return null;
  return panel;
}
"""

JS_KERNEL_IDLE = (
    "() => { const panel = ("
    + _JS_PANEL
    + ")(); const kernel = panel && panel.sessionContext.session && panel.sessionContext.session.kernel;"
    " return !!kernel && kernel.status === 'idle' && panel.content.widgets.length > 0; }"
)

JS_LISTEN_FOR_ERRORS = (
    "() => { const panel = ("
    + _JS_PANEL
    + """)();
  window.__httpslabErrors = [];
  window.__httpslabIdle = 0;
  const kernel = panel.sessionContext.session.kernel;
  kernel.iopubMessage.connect((_, msg) => {
    const type = msg.header.msg_type;
    if (type === 'status' && msg.content.execution_state === 'idle') {
      window.__httpslabIdle += 1;
    } else if (type === 'error') {
      window.__httpslabErrors.push(msg.content.ename + ': ' + msg.content.evalue);
    } else if (type === 'stream' && msg.content.name === 'stderr' && msg.content.text.includes('Traceback')) {
      window.__httpslabErrors.push(msg.content.text.slice(-400));
    }
  });
  kernel.statusChanged.connect((_, status) => {
    if (status === 'dead' || status === 'restarting' || status === 'autorestarting') {
      window.__httpslabErrors.push('kernel ' + status);
    }
  });
}"""
)

JS_RUN_ALL = "async () => await window.jupyterapp.commands.execute('notebook:run-all-cells')"

JS_CELLS = (
    "() => { const panel = ("
    + _JS_PANEL
    + """)();
  return panel.content.widgets.map((cell, index) => {
    const json = cell.model.toJSON();
    const source = Array.isArray(json.source) ? json.source.join('') : json.source;
    const outputs = (json.outputs || []).map(o => ({
      type: o.output_type,
      mimes: Object.keys(o.data || {}),
      plain: o.data && o.data['text/plain'] ? [].concat(o.data['text/plain']).join('') : '',
      error: o.output_type === 'error' ? o.ename + ': ' + o.evalue : '',
    }));
    const area = cell.outputArea ? cell.outputArea.node : null;
    const children = area ? [...area.children].filter(c => c.classList.contains('jp-OutputArea-child')) : [];
    return {
      index, type: json.cell_type, source: source.trim(), count: json.execution_count ?? null, outputs,
      dom: children.map(c => ({
        text: c.innerText.slice(0, 2000),
        widget: !!c.querySelector('.jupyter-widgets'),
        stderr: [...c.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"]')]
                  .map(e => e.innerText).filter(t => t.includes('Traceback')).map(t => t.slice(-400)),
      })),
    };
  });
}"""
)

#: controls by preference: the ones whose effect is most direct come first
JS_CONTROLS = (
    "() => { const panel = ("
    + _JS_PANEL
    + """)();
  const selectors = [
    ['dropdown', '.widget-dropdown select'],
    ['select', '.widget-select select'],
    ['toggle-buttons', '.widget-toggle-buttons'],
    ['radio', '.widget-radio-box'],
    ['checkbox', '.widget-checkbox input[type=checkbox]'],
    ['toggle-button', 'button.widget-toggle-button'],
    ['slider', '.widget-slider .noUi-handle'],
    ['button', 'button.widget-button'],
    ['number', '.widget-text input[type=number], .widget-inttext input, .widget-floattext input'],
    ['text', '.widget-text input[type=text]'],
    ['textarea', '.widget-textarea textarea'],
  ];
  document.querySelectorAll('[data-httpslab-probe]').forEach(e => e.removeAttribute('data-httpslab-probe'));
  const containers = [];
  let probe = 0;
  panel.content.widgets.forEach((cell, cellIndex) => {
    if (!cell.outputArea) return;
    [...cell.outputArea.node.children].forEach(child => {
      const view = child.querySelector('.jupyter-widgets');
      if (!view) return;
      const named = [...child.querySelectorAll('[class*="httpslab-"]')]
        .flatMap(e => [...e.classList]).filter(c => c.startsWith('httpslab-'));
      const name = 'cell ' + (cellIndex + 1) + (named.length ? ' (' + named[0] + ')' : '');
      const controls = [];
      const seen = new Set();
      for (const [kind, selector] of selectors) {
        for (const element of child.querySelectorAll(selector)) {
          if (seen.has(element) || element.disabled || element.closest('.mod-disabled')) continue;
          if (kind === 'toggle-button' && element.closest('.widget-toggle-buttons')) continue;
          seen.add(element);
          const id = 'p' + (probe++);
          element.setAttribute('data-httpslab-probe', id);
          const box = element.closest('.widget-inline-hbox, .widget-toggle-buttons, .widget-button, .widget-toggle-button, .widget-inline-vbox');
          const label = box ? (box.querySelector('.widget-label') || {}).innerText : '';
          controls.push({id, kind, description: (label || element.getAttribute('title') || element.innerText || '').trim().slice(0, 60)});
        }
      }
      containers.push({name, controls});
    });
  });
  return containers;
}"""
)

#: what the learner sees change: output text (without a slider's own readout), images, figures
JS_SIGNATURE = (
    "() => { const panel = ("
    + _JS_PANEL
    + """)();
  const parts = [];
  panel.content.widgets.forEach(cell => {
    if (!cell.outputArea) return;
    const copy = cell.outputArea.node.cloneNode(true);
    copy.querySelectorAll('.widget-readout, select, option').forEach(e => e.remove());
    parts.push(copy.textContent);
    cell.outputArea.node.querySelectorAll('img').forEach(img => parts.push(img.src.length + ':' + img.src.slice(-200)));
    cell.outputArea.node.querySelectorAll('svg').forEach(svg => parts.push(svg.innerHTML.length + ':' + svg.innerHTML.slice(-200)));
    cell.outputArea.node.querySelectorAll('canvas').forEach(c => parts.push(c.toDataURL().slice(-200)));
  });
  return parts.join('\\u241e');
}"""
)


def _wait_idle(page: Any, timeout_ms: int) -> None:
    page.wait_for_function(JS_KERNEL_IDLE, timeout=timeout_ms, polling=250)


def settle(page: Any, timeout_ms: int = 60_000) -> str:
    """Wait for an idle kernel and outputs that stay the same for a moment; return their signature."""
    deadline = time.monotonic() + timeout_ms / 1000
    previous = None
    while True:
        _wait_idle(page, max(1000, int((deadline - time.monotonic()) * 1000)))
        page.wait_for_timeout(400)
        current = page.evaluate(JS_SIGNATURE)
        if current == previous or time.monotonic() > deadline:
            return current
        previous = current


def _move(page: Any, control: dict[str, str]) -> None:
    """Move one control the way a learner would (select, click, drag, type)."""
    locator = page.locator(f'[data-httpslab-probe="{control["id"]}"]')
    locator.scroll_into_view_if_needed()
    kind = control["kind"]
    if kind in ("dropdown", "select"):
        count, index = locator.evaluate("s => [s.options.length, s.selectedIndex]")
        if count < 2:
            raise LookupError("a single option")
        locator.select_option(index=(index + 1) % count)
    elif kind == "slider":
        box = locator.bounding_box()
        track = locator.locator("xpath=ancestor::*[contains(@class,'noUi-target')][1]").bounding_box()
        if box is None or track is None:
            raise LookupError("slider not visible")
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        middle = track["x"] + track["width"] / 2
        target = track["x"] + track["width"] * (0.75 if x < middle else 0.25)
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(target, y, steps=8)
        page.mouse.up()
    elif kind == "number":
        value = locator.input_value() or "0"
        try:
            new_value = str(int(value) + 1)
        except ValueError:
            new_value = str(float(value) + 1)
        locator.fill(new_value)
        locator.press("Enter")
    elif kind in ("text", "textarea"):
        locator.fill(locator.input_value() + "x")
        locator.press("Enter" if kind == "text" else "Tab")
    elif kind == "toggle-buttons":
        locator.locator("button:not(.mod-active)").first.click()
    elif kind == "radio":
        locator.locator("input:not(:checked)").first.click()
    else:  # buttons, toggle buttons, checkboxes
        locator.click()


def check_notebook(
    page: Any,
    server: JupyterLabServer,
    notebook: str,
    screenshot: Path | None = None,
    *,
    run_timeout_ms: int = 600_000,
    change_timeout_ms: int = 20_000,
    tries_per_widget: int = 6,
) -> NotebookReport:
    """Open *notebook* in JupyterLab, run all, check errors and widgets, move them; see the module doc."""
    report = NotebookReport(notebook)
    try:
        page.goto(server.url(f"/lab/tree/{notebook}?reset"))
        page.wait_for_function(
            "name => { const app = window.jupyterapp; const panel = app && app.shell.currentWidget;"
            " return !!panel && !!panel.context && panel.context.path.endsWith(name); }",
            arg=notebook,
            timeout=120_000,
        )
        _wait_idle(page, 120_000)
        page.evaluate(JS_LISTEN_FOR_ERRORS)
        report.ran_all = bool(page.evaluate(JS_RUN_ALL))
        settle(page, run_timeout_ms)
        _check_cells(page, report)
        _check_widgets_react(page, report, change_timeout_ms, tries_per_widget)
        report.errors += [e for e in page.evaluate("() => window.__httpslabErrors") if e not in report.errors]
    finally:
        if screenshot is not None:
            with contextlib.suppress(Exception):
                take_screenshot(page, screenshot)
    return report


def _check_cells(page: Any, report: NotebookReport) -> None:
    for cell in page.evaluate(JS_CELLS):
        if cell["type"] != "code" or not cell["source"]:
            continue
        report.code_cells += 1
        where = f"cell {cell['index'] + 1}"
        if cell["count"] is not None:
            report.executed_cells += 1
        for output in cell["outputs"]:
            if output["error"]:
                report.errors.append(f"{where}: {output['error']}")
            if WIDGET_VIEW_MIME in output["mimes"]:
                report.widget_views += 1
            elif PLAIN_WIDGET_REPR.search(output["plain"]):
                report.not_rendered.append(f"{where} shows a widget as text: {output['plain'][:80]!r}")
        widget_outputs = [o for o in cell["outputs"] if WIDGET_VIEW_MIME in o["mimes"]]
        rendered = [d for d in cell["dom"] if d["widget"]]
        if len(rendered) < len(widget_outputs):
            report.not_rendered.append(
                f"{where}: {len(widget_outputs)} widget outputs but {len(rendered)} widgets in the page"
            )
        for dom in cell["dom"]:
            shown_as_text = None if dom["widget"] else PLAIN_WIDGET_REPR.search(dom["text"])
            if shown_as_text:
                text = dom["text"][shown_as_text.start() :][:60]
                report.not_rendered.append(f"{where} shows a widget as text in the page: {text}")
            for text in NOT_RENDERED_TEXTS:
                if text in dom["text"]:
                    report.not_rendered.append(f"{where} shows {text!r}")
            if not any(output["error"] for output in cell["outputs"]):  # else already reported
                report.errors += [f"{where}: {traceback}" for traceback in dom["stderr"]]


def moved_and_changed(page: Any, control: dict[str, str], before: str, timeout_ms: int) -> bool | None:
    """Move *control*; True if the outputs changed once the kernel has answered, None if it cannot move."""
    idle_count = page.evaluate("() => window.__httpslabIdle")
    try:
        _move(page, control)
    except LookupError:
        return None
    try:  # the kernel handles the change (busy, then idle) or the page changes by itself
        page.wait_for_function(
            f"([before, idle]) => window.__httpslabIdle > idle || ({JS_SIGNATURE})() !== before",
            arg=[before, idle_count],
            timeout=timeout_ms,
            polling=200,
        )
    except Exception:  # playwright's TimeoutError: nothing happened at all
        return False
    return settle(page) != before


def _check_widgets_react(page: Any, report: NotebookReport, change_timeout_ms: int, tries: int) -> None:
    for container in page.evaluate(JS_CONTROLS):
        if not container["controls"]:
            continue
        reacted = False
        attempts: list[dict[str, str]] = []
        for control in container["controls"]:
            # a menu gets a second and third choice: two options may show the same thing
            attempts += [control] * (3 if control["kind"] in ("dropdown", "select") else 1)
        for control in attempts[:tries]:
            changed = moved_and_changed(page, control, settle(page), change_timeout_ms)
            if changed is None:
                continue
            report.moves.append(
                ControlMove(container["name"], control["kind"], control["description"], changed)
            )
            if changed:
                reacted = True
                break
        if not reacted:
            tried = ", ".join(
                f"{m.kind} {m.description!r}" for m in report.moves if m.container == container["name"]
            )
            report.unresponsive.append(
                f"{container['name']}: moving {tried or 'its controls'} changed no output"
            )
    settle(page)


def take_screenshot(page: Any, path: Path) -> None:
    """The whole notebook as one picture (the viewport is stretched to the notebook's height)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    page.evaluate(
        "() => { window.jupyterapp.shell.collapseLeft(); window.jupyterapp.shell.collapseRight(); }"
    )
    height = page.evaluate(
        "() => { const s = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer')"
        " || document.querySelector('.jp-NotebookPanel-notebook'); return s ? s.scrollHeight : 1000; }"
    )
    original = page.viewport_size
    page.set_viewport_size({"width": 1280, "height": max(800, min(int(height) + 200, 30_000))})
    page.wait_for_timeout(800)
    page.evaluate(
        "() => document.querySelectorAll('.jp-NotebookPanel .jp-WindowedPanel-outer')"
        ".forEach(s => { s.scrollTop = 0; })"
    )
    page.wait_for_timeout(300)
    page.screenshot(path=str(path))
    if original:
        page.set_viewport_size(original)

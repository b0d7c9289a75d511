"""``python -m httpslab.launch``: open JupyterLab on the httpslab notebooks, with clear messages.

The README's first command ends with this launcher rather than a bare ``jupyter lab`` so that
the usual first-run problems come with a sentence that says what to do:

- JupyterLab or ipywidgets is not installed in this Python (widgets would show as text):
  it names the ``pip install`` command to run;
- the port is busy: with the default port it picks a free one and says so; with an explicit
  ``--port N`` it stops and suggests ``--port 0`` (any free port);
- running as root (containers): JupyterLab refuses root without ``--allow-root``, so the
  launcher adds it and says why;
- the ``notebooks/`` folder cannot be found: it says where it looked.

JupyterLab listens on 127.0.0.1 only (httpslab never reaches beyond loopback) and opens
``notebooks/00_https_at_a_glance.ipynb`` when it exists. The launcher chooses the login token
itself (or takes ``JUPYTER_TOKEN`` from the environment), hands it to JupyterLab through the
environment rather than the command line (where other local users could read it), and prints
the one URL to open, token included. Exit status 2 means "could not start".
"""

from __future__ import annotations

import argparse
import errno
import importlib.util
import os
import secrets
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from .errors import LaunchError

__all__ = [
    "DEFAULT_PORT",
    "FIRST_NOTEBOOK",
    "choose_port",
    "find_notebooks_dir",
    "jupyterlab_command",
    "main",
    "missing_learner_modules",
    "port_is_free",
    "url_to_open",
]

#: JupyterLab's own default port
DEFAULT_PORT = 8888
#: the notebook the launcher opens first
FIRST_NOTEBOOK = "00_https_at_a_glance.ipynb"
#: the address JupyterLab listens on: loopback only
HOST = "127.0.0.1"
#: modules without which the notebooks cannot run or their widgets cannot render
LEARNER_MODULES = ("jupyterlab", "ipykernel", "ipywidgets", "matplotlib")
INSTALL_HINT = (
    'install the learner stack into this Python:  {python} -m pip install -e ".[notebook]"  '
    "(from the repository root; or: -r binder/requirements.txt)"
)
EXIT_CANNOT_START = 2


def missing_learner_modules(names: Sequence[str] = LEARNER_MODULES) -> list[str]:
    """The modules in *names* that this Python cannot import."""
    missing = []
    for name in names:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


def port_is_free(port: int, host: str = HOST) -> bool:
    """True if a TCP server could listen on ``host:port`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def _any_free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def choose_port(requested: int | None, *, default: int = DEFAULT_PORT, out: TextIO | None = None) -> int:
    """The port to start JupyterLab on.

    ``None`` means "the default port, or any free one if it is busy" (said on *out*);
    ``0`` means any free port; any other number must be free, else :class:`LaunchError`.
    """
    if requested is None:
        if port_is_free(default):
            return default
        port = _any_free_port()
        if out is not None:
            print(f"httpslab.launch: port {default} is busy (another Jupyter?); using port {port}", file=out)
        return port
    if requested == 0:
        return _any_free_port()
    if not 0 < requested < 65536:
        raise LaunchError(f"port {requested} is not a TCP port (1-65535); use --port 0 for any free port")
    if not port_is_free(requested):
        raise LaunchError(
            f"port {requested} on {HOST} is busy (is another Jupyter running?); "
            "try --port 0 to use any free port"
        )
    return requested


def find_notebooks_dir(explicit: Path | None = None, *, cwd: Path | None = None) -> Path:
    """The ``notebooks/`` folder: *explicit*, else ``./notebooks``, else the one beside this package."""
    if explicit is not None:
        if not explicit.is_dir():
            raise LaunchError(f"{explicit} is not a folder; pass --notebooks with the notebooks/ folder")
        return explicit.resolve()
    candidates = [
        (cwd or Path.cwd()) / "notebooks",
        Path(__file__).resolve().parent.parent / "notebooks",
    ]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate.resolve()
    looked = ", ".join(str(c) for c in candidates)
    raise LaunchError(
        f"cannot find the notebooks/ folder (looked in {looked}); run this from the root of the "
        "httpslab repository or pass --notebooks PATH"
    )


def jupyterlab_command(
    notebooks_dir: Path,
    port: int,
    *,
    open_browser: bool = True,
    as_root: bool = False,
    notebook: str | None = FIRST_NOTEBOOK,
    python: str = sys.executable,
    extra_args: Sequence[str] = (),
) -> list[str]:
    """The ``python -m jupyterlab ...`` command line that serves *notebooks_dir* on ``127.0.0.1:port``."""
    command = [
        python,
        "-m",
        "jupyterlab",
        f"--ServerApp.ip={HOST}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={notebooks_dir}",
    ]
    if not open_browser:
        command.append("--no-browser")
    if as_root:
        command.append("--allow-root")
    if notebook is not None and (notebooks_dir / notebook).is_file():
        command.append(str(notebooks_dir / notebook))
    command.extend(extra_args)
    return command


def url_to_open(notebooks_dir: Path, port: int, token: str, notebook: str | None = FIRST_NOTEBOOK) -> str:
    """The address a learner opens: JupyterLab on *notebook* (when it exists), token included."""
    path = "lab"
    if notebook is not None and (notebooks_dir / notebook).is_file():
        path = f"lab/tree/{notebook}"
    return f"http://{HOST}:{port}/{path}?token={token}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m httpslab.launch",
        description="Open JupyterLab on the httpslab notebooks (on 127.0.0.1).",
        epilog="Arguments after -- go to JupyterLab unchanged.",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help=f"port to listen on (default {DEFAULT_PORT}, or a free one if busy; 0 = any free port)",
    )
    parser.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    parser.add_argument("--notebooks", type=Path, default=None, help="the notebooks/ folder to serve")
    parser.add_argument(
        "--notebook",
        default=FIRST_NOTEBOOK,
        help=f"the notebook to open first (default {FIRST_NOTEBOOK})",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the JupyterLab command instead of running it"
    )
    return parser


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the launcher; returns the exit status (it replaces itself with JupyterLab unless ``--dry-run``)."""
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    args_list = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in args_list:
        split = args_list.index("--")
        args_list, extra = args_list[:split], args_list[split + 1 :]
    args = build_parser().parse_args(args_list)
    try:
        missing = missing_learner_modules()
        if missing:
            raise LaunchError(
                f"{', '.join(missing)} not installed in {sys.executable}; "
                + INSTALL_HINT.format(python=sys.executable)
            )
        notebooks_dir = find_notebooks_dir(args.notebooks)
        port = choose_port(args.port, out=out)
    except LaunchError as exc:
        print(f"httpslab.launch: {exc}", file=err)
        return EXIT_CANNOT_START
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if as_root:
        print("httpslab.launch: running as root (a container?), so JupyterLab gets --allow-root", file=out)
    command = jupyterlab_command(
        notebooks_dir,
        port,
        open_browser=not args.no_browser,
        as_root=as_root,
        notebook=args.notebook,
        extra_args=extra,
    )
    # JupyterLab reads its token from JUPYTER_TOKEN; an empty one would switch the login off
    token = os.environ.get("JUPYTER_TOKEN") or secrets.token_hex(24)
    print(
        f"httpslab.launch: serving {notebooks_dir} on {HOST}:{port}; open this URL in your browser:", file=out
    )
    print(f"    {url_to_open(notebooks_dir, port, token, args.notebook)}", file=out)
    if args.dry_run:
        print(" ".join(command), file=out)
        return 0
    out.flush()
    err.flush()
    os.execve(command[0], command, {**os.environ, "JUPYTER_TOKEN": token})
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())

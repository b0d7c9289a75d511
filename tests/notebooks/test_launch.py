"""The JupyterLab launcher (``python -m httpslab.launch``): busy ports, missing packages, root, a real start."""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from httpslab import launch

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port on 127.0.0.1 that a listening socket holds for the duration of the test."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        yield holder.getsockname()[1]


def run_main(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = launch.main(list(argv), out=out, err=err)
    return status, out.getvalue(), err.getvalue()


def test_port_is_free_sees_a_listening_socket(busy_port: int) -> None:
    assert not launch.port_is_free(busy_port)


def test_explicit_busy_port_is_a_clear_error(busy_port: int) -> None:
    status, out, err = run_main("--port", str(busy_port), "--dry-run", "--no-browser")
    assert status == 2
    assert f"port {busy_port}" in err and "busy" in err and "--port 0" in err
    assert "jupyterlab" not in out  # no command was printed


def test_busy_default_port_moves_to_a_free_one_and_says_so(busy_port: int) -> None:
    note = io.StringIO()
    chosen = launch.choose_port(None, default=busy_port, out=note)
    assert chosen != busy_port and launch.port_is_free(chosen)
    assert f"port {busy_port} is busy" in note.getvalue() and str(chosen) in note.getvalue()


def test_port_zero_means_any_free_port() -> None:
    status, out, _ = run_main("--port", "0", "--dry-run", "--no-browser")
    assert status == 0
    port = int(re.search(r"--ServerApp\.port=(\d+)", out).group(1))
    assert port != 0 and launch.port_is_free(port)


def test_port_out_of_range_is_refused() -> None:
    status, _, err = run_main("--port", "70000", "--dry-run")
    assert status == 2 and "not a TCP port" in err


def test_command_serves_the_notebooks_on_loopback_only(tmp_path: Path) -> None:
    (tmp_path / launch.FIRST_NOTEBOOK).write_text("{}")
    command = launch.jupyterlab_command(tmp_path, 9999, open_browser=False, as_root=False, python="py")
    assert command[:3] == ["py", "-m", "jupyterlab"]
    assert "--ServerApp.ip=127.0.0.1" in command and "--ServerApp.port=9999" in command
    assert "--ServerApp.port_retries=0" in command  # never silently move to another port
    assert f"--ServerApp.root_dir={tmp_path}" in command
    assert "--no-browser" in command and "--allow-root" not in command
    assert command[-1] == str(tmp_path / launch.FIRST_NOTEBOOK)


def test_root_gets_allow_root_and_a_missing_first_notebook_opens_the_tree(tmp_path: Path) -> None:
    command = launch.jupyterlab_command(tmp_path, 9999, as_root=True, python="py")
    assert "--allow-root" in command and "--no-browser" not in command
    assert not command[-1].endswith(".ipynb")


def test_a_notebooks_path_that_is_not_a_folder_is_a_clear_error(tmp_path: Path) -> None:
    status, _, err = run_main("--notebooks", str(tmp_path / "nowhere"), "--dry-run")
    assert status == 2 and "is not a folder" in err


def test_from_another_folder_it_falls_back_to_the_notebooks_beside_the_package(tmp_path: Path) -> None:
    assert launch.find_notebooks_dir(cwd=tmp_path) == (REPO / "notebooks").resolve()


def test_notebooks_folder_is_found_from_the_repository_root() -> None:
    assert launch.find_notebooks_dir(cwd=REPO) == (REPO / "notebooks").resolve()


HIDE_JUPYTERLAB = """
import sys
class HideJupyterLab:
    def find_spec(self, name, path=None, target=None):
        if name.partition('.')[0] == 'jupyterlab':
            raise ModuleNotFoundError(name)
        return None
sys.meta_path.insert(0, HideJupyterLab())
from httpslab.launch import main
sys.exit(main(['--dry-run', '--no-browser']))
"""


def test_without_jupyterlab_it_says_what_to_install() -> None:
    result = subprocess.run(
        [sys.executable, "-c", HIDE_JUPYTERLAB], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert result.returncode == 2, result.stderr
    assert "jupyterlab not installed" in result.stderr
    assert 'pip install -e ".[notebook]"' in result.stderr
    assert "Traceback" not in result.stderr


def wait_for_json(url: str, deadline: float) -> dict:
    """GET *url* until the server answers (it may announce its URL a moment before it listens)."""
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return json.load(response)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a redirect (to the login page) comes back as an HTTPError


@pytest.mark.timeout(120)
def test_the_launcher_really_starts_jupyterlab_on_loopback() -> None:
    """The README's first command ends with this: the one URL it prints opens JupyterLab."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("JUPYTER_TOKEN", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "httpslab.launch", "--port", "0", "--no-browser"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        url = port = token = None
        deadline = time.monotonic() + 90
        lines = []
        while time.monotonic() < deadline and url is None:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if match := re.fullmatch(
                r"\s+(http://127\.0\.0\.1:(\d+)/lab/tree/00_\S+\?token=(\w+))", line.rstrip()
            ):
                url, port, token = match.group(1), int(match.group(2)), match.group(3)
        assert url is not None, "the launcher printed no URL with a token:\n" + "".join(lines)
        urls = [line for line in lines if "http://" in line]
        assert len(urls) == 1, f"the launcher should print one URL, not {urls}"
        # the token never appears on JupyterLab's command line (other users can read that)
        assert token not in Path(f"/proc/{process.pid}/cmdline").read_text(errors="replace")
        status = wait_for_json(f"http://127.0.0.1:{port}/api/status?token={token}", deadline)
        assert "started" in status
        # the printed URL itself is the JupyterLab page, not a redirect to the login page
        with urllib.request.build_opener(_NoRedirect).open(url, timeout=10) as response:
            assert response.status == 200
            page = response.read().decode("utf-8", errors="replace")
        assert "jupyter-config-data" in page and "JupyterLab" in page
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents?token={token}", timeout=10) as r:
            listing = json.load(r)
        served = {item["name"] for item in listing["content"]}
        notebooks = {p.name for p in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")}
        assert notebooks <= served, f"not served: {sorted(notebooks - served)}"
        # and without the token the same page is a redirect to the login page
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.build_opener(_NoRedirect).open(url.partition("?")[0], timeout=10)
        assert refused.value.code in (302, 303) and "login" in refused.value.headers.get("Location", "")
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

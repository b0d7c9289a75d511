"""``python -m httpslab serve`` reads request heads whose lines end in a bare LF (issue 13).

RFC 9112 §2.2: "a recipient MAY recognize a single LF as a line terminator and ignore any
preceding CR"; OpenSSL's ``s_server -www`` answers such a request at once. The server runs as a
real subprocess and is reached through ``openssl s_client -quiet`` and Python's ``ssl``.
"""

from __future__ import annotations

import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from httpslab.cli import MAX_REQUEST_HEAD, _read_request_head
from httpslab.peers.openssl import openssl_s_client

pytestmark = pytest.mark.interop

REPO = Path(__file__).resolve().parents[2]
LOOPBACK = "127.0.0.1"
#: the server waits this long for a client's bytes: a request it does not see as complete
#: would hang for this long, far beyond the bound the tests give s_client
SERVER_TIMEOUT = 30.0
CLIENT_BOUND = 8.0


@dataclass
class Serve:
    process: subprocess.Popen[str]
    port: int
    ca_file: Path
    log: list[str] = field(default_factory=list)

    def wait_log(self, text: str, timeout: float = 10) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not any(text in line for line in self.log):
            time.sleep(0.02)
        return "".join(self.log)


@pytest.fixture(scope="module")
def serve() -> Iterator[Serve]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    process = subprocess.Popen(
        [sys.executable, "-m", "httpslab", "serve", "--port", "0", "--timeout", str(SERVER_TIMEOUT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        match = re.fullmatch(r"listening on https://127\.0\.0\.1:(\d+)/\n", process.stdout.readline())
        assert match is not None
        ca_line = process.stdout.readline()
        assert ca_line.startswith("CA file: ")
        running = Serve(process, int(match.group(1)), Path(ca_line.removeprefix("CA file: ").strip()))
        reader = threading.Thread(target=lambda: running.log.extend(process.stderr), daemon=True)  # type: ignore[arg-type]
        reader.start()
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _s_client(serve: Serve, request: bytes) -> tuple[str, float]:
    """``printf REQUEST | openssl s_client -quiet``: what it printed and how long it took."""
    started = time.monotonic()
    result = openssl_s_client(
        serve.port, input=request, cafile=serve.ca_file, extra_args=["-quiet"], timeout=CLIENT_BOUND
    )
    elapsed = time.monotonic() - started
    assert result.ok, result.stderr
    return result.stdout, elapsed


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET / HTTP/1.0\n\n",  # the request
        b"GET /lf HTTP/1.0\nHost: localhost\n\n",
        b"GET /mixed HTTP/1.1\r\nHost: localhost\n\r\n",
    ],
    ids=["bare-lf", "bare-lf-with-header", "mixed"],
)
def test_a_request_head_ending_in_bare_lf_gets_the_page_at_once(serve: Serve, request_bytes: bytes) -> None:
    page, elapsed = _s_client(serve, request_bytes)
    target = request_bytes.split(b" ")[1].decode()
    assert page.startswith("HTTP/1.1 200 OK\r\n"), page
    assert f"request: GET {target}\n" in page
    # at once: not after the server's read timeout (s_client would have been stopped at CLIENT_BOUND)
    assert elapsed < CLIENT_BOUND < SERVER_TIMEOUT


def test_crlf_requests_are_answered_as_before(serve: Serve) -> None:
    page, _ = _s_client(serve, b"GET /crlf HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    assert page.startswith("HTTP/1.1 200 OK\r\n") and "request: GET /crlf\n" in page


def test_a_head_over_the_limit_is_still_refused_even_with_an_empty_line(serve: Serve) -> None:
    """MAX_REQUEST_HEAD bytes without an empty line: the server gives up (no page), as before."""
    context = ssl.create_default_context(cafile=str(serve.ca_file))
    padding = b"X-Pad: " + b"a" * 1000 + b"\n"
    request = b"GET /huge HTTP/1.0\n" + padding * (MAX_REQUEST_HEAD // len(padding) + 2) + b"\n"
    answer = b""
    with socket.create_connection((LOOPBACK, serve.port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            try:  # the server stops reading and closes: the rest of the request may meet a reset
                tls.sendall(request)
                while chunk := tls.recv(65536):
                    answer += chunk
            except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
                pass
    assert b"200 OK" not in answer
    assert "no HTTP request" in serve.wait_log("no HTTP request")


class _FakeSession:
    """What _read_request_head reads from: a fixed sequence of received chunks."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = list(chunks)

    def recv(self) -> bytes:
        return self.chunks.pop(0) if self.chunks else b""


@pytest.mark.parametrize(
    "chunks",
    [
        (b"GET / HTTP/1.0\n", b"\n"),
        (b"GET / HTTP/1.0\r\n\r", b"\n"),
        (b"GET / HTTP/1.0\n\r", b"\n"),
        (b"GET / HTTP/1.0\r", b"\n", b"\r", b"\n"),
    ],
)
def test_the_empty_line_is_found_across_reads(chunks: tuple[bytes, ...]) -> None:
    assert _read_request_head(_FakeSession(*chunks)) == b"".join(chunks)  # type: ignore[arg-type]


def test_a_lone_cr_is_not_a_line_end() -> None:
    assert _read_request_head(_FakeSession(b"GET / HTTP/1.0\r\r", b"")) is None  # type: ignore[arg-type]

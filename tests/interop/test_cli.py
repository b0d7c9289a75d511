"""Tests for ``python -m httpslab get`` / ``serve`` (httpslab.cli) against real OpenSSL peers.

The server runs as a real subprocess (``--port 0``; the port is read from its first line)
and is hit by ``python -m httpslab get``, by Python's ``ssl`` (OpenSSL) and by a client that
sends garbage; ``get`` is also run against ``openssl s_server -www``. Everything on 127.0.0.1.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from httpslab import cli
from httpslab.cli import MAX_REQUEST_HEAD, _read_request_head
from httpslab.errors import UsageError
from httpslab.keylog import KeyLog
from httpslab.peers.openssl import OpenSSLServer, openssl_s_client, openssl_s_server
from httpslab.pki import demo_pki

pytestmark = pytest.mark.interop

REPO = Path(__file__).resolve().parents[2]
LOOPBACK = "127.0.0.1"


@dataclass
class Server:
    process: subprocess.Popen[str]
    port: int
    ca_file: Path | None
    log_lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()

    def _read_log(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log_lines.append(line)

    def wait_log(self, text: str, timeout: float = 10) -> str:
        """Wait until the server logged a line containing ``text``; return the log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.log_lines):
                break
            time.sleep(0.02)
        return "".join(self.log_lines)

    def stop(self) -> str:
        """Stop the server; return what it logged on stderr."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self._reader.join(5)
        return "".join(self.log_lines)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def start_server(*args: str) -> Server:
    process = subprocess.Popen(
        [sys.executable, "-m", "httpslab", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        cwd=REPO,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    match = re.fullmatch(r"listening on https://127\.0\.0\.1:(\d+)/\n", first)
    if match is None:
        process.kill()
        raise AssertionError(f"unexpected first line {first!r}; stderr: {process.communicate()[1]}")
    ca_file = None
    if "--cert" not in args:
        second = process.stdout.readline()
        assert second.startswith("CA file: "), second
        ca_file = Path(second.removeprefix("CA file: ").strip())
        assert ca_file.is_file()
    return Server(process, int(match.group(1)), ca_file)


def run_cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "httpslab", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(),
        cwd=REPO,
        check=False,
    )


def run_main(*args: str) -> tuple[int, str, str]:
    """Run the CLI in this process (faster than a subprocess)."""
    out, err = io.StringIO(), io.StringIO()
    status = cli.main(list(args), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    running = start_server()
    yield running
    running.stop()


def _ssl_get(
    port: int, ca_file: Path, *, cipher: str | None = None, server_name: str = "localhost"
) -> tuple[bytes, tuple]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.load_verify_locations(cafile=str(ca_file))
    if cipher:
        context.set_ciphers(cipher)
    with socket.create_connection((LOOPBACK, port), timeout=10) as raw:
        tls = context.wrap_socket(raw, server_hostname=server_name)
        tls.sendall(b"GET /from-ssl HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        data = bytearray()
        while chunk := tls.recv(65536):
            data += chunk
        cipher_info = tls.cipher()
        tls.unwrap()  # succeeds only if the server sent close_notify
    return bytes(data), cipher_info


# ---------------------------------------------------------------------------------- serve


def test_serve_answers_python_ssl_with_the_suite_openssl_negotiated(server: Server) -> None:
    assert server.ca_file is not None
    response, cipher_info = _ssl_get(server.port, server.ca_file, cipher="ECDHE-RSA-AES256-GCM-SHA384")
    assert response.startswith(b"HTTP/1.1 200 OK\r\n")
    body = response.partition(b"\r\n\r\n")[2]
    assert cipher_info[0] == "ECDHE-RSA-AES256-GCM-SHA384"
    assert cipher_info[1] == "TLSv1.2"
    assert b"version: TLSv1.2\n" in body
    assert b"cipher suite: TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\n" in body
    assert b"request: GET /from-ssl\n" in body


def test_get_subprocess_against_serve(server: Server) -> None:
    assert server.ca_file is not None
    result = run_cli(
        "get",
        f"https://localhost:{server.port}/hello?x=1",
        "--cafile",
        str(server.ca_file),
        "--cipher",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    )
    assert result.returncode == 0, result.stderr
    assert "cipher suite: TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256\n" in result.stdout
    assert "request: GET /hello?x=1\n" in result.stdout
    assert "server name (SNI): localhost\n" in result.stdout
    assert result.stdout.startswith("httpslab demo server")  # the body only, no HTTP head


def test_serve_keeps_serving_after_a_garbage_client(server: Server) -> None:
    assert server.ca_file is not None
    with socket.create_connection((LOOPBACK, server.port), timeout=10) as raw:
        raw.sendall(b"GET / HTTP/1.0\r\n\r\n")  # plain HTTP to a TLS port
        answer = bytearray()
        while chunk := raw.recv(4096):
            answer += chunk
    # not TLS: no alert back, as OpenSSL 3.0 ("Doesn't look like TLS - don't send an alert")
    assert answer == b""
    # a client that connects and hangs up at once
    socket.create_connection((LOOPBACK, server.port), timeout=10).close()
    status, out, err = run_main(
        "get", f"https://127.0.0.1:{server.port}/again", "--cafile", str(server.ca_file)
    )
    assert status == 0, err
    assert "request: GET /again" in out
    assert "server name (SNI): -" in out  # no SNI for an IP literal (RFC 6066 §3)


def test_serve_is_not_blocked_by_a_silent_client(server: Server) -> None:
    assert server.ca_file is not None
    with socket.create_connection((LOOPBACK, server.port), timeout=10):  # connects, says nothing
        started = time.monotonic()
        status, out, err = run_main(
            "get", f"https://localhost:{server.port}/busy", "--cafile", str(server.ca_file)
        )
        assert time.monotonic() - started < 5
    assert status == 0, err
    assert "request: GET /busy" in out


def test_get_warns_when_the_server_truncates(tmp_path: Path) -> None:
    """A server that ends the TCP stream without close_notify: the body is printed, with a warning."""
    files = demo_pki("rsa").write_pem_files(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(files.server_chain_file, files.server_key_file)
    listener = socket.socket()
    listener.bind((LOOPBACK, 0))
    listener.listen(1)
    listener.settimeout(10)

    def serve() -> None:
        raw, _ = listener.accept()
        with context.wrap_socket(raw, server_side=True) as tls:
            tls.recv(65536)
            tls.sendall(b"HTTP/1.0 200 OK\r\n\r\npartial")
            raw_again = socket.socket(fileno=tls.detach())  # no close_notify: just end the TCP stream
            raw_again.shutdown(socket.SHUT_RDWR)
            raw_again.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    status, out, err = run_main(
        "get", f"https://localhost:{listener.getsockname()[1]}/", "--cafile", str(files.ca_file)
    )
    thread.join(10)
    listener.close()
    assert status == 0
    assert out == "partial"
    assert "without close_notify" in err


def test_get_writes_the_keylog_even_when_the_server_finished_is_bad(server: Server, tmp_path: Path) -> None:
    """Keys exist once ClientKeyExchange is sent: the key log gets its line even if the handshake fails."""
    assert server.ca_file is not None
    keylog = tmp_path / "keys.txt"
    with socket.socket() as listener:
        listener.bind((LOOPBACK, 0))
        listener.listen(1)
        port = listener.getsockname()[1]

        def relay_with_bad_finished() -> None:
            client, _ = listener.accept()
            upstream = socket.create_connection((LOOPBACK, server.port), timeout=10)
            client.settimeout(10)
            stream = bytearray()

            def pump_up() -> None:
                try:
                    while data := client.recv(65536):
                        upstream.sendall(data)
                except OSError:
                    pass
                upstream.close()

            threading.Thread(target=pump_up, daemon=True).start()
            try:
                while data := upstream.recv(65536):
                    stream += data
                    if b"\x14\x03\x03\x00\x01\x01\x16\x03\x03" in data:  # CCS then Finished
                        data = bytearray(data)
                        data[-1] ^= 0x01
                    client.sendall(bytes(data))
            except OSError:
                pass
            client.close()

        thread = threading.Thread(target=relay_with_bad_finished, daemon=True)
        thread.start()
        status, out, err = run_main(
            "get", f"https://localhost:{port}/", "--cafile", str(server.ca_file), "--keylog", str(keylog)
        )
        thread.join(10)
    assert status == 1 and out == ""
    assert err.endswith("(alert bad_record_mac sent)\n"), err
    (entry,) = KeyLog.load(keylog).entries
    assert len(entry.secret) == 48


def test_serve_with_client_ca_requires_a_client_certificate(tmp_path: Path) -> None:
    files = demo_pki("rsa").write_pem_files(tmp_path)
    running = start_server(
        "--cert",
        str(files.server_chain_file),
        "--key",
        str(files.server_key_file),
        "--client-ca",
        str(files.ca_file),
    )
    try:
        url = f"https://localhost:{running.port}/mtls"
        status, out, err = run_main(
            "get",
            url,
            "--cafile",
            str(files.ca_file),
            "--cert",
            str(files.client_chain_file),
            "--key",
            str(files.client_key_file),
        )
        assert status == 0, err
        assert "client certificate: yes" in out
        status, out, err = run_main("get", url, "--cafile", str(files.ca_file))
        assert status == 1
        assert out == ""
        assert err.count("\n") == 1
        assert re.fullmatch(r"httpslab: handshake failed: .* \(alert handshake_failure received\)\n", err), (
            err
        )
        log = running.wait_log("handshake failed")
    finally:
        running.stop()
    assert "GET /mtls -> 200" in log
    assert "handshake failed: the client did not send a certificate" in log
    assert "(alert handshake_failure sent)" in log


def test_serve_once_exits_after_one_client(tmp_path: Path) -> None:
    running = start_server("--once", "--cipher", "ECDHE-RSA-AES128-GCM-SHA256")
    assert running.ca_file is not None
    response, cipher_info = _ssl_get(running.port, running.ca_file)
    assert cipher_info[0] == "ECDHE-RSA-AES128-GCM-SHA256"
    assert b"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" in response
    assert running.process.wait(timeout=10) == 0


# ---------------------------------------------------------------------------------- get


def _s_server(tmp_path: Path, **options: Any) -> AbstractContextManager[OpenSSLServer]:
    """``openssl s_server -www`` serving the demo PKI's RSA chain (leaf + intermediate)."""
    files = demo_pki("rsa").write_pem_files(tmp_path)
    return openssl_s_server(
        cert_file=files.server_cert_file,
        key_file=files.server_key_file,
        chain_file=files.intermediate_file,
        ca_file=files.ca_file,
        **options,
    )


def test_get_against_openssl_s_server_writes_the_same_keylog(tmp_path: Path) -> None:
    server_keylog = tmp_path / "server-keys.txt"
    client_keylog = tmp_path / "client-keys.txt"
    with _s_server(tmp_path, keylog_file=server_keylog) as s_server:
        status, out, err = run_main(
            "get",
            f"https://localhost:{s_server.port}/",
            "--cafile",
            str(s_server.ca_file),
            "--cipher",
            "DHE-RSA-AES128-SHA256",
            "--keylog",
            str(client_keylog),
            "--trace",
        )
    assert status == 0, err
    assert "Cipher is DHE-RSA-AES128-SHA256" in out  # s_server's status page names the suite
    assert "Protocol  : TLSv1.2" in out
    ours = KeyLog.load(client_keylog)
    theirs = KeyLog.load(server_keylog)
    (entry,) = ours.entries
    assert theirs.master_secret_for(entry.client_random) == entry.secret
    # --trace: the annotated ladder on stderr
    assert "negotiated: TLSv1.2 TLS_DHE_RSA_WITH_AES_128_CBC_SHA256" in err
    assert "ServerKeyExchange" in err and "Alert close_notify" in err
    assert "HTTP: HTTP/1.0 200 ok" in err


def test_get_wrong_host_is_one_line_with_the_alert(server: Server) -> None:
    assert server.ca_file is not None
    result = run_cli(
        "get",
        f"https://127.0.0.1:{server.port}/",
        "--cafile",
        str(server.ca_file),
        "--server-name",
        "www.example.com",
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("httpslab: handshake failed: certificate does not match the host name")
    assert result.stderr.endswith("(alert bad_certificate sent)\n")


def test_get_unknown_ca(server: Server, tmp_path: Path) -> None:
    other = tmp_path / "other-ca.pem"
    other.write_bytes(
        demo_pki("rsa")
        .make_root("httpslab DEMO Other Root", key_role="other-root")
        .public_bytes(
            __import__("cryptography.hazmat.primitives.serialization", fromlist=["Encoding"]).Encoding.PEM
        )
    )
    status, out, err = run_main("get", f"https://localhost:{server.port}/", "--cafile", str(other))
    assert status == 1 and out == ""
    assert re.fullmatch(
        r"httpslab: handshake failed: certificate is not signed by a trusted CA.*\(alert unknown_ca sent\)\n",
        err,
    ), err


def test_get_connection_refused() -> None:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port = probe.getsockname()[1]  # bound, not listening: refused
        status, out, err = run_main("get", f"https://127.0.0.1:{port}/")
    assert status == 1 and out == ""
    assert err.startswith(f"httpslab: cannot connect to 127.0.0.1:{port}: ")
    assert err.count("\n") == 1


def test_get_connection_refused_on_localhost_names_the_os_reason() -> None:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port = probe.getsockname()[1]
        status, out, err = run_main("get", f"https://localhost:{port}/")
    assert (status, out) == (1, "")
    assert err == f"httpslab: cannot connect to localhost:{port}: Connection refused\n"


class _SessionThatLosesItsSocket(cli.TLSSession):
    """A session whose socket can no longer send once the handshake is done (a real EPIPE)."""

    def send(self, data: bytes) -> None:
        self.socket.shutdown(socket.SHUT_WR)
        super().send(data)


def test_get_reports_a_socket_that_broke_after_the_handshake(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the library raises TransportError (cause: BrokenPipeError); the CLI's line stays the
    # one it printed for the raw OSError
    assert server.ca_file is not None
    monkeypatch.setattr(cli, "TLSSession", _SessionThatLosesItsSocket)
    status, out, err = run_main("get", f"https://localhost:{server.port}/", "--cafile", str(server.ca_file))
    assert (status, out) == (1, "")
    assert err == "httpslab: connection failed: Broken pipe (no alert sent)\n"


def test_get_times_out_on_a_silent_server() -> None:
    with socket.socket() as listener:
        listener.bind((LOOPBACK, 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        started = time.monotonic()
        status, _, err = run_main("get", f"https://127.0.0.1:{port}/", "--timeout", "0.5")
        elapsed = time.monotonic() - started
    assert status == 1
    assert elapsed < 5
    assert err.startswith("httpslab: handshake failed: no answer from the peer within 0.5 s")


@pytest.mark.parametrize(
    "args",
    [
        ("get", "http://localhost/"),
        ("get", "https://localhost:99999/"),
        ("get", "https://localhost/", "--cipher", "NO-SUCH-SUITE"),
        ("get", "https://localhost/", "--key", "k.pem"),
        ("serve", "--cert", "c.pem"),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    status, out, err = run_main(*args)
    assert status == 2
    assert out == ""
    assert "httpslab: error: " in err


def test_argparse_usage_errors_exit_2() -> None:
    result = run_cli("get")
    assert result.returncode == 2
    assert "url" in result.stderr
    result = run_cli("frobnicate")
    assert result.returncode == 2


def test_parse_https_url() -> None:
    assert cli.parse_https_url("https://localhost:8443/a/b?c=d") == ("localhost", 8443, "/a/b?c=d")
    assert cli.parse_https_url("https://127.0.0.1") == ("127.0.0.1", 443, "/")
    assert cli.parse_https_url("https://[::1]:9/") == ("::1", 9, "/")
    with pytest.raises(UsageError):
        cli.parse_https_url("ftp://x/")


def test_trace_of_a_failed_handshake_shows_the_alert_in_the_ladder(server: Server) -> None:
    assert server.ca_file is not None
    status, out, err = run_main(
        "get",
        f"https://127.0.0.1:{server.port}/",
        "--cafile",
        str(server.ca_file),
        "--server-name",
        "www.example.com",
        "--trace",
    )
    assert status == 1 and out == ""
    lines = err.splitlines()
    assert lines[-1].startswith("httpslab: handshake failed: certificate does not match the host name")
    ladder = "\n".join(lines[:-1])
    assert "ClientHello" in ladder and "Certificate" in ladder
    assert "Alert bad_certificate" in ladder.splitlines()[-1]  # the last message: our fatal alert
    assert "peer certificate: Rejected for www.example.com at the 'name' check" in ladder


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_serve_answers_curl(server: Server) -> None:
    """curl (libcurl + OpenSSL, offering TLS 1.3 and ALPN h2) gets TLS 1.2 and HTTP/1.1."""
    assert server.ca_file is not None
    result = subprocess.run(
        ["curl", "-sS", "--cacert", str(server.ca_file), f"https://localhost:{server.port}/from-curl"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "version: TLSv1.2\n" in result.stdout
    assert "request: GET /from-curl\n" in result.stdout


def test_serve_answers_a_default_python_client_that_also_offers_tls13(server: Server) -> None:
    assert server.ca_file is not None
    context = ssl.create_default_context(cafile=str(server.ca_file))  # TLS 1.2 and 1.3
    with socket.create_connection((LOOPBACK, server.port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.version() == "TLSv1.2"
            cipher = tls.cipher()
            tls.sendall(b"GET /default HTTP/1.1\r\nHost: localhost\r\n\r\n")
            data = bytearray()
            while chunk := tls.recv(65536):
                data += chunk
    assert cipher is not None
    assert f"cipher suite: {_iana_name(cipher[0])}\n".encode() in data


def _iana_name(openssl_name: str) -> str:
    from httpslab.crypto.suites import SUITES, suite_info

    return next(s.name for s in SUITES if suite_info(s).openssl_name == openssl_name)


# -- serve reads request heads whose lines end in a bare LF (issue 13) --------------------------
# RFC 9112 §2.2: "a recipient MAY recognize a single LF as a line terminator and ignore any
# preceding CR"; OpenSSL's s_server -www answers such a request at once.
#: serve's read timeout here: a request it did not see as complete would hang this long, far
#: beyond the bound s_client gets
SERVER_TIMEOUT = 30.0
CLIENT_BOUND = 8.0


@pytest.fixture(scope="module")
def lf_server() -> Iterator[Server]:
    running = start_server("--timeout", str(SERVER_TIMEOUT))
    yield running
    running.stop()


def _s_client_quiet(lf_server: Server, request: bytes) -> tuple[str, float]:
    """``printf REQUEST | openssl s_client -quiet``: what it printed and how long it took."""
    started = time.monotonic()
    result = openssl_s_client(
        lf_server.port, input=request, cafile=lf_server.ca_file, extra_args=["-quiet"], timeout=CLIENT_BOUND
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
def test_a_request_head_ending_in_bare_lf_gets_the_page_at_once(
    lf_server: Server, request_bytes: bytes
) -> None:
    page, elapsed = _s_client_quiet(lf_server, request_bytes)
    target = request_bytes.split(b" ")[1].decode()
    assert page.startswith("HTTP/1.1 200 OK\r\n"), page
    assert f"request: GET {target}\n" in page
    # at once: not after the server's read timeout (s_client would have been stopped at CLIENT_BOUND)
    assert elapsed < CLIENT_BOUND < SERVER_TIMEOUT


def test_crlf_requests_are_answered_as_before(lf_server: Server) -> None:
    page, _ = _s_client_quiet(
        lf_server, b"GET /crlf HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    assert page.startswith("HTTP/1.1 200 OK\r\n") and "request: GET /crlf\n" in page


def test_a_head_over_the_limit_is_still_refused_even_with_an_empty_line(lf_server: Server) -> None:
    """MAX_REQUEST_HEAD bytes without an empty line: the server gives up (no page), as before."""
    context = ssl.create_default_context(cafile=str(lf_server.ca_file))
    padding = b"X-Pad: " + b"a" * 1000 + b"\n"
    request = b"GET /huge HTTP/1.0\n" + padding * (MAX_REQUEST_HEAD // len(padding) + 2) + b"\n"
    answer = b""
    with socket.create_connection((LOOPBACK, lf_server.port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            try:  # the server stops reading and closes: the rest of the request may meet a reset
                tls.sendall(request)
                while chunk := tls.recv(65536):
                    answer += chunk
            except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
                pass
    assert b"200 OK" not in answer
    assert "no HTTP request" in lf_server.wait_log("no HTTP request")


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

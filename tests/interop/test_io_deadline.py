"""The whole-handshake deadline of the blocking drivers (``handshake_timeout``).

``timeout`` bounds each read, so a peer that trickles one byte every 0.2 s would keep a
handshake going forever; ``handshake_timeout`` bounds the whole handshake. Each test uses
a real loopback peer that sends a valid TLS record header (RFC 5246 §6.2.1) and then the
record's body one byte at a time, and checks the typed error and how long it took.
"""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from httpslab import cli
from httpslab.connection import Credential, TLSConfig
from httpslab.errors import HandshakeTimeout, TLSError, TransportError
from httpslab.io import HANDSHAKE_TIMEOUT, TLSServer, connect
from httpslab.pki.ca import DemoPKI

LOOPBACK = "127.0.0.1"
TRICKLE_INTERVAL = 0.2
# handshake record, TLS 1.2, 64 bytes announced: the body then comes one byte at a time
RECORD_HEADER = bytes([0x16, 0x03, 0x03, 0x00, 0x40])
SERVER_HELLO_START = bytes([0x02, 0x00, 0x00, 0x3C, 0x03, 0x03]) + bytes(58)


def _trickle(sock: socket.socket, stop: threading.Event) -> None:
    """Send a record header at once, then its body one byte every TRICKLE_INTERVAL."""
    try:
        sock.sendall(RECORD_HEADER)
        for byte in SERVER_HELLO_START:
            if stop.wait(TRICKLE_INTERVAL):
                return
            sock.sendall(bytes([byte]))
        stop.wait(10)
    except OSError:
        pass  # the client gave up and closed: what the test expects


#: how long the fake server's accept() waits before it looks at its stop flag again
ACCEPT_POLL = 0.05


@pytest.fixture
def trickling_server() -> Iterator[int]:
    """A loopback TCP server that reads the ClientHello and answers a byte at a time.

    Closing a listening socket from another thread does not wake an accept() blocked on it,
    so the server thread polls: a short accept timeout, then a look at the stop flag. At
    teardown every thread it started must have ended (none is left behind for later tests).
    """
    stop = threading.Event()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((LOOPBACK, 0))
    listener.listen(4)
    listener.settimeout(ACCEPT_POLL)
    connections: list[socket.socket] = []
    tricklers: list[threading.Thread] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            connections.append(client)
            client.settimeout(5)
            try:
                client.recv(65536)  # the ClientHello
            except OSError:
                continue
            trickler = threading.Thread(target=_trickle, args=(client, stop), daemon=True)
            tricklers.append(trickler)
            trickler.start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(2)
    listener.close()
    for client in connections:
        client.close()
    for trickler in tricklers:
        trickler.join(2)
    assert not thread.is_alive(), "the trickling server's accept loop did not stop"
    assert not any(t.is_alive() for t in tricklers), "a trickling thread did not stop"


def test_connect_gives_up_on_a_trickling_server_at_the_deadline(trickling_server: int) -> None:
    started = time.monotonic()
    with pytest.raises(HandshakeTimeout, match=r"did not finish within 1 s") as info:
        connect(LOOPBACK, trickling_server, verify=False, timeout=5, handshake_timeout=1.0)
    elapsed = time.monotonic() - started
    # every single read got a byte well within the per-read timeout of 5 s: only the
    # whole-handshake deadline can have stopped it, and it did so on time
    assert 0.95 <= elapsed < 1.6, elapsed
    assert isinstance(info.value, TransportError) and isinstance(info.value, TLSError)
    assert not isinstance(info.value, OSError)


def test_the_per_read_timeout_still_applies_inside_the_deadline() -> None:
    with socket.socket() as silent:
        silent.bind((LOOPBACK, 0))
        silent.listen(1)
        started = time.monotonic()
        with pytest.raises(TransportError, match=r"no answer from the peer within 0.3 s") as info:
            connect(LOOPBACK, silent.getsockname()[1], verify=False, timeout=0.3, handshake_timeout=5)
        elapsed = time.monotonic() - started
    assert not isinstance(info.value, HandshakeTimeout)
    assert elapsed < 2


def test_connect_has_a_deadline_by_default() -> None:
    import inspect

    assert inspect.signature(connect).parameters["handshake_timeout"].default == HANDSHAKE_TIMEOUT
    assert inspect.signature(TLSServer).parameters["handshake_timeout"].default == HANDSHAKE_TIMEOUT
    assert HANDSHAKE_TIMEOUT == 30.0


@pytest.fixture(scope="module")
def pki() -> DemoPKI:
    return DemoPKI("ecdsa")


def test_the_per_read_timeout_is_restored_after_the_handshake(pki: DemoPKI, tmp_path_factory) -> None:
    files = pki.write_pem_files(tmp_path_factory.mktemp("pem"))
    config = TLSConfig(credentials=[Credential((pki.server, pki.intermediate), pki.server_key)])
    with TLSServer(config, timeout=5) as server:
        server.serve_in_background(max_sessions=1)
        with connect(
            *server.address, server_name="localhost", cafile=files.ca_file, timeout=7, handshake_timeout=3
        ) as session:
            assert session.socket.gettimeout() == 7
            session.send(b"x")
            assert session.recv() == b"x"


def test_the_server_gives_up_on_a_trickling_client(pki: DemoPKI) -> None:
    config = TLSConfig(credentials=[Credential((pki.server, pki.intermediate), pki.server_key)])
    stop = threading.Event()
    with TLSServer(config, timeout=5, handshake_timeout=1.0) as server:
        client = socket.create_connection(server.address, timeout=5)
        # a ClientHello record header, then the body one byte at a time
        trickler = threading.Thread(target=_trickle, args=(client, stop), daemon=True)
        trickler.start()
        started = time.monotonic()
        try:
            with pytest.raises(HandshakeTimeout, match="within 1 s"):
                server.accept()
            elapsed = time.monotonic() - started
        finally:
            stop.set()
            client.close()
            trickler.join(5)
    assert 0.95 <= elapsed < 1.6, elapsed


def test_cli_get_reports_the_deadline_in_one_line(trickling_server: int) -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    started = time.monotonic()
    status = cli.main(
        ["get", f"https://127.0.0.1:{trickling_server}/", "--handshake-timeout", "0.6"],
        stdout=stdout,
        stderr=stderr,
    )
    elapsed = time.monotonic() - started
    err = stderr.getvalue()
    assert status == 1 and stdout.getvalue() == ""
    assert (
        err
        == "httpslab: handshake failed: the handshake did not finish within 0.6 s (the peer is too slow) (no alert sent)\n"
    )
    assert elapsed < 1.5

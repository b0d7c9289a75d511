"""A peer's close_notify that arrives in the same read as its Finished (issue 13).

The handshake completed (both Finished verified, RFC 5246 §7.4.9); the close that follows is
the connection's clean close (§7.2.1), not a handshake failure. In memory both messages go into
one ``receive_data`` call; against OpenSSL, ``openssl s_server -quiet`` with its standard input
at EOF closes every connection right after its handshake and sends both in one flight.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from httpslab.connection import (
    ClientConnection,
    ConnectionClosed,
    Credential,
    HandshakeComplete,
    ServerConnection,
    TLSConfig,
)
from httpslab.connection.tables import State
from httpslab.enums import AlertDescription, ContentType
from httpslab.errors import AlertReceived, LocalProtocolError
from httpslab.io import connect
from httpslab.pki import demo_pki
from httpslab.pki.ca import DemoPKI, PemFiles
from httpslab.record import split_records

LOOPBACK = "127.0.0.1"


@pytest.fixture(scope="module")
def pki() -> DemoPKI:
    return demo_pki("rsa")


def _pair(pki: DemoPKI) -> tuple[ClientConnection, ServerConnection]:
    credential = Credential((pki.server, pki.intermediate), pki.server_key)
    client = ClientConnection(TLSConfig(server_name="localhost", trust_anchors=[pki.root]))
    return client, ServerConnection(TLSConfig(credentials=[credential]))


def _up_to_the_client_finished(pki: DemoPKI) -> tuple[ClientConnection, ServerConnection]:
    """Both sides after the client sent its Finished; the server has not read it yet."""
    client, server = _pair(pki)
    client.start_handshake()
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    return client, server


def _content_types(data: bytes) -> list[int]:
    records, rest = split_records(data)
    assert rest == b""
    return [record.content_type for record in records]


# ------------------------------------------------------------------------------ in memory


def test_the_server_finished_and_close_notify_in_one_read_complete_the_handshake(pki: DemoPKI) -> None:
    client, server = _up_to_the_client_finished(pki)
    server.receive_data(client.data_to_send())  # the client's Finished: the server answers
    assert server.handshake_complete
    server.close()  # close_notify right behind the Finished, as s_server at EOF does
    flight = server.data_to_send()
    assert _content_types(flight) == [
        ContentType.CHANGE_CIPHER_SPEC,
        ContentType.HANDSHAKE,
        ContentType.ALERT,
    ]

    events = client.receive_data(flight)  # one call, both messages

    assert [type(event) for event in events] == [HandshakeComplete, ConnectionClosed]
    assert events[1] == ConnectionClosed(by_peer=True, clean=True)
    assert client.handshake_complete and client.state is State.CLOSED and client.error is None
    assert _content_types(client.data_to_send()) == [ContentType.ALERT]  # its own close_notify
    with pytest.raises(LocalProtocolError, match="CLOSED"):
        client.send_data(b"too late")


def test_the_client_finished_and_close_notify_in_one_read_complete_the_handshake(pki: DemoPKI) -> None:
    """The same for the server, whose client closes right after its Finished."""
    client, server = _up_to_the_client_finished(pki)
    finished = client.data_to_send()
    client.close()
    events = server.receive_data(finished + client.data_to_send())
    assert [type(event) for event in events] == [HandshakeComplete, ConnectionClosed]
    assert server.handshake_complete and server.state is State.CLOSED


def test_a_close_notify_before_the_finished_is_still_a_failed_handshake(pki: DemoPKI) -> None:
    """The order decides: a close_notify ahead of the ChangeCipherSpec and Finished ends an
    unfinished handshake, an error (RFC 5246 §7.2.1)."""
    client, server = _up_to_the_client_finished(pki)
    server.receive_data(client.data_to_send())
    plain_close_notify = bytes([ContentType.ALERT, 3, 3, 0, 2, 1, AlertDescription.CLOSE_NOTIFY])
    with pytest.raises(AlertReceived, match="during the handshake"):
        client.receive_data(plain_close_notify + server.data_to_send())
    assert not client.handshake_complete and client.state is State.ERROR


# ------------------------------------------------------------------------------ OpenSSL


@pytest.fixture(scope="module")
def pem_files(pki: DemoPKI, tmp_path_factory: pytest.TempPathFactory) -> PemFiles:
    return pki.write_pem_files(tmp_path_factory.mktemp("pki"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def _wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Until s_server accepts (``-quiet`` does not print ACCEPT); the probe just hangs up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection((LOOPBACK, port), timeout=1).close()
            return
        except ConnectionRefusedError:
            time.sleep(0.02)
    raise AssertionError(f"openssl s_server did not listen on {port} (exit status {process.poll()})")


@pytest.fixture
def s_server_at_eof(pem_files: PemFiles) -> Iterator[int]:
    """``openssl s_server -tls1_2 -quiet`` with standard input at EOF: after each handshake it
    reads EOF from stdin and closes the connection (close_notify). Yields its port."""
    port = _free_port()
    args = [
        "openssl", "s_server", "-accept", f"{LOOPBACK}:{port}", "-tls1_2", "-quiet",
        "-cert", str(pem_files.server_cert_file), "-key", str(pem_files.server_key_file),
        "-cert_chain", str(pem_files.intermediate_file),
    ]  # fmt: skip
    process = subprocess.Popen(
        args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        _wait_listening(port, process)
        yield port
    finally:
        process.terminate()
        try:
            process.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate(timeout=5)


def _ssl_handshakes_then_sees_the_close(port: int, ca_file: Path) -> bool:
    """The reference: Python's ssl (OpenSSL) completes the handshake, then reads the end."""
    context = ssl.create_default_context(cafile=str(ca_file))
    with socket.create_connection((LOOPBACK, port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            return tls.version() == "TLSv1.2" and tls.recv(100) == b""


@pytest.mark.interop
def test_connect_succeeds_against_s_server_at_eof_and_then_sees_its_close(
    s_server_at_eof: int, pem_files: PemFiles
) -> None:
    assert _ssl_handshakes_then_sees_the_close(s_server_at_eof, pem_files.ca_file)
    for _ in range(3):  # every connection: s_server closes each one the same way
        session = connect(
            LOOPBACK, s_server_at_eof, server_name="localhost", cafile=pem_files.ca_file, timeout=10
        )
        with session:
            assert session.connection.handshake_complete
            assert any(isinstance(event, HandshakeComplete) for event in session.events)
            assert session.recv() == b""  # the server's close, reported as the clean end of the stream
            assert session.events[-1] == ConnectionClosed(by_peer=True, clean=True)
            assert session.connection.state is State.CLOSED

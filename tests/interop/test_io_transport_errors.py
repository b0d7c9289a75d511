"""Socket failures under the blocking drivers come out as :class:`TransportError`, never raw.

DESIGN.md: nothing outside the ``TLSError`` hierarchy escapes a library call. A refused
connect, a broken pipe while sending (during the handshake or after it), a failed read, a
failed ``accept`` or ``bind`` each raise :class:`~httpslab.errors.TransportError` that says
what failed, with the OSError kept as ``__cause__``. A reset while reading stays what it
always was: the end of the stream (``recv`` returns ``b""``).

The failures are real: a closed port, a socket pair whose other end was closed, a listening
socket that was closed, a port that is already taken. Everything on 127.0.0.1 or a local
socket pair.
"""

from __future__ import annotations

import errno
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from httpslab import io
from httpslab.connection import ClientConnection, Credential, ServerConnection, TLSConfig
from httpslab.enums import AlertDescription
from httpslab.errors import KeyLogError, RemoteProtocolError, TransportError
from httpslab.io import (
    TLSServer,
    TLSSession,
    bound_socket,
    connect,
    load_trust_anchors,
    loopback_connection,
)
from httpslab.pki.ca import DemoPKI, PemFiles

LOOPBACK = "127.0.0.1"


@pytest.fixture(scope="module")
def pki() -> DemoPKI:
    return DemoPKI("ecdsa")


@pytest.fixture(scope="module")
def files(pki: DemoPKI, tmp_path_factory: pytest.TempPathFactory) -> PemFiles:
    return pki.write_pem_files(tmp_path_factory.mktemp("pem"))


@pytest.fixture
def server_config(pki: DemoPKI) -> TLSConfig:
    return TLSConfig(credentials=[Credential((pki.server, pki.intermediate), pki.server_key)])


def _closed_port() -> int:
    """A loopback port that nothing listens on (bound a moment ago, then released)."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def _assert_transport_error(error: BaseException, cause: type[OSError]) -> None:
    assert type(error) is TransportError, type(error)  # not a HandshakeTimeout either
    assert not isinstance(error, OSError)
    assert isinstance(error.__cause__, cause), repr(error.__cause__)


@pytest.fixture
def session_pair(server_config: TLSConfig, files: PemFiles) -> Iterator[tuple[TLSSession, TLSSession]]:
    """(client, server) sessions after a real handshake over a local socket pair."""
    client_socket, server_socket = socket.socketpair()
    for sock in (client_socket, server_socket):
        sock.settimeout(5)
    client = TLSSession(
        client_socket,
        ClientConnection(TLSConfig(server_name="localhost", trust_anchors=load_trust_anchors(files.ca_file))),
    )
    server = TLSSession(server_socket, ServerConnection(server_config))
    server_errors: list[BaseException] = []

    def serve() -> None:
        try:
            server.handshake(5)
        except BaseException as exc:
            server_errors.append(exc)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client.handshake(5)
    thread.join(5)
    assert not thread.is_alive() and not server_errors, server_errors
    yield client, server
    client_socket.close()
    server_socket.close()


# ------------------------------------------------------------------------------ connect
def test_connect_to_a_closed_port_is_a_transport_error() -> None:
    port = _closed_port()
    with pytest.raises(
        TransportError, match=rf"^connecting to 127\.0\.0\.1:{port} failed: Connection refused$"
    ) as info:
        connect(LOOPBACK, port, verify=False, timeout=2)
    _assert_transport_error(info.value, ConnectionRefusedError)


def test_loopback_connection_by_name_to_a_closed_port_is_a_transport_error() -> None:
    port = _closed_port()
    with pytest.raises(TransportError, match=rf"^connecting to localhost:{port} failed: ") as info:
        loopback_connection("localhost", port, timeout=2)
    _assert_transport_error(info.value, ConnectionRefusedError)


# ------------------------------------------------------------------------------ sending
def test_a_broken_pipe_while_sending_the_client_hello_is_a_transport_error() -> None:
    # only TimeoutError used to be converted in the handshake: an EPIPE escaped raw
    ours, theirs = socket.socketpair()
    theirs.close()
    ours.settimeout(5)
    session = TLSSession(ours, ClientConnection(TLSConfig(server_name="localhost", verify=False)))
    with pytest.raises(TransportError, match=r"^sending to the peer failed: Broken pipe$") as info:
        session.handshake(5)
    _assert_transport_error(info.value, BrokenPipeError)
    assert session.closed and ours.fileno() == -1  # a failed handshake leaves nothing open


def test_send_to_a_peer_that_is_gone_is_a_transport_error(session_pair) -> None:
    client, server = session_pair
    server.socket.close()  # gone without close_notify
    with pytest.raises(TransportError, match=r"^sending to the peer failed: ") as info:
        client.send(b"anyone there?")
    _assert_transport_error(info.value, BrokenPipeError)
    client.close()  # closing a session whose peer is gone raises nothing
    assert client.closed


# ------------------------------------------------------------------------------ receiving
def test_a_failed_read_is_a_transport_error(session_pair) -> None:
    client, _ = session_pair
    client.socket.close()  # the descriptor under the session is gone: the read fails (EBADF)
    with pytest.raises(
        TransportError, match=r"^receiving from the peer failed: Bad file descriptor$"
    ) as info:
        client.recv()
    _assert_transport_error(info.value, OSError)


def test_a_peer_that_hangs_up_is_still_the_end_of_the_stream(session_pair) -> None:
    client, server = session_pair
    server.socket.close()
    assert client.recv() == b""  # no error: an unclean end, which the session records
    assert client.events[-1].__class__.__name__ == "ConnectionClosed"
    assert not client.events[-1].clean


# ------------------------------------------------------------------------------ the server
def test_accept_on_a_closed_listener_is_a_transport_error(server_config: TLSConfig) -> None:
    server = TLSServer(server_config)
    server.close()
    with pytest.raises(TransportError, match=r"^accepting a client failed: ") as info:
        server.accept()
    _assert_transport_error(info.value, OSError)
    assert server.sessions == []


def test_listening_on_a_taken_port_is_a_transport_error(server_config: TLSConfig) -> None:
    with TLSServer(server_config) as first:
        port = first.address[1]
        with pytest.raises(TransportError, match=rf"^listening on 127\.0\.0\.1:{port} failed: ") as info:
            TLSServer(server_config, port=port)
    _assert_transport_error(info.value, OSError)


def test_bound_socket_on_a_taken_port_is_a_transport_error_naming_the_socket() -> None:
    with bound_socket("the first socket", backlog=1) as first:
        port = first.getsockname()[1]
        with pytest.raises(
            TransportError,
            match=rf"^binding the second socket to 127\.0\.0\.1:{port} failed: Address already in use$",
        ) as info:
            bound_socket("the second socket", port=port)
    _assert_transport_error(info.value, OSError)


def test_serve_in_background_ends_when_the_server_closes(server_config: TLSConfig) -> None:
    with TLSServer(server_config) as server:
        thread = server.serve_in_background()
    thread.join(5)
    assert not thread.is_alive()
    assert server.errors == []  # closing the listener is the normal end, not an error


class _FlakyListener:
    """The server's listening socket, except that its next ``accept`` calls fail with ``errnos``."""

    def __init__(self, listener: socket.socket, errnos: list[int]) -> None:
        self._listener = listener
        self._errnos = errnos
        self.calls: list[float] = []  # time.monotonic() of each accept

    def accept(self) -> tuple[socket.socket, Any]:
        self.calls.append(time.monotonic())
        if self._errnos:
            number = self._errnos.pop(0)
            raise OSError(number, os.strerror(number))
        return self._listener.accept()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._listener, name)


def _flaky(server: TLSServer, errnos: list[int]) -> _FlakyListener:
    listener = _FlakyListener(server._listener, errnos)
    server._listener = listener  # type: ignore[assignment]
    return listener


def _echo_once(server: TLSServer, files: PemFiles) -> bytes:
    with connect(
        *server.address, server_name="localhost", cafile=files.ca_file, timeout=3, handshake_timeout=3
    ) as session:
        session.send(b"still serving?")
        return session.recv()


def test_a_client_that_reset_before_accept_does_not_end_the_server(
    server_config: TLSConfig, files: PemFiles
) -> None:
    with TLSServer(server_config, timeout=5) as server:
        listener = _flaky(server, [errno.ECONNABORTED])
        thread = server.serve_in_background(max_sessions=1)
        assert _echo_once(server, files) == b"still serving?"
        thread.join(5)
        assert not thread.is_alive()
    assert len(listener.calls) == 2  # the aborted accept, then the client's
    assert server.errors == []  # nobody was there to fail: no handshake was started
    assert len(server.sessions) == 1


def test_an_accept_out_of_descriptors_is_recorded_once_and_retried_after_a_pause(
    server_config: TLSConfig, files: PemFiles
) -> None:
    with TLSServer(server_config, timeout=5) as server:
        listener = _flaky(server, [errno.EMFILE, errno.EMFILE, errno.ENFILE])
        thread = server.serve_in_background(max_sessions=1)
        assert _echo_once(server, files) == b"still serving?"
        thread.join(5)
        assert not thread.is_alive()
    (error,) = server.errors  # one run of failures, one entry
    assert type(error) is TransportError
    assert str(error) == "accepting a client failed: Too many open files"
    assert isinstance(error.__cause__, OSError) and error.__cause__.errno == errno.EMFILE
    gaps = [later - earlier for earlier, later in zip(listener.calls, listener.calls[1:], strict=False)]
    assert len(gaps) == 3 and min(gaps) >= 0.09, gaps  # a pause after each failure, no spinning


def test_close_stops_a_server_whose_accept_keeps_running_out_of_descriptors(server_config: TLSConfig) -> None:
    server = TLSServer(server_config, timeout=5)
    listener = _flaky(server, [errno.EMFILE] * 1000)
    thread = server.serve_in_background()
    deadline = time.monotonic() + 5
    while len(listener.calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    closed_at = time.monotonic()
    server.close()  # wakes the pause at once
    thread.join(2)
    assert not thread.is_alive() and time.monotonic() - closed_at < 1
    gaps = [later - earlier for earlier, later in zip(listener.calls, listener.calls[1:], strict=False)]
    assert len(gaps) >= 2 and min(gaps) >= 0.09, gaps  # one accept per pause, no spinning
    assert len(server.errors) == 1


def test_a_listener_that_fails_otherwise_still_ends_serve_forever(server_config: TLSConfig) -> None:
    with TLSServer(server_config, timeout=5) as server:
        _flaky(server, [errno.EINVAL])
        with pytest.raises(TransportError, match=r"^accepting a client failed: Invalid argument$"):
            server.serve_forever()


def test_a_client_that_resets_during_the_handshake_is_recorded_as_closing_the_connection(
    server_config: TLSConfig,
) -> None:
    # a reset while reading is the end of the stream (see the module docstring), so the server
    # records what the connection makes of an end of stream in WAIT_HELLO: the client closed
    # the connection during the handshake. No TransportError, no OSError underneath.
    with TLSServer(server_config, timeout=5) as server:
        thread = server.serve_in_background(max_sessions=1)
        with socket.create_connection(server.address, timeout=5) as rude:
            rude.sendall(b"\x16\x03\x01\x00")  # half a record header, then a reset
            rude.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        thread.join(5)
        assert not thread.is_alive()
    (error,) = server.errors
    assert type(error) is RemoteProtocolError, repr(error)
    assert str(error) == (
        "the client closed the connection during the handshake (state WAIT_HELLO) (alert: handshake_failure)"
    )
    assert error.alert is AlertDescription.HANDSHAKE_FAILURE
    assert error.__cause__ is None


# ------------------------------------------------------------------------------ key log
def test_a_key_log_that_cannot_be_written_is_a_key_log_error_and_closes_the_session(
    server_config: TLSConfig, files: PemFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[TLSSession] = []

    class TrackedSession(TLSSession):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(io, "TLSSession", TrackedSession)
    with TLSServer(server_config, timeout=5) as server:
        thread = server.serve_in_background(max_sessions=1)
        with pytest.raises(KeyLogError, match=r"cannot append to the key log .*no-such-dir") as info:
            connect(
                *server.address,
                server_name="localhost",
                cafile=files.ca_file,
                keylog=tmp_path / "no-such-dir" / "keys.txt",
            )
        thread.join(5)
        assert not thread.is_alive()
    assert isinstance(info.value.__cause__, FileNotFoundError)
    # the handshake had finished: the session the caller never got is closed, with close_notify
    (session,) = [each for each in made if isinstance(each.connection, ClientConnection)]
    (served,) = server.sessions
    assert session.closed and session.socket.fileno() == -1
    assert [type(event).__name__ for event in served.events][-1] == "ConnectionClosed"
    assert served.events[-1].clean  # the server read a close_notify, not a bare hang-up
    assert server.errors == []

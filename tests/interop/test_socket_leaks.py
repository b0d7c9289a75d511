"""The helpers that open sockets around a recording relay close them whatever fails.

- ``openssl_peers.record_session`` closes its listener and its client socket, and removes
  its key log directory, when the relay cannot be made or the session fails; a socket it
  cannot bind, or one the relay cannot make, is a TransportError (not a bare OSError);
- ``notebook.live.https_get`` raises TransportError (not the bare OSError) when a socket
  cannot be bound or the relay cannot make its own, and closes its listener and its client
  socket;
- ``live.connect_to_demo_server`` reports a client that cannot reach the relay as
  a :class:`TransportError` (a TLSError), not as a raw ConnectionRefusedError, and at once;
  a client socket that cannot be bound and a relay that cannot make its socket too.

Every socket the code under test creates is tracked (``socket.socket`` is replaced by a
subclass for the duration of a test) and must be closed afterwards.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import httpslab.peers.files as peer_files
import httpslab.peers.openssl as openssl_peers
from httpslab import relay
from httpslab.errors import RelayError, TLSError, TransportError
from httpslab.notebook import live
from httpslab.relay import RecordingRelay

_RealSocket = socket.socket


class _TrackedSocket(_RealSocket):
    """A real socket that remembers it was made (and can be told to fail its Nth bind)."""

    made: list[_TrackedSocket]
    binds = 0
    fail_bind_number: int | None = None

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        type(self).made.append(self)

    def bind(self, address: object) -> None:
        cls = type(self)
        cls.binds += 1
        if cls.binds == cls.fail_bind_number:
            raise OSError(errno.EADDRINUSE, "Address already in use")
        super().bind(address)  # type: ignore[arg-type]


@pytest.fixture
def tracked(monkeypatch: pytest.MonkeyPatch) -> type[_TrackedSocket]:
    class Tracked(_TrackedSocket):
        made: list[_TrackedSocket] = []  # noqa: RUF012 (one list per test)
        binds = 0
        fail_bind_number = None

    monkeypatch.setattr(socket, "socket", Tracked)
    return Tracked


def _open(sockets: list[_TrackedSocket]) -> list[_TrackedSocket]:
    return [sock for sock in sockets if sock.fileno() != -1]


def _keylog_dirs() -> set[Path]:
    return set(peer_files._scratch_dir().glob("httpslab-keylog-*"))


def test_record_session_closes_its_sockets_when_the_relay_cannot_be_made(
    tracked: type[_TrackedSocket], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_relay(*args: object, **kwargs: object) -> RecordingRelay:
        raise RelayError("no relay today")

    monkeypatch.setattr(openssl_peers, "RecordingRelay", no_relay)
    before = _keylog_dirs()
    with pytest.raises(RelayError, match="no relay today"):
        openssl_peers.record_session("ECDHE-RSA-AES128-GCM-SHA256")
    assert len(tracked.made) == 2  # the server's listener and the client's socket
    assert _open(tracked.made) == []
    assert _keylog_dirs() == before  # the key log directory went too


@pytest.mark.parametrize(
    ("fail_bind_number", "sockets_made", "which"),
    [(1, 1, "the ssl server's listening socket"), (2, 2, "the ssl client's socket")],
)
def test_record_session_reports_a_failed_bind_as_a_transport_error_and_cleans_up(
    tracked: type[_TrackedSocket], fail_bind_number: int, sockets_made: int, which: str
) -> None:
    tracked.fail_bind_number = fail_bind_number
    before = _keylog_dirs()
    with pytest.raises(TransportError) as info:
        openssl_peers.record_session("ECDHE-RSA-AES128-GCM-SHA256")
    assert str(info.value) == f"binding {which} to 127.0.0.1:0 failed: Address already in use"
    assert type(info.value) is TransportError and not isinstance(info.value, OSError)
    assert isinstance(info.value.__cause__, OSError) and info.value.__cause__.errno == errno.EADDRINUSE
    assert len(tracked.made) == sockets_made
    assert _open(tracked.made) == []
    assert _keylog_dirs() == before


def test_record_session_reports_a_relay_without_a_socket_as_a_transport_error(
    tracked: type[_TrackedSocket], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(openssl_peers, "RecordingRelay", _RelayWithoutDescriptors)
    with pytest.raises(TransportError, match=r"^starting the recording relay failed: Too many open files$"):
        openssl_peers.record_session("ECDHE-RSA-AES128-GCM-SHA256")
    assert len(tracked.made) == 2
    assert _open(tracked.made) == []


@pytest.mark.interop
def test_record_session_lets_a_keyboard_interrupt_through_after_cleaning_up(
    tracked: type[_TrackedSocket], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ctrl-C in a notebook while the client waits for the server's answer: the interrupt
    # itself must come out (it used to be caught with BaseException and re-raised as an
    # OpenSSLPeerError), and the sockets and the key log directory must still go
    real_recv_exactly = openssl_peers._recv_exactly

    def interrupted(sock: object, length: int) -> bytes:
        if threading.current_thread() is threading.main_thread():  # the client, not the server
            raise KeyboardInterrupt
        return real_recv_exactly(sock, length)  # type: ignore[arg-type]

    monkeypatch.setattr(openssl_peers, "_recv_exactly", interrupted)
    before = _keylog_dirs()
    with pytest.raises(KeyboardInterrupt):
        openssl_peers.record_session("ECDHE-RSA-AES128-GCM-SHA256", timeout=5)
    assert _keylog_dirs() == before

    def server_threads() -> list[threading.Thread]:
        return [thread for thread in threading.enumerate() if thread.name == "httpslab-ssl-server"]

    deadline = time.monotonic() + 5  # the server thread ends (and closes its socket) once woken
    while (_open(tracked.made) or server_threads()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _open(tracked.made) == []
    assert server_threads() == []


@pytest.mark.parametrize(
    ("fail_bind_number", "sockets_made", "which"),
    [(1, 1, "the demo server's listening socket"), (2, 2, "the client's socket")],
)
def test_https_get_reports_a_failed_bind_as_a_transport_error_and_closes_its_sockets(
    tracked: type[_TrackedSocket], fail_bind_number: int, sockets_made: int, which: str
) -> None:
    tracked.fail_bind_number = fail_bind_number  # 1: the listener's bind fails, 2: the client's
    with pytest.raises(TransportError) as info:
        live.https_get(timeout=2.0)
    assert str(info.value) == f"binding {which} to 127.0.0.1:0 failed: Address already in use"
    assert type(info.value) is TransportError and not isinstance(info.value, OSError)
    assert isinstance(info.value.__cause__, OSError) and info.value.__cause__.errno == errno.EADDRINUSE
    assert len(tracked.made) == sockets_made
    assert _open(tracked.made) == []


class _RelayWithoutDescriptors(RecordingRelay):
    """A relay that cannot make its listening socket (what ``socket()`` does with no fd left)."""

    def start(self) -> RecordingRelay:
        raise OSError(errno.EMFILE, "Too many open files")


def test_https_get_reports_a_relay_without_a_socket_as_a_transport_error(
    tracked: type[_TrackedSocket], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "RecordingRelay", _RelayWithoutDescriptors)
    with pytest.raises(TransportError) as info:
        live.https_get(timeout=2.0)
    assert str(info.value) == "starting the recording relay failed: Too many open files"
    assert isinstance(info.value.__cause__, OSError) and info.value.__cause__.errno == errno.EMFILE
    assert len(tracked.made) == 2  # the server's listener and the client's socket
    assert _open(tracked.made) == []


class _RelayThatStopsListening(RecordingRelay):
    """A relay whose listener is gone by the time the client connects (a real refusal)."""

    def start(self) -> RecordingRelay:
        super().start()
        self.close()
        return self


@pytest.mark.interop
def test_connect_to_demo_server_reports_a_refused_relay_as_a_transport_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(relay, "RecordingRelay", _RelayThatStopsListening)
    started = time.monotonic()
    with pytest.raises(
        TransportError, match=r"connecting to the recording relay at 127\.0\.0\.1:\d+ failed"
    ) as info:
        live.connect_to_demo_server(["127.0.0.1"])
    assert isinstance(info.value, TLSError) and not isinstance(info.value, OSError)
    assert isinstance(info.value.__cause__, ConnectionRefusedError)
    assert "run the cell again" in str(info.value)
    assert time.monotonic() - started < 8  # no 10 s wait for a connection that never came


@pytest.fixture
def fail_after_s_server_starts(
    tracked: type[_TrackedSocket], monkeypatch: pytest.MonkeyPatch
) -> type[_TrackedSocket]:
    """Fail the first bind after openssl s_server is up (it binds probes of its own while starting)."""
    real = openssl_peers.openssl_s_server

    @contextlib.contextmanager
    def started(*args: object, **kwargs: object) -> Iterator[object]:
        with real(*args, **kwargs) as server:  # type: ignore[arg-type]
            tracked.fail_bind_number = tracked.binds + 1
            tracked.made.clear()
            yield server

    monkeypatch.setattr(openssl_peers, "openssl_s_server", started)
    return tracked


@pytest.mark.interop
def test_connect_to_demo_server_reports_a_failed_bind_as_a_transport_error(
    fail_after_s_server_starts: type[_TrackedSocket],
) -> None:
    with pytest.raises(TransportError) as info:
        live.connect_to_demo_server(["127.0.0.1"])
    assert str(info.value) == "binding the client's socket to 127.0.0.1:0 failed: Address already in use"
    assert type(info.value) is TransportError and isinstance(info.value.__cause__, OSError)
    assert len(fail_after_s_server_starts.made) == 1
    assert _open(fail_after_s_server_starts.made) == []


@pytest.mark.interop
def test_connect_to_demo_server_reports_a_relay_without_a_socket_as_a_transport_error(
    tracked: type[_TrackedSocket], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(relay, "RecordingRelay", _RelayWithoutDescriptors)
    with pytest.raises(TransportError) as info:
        live.connect_to_demo_server(["127.0.0.1"])
    assert str(info.value) == "starting the recording relay failed: Too many open files"
    assert isinstance(info.value.__cause__, OSError) and info.value.__cause__.errno == errno.EMFILE
    assert _open(tracked.made) == []  # the client's socket (and s_server's probes) closed

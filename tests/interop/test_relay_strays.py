"""A stray connection to a recording relay's port must not take the place of the real client.

A ``max_connections=1`` relay stops listening after the first connection it accepts,
whoever made it. Any other process on the machine that connects to the relay's port first
(a port number it remembers from an earlier listener) therefore made the notebook's own
client get ConnectionRefusedError — the flake seen once in notebook 07's
``mutual = https_get(...)``. ``only_from`` pins the one client the relay serves.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import ClassVar

import pytest

from httpslab.notebook import live
from httpslab.relay import RecordingRelay

LOOPBACK = "127.0.0.1"


@pytest.fixture
def echo_target() -> Iterator[tuple[tuple[str, int], list[bytes]]]:
    """A TCP server that echoes each connection until EOF; yields (address, what it received)."""
    listener = socket.create_server((LOOPBACK, 0))
    listener.settimeout(0.05)
    received: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                data = bytearray()
                while chunk := conn.recv(4096):
                    data += chunk
                    conn.sendall(chunk)
                received.append(bytes(data))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[:2], received
    stop.set()
    thread.join(6)
    listener.close()


def _bound_client() -> socket.socket:
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client.bind((LOOPBACK, 0))
    client.settimeout(5)
    return client


def test_without_only_from_a_stray_takes_the_slot_and_the_client_is_refused(echo_target) -> None:
    target, _ = echo_target
    with RecordingRelay(target) as relay:
        stray = socket.create_connection(relay.address, timeout=5)
        relay._accepting_done.wait(5)  # the stray was accepted: the relay stopped listening
        with pytest.raises(ConnectionRefusedError), socket.create_connection(relay.address, timeout=5):
            pass
        stray.close()


def test_only_from_turns_a_stray_away_and_serves_the_client(echo_target) -> None:
    target, received = echo_target
    client = _bound_client()
    with RecordingRelay(target, only_from=client.getsockname()[:2]) as relay:
        stray = socket.create_connection(relay.address, timeout=5)
        stray_address = stray.getsockname()[:2]
        stray.sendall(b"not for the server")
        try:  # hung up on at once (a reset, since its bytes were never read)
            assert stray.recv(100) == b""
        except ConnectionResetError:
            pass
        stray.close()
        client.connect(relay.address)
        client.sendall(b"hello")
        client.shutdown(socket.SHUT_WR)
        assert client.recv(100) == b"hello"
        client.close()
        relay.wait_closed(5)
        assert relay.turned_away == [stray_address]
        assert len(relay.connections) == 1
        assert relay.connections[0].client_address == relay.only_from
        assert relay.client_to_server == b"hello"
    assert received == [b"hello"]  # the stray's bytes never reached the server


class _RelayWithAStrayFirst(RecordingRelay):
    """The relay https_get starts, with another connection arriving before https_get's client."""

    strays: ClassVar[list[socket.socket]] = []

    def start(self) -> RecordingRelay:
        super().start()
        self.strays.append(socket.create_connection(self.address, timeout=5))
        return self


def test_https_get_is_not_disturbed_by_a_stray_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "RecordingRelay", _RelayWithAStrayFirst)
    try:
        result = live.https_get(require_client_cert=True, client_cert=True)
    finally:
        for stray in _RelayWithAStrayFirst.strays:
            stray.close()
    assert result.ok, result.error
    assert result.response.startswith(b"HTTP/1.1 200 OK")
    assert _RelayWithAStrayFirst.strays  # the stray did connect

"""The recording relay: what it records, how it tampers, and that it always shuts down cleanly."""

from __future__ import annotations

import socket
import ssl
import struct
import threading
from collections.abc import Iterator

import pytest

from httpslab.errors import RelayError, TLSError
from httpslab.peers.files import server_identity
from httpslab.relay import CLIENT_TO_SERVER, SERVER_TO_CLIENT, RecordingRelay


class EchoServer:
    """A TCP echo server on 127.0.0.1 that echoes until EOF, then closes, ``connections`` times."""

    def __init__(self, connections: int = 1) -> None:
        self.connections = connections
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.stopping = threading.Event()
        self.received = bytearray()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def address(self) -> tuple[str, int]:
        return self.listener.getsockname()[:2]

    def _run(self) -> None:
        served = 0
        while served < self.connections and not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            served += 1
            self._echo(conn)

    def _echo(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                while data := conn.recv(4096):
                    self.received += data
                    conn.sendall(data)
            except OSError:
                pass

    def close(self) -> None:
        self.stopping.set()
        self.listener.close()
        self.thread.join(5)


@pytest.fixture
def echo_server() -> Iterator[EchoServer]:
    server = EchoServer()
    yield server
    server.close()


def _relay_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("relay-")]


def _exchange(address: tuple[str, int], messages: list[bytes]) -> bytes:
    """Send each message, half-close, and read the echo until the server closes."""
    with socket.create_connection(address, timeout=5) as client:
        for message in messages:
            client.sendall(message)
        client.shutdown(socket.SHUT_WR)
        echoed = bytearray()
        while data := client.recv(4096):
            echoed += data
    return bytes(echoed)


def test_records_both_directions_of_an_echo(echo_server: EchoServer) -> None:
    messages = [b"hello ", b"relay ", bytes(range(256)) * 300]
    with RecordingRelay(echo_server.address) as relay:
        assert relay.address[0] == "127.0.0.1"
        assert relay.address[1] != echo_server.address[1]
        echoed = _exchange(relay.address, messages)
        relay.wait_closed(5)
        sent = b"".join(messages)
        assert echoed == sent
        assert relay.client_to_server == sent
        assert relay.server_to_client == sent
        assert bytes(echo_server.received) == sent

        # chunks: offsets are contiguous per direction and timestamps never go backwards
        for direction, stream in ((CLIENT_TO_SERVER, sent), (SERVER_TO_CLIENT, sent)):
            chunks = [c for c in relay.chunks if c.direction == direction]
            offset = 0
            for chunk in chunks:
                assert chunk.offset == offset
                assert stream[offset : offset + len(chunk.sent)] == chunk.sent
                assert not chunk.tampered
                offset += len(chunk.sent)
            assert offset == len(stream)
        timestamps = [c.timestamp for c in relay.chunks]
        assert timestamps == sorted(timestamps)
        assert relay.connections[0].closed
    assert relay.alive_threads == []
    assert _relay_threads() == []


def test_tamper_hook_changes_bytes_in_flight(echo_server: EchoServer) -> None:
    calls: list[tuple[str, int]] = []

    def flip_byte_5_to_server(direction: str, data: bytes, offset: int) -> bytes:
        calls.append((direction, offset))
        if direction == CLIENT_TO_SERVER and offset <= 5 < offset + len(data):
            index = 5 - offset
            return data[:index] + bytes([data[index] ^ 0xFF]) + data[index + 1 :]
        return data

    with RecordingRelay(echo_server.address, tamper=flip_byte_5_to_server) as relay:
        echoed = _exchange(relay.address, [b"0123456789"])
        relay.wait_closed(5)
    expected = b"01234" + bytes([ord("5") ^ 0xFF]) + b"6789"
    assert echoed == expected
    assert bytes(echo_server.received) == expected
    connection = relay.connections[0]
    assert connection.client_sent == b"0123456789"  # what the client wrote
    assert connection.client_to_server == expected  # what the server got
    assert any(chunk.tampered for chunk in connection.chunks)
    assert (CLIENT_TO_SERVER, 0) in calls and any(d == SERVER_TO_CLIENT for d, _ in calls)


def test_failing_tamper_hook_does_not_hang(echo_server: EchoServer) -> None:
    def broken(direction: str, data: bytes, offset: int) -> bytes:
        raise RuntimeError("boom")

    with RecordingRelay(echo_server.address, tamper=broken) as relay:
        with socket.create_connection(relay.address, timeout=5) as client:
            client.sendall(b"x")
            assert client.recv(10) == b""  # the relay tore the connection down
        relay.wait_closed(5)
        assert isinstance(relay.connections[0].error, RuntimeError)
    assert _relay_threads() == []


def test_client_reset_is_survived(echo_server: EchoServer) -> None:
    with RecordingRelay(echo_server.address) as relay:
        client = socket.create_connection(relay.address, timeout=5)
        client.sendall(b"before the reset")
        assert client.recv(100) == b"before the reset"
        # SO_LINGER with a zero timeout makes close() send a TCP RST
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
        relay.wait_closed(5)
        assert relay.client_to_server == b"before the reset"
    assert relay.alive_threads == []
    assert _relay_threads() == []


def test_close_while_a_connection_is_open(echo_server: EchoServer) -> None:
    relay = RecordingRelay(echo_server.address).start()
    client = socket.create_connection(relay.address, timeout=5)
    try:
        client.sendall(b"still open")
        assert client.recv(100) == b"still open"
        relay.close()
        assert relay.alive_threads == []
        assert client.recv(100) == b""  # the relay closed its end
    finally:
        client.close()


def test_wait_closed_times_out_without_a_connection(echo_server: EchoServer) -> None:
    with RecordingRelay(echo_server.address) as relay, pytest.raises(TimeoutError):
        relay.wait_closed(0.2)


def test_unreachable_target_closes_the_client() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    with RecordingRelay(("127.0.0.1", dead_port)) as relay:
        with socket.create_connection(relay.address, timeout=5) as client:
            assert client.recv(10) == b""
        relay.wait_closed(5)
        assert isinstance(relay.connections[0].error, OSError)


@pytest.mark.parametrize("target", ["10.0.0.1", "example.com", "0.0.0.0"])
def test_refuses_targets_off_loopback(target: str) -> None:
    with pytest.raises(RelayError, match="not loopback"):
        RecordingRelay((target, 443))
    assert issubclass(RelayError, TLSError)


def test_refuses_to_listen_off_loopback() -> None:
    with pytest.raises(RelayError, match="not loopback"):
        RecordingRelay(("127.0.0.1", 443), listen_host="0.0.0.0")


def test_non_loopback_target_only_when_explicitly_allowed() -> None:
    relay = RecordingRelay(("192.0.2.1", 443), allow_non_loopback=True)  # constructed, never started
    assert relay.target == ("192.0.2.1", 443)


def test_several_connections() -> None:
    server = EchoServer(connections=2)
    try:
        with RecordingRelay(server.address, max_connections=None) as relay:
            assert _exchange(relay.address, [b"one"]) == b"one"
            assert _exchange(relay.address, [b"two"]) == b"two"
            relay.wait_closed(5)
            assert [c.client_to_server for c in relay.connections] == [b"one", b"two"]
            assert [c.server_to_client for c in relay.connections] == [b"one", b"two"]
            assert relay.client_to_server == b"one"  # the first connection's
    finally:
        server.close()
    assert _relay_threads() == []


def test_a_real_tls_session_through_the_relay() -> None:
    identity = server_identity("rsa")
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(identity.cert_file, identity.key_file)
    client_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_context.load_verify_locations(cadata=identity.cert_pem.decode())
    client_context.maximum_version = ssl.TLSVersion.TLSv1_2
    secret_request, secret_answer = b"the secret request", b"the secret answer"

    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)
    received: list[bytes] = []

    def serve() -> None:
        conn, _ = listener.accept()
        conn.settimeout(5)
        with server_context.wrap_socket(conn, server_side=True) as tls:
            received.append(tls.recv(100))
            tls.sendall(secret_answer)
            tls.unwrap().close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with RecordingRelay(listener.getsockname()[:2]) as relay:
            raw = socket.create_connection(relay.address, timeout=5)
            with client_context.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.sendall(secret_request)
                assert tls.recv(100) == secret_answer
                tls.unwrap().close()
            relay.wait_closed(5)
    finally:
        thread.join(5)
        listener.close()
    assert received == [secret_request]
    c2s, s2c = relay.client_to_server, relay.server_to_client
    assert c2s[:3] == b"\x16\x03\x01" and c2s[5] == 1  # a handshake record holding a ClientHello
    assert s2c[:1] == b"\x16" and s2c[5] == 2  # a ServerHello
    assert identity.cert_der in s2c  # TLS 1.2 sends the certificate in the clear
    assert secret_request not in c2s and secret_answer not in s2c  # application data is encrypted


def test_a_relay_that_cannot_make_its_socket_raises_relay_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Out of file descriptors at start: a RelayError that keeps the OSError, never a raw OSError."""
    import errno

    def no_descriptors(*args: object, **kwargs: object) -> socket.socket:
        raise OSError(errno.EMFILE, "Too many open files")

    relay = RecordingRelay(("127.0.0.1", 9))
    monkeypatch.setattr(socket, "socket", no_descriptors)
    with pytest.raises(RelayError, match="cannot make a socket") as raised:
        relay.start()
    assert isinstance(raised.value.__cause__, OSError) and raised.value.__cause__.errno == errno.EMFILE

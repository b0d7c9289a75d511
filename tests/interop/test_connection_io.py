"""The blocking drivers: httpslab's client and server talking over real loopback sockets."""

from __future__ import annotations

import socket
import threading

import pytest

from httpslab.connection import Credential, TLSConfig
from httpslab.enums import AlertDescription, CipherSuite
from httpslab.errors import AlertReceived, BadCertificate, LocalProtocolError, NotTLSError, TLSError
from httpslab.io import TLSServer, TLSSession, connect, server_config
from httpslab.keylog import KeyLog
from httpslab.pki.ca import DemoPKI


@pytest.fixture(scope="module")
def pki() -> DemoPKI:
    return DemoPKI("ecdsa")


@pytest.fixture(scope="module")
def files(pki, tmp_path_factory):
    return pki.write_pem_files(tmp_path_factory.mktemp("pem"))


@pytest.fixture
def server(pki):
    config = TLSConfig(credentials=[Credential((pki.server, pki.intermediate), pki.server_key)])
    with TLSServer(config) as running:
        yield running


def test_httpslab_on_both_ends(server, files):
    def handler(session: TLSSession) -> None:
        request = session.recv()
        session.send(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" if request.startswith(b"GET") else b"?"
        )
        session.close()

    server.serve_in_background(handler, max_sessions=1)
    log = KeyLog()
    with connect(*server.address, server_name="localhost", cafile=files.ca_file, keylog=log) as session:
        session.send(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert session.recv_all().endswith(b"\r\n\r\nok")
        assert session.recv() == b""  # the server's close_notify ended the session
        assert session.cipher_suite == CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
        client_random = session.connection.client_random
    server.close()
    server_transcript = server.sessions[0].transcript
    assert log.master_secret_for(client_random) == server_transcript.secrets.master_secret
    assert server_transcript.messages()[-1].name == "Alert close_notify"


def test_keylog_file_is_appended(server, files, tmp_path):
    server.serve_in_background(max_sessions=2)
    path = tmp_path / "keys.log"
    for _ in range(2):
        with connect(*server.address, server_name="localhost", cafile=files.ca_file, keylog=path) as session:
            session.send(b"x")
            assert session.recv() == b"x"
    assert len(KeyLog.load(path)) == 2


def test_handshake_error_reaches_both_sides(server, tmp_path):
    other = DemoPKI("ecdsa").make_root("a stranger", key_role="other-root")
    anchor = tmp_path / "stranger.pem"
    from cryptography.hazmat.primitives import serialization

    anchor.write_bytes(other.public_bytes(serialization.Encoding.PEM))
    server.serve_in_background(max_sessions=1)
    with pytest.raises(BadCertificate) as info:
        connect(*server.address, server_name="localhost", cafile=anchor)
    assert info.value.alert == AlertDescription.UNKNOWN_CA
    server.close()
    assert len(server.errors) == 1 and isinstance(server.errors[0], AlertReceived)
    assert server.errors[0].description == AlertDescription.UNKNOWN_CA


def test_server_refuses_non_loopback_addresses(pki):
    config = TLSConfig(credentials=[Credential((pki.server,), pki.server_key)])
    with pytest.raises(LocalProtocolError, match="loopback"):
        TLSServer(config, host="0.0.0.0")


def test_server_config_from_pem_files(files):
    config = server_config(files.server_chain_file, files.server_key_file)
    assert config.credentials[0].authentication == "ECDSA"
    assert len(config.credentials[0].certificate_chain) == 2


def test_peer_that_is_not_tls(files):
    listener = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:
        conn, _ = listener.accept()
        conn.recv(4096)
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        conn.close()

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    # an HTTP answer's "TT" is no TLS version (major byte 0x54): not TLS, no alert (as OpenSSL 3.0)
    with pytest.raises(NotTLSError, match="plain HTTP response"):
        connect(*listener.getsockname(), server_name="localhost", cafile=files.ca_file)
    thread.join(5)
    listener.close()


def test_silent_client_times_out_and_the_server_hangs_up(server):
    server.timeout = 0.3
    with socket.create_connection(server.address, timeout=5) as silent:
        with pytest.raises(TLSError, match="no answer"):
            server.accept()
        assert silent.recv(100) == b""  # the server closed the socket, sending nothing


def test_a_client_that_resets_does_not_stop_the_server(server, files):
    # A client that hangs up with a TCP reset makes the handler's next send fail with an
    # OSError (ECONNRESET / EPIPE). That ends the session with that client, not the server.
    reset_done = threading.Event()

    def handler(session: TLSSession) -> None:
        request = session.recv()
        reset_done.wait(5)
        session.send(b"late answer to " + request)
        session.send(b"and more")

    server.serve_in_background(handler, max_sessions=2)
    rude = connect(*server.address, server_name="localhost", cafile=files.ca_file, timeout=5)
    rude.send(b"hello")
    rude.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    rude.socket.close()  # SO_LINGER 0: RST instead of FIN, and no close_notify
    reset_done.set()
    reset_done.clear()
    threading.Timer(0.2, reset_done.set).start()  # the second client gets its answer at once
    with connect(*server.address, server_name="localhost", cafile=files.ca_file, timeout=5) as polite:
        polite.send(b"hi")
        answer = b""
        while not answer.endswith(b"and more"):
            chunk = polite.recv()
            assert chunk, answer
            answer += chunk
        assert answer == b"late answer to hiand more"
    assert len(server.errors) == 1 and isinstance(server.errors[0], TLSError)


def test_a_client_that_resets_during_the_handshake_does_not_stop_the_server(pki, files):
    # The server's random source waits a little, so that the rude client's reset has arrived
    # when the server sends its first flight: sendall fails with ECONNRESET inside accept().
    import os
    import time

    from httpslab.connection import ClientConnection

    def slow_random(length: int) -> bytes:
        time.sleep(0.1)
        return os.urandom(length)

    config = TLSConfig(
        credentials=[Credential((pki.server, pki.intermediate), pki.server_key)], random=slow_random
    )
    with TLSServer(config, timeout=5) as server:
        server.serve_in_background(max_sessions=2)
        hello = ClientConnection(TLSConfig(server_name="localhost", verify=False))
        hello.start_handshake()
        with socket.create_connection(server.address, timeout=5) as rude:
            rude.sendall(hello.data_to_send())
            rude.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        with connect(*server.address, server_name="localhost", cafile=files.ca_file, timeout=5) as polite:
            polite.send(b"still there?")
            assert polite.recv() == b"still there?"
        assert len(server.errors) == 1 and isinstance(server.errors[0], TLSError)

"""The blocking driver's buffers, events and key log, and a connection's public live secrets."""

from __future__ import annotations

import pytest

from httpslab.connection import ApplicationData, ConnectionClosed, Credential, Primitives, TLSConfig
from httpslab.crypto.keyschedule import prf
from httpslab.enums import ContentType
from httpslab.errors import LocalProtocolError, TLSError
from httpslab.io import TLSServer, TLSSession, connect
from httpslab.keylog import KeyLog
from httpslab.pki.ca import DemoPKI

PAYLOAD = bytes(range(256)) * 400  # 100 KiB: several records and several socket reads


@pytest.fixture(scope="module")
def pki() -> DemoPKI:
    return DemoPKI("ecdsa")


@pytest.fixture(scope="module")
def files(pki, tmp_path_factory):
    return pki.write_pem_files(tmp_path_factory.mktemp("pem"))


def _server(pki: DemoPKI, **fields: object) -> TLSServer:
    credentials = [Credential((pki.server, pki.intermediate), pki.server_key)]
    return TLSServer(TLSConfig(credentials=credentials, **fields))  # type: ignore[arg-type]


def _send_payload_and_close(session: TLSSession) -> None:
    session.recv()
    session.send(PAYLOAD)
    session.close()


def test_recv_returns_every_byte_in_order_whatever_the_sizes_asked(pki, files) -> None:
    with _server(pki) as server:
        server.serve_in_background(_send_payload_and_close, max_sessions=1)
        with connect(*server.address, server_name="localhost", cafile=files.ca_file) as session:
            session.send(b"go")
            assert session.recv(0) == b""
            pieces = [session.recv(1), session.recv(999), session.recv(17000)]
            assert [len(piece) for piece in pieces[:2]] == [1, 999]
            while piece := session.recv(4096):
                assert len(piece) <= 4096
                pieces.append(piece)
            assert b"".join(pieces) == PAYLOAD
            with pytest.raises(LocalProtocolError):
                session.recv(-1)


def test_events_keep_what_happened_but_not_the_data_twice(pki, files) -> None:
    with _server(pki) as server:
        server.serve_in_background(_send_payload_and_close, max_sessions=1)
        with connect(*server.address, server_name="localhost", cafile=files.ca_file) as session:
            session.send(b"go")
            assert session.recv_all() == PAYLOAD
            assert not any(isinstance(event, ApplicationData) for event in session.events)
            assert session.application_data_events >= len(PAYLOAD) // 2**14
            assert ConnectionClosed(by_peer=True, clean=True) in session.events


def _bad_server_finished(secret: bytes, label: bytes, seed: bytes, length: int, hash_name: str) -> bytes:
    value = prf(secret, label, seed, length, hash_name)
    if label == b"server finished":
        value = bytes([value[0] ^ 1]) + value[1:]
    return value


def test_connect_writes_the_key_log_when_the_handshake_fails_after_the_keys(pki, files) -> None:
    # the server derives the right keys but sends a wrong Finished: the client's handshake
    # fails after its master secret exists, and the key log must still get the line
    with _server(pki, primitives=Primitives(prf=_bad_server_finished)) as server:
        server.serve_in_background(max_sessions=1)
        log = KeyLog()
        with pytest.raises(TLSError):
            connect(*server.address, server_name="localhost", cafile=files.ca_file, keylog=log)
        server.close()
        server_secrets = server.sessions[0].transcript.secrets
        assert server_secrets.master_secret is not None
        assert log.master_secret_for(server_secrets.client_random) == server_secrets.master_secret


def test_live_secrets_before_during_and_after(pki, files) -> None:
    with _server(pki) as server:
        server.serve_in_background(max_sessions=1)
        session = connect(*server.address, server_name="localhost", cafile=files.ca_file)
        connection = session.connection
        live = connection.live_secrets()
        secrets = connection.transcript.secrets
        assert not live.wiped
        assert live.master_secret == secrets.master_secret and live.master_secret is not None
        assert live.key_block == secrets.key_block.key_block
        assert live.write_key == secrets.key_block.write_keys("client")[1]
        assert live.read_key == secrets.key_block.write_keys("server")[1]
        assert connection.write_protection is not None and connection.read_protection is not None
        assert connection.write_protection.seal(ContentType.APPLICATION_DATA, 0x0303, b"x")
        protection = connection.write_protection
        session.close()
        after = connection.live_secrets()
        assert after.wiped
        assert (after.master_secret, after.key_block, after.write_key, after.read_key) == (None,) * 4
        with pytest.raises(LocalProtocolError):
            protection.seal(ContentType.APPLICATION_DATA, 0x0303, b"one more record?")
        with pytest.raises(AttributeError):
            connection.write_protection = None  # type: ignore[misc]


def test_live_secrets_of_a_fresh_connection_hold_nothing() -> None:
    from httpslab.connection import ClientConnection

    live = ClientConnection(TLSConfig(verify=False)).live_secrets()
    assert live.wiped and live.master_secret is None and live.write_key is None

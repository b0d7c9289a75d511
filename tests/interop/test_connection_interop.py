"""httpslab's client and server against real OpenSSL peers (Python ``ssl``) on 127.0.0.1.

Each session is cross-checked with the key log OpenSSL itself writes
(``SSLContext.keylog_filename``): OpenSSL's master secret must be the one in our transcript.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from httpslab.connection import Credential, TLSConfig
from httpslab.crypto.suites import parse_suite_name, suite_info
from httpslab.enums import AlertDescription, CipherSuite
from httpslab.errors import AlertReceived, BadCertificate, HandshakeFailure
from httpslab.io import TLSServer, connect, echo_handler
from httpslab.keylog import KeyLog
from httpslab.peers.files import dh_parameters_file
from httpslab.peers.openssl import OP_NO_ENCRYPT_THEN_MAC, OP_NO_EXTENDED_MASTER_SECRET
from httpslab.pki.ca import DemoPKI, PemFiles

pytestmark = pytest.mark.interop

REPRESENTATIVE = [
    ("AES128-GCM-SHA256", True),
    ("DHE-RSA-AES128-GCM-SHA256", True),
    ("ECDHE-RSA-CHACHA20-POLY1305", True),
    ("ECDHE-ECDSA-AES128-GCM-SHA256", True),
    ("ECDHE-RSA-AES128-SHA256", True),
    ("ECDHE-RSA-AES128-SHA256", False),
]


@dataclass
class PKIs:
    rsa: DemoPKI
    ecdsa: DemoPKI
    rsa_files: PemFiles
    ecdsa_files: PemFiles
    both_roots: Path

    def files(self, suite: str) -> PemFiles:
        return (
            self.ecdsa_files
            if suite_info(parse_suite_name(suite)).authentication == "ECDSA"
            else self.rsa_files
        )

    def credentials(self) -> list[Credential]:
        return [
            Credential((self.rsa.server, self.rsa.intermediate), self.rsa.server_key),
            Credential((self.ecdsa.server, self.ecdsa.intermediate), self.ecdsa.server_key),
        ]


@pytest.fixture(scope="module")
def pkis(tmp_path_factory: pytest.TempPathFactory) -> PKIs:
    directory = tmp_path_factory.mktemp("pki")
    rsa_pki, ec_pki = DemoPKI("rsa"), DemoPKI("ecdsa")
    both = directory / "both-roots.pem"
    both.write_bytes(b"".join(p.root.public_bytes(serialization.Encoding.PEM) for p in (rsa_pki, ec_pki)))
    return PKIs(
        rsa_pki,
        ec_pki,
        rsa_pki.write_pem_files(directory / "rsa"),
        ec_pki.write_pem_files(directory / "ec"),
        both,
    )


def tls12_context(
    purpose: ssl.Purpose, suite: str | None, *, etm: bool = True, ems: bool = True
) -> ssl.SSLContext:
    context = ssl.SSLContext(
        ssl.PROTOCOL_TLS_SERVER if purpose is ssl.Purpose.CLIENT_AUTH else ssl.PROTOCOL_TLS_CLIENT
    )
    context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_2
    if suite is not None:
        context.set_ciphers(suite_info(parse_suite_name(suite)).openssl_name)
    if not etm:
        context.options |= OP_NO_ENCRYPT_THEN_MAC
    if not ems:
        context.options |= OP_NO_EXTENDED_MASTER_SECRET
    return context


@dataclass
class SSLServer:
    """A Python ``ssl`` server thread that upper-cases one message and closes."""

    context: ssl.SSLContext
    keylog: Path
    result: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.context.keylog_filename = str(self.keylog)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(15)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.listener.getsockname()[1]

    def _run(self) -> None:
        try:
            raw, _ = self.listener.accept()
            raw.settimeout(10)
            with self.context.wrap_socket(raw, server_side=True) as tls:
                self.result["cipher"] = tls.cipher()[0]
                self.result["peer_cert"] = tls.getpeercert(binary_form=True)
                data = tls.recv(1000)
                tls.sendall(data.upper())
                try:
                    self.result["close"] = tls.recv(1000)  # b"" once our close_notify arrives
                except ssl.SSLError as exc:
                    self.result["close_error"] = exc
        except Exception as exc:
            self.result["error"] = exc
        finally:
            self.listener.close()

    def join(self) -> dict[str, Any]:
        self.thread.join(timeout=15)
        return self.result


def ssl_server(
    pkis: PKIs, suite: str, tmp_path: Path, *, etm: bool = True, client_cert: bool = False
) -> SSLServer:
    context = tls12_context(ssl.Purpose.CLIENT_AUTH, suite, etm=etm)
    files = pkis.files(suite)
    context.load_cert_chain(files.server_chain_file, files.server_key_file)
    if suite_info(parse_suite_name(suite)).key_exchange == "DHE":
        context.load_dh_params(str(dh_parameters_file("ffdhe2048")))
    if client_cert:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(files.ca_file)
    return SSLServer(context, tmp_path / "server-keylog.txt")


# ------------------------------------------------------------------ httpslab client -> OpenSSL server


@pytest.mark.parametrize(("suite", "etm"), REPRESENTATIVE)
def test_client_against_openssl_server(pkis, tmp_path, suite, etm):
    server = ssl_server(pkis, suite, tmp_path, etm=etm)
    session = connect(
        "127.0.0.1",
        server.port,
        server_name="localhost",
        cafile=pkis.files(suite).ca_file,
        cipher_suites=[suite],
        keylog=tmp_path / "our-keylog.txt",
    )
    assert session.version == "TLSv1.2"
    assert session.cipher_suite == parse_suite_name(suite)
    session.send(b"hello over tls 1.2")
    assert session.recv() == b"HELLO OVER TLS 1.2"
    session.close()
    result = server.join()
    assert "error" not in result, result
    assert result["cipher"] == suite_info(parse_suite_name(suite)).openssl_name
    assert result["close"] == b""  # OpenSSL saw a proper close_notify
    connection = session.connection
    assert connection.extended_master_secret  # OpenSSL negotiates RFC 7627 by default
    assert connection.encrypt_then_mac is (etm and not suite_info(parse_suite_name(suite)).is_aead)
    # OpenSSL's own key log holds the master secret in our transcript
    theirs = KeyLog.load(server.keylog)
    assert theirs.master_secret_for(connection.client_random) == session.transcript.secrets.master_secret
    ours = KeyLog.load(tmp_path / "our-keylog.txt")
    assert ours.master_secret_for(connection.client_random) == session.transcript.secrets.master_secret


def test_client_by_iana_name_and_ip_address(pkis, tmp_path):
    server = ssl_server(pkis, "ECDHE-RSA-AES256-GCM-SHA384", tmp_path)
    session = connect(
        "127.0.0.1",
        server.port,
        cafile=pkis.rsa_files.ca_file,
        cipher_suites=["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"],
    )
    assert session.cipher_suite == CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
    assert session.transcript.find("ClientHello").decoded.server_name is None  # no SNI for an IP
    session.send(b"x")
    assert session.recv() == b"X"
    session.close()
    assert "error" not in server.join()


def test_client_certificate_to_openssl_server(pkis, tmp_path):
    server = ssl_server(pkis, "ECDHE-RSA-AES128-GCM-SHA256", tmp_path, client_cert=True)
    files = pkis.rsa_files
    session = connect(
        "127.0.0.1",
        server.port,
        server_name="localhost",
        cafile=files.ca_file,
        client_cert=files.client_chain_file,
        client_key=files.client_key_file,
    )
    session.send(b"mtls")
    assert session.recv() == b"MTLS"
    session.close()
    result = server.join()
    assert result["peer_cert"] == pkis.rsa.client.public_bytes(serialization.Encoding.DER)


def test_openssl_server_refuses_missing_client_certificate(pkis, tmp_path):
    server = ssl_server(pkis, "ECDHE-RSA-AES128-GCM-SHA256", tmp_path, client_cert=True)
    with pytest.raises(AlertReceived) as info:
        connect("127.0.0.1", server.port, server_name="localhost", cafile=pkis.rsa_files.ca_file)
    assert info.value.description == AlertDescription.HANDSHAKE_FAILURE
    assert "PEER_DID_NOT_RETURN_A_CERTIFICATE" in str(server.join()["error"])


def test_client_rejects_wrong_name_and_tells_openssl(pkis, tmp_path):
    server = ssl_server(pkis, "ECDHE-RSA-AES128-GCM-SHA256", tmp_path)
    with pytest.raises(BadCertificate, match=r"www\.example\.org"):
        connect("127.0.0.1", server.port, server_name="www.example.org", cafile=pkis.rsa_files.ca_file)
    assert "ALERT_BAD_CERTIFICATE" in str(server.join()["error"])


def test_client_rejects_unknown_ca_and_tells_openssl(pkis, tmp_path):
    server = ssl_server(pkis, "ECDHE-ECDSA-AES128-GCM-SHA256", tmp_path)
    with pytest.raises(BadCertificate) as info:
        connect("127.0.0.1", server.port, server_name="localhost", cafile=pkis.rsa_files.ca_file)
    assert info.value.alert == AlertDescription.UNKNOWN_CA
    assert "UNKNOWN_CA" in str(server.join()["error"])


# ------------------------------------------------------------------ OpenSSL client -> httpslab server


@pytest.fixture
def serve(pkis: PKIs) -> Iterator[Any]:
    servers: list[TLSServer] = []

    def start(**fields: Any) -> TLSServer:
        config = TLSConfig(credentials=pkis.credentials(), **fields)
        server = TLSServer(config)
        server.serve_in_background(echo_handler, max_sessions=1)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def ssl_client(
    pkis: PKIs,
    suite: str | None,
    tmp_path: Path,
    *,
    etm: bool = True,
    ems: bool = True,
    client_cert: bool = False,
) -> ssl.SSLContext:
    context = tls12_context(ssl.Purpose.SERVER_AUTH, suite, etm=etm, ems=ems)
    context.load_verify_locations(pkis.both_roots)
    context.keylog_filename = str(tmp_path / "client-keylog.txt")
    if client_cert:
        context.load_cert_chain(pkis.rsa_files.client_chain_file, pkis.rsa_files.client_key_file)
    return context


def talk(
    context: ssl.SSLContext, address: tuple[str, int], message: bytes, server_hostname: str = "localhost"
) -> tuple[str, bytes]:
    with socket.create_connection(address, timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=server_hostname) as tls:
            tls.sendall(message)
            reply = tls.recv(1000)
            cipher = tls.cipher()[0]
            tls.unwrap()  # send close_notify and wait for ours
    return cipher, reply


@pytest.mark.parametrize(("suite", "etm"), [*REPRESENTATIVE, ("AES256-SHA256", True)])
def test_openssl_client_against_server(pkis, tmp_path, serve, suite, etm):
    server = serve()
    context = ssl_client(pkis, suite, tmp_path, etm=etm)
    cipher, reply = talk(context, server.address, b"ping")
    assert reply == b"ping"
    assert cipher == suite_info(parse_suite_name(suite)).openssl_name
    server.close()
    assert server.errors == []
    connection = server.sessions[0].connection
    assert connection.encrypt_then_mac is (etm and not suite_info(parse_suite_name(suite)).is_aead)
    theirs = KeyLog.load(tmp_path / "client-keylog.txt")
    assert theirs.master_secret_for(connection.client_random) == connection.transcript.secrets.master_secret
    # the client's close_notify was seen, and answered
    assert [e.name for e in connection.transcript.messages()][-2:] == ["Alert close_notify"] * 2


def test_openssl_client_without_ems(pkis, tmp_path, serve):
    server = serve()
    _, reply = talk(
        ssl_client(pkis, "ECDHE-RSA-AES128-GCM-SHA256", tmp_path, ems=False), server.address, b"x"
    )
    assert reply == b"x"
    server.close()
    connection = server.sessions[0].connection
    assert not connection.extended_master_secret
    theirs = KeyLog.load(tmp_path / "client-keylog.txt")
    assert theirs.master_secret_for(connection.client_random) == connection.transcript.secrets.master_secret


def test_openssl_client_default_ciphers_get_server_preference(pkis, tmp_path, serve):
    server = serve(cipher_suites=["ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-AES128-GCM-SHA256"])
    cipher, _ = talk(ssl_client(pkis, None, tmp_path), server.address, b"x")
    assert cipher == "ECDHE-ECDSA-CHACHA20-POLY1305"


def test_openssl_client_with_certificate(pkis, tmp_path, serve):
    server = serve(require_client_certificate=True, trust_anchors=[pkis.rsa.root])
    _, reply = talk(
        ssl_client(pkis, "DHE-RSA-AES256-GCM-SHA384", tmp_path, client_cert=True), server.address, b"m"
    )
    assert reply == b"m"
    server.close()
    assert server.sessions[0].connection.peer_certificates[0] == pkis.rsa.client
    names = [e.name for e in server.sessions[0].transcript.messages() if e.sender == "client"]
    assert "CertificateVerify" in names


def test_server_refuses_openssl_client_without_certificate(pkis, tmp_path, serve):
    server = serve(require_client_certificate=True, trust_anchors=[pkis.rsa.root])
    with pytest.raises(ssl.SSLError, match="HANDSHAKE_FAILURE"):
        talk(ssl_client(pkis, "ECDHE-RSA-AES128-GCM-SHA256", tmp_path), server.address, b"m")
    server.close()
    assert len(server.errors) == 1 and isinstance(server.errors[0], HandshakeFailure)


def test_openssl_client_checks_our_certificate_by_ip(pkis, tmp_path, serve):
    server = serve()
    _, reply = talk(
        ssl_client(pkis, "ECDHE-RSA-AES128-GCM-SHA256", tmp_path), server.address, b"ip", "127.0.0.1"
    )
    assert reply == b"ip"

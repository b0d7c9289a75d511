"""The demo PKI's PEM files work for a real ``ssl`` server that a real ``ssl`` client verifies.

A server thread on 127.0.0.1 loads the chain and key; the client trusts only the demo root,
and checks the name (``localhost``) or the IP address (``127.0.0.1``, an iPAddress SAN).
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from httpslab.pki import PemFiles, demo_pki, load_certificates, verify_chain

pytestmark = pytest.mark.interop


class _OneShotServer:
    """Accept TLS connections on 127.0.0.1 until closed; say hello to each."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self.context = context
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(10)
        self.port = self.listener.getsockname()[1]
        self.errors: list[Exception] = []
        self.peer_certificates: list[bytes | None] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            with raw:
                raw.settimeout(10)
                try:
                    with self.context.wrap_socket(raw, server_side=True) as tls:
                        self.peer_certificates.append(tls.getpeercert(binary_form=True))
                        tls.sendall(b"hello from the demo server")
                except (ssl.SSLError, OSError) as exc:
                    self.errors.append(exc)

    def close(self) -> None:
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() on Linux
        except OSError:
            pass
        self.listener.close()
        self.thread.join(5)


@pytest.fixture(params=["rsa", "ecdsa"])
def pem_files(request: pytest.FixtureRequest, tmp_path: Path) -> PemFiles:
    return demo_pki(request.param).write_pem_files(tmp_path)


@pytest.fixture
def server(pem_files: PemFiles) -> Iterator[_OneShotServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pem_files.server_chain_file, pem_files.server_key_file)
    running = _OneShotServer(context)
    yield running
    running.close()


def _client_context(pem_files: PemFiles) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pem_files.ca_file))
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    return context


def _fetch(context: ssl.SSLContext, port: int, server_hostname: str) -> tuple[bytes, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=server_hostname) as tls:
            peer = tls.getpeercert(binary_form=True)
            assert peer is not None
            return tls.recv(100), peer


@pytest.mark.parametrize("server_hostname", ["localhost", "127.0.0.1"])
def test_real_client_verifies_the_demo_server(
    pem_files: PemFiles, server: _OneShotServer, server_hostname: str
) -> None:
    greeting, peer_der = _fetch(_client_context(pem_files), server.port, server_hostname)
    assert greeting == b"hello from the demo server"
    # and our verifier agrees on what the client received
    leaf = x509.load_der_x509_certificate(peer_der)
    name = (
        {"ip_address": server_hostname} if server_hostname[0].isdigit() else {"server_name": server_hostname}
    )
    report = verify_chain(
        leaf, load_certificates(pem_files.intermediate_file), load_certificates(pem_files.ca_file), **name
    )
    assert report.ok, report.as_text()


def test_real_client_rejects_a_wrong_host_name(pem_files: PemFiles, server: _OneShotServer) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        _fetch(_client_context(pem_files), server.port, "www.example.com")
    leaf = load_certificates(pem_files.server_cert_file)[0]
    report = verify_chain(
        leaf,
        load_certificates(pem_files.intermediate_file),
        load_certificates(pem_files.ca_file),
        server_name="www.example.com",
    )
    assert report.error is not None and report.error.name == "name"


def test_real_client_rejects_a_missing_intermediate(pem_files: PemFiles) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pem_files.server_cert_file, pem_files.server_key_file)  # leaf only
    running = _OneShotServer(context)
    try:
        with pytest.raises(ssl.SSLCertVerificationError, match="local issuer"):
            _fetch(_client_context(pem_files), running.port, "localhost")
    finally:
        running.close()


def test_mutual_tls_with_the_demo_client_certificate(pem_files: PemFiles) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pem_files.server_chain_file, pem_files.server_key_file)
    context.load_verify_locations(cafile=str(pem_files.ca_file))
    context.verify_mode = ssl.CERT_REQUIRED
    running = _OneShotServer(context)
    try:
        client = _client_context(pem_files)
        client.load_cert_chain(pem_files.client_chain_file, pem_files.client_key_file)
        greeting, _ = _fetch(client, running.port, "localhost")
        assert greeting == b"hello from the demo server"
        running.close()
        assert running.peer_certificates and running.peer_certificates[0] is not None
        client_leaf = x509.load_der_x509_certificate(running.peer_certificates[0])
        assert client_leaf == load_certificates(pem_files.client_chain_file)[0]
    finally:
        running.close()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_openssl_verify_accepts_the_demo_chain(pem_files: PemFiles) -> None:
    for purpose, cert in (
        ("sslserver", pem_files.server_cert_file),
        ("sslclient", pem_files.client_chain_file),
    ):
        result = subprocess.run(
            ["openssl", "verify", "-purpose", purpose, "-CAfile", str(pem_files.ca_file),
             "-untrusted", str(pem_files.intermediate_file), str(cert)],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert result.returncode == 0 and ": OK" in result.stdout, result.stdout + result.stderr

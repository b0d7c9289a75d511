"""RFC 8422's curve rules on the server side, against real OpenSSL 3.0 peers (TLS 1.2).

Every case runs twice with the same peer and the same options: first with OpenSSL in
httpslab's place (what to expect), then with httpslab. Both must give that peer the same
answer, and that answer is also written down, so that a change in either shows.

- RFC 8422 §5.3 (the server's certificate): a server with an ECDSA P-256 and an RSA
  certificate does not choose an ECDHE_ECDSA suite for a client that names only X25519; it
  picks the RSA suite, or answers handshake_failure when that is all the client offers
  (OpenSSL: ``tls1_check_cert_param`` leaves the certificate out of ``ssl3_choose_cipher``).
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import pytest

from httpslab.enums import CipherSuite
from httpslab.errors import HandshakeFailure, TLSError
from httpslab.io import TLSServer, server_config
from httpslab.openssl_peers import ServerIdentity, openssl_s_client, openssl_s_server
from httpslab.suites import parse_suite_name

pytestmark = pytest.mark.interop

TIMEOUT = 10.0
REQUEST = b"GET / HTTP/1.0\r\n\r\n"
REPLY = b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"
ECDSA_SUITE = CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
RSA_SUITE = CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
ECDSA_THEN_RSA = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"


def _outcome(stdout: str) -> str:
    """What s_client saw: the suite it negotiated, or the fatal alert it received."""
    alert = re.search(r"<<< TLS 1\.2, Alert \[length 0002\], fatal (\w+)", stdout)
    if alert:
        return alert.group(1)
    cipher = re.search(r"New, TLSv1\.2, Cipher is (\S+)", stdout)
    assert cipher, stdout
    return cipher.group(1)


def _accept_one(server: TLSServer, result: dict[str, Any]) -> threading.Thread:
    def serve() -> None:
        try:
            session = server.accept()
        except TLSError as exc:
            result["error"] = exc
            return
        result["session"] = session
        try:
            session.recv()
            session.send(REPLY)
        finally:
            session.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


@pytest.fixture(scope="module")
def both_ca_file(
    ecdsa_identity: ServerIdentity, rsa_identity: ServerIdentity, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Both self-signed demo certificates: s_client trusts whichever one is served."""
    path = tmp_path_factory.mktemp("rfc8422") / "both-ca.pem"
    path.write_bytes(ecdsa_identity.cert_pem + rsa_identity.cert_pem)
    return path


# ------------------------------------------------------------ the server's certificate curve
@pytest.mark.parametrize(
    ("groups", "ciphers", "expected"),
    [
        ("X25519", ECDSA_THEN_RSA, "ECDHE-RSA-AES128-GCM-SHA256"),
        ("X25519:P-256", ECDSA_THEN_RSA, "ECDHE-ECDSA-AES128-GCM-SHA256"),
        ("P-256", ECDSA_THEN_RSA, "ECDHE-ECDSA-AES128-GCM-SHA256"),
        ("X25519", "ECDHE-ECDSA-AES128-GCM-SHA256", "handshake_failure"),
    ],
    ids=["x25519-rsa-instead", "x25519+p256-ecdsa", "p256-ecdsa", "x25519-ecdsa-only-no-shared-cipher"],
)
def test_server_with_ecdsa_and_rsa_certificates_as_openssl_chooses(
    groups: str,
    ciphers: str,
    expected: str,
    ecdsa_identity: ServerIdentity,
    rsa_identity: ServerIdentity,
    both_ca_file: Path,
) -> None:
    client_args = ["-groups", groups, "-cipher", ciphers, "-msg"]
    # OpenSSL first: s_server with the same two certificates (-cert ECDSA, -dcert RSA). It
    # follows the client's order, as httpslab's server (below) follows its own: ECDSA first.
    second_certificate = ["-dcert", str(rsa_identity.cert_file), "-dkey", str(rsa_identity.key_file)]
    with openssl_s_server(key_type="ecdsa", extra_args=second_certificate, timeout=TIMEOUT) as openssl:
        theirs = openssl_s_client(
            openssl.port, cafile=both_ca_file, input=REQUEST, extra_args=client_args, timeout=TIMEOUT
        )
    assert _outcome(theirs.stdout) == expected
    if expected == "handshake_failure":
        assert "no shared cipher" in openssl.output

    config = server_config(
        [ecdsa_identity.cert_file, rsa_identity.cert_file],
        [ecdsa_identity.key_file, rsa_identity.key_file],
        cipher_suites=[ECDSA_SUITE, RSA_SUITE],
    )
    result: dict[str, Any] = {}
    with TLSServer(config, timeout=TIMEOUT) as server:
        thread = _accept_one(server, result)
        ours = openssl_s_client(
            server.address[1], cafile=both_ca_file, input=REQUEST, extra_args=client_args, timeout=TIMEOUT
        )
        thread.join(TIMEOUT)
    assert _outcome(ours.stdout) == _outcome(theirs.stdout) == expected
    if expected == "handshake_failure":
        assert isinstance(result.get("error"), HandshakeFailure), result
        assert "no shared cipher" in str(result["error"])
    else:
        assert "error" not in result, result.get("error")
        assert result["session"].cipher_suite == parse_suite_name(expected)
        assert "Verify return code: 0 (ok)" in ours.stdout and REPLY.decode() in ours.stdout

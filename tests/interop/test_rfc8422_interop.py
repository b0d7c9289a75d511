"""RFC 8422's curve rules on the server side, against real OpenSSL 3.0 peers (TLS 1.2).

Every case runs twice with the same peer and the same options: first with OpenSSL in
httpslab's place (what to expect), then with httpslab. Both must give that peer the same
answer, and that answer is also written down, so that a change in either shows.

- RFC 8422 §5.3 (the server's certificate): a server with an ECDSA P-256 and an RSA
  certificate does not choose an ECDHE_ECDSA suite for a client that names only X25519; it
  picks the RSA suite, or answers handshake_failure when that is all the client offers
  (OpenSSL: ``tls1_check_cert_param`` leaves the certificate out of ``ssl3_choose_cipher``).
- The client's ECDSA certificate: its curve must be one the client named in supported_groups
  and one of the server's groups, else illegal_parameter with the CertificateVerify (OpenSSL:
  ``tls12_check_peer_sigalg``, "wrong curve"). A P-256 key signing with
  ecdsa_secp384r1_sha384 is accepted: TLS 1.2 does not tie the curve to the scheme's hash.
  A server given no groups checks against OpenSSL's default list, which names P-384 and
  P-521 (httpslab's ``OPENSSL_DEFAULT_GROUPS``); a configured list is used as given.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from peer_helpers import wait_for

from httpslab.connection import DEFAULT_SIGNATURE_SCHEMES, TLSConfig
from httpslab.crypto.suites import parse_suite_name
from httpslab.enums import AlertDescription, CipherSuite, NamedGroup, SignatureScheme
from httpslab.errors import AlertReceived, HandshakeFailure, IllegalParameter, TLSError
from httpslab.io import TLSServer, connect, load_credential, server_config
from httpslab.peers.files import ServerIdentity
from httpslab.peers.openssl import openssl_s_client, openssl_s_server
from httpslab.pki import demo_pki
from httpslab.pki.ca import PemFiles, cert_to_pem, key_to_pem

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


#: OpenSSL's ``-groups`` names -> supported_groups code points
CURVE_GROUPS = {
    "X25519": NamedGroup.X25519,
    "P-256": NamedGroup.SECP256R1,
    "P-384": NamedGroup.SECP384R1,
    "P-521": NamedGroup.SECP521R1,
}


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


# ------------------------------------------------------------ the client's certificate curve
@pytest.fixture(scope="module")
def ecdsa_client_files(tmp_path_factory: pytest.TempPathFactory) -> PemFiles:
    """The demo ECDSA PKI: a P-256 client certificate (with its intermediate) and its root."""
    return demo_pki("ecdsa").write_pem_files(tmp_path_factory.mktemp("rfc8422-client"))


def _mutual_tls_with_httpslab_server(
    config: TLSConfig, client_files: PemFiles, options: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """:func:`_mutual_tls_outcome` against httpslab's server: (the client's outcome, the server's
    result from :func:`_accept_one`)."""
    result: dict[str, Any] = {}
    with TLSServer(config, timeout=TIMEOUT) as server:
        thread = _accept_one(server, result)
        outcome = _mutual_tls_outcome(server.address, client_files, options)
        thread.join(TIMEOUT)
    return outcome, result


def _mutual_tls_outcome(address: tuple[str, int], client_files: PemFiles, options: dict[str, Any]) -> str:
    """httpslab's client with the P-256 client certificate: "ok" with the reply, or the alert it got.

    The server's certificate is the self-signed demo one, not checked here (``verify=False``):
    what is tested is the server's check of the client's certificate.
    """
    credential = load_credential(client_files.client_chain_file, client_files.client_key_file)
    config = TLSConfig(cipher_suites=[RSA_SUITE], credentials=[credential], **options)
    try:
        session = connect(*address, config=config, verify=False, timeout=TIMEOUT)
    except AlertReceived as exc:
        return AlertDescription(exc.description).name.lower()
    with session:
        session.send(REQUEST)
        reply = session.recv_all()
    assert reply.startswith(b"HTTP/1.0 200"), reply
    sent = session.transcript.find("CertificateVerify", "client").decoded.scheme
    assert sent == options.get("signature_schemes", [SignatureScheme.ECDSA_SECP256R1_SHA256])[0]
    return "ok"


@pytest.mark.parametrize(
    ("client_groups", "server_groups", "schemes", "expected"),
    [
        ("X25519", None, None, "illegal_parameter"),
        ("X25519:P-256", "X25519", None, "illegal_parameter"),
        ("X25519:P-256", None, None, "ok"),
        (
            "X25519:P-256",
            None,
            [SignatureScheme.ECDSA_SECP384R1_SHA384, SignatureScheme.RSA_PSS_RSAE_SHA256],
            "ok",
        ),
    ],
    ids=["client-did-not-name-p256", "server-does-not-name-p256", "named-by-both", "p256-key-sha384-scheme"],
)
def test_client_certificate_curve_as_openssl_checks_it(
    client_groups: str,
    server_groups: str | None,
    schemes: list[SignatureScheme] | None,
    expected: str,
    rsa_identity: ServerIdentity,
    ecdsa_client_files: PemFiles,
) -> None:
    options: dict[str, Any] = {"groups": [CURVE_GROUPS[g] for g in client_groups.split(":")]}
    if schemes is not None:
        options["signature_schemes"] = schemes
    # OpenSSL first: s_server asks for (-Verify) a client certificate under the demo ECDSA root
    server_args = ["-Verify", "1", "-CAfile", str(ecdsa_client_files.ca_file)]
    if server_groups is not None:
        server_args += ["-groups", server_groups]
    with openssl_s_server(RSA_SUITE, key_type="rsa", extra_args=server_args, timeout=TIMEOUT) as openssl:
        theirs = _mutual_tls_outcome(openssl.address, ecdsa_client_files, options)
        if expected != "ok":
            assert wait_for(lambda: "wrong curve" in openssl.output), openssl.output
    assert theirs == expected

    config = server_config(
        rsa_identity.cert_file,
        rsa_identity.key_file,
        cipher_suites=[RSA_SUITE],
        require_client_certificate=True,
        cafile=ecdsa_client_files.ca_file,
        **({"groups": [CURVE_GROUPS[g] for g in server_groups.split(":")]} if server_groups else {}),
    )
    ours, result = _mutual_tls_with_httpslab_server(config, ecdsa_client_files, options)
    assert ours == theirs == expected
    if expected == "ok":
        assert "error" not in result, result.get("error")
        assert (
            result["session"]
            .peer_certificates[0]
            .subject.rfc4514_string()
            .startswith("CN=httpslab DEMO client")
        )
    else:
        assert isinstance(result.get("error"), IllegalParameter), result
        assert "secp256r1" in str(result["error"])


# OpenSSL's own groups when s_server is given no -groups (supported_groups_default in
# ssl/t1_lib.c: x25519, secp256r1, x448, secp521r1, secp384r1, ffdhe2048..8192) name P-384 and
# P-521, so a default s_server -Verify accepts a client certificate on them; httpslab's default
# server checks against the same list (OPENSSL_DEFAULT_GROUPS), a configured one as given.
CLIENT_CURVES = {"P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}


@pytest.fixture(scope="module")
def client_files_by_curve(tmp_path_factory: pytest.TempPathFactory) -> dict[str, PemFiles]:
    """A client certificate on each of CLIENT_CURVES, issued by the demo ECDSA intermediate."""
    pki = demo_pki("ecdsa")
    directory = tmp_path_factory.mktemp("rfc8422-client-curves")
    base = pki.write_pem_files(directory)
    files = {}
    for name, curve in CLIENT_CURVES.items():
        key = ec.generate_private_key(curve)
        certificate = pki.issue_client(f"httpslab DEMO client {name}", public_key=key.public_key())
        chain_file = directory / f"client-{name}-chain.pem"
        key_file = directory / f"DEMO-client-{name}.key.pem"
        chain_file.write_bytes(cert_to_pem(certificate, pki.intermediate))
        key_file.write_bytes(key_to_pem(key))
        files[name] = dataclasses.replace(base, client_chain_file=chain_file, client_key_file=key_file)
    return files


@pytest.mark.parametrize(
    ("curve", "server_groups", "scheme", "expected"),
    [
        ("P-384", None, SignatureScheme.ECDSA_SECP384R1_SHA384, "ok"),
        ("P-521", None, SignatureScheme.ECDSA_SECP521R1_SHA512, "ok"),
        ("P-384", "X25519:P-256", SignatureScheme.ECDSA_SECP384R1_SHA384, "illegal_parameter"),
        ("P-384", "X25519:P-256:P-384", SignatureScheme.ECDSA_SECP384R1_SHA384, "ok"),
    ],
    ids=["p384-default-groups", "p521-default-groups", "p384-not-in-configured", "p384-in-configured"],
)
def test_client_certificate_on_p384_and_p521_as_openssl_checks_it(
    curve: str,
    server_groups: str | None,
    scheme: SignatureScheme,
    expected: str,
    rsa_identity: ServerIdentity,
    client_files_by_curve: dict[str, PemFiles],
) -> None:
    client_files = client_files_by_curve[curve]
    schemes = [scheme, SignatureScheme.RSA_PSS_RSAE_SHA256]
    options: dict[str, Any] = {
        "groups": [NamedGroup.X25519, NamedGroup.SECP256R1, CURVE_GROUPS[curve]],
        "signature_schemes": schemes,
    }
    server_args = ["-Verify", "1", "-CAfile", str(client_files.ca_file)]
    if server_groups is not None:
        server_args += ["-groups", server_groups]
    with openssl_s_server(RSA_SUITE, key_type="rsa", extra_args=server_args, timeout=TIMEOUT) as openssl:
        theirs = _mutual_tls_outcome(openssl.address, client_files, options)
        if expected != "ok":
            assert wait_for(lambda: "wrong curve" in openssl.output), openssl.output
    assert theirs == expected

    server_options: dict[str, Any] = {
        # s_server's CertificateRequest lists ecdsa_secp521r1_sha512; httpslab's default does not
        "signature_schemes": [*DEFAULT_SIGNATURE_SCHEMES, SignatureScheme.ECDSA_SECP521R1_SHA512],
    }
    if server_groups is not None:
        server_options["groups"] = [CURVE_GROUPS[g] for g in server_groups.split(":")]
    config = server_config(
        rsa_identity.cert_file,
        rsa_identity.key_file,
        cipher_suites=[RSA_SUITE],
        require_client_certificate=True,
        cafile=client_files.ca_file,
        **server_options,
    )
    ours, result = _mutual_tls_with_httpslab_server(config, client_files, options)
    assert ours == theirs == expected
    if expected == "ok":
        assert "error" not in result, result.get("error")
        session = result["session"]
        assert session.peer_certificates[0].public_key().curve.name == CLIENT_CURVES[curve].name
        assert session.transcript.find("CertificateVerify", "client").decoded.scheme == scheme
    else:
        assert isinstance(result.get("error"), IllegalParameter), result
        assert CLIENT_CURVES[curve].name in str(result["error"])

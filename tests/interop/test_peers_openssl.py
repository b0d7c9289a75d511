"""Real OpenSSL sessions recorded through the relay, and the openssl command-line peers.

The checks here read the recordings with a tiny local parser (independent of
httpslab.messages) so that they can vouch for the recordings the other tests rely on.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from peer_helpers import dh_group_name, no_ems_environment, server_dh_prime

import httpslab.peers.openssl as openssl_peers
from httpslab.capture import cleartext_handshake_messages
from httpslab.crypto.suites import SUITES, suite_info
from httpslab.enums import CipherSuite, ExtensionType, HandshakeType
from httpslab.errors import LocalProtocolError, OpenSSLPeerError
from httpslab.keylog import KeyLog
from httpslab.peers.files import ServerIdentity, dh_parameters_pem, server_identity
from httpslab.peers.openssl import (
    RecordedSession,
    openssl_s_client,
    openssl_s_server,
    record_session,
)
from httpslab.pki import demo_pki
from httpslab.relay import SERVER_TO_CLIENT, RecordingRelay

pytestmark = pytest.mark.interop

Recorder = Callable[..., RecordedSession]


# -- a tiny, independent reader of hello messages (RFC 5246 §7.4.1.2, §7.4.1.3) --------------
def _extension_types(extensions: bytes) -> list[int]:
    types, offset = [], 0
    while offset < len(extensions):
        types.append(int.from_bytes(extensions[offset : offset + 2], "big"))
        offset += 4 + int.from_bytes(extensions[offset + 2 : offset + 4], "big")
    assert offset == len(extensions)
    return types


def _client_hello_extensions(client_hello: bytes) -> list[int]:
    offset = 2 + 32  # client_version, random
    offset += 1 + client_hello[offset]  # session_id
    offset += 2 + int.from_bytes(client_hello[offset : offset + 2], "big")  # cipher_suites
    offset += 1 + client_hello[offset]  # compression_methods
    length = int.from_bytes(client_hello[offset : offset + 2], "big")
    return _extension_types(client_hello[offset + 2 : offset + 2 + length])


def _server_hello_suite_and_extensions(server_hello: bytes) -> tuple[int, list[int]]:
    offset = 2 + 32
    offset += 1 + server_hello[offset]  # session_id
    suite = int.from_bytes(server_hello[offset : offset + 2], "big")
    offset += 3  # cipher_suite, compression_method
    length = int.from_bytes(server_hello[offset : offset + 2], "big")
    return suite, _extension_types(server_hello[offset + 2 : offset + 2 + length])


def _first(messages: list[tuple[object, bytes]], msg_type: HandshakeType) -> bytes:
    return next(body for kind, body in messages if kind == msg_type)


# -- every suite, recorded -----------------------------------------------------------------
@pytest.mark.parametrize("suite", list(SUITES), ids=lambda s: s.name)
def test_every_suite_records_a_decryptable_looking_session(
    suite: CipherSuite, recorded_session: Recorder
) -> None:
    session = recorded_session(suite.name)
    info = suite_info(suite)
    assert session.suite == suite
    assert session.negotiated_version == "TLSv1.2"
    assert session.negotiated_cipher is not None and session.negotiated_cipher[0] == info.openssl_name
    assert session.server_endpoint is not None and session.server_endpoint.cipher == session.negotiated_cipher

    c2s = session.client_to_server
    assert c2s[0] == 22 and c2s[5] == HandshakeType.CLIENT_HELLO
    client_random = c2s[11:43]
    keylog = KeyLog.parse(session.keylog_text)
    assert len(keylog.master_secret_for(client_random)) == 48
    assert f"CLIENT_RANDOM {client_random.hex()} " in session.keylog_text

    server_hello = _first(cleartext_handshake_messages(session.server_to_client), HandshakeType.SERVER_HELLO)
    negotiated, server_extensions = _server_hello_suite_and_extensions(server_hello)
    assert negotiated == suite
    assert ExtensionType.EXTENDED_MASTER_SECRET in server_extensions

    # the application data went through, and never in the clear
    assert session.server_received == session.app_data_client
    assert session.client_received == session.app_data_server
    assert session.app_data_client not in c2s
    assert session.app_data_server not in session.server_to_client


def test_recorded_session_carries_what_the_lead_needs(recorded_session: Recorder) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509 import load_der_x509_certificate

    session = recorded_session("TLS_RSA_WITH_AES_128_GCM_SHA256")
    assert isinstance(session.server_private_key, rsa.RSAPrivateKey)
    certificate = load_der_x509_certificate(session.server_cert_der)
    assert certificate.public_key() == session.server_private_key.public_key()
    assert session.server_cert_der in session.server_to_client
    assert session.master_secret == session.keylog.master_secret_for(session.client_random)
    # OpenSSL also logs the RSA premaster, keyed by the first 8 bytes of its encryption
    assert any(entry.label == "RSA" for entry in session.keylog.entries)


@pytest.mark.parametrize(
    ("suite", "ems", "etm"),
    [
        ("ECDHE-RSA-AES128-SHA256", True, True),
        ("ECDHE-RSA-AES128-SHA256", False, True),
        ("ECDHE-RSA-AES128-SHA256", True, False),
        ("AES128-SHA256", False, False),
        ("DHE-RSA-AES128-GCM-SHA256", False, True),
        ("ECDHE-ECDSA-AES128-GCM-SHA256", False, False),
    ],
)
def test_ems_and_etm_switches_really_change_the_hellos(
    suite: str, ems: bool, etm: bool, recorded_session: Recorder
) -> None:
    session = recorded_session(suite, ems=ems, etm=etm)
    assert (session.ems, session.etm) == (ems, etm)
    client_hello = _first(cleartext_handshake_messages(session.client_to_server), HandshakeType.CLIENT_HELLO)
    offered = _client_hello_extensions(client_hello)
    assert (ExtensionType.EXTENDED_MASTER_SECRET in offered) == ems  # 0x0017, RFC 7627
    assert (ExtensionType.ENCRYPT_THEN_MAC in offered) == etm  # 0x0016, RFC 7366
    assert ExtensionType.SERVER_NAME in offered

    server_hello = _first(cleartext_handshake_messages(session.server_to_client), HandshakeType.SERVER_HELLO)
    _, accepted = _server_hello_suite_and_extensions(server_hello)
    assert (ExtensionType.EXTENDED_MASTER_SECRET in accepted) == ems
    # RFC 7366 §3: encrypt-then-MAC only applies to CBC suites; the server echoes it only then
    is_cbc = not suite_info(session.suite).is_aead
    assert (ExtensionType.ENCRYPT_THEN_MAC in accepted) == (etm and is_cbc)
    assert session.keylog.master_secret_for(session.client_random)


# -- DH groups --------------------------------------------------------------------------------
@pytest.mark.parametrize(("group", "openssl_name"), [("ffdhe2048", "ffdhe2048"), ("modp2048", "modp_2048")])
def test_dh_parameters_match_openssls_builtin_groups(group: str, openssl_name: str) -> None:
    # OpenSSL's own table of RFC 7919 / RFC 3526 groups is the second implementation
    generated = subprocess.run(
        ["openssl", "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", f"group:{openssl_name}"],
        capture_output=True,
        check=True,
        timeout=10,
    ).stdout
    assert dh_parameters_pem(group) == generated


@pytest.mark.parametrize("group", ["ffdhe2048", "modp2048"])
def test_record_session_uses_the_requested_dh_group(group: str, recorded_session: Recorder) -> None:
    session = recorded_session("DHE-RSA-AES128-GCM-SHA256", dh_group=group)
    assert session.dh_group == group
    prime = server_dh_prime(session.server_to_client)
    assert prime is not None and prime.bit_length() == 2048
    assert dh_group_name(prime) == group


@pytest.mark.parametrize(("curve", "named_group"), [(None, 0x001D), ("prime256v1", 0x0017)])
def test_ecdh_curve_choice(curve: str | None, named_group: int, recorded_session: Recorder) -> None:
    session = recorded_session("ECDHE-RSA-AES128-GCM-SHA256", ecdh_curve=curve)
    server_key_exchange = _first(
        cleartext_handshake_messages(session.server_to_client), HandshakeType.SERVER_KEY_EXCHANGE
    )
    assert server_key_exchange[0] == 3  # ECCurveType named_curve (RFC 8422 §5.4)
    assert int.from_bytes(server_key_exchange[1:3], "big") == named_group


def test_client_certificate_session() -> None:
    session = record_session("ECDHE-RSA-AES128-GCM-SHA256", client_cert=True)
    assert session.client_cert_der is not None
    client_messages = [kind for kind, _ in cleartext_handshake_messages(session.client_to_server)]
    assert client_messages == [
        HandshakeType.CLIENT_HELLO,
        HandshakeType.CERTIFICATE,
        HandshakeType.CLIENT_KEY_EXCHANGE,
        HandshakeType.CERTIFICATE_VERIFY,
    ]
    assert session.client_cert_der in session.client_to_server
    server_messages = [kind for kind, _ in cleartext_handshake_messages(session.server_to_client)]
    assert HandshakeType.CERTIFICATE_REQUEST in server_messages


def test_tickets_can_be_turned_off() -> None:
    with_ticket = record_session("AES128-GCM-SHA256")
    without = record_session("AES128-GCM-SHA256", tickets=False)
    kinds = [kind for kind, _ in cleartext_handshake_messages(with_ticket.server_to_client)]
    assert HandshakeType.NEW_SESSION_TICKET in kinds
    kinds = [kind for kind, _ in cleartext_handshake_messages(without.server_to_client)]
    assert HandshakeType.NEW_SESSION_TICKET not in kinds


# -- failures end, and end quickly --------------------------------------------------------------
def test_a_relay_that_flips_a_server_key_exchange_byte_breaks_the_handshake() -> None:
    flipped: list[int] = []

    def flip_in_server_key_exchange(direction: str, data: bytes, offset: int) -> bytes:
        # The flight ServerHello..ServerHelloDone arrives in the first chunks; flip the last
        # byte of the ServerKeyExchange signature once we see it.
        if direction != SERVER_TO_CLIENT or flipped:
            return data
        messages = cleartext_handshake_messages(data) if offset == 0 else []
        for kind, body in messages:
            if kind == HandshakeType.SERVER_KEY_EXCHANGE:
                position = data.index(body) + len(body) - 1
                flipped.append(offset + position)
                return data[:position] + bytes([data[position] ^ 1]) + data[position + 1 :]
        return data

    started = time.monotonic()
    with pytest.raises(OpenSSLPeerError) as excinfo:
        record_session("ECDHE-RSA-AES128-GCM-SHA256", tamper=flip_in_server_key_exchange, timeout=5)
    assert flipped, "the tamper hook never saw the ServerKeyExchange"
    assert time.monotonic() - started < 6
    assert "DECRYPT" in str(excinfo.value).upper() or "SIGNATURE" in str(excinfo.value).upper()
    assert not [t for t in threading.enumerate() if t.name.startswith(("relay-", "httpslab-ssl"))]


def test_unknown_suite_is_refused() -> None:
    with pytest.raises(LocalProtocolError):
        record_session("TLS_NULL_WITH_NULL_NULL")
    with pytest.raises(OpenSSLPeerError):
        record_session("DHE-RSA-AES128-GCM-SHA256", dh_group="ffdhe1024")


# -- the openssl command-line tools ------------------------------------------------------------
needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl command")


@needs_openssl
@pytest.mark.parametrize(
    ("dh_group", "expected"),
    # Without -dhparam, OpenSSL 3.0's s_server uses its automatic group: for a 2048-bit RSA
    # certificate (112-bit security) that is the RFC 3526 2048-bit MODP group.
    [(None, "modp2048"), ("ffdhe2048", "ffdhe2048"), ("modp2048", "modp2048")],
)
def test_s_server_dhe_groups(dh_group: str | None, expected: str) -> None:
    suite = "DHE-RSA-AES128-GCM-SHA256"
    with openssl_s_server(suite, dh_group=dh_group) as server, RecordingRelay(server.address) as relay:
        result = openssl_s_client(relay.port, suite=suite, input=b"GET / HTTP/1.0\r\n\r\n")
        relay.wait_closed(5)
    assert result.ok, result.stdout + result.stderr
    assert "Verify return code: 0 (ok)" in result.stdout
    assert "HTTP/1.0 200 ok" in result.stdout
    prime = server_dh_prime(relay.server_to_client)
    assert prime is not None
    assert dh_group_name(prime) == expected


@needs_openssl
@pytest.mark.parametrize(
    "suite", ["ECDHE-ECDSA-CHACHA20-POLY1305", "AES256-SHA256", "ECDHE-RSA-AES256-GCM-SHA384"]
)
def test_s_client_against_s_server(suite: str, tmp_path: Path) -> None:
    keylog_file = tmp_path / "s_client.keys"
    with openssl_s_server(suite) as server, RecordingRelay(server.address) as relay:
        result = openssl_s_client(
            relay.port, suite=suite, input=b"GET / HTTP/1.0\r\n\r\n", keylog_file=keylog_file
        )
        relay.wait_closed(5)
    assert result.ok, result.stdout + result.stderr
    assert f"Cipher is {suite}" in result.stdout
    client_random = relay.client_to_server[11:43]
    assert len(KeyLog.load(keylog_file).master_secret_for(client_random)) == 48
    assert b"HTTP/1.0 200 ok" not in relay.server_to_client  # only the client sees it in clear


@needs_openssl
def test_s_client_fails_on_the_wrong_trust_anchor(ecdsa_identity: ServerIdentity) -> None:
    with openssl_s_server("ECDHE-RSA-AES128-GCM-SHA256") as server:
        result = openssl_s_client(
            server.port, suite="ECDHE-RSA-AES128-GCM-SHA256", cafile=ecdsa_identity.ca_file
        )
    assert not result.ok
    assert "verify error" in (result.stdout + result.stderr).lower()


def test_s_client_only_connects_to_loopback() -> None:
    with pytest.raises(OpenSSLPeerError):
        openssl_s_client(443, host="192.0.2.1")


# -- what s_server serves, and what the OpenSSLServer says it serves ----------------------------
def _certificate_list(certificate: bytes) -> list[bytes]:
    """The DER certificates of a Certificate message body (RFC 5246 §7.4.2)."""
    total = int.from_bytes(certificate[:3], "big")
    assert total == len(certificate) - 3
    ders, offset = [], 3
    while offset < len(certificate):
        length = int.from_bytes(certificate[offset : offset + 3], "big")
        ders.append(certificate[offset + 3 : offset + 3 + length])
        offset += 3 + length
    return ders


def _served_certificates(relay: RecordingRelay) -> list[bytes]:
    messages = cleartext_handshake_messages(relay.server_to_client)
    return _certificate_list(_first(messages, HandshakeType.CERTIFICATE))


@needs_openssl
def test_s_server_describes_the_demo_identity_it_serves_by_default(ecdsa_identity: ServerIdentity) -> None:
    suite = "ECDHE-ECDSA-AES128-GCM-SHA256"  # an ECDSA suite: the ECDSA demo certificate
    with openssl_s_server(suite) as server, RecordingRelay(server.address) as relay:
        result = openssl_s_client(
            relay.port, suite=suite, cafile=server.ca_file, input=b"GET / HTTP/1.0\r\n\r\n"
        )
        relay.wait_closed(5)
    assert result.ok, result.stdout + result.stderr
    assert "Verify return code: 0 (ok)" in result.stdout
    assert server.identity is ecdsa_identity
    assert (server.cert_file, server.key_file) == (ecdsa_identity.cert_file, ecdsa_identity.key_file)
    assert server.chain_file is None and server.ca_file == ecdsa_identity.ca_file
    assert _served_certificates(relay) == [ecdsa_identity.cert_der]


@needs_openssl
def test_s_server_serves_the_given_chain_and_describes_it(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.serialization import Encoding

    pki = demo_pki("ecdsa")
    files = pki.write_pem_files(tmp_path)
    suite = "ECDHE-ECDSA-AES128-GCM-SHA256"
    with (
        openssl_s_server(
            suite,
            cert_file=files.server_cert_file,
            key_file=files.server_key_file,
            chain_file=files.intermediate_file,
            ca_file=files.ca_file,
        ) as server,
        RecordingRelay(server.address) as relay,
    ):
        result = openssl_s_client(
            relay.port, suite=suite, cafile=server.ca_file, input=b"GET / HTTP/1.0\r\n\r\n"
        )
        relay.wait_closed(5)
    assert result.ok, result.stdout + result.stderr
    assert "Verify return code: 0 (ok)" in result.stdout  # verified against the demo root only
    assert server.identity is None  # not the self-signed demo identity
    assert (server.cert_file, server.key_file) == (files.server_cert_file, files.server_key_file)
    assert (server.chain_file, server.ca_file) == (files.intermediate_file, files.ca_file)
    assert _served_certificates(relay) == [
        pki.server.public_bytes(Encoding.DER),
        pki.intermediate.public_bytes(Encoding.DER),
    ]


@pytest.mark.parametrize(
    ("case", "match"),
    [
        ("-cert in extra_args", "not \\['-cert'\\] in extra_args"),
        ("-key and -cert_chain in extra_args", "not \\['-cert_chain', '-key'\\] in extra_args"),
        ("key_file alone", "go with cert_file"),
        ("chain_file alone", "go with cert_file"),
        ("ca_file alone", "go with cert_file"),
        ("cert_file without key_file", "needs its key_file"),
        ("cert_file and key_type", "key_type picks the demo certificate"),
        ("cert_file missing", "cert_file .* is not a file"),
    ],
)
def test_s_server_refuses_a_certificate_it_could_not_describe(
    case: str, match: str, rsa_identity: ServerIdentity, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = rsa_identity.cert_file, rsa_identity.key_file
    options: dict[str, object] = {
        "-cert in extra_args": {"extra_args": ["-cert", str(cert)]},
        "-key and -cert_chain in extra_args": {"extra_args": ["-key", str(key), "-cert_chain", str(cert)]},
        "key_file alone": {"key_file": key},
        "chain_file alone": {"chain_file": cert},
        "ca_file alone": {"ca_file": cert},
        "cert_file without key_file": {"cert_file": cert},
        "cert_file and key_type": {"cert_file": cert, "key_file": key, "key_type": "rsa"},
        "cert_file missing": {"cert_file": tmp_path / "missing.pem", "key_file": key},
    }[case]
    monkeypatch.setattr(openssl_peers, "_free_port", lambda: pytest.fail("s_server was started"))
    with pytest.raises(OpenSSLPeerError, match=match):
        with openssl_s_server(**options):  # type: ignore[arg-type]
            pass


# -- the launcher survives a taken port -----------------------------------------------------------
@pytest.fixture
def held_port() -> Iterator[int]:
    """A loopback port bound (and listening) by this test for as long as it runs."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        yield holder.getsockname()[1]


@needs_openssl
def test_s_server_retries_on_a_port_taken_before_it_binds(
    held_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen: list[int] = []
    real_free_port = openssl_peers._free_port

    def first_a_taken_port() -> int:  # the race: another process binds the probed port first
        chosen.append(held_port if not chosen else real_free_port())
        return chosen[-1]

    monkeypatch.setattr(openssl_peers, "_free_port", first_a_taken_port)
    with openssl_s_server("ECDHE-RSA-AES128-GCM-SHA256") as server:
        result = openssl_s_client(
            server.port, suite="ECDHE-RSA-AES128-GCM-SHA256", input=b"GET / HTTP/1.0\r\n\r\n"
        )
    assert len(chosen) == 2 and chosen[0] == held_port
    assert server.port == chosen[1] != held_port
    assert result.ok, result.stdout + result.stderr
    assert "HTTP/1.0 200 ok" in result.stdout


@needs_openssl
def test_s_server_gives_up_after_its_attempts_and_says_why(
    held_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    monkeypatch.setattr(openssl_peers, "_free_port", lambda: calls.append(held_port) or held_port)
    with pytest.raises(OpenSSLPeerError, match="Address already in use"):
        with openssl_s_server(attempts=2):
            pass
    assert len(calls) == 2


@needs_openssl
def test_s_server_fails_fast_on_a_bad_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real_free_port = openssl_peers._free_port
    monkeypatch.setattr(openssl_peers, "_free_port", lambda: calls.append(1) or real_free_port())
    with pytest.raises(OpenSSLPeerError, match="did not start"):
        with openssl_s_server(extra_args=["-no-such-option"]):
            pass
    assert len(calls) == 1  # not a taken port: no second attempt


# -- environment and SNI ------------------------------------------------------------------------


@needs_openssl
@pytest.mark.parametrize("side", ["server", "client"])
def test_env_reaches_the_openssl_process(side: str, tmp_path: Path) -> None:
    """An OPENSSL_CONF that turns EMS off, given to one side only, turns it off for the session."""
    no_ems = no_ems_environment(tmp_path)
    suite = "ECDHE-RSA-AES128-GCM-SHA256"
    with openssl_s_server(suite, env=no_ems if side == "server" else None) as server:
        result = openssl_s_client(
            server.port,
            suite=suite,
            input=b"GET / HTTP/1.0\r\n\r\n",
            env=no_ems if side == "client" else None,
        )
        control = openssl_s_client(server.port, suite=suite, input=b"GET / HTTP/1.0\r\n\r\n")
    assert result.ok, result.stdout + result.stderr
    assert "Extended master secret: no" in result.stdout
    assert ("Extended master secret: yes" in control.stdout) is (side == "client")


@needs_openssl
@pytest.mark.parametrize("servername", ["localhost", None])
def test_s_client_sends_sni_only_when_given_a_name(servername: str | None) -> None:
    suite = "ECDHE-RSA-AES128-GCM-SHA256"
    with openssl_s_server(suite) as server, RecordingRelay(server.address) as relay:
        result = openssl_s_client(
            relay.port,
            suite=suite,
            servername=servername,
            input=b"GET / HTTP/1.0\r\n\r\n",
            extra_args=["-verify_ip", "127.0.0.1"] if servername is None else [],
        )
        relay.wait_closed(5)
    assert result.ok, result.stdout + result.stderr
    hello = _first(cleartext_handshake_messages(relay.client_to_server), HandshakeType.CLIENT_HELLO)
    assert (ExtensionType.SERVER_NAME in _client_hello_extensions(hello)) is (servername is not None)


def test_readiness_needs_accept_not_just_a_live_process() -> None:
    """Output that ends without ACCEPT is a failed start, even while the process still runs
    (a process closes its output a moment before it can be reaped)."""
    process = subprocess.Popen(
        ["sh", "-c", "echo 'BIO_bind: Address already in use'; exec >&- 2>&-; sleep 2"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    server = openssl_peers.OpenSSLServer(process, 0, server_identity("rsa"), ["sh"])
    try:
        with pytest.raises(OpenSSLPeerError, match="Address already in use"):
            server._wait_ready(5)
        assert process.poll() is None  # still running: poll() alone would have said "ready"
    finally:
        server.stop()


def test_server_identity_is_one_per_key_type_however_it_is_asked_for() -> None:
    """The files on disk belong to the one cached identity: a second key would overwrite them."""
    identity = server_identity("rsa")
    assert server_identity() is identity
    assert server_identity(key_type="rsa", common_name="localhost") is identity
    assert identity.cert_file.read_bytes() == identity.cert_pem

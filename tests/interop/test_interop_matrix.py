"""Interop matrix: httpslab against two real OpenSSL peers, in both directions.

Four pairings, each run over a real TCP connection on 127.0.0.1:

- ``ssl-server``: httpslab client  → Python ``ssl`` server (OpenSSL, in a thread);
- ``s_server``:   httpslab client  → ``openssl s_server -www`` (through a recording relay);
- ``ssl-client``: Python ``ssl`` client → httpslab server;
- ``s_client``:   ``openssl s_client`` → httpslab server (through a recording relay).

Three switches on top of the cipher suite: **EMS** (RFC 7627) on or off, a **client
certificate** (mutual TLS, required by the server) or none, and reaching the server **by
name** (``localhost``: SNI sent, DNS subjectAltName checked) or **by IP** (``127.0.0.1``: no
SNI, iPAddress subjectAltName checked). "EMS off" is set on the OpenSSL side
(``SSL_OP_NO_EXTENDED_MASTER_SECRET`` for Python ``ssl``; an ``OPENSSL_CONF`` with
``Options = -ExtendedMasterSecret`` for the command-line tools, which have no ``-no_ems``
switch in OpenSSL 3.0), so httpslab must cope with a peer that does not do EMS; two extra
tests turn it off on httpslab's own side instead.

**Coverage rule.** Every one of the 25 suites runs in every pairing. The four
:data:`REPRESENTATIVE` suites (one per key exchange / authentication, AEAD and CBC) run the
full cross of the three switches (8 combinations). Every other suite runs two
*complementary* combinations, ``k`` and ``7 - k`` with ``k = (i + 3 p) mod 8`` (``i``: its
position among those 21 suites, ``p``: the pairing's position in :data:`PAIRINGS`; bit 0 of
``k``: EMS off, bit 1: client certificate, bit 2: by IP): each such suite sees both values
of every switch, and across the suites of one pairing every one of the 8 combinations
occurs. That is 4 × 8 + 21 × 2 = 74 sessions per pairing, 296 in all.

**What each run checks.** Both ends negotiated the suite asked for (httpslab's view and
OpenSSL's: ``SSLSocket.cipher()``, the ``s_server -www`` page, ``s_client``'s summary);
EMS is what the switch says on both ends; the client certificate was sent and checked
(or not); SNI was sent by name and not by IP; application data went both ways intact; and
the session **closed with close_notify in both directions** — seen by httpslab's transcript,
by Python's ``unwrap()`` succeeding, and for the command-line peers on the wire: the
relay's capture is decrypted with :func:`httpslab.capture.analyze_capture` and the session's
key log, and both close_notify alerts must be in it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from peer_helpers import no_ems_environment

from httpslab.capture import analyze_capture
from httpslab.connection import ConnectionClosed, TLSConfig
from httpslab.crypto.suites import SUITES, suite_info
from httpslab.enums import AlertDescription, CipherSuite, ContentType
from httpslab.io import TLSServer, TLSSession, connect, server_config
from httpslab.keylog import KeyLog
from httpslab.peers.files import dh_parameters_file
from httpslab.peers.openssl import (
    OP_NO_EXTENDED_MASTER_SECRET,
    OpenSSLServer,
    openssl_s_client,
    openssl_s_server,
)
from httpslab.pki import PemFiles, demo_pki
from httpslab.relay import RecordingRelay

pytestmark = pytest.mark.interop

LOOPBACK = "127.0.0.1"
HOST_NAME = "localhost"
TIMEOUT = 10.0

PAIRINGS = ("ssl-server", "s_server", "ssl-client", "s_client")
REPRESENTATIVE: tuple[CipherSuite, ...] = (
    CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    CipherSuite.TLS_DHE_RSA_WITH_AES_128_CBC_SHA256,
    CipherSuite.TLS_RSA_WITH_AES_256_CBC_SHA256,
)
ALL_SUITES: tuple[CipherSuite, ...] = tuple(SUITES)


@dataclass(frozen=True)
class Case:
    pairing: str
    suite: CipherSuite
    ems: bool
    client_cert: bool
    by_ip: bool

    @property
    def id(self) -> str:
        return "-".join(
            [
                self.pairing,
                suite_info(self.suite).openssl_name,
                "ems" if self.ems else "noems",
                "mtls" if self.client_cert else "nocert",
                "ip" if self.by_ip else "name",
            ]
        )

    @property
    def server_name(self) -> str:
        return LOOPBACK if self.by_ip else HOST_NAME

    @property
    def key_type(self) -> str:
        return "ecdsa" if suite_info(self.suite).authentication == "ECDSA" else "rsa"


def _combination(k: int) -> tuple[bool, bool, bool]:
    """(ems, client_cert, by_ip) of combination ``k`` (bit 0: EMS off, 1: cert, 2: by IP)."""
    return (not k & 1, bool(k & 2), bool(k & 4))


def matrix() -> list[Case]:
    cases = []
    for pairing_position, pairing in enumerate(PAIRINGS):
        others = [s for s in ALL_SUITES if s not in REPRESENTATIVE]
        for suite in ALL_SUITES:
            if suite in REPRESENTATIVE:
                combinations = list(range(8))
            else:
                k = (others.index(suite) + 3 * pairing_position) % 8
                combinations = [k, 7 - k]
            cases += [Case(pairing, suite, *_combination(k)) for k in combinations]
    return cases


CASES = matrix()


def test_the_matrix_follows_the_coverage_rule() -> None:
    for pairing in PAIRINGS:
        mine = [c for c in CASES if c.pairing == pairing]
        assert {c.suite for c in mine} == set(ALL_SUITES)
        assert {(c.ems, c.client_cert, c.by_ip) for c in mine} == {_combination(k) for k in range(8)}
        for suite in ALL_SUITES:
            runs = [c for c in mine if c.suite == suite]
            for switch in ("ems", "client_cert", "by_ip"):
                assert {getattr(c, switch) for c in runs} == {True, False}, (pairing, suite, switch)
            if suite in REPRESENTATIVE:
                assert len(runs) == 8
    assert len(CASES) == 4 * (4 * 8 + (len(ALL_SUITES) - 4) * 2)


# ============================================================================ fixtures


@dataclass(frozen=True)
class Identities:
    rsa: PemFiles
    ecdsa: PemFiles
    ca_file: Path  # both demo roots
    no_ems_env: dict[str, str]  # the environment for the openssl commands without EMS

    def files(self, key_type: str) -> PemFiles:
        return self.rsa if key_type == "rsa" else self.ecdsa


@pytest.fixture(scope="module")
def identities(tmp_path_factory: pytest.TempPathFactory) -> Identities:
    directory = tmp_path_factory.mktemp("interop-pki")
    rsa = demo_pki("rsa").write_pem_files(directory)
    ecdsa = demo_pki("ecdsa").write_pem_files(directory)
    ca_file = directory / "both-roots.pem"
    ca_file.write_bytes(rsa.ca_file.read_bytes() + ecdsa.ca_file.read_bytes())
    return Identities(rsa, ecdsa, ca_file, no_ems_environment(directory))


def _openssl_env(identities: Identities, ems: bool) -> dict[str, str]:
    return dict(os.environ) if ems else identities.no_ems_env


def _s_server(
    identities: Identities, *, ems: bool = True, client_cert: bool = False, extra_args: Sequence[str] = ()
) -> contextlib.AbstractContextManager[OpenSSLServer]:
    """``openssl s_server -www`` with an RSA and an ECDSA chain and every suite, serving many clients.

    Started by :func:`httpslab.peers.openssl.openssl_s_server` (ready on ``ACCEPT``, retried
    on a taken port) with the RSA chain; the ECDSA one is s_server's second certificate
    (``-dcert``), and the server's ``ca_file`` trusts both roots.
    """
    rsa, ecdsa = identities.rsa, identities.ecdsa
    args = [
        "-cipher", "ALL",
        "-dcert", str(ecdsa.server_cert_file), "-dcert_chain", str(ecdsa.intermediate_file),
        "-dkey", str(ecdsa.server_key_file),
    ]  # fmt: skip
    if client_cert:
        args += ["-Verify", "3", "-CAfile", str(identities.ca_file), "-verify_return_error"]
    return openssl_s_server(
        None,
        cert_file=rsa.server_cert_file,
        key_file=rsa.server_key_file,
        chain_file=rsa.intermediate_file,
        ca_file=identities.ca_file,
        extra_args=[*args, *extra_args],
        env=_openssl_env(identities, ems),
        timeout=TIMEOUT,
    )


@pytest.fixture(scope="module")
def s_servers(identities: Identities) -> Iterator[dict[tuple[bool, bool], OpenSSLServer]]:
    """s_server processes keyed by (ems, client_cert), started on first use."""
    with contextlib.ExitStack() as running:

        class Lazy(dict):  # type: ignore[type-arg]
            def __missing__(self, key: tuple[bool, bool]) -> OpenSSLServer:
                server = running.enter_context(_s_server(identities, ems=key[0], client_cert=key[1]))
                self[key] = server
                return server

        yield Lazy()


@pytest.fixture(scope="module")
def httpslab_servers(identities: Identities) -> Iterator[dict[bool, TLSServer]]:
    """httpslab servers (RSA + ECDSA credentials, every suite) keyed by client_cert."""
    servers = {}
    for client_cert in (False, True):
        config = server_config(
            [identities.rsa.server_chain_file, identities.ecdsa.server_chain_file],
            [identities.rsa.server_key_file, identities.ecdsa.server_key_file],
            require_client_certificate=client_cert,
            cafile=identities.ca_file,
        )
        servers[client_cert] = TLSServer(config, LOOPBACK, 0, timeout=TIMEOUT)
    yield servers
    for server in servers.values():
        server.close()


# ============================================================================ helpers

REQUEST = b"GET /interop HTTP/1.0\r\nHost: localhost\r\n\r\n"
REPLY = b"HTTP/1.0 200 OK\r\nContent-Length: 14\r\n\r\nhello, interop"


def _client_credentials(case: Case, identities: Identities) -> dict[str, Any]:
    if not case.client_cert:
        return {}
    files = identities.files(case.key_type)
    return {"client_cert": files.client_chain_file, "client_key": files.client_key_file}


def _fetch(
    port: int, identities: Identities, suite: CipherSuite, *, server_name: str = HOST_NAME, **options: Any
) -> tuple[TLSSession, bytes]:
    """httpslab client: connect, send REQUEST, read until the server closes, close (close_notify)."""
    session = connect(
        LOOPBACK,
        port,
        server_name=server_name,
        cafile=identities.ca_file,
        cipher_suites=[suite],
        timeout=TIMEOUT,
        **options,
    )
    with contextlib.closing(session):
        session.send(REQUEST)
        page = session.recv_all()
    return session, page


def _fetch_from_new_s_server(
    identities: Identities, suite: CipherSuite, *extra_args: str
) -> tuple[TLSSession, bytes]:
    """Start an s_server with ``extra_args``, :func:`_fetch` its page once, stop it."""
    with _s_server(identities, extra_args=extra_args) as server:
        return _fetch(server.port, identities, suite)


def _s_client_certificate_args(files: PemFiles) -> list[str]:
    # -cert loads the leaf only; the intermediate goes with -cert_chain
    return [
        "-cert", str(files.client_chain_file), "-cert_chain", str(files.intermediate_file),
        "-key", str(files.client_key_file),
    ]  # fmt: skip


def _s_client(
    port: int,
    identities: Identities,
    *extra_args: str,
    suite: CipherSuite | str | None = None,
    ems: bool = True,
    by_ip: bool = False,
) -> str:
    """openssl s_client sends REQUEST (SNI and name check by name, or none and an IP check)
    and waits for the server to close; its stdout."""
    name_check = ["-verify_ip", LOOPBACK] if by_ip else ["-verify_hostname", HOST_NAME]
    result = openssl_s_client(
        port,
        suite=suite,
        input=REQUEST,
        servername=None if by_ip else HOST_NAME,
        cafile=identities.ca_file,
        extra_args=[*name_check, *extra_args],
        env=_openssl_env(identities, ems),
        timeout=TIMEOUT,
    )
    assert result.ok, result.stdout + result.stderr
    return result.stdout


def _s_client_to_httpslab(
    server: TLSServer, identities: Identities, *extra_args: str, port: int | None = None, **options: Any
) -> tuple[dict[str, Any], str]:
    """One httpslab session accepted in a thread (:func:`_accept_in_thread`) for one
    :func:`_s_client` run, sent to ``port`` (a relay in front of ``server``) or to ``server``."""
    result: dict[str, Any] = {}
    thread = _accept_in_thread(server, result, wait_for_close=False)
    try:
        stdout = _s_client(port or server.address[1], identities, *extra_args, **options)
    finally:
        thread.join(TIMEOUT)
    return result, stdout


def _assert_httpslab_client_side(session: TLSSession, case: Case) -> None:
    connection = session.connection
    assert connection.cipher_suite == case.suite
    assert connection.extended_master_secret is case.ems
    hello = connection.transcript.find("ClientHello", "client").decoded
    assert (hello.server_name is None) is case.by_ip  # RFC 6066 §3: no SNI for an IP literal
    names = [e.name for e in connection.transcript.handshake_messages()]
    if case.client_cert:
        assert "CertificateRequest" in names and "CertificateVerify" in names
        certificate = [e for e in connection.transcript.handshake_messages() if e.name == "Certificate"]
        assert certificate[-1].sender == "client" and certificate[-1].decoded.certificate_list
    else:
        assert "CertificateRequest" not in names
    assert connection.verification_report is not None and connection.verification_report.ok


def _close_notify_senders(connection_transcript: Any) -> set[str]:
    return {
        e.sender
        for e in connection_transcript.messages()
        if e.kind == "alert" and e.decoded.description == AlertDescription.CLOSE_NOTIFY
    }


def _assert_capture_closes_cleanly(relay: RecordingRelay, keylog: KeyLog, case: Case) -> None:
    """Decrypt the relay's capture: both close_notify alerts are on the wire, encrypted."""
    relay.wait_closed(TIMEOUT)
    captured = analyze_capture(relay.client_to_server, relay.server_to_client, keylog)
    assert captured.suite.suite == case.suite
    assert captured.extended_master_secret is case.ems
    alerts = {
        (r.sender, r.plaintext)
        for r in captured.records
        if r.content_type == ContentType.ALERT and r.encrypted
    }
    assert ("client", b"\x01\x00") in alerts
    assert ("server", b"\x01\x00") in alerts
    assert captured.application_data("client").startswith(b"GET /")


# ============================================================================ pairings


def run_ssl_server(case: Case, identities: Identities) -> None:
    """httpslab client → Python ssl server."""
    info = suite_info(case.suite)
    files = identities.files(case.key_type)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(info.openssl_name)
    context.load_cert_chain(files.server_chain_file, files.server_key_file)
    context.load_dh_params(str(dh_parameters_file("ffdhe2048")))
    if not case.ems:
        context.options |= OP_NO_EXTENDED_MASTER_SECRET
    if case.client_cert:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cafile=str(identities.ca_file))
    result: dict[str, Any] = {}
    listener = socket.socket()
    listener.bind((LOOPBACK, 0))
    listener.listen(1)
    listener.settimeout(TIMEOUT)

    def serve() -> None:
        try:
            raw, _ = listener.accept()
            raw.settimeout(TIMEOUT)
            with context.wrap_socket(raw, server_side=True) as tls:
                data = bytearray()
                while len(data) < len(REQUEST):
                    chunk = tls.recv(len(REQUEST) - len(data))
                    if not chunk:
                        break
                    data += chunk
                result["request"] = bytes(data)
                # cipher()[1] is the oldest version the suite works in; version() is this session's
                result["cipher"] = (tls.cipher()[0], tls.version())
                result["peer_cert"] = tls.getpeercert(binary_form=True)
                tls.sendall(REPLY)
                tls.unwrap().close()  # sends close_notify, returns once the client's arrived
                result["unwrapped"] = True
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        session, reply = _fetch(
            listener.getsockname()[1],
            identities,
            case.suite,
            server_name=case.server_name,
            **_client_credentials(case, identities),
        )
    finally:
        thread.join(TIMEOUT)
        listener.close()
    assert "error" not in result, result.get("error")
    assert reply == REPLY
    assert result["request"] == REQUEST
    assert result["cipher"][0] == info.openssl_name and result["cipher"][1] == "TLSv1.2"
    assert (result["peer_cert"] is not None) is case.client_cert
    assert result["unwrapped"]
    assert ConnectionClosed(by_peer=True, clean=True) in session.events
    assert _close_notify_senders(session.transcript) == {"client", "server"}
    _assert_httpslab_client_side(session, case)


def run_s_server(
    case: Case, identities: Identities, s_servers: dict[tuple[bool, bool], OpenSSLServer]
) -> None:
    """httpslab client → openssl s_server -www, through a recording relay."""
    server = s_servers[(case.ems, case.client_cert)]
    with RecordingRelay(server.address) as relay:
        session, page = _fetch(
            relay.port,
            identities,
            case.suite,
            server_name=case.server_name,
            **_client_credentials(case, identities),
        )
        keylog = KeyLog.parse(session.transcript.keylog())
        _assert_capture_closes_cleanly(relay, keylog, case)
    assert page.startswith(b"HTTP/1.0 200 ok\r\n")
    info = suite_info(case.suite)
    assert f"Cipher is {info.openssl_name}".encode() in page
    assert b"Protocol  : TLSv1.2" in page
    assert f"Extended master secret: {'yes' if case.ems else 'no'}".encode() in page
    assert ConnectionClosed(by_peer=True, clean=True) in session.events
    _assert_httpslab_client_side(session, case)


def _accept_in_thread(server: TLSServer, result: dict[str, Any], *, wait_for_close: bool) -> threading.Thread:
    def serve() -> None:
        session = None
        try:
            session = server.accept()
            result["session"] = session
            data = bytearray()
            while len(data) < len(REQUEST):
                chunk = session.recv(len(REQUEST) - len(data))
                if not chunk:
                    break
                data += chunk
            result["request"] = bytes(data)
            session.send(REPLY)
            if wait_for_close:
                result["after"] = session.recv()  # b"" once the client's close_notify arrived
            session.close()
        except BaseException as exc:
            result["error"] = exc
            if session is not None:
                session.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def _assert_httpslab_server_side(result: dict[str, Any], case: Case) -> None:
    assert "error" not in result, result.get("error")
    session: TLSSession = result["session"]
    connection = session.connection
    assert result["request"] == REQUEST
    assert connection.cipher_suite == case.suite
    assert connection.extended_master_secret is case.ems
    assert connection.server_name == (None if case.by_ip else HOST_NAME)
    assert bool(connection.peer_certificates) is case.client_cert
    if case.client_cert:
        assert connection.verification_report is not None and connection.verification_report.ok
    assert _close_notify_senders(connection.transcript) >= {"server"}


def run_ssl_client(case: Case, identities: Identities, servers: dict[bool, TLSServer]) -> None:
    """Python ssl client → httpslab server."""
    info = suite_info(case.suite)
    server = servers[case.client_cert]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(info.openssl_name)
    context.load_verify_locations(cafile=str(identities.ca_file))
    if not case.ems:
        context.options |= OP_NO_EXTENDED_MASTER_SECRET
    if case.client_cert:
        files = identities.files(case.key_type)
        context.load_cert_chain(files.client_chain_file, files.client_key_file)
    result: dict[str, Any] = {}
    thread = _accept_in_thread(server, result, wait_for_close=True)
    try:
        with socket.create_connection(server.address, timeout=TIMEOUT) as raw:
            tls = context.wrap_socket(raw, server_hostname=case.server_name)
            tls.sendall(REQUEST)
            reply = bytearray()
            while len(reply) < len(REPLY):
                chunk = tls.recv(len(REPLY) - len(reply))
                if not chunk:
                    break
                reply += chunk
            cipher = (tls.cipher()[0], tls.version())  # (suite, this session's version)
            tls.unwrap()  # sends close_notify and returns once the server's arrived
    finally:
        thread.join(TIMEOUT)
    assert bytes(reply) == REPLY
    assert cipher is not None and cipher[0] == info.openssl_name and cipher[1] == "TLSv1.2"
    _assert_httpslab_server_side(result, case)
    assert result["after"] == b""
    assert ConnectionClosed(by_peer=True, clean=True) in result["session"].events


def run_s_client(case: Case, identities: Identities, servers: dict[bool, TLSServer]) -> None:
    """openssl s_client → httpslab server, through a recording relay."""
    info = suite_info(case.suite)
    server = servers[case.client_cert]
    certificate_args = _s_client_certificate_args(identities.files(case.key_type)) if case.client_cert else []
    with RecordingRelay(server.address) as relay:
        result, stdout = _s_client_to_httpslab(
            server,
            identities,
            *certificate_args,
            port=relay.port,
            suite=case.suite,
            ems=case.ems,
            by_ip=case.by_ip,
        )
        _assert_httpslab_server_side(result, case)
        session: TLSSession = result["session"]
        _assert_capture_closes_cleanly(relay, KeyLog.parse(session.transcript.keylog()), case)
    assert REPLY.decode() in stdout
    assert f"Cipher is {info.openssl_name}" in stdout
    assert "Verify return code: 0 (ok)" in stdout
    assert f"Extended master secret: {'yes' if case.ems else 'no'}" in stdout


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_interop(
    case: Case,
    identities: Identities,
    s_servers: dict[tuple[bool, bool], OpenSSLServer],
    httpslab_servers: dict[bool, TLSServer],
) -> None:
    if case.pairing == "ssl-server":
        run_ssl_server(case, identities)
    elif case.pairing == "s_server":
        run_s_server(case, identities, s_servers)
    elif case.pairing == "ssl-client":
        run_ssl_client(case, identities, httpslab_servers)
    else:
        run_s_client(case, identities, httpslab_servers)


# ============================================================================ EMS off on httpslab's side


def test_httpslab_client_without_ems_against_s_server(
    identities: Identities, s_servers: dict[tuple[bool, bool], OpenSSLServer]
) -> None:
    server = s_servers[(True, False)]  # s_server does EMS; httpslab does not offer it
    session, page = _fetch(
        server.port,
        identities,
        CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        config=TLSConfig(extended_master_secret=False),
    )
    hello = session.transcript.find("ClientHello", "client").decoded
    assert not hello.extended_master_secret
    assert not session.connection.extended_master_secret
    assert b"Extended master secret: no" in page


def test_httpslab_server_without_ems_against_ssl_client(identities: Identities) -> None:
    config = server_config(
        identities.rsa.server_chain_file, identities.rsa.server_key_file, extended_master_secret=False
    )
    with TLSServer(config, LOOPBACK, 0, timeout=TIMEOUT) as server:
        result: dict[str, Any] = {}
        thread = _accept_in_thread(server, result, wait_for_close=True)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        context.load_verify_locations(cafile=str(identities.ca_file))
        with socket.create_connection(server.address, timeout=TIMEOUT) as raw:
            tls = context.wrap_socket(raw, server_hostname=HOST_NAME)
            tls.sendall(REQUEST)
            reply = bytearray()
            while len(reply) < len(REPLY):
                reply += tls.recv(len(REPLY) - len(reply))
            tls.unwrap()
        thread.join(TIMEOUT)
    assert bytes(reply) == REPLY
    connection = result["session"].connection
    assert connection.transcript.find("ClientHello", "client").decoded.extended_master_secret
    assert not connection.transcript.find("ServerHello", "server").decoded.extended_master_secret
    assert not connection.extended_master_secret


def test_no_ems_openssl_conf_really_turns_ems_off(identities: Identities) -> None:
    """The OPENSSL_CONF trick, checked on the wire: s_client's ClientHello lacks extension 23."""
    with socket.socket() as listener:
        listener.bind((LOOPBACK, 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        hellos = {}
        for ems in (True, False):
            # not openssl_s_client: only the ClientHello is wanted, then s_client is killed
            process = subprocess.Popen(
                ["openssl", "s_client", "-connect", f"{LOOPBACK}:{port}", "-tls1_2"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=_openssl_env(identities, ems),
            )
            conn, _ = listener.accept()
            conn.settimeout(TIMEOUT)
            data = b""
            while len(data) < 5 or len(data) < 5 + int.from_bytes(data[3:5], "big"):
                data += conn.recv(4096)
            conn.close()
            process.kill()
            process.wait(5)
            from httpslab.messages import decode_handshake

            hellos[ems] = decode_handshake(data[5 : 5 + int.from_bytes(data[3:5], "big")])
    assert hellos[True].extended_master_secret
    assert not hellos[False].extended_master_secret


# ============================================================================ beyond the matrix


def test_httpslab_client_reassembles_a_server_flight_cut_into_512_byte_records(
    identities: Identities,
) -> None:
    """RFC 5246 §6.2.1: a handshake message may span records (s_server -max_send_frag 512)."""
    session, page = _fetch_from_new_s_server(
        identities, CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "-max_send_frag", "512"
    )
    assert b"Cipher is ECDHE-RSA-AES256-GCM-SHA384" in page
    certificate = session.transcript.find("Certificate", "server")
    assert len(certificate.raw) > 1024  # leaf + intermediate: needs several 512-byte records
    server_records = [r for r in session.transcript.records() if r.sender == "server"]
    assert all(len(r.plaintext or b"") <= 512 for r in server_records)
    assert len(page) > 512  # the page came in several records too, reassembled in order


def test_httpslab_server_reassembles_a_client_flight_cut_into_512_byte_records(
    identities: Identities, httpslab_servers: dict[bool, TLSServer]
) -> None:
    result, stdout = _s_client_to_httpslab(
        httpslab_servers[True],
        identities,
        "-max_send_frag",
        "512",
        *_s_client_certificate_args(identities.rsa),
        suite=CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
    )
    assert "error" not in result, result.get("error")
    assert REPLY.decode() in stdout
    connection = result["session"].connection
    certificate = connection.transcript.find("Certificate", "client")
    assert len(certificate.raw) > 512
    assert connection.peer_certificates and connection.verification_report.ok


@pytest.mark.parametrize("curve", ["P-256", "X25519"])
def test_named_curve_chosen_by_openssl(
    curve: str, identities: Identities, httpslab_servers: dict[bool, TLSServer]
) -> None:
    """httpslab follows the curve OpenSSL picks (client side) and picks one s_client offers (server side)."""
    expected = {"P-256": "SECP256R1", "X25519": "X25519"}[curve]
    session, page = _fetch_from_new_s_server(
        identities, CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "-groups", curve
    )
    assert b"Cipher is ECDHE-ECDSA-AES128-GCM-SHA256" in page
    key_exchange = session.transcript.find("ServerKeyExchange", "server").decoded
    assert key_exchange.params.named_curve.name == expected
    # the other way round: s_client offers only that curve to httpslab's server
    result, stdout = _s_client_to_httpslab(
        httpslab_servers[False],
        identities,
        "-groups",
        curve,
        suite=CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    )
    assert "error" not in result, result.get("error")
    assert REPLY.decode() in stdout
    temp_key = {"P-256": "ECDH, prime256v1, 256 bits", "X25519": "X25519, 253 bits"}[curve]
    assert f"Server Temp Key: {temp_key}" in stdout
    connection = result["session"].connection
    assert (
        connection.transcript.find("ServerKeyExchange", "server").decoded.params.named_curve.name == expected
    )


def test_large_application_data_both_ways(identities: Identities) -> None:
    """300 KiB each way (many full 2^14-byte records) between httpslab and Python ssl."""
    payload = os.urandom(300 * 1024 + 7)
    # httpslab client -> ssl echo server
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(identities.rsa.server_chain_file, identities.rsa.server_key_file)
    listener = socket.socket()
    listener.bind((LOOPBACK, 0))
    listener.listen(1)
    listener.settimeout(TIMEOUT)
    echoed: dict[str, Any] = {}

    def echo() -> None:
        try:
            raw, _ = listener.accept()
            raw.settimeout(TIMEOUT)
            with context.wrap_socket(raw, server_side=True) as tls:
                received = bytearray()
                while len(received) < len(payload):
                    received += tls.recv(65536)
                tls.sendall(bytes(received))
                tls.unwrap()
            echoed["ok"] = True
        except BaseException as exc:
            echoed["error"] = exc

    thread = threading.Thread(target=echo, daemon=True)
    thread.start()
    session = connect(LOOPBACK, listener.getsockname()[1], server_name=HOST_NAME, cafile=identities.ca_file)
    session.send(payload)
    back = session.recv_all()
    session.close()
    thread.join(TIMEOUT)
    listener.close()
    assert "error" not in echoed, echoed.get("error")
    assert back == payload
    sent = [e for e in session.transcript.messages() if e.kind == "application_data" and e.sender == "client"]
    assert len(sent) == -(-len(payload) // 2**14) and all(len(e.raw) <= 2**14 for e in sent)
    # ssl client -> httpslab echo server
    config = server_config(identities.rsa.server_chain_file, identities.rsa.server_key_file)
    with TLSServer(config, LOOPBACK, 0, timeout=TIMEOUT) as server:
        server.serve_in_background(max_sessions=1)
        client_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        client_context.maximum_version = ssl.TLSVersion.TLSv1_2
        client_context.load_verify_locations(cafile=str(identities.ca_file))
        with socket.create_connection(server.address, timeout=TIMEOUT) as raw:
            tls = client_context.wrap_socket(raw, server_hostname=HOST_NAME)
            tls.sendall(payload)
            received = bytearray()
            while len(received) < len(payload):
                chunk = tls.recv(65536)
                assert chunk
                received += chunk
            tls.unwrap()
    assert bytes(received) == payload

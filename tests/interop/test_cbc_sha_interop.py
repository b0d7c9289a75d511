"""The legacy CBC-SHA suites (HMAC-SHA1, RFC 5246 §6.2.3.2, RFC 7366) against real OpenSSL.

Every one of the eight suites in four pairings: httpslab's client against ``openssl s_server
-www`` and against a Python ``ssl`` server, httpslab's server against ``openssl s_client`` and
against a Python ``ssl`` client, each through a recording relay whose capture must decrypt
with :func:`httpslab.decrypt_capture` and the session's key log. Each (suite, pairing) runs
two complementary combinations of EMS (RFC 7627) and encrypt-then-MAC (RFC 7366), ``k`` and
``3 - k`` with ``k`` rotating with the suite and the pairing, so that every suite sees both
values of both switches in every pairing and every pairing sees all four combinations
(64 sessions). The default lists are pinned too: a server offers these suites unless told
otherwise, a client only when asked.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from peer_helpers import no_ems_environment

from httpslab import decrypt_capture
from httpslab.connection import ClientConnection, TLSConfig
from httpslab.crypto.suites import DEFAULT_CLIENT_SUITES, DEFAULT_SERVER_SUITES, SUITES, suite_info
from httpslab.enums import CipherSuite, ContentType
from httpslab.io import TLSServer, TLSSession, connect, echo_handler, server_config
from httpslab.keylog import KeyLog
from httpslab.peers.files import dh_parameters_file
from httpslab.peers.openssl import (
    OP_NO_ENCRYPT_THEN_MAC,
    OP_NO_EXTENDED_MASTER_SECRET,
    openssl_s_client,
    openssl_s_server,
)
from httpslab.pki import PemFiles, demo_pki
from httpslab.relay import RecordingRelay

pytestmark = pytest.mark.interop

TIMEOUT = 10.0
CBC_SHA: tuple[CipherSuite, ...] = tuple(s for s, info in SUITES.items() if info.legacy)


PAIRINGS = ("s_server", "ssl-server", "s_client", "ssl-client")


def _cases() -> Iterator[tuple[str, CipherSuite, bool, bool]]:
    for direction_position, direction in enumerate(PAIRINGS):
        for position, suite in enumerate(CBC_SHA):
            k = (position + direction_position) % 4
            for combination in (k, 3 - k):
                yield direction, suite, not combination & 1, not combination & 2


CASES = list(_cases())


def _id(case: tuple[str, CipherSuite, bool, bool]) -> str:
    direction, suite, ems, etm = case
    return f"{direction}-{suite_info(suite).openssl_name}-ems{int(ems)}-etm{int(etm)}"


def test_the_eight_cbc_sha_suites_and_the_coverage_rule() -> None:
    assert {suite_info(s).openssl_name for s in CBC_SHA} == {
        "AES128-SHA", "AES256-SHA", "DHE-RSA-AES128-SHA", "DHE-RSA-AES256-SHA",
        "ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA", "ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA",
    }  # fmt: skip
    assert all(suite_info(s).mac_hash == "sha1" and suite_info(s).prf_hash == "sha256" for s in CBC_SHA)
    assert len(CASES) == len(PAIRINGS) * len(CBC_SHA) * 2
    for direction in PAIRINGS:
        mine = [c for c in CASES if c[0] == direction]
        assert {(ems, etm) for _, _, ems, etm in mine} == {
            (a, b) for a in (True, False) for b in (True, False)
        }
        for suite in CBC_SHA:
            runs = [c for c in mine if c[1] == suite]
            assert {c[2] for c in runs} == {True, False} and {c[3] for c in runs} == {True, False}


def test_a_client_offers_them_only_when_asked_and_a_server_accepts_them_by_default() -> None:
    assert not set(CBC_SHA) & set(DEFAULT_CLIENT_SUITES)
    client = ClientConnection(TLSConfig())
    client.start_handshake()
    hello = client.transcript.find("ClientHello").decoded
    assert not set(CBC_SHA) & set(hello.cipher_suites)
    asked = ClientConnection(TLSConfig(cipher_suites=["AES128-SHA"]))
    asked.start_handshake()
    assert (
        CipherSuite.TLS_RSA_WITH_AES_128_CBC_SHA in asked.transcript.find("ClientHello").decoded.cipher_suites
    )
    assert set(CBC_SHA) <= set(TLSConfig().server_cipher_suites) == set(DEFAULT_SERVER_SUITES)
    # where OpenSSL 3.0's DEFAULT list has them: after every other (EC)DHE suite, and the RSA
    # ones last, in OpenSSL's relative order
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.set_ciphers("DEFAULT")
    ours = [suite_info(s).openssl_name for s in DEFAULT_SERVER_SUITES]
    openssl_order = [c["name"] for c in context.get_ciphers() if c["name"] in ours]
    legacy = [suite_info(s).openssl_name for s in CBC_SHA]
    assert [n for n in openssl_order if n in legacy] == [n for n in ours if n in legacy]
    assert ours[-2:] == ["AES256-SHA", "AES128-SHA"] == openssl_order[-2:]
    forward_secret = [suite_info(s) for s in DEFAULT_SERVER_SUITES if suite_info(s).forward_secret]
    assert [info.legacy for info in forward_secret] == sorted(info.legacy for info in forward_secret)


@pytest.fixture(scope="module")
def pkis(tmp_path_factory: pytest.TempPathFactory) -> dict[str, PemFiles]:
    directory = tmp_path_factory.mktemp("cbc-sha-pki")
    return {
        "rsa": demo_pki("rsa").write_pem_files(directory),
        "ecdsa": demo_pki("ecdsa").write_pem_files(directory),
    }


@pytest.fixture(scope="module")
def no_ems_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return no_ems_environment(tmp_path_factory.mktemp("cbc-sha-conf"))


def _files(pkis: dict[str, PemFiles], suite: CipherSuite) -> PemFiles:
    return pkis["ecdsa" if suite_info(suite).authentication == "ECDSA" else "rsa"]


def _check_capture(relay: RecordingRelay, keylog: KeyLog | Path, payload: bytes) -> None:
    relay.wait_closed(TIMEOUT)
    records = decrypt_capture(relay.client_to_server, relay.server_to_client, keylog)
    data = b"".join(
        r.plaintext
        for r in records
        if r.content_type == ContentType.APPLICATION_DATA and r.sender == "client"
    )
    assert payload in data
    assert any(r.encrypted for r in records if r.sender == "server")


@pytest.mark.parametrize(("pairing", "suite", "ems", "etm"), CASES, ids=[_id(c) for c in CASES])
def test_cbc_sha_suite_with_openssl(
    pkis: dict[str, PemFiles],
    no_ems_env: dict[str, str],
    tmp_path: Path,
    pairing: str,
    suite: CipherSuite,
    ems: bool,
    etm: bool,
) -> None:
    files = _files(pkis, suite)
    if pairing == "s_server":
        _httpslab_client_to_s_server(files, suite, ems, etm, None if ems else no_ems_env)
    elif pairing == "ssl-server":
        _httpslab_client_to_ssl_server(files, suite, ems, etm)
    elif pairing == "s_client":
        _s_client_to_httpslab_server(files, suite, ems, etm, None if ems else no_ems_env, tmp_path)
    else:
        _ssl_client_to_httpslab_server(files, suite, ems, etm, tmp_path)


def _httpslab_client(port: int, files: PemFiles, suite: CipherSuite, keylog: KeyLog) -> TLSSession:
    return connect(
        "127.0.0.1", port, server_name="localhost", cafile=files.ca_file, cipher_suites=[suite], keylog=keylog
    )


def _httpslab_client_to_s_server(
    files: PemFiles, suite: CipherSuite, ems: bool, etm: bool, env: dict[str, str] | None
) -> None:
    info = suite_info(suite)
    with (
        openssl_s_server(
            suite,
            cert_file=files.server_cert_file,
            key_file=files.server_key_file,
            chain_file=files.intermediate_file,
            dh_group="ffdhe2048" if info.key_exchange == "DHE" else None,
            no_etm=not etm,
            env=env,
        ) as server,
        RecordingRelay(server.address) as relay,
    ):
        keylog = KeyLog()
        session = _httpslab_client(relay.port, files, suite, keylog)
        request = b"GET / HTTP/1.0\r\n\r\n"
        session.send(request)
        page = session.recv_all()
        session.close()
        assert f"Cipher is {info.openssl_name}".encode() in page
        assert f"Extended master secret: {'yes' if ems else 'no'}".encode() in page
        assert session.connection.extended_master_secret is ems
        assert session.connection.encrypt_then_mac is etm
        _check_capture(relay, keylog, request)


def _ssl_context(purpose: ssl.Purpose, suite: CipherSuite, ems: bool, etm: bool) -> ssl.SSLContext:
    server = purpose is ssl.Purpose.CLIENT_AUTH
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server else ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(suite_info(suite).openssl_name)  # Python's ssl needs it for CBC suites
    if not ems:
        context.options |= OP_NO_EXTENDED_MASTER_SECRET
    if not etm:
        context.options |= OP_NO_ENCRYPT_THEN_MAC
    return context


def _httpslab_client_to_ssl_server(files: PemFiles, suite: CipherSuite, ems: bool, etm: bool) -> None:
    context = _ssl_context(ssl.Purpose.CLIENT_AUTH, suite, ems, etm)
    context.load_cert_chain(files.server_chain_file, files.server_key_file)
    if suite_info(suite).key_exchange == "DHE":
        context.load_dh_params(str(dh_parameters_file("ffdhe2048")))
    result: dict[str, object] = {}
    payload = b"legacy suite, python ssl server"

    def serve(listener: socket.socket) -> None:
        try:
            raw, _ = listener.accept()
            with context.wrap_socket(raw, server_side=True) as tls:
                data = b""
                while len(data) < len(payload):
                    data += tls.recv(len(payload) - len(data))
                result["cipher"] = tls.cipher()[0]
                tls.sendall(data.upper())
                tls.unwrap()
        except (OSError, ssl.SSLError) as exc:  # reported by the assertions below
            result["error"] = repr(exc)

    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(TIMEOUT)
        thread = threading.Thread(target=serve, args=(listener,), daemon=True)
        thread.start()
        with RecordingRelay(listener.getsockname()[:2]) as relay:
            keylog = KeyLog()
            session = _httpslab_client(relay.port, files, suite, keylog)
            session.send(payload)
            assert session.recv_all() == payload.upper()
            session.close()
            thread.join(TIMEOUT)
            _check_capture(relay, keylog, payload)
    assert "error" not in result, result
    assert result["cipher"] == suite_info(suite).openssl_name
    assert session.connection.extended_master_secret is ems
    assert session.connection.encrypt_then_mac is etm


def _s_client_to_httpslab_server(
    files: PemFiles, suite: CipherSuite, ems: bool, etm: bool, env: dict[str, str] | None, tmp_path: Path
) -> None:
    info = suite_info(suite)
    keylog_file = tmp_path / "s_client-keylog.txt"
    with TLSServer(server_config(files.server_chain_file, files.server_key_file)) as server:
        server.serve_in_background(echo_handler, max_sessions=1)
        with RecordingRelay(server.address) as relay:
            payload = b"ping over a legacy suite\n"
            result = openssl_s_client(
                relay.port,
                suite=suite,
                input=payload,
                cafile=files.ca_file,
                no_etm=not etm,
                keylog_file=keylog_file,
                env=env,
                ign_eof=False,
            )
            assert result.ok, result.stderr + result.stdout
            assert f"Cipher is {info.openssl_name}" in result.stdout
            assert f"Extended master secret: {'yes' if ems else 'no'}" in result.stdout
            _check_capture(relay, keylog_file, payload)
        _check_server_session(server, suite, ems, etm)


def _ssl_client_to_httpslab_server(
    files: PemFiles, suite: CipherSuite, ems: bool, etm: bool, tmp_path: Path
) -> None:
    context = _ssl_context(ssl.Purpose.SERVER_AUTH, suite, ems, etm)
    context.load_verify_locations(cafile=str(files.ca_file))
    keylog_file = tmp_path / "ssl-client-keylog.txt"
    context.keylog_filename = str(keylog_file)
    payload = b"legacy suite, python ssl client"
    with TLSServer(server_config(files.server_chain_file, files.server_key_file)) as server:
        server.serve_in_background(echo_handler, max_sessions=1)
        with RecordingRelay(server.address) as relay:
            with socket.create_connection(("127.0.0.1", relay.port), timeout=TIMEOUT) as raw:
                tls = context.wrap_socket(raw, server_hostname="localhost")
                tls.sendall(payload)
                echoed = b""
                while len(echoed) < len(payload):
                    echoed += tls.recv(len(payload) - len(echoed))
                assert echoed == payload and tls.cipher()[0] == suite_info(suite).openssl_name
                tls.unwrap().close()  # close_notify both ways, then the TCP connection
            _check_capture(relay, keylog_file, payload)
        _check_server_session(server, suite, ems, etm)


def _check_server_session(server: TLSServer, suite: CipherSuite, ems: bool, etm: bool) -> None:
    server.close()
    assert len(server.sessions) == 1
    secrets = server.sessions[0].transcript.secrets
    assert secrets.cipher_suite == suite
    assert secrets.extended_master_secret is ems
    assert secrets.encrypt_then_mac is etm


@pytest.mark.interop
def test_server_prefers_its_own_order_where_openssl_follows_the_client(pkis: dict[str, PemFiles]) -> None:
    """A client that lists a legacy suite first: s_server takes it, httpslab takes its own first."""
    files = pkis["rsa"]
    offer = ["-cipher", "AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256"]
    with openssl_s_server(
        None,
        cert_file=files.server_cert_file,
        key_file=files.server_key_file,
        chain_file=files.intermediate_file,
    ) as server:
        theirs = openssl_s_client(server.port, cafile=files.ca_file, ign_eof=False, extra_args=offer)
    assert "Cipher is AES128-SHA\n" in theirs.stdout  # no -serverpref: the client's order
    with TLSServer(server_config(files.server_chain_file, files.server_key_file)) as ours_server:
        ours_server.serve_in_background(echo_handler, max_sessions=1)
        ours = openssl_s_client(ours_server.address[1], cafile=files.ca_file, ign_eof=False, extra_args=offer)
    assert "Cipher is ECDHE-RSA-AES128-GCM-SHA256\n" in ours.stdout  # DEFAULT_SERVER_SUITES order

"""The legacy CBC-SHA suites (HMAC-SHA1, RFC 5246 §6.2.3.2, RFC 7366) against real OpenSSL.

Every one of the eight suites, both ways: httpslab's client against ``openssl s_server -www``
and httpslab's server against ``openssl s_client``, each through a recording relay whose
capture must decrypt with :func:`httpslab.decrypt_capture` and the session's key log. Each
(suite, direction) runs two complementary combinations of EMS (RFC 7627) and encrypt-then-MAC
(RFC 7366): ``k`` and ``3 - k``, ``k`` rotating with the suite, so that every suite sees both
values of both switches and every direction sees all four combinations. The default lists are
pinned too: a server offers these suites unless told otherwise, a client only when asked.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from peer_helpers import no_ems_environment

from httpslab import decrypt_capture
from httpslab.connection import ClientConnection, TLSConfig
from httpslab.crypto.suites import DEFAULT_CLIENT_SUITES, DEFAULT_SERVER_SUITES, SUITES, suite_info
from httpslab.enums import CipherSuite, ContentType
from httpslab.io import TLSServer, connect, echo_handler, server_config
from httpslab.keylog import KeyLog
from httpslab.peers.openssl import openssl_s_client, openssl_s_server
from httpslab.pki import PemFiles, demo_pki
from httpslab.relay import RecordingRelay

pytestmark = pytest.mark.interop

TIMEOUT = 10.0
CBC_SHA: tuple[CipherSuite, ...] = tuple(s for s, info in SUITES.items() if info.legacy)


def _cases() -> Iterator[tuple[str, CipherSuite, bool, bool]]:
    for direction_position, direction in enumerate(("client", "server")):
        for position, suite in enumerate(CBC_SHA):
            k = (position + direction_position) % 4
            for combination in (k, 3 - k):
                yield direction, suite, not combination & 1, not combination & 2


CASES = list(_cases())


def _id(case: tuple[str, CipherSuite, bool, bool]) -> str:
    direction, suite, ems, etm = case
    return f"httpslab-{direction}-{suite_info(suite).openssl_name}-ems{int(ems)}-etm{int(etm)}"


def test_the_eight_cbc_sha_suites_and_the_coverage_rule() -> None:
    assert {suite_info(s).openssl_name for s in CBC_SHA} == {
        "AES128-SHA", "AES256-SHA", "DHE-RSA-AES128-SHA", "DHE-RSA-AES256-SHA",
        "ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA", "ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA",
    }  # fmt: skip
    assert all(suite_info(s).mac_hash == "sha1" and suite_info(s).prf_hash == "sha256" for s in CBC_SHA)
    for direction in ("client", "server"):
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


@pytest.mark.parametrize(("direction", "suite", "ems", "etm"), CASES, ids=[_id(c) for c in CASES])
def test_cbc_sha_suite_with_openssl(
    pkis: dict[str, PemFiles],
    no_ems_env: dict[str, str],
    tmp_path: Path,
    direction: str,
    suite: CipherSuite,
    ems: bool,
    etm: bool,
) -> None:
    info = suite_info(suite)
    files = _files(pkis, suite)
    env = None if ems else no_ems_env
    if direction == "client":
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
            session = connect(
                "127.0.0.1", relay.port, server_name="localhost", cafile=files.ca_file,
                cipher_suites=[suite], keylog=keylog,
            )  # fmt: skip
            request = b"GET / HTTP/1.0\r\n\r\n"
            session.send(request)
            page = session.recv_all()
            session.close()
            assert f"Cipher is {info.openssl_name}".encode() in page
            assert f"Extended master secret: {'yes' if ems else 'no'}".encode() in page
            assert session.connection.extended_master_secret is ems
            assert session.connection.encrypt_then_mac is etm
            _check_capture(relay, keylog, request)
        return
    config = server_config(files.server_chain_file, files.server_key_file)
    keylog_file = tmp_path / "s_client-keylog.txt"
    with TLSServer(config) as server:
        server.serve_in_background(echo_handler, max_sessions=1)
        with RecordingRelay(server.address) as relay:
            payload = b"ping over a legacy suite\n"
            result = openssl_s_client(
                relay.port, suite=suite, input=payload, cafile=files.ca_file, no_etm=not etm,
                keylog_file=keylog_file, env=env, ign_eof=False,
            )  # fmt: skip
            assert result.ok, result.stderr + result.stdout
            assert f"Cipher is {info.openssl_name}" in result.stdout
            assert f"Extended master secret: {'yes' if ems else 'no'}" in result.stdout
            _check_capture(relay, keylog_file, payload)
        sessions = server.sessions
    assert len(sessions) == 1
    secrets = sessions[0].transcript.secrets
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

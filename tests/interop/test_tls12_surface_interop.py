"""X448, ECDSA with SHA-224 / SHA-512, RSA-PSS with SHA-512 and ALPN (RFC 7301), both roles.

In memory first (the rules), then against real OpenSSL both ways: httpslab's client against
``openssl s_server`` and httpslab's server (and ``python -m httpslab serve``) against
``openssl s_client`` and Python's ``ssl``, with ``-groups X448``, ``-sigalgs`` and ``-alpn``.
"""

from __future__ import annotations

import re
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from httpslab.capture import cleartext_alerts
from httpslab.connection import ClientConnection, Credential, HandshakeComplete, ServerConnection, TLSConfig
from httpslab.connection import server as server_module
from httpslab.crypto.signatures import SCHEMES
from httpslab.crypto.suites import SUITES, suite_info
from httpslab.enums import AlertDescription, CipherSuite, NamedGroup, SignatureScheme
from httpslab.errors import (
    AlertReceived,
    DecodeError,
    LocalProtocolError,
    RemoteProtocolError,
)
from httpslab.io import TLSServer, connect, echo_handler, server_config
from httpslab.messages import ALPNExtension, pull_extension, push_extension
from httpslab.peers.openssl import openssl_s_client, openssl_s_server
from httpslab.pki import PemFiles, demo_pki
from httpslab.pki.ca import DemoPKI
from httpslab.relay import RecordingRelay
from httpslab.wire import Buffer

REPO = Path(__file__).resolve().parents[2]
ECDSA_SUITE = CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
RSA_SUITE = CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256


# ------------------------------------------------------------------------------ in memory


@pytest.fixture(scope="module")
def pkis() -> dict[str, DemoPKI]:
    return {"rsa": DemoPKI("rsa"), "ecdsa": DemoPKI("ecdsa")}


def _pair(pkis: dict[str, DemoPKI], client: dict, server: dict) -> tuple[ClientConnection, ServerConnection]:
    credentials = [Credential((p.server, p.intermediate), p.server_key) for p in pkis.values()]
    anchors = [p.root for p in pkis.values()]
    client_config = TLSConfig(server_name="localhost", trust_anchors=anchors, **client)
    return ClientConnection(client_config), ServerConnection(TLSConfig(credentials=credentials, **server))


def _run(client: ClientConnection, server: ServerConnection) -> tuple[list, list, Exception | None]:
    client_events: list = []
    server_events: list = []
    error: Exception | None = None
    client.start_handshake()
    for _ in range(10):
        to_server = client.data_to_send()
        try:
            if to_server:
                server_events += server.receive_data(to_server)
            to_client = server.data_to_send()
            if to_client:
                client_events += client.receive_data(to_client)
        except Exception as exc:  # the first side that fails; its alert is queued
            error = exc
            to_client = server.data_to_send()
            if to_client:
                try:
                    client.receive_data(to_client)
                except AlertReceived as alert:
                    client_events.append(alert)
            break
        if not to_server and not to_client:
            break
    return client_events, server_events, error


def _complete(events: list) -> HandshakeComplete:
    return next(e for e in events if isinstance(e, HandshakeComplete))


def test_alpn_extension_round_trips_and_refuses_empty_names() -> None:
    extension = ALPNExtension(("h2", b"http/1.1"))
    buf = Buffer()
    push_extension(buf, extension)
    wire = bytes(buf.data)
    # type 16, length 14, list length 12, 2 "h2", 8 "http/1.1" (RFC 7301 §3.1)
    assert wire == bytes.fromhex("0010 000e 000c 02") + b"h2" + b"\x08http/1.1"
    assert pull_extension(Buffer(wire)) == extension
    with pytest.raises(DecodeError):
        pull_extension(Buffer(bytes.fromhex("0010 0002 0000")))  # an empty list
    with pytest.raises(DecodeError):
        pull_extension(Buffer(bytes.fromhex("0010 0004 0002 00 00")))  # empty names
    with pytest.raises(LocalProtocolError):
        TLSConfig(alpn_protocols=[""])
    with pytest.raises(LocalProtocolError):
        TLSConfig(alpn_protocols=["x" * 256])


def test_alpn_the_server_selects_its_first_protocol_the_client_offered(pkis) -> None:
    client, server = _pair(
        pkis, {"alpn_protocols": ["h2", "http/1.1"]}, {"alpn_protocols": ["http/1.1", "h2"]}
    )
    client_events, server_events, error = _run(client, server)
    assert error is None
    assert client.alpn_protocol == server.alpn_protocol == b"http/1.1"
    assert _complete(client_events).alpn_protocol == _complete(server_events).alpn_protocol == "http/1.1"
    assert client.transcript.find("ServerHello").decoded.alpn_protocols == (b"http/1.1",)


def test_alpn_is_not_answered_when_either_side_has_no_list(pkis) -> None:
    for client_fields, server_fields in (
        ({"alpn_protocols": ["http/1.1"]}, {}),
        ({}, {"alpn_protocols": ["h2"]}),
    ):
        client, server = _pair(pkis, client_fields, server_fields)
        client_events, _, error = _run(client, server)
        assert error is None and client.alpn_protocol is None
        assert _complete(client_events).alpn_protocol is None
        assert client.transcript.find("ServerHello").decoded.alpn_protocols is None


def test_alpn_without_a_protocol_in_common_is_no_application_protocol(pkis) -> None:
    client, server = _pair(pkis, {"alpn_protocols": ["h2"]}, {"alpn_protocols": ["http/1.1"]})
    client_events, _, error = _run(client, server)
    assert isinstance(error, RemoteProtocolError)
    assert error.alert == AlertDescription.NO_APPLICATION_PROTOCOL  # RFC 7301 §3.2
    assert [e.description for e in client_events if isinstance(e, AlertReceived)] == [
        AlertDescription.NO_APPLICATION_PROTOCOL
    ]


@pytest.mark.parametrize("answer", ["unoffered", "two names"])
def test_alpn_an_answer_that_is_not_one_offered_name_is_decode_error(pkis, monkeypatch, answer) -> None:
    client, server = _pair(pkis, {"alpn_protocols": ["http/1.1"]}, {"alpn_protocols": ["http/1.1"]})
    _bend_the_alpn_answer(monkeypatch, answer, server)
    _, _, error = _run(client, server)
    assert isinstance(error, DecodeError)  # as OpenSSL's tls_parse_stoc_alpn answers both


def _bend_the_alpn_answer(monkeypatch: pytest.MonkeyPatch, answer: str, server: object = None) -> None:
    """Make httpslab's server answer ALPN with a name not offered, or with two names."""
    if answer == "unoffered":
        target = server if server is not None else ServerConnection
        value = (lambda offered: b"spdy/3") if server is not None else (lambda self, offered: b"spdy/3")
        monkeypatch.setattr(target, "_select_protocol", value)
    else:
        monkeypatch.setattr(
            server_module, "ALPNExtension", lambda protocols: ALPNExtension((b"http/1.1", b"h2"))
        )


@pytest.mark.parametrize(
    ("suite", "scheme"),
    [
        (ECDSA_SUITE, SignatureScheme.ECDSA_SHA224),
        (ECDSA_SUITE, SignatureScheme.ECDSA_SECP521R1_SHA512),
        (RSA_SUITE, SignatureScheme.RSA_PSS_RSAE_SHA512),
    ],
    ids=lambda v: getattr(v, "name", v),
)
def test_a_default_server_signs_with_the_one_scheme_a_client_offers(pkis, suite, scheme) -> None:
    assert scheme in SCHEMES
    client, server = _pair(pkis, {"cipher_suites": [suite], "signature_schemes": [scheme]}, {})
    _, _, error = _run(client, server)
    assert error is None
    assert client.transcript.find("ServerKeyExchange").decoded.scheme == scheme


def test_a_default_server_agrees_on_x448(pkis) -> None:
    client, server = _pair(pkis, {"groups": [NamedGroup.X448]}, {})
    _, _, error = _run(client, server)
    assert error is None
    assert client.transcript.find("ServerKeyExchange").decoded.params.named_curve == NamedGroup.X448


# ------------------------------------------------------------------------------ with OpenSSL


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, PemFiles]:
    directory = tmp_path_factory.mktemp("surface-pki")
    return {
        "rsa": demo_pki("rsa").write_pem_files(directory),
        "ecdsa": demo_pki("ecdsa").write_pem_files(directory),
    }


def _s_server(files: PemFiles, *extra: str):  # type: ignore[no-untyped-def]
    return openssl_s_server(
        None,
        cert_file=files.server_cert_file,
        key_file=files.server_key_file,
        chain_file=files.intermediate_file,
        extra_args=list(extra),
    )


@pytest.fixture
def httpslab_server(files: dict[str, PemFiles]) -> Iterator[TLSServer]:
    config = server_config(
        [files["rsa"].server_chain_file, files["ecdsa"].server_chain_file],
        [files["rsa"].server_key_file, files["ecdsa"].server_key_file],
        alpn_protocols=["http/1.1"],
    )
    with TLSServer(config) as server:
        server.serve_in_background(echo_handler, max_sessions=1)
        yield server


CLIENT_CASES = [
    ("X448", "rsa", ["-groups", "X448"], {"groups": [NamedGroup.X448]}),
    (
        "ECDSA+SHA224",
        "ecdsa",
        ["-sigalgs", "ECDSA+SHA224"],
        {"signature_schemes": [SignatureScheme.ECDSA_SHA224]},
    ),
    (
        "ECDSA+SHA512",
        "ecdsa",
        ["-sigalgs", "ECDSA+SHA512"],
        {"signature_schemes": [SignatureScheme.ECDSA_SECP521R1_SHA512]},
    ),
    (
        "rsa_pss_rsae_sha512",
        "rsa",
        ["-sigalgs", "rsa_pss_rsae_sha512"],
        {"signature_schemes": [SignatureScheme.RSA_PSS_RSAE_SHA512]},
    ),
]


@pytest.mark.interop
@pytest.mark.parametrize(
    ("name", "key_type", "args", "fields"), CLIENT_CASES, ids=[c[0] for c in CLIENT_CASES]
)
def test_httpslab_client_against_s_server(files, name, key_type, args, fields) -> None:
    pem = files[key_type]
    with _s_server(pem, *args) as server:
        session = connect(
            "127.0.0.1", server.port, server_name="localhost",
            config=TLSConfig(**fields), cafile=pem.ca_file,
        )  # fmt: skip
        session.send(b"GET / HTTP/1.0\r\n\r\n")
        page = session.recv_all()
        session.close()
    assert page.startswith(b"HTTP/1.0 200 ok")
    params = session.transcript.find("ServerKeyExchange").decoded
    if "groups" in fields:
        assert params.params.named_curve == NamedGroup.X448
    else:
        assert params.scheme == fields["signature_schemes"][0]


@pytest.mark.interop
@pytest.mark.parametrize(
    ("name", "key_type", "args", "fields"), CLIENT_CASES, ids=[c[0] for c in CLIENT_CASES]
)
def test_s_client_against_httpslab_server(files, httpslab_server, name, key_type, args, fields) -> None:
    pem = files[key_type]
    suite = ECDSA_SUITE if key_type == "ecdsa" else RSA_SUITE
    result = openssl_s_client(
        httpslab_server.address[1],
        suite=suite,
        input=b"ping\n",
        cafile=pem.ca_file,
        ign_eof=False,
        extra_args=args,
    )
    assert result.ok, result.stdout + result.stderr
    if "groups" in fields:
        assert "Server Temp Key: X448, 448 bits" in result.stdout
    else:
        digest = {"ECDSA+SHA224": "SHA224"}.get(name, "SHA512")
        assert f"Peer signing digest: {digest}" in result.stdout
        kind = "RSA-PSS" if key_type == "rsa" else "ECDSA"
        assert f"Peer signature type: {kind}" in result.stdout
    transcript = httpslab_server.sessions[0].transcript
    assert transcript.find("ClientHello").decoded is not None


@pytest.mark.interop
def test_alpn_httpslab_client_against_s_server(files) -> None:
    pem = files["rsa"]
    # s_server selects its own first protocol the client offered
    with _s_server(pem, "-alpn", "http/1.1,h2") as server:
        config = TLSConfig(alpn_protocols=["h2", "http/1.1"])
        session = connect(
            "127.0.0.1", server.port, server_name="localhost", cafile=pem.ca_file, config=config
        )
        assert session.alpn_protocol == "http/1.1"
        assert any(isinstance(e, HandshakeComplete) and e.alpn_protocol == "http/1.1" for e in session.events)
        session.close()
    # s_server -alpn h2 and a client that speaks only http/1.1: OpenSSL's fatal alert
    with _s_server(pem, "-alpn", "h2") as server:
        config = TLSConfig(alpn_protocols=["http/1.1"])
        with pytest.raises(AlertReceived) as raised:
            connect("127.0.0.1", server.port, server_name="localhost", cafile=pem.ca_file, config=config)
    assert raised.value.description == AlertDescription.NO_APPLICATION_PROTOCOL


@pytest.mark.interop
def test_alpn_s_client_against_httpslab_server(files, httpslab_server) -> None:
    pem = files["rsa"]
    result = openssl_s_client(
        httpslab_server.address[1], suite=RSA_SUITE,
        input=b"ping\n", cafile=pem.ca_file, ign_eof=False,
        extra_args=["-alpn", "h2,http/1.1"],
    )  # fmt: skip
    assert result.ok, result.stdout + result.stderr
    assert "ALPN protocol: http/1.1" in result.stdout
    assert httpslab_server.sessions[0].alpn_protocol == "http/1.1"


@pytest.mark.interop
def test_alpn_s_client_without_a_protocol_in_common_gets_the_alert(files, httpslab_server) -> None:
    result = openssl_s_client(
        httpslab_server.address[1],
        suite=RSA_SUITE,
        input=b"ping\n",
        cafile=files["rsa"].ca_file,
        ign_eof=False,
        extra_args=["-alpn", "h2"],
    )
    assert not result.ok
    assert "no application protocol" in result.stdout + result.stderr


@pytest.mark.interop
@pytest.mark.parametrize("answer", ["unoffered", "two names"])
def test_alpn_answers_that_s_client_refuses_with_decode_error(files, monkeypatch, answer) -> None:
    _bend_the_alpn_answer(monkeypatch, answer)
    pem = files["rsa"]
    config = server_config(pem.server_chain_file, pem.server_key_file, alpn_protocols=["http/1.1"])
    with TLSServer(config) as server:
        server.serve_in_background(echo_handler, max_sessions=1)
        with RecordingRelay(server.address) as relay:
            result = openssl_s_client(
                relay.port,
                input=b"x\n",
                cafile=pem.ca_file,
                ign_eof=False,
                extra_args=["-alpn", "http/1.1,h2"],
            )
            relay.wait_closed(10)
    assert not result.ok and "tls_parse_stoc_alpn:bad extension" in result.stderr
    assert [a.description for a in cleartext_alerts(relay.client_to_server)] == [
        AlertDescription.DECODE_ERROR
    ]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[int, Path]]:
    """``python -m httpslab serve --port 0`` with its demo certificates."""
    process = subprocess.Popen(
        [sys.executable, "-m", "httpslab", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=REPO,
    )
    try:
        assert process.stdout is not None
        match = re.fullmatch(r"listening on https://127\.0\.0\.1:(\d+)/\n", process.stdout.readline())
        assert match is not None
        ca_file = Path(process.stdout.readline().removeprefix("CA file: ").strip())
        yield int(match.group(1)), ca_file
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.interop
def test_serve_selects_http_1_1_for_python_ssl_and_s_client(served) -> None:
    port, ca_file = served
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.load_verify_locations(cafile=str(ca_file))
    context.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        tls = context.wrap_socket(raw, server_hostname="localhost")
        assert tls.selected_alpn_protocol() == "http/1.1"
        tls.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := tls.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200")
    result = openssl_s_client(
        port, input=b"", cafile=ca_file, extra_args=["-alpn", "http/1.1"], ign_eof=False
    )
    assert "ALPN protocol: http/1.1" in result.stdout


@pytest.mark.interop
def test_server_group_choice_is_its_own_order_where_openssl_follows_the_client(
    files, httpslab_server
) -> None:
    """A client that lists X448 before X25519: s_server takes X448, httpslab its own first, X25519."""
    pem = files["rsa"]
    offer = ["-groups", "X448:X25519"]
    with _s_server(pem) as server:
        theirs = openssl_s_client(
            server.port, suite=RSA_SUITE, cafile=pem.ca_file, ign_eof=False, extra_args=offer
        )
    assert "Server Temp Key: X448, 448 bits" in theirs.stdout
    ours = openssl_s_client(
        httpslab_server.address[1], suite=RSA_SUITE, cafile=pem.ca_file, ign_eof=False, extra_args=offer
    )
    assert "Server Temp Key: X25519, 253 bits" in ours.stdout


def test_a_default_client_offers_a_shorter_list_than_openssl() -> None:
    """The default ClientHello: no CBC-SHA suites, no X448 or P-384, no SHA-224/SHA-512 schemes."""
    client = ClientConnection(TLSConfig(server_name="localhost"))
    client.start_handshake()
    hello = client.transcript.find("ClientHello").decoded
    assert hello.supported_groups == (
        NamedGroup.X25519,
        NamedGroup.SECP256R1,
        NamedGroup.FFDHE2048,
        NamedGroup.FFDHE3072,
    )
    assert not {SignatureScheme.RSA_PSS_RSAE_SHA512, SignatureScheme.ECDSA_SHA224} & set(
        hello.signature_algorithms
    )
    assert hello.alpn_protocols is None
    assert all(suite_info(s).mac_hash != "sha1" for s in hello.cipher_suites if s in SUITES)

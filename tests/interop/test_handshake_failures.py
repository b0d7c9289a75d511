"""Failures for real: broken certificates, an active attacker, a lying server, a silent peer.

Each test runs httpslab against a real OpenSSL peer (Python ``ssl``) on 127.0.0.1 and checks
three things: the error httpslab raises (type, ``.alert``, message); **the alert actually
on the wire**, read from a :class:`~httpslab.relay.RecordingRelay`'s capture (an alert sent
after ChangeCipherSpec is decrypted with the session's keys through
:func:`httpslab.capture.analyze_capture`); and that no application data is delivered after
the failure. Where OpenSSL can face the same situation, a Python ``ssl`` client (or server)
is put through the very same relay and tamper, and httpslab must send **the alert OpenSSL
sends** — the expected alert is not our own opinion.

Scenarios (RFC 5246 §7.2.2 alerts): expired / wrong-host / unknown-CA server certificate;
one byte of the ServerKeyExchange signature flipped; the server's encrypted Finished
flipped; a client Finished that does not match because the relay changed an unused byte of
the ClientHello; one bit of application data flipped; a ServerHello with a suite the client
never offered; a server (and a client) that stops talking mid-handshake.
"""

from __future__ import annotations

import dataclasses
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from httpslab import cli
from httpslab.capture import analyze_capture
from httpslab.connection import ApplicationData, ClientConnection, TLSConfig
from httpslab.enums import (
    AlertDescription,
    CipherSuite,
    ContentType,
    ExtensionType,
    HandshakeType,
    NamedGroup,
)
from httpslab.errors import (
    AlertReceived,
    BadCertificate,
    BadRecordMac,
    DecryptError,
    IllegalParameter,
    RemoteProtocolError,
    TLSError,
)
from httpslab.io import TLSServer, TLSSession, connect, load_trust_anchors, server_config
from httpslab.keylog import KeyLog
from httpslab.messages import (
    ClientHello,
    ExtendedMasterSecretExtension,
    RenegotiationInfoExtension,
    ServerHello,
    SupportedGroupsExtension,
    decode_handshake,
    encode_handshake,
)
from httpslab.peers.openssl import OP_NO_EXTENDED_MASTER_SECRET, openssl_s_client, openssl_s_server
from httpslab.pki import demo_pki, scenario
from httpslab.record import Record, split_records
from httpslab.relay import CLIENT_TO_SERVER, SERVER_TO_CLIENT, RecordingRelay

pytestmark = pytest.mark.interop

LOOPBACK = "127.0.0.1"
TIMEOUT = 10.0
REQUEST = b"GET / HTTP/1.0\r\n\r\n"
ECDHE_RSA = CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256


# ============================================================================ files


@dataclass(frozen=True)
class ServerFiles:
    chain_file: Path
    key_file: Path
    ca_file: Path


def _write_server(
    directory: Path, name: str, leaf: Any, intermediates: Any, anchors: Any, key: Any
) -> ServerFiles:
    directory.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    chain_file = directory / f"{name}-chain.pem"
    chain_file.write_bytes(b"".join(c.public_bytes(pem) for c in (leaf, *intermediates)))
    key_file = directory / f"{name}-key.pem"
    key_file.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    ca_file = directory / f"{name}-ca.pem"
    ca_file.write_bytes(b"".join(c.public_bytes(pem) for c in anchors))
    return ServerFiles(chain_file, key_file, ca_file)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ServerFiles]:
    """Server chains, keys and client CA files for the certificate scenarios (RSA)."""
    directory = tmp_path_factory.mktemp("failure-pki")
    pki = demo_pki("rsa")
    out = {
        "valid": _write_server(directory, "valid", pki.server, [pki.intermediate], [pki.root], pki.server_key)
    }
    for name in ("expired", "unknown_root"):
        case = scenario(name, "rsa")
        out[name] = _write_server(
            directory, name, case.leaf, case.intermediates, case.trust_anchors, pki.server_key
        )
    return out


# ============================================================================ loopback servers


class _LoopbackAcceptor:
    """A listening socket on 127.0.0.1 and a thread that accepts ``count`` clients in turn,
    handing each to ``_handle``; the servers below differ only in what they do with one."""

    count: int

    def _start(self) -> None:
        self.listener = socket.socket()
        self.listener.bind((LOOPBACK, 0))
        self.listener.listen(4)
        self.listener.settimeout(TIMEOUT)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def address(self) -> tuple[str, int]:
        return (LOOPBACK, self.listener.getsockname()[1])

    def _serve(self) -> None:
        for _ in range(self.count):
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self._handle(conn)

    def _handle(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.listener.close()
        self.thread.join(TIMEOUT)


# ============================================================================ a Python ssl server


@dataclass
class SSLServer(_LoopbackAcceptor):
    """A Python ssl (OpenSSL) server thread that serves ``count`` clients, one after the other."""

    context: ssl.SSLContext
    replies: tuple[bytes, ...] = (b"HTTP/1.0 200 OK\r\n\r\nhello",)
    count: int = 2
    errors: list[BaseException] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._start()

    def _handle(self, raw: socket.socket) -> None:
        raw.settimeout(TIMEOUT)
        try:
            with self.context.wrap_socket(raw, server_side=True) as tls:
                tls.recv(65536)
                for reply in self.replies:  # one record per reply
                    tls.sendall(reply)
                tls.unwrap()
        except (OSError, ssl.SSLError) as exc:
            self.errors.append(exc)


def ssl_server_context(
    server: ServerFiles, ciphers: str = "ECDHE-RSA-AES128-GCM-SHA256", *, ems: bool = True
) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(ciphers)
    context.load_cert_chain(server.chain_file, server.key_file)
    if not ems:
        context.options |= OP_NO_EXTENDED_MASTER_SECRET
    return context


@pytest.fixture
def ssl_server() -> Iterator[Callable[..., SSLServer]]:
    started: list[SSLServer] = []

    def start(context: ssl.SSLContext, **options: Any) -> SSLServer:
        server = SSLServer(context, **options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


# ============================================================================ the wire


def _records(stream: bytes) -> list[tuple[int, Record]]:
    """(offset, record) of every complete record in a byte stream."""
    records, _ = split_records(stream)
    out, offset = [], 0
    for record in records:
        out.append((offset, record))
        offset += 5 + len(record.fragment)
    return out


def _failing_openssl_client(server_address: tuple[str, int], error: str | None = None) -> RecordingRelay:
    """OpenSSL's TLS 1.2 client (ECDHE-RSA-AES128-GCM-SHA256) to ``server_address`` through a
    fresh relay; its handshake must fail with an ``ssl.SSLError`` (matching ``error`` if given).
    Returns the relay once every byte has passed (what it recorded stays readable)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("ECDHE-RSA-AES128-GCM-SHA256")
    with RecordingRelay(server_address) as relay:
        with socket.create_connection(relay.address, timeout=TIMEOUT) as raw:
            with pytest.raises(ssl.SSLError, match=error):
                context.wrap_socket(raw, server_hostname="localhost")
        relay.wait_closed(TIMEOUT)
    return relay


def alert_on_wire(relay: RecordingRelay, keylog: KeyLog | None = None) -> tuple[int, AlertDescription]:
    """(level, description) of the last record the client sent, which must be an alert.

    A plaintext alert is read as is; an alert sent after the client's ChangeCipherSpec is
    decrypted with ``keylog`` (the capture is opened on what the server *sent*, untampered).
    """
    relay.wait_closed(TIMEOUT)
    records = _records(relay.client_to_server)
    assert records, "the client sent nothing"
    _, last = records[-1]
    assert last.content_type == ContentType.ALERT, (
        f"the client's last record is {last.content_type}, not an alert"
    )
    encrypted = any(r.content_type == ContentType.CHANGE_CIPHER_SPEC for _, r in records[:-1])
    if not encrypted:
        plaintext = last.fragment
    else:
        assert keylog is not None, "an encrypted alert needs the session's key log"
        captured = analyze_capture(relay.client_to_server, relay.connections[0].server_sent, keylog)
        plaintext = [
            r for r in captured.records if r.sender == "client" and r.content_type == ContentType.ALERT
        ][-1].plaintext
    assert len(plaintext) == 2
    return plaintext[0], AlertDescription(plaintext[1])


def _tamper_at(direction: str, locate: Callable[[bytes], int | None]) -> Callable[[str, bytes, int], bytes]:
    """A relay tamper hook that flips the low bit of the byte at ``locate(stream so far)``."""
    seen: dict[str, bytearray] = {CLIENT_TO_SERVER: bytearray(), SERVER_TO_CLIENT: bytearray()}
    done: list[int] = []

    def tamper(chunk_direction: str, data: bytes, offset: int) -> bytes:
        stream = seen[chunk_direction]
        stream += data
        if chunk_direction != direction or done:
            return data
        target = locate(bytes(stream))
        if target is None or not offset <= target < offset + len(data):
            return data
        done.append(target)
        changed = bytearray(data)
        changed[target - offset] ^= 0x01
        return bytes(changed)

    tamper.done = done  # type: ignore[attr-defined]
    return tamper


def _handshake_message_span(stream: bytes, msg_type: HandshakeType) -> tuple[int, int] | None:
    """(start, end) offsets of the first ``msg_type`` message in the cleartext records."""
    for offset, record in _records(stream):
        if record.content_type == ContentType.CHANGE_CIPHER_SPEC:
            return None
        if record.content_type != ContentType.HANDSHAKE:
            continue
        position = 0
        fragment = record.fragment
        while position + 4 <= len(fragment):
            length = int.from_bytes(fragment[position + 1 : position + 4], "big")
            if fragment[position] == msg_type:
                start = offset + 5 + position
                return start, start + 4 + length
            position += 4 + length
    return None


def ske_signature_byte(stream: bytes) -> int | None:
    """The last byte of the ServerKeyExchange: the end of its signature."""
    span = _handshake_message_span(stream, HandshakeType.SERVER_KEY_EXCHANGE)
    return None if span is None else span[1] - 1


def first_record_after_ccs(stream: bytes) -> int | None:
    """A byte in the middle of the first protected record (the Finished)."""
    records = _records(stream)
    for index, (_, record) in enumerate(records):
        if record.content_type == ContentType.CHANGE_CIPHER_SPEC and index + 1 < len(records):
            offset, protected = records[index + 1]
            return offset + 5 + len(protected.fragment) // 2
    return None


def first_application_data_byte(stream: bytes) -> int | None:
    for offset, record in _records(stream):
        if record.content_type == ContentType.APPLICATION_DATA:
            return offset + 5 + len(record.fragment) // 2
    return None


# ============================================================================ clients under test


@dataclass
class Outcome:
    error: BaseException
    alert: tuple[int, AlertDescription] | None
    session_events: list[Any] = field(default_factory=list)


def httpslab_client(
    target: tuple[str, int],
    *,
    ca_file: Path,
    server_name: str = "localhost",
    tamper: Callable[[str, bytes, int], bytes] | None = None,
    suites: tuple[CipherSuite, ...] = (ECDHE_RSA,),
    timeout: float = TIMEOUT,
) -> tuple[BaseException, tuple[int, AlertDescription], TLSSession]:
    """Run httpslab's client through a relay; return (error, alert on the wire, session).

    The session is built by hand (as :func:`httpslab.io.connect` does) so that its transcript,
    and the keys that open an encrypted alert, are at hand after a failed handshake.
    """
    config = TLSConfig(
        server_name=server_name, trust_anchors=load_trust_anchors(ca_file), cipher_suites=suites
    )
    connection = ClientConnection(config)
    with RecordingRelay(target, tamper=tamper) as relay:
        session = TLSSession(socket.create_connection(relay.address, timeout=timeout), connection)
        with pytest.raises(TLSError) as raised:
            session.handshake()
            session.send(REQUEST)
            session.recv_all()
        session.close()
        alert = alert_on_wire(relay, KeyLog.parse(connection.transcript.keylog()))
    return raised.value, alert, session


def openssl_client(
    target: tuple[str, int],
    *,
    ca_file: Path,
    server_name: str = "localhost",
    tamper: Callable[[str, bytes, int], bytes] | None = None,
    ciphers: str = "ECDHE-RSA-AES128-GCM-SHA256",
    ems: bool = True,
    tmp_path: Path,
) -> tuple[int, AlertDescription]:
    """Run a Python ssl client through a relay; return the alert OpenSSL put on the wire."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(ciphers)
    context.load_verify_locations(cafile=str(ca_file))
    if not ems:
        context.options |= OP_NO_EXTENDED_MASTER_SECRET
    keylog_file = tmp_path / "openssl-client-keys.txt"
    context.keylog_filename = str(keylog_file)
    with RecordingRelay(target, tamper=tamper) as relay:
        with socket.create_connection(relay.address, timeout=TIMEOUT) as raw:
            with pytest.raises((ssl.SSLError, OSError)):
                with context.wrap_socket(raw, server_hostname=server_name) as tls:
                    tls.sendall(REQUEST)
                    while tls.recv(65536):
                        pass
        keylog = KeyLog.load(keylog_file) if keylog_file.exists() and keylog_file.stat().st_size else None
        return alert_on_wire(relay, keylog)


FATAL = 2
#: scenario -> the verifier check that must fail (httpslab.pki.verify.CHECK_NAMES)
CHECK = {"expired": "validity", "valid": "name", "unknown_root": "path"}


# ============================================================================ certificates


@pytest.mark.parametrize(
    ("name", "server_name", "alert", "words"),
    [
        ("expired", "localhost", AlertDescription.CERTIFICATE_EXPIRED, "certificate has expired"),
        ("valid", "www.example.com", AlertDescription.BAD_CERTIFICATE, "does not match"),
        ("unknown_root", "localhost", AlertDescription.UNKNOWN_CA, "unknown CA"),
    ],
    ids=["expired", "wrong-host", "unknown-ca"],
)
def test_bad_server_certificate(
    name: str,
    server_name: str,
    alert: AlertDescription,
    words: str,
    files: dict[str, ServerFiles],
    ssl_server: Callable[..., SSLServer],
    tmp_path: Path,
) -> None:
    server_files = files[name]
    server = ssl_server(ssl_server_context(server_files))
    error, on_wire, session = httpslab_client(
        server.address, ca_file=server_files.ca_file, server_name=server_name
    )
    assert isinstance(error, BadCertificate)
    assert error.alert == alert
    assert on_wire == (FATAL, alert)
    assert not any(isinstance(e, ApplicationData) for e in session.events)
    assert session.connection.verification_report.error.name == CHECK[name]
    # the CLI's one line says what went wrong and which alert went out
    line = cli.failure_line(error, session.connection)
    assert line.startswith("httpslab: handshake failed: ") and words in line
    assert line.endswith(f"(alert {alert.name.lower()} sent)") and "\n" not in line
    # OpenSSL, in the same place, sends the same alert
    theirs = openssl_client(
        server.address, ca_file=server_files.ca_file, server_name=server_name, tmp_path=tmp_path
    )
    assert theirs == (FATAL, alert)


def test_cli_names_the_expired_certificate(
    files: dict[str, ServerFiles], ssl_server: Callable[..., SSLServer]
) -> None:
    import io

    server_files = files["expired"]
    server = ssl_server(ssl_server_context(server_files), count=1)
    out, err = io.StringIO(), io.StringIO()
    status = cli.main(
        ["get", f"https://localhost:{server.address[1]}/", "--cafile", str(server_files.ca_file)],
        stdout=out,
        stderr=err,
    )
    assert status == 1 and out.getvalue() == ""
    line = err.getvalue()
    assert line.startswith("httpslab: handshake failed: certificate has expired")
    assert line.endswith("(alert certificate_expired sent)\n")


# ============================================================================ an active attacker


def test_tampered_server_key_exchange_signature(
    files: dict[str, ServerFiles], ssl_server: Callable[..., SSLServer], tmp_path: Path
) -> None:
    server = ssl_server(ssl_server_context(files["valid"]))
    tamper = _tamper_at(SERVER_TO_CLIENT, ske_signature_byte)
    error, on_wire, _ = httpslab_client(server.address, ca_file=files["valid"].ca_file, tamper=tamper)
    assert tamper.done  # type: ignore[attr-defined]
    assert isinstance(error, DecryptError)
    assert "ServerKeyExchange" in str(error)
    assert on_wire == (FATAL, AlertDescription.DECRYPT_ERROR)
    expected = openssl_client(
        server.address,
        ca_file=files["valid"].ca_file,
        tamper=_tamper_at(SERVER_TO_CLIENT, ske_signature_byte),
        tmp_path=tmp_path,
    )
    assert on_wire == expected


def test_tampered_server_finished(
    files: dict[str, ServerFiles], ssl_server: Callable[..., SSLServer], tmp_path: Path
) -> None:
    """The relay flips a bit of the server's encrypted Finished: the record fails to open."""
    server = ssl_server(ssl_server_context(files["valid"]))
    tamper = _tamper_at(SERVER_TO_CLIENT, first_record_after_ccs)
    error, on_wire, session = httpslab_client(server.address, ca_file=files["valid"].ca_file, tamper=tamper)
    assert tamper.done  # type: ignore[attr-defined]
    assert isinstance(error, BadRecordMac)
    assert on_wire == (FATAL, AlertDescription.BAD_RECORD_MAC)  # sent encrypted, after our Finished
    assert not session.connection.handshake_complete
    assert not any(isinstance(e, ApplicationData) for e in session.events)
    expected = openssl_client(
        server.address,
        ca_file=files["valid"].ca_file,
        tamper=_tamper_at(SERVER_TO_CLIENT, first_record_after_ccs),
        tmp_path=tmp_path,
    )
    assert on_wire == expected


def _unused_suite_byte(stream: bytes) -> int | None:
    """The low byte of TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 (0xC030) in the ClientHello."""
    span = _handshake_message_span(stream, HandshakeType.CLIENT_HELLO)
    if span is None:
        return None
    start, end = span
    hello = decode_handshake(stream[start:end])
    assert CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 in hello.cipher_suites
    session_id_length = stream[start + 4 + 2 + 32]
    suites_start = start + 4 + 2 + 32 + 1 + session_id_length + 2
    for position in range(suites_start, end, 2):
        if stream[position : position + 2] == b"\xc0\x30":
            return position + 1
    return None


def test_client_finished_that_does_not_match_the_server_transcript(
    files: dict[str, ServerFiles], tmp_path: Path
) -> None:
    """The relay changes an unused suite in the ClientHello (EMS off, so the keys still agree):
    only the Finished check can see it. The httpslab server must answer decrypt_error, as
    OpenSSL's server does."""
    ciphers = "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"

    def run_client(target: tuple[str, int]) -> tuple[bytes, bytes]:
        tamper = _tamper_at(CLIENT_TO_SERVER, _unused_suite_byte)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        context.set_ciphers(ciphers)
        context.options |= OP_NO_EXTENDED_MASTER_SECRET
        context.load_verify_locations(cafile=str(files["valid"].ca_file))
        with RecordingRelay(target, tamper=tamper) as relay:
            with socket.create_connection(relay.address, timeout=TIMEOUT) as raw:
                with pytest.raises(ssl.SSLError, match=r"DECRYPT_ERROR|decrypt error"):
                    with context.wrap_socket(raw, server_hostname="localhost"):
                        pass
            relay.wait_closed(TIMEOUT)
            assert tamper.done  # type: ignore[attr-defined]
            return relay.server_to_client, relay.client_to_server

    # httpslab's server
    config = server_config(files["valid"].chain_file, files["valid"].key_file, cipher_suites=[ECDHE_RSA])
    with TLSServer(config, timeout=TIMEOUT) as server:
        result: dict[str, BaseException] = {}

        def accept() -> None:
            try:
                server.accept()
            except TLSError as exc:
                result["error"] = exc

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        ours, _ = run_client(server.address)
        thread.join(TIMEOUT)
    assert isinstance(result["error"], DecryptError)
    assert "Finished" in str(result["error"])
    # OpenSSL's server in the same place
    context = ssl_server_context(files["valid"], "ECDHE-RSA-AES128-GCM-SHA256", ems=False)
    openssl_server = SSLServer(context, count=1)
    try:
        theirs, _ = run_client(openssl_server.address)
    finally:
        openssl_server.close()

    def last_server_alert(stream: bytes) -> Record:
        _, last = _records(stream)[-1]
        assert last.content_type == ContentType.ALERT
        return last

    # both servers fail before their own ChangeCipherSpec: the alert goes in the clear
    assert (
        last_server_alert(ours).fragment
        == last_server_alert(theirs).fragment
        == bytes([FATAL, AlertDescription.DECRYPT_ERROR])
    )


def test_flipped_bit_in_application_data(
    files: dict[str, ServerFiles], ssl_server: Callable[..., SSLServer], tmp_path: Path
) -> None:
    """The first application-data record is altered, the second is intact: neither is delivered."""
    server = ssl_server(
        ssl_server_context(files["valid"]),
        replies=(b"HTTP/1.0 200 OK\r\n\r\nfirst record", b"second record, intact"),
        count=1,
    )
    tamper = _tamper_at(SERVER_TO_CLIENT, first_application_data_byte)
    with RecordingRelay(server.address, tamper=tamper) as relay:
        keylog = KeyLog()
        session = connect(
            *relay.address,
            server_name="localhost",
            cafile=files["valid"].ca_file,
            cipher_suites=[ECDHE_RSA],
            keylog=keylog,
        )
        session.send(REQUEST)
        time.sleep(0.2)  # let both records arrive together
        with pytest.raises(BadRecordMac) as raised:
            session.recv()
        assert session.recv() == b""  # nothing after the failure, not even the intact record
        on_wire = alert_on_wire(relay, keylog)
    assert raised.value.alert == AlertDescription.BAD_RECORD_MAC
    assert on_wire == (FATAL, AlertDescription.BAD_RECORD_MAC)
    assert not any(isinstance(e, ApplicationData) for e in session.events)
    assert not [
        e for e in session.transcript.messages() if e.kind == "application_data" and e.sender == "server"
    ]
    with pytest.raises(TLSError):
        session.connection.receive_data(b"\x17\x03\x03\x00\x00")


# ============================================================================ a lying or silent server


class FakeServer(_LoopbackAcceptor):
    """A raw TCP server on loopback: reads the ClientHello, then runs ``answer(client_hello)``."""

    def __init__(self, answer: Callable[[socket.socket, Any], None], count: int = 1) -> None:
        self.answer = answer
        self.count = count
        self.received: list[bytes] = []
        self._start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(TIMEOUT)
            data = b""
            while len(data) < 5 or len(data) < 5 + int.from_bytes(data[3:5], "big"):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            hello = decode_handshake(data[5 : 5 + int.from_bytes(data[3:5], "big")])
            self.answer(conn, hello)
            rest = bytearray(data[5 + int.from_bytes(data[3:5], "big") :])
            try:
                while chunk := conn.recv(65536):
                    rest += chunk
            except OSError:
                pass
            self.received.append(bytes(rest))


def _server_hello(suite: CipherSuite) -> bytes:
    hello = ServerHello(
        random=bytes(range(32)),
        cipher_suite=suite,
        extensions=[RenegotiationInfoExtension(b""), ExtendedMasterSecretExtension()],
    )
    return Record(ContentType.HANDSHAKE, 0x0303, encode_handshake(hello)).encode()


def test_server_picks_a_suite_the_client_never_offered() -> None:
    chosen = CipherSuite.TLS_RSA_WITH_AES_128_CBC_SHA256
    offers: list[Any] = []

    def answer(conn: socket.socket, hello: Any) -> None:
        offers.append(hello.cipher_suites)
        conn.sendall(_server_hello(chosen))

    server = FakeServer(answer, count=2)
    try:
        with RecordingRelay(server.address) as relay:
            with pytest.raises(IllegalParameter) as raised:
                connect(*relay.address, server_name="localhost", cipher_suites=[ECDHE_RSA], timeout=TIMEOUT)
            ours = alert_on_wire(relay)
        # OpenSSL's client facing the same server
        relay = _failing_openssl_client(server.address, r"WRONG_CIPHER_RETURNED|wrong cipher returned")
        theirs = alert_on_wire(relay)
    finally:
        server.close()
    assert chosen not in offers[0] and chosen not in offers[1]
    assert raised.value.alert == AlertDescription.ILLEGAL_PARAMETER
    assert "did not offer" in str(raised.value)
    assert ours == theirs == (FATAL, AlertDescription.ILLEGAL_PARAMETER)


CLOSE_NOTIFY_RECORD = Record(ContentType.ALERT, 0x0303, bytes([1, AlertDescription.CLOSE_NOTIFY])).encode()


def test_server_that_answers_the_client_hello_with_close_notify() -> None:
    """close_notify instead of the ServerHello: OpenSSL 3.0's client fails the handshake and
    sends nothing back (ssl3_read_bytes returns 0 with SSL_RECEIVED_SHUTDOWN); so does
    httpslab's, and connect() says what happened."""

    def answer(conn: socket.socket, hello: Any) -> None:
        conn.sendall(CLOSE_NOTIFY_RECORD)

    server = FakeServer(answer, count=2)
    try:
        with RecordingRelay(server.address) as relay:
            with pytest.raises(AlertReceived) as raised:
                connect(*relay.address, server_name="localhost", cipher_suites=[ECDHE_RSA], timeout=TIMEOUT)
            relay.wait_closed(TIMEOUT)
            ours = [record for _, record in _records(relay.client_to_server)]
        relay = _failing_openssl_client(server.address)
        theirs = [record for _, record in _records(relay.client_to_server)]
    finally:
        server.close()
    assert "the server closed the connection (close_notify) during the handshake" in str(raised.value)
    assert raised.value.description == AlertDescription.CLOSE_NOTIFY
    # each client sent its ClientHello and nothing after it
    assert [record.content_type for record in ours] == [ContentType.HANDSHAKE]
    assert [record.content_type for record in theirs] == [ContentType.HANDSHAKE]
    assert server.received == [b"", b""]


@pytest.mark.parametrize(
    ("wrong_record", "alert_version"),
    [
        (
            Record(
                ContentType.HANDSHAKE, 0x0301, bytes([HandshakeType.CERTIFICATE, 0, 0, 3, 0, 0, 0])
            ).encode(),
            0x0301,
        ),
        # OpenSSL checks the version first: an unknown type is not unexpected_message here ...
        (bytes([0x63, 0x03, 0x01, 0x00, 0x02, 0x01, 0x00]), 0x0301),
        # ... and a record of 18433 bytes (> 2^14 + 2048) is not record_overflow
        (bytes([ContentType.HANDSHAKE, 0x03, 0x01, 0x48, 0x01]) + bytes(0x4801), 0x0301),
        # a major byte that is not 3 is not echoed: the alert keeps the negotiated 0x0303
        (bytes([0x63, 0x04, 0x01, 0x00, 0x02, 0x01, 0x00]), 0x0303),
    ],
    ids=["certificate-0x0301", "unknown-type-0x0301", "too-long-0x0301", "unknown-type-0x0401"],
)
def test_wrong_record_version_after_the_server_hello_as_openssl_answers_it(
    wrong_record: bytes, alert_version: int
) -> None:
    """A ServerHello, then a record with another version (RFC 5246 Appendix E.1: only the
    hello's records may carry another 0x03xx): OpenSSL's client and httpslab's send the same
    alert record, protocol_version, with the server's 0x03xx echoed in the record header.
    OpenSSL 3.0's ssl3_get_record checks the version before the content type and the length."""

    def answer(conn: socket.socket, hello: Any) -> None:
        conn.sendall(_server_hello(ECDHE_RSA) + wrong_record)

    server = FakeServer(answer, count=2)
    sent: list[Record] = []
    try:
        with RecordingRelay(server.address) as relay:
            with pytest.raises(RemoteProtocolError) as raised:
                connect(*relay.address, server_name="localhost", cipher_suites=[ECDHE_RSA], timeout=TIMEOUT)
            relay.wait_closed(TIMEOUT)
            sent.append(_records(relay.client_to_server)[-1][1])
        relay = _failing_openssl_client(server.address, r"WRONG_VERSION_NUMBER|wrong version number")
        sent.append(_records(relay.client_to_server)[-1][1])
    finally:
        server.close()
    assert raised.value.alert == AlertDescription.PROTOCOL_VERSION
    ours, theirs = sent
    assert theirs == Record(
        ContentType.ALERT, alert_version, bytes([FATAL, AlertDescription.PROTOCOL_VERSION])
    )
    assert ours == theirs


def _offer_p256_too(direction: str, data: bytes, offset: int) -> bytes:
    """A relay tamper hook: the client's first flight with P-256 added to its supported_groups."""
    if direction != CLIENT_TO_SERVER or offset != 0:
        return data
    records, rest = split_records(data, plaintext=True)
    assert not rest and records[0].content_type == ContentType.HANDSHAKE, "one whole ClientHello record"
    hello = decode_handshake(records[0].fragment)
    assert isinstance(hello, ClientHello) and hello.extensions is not None
    groups = SupportedGroupsExtension((NamedGroup.X25519, NamedGroup.SECP256R1))
    extensions = tuple(groups if e.type == ExtensionType.SUPPORTED_GROUPS else e for e in hello.extensions)
    assert groups in extensions, "the client offered supported_groups"
    forged = encode_handshake(dataclasses.replace(hello, extensions=extensions))
    return Record(ContentType.HANDSHAKE, records[0].version, forged).encode() + b"".join(
        record.encode() for record in records[1:]
    )


def test_ecdsa_certificate_on_a_curve_the_client_did_not_offer_as_openssl_answers_it(
    tmp_path: Path,
) -> None:
    """An ECDSA P-256 server certificate, a client that offers only X25519 (RFC 8422 §5.3):
    ``openssl s_client -groups X25519`` and httpslab's client both end the handshake with
    illegal_parameter (OpenSSL: tls12_check_peer_sigalg, SSL_R_WRONG_CURVE).

    No honest server sends that certificate to that client (httpslab's server, like s_server,
    answers handshake_failure: see test_rfc8422_interop.py), so an active attacker in the
    relay adds P-256 to the ClientHello's supported_groups. The server then picks the ECDSA
    certificate; the client, which knows what it offered, refuses it before the Finished
    would have revealed the forgery."""
    pki = demo_pki("ecdsa")
    ecdsa = _write_server(tmp_path, "ecdsa", pki.server, [pki.intermediate], [pki.root], pki.server_key)
    received: list[BaseException] = []
    with TLSServer(server_config(ecdsa.chain_file, ecdsa.key_file), timeout=TIMEOUT) as server:

        def serve(count: int) -> None:
            for _ in range(count):
                try:
                    server.accept()
                except TLSError as exc:
                    received.append(exc)

        thread = threading.Thread(target=serve, args=(2,), daemon=True)
        thread.start()
        with RecordingRelay(server.address, tamper=_offer_p256_too) as relay:
            output = openssl_s_client(
                relay.address[1],
                servername=None,  # an IP address: no SNI
                cafile=ecdsa.ca_file,
                ign_eof=False,
                extra_args=["-groups", "X25519", "-msg"],
                timeout=TIMEOUT,
            )
            relay.wait_closed(TIMEOUT)  # the client's alert has reached the server
        config = TLSConfig(
            server_name="localhost",
            trust_anchors=load_trust_anchors(ecdsa.ca_file),
            groups=[NamedGroup.X25519],
        )
        with RecordingRelay(server.address, tamper=_offer_p256_too) as relay:
            with pytest.raises(IllegalParameter, match="did not offer") as raised:
                connect(*relay.address, config=config, timeout=TIMEOUT)
            relay.wait_closed(TIMEOUT)
        thread.join(TIMEOUT)
    text = output.stdout + output.stderr
    assert ">>> TLS 1.2, Alert [length 0002], fatal illegal_parameter" in text
    assert "wrong curve" in text
    assert raised.value.alert == AlertDescription.ILLEGAL_PARAMETER
    assert [type(e) for e in received] == [AlertReceived, AlertReceived]
    assert [e.description for e in received] == [AlertDescription.ILLEGAL_PARAMETER] * 2  # type: ignore[attr-defined]


@pytest.mark.parametrize("stage", ["after-accept", "after-server-hello"])
def test_server_that_stops_talking_times_out(stage: str) -> None:
    def answer(conn: socket.socket, hello: Any) -> None:
        if stage == "after-server-hello":
            conn.sendall(_server_hello(ECDHE_RSA))  # then nothing: no Certificate ever comes

    server = FakeServer(answer)
    started = time.monotonic()
    try:
        with pytest.raises(TLSError, match=r"no answer from the peer within 0\.5 s") as raised:
            connect(*server.address, server_name="localhost", cipher_suites=[ECDHE_RSA], timeout=0.5)
        elapsed = time.monotonic() - started
        server.thread.join(TIMEOUT)  # the client closed its socket: the fake server sees the end
        assert not server.thread.is_alive()
    finally:
        server.close()
    assert elapsed < 3.0
    assert not isinstance(raised.value, RemoteProtocolError | AlertReceived)
    assert server.received == [b""]  # and no application data (nor anything else) was sent


def test_client_that_stops_talking_times_out_on_the_server(files: dict[str, ServerFiles]) -> None:
    config = server_config(files["valid"].chain_file, files["valid"].key_file)
    with TLSServer(config, timeout=0.5) as server:
        with socket.create_connection(server.address, timeout=TIMEOUT) as silent:
            started = time.monotonic()
            with pytest.raises(TLSError, match="no answer"):
                server.accept()
            assert time.monotonic() - started < 3.0
            silent.settimeout(2.0)
            assert silent.recv(100) == b""  # the server hung up, sending nothing


# ============================================================================ the server's side


@pytest.mark.parametrize("client_cert", ["unknown-ca", "none"])
def test_server_rejects_a_client_certificate_as_openssl_does(
    client_cert: str, files: dict[str, ServerFiles], tmp_path: Path
) -> None:
    """Mutual TLS: a client certificate from an unknown CA, or none at all, when one is required.

    httpslab's server and OpenSSL's (Python ssl, CERT_REQUIRED) face the same OpenSSL client
    through a relay; the alert each server puts on the wire must be the same.
    """
    pki = demo_pki("rsa")
    client_files = pki.write_pem_files(tmp_path / "client")
    # the server trusts only a root that did not issue the client's certificate
    other_root = pki.make_root("httpslab DEMO Other Root CA", key_role="other-root")
    trusted = tmp_path / "server-trusts.pem"
    trusted.write_bytes(
        other_root.public_bytes(serialization.Encoding.PEM)
        if client_cert == "unknown-ca"
        else pki.root.public_bytes(serialization.Encoding.PEM)
    )

    def run_openssl_client(target: tuple[str, int]) -> tuple[int, AlertDescription]:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        context.load_verify_locations(cafile=str(files["valid"].ca_file))
        if client_cert != "none":
            context.load_cert_chain(client_files.client_chain_file, client_files.client_key_file)
        with RecordingRelay(target) as relay:
            with socket.create_connection(relay.address, timeout=TIMEOUT) as raw:
                with pytest.raises((ssl.SSLError, OSError)):
                    with context.wrap_socket(raw, server_hostname="localhost") as tls:
                        tls.sendall(REQUEST)
                        tls.recv(100)
            relay.wait_closed(TIMEOUT)
            _, last = _records(relay.server_to_client)[-1]
            assert last.content_type == ContentType.ALERT
            assert not any(
                r.content_type == ContentType.CHANGE_CIPHER_SPEC for _, r in _records(relay.server_to_client)
            )
            return last.fragment[0], AlertDescription(last.fragment[1])

    config = server_config(
        files["valid"].chain_file, files["valid"].key_file, require_client_certificate=True, cafile=trusted
    )
    with TLSServer(config, timeout=TIMEOUT) as server:
        result: dict[str, BaseException] = {}

        def accept() -> None:
            try:
                session = server.accept()
                result["unexpected"] = AssertionError(f"the handshake succeeded: {session}")
            except TLSError as exc:
                result["error"] = exc

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        ours = run_openssl_client(server.address)
        thread.join(TIMEOUT)
    assert "unexpected" not in result
    error = result["error"]
    assert isinstance(error, RemoteProtocolError)

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(files["valid"].chain_file, files["valid"].key_file)
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cafile=str(trusted))
    openssl_server = SSLServer(context, count=1)
    try:
        theirs = run_openssl_client(openssl_server.address)
    finally:
        openssl_server.close()
    expected = (
        AlertDescription.UNKNOWN_CA if client_cert == "unknown-ca" else AlertDescription.HANDSHAKE_FAILURE
    )
    assert theirs == (FATAL, expected)
    assert ours == theirs
    assert error.alert == expected


# ============================================================================ renegotiation


def test_renegotiation_asked_by_openssl_s_client_is_refused(files: dict[str, ServerFiles]) -> None:
    """s_client's ``R`` command sends a new ClientHello; httpslab never renegotiates and says
    so with a warning no_renegotiation (RFC 5246 §7.2.2, RFC 5746 §4.4); OpenSSL then ends the
    connection with a fatal handshake_failure (SSL_R_NO_RENEGOTIATION)."""
    config = server_config(files["valid"].chain_file, files["valid"].key_file)
    with TLSServer(config, timeout=TIMEOUT) as server:
        result: dict[str, Any] = {}
        connected = threading.Event()

        def serve() -> None:
            try:
                session = server.accept()
                result["session"] = session
                connected.set()
                while session.recv():
                    pass
            except TLSError as exc:
                result["error"] = exc
            finally:
                connected.set()

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        # not openssl_s_client: R is typed once the handshake is done, into a stdin that stays
        # open (s_client obeys R only without -ign_eof, and quits at the end of its input)
        process = subprocess.Popen(
            ["openssl", "s_client", "-connect", f"{LOOPBACK}:{server.address[1]}", "-tls1_2",
             "-CAfile", str(files["valid"].ca_file), "-msg"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        assert connected.wait(TIMEOUT)
        assert process.stdin is not None
        process.stdin.write(b"R\n")
        process.stdin.flush()
        output, _ = process.communicate(timeout=TIMEOUT)
        thread.join(TIMEOUT)
    text = output.decode("utf-8", "replace")
    assert "<<< TLS 1.2, Alert [length 0002], warning no_renegotiation" in text
    assert ">>> TLS 1.2, Alert [length 0002], fatal handshake_failure" in text
    error = result["error"]
    assert isinstance(error, AlertReceived) and error.description == AlertDescription.HANDSHAKE_FAILURE
    transcript = result["session"].transcript
    (refusal,) = [e for e in transcript.messages() if e.kind == "alert" and e.sender == "server"]
    assert refusal.decoded.description == AlertDescription.NO_RENEGOTIATION
    assert refusal.encrypted and refusal.raw == b"\x01\x64"  # warning (1), no_renegotiation (100)
    hellos = [e for e in transcript.handshake_messages() if e.name == "ClientHello"]
    assert len(hellos) == 2 and hellos[1].encrypted


def test_hello_request_from_openssl_s_server_is_refused(files: dict[str, ServerFiles]) -> None:
    """s_server's ``R`` command sends HelloRequest; the httpslab client answers no_renegotiation."""
    valid = files["valid"]
    pki = demo_pki("rsa")
    intermediate_file = valid.chain_file.with_name("intermediate.pem")
    intermediate_file.write_bytes(pki.intermediate.public_bytes(serialization.Encoding.PEM))
    with openssl_s_server(
        cert_file=valid.chain_file,  # -cert reads the leaf, the first certificate of the file
        key_file=valid.key_file,
        chain_file=intermediate_file,
        ca_file=valid.ca_file,
        www=False,
        extra_args=["-msg"],
        timeout=TIMEOUT,
    ) as server:
        session = connect(*server.address, server_name="localhost", cafile=server.ca_file, timeout=TIMEOUT)
        server.send(b"R\n")
        with pytest.raises(AlertReceived) as raised:
            session.recv()
    assert raised.value.description == AlertDescription.HANDSHAKE_FAILURE
    text = server.output
    assert "<<< TLS 1.2, Alert [length 0002], warning no_renegotiation" in text
    messages = session.transcript.messages()
    assert [e.name for e in messages if e.sender == "server" and e.kind == "handshake"][-1] == "HelloRequest"
    refusal = next(e for e in messages if e.kind == "alert" and e.sender == "client")
    assert refusal.decoded.description == AlertDescription.NO_RENEGOTIATION and refusal.encrypted

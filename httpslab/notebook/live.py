"""Real TLS 1.2 sessions on 127.0.0.1 for the notebooks: httpslab's client against OpenSSL.

:func:`https_get` runs one HTTPS request the way notebook 00 tells it: a Python ``ssl``
(OpenSSL) server with the demo PKI's certificate chain, httpslab's own client
(:func:`httpslab.io.connect`), and a :class:`~httpslab.relay.RecordingRelay` between them
that keeps what an eavesdropper sees. The result holds both views: the client's
:class:`~httpslab.transcript.Transcript` (every message, with the session secrets) and the
two byte streams on the wire, plus the NSS key log line (RFC 5246 §8.1 master secret).

:func:`hello_probe` sends one real ClientHello (built with :mod:`httpslab.messages`) to a
running ``openssl s_server`` and reads its answer up to ServerHelloDone or an alert
(RFC 5246 §7.4.1, §7.2), which is what notebook 01's widget shows.

Nothing here is simulated: every byte came from, or was accepted by, a real OpenSSL peer.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import random
import shutil
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..capture import cleartext_alerts
from ..connection import ClientConnection, TLSConfig
from ..crypto.suites import parse_suite_name, suite_info
from ..enums import AlertDescription, CipherSuite, ContentType, HandshakeType, ProtocolVersion
from ..errors import DecodeError, HandshakeTimeout, LocalProtocolError, TLSError, TransportError
from ..messages import Alert, ClientHello, HandshakeReader, ServerHello, decode_alert, decode_handshake
from ..pki.ca import DemoPKI, PemFiles
from ..record import RECORD_HEADER_LENGTH, Record, split_records
from ..relay import RecordingRelay

__all__ = [
    "ConnectionOutcome",
    "HelloProbe",
    "LiveSession",
    "StreamTamper",
    "connect_to_demo_server",
    "connection_keys",
    "demo_files",
    "demo_openssl_server",
    "hello_probe",
    "https_get",
    "seeded_random",
]

LOOPBACK = "127.0.0.1"
SERVER_NAME = "localhost"
DEFAULT_REQUEST = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
DEFAULT_BODY = b"Hello, HTTPS! This page travelled inside TLS records.\n"


def seeded_random(seed: int) -> Callable[[int], bytes]:
    """A ``random(n) -> n bytes`` source for :class:`TLSConfig` that repeats for a given seed.

    Only our own side's random values (client random, ephemeral key) come from it; the
    OpenSSL peer draws its own, so a real session still differs from run to run.
    """
    generator = random.Random(seed)
    return generator.randbytes


@functools.cache
def _scratch() -> Path:
    path = Path(tempfile.mkdtemp(prefix="httpslab-notebook-"))
    import atexit

    atexit.register(shutil.rmtree, path, True)
    return path


@functools.cache
def demo_files(key_type: str = "rsa") -> PemFiles:
    """The demo PKI (root → intermediate → server/client leaves) written as PEM files, once."""
    pki = DemoPKI(key_type)  # type: ignore[arg-type]
    return pki.write_pem_files(_scratch() / key_type)


@contextlib.contextmanager
def demo_openssl_server(suite: str | CipherSuite | None = None, **options: Any) -> Iterator[Any]:
    """``openssl s_server -www`` (see :func:`httpslab.peers.openssl.openssl_s_server`) serving the
    demo PKI's chain (leaf + intermediate), so that httpslab's client can verify it against
    ``demo_files(key_type).ca_file`` (also the server's ``.ca_file``). Yields the running
    :class:`OpenSSLServer`."""
    from ..peers.openssl import openssl_s_server

    key_type = "rsa"
    if suite is not None:
        cipher_suite = parse_suite_name(suite) if isinstance(suite, str) else CipherSuite(suite)
        key_type = "ecdsa" if suite_info(cipher_suite).authentication == "ECDSA" else "rsa"
    files = demo_files(key_type)
    with openssl_s_server(
        suite,
        cert_file=files.server_cert_file,
        key_file=files.server_key_file,
        chain_file=files.intermediate_file,
        ca_file=files.ca_file,
        **options,
    ) as server:
        yield server


def _http_response(body: bytes) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\nConnection: close\r\n\r\n"
        + body
    )


@dataclass
class LiveSession:
    """One HTTPS request/response between httpslab's client and an OpenSSL server."""

    suite: CipherSuite | None
    #: the httpslab client's own record of the connection (None if it failed before starting)
    transcript: Any
    #: what the eavesdropper saw: every byte each side sent
    client_to_server: bytes = field(repr=False)
    server_to_client: bytes = field(repr=False)
    #: the NSS key log line(s) for the session ("" if the handshake did not finish)
    keylog_text: str = field(repr=False)
    request: bytes = field(repr=False)
    response: bytes = field(repr=False)
    #: the client's error (an AlertReceived carries the server's real alert)
    error: TLSError | None = None
    #: what OpenSSL on the server side reported, if it failed
    server_error: str | None = None
    #: the client's TLSSession, closed: its connection's keys are wiped
    session: Any = field(default=None, repr=False)
    #: snapshot of the client's record keys while the connection was open (for notebook 08)
    keys_while_open: dict[str, bytes | None] = field(default_factory=dict, repr=False)
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and self.server_error is None

    @property
    def alert(self) -> AlertDescription | None:
        """The fatal alert the server sent, read from the eavesdropper's bytes (None if none)."""
        for _, record in _located_records(self.server_to_client):
            if record.content_type == ContentType.ALERT and len(record.fragment) == 2:
                alert = decode_alert(record.fragment)
                if alert.description != AlertDescription.CLOSE_NOTIFY:
                    return AlertDescription(alert.description)
        return None


def connection_keys(connection: Any) -> dict[str, bytes | None]:
    """The record keys a connection holds right now (None once wiped), for teaching.

    Read through the public :meth:`TLSConnection.live_secrets` (copies of the bytes).
    """
    secrets = connection.live_secrets()
    return {
        "master_secret": secrets.master_secret,
        "key_block": secrets.key_block,
        "write_key": secrets.write_key,
    }


def https_get(  # long: server thread, relay and client share one ExitStack and its cleanup
    suite: str | CipherSuite | Sequence[str | CipherSuite] = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    *,
    seed: int | None = 2024,
    client_cert: bool = False,
    require_client_cert: bool = False,
    request: bytes = DEFAULT_REQUEST,
    body: bytes = DEFAULT_BODY,
    timeout: float = 5.0,
) -> LiveSession:
    """One HTTPS GET: httpslab client → recording relay → Python ``ssl`` (OpenSSL) server.

    ``suite`` is what the client offers: one suite or a list, in the client's order of
    preference (the server accepts every suite; the first one decides the certificate type).
    ``require_client_cert`` makes the server demand a client certificate (mutual TLS);
    ``client_cert`` makes the client have one. The server is TLS 1.2 only.

    Every failure of the client ends up in ``LiveSession.error``, never as an exception: a
    TLS error as it is, a socket error (the relay refused the connection, the server reset
    it, a read timed out) as a :class:`~httpslab.errors.TransportError` that says what
    failed and that running the cell again is the thing to try.

    Before the client starts, the server's listening socket, the client's socket and the
    recording relay are opened on 127.0.0.1: one that cannot be (no descriptor left, a port
    that cannot be bound) *raises* :class:`~httpslab.errors.TransportError` (or, for the
    relay's own port, :class:`~httpslab.relay.RelayError`), naming the socket, with the
    OSError as ``__cause__``; there is no session to report it in.
    """
    from ..io import (
        HANDSHAKE_TIMEOUT,
        TLSSession,
        bound_socket,
        load_credential,
        load_trust_anchors,
        started_relay,
    )

    offered = [suite] if isinstance(suite, str | int) else list(suite)
    if not offered:
        raise LocalProtocolError("offer at least one cipher suite")
    suites = tuple(parse_suite_name(s) if isinstance(s, str) else CipherSuite(s) for s in offered)
    cipher_suite = suites[0]
    info = suite_info(cipher_suite)
    key_type = "ecdsa" if info.authentication == "ECDSA" else "rsa"
    files = demo_files(key_type)
    started = time.perf_counter()

    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.minimum_version = server_context.maximum_version = ssl.TLSVersion.TLSv1_2
    server_context.set_ciphers("ALL:@SECLEVEL=1")
    server_context.load_cert_chain(files.server_chain_file, files.server_key_file)
    if info.key_exchange == "DHE":
        from ..peers.files import dh_parameters_file

        server_context.load_dh_params(str(dh_parameters_file("ffdhe2048")))
    if require_client_cert:
        server_context.verify_mode = ssl.CERT_REQUIRED
        server_context.load_verify_locations(files.ca_file)

    server_result: dict[str, Any] = {}
    # the listener and the client's socket are closed whatever happens (a failed bind included);
    # one that cannot be opened raises TransportError (bound_socket) before any session starts
    with contextlib.ExitStack() as sockets:
        listener = sockets.enter_context(bound_socket("the demo server's listening socket", backlog=1))
        # The client's address is fixed before the relay starts, and the relay serves that client
        # only: a stray connection from another process to the relay's port (a port number it
        # still remembers) can then neither take the relay's one slot, which would close the
        # listener and refuse our client, nor reach the server in its place.
        client_socket = sockets.enter_context(bound_socket("the client's socket"))
        listener.settimeout(timeout)

        def serve() -> None:
            try:
                raw, _ = listener.accept()
                raw.settimeout(timeout)
                with server_context.wrap_socket(raw, server_side=True) as tls:
                    received = bytearray()
                    while b"\r\n\r\n" not in received:
                        chunk = tls.recv(4096)
                        if not chunk:
                            break
                        received += chunk
                    server_result["request"] = bytes(received)
                    tls.sendall(_http_response(body))
                    with contextlib.suppress(OSError, ssl.SSLError):
                        tls.unwrap()
            except (OSError, ssl.SSLError) as exc:
                server_result["error"] = f"{type(exc).__name__}: {exc}"

        thread = threading.Thread(target=serve, name="httpslab-notebook-server", daemon=True)
        client_error: TLSError | None = None
        session = None
        response = b""
        keys_while_open: dict[str, bytes | None] = {}
        keylog_lines: list[str] = []
        relay = started_relay(
            RecordingRelay(listener.getsockname()[:2], only_from=client_socket.getsockname()[:2])
        )
        with contextlib.closing(relay):
            thread.start()
            config = TLSConfig(
                server_name=SERVER_NAME,
                trust_anchors=load_trust_anchors(files.ca_file),
                cipher_suites=suites,
                credentials=(
                    [load_credential(files.client_chain_file, files.client_key_file)] if client_cert else []
                ),
                random=seeded_random(seed) if seed is not None else None,
            )
            connection = ClientConnection(config)
            relay_host, relay_port = relay.address
            try:
                try:
                    client_socket.settimeout(timeout)
                    client_socket.connect((relay_host, relay_port))
                    sock = client_socket
                except OSError as exc:
                    raise TransportError(
                        f"connecting to the recording relay at {relay_host}:{relay_port} failed "
                        f"({type(exc).__name__}: {exc}); run the cell again"
                    ) from exc
                session = TLSSession(sock, connection)
                try:
                    session.handshake(HANDSHAKE_TIMEOUT)
                    keylog_lines.append(session.transcript.keylog())
                    session.send(request)
                    keys_while_open = connection_keys(connection)
                    response = session.recv_all()
                except HandshakeTimeout:
                    raise  # it says what happened: the server was too slow
                except (OSError, TransportError) as exc:
                    # the socket broke (a reset, a broken pipe, a read that timed out): the
                    # session raises a TransportError whose cause is the OSError
                    cause = exc.__cause__ if isinstance(exc, TransportError) else exc
                    if not isinstance(cause, OSError):
                        raise
                    raise TransportError(
                        "the connection to the server (through the recording relay) broke "
                        f"({type(cause).__name__}: {exc}); run the cell again"
                    ) from cause
                session.close()
            except TLSError as exc:
                client_error = exc
                if session is not None:
                    session.close()
            thread.join(timeout + 1)
            if session is not None:  # the relay accepted the client: wait until it is done
                with contextlib.suppress(TimeoutError):
                    relay.wait_closed(timeout)
            client_to_server, server_to_client = relay.client_to_server, relay.server_to_client
    transcript = connection.transcript
    return LiveSession(
        suite=connection.cipher_suite if client_error is None else None,
        transcript=transcript,
        client_to_server=client_to_server,
        server_to_client=server_to_client,
        keylog_text="".join(keylog_lines),
        request=request,
        response=response,
        error=client_error,
        server_error=server_result.get("error"),
        session=session,
        keys_while_open=keys_while_open,
        elapsed=time.perf_counter() - started,
    )


# ------------------------------------------------------------------------------------------
# One ClientHello against openssl s_server (notebook 01)
# ------------------------------------------------------------------------------------------
VERSIONS: dict[str, ProtocolVersion] = {
    "TLS 1.0": ProtocolVersion.TLS1_0,
    "TLS 1.1": ProtocolVersion.TLS1_1,
    "TLS 1.2": ProtocolVersion.TLS1_2,
}


@dataclass(frozen=True)
class HelloProbe:
    """What a real server answered to one ClientHello."""

    client_hello: ClientHello = field(repr=False)
    client_hello_raw: bytes = field(repr=False)
    #: the ServerHello (None if the server answered with an alert)
    server_hello: ServerHello | None = field(default=None, repr=False)
    server_hello_raw: bytes = field(default=b"", repr=False)
    #: names of the server's handshake messages, in order
    server_messages: tuple[str, ...] = ()
    alert: AlertDescription | None = None
    #: the server's bytes exactly as received
    server_bytes: bytes = field(default=b"", repr=False)
    elapsed: float = 0.0

    @property
    def chosen_suite(self) -> CipherSuite | None:
        if self.server_hello is None:
            return None
        return CipherSuite(self.server_hello.cipher_suite)

    @property
    def outcome(self) -> str:
        """One line: the suite the server chose, or the alert it sent."""
        if self.chosen_suite is not None:
            version = ProtocolVersion(self.server_hello.legacy_version).name  # type: ignore[union-attr]
            return f"server chose {self.chosen_suite.name} ({version})"
        if self.alert is not None:
            return f"server sent the fatal alert {self.alert.name.lower()} ({int(self.alert)})"
        return "the server closed the connection without an answer"


def build_client_hello(
    suites: Sequence[str | CipherSuite],
    version: ProtocolVersion | int = ProtocolVersion.TLS1_2,
    *,
    seed: int | None = 1,
) -> tuple[ClientHello, bytes]:
    """httpslab's ClientHello offering ``suites``, with ``client_version`` set to ``version``.

    Returns the message and the record that carries it (RFC 5246 §6.2.1; record version
    0x0301 as OpenSSL writes its first record). An empty ``suites`` list is allowed here
    (it is what the widget sends when nothing is ticked; a server must refuse it).
    """
    from ..messages import encode_handshake
    from ..record import Record as WireRecord

    chosen = [parse_suite_name(s) if isinstance(s, str) else CipherSuite(s) for s in suites]
    config = TLSConfig(
        cipher_suites=chosen or [CipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256],
        server_name=SERVER_NAME,
        random=seeded_random(seed) if seed is not None else None,
    )
    client = ClientConnection(config)
    client.start_handshake()
    records, _ = split_records(client.data_to_send())
    hello = decode_handshake(records[0].fragment)
    assert isinstance(hello, ClientHello)
    offered = tuple(chosen) + tuple(
        s for s in hello.cipher_suites if s == CipherSuite.TLS_EMPTY_RENEGOTIATION_INFO_SCSV
    )
    hello = dataclasses.replace(hello, legacy_version=ProtocolVersion(version), cipher_suites=offered)
    raw = encode_handshake(hello)
    record = WireRecord(ContentType.HANDSHAKE, ProtocolVersion.TLS1_0, raw).encode()
    return hello, record


def hello_probe(
    port: int,
    suites: Sequence[str | CipherSuite],
    version: ProtocolVersion | int = ProtocolVersion.TLS1_2,
    *,
    seed: int | None = 1,
    timeout: float = 2.0,
) -> HelloProbe:
    """Send one ClientHello to the server on ``127.0.0.1:port``; read its first flight or alert.

    A reset or a read that times out ends the answer (what arrived is kept); a server that
    cannot be reached or written to, or any other socket failure, raises
    :class:`~httpslab.errors.TransportError` (``__cause__`` is the OSError).
    """
    from ..io import loopback_connection, os_error_reason

    started = time.perf_counter()
    hello, record = build_client_hello(suites, version, seed=seed)
    received = bytearray()
    reader = HandshakeReader()
    names: list[str] = []
    server_hello: ServerHello | None = None
    server_hello_raw = b""
    alert: AlertDescription | None = None
    with loopback_connection(LOOPBACK, port, timeout) as sock:
        try:
            sock.sendall(record)
        except OSError as exc:
            raise TransportError(f"sending the ClientHello failed: {os_error_reason(exc)}") from exc
        done = False
        while not done:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                chunk = b""
            except OSError as exc:
                raise TransportError(f"reading the server's answer failed: {os_error_reason(exc)}") from exc
            if not chunk:
                break
            received += chunk
            try:
                records, _rest = split_records(bytes(received))
            except DecodeError:
                break
            reader = HandshakeReader()
            names = []
            for rec in records:
                if rec.content_type == ContentType.ALERT:
                    alert = AlertDescription(int(decode_alert(rec.fragment).description))
                    done = True
                    break
                if rec.content_type != ContentType.HANDSHAKE:
                    continue
                for msg_type, raw in reader.feed(rec.fragment):
                    names.append(getattr(msg_type, "name", str(msg_type)))
                    if msg_type == HandshakeType.SERVER_HELLO:
                        decoded = decode_handshake(raw)
                        assert isinstance(decoded, ServerHello)
                        server_hello, server_hello_raw = decoded, raw
                    if msg_type == HandshakeType.SERVER_HELLO_DONE:
                        done = True
    return HelloProbe(
        client_hello=hello,
        client_hello_raw=record[5:],
        server_hello=server_hello,
        server_hello_raw=server_hello_raw,
        server_messages=tuple(names),
        alert=alert,
        server_bytes=bytes(received),
        elapsed=time.perf_counter() - started,
    )


# ============================================================================== the demo server (02), tampering (04, 06)
@dataclass(frozen=True)
class ConnectionOutcome:
    """One real ``ssl`` connection attempt to the demo server: did the client accept it?"""

    server_hostname: str
    ok: bool
    #: OpenSSL's verification message when the client refused the certificate
    error: str | None
    #: the subjectAltName entries the client saw (empty when it refused)
    subject_alt_names: tuple[tuple[str, str], ...]
    #: how many certificates the server sent in its Certificate message (read off the wire)
    certificates_on_wire: int
    #: the alert the client sent when it refused, read off the wire (None if it accepted)
    client_alert: Alert | None = None


def connect_to_demo_server(server_hostnames: Sequence[str], key_type: str = "rsa") -> list[ConnectionOutcome]:
    """Start ``openssl s_server`` with the demo chain and connect once per name, for real.

    Each client is Python ``ssl`` (OpenSSL) trusting only the demo root, with
    ``check_hostname`` on and ``server_hostname`` set to the name or IP address given; it
    always connects to 127.0.0.1 through a recording relay, so the Certificate message the
    server sent can be counted on the wire.

    A refused certificate is an outcome (``ok`` False, OpenSSL's reason in ``error``). A
    socket that fails raises :class:`~httpslab.errors.TransportError`: one that cannot be
    opened or bound, a relay that cannot be reached, and a connection that is reset or ends
    with no alert during the handshake (OpenSSL's ``SSLEOFError``: the TCP stream broke,
    nothing at the TLS level refused anything). A handshake that fails for a TLS reason (an
    alert, a protocol error) raises :class:`~httpslab.peers.openssl.OpenSSLPeerError`. Both
    are TLSErrors.
    """
    from ..pki import demo_pki

    pki = demo_pki(key_type)  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory(prefix="httpslab-demo-chain-") as directory:
        return _connect_with_files(pki.write_pem_files(directory), server_hostnames)


def _connect_with_files(files: Any, server_hostnames: Sequence[str]) -> list[ConnectionOutcome]:
    import contextlib
    import ssl

    from ..capture import cleartext_handshake_messages
    from ..errors import OpenSSLPeerError
    from ..io import bound_socket, started_relay
    from ..messages import Certificate, decode_handshake
    from ..peers.openssl import openssl_s_server
    from ..relay import RecordingRelay

    outcomes: list[ConnectionOutcome] = []
    with openssl_s_server(
        cert_file=files.server_cert_file,
        key_file=files.server_key_file,
        chain_file=files.intermediate_file,
        ca_file=files.ca_file,
    ) as server:
        for name in server_hostnames:
            context = ssl.create_default_context(cafile=str(server.ca_file))
            context.maximum_version = ssl.TLSVersion.TLSv1_2
            error: str | None = None
            alt_names: tuple[tuple[str, str], ...] = ()
            # the relay serves our client's address only (a stray connection to its port from
            # another process is hung up on instead of being recorded as this handshake)
            with bound_socket("the client's socket") as raw:
                relay = started_relay(RecordingRelay(server.address, only_from=raw.getsockname()[:2]))
                with contextlib.closing(relay):
                    relay_host, relay_port = relay.address
                    try:
                        raw.settimeout(10)
                        raw.connect(relay.address)
                    except OSError as exc:
                        raise TransportError(
                            f"connecting to the recording relay at {relay_host}:{relay_port} failed "
                            f"({type(exc).__name__}: {exc}); run the cell again"
                        ) from exc
                    try:
                        with context.wrap_socket(raw, server_hostname=name) as tls:
                            certificate = tls.getpeercert() or {}
                            alt_names = tuple(certificate.get("subjectAltName", ()))  # type: ignore[arg-type]
                    except ssl.SSLCertVerificationError as exc:  # the outcome this function shows
                        error = exc.verify_message or str(exc)
                    except (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError) as exc:
                        # Debian's Python 3.11.2 says SSLZeroReturnError where 3.11.7 says SSLEOFError
                        # the TCP stream ended or broke with no alert (what a reset is too, as a
                        # ConnectionResetError below): nothing at the TLS level refused anything
                        raise TransportError(
                            f"the connection to openssl s_server (through the recording relay) ended "
                            f"during the handshake ({type(exc).__name__}: {exc}); run the cell again"
                        ) from exc
                    except ssl.SSLError as exc:
                        raise OpenSSLPeerError(
                            f"the handshake with openssl s_server as {name!r} failed: {exc}"
                        ) from exc
                    except OSError as exc:
                        raise TransportError(
                            f"the connection to openssl s_server (through the recording relay) broke "
                            f"({type(exc).__name__}: {exc}); run the cell again"
                        ) from exc
                    try:
                        relay.wait_closed(10)
                    except TimeoutError as exc:
                        raise TransportError(
                            f"the connection through the recording relay did not end ({exc}); run the cell again"
                        ) from exc
                    server_flight = relay.server_to_client
                    client_stream = relay.client_to_server
            count = 0
            for kind, body in cleartext_handshake_messages(server_flight):
                if kind == HandshakeType.CERTIFICATE:
                    raw_message = bytes([kind]) + len(body).to_bytes(3, "big") + body
                    message = decode_handshake(raw_message)
                    assert isinstance(message, Certificate)
                    count = len(message.certificate_list)
            alerts = cleartext_alerts(client_stream)
            outcomes.append(
                ConnectionOutcome(name, error is None, error, alt_names, count, alerts[0] if alerts else None)
            )
    return outcomes


def _located_records(stream: bytes) -> list[tuple[int, Record]]:
    """(offset, record) of each complete record at the start of ``stream``."""
    try:
        records, _rest = split_records(bytes(stream))
    except TLSError:
        return []
    located = []
    position = 0
    for record in records:
        located.append((position, record))
        position += RECORD_HEADER_LENGTH + len(record.fragment)
    return located


class StreamTamper:
    """A :data:`~httpslab.relay.Tamper` hook: flip one bit at a byte found by ``locate``.

    ``locate(stream)`` gets everything seen so far in ``direction`` (including the chunk
    being relayed) and returns the stream offset of the byte to change, or None (not there
    yet). The byte's lowest bit is flipped once. Both streams are kept (``seen``), so after a
    failed handshake the real alert a peer sent can be read with :func:`httpslab.capture.cleartext_alerts`.
    """

    def __init__(self, direction: str, locate: Callable[[bytes], int | None]) -> None:
        self.direction = direction
        self.locate = locate
        self.seen: dict[str, bytearray] = {"client_to_server": bytearray(), "server_to_client": bytearray()}
        self.flipped_at: int | None = None

    def __call__(self, direction: str, data: bytes, offset: int) -> bytes:
        stream = self.seen.setdefault(direction, bytearray())
        stream += data
        if direction != self.direction or self.flipped_at is not None:
            return data
        target = self.locate(bytes(stream))
        if target is None or not offset <= target < offset + len(data):
            return data
        self.flipped_at = target
        index = target - offset
        return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]

    @staticmethod
    def handshake_message_byte(msg_type: HandshakeType, byte: int) -> Callable[[bytes], int | None]:
        """Locator: byte ``byte`` of the body of the first ``msg_type`` handshake message
        (negative counts from the end of the body); the message must sit in one record."""

        def locate(stream: bytes) -> int | None:
            for position, record in _located_records(stream):
                if record.content_type == ContentType.CHANGE_CIPHER_SPEC:
                    return None  # what follows is encrypted
                if record.content_type != ContentType.HANDSHAKE:
                    continue
                inner = 0
                for kind, raw in HandshakeReader().feed(record.fragment):
                    if kind == msg_type:
                        return position + RECORD_HEADER_LENGTH + inner + 4 + (byte % (len(raw) - 4))
                    inner += len(raw)
            return None

        return locate

    @staticmethod
    def record_byte(content_type: ContentType, byte: int) -> Callable[[bytes], int | None]:
        """Locator: byte ``byte`` of the fragment of the first record of ``content_type``
        (negative counts from the end of the fragment)."""

        def locate(stream: bytes) -> int | None:
            for position, record in _located_records(stream):
                if record.content_type == content_type:
                    return position + RECORD_HEADER_LENGTH + (byte % len(record.fragment))
            return None

        return locate
